//! FilterLogEvents across a group's streams, in time order.
//!
//! Events come ordered by (timestamp, ingestion time, stream name, sequence number), and a
//! token is the key of the last event given, so the next call resumes exactly after it
//! whatever was written meanwhile. A call reads records in the order of their oldest event,
//! keeping the smallest keys found, and stops as soon as no record left can hold a smaller
//! one, or once it has decompressed [`SCAN_BUDGET`] bytes: then it answers what is certainly
//! complete and a token to go on from, so a call on a huge group takes bounded time.

use super::LogsApi;
use super::limits::{page_limit, refuse_unmask};
use super::tokens::invalid_token;
use crate::names::{check_stream_name, resolve_group};
use crate::pattern::FilterPattern;
use crate::store::segment::Event;
use crate::store::stream::{RecordRef, read_record};
use crate::{Logs, LogsError};
use berth_types::logs::*;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The most bytes of messages (plus 26 an event) one answer holds.
const PAGE_BYTES: usize = 1_048_576;
/// The most bytes of events one call decompresses before answering with what it has.
const SCAN_BUDGET: usize = 64 << 20;
/// The longest filter pattern CloudWatch takes.
const MAX_PATTERN: usize = 1024;

/// Where an event sits in FilterLogEvents' order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub ts: i64,
    pub ing: i64,
    pub stream: String,
    pub seq: u64,
}

impl Key {
    /// A key after every event before `ts` and before every event at `ts` or later.
    fn before(ts: i64) -> Self {
        Self {
            ts: ts.saturating_sub(1),
            ing: i64::MAX,
            stream: String::new(),
            seq: u64::MAX,
        }
    }

    fn token(&self) -> String {
        let body = format!(
            "e/{}/{}/{}/{}",
            self.ts,
            self.ing,
            self.seq,
            hex::encode(&self.stream)
        );
        let check = crc32fast::hash(body.as_bytes());
        format!("{body}/{check}")
    }

    fn from_token(token: &str) -> Result<Self, LogsError> {
        let (body, check) = token.rsplit_once('/').ok_or_else(invalid_token)?;
        if check.parse::<u32>().ok() != Some(crc32fast::hash(body.as_bytes())) {
            return Err(invalid_token());
        }
        let mut parts = body.split('/');
        let (Some("e"), Some(ts), Some(ing), Some(seq), Some(stream), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid_token());
        };
        let stream = hex::decode(stream)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid_token)?;
        Ok(Self {
            ts: ts.parse().map_err(|_| invalid_token())?,
            ing: ing.parse().map_err(|_| invalid_token())?,
            seq: seq.parse().map_err(|_| invalid_token())?,
            stream,
        })
    }
}

/// One stream's records to search.
pub(crate) struct Source {
    pub name: String,
    pub fingerprint: u64,
    pub records: Vec<RecordRef>,
}

/// An event found, ordered by its key (the heap keeps the largest on top).
pub(crate) struct Hit {
    pub key: Key,
    pub message: String,
    pub fingerprint: u64,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// What one search gives: the hits in order, and the key to resume after if there may be
/// more.
pub(crate) struct Found {
    pub hits: Vec<Hit>,
    pub resume: Option<Key>,
}

/// The bounds of one search.
pub(crate) struct Bounds<'a> {
    pub after: Option<&'a Key>,
    pub lo: i64,
    pub hi: i64,
    pub pattern: Option<&'a FilterPattern>,
    pub limit: usize,
    pub scan_budget: usize,
}

fn size(message: &str) -> usize {
    message.len() + 26
}

/// Searches `sources` for the first events after `bounds.after`, as the module says.
pub(crate) fn search(sources: &[Source], bounds: &Bounds<'_>) -> std::io::Result<Found> {
    let after_ts = bounds.after.map_or(i64::MIN, |a| a.ts);
    let lo = bounds.lo.max(after_ts);
    let mut candidates: Vec<(usize, &RecordRef)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.records.iter().map(move |r| (i, r)))
        .filter(|(_, r)| r.info.overlaps(lo, bounds.hi))
        .collect();
    candidates.sort_by_key(|(i, r)| (r.info.min_ts, *i, r.info.first_seq));
    let mut heap: BinaryHeap<Hit> = BinaryHeap::new();
    let mut heap_bytes = 0;
    let mut dropped = false;
    let mut scanned = 0;
    let mut cut = false;
    let mut stopped_at = None;
    let mut buf: Vec<Event> = Vec::new();
    for (source, record) in candidates {
        let full = dropped || heap.len() >= bounds.limit;
        let largest = heap.peek().map(|h| h.key.ts);
        if full && largest.is_some_and(|ts| record.info.min_ts > ts) {
            cut = true;
            break;
        }
        // Stopping must move the resume point on, or the next call would do this one again.
        let moves_on = || {
            bounds
                .after
                .is_none_or(|a| Key::before(record.info.min_ts) > *a)
        };
        if scanned >= bounds.scan_budget.max(1) && moves_on() {
            stopped_at = Some(record.info.min_ts);
            break;
        }
        buf.clear();
        read_record(record, &mut buf)?;
        scanned += record.info.raw_len as usize;
        let s = &sources[source];
        for event in buf.drain(..) {
            if event.timestamp < bounds.lo || event.timestamp > bounds.hi {
                continue;
            }
            let key = Key {
                ts: event.timestamp,
                ing: event.ingestion,
                stream: s.name.clone(),
                seq: event.seq,
            };
            if bounds.after.is_some_and(|a| key <= *a) {
                continue;
            }
            let full = dropped || heap.len() >= bounds.limit;
            if full && heap.peek().is_some_and(|top| key > top.key) {
                dropped = true;
                continue;
            }
            if bounds.pattern.is_some_and(|p| !p.matches(&event.message)) {
                continue;
            }
            heap_bytes += size(&event.message);
            heap.push(Hit {
                key,
                message: event.message,
                fingerprint: s.fingerprint,
            });
            while heap.len() > bounds.limit || (heap_bytes > PAGE_BYTES && heap.len() > 1) {
                if let Some(top) = heap.pop() {
                    heap_bytes -= size(&top.message);
                }
                dropped = true;
            }
        }
    }
    let mut hits = heap.into_sorted_vec();
    let resume = match stopped_at {
        Some(boundary) => {
            // Records not read start at `boundary`: only what comes before it is complete.
            hits.retain(|h| h.key.ts < boundary);
            Some(
                hits.last()
                    .map_or_else(|| Key::before(boundary), |h| h.key.clone()),
            )
        }
        None if cut || dropped => hits.last().map(|h| h.key.clone()),
        None => None,
    };
    Ok(Found { hits, resume })
}

impl LogsApi<'_> {
    /// FilterLogEvents across a group's streams, in time order.
    pub fn filter_log_events(
        &self,
        input: FilterLogEventsRequest,
    ) -> Result<FilterLogEventsResponse, LogsError> {
        let group = resolve_group(
            &self.context.partition,
            input.log_group_name.as_deref(),
            input.log_group_identifier.as_deref(),
        )?;
        refuse_unmask(input.unmask)?;
        if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into(),
            ));
        }
        if let Some(names) = &input.log_stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(crate::names::violation(
                    &format!("{} names", names.len()),
                    "logStreamNames",
                    "Member must have length between 1 and 100",
                ));
            }
            for n in names {
                check_stream_name(n, "logStreamNames")?;
            }
        }
        if let Some(p) = &input.log_stream_name_prefix {
            check_stream_name(p, "logStreamNamePrefix")?;
        }
        let pattern = match input.filter_pattern.as_deref() {
            Some(p) if p.chars().count() > MAX_PATTERN => {
                return Err(crate::names::violation(
                    p,
                    "filterPattern",
                    "Member must have length less than or equal to 1024",
                ));
            }
            // An absent or blank pattern matches every event.
            Some(p) if !p.trim().is_empty() => Some(FilterPattern::parse(p)?),
            _ => None,
        };
        let limit = page_limit(input.limit, 10_000, 10_000)?;
        let after = input
            .next_token
            .as_deref()
            .map(Key::from_token)
            .transpose()?;
        let meta = self.logs.group(&group)?;
        let cutoff = Logs::retention_cutoff(&meta, self.logs.now());
        let lo = input.start_time.unwrap_or(i64::MIN).max(cutoff);
        let hi = input.end_time.unwrap_or(i64::MAX);
        let names = match input.log_stream_names {
            Some(mut names) => {
                names.sort_unstable();
                names.dedup();
                names
            }
            None => {
                let mut names = self.logs.stream_names(&group)?;
                if let Some(p) = &input.log_stream_name_prefix {
                    names.retain(|n| n.starts_with(p.as_str()));
                }
                names
            }
        };
        let record_lo = lo.max(after.as_ref().map_or(i64::MIN, |a| a.ts));
        let mut sources = Vec::with_capacity(names.len());
        for name in names {
            let found = self.logs.with_stream(&group, &name, |s| {
                let records = s.records_in(record_lo, hi).map_err(|e| {
                    LogsError::storage(format!("cannot read the index of {name}"), e)
                })?;
                Ok((s.fingerprint, records))
            });
            match found {
                Ok((fingerprint, records)) => sources.push(Source {
                    name,
                    fingerprint,
                    records,
                }),
                // A stream named but not there (or deleted since listed) has no events.
                Err(LogsError::ResourceNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let bounds = Bounds {
            after: after.as_ref(),
            lo,
            hi,
            pattern: pattern.as_ref(),
            limit,
            scan_budget: SCAN_BUDGET,
        };
        let found = search(&sources, &bounds)
            .map_err(|e| LogsError::storage(format!("cannot search {group}"), e))?;
        let events = found
            .hits
            .into_iter()
            .map(|h| FilteredLogEvent {
                event_id: Some(format!("{:020}{:020}", h.fingerprint, h.key.seq)),
                log_stream_name: Some(h.key.stream),
                timestamp: Some(h.key.ts),
                message: Some(h.message),
                ingestion_time: Some(h.key.ing),
            })
            .collect();
        Ok(FilterLogEventsResponse {
            events: Some(events),
            searched_log_streams: Some(Vec::new()),
            next_token: found.resume.map(|k| k.token()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock;
    use crate::store::GroupMeta;
    use std::sync::Arc;

    struct Fixed;
    impl Clock for Fixed {
        fn now_millis(&self) -> i64 {
            1_000_000
        }
    }

    /// With a scan budget of one record, a search answers only what is certainly complete,
    /// and paging still gives every event once, in order.
    #[test]
    fn a_small_scan_budget_pages_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let logs = Logs::open(dir.path(), Arc::new(Fixed)).unwrap();
        logs.create_group(GroupMeta {
            name: "g".into(),
            creation_time: 0,
            retention_in_days: None,
            tags: Default::default(),
        })
        .unwrap();
        let mut want = Vec::new();
        for (s, name) in ["a", "b"].iter().enumerate() {
            logs.create_stream("g", name).unwrap();
            for batch in 0..20i64 {
                let events: Vec<(i64, String)> = (0..5i64)
                    .map(|i| (batch * 10 + i * 2 + s as i64, format!("{name}{batch}-{i}")))
                    .collect();
                let refs: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
                logs.with_stream("g", name, |st| {
                    st.append(&refs, 5, None)
                        .map_err(|e| LogsError::storage("append", e))
                })
                .unwrap();
                want.extend(events);
            }
        }
        want.sort();
        let sources: Vec<Source> = ["a", "b"]
            .iter()
            .map(|name| {
                logs.with_stream("g", name, |s| {
                    Ok(Source {
                        name: name.to_string(),
                        fingerprint: s.fingerprint,
                        records: s
                            .records_in(i64::MIN, i64::MAX)
                            .map_err(|e| LogsError::storage("index", e))?,
                    })
                })
                .unwrap()
            })
            .collect();
        for limit in [1, 3, 1000] {
            let mut got = Vec::new();
            let mut after: Option<Key> = None;
            for _ in 0..1000 {
                let found = search(
                    &sources,
                    &Bounds {
                        after: after.as_ref(),
                        lo: i64::MIN,
                        hi: i64::MAX,
                        pattern: None,
                        limit,
                        scan_budget: 1,
                    },
                )
                .unwrap();
                got.extend(found.hits.into_iter().map(|h| (h.key.ts, h.message)));
                match found.resume {
                    Some(k) => after = Some(k),
                    None => break,
                }
            }
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[test]
    fn tokens_round_trip() {
        let k = Key {
            ts: -5,
            ing: 7,
            stream: "a/b c".into(),
            seq: 9,
        };
        assert_eq!(Key::from_token(&k.token()).unwrap(), k);
        assert!(Key::from_token(&k.token().replace("e/-5", "e/-6")).is_err());
    }
}
