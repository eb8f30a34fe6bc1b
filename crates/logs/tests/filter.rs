//! FilterLogEvents: time order across streams, paging exactly once, stream selection, bounds.

mod common;

use berth_logs::LogsError;
use berth_types::logs::*;
use common::*;
use std::collections::HashSet;

/// Three streams whose events interleave in time, some sharing a timestamp.
fn fixture() -> (Fixture, Vec<(i64, String, String)>) {
    let f = Fixture::new();
    f.group("g");
    let mut all = Vec::new();
    for (s, stream) in ["a", "b", "c"].iter().enumerate() {
        f.stream("g", stream);
        for batch in 0..10 {
            let events: Vec<(i64, String)> = (0..100)
                .map(|i| {
                    let n = batch * 100 + i;
                    // Timestamps step by 3 per stream, offset by stream: a < b < c, and every
                    // tenth event of each stream lands on the same millisecond.
                    let ts = NOW - 10_000 + (n as i64) * 3 + if n % 10 == 0 { 0 } else { s as i64 };
                    (ts, format!("{stream}-{n:04}"))
                })
                .collect();
            let refs: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
            f.put("g", stream, &refs, None);
            for (t, m) in events {
                all.push((t, stream.to_string(), m));
            }
        }
    }
    // Order: timestamp, then ingestion time (equal here), then stream, then position.
    all.sort();
    (f, all)
}

fn filter_all(f: &Fixture, request: FilterLogEventsRequest) -> Vec<(i64, String, String)> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    let mut token = request.next_token.clone();
    for _ in 0..10_000 {
        let r = f
            .api()
            .filter_log_events(FilterLogEventsRequest {
                next_token: token,
                ..request.clone()
            })
            .expect("filter");
        assert_eq!(r.searched_log_streams, Some(Vec::new()));
        for e in r.events.unwrap() {
            assert!(
                ids.insert(e.event_id.clone().unwrap()),
                "event ids are unique"
            );
            out.push((
                e.timestamp.unwrap(),
                e.log_stream_name.unwrap(),
                e.message.unwrap(),
            ));
        }
        token = r.next_token;
        if token.is_none() {
            return out;
        }
    }
    panic!("filtering did not end")
}

fn group_request() -> FilterLogEventsRequest {
    FilterLogEventsRequest {
        log_group_name: Some("g".into()),
        ..Default::default()
    }
}

#[test]
fn events_come_in_time_order_across_streams_exactly_once() {
    let (f, all) = fixture();
    for limit in [None, Some(1), Some(7), Some(250), Some(10_000)] {
        let got = filter_all(
            &f,
            FilterLogEventsRequest {
                limit,
                ..group_request()
            },
        );
        assert_eq!(got.len(), all.len(), "limit {limit:?}");
        assert_eq!(got, all, "limit {limit:?}");
    }
    // Everything in one call: no token.
    let r = f.api().filter_log_events(group_request()).unwrap();
    assert_eq!(r.events.unwrap().len(), 3_000);
    assert_eq!(r.next_token, None);
}

#[test]
fn streams_are_chosen_by_name_or_prefix() {
    let (f, all) = fixture();
    let only = |names: &[&str]| -> Vec<(i64, String, String)> {
        all.iter()
            .filter(|(_, s, _)| names.contains(&s.as_str()))
            .cloned()
            .collect()
    };
    let got = filter_all(
        &f,
        FilterLogEventsRequest {
            log_stream_names: Some(vec!["c".into(), "a".into(), "missing".into()]),
            limit: Some(333),
            ..group_request()
        },
    );
    assert_eq!(got, only(&["a", "c"]));
    let got = filter_all(
        &f,
        FilterLogEventsRequest {
            log_stream_name_prefix: Some("b".into()),
            ..group_request()
        },
    );
    assert_eq!(got, only(&["b"]));
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            log_stream_name_prefix: Some("b".into()),
            log_stream_names: Some(vec!["b".into()]),
            ..group_request()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            log_stream_names: Some(Vec::new()),
            ..group_request()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
}

#[test]
fn time_bounds_are_inclusive_and_patterns_blank_or_bounded() {
    let (f, all) = fixture();
    let (start, end) = (all[100].0, all[2_000].0);
    let got = filter_all(
        &f,
        FilterLogEventsRequest {
            start_time: Some(start),
            end_time: Some(end),
            limit: Some(100),
            filter_pattern: Some("  ".into()),
            ..group_request()
        },
    );
    let want: Vec<_> = all
        .iter()
        .filter(|(t, _, _)| *t >= start && *t <= end)
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            filter_pattern: Some("x".repeat(1025)),
            ..group_request()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            next_token: Some("e/1/2/3/61/999".into()),
            ..group_request()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            log_group_name: Some("nope".into()),
            ..Default::default()
        }),
        Err(LogsError::ResourceNotFound(_))
    ));
    assert!(matches!(
        f.api().filter_log_events(FilterLogEventsRequest {
            unmask: Some(true),
            ..group_request()
        }),
        Err(LogsError::Unsupported(_))
    ));
}

#[test]
fn pages_resume_after_the_last_event_when_more_arrive() {
    let (f, _) = fixture();
    let r = f
        .api()
        .filter_log_events(FilterLogEventsRequest {
            limit: Some(10),
            ..group_request()
        })
        .unwrap();
    let token = r.next_token.expect("more to come");
    // An event older than the page's last one, written meanwhile, is not given again later;
    // one after it is.
    f.put("g", "a", &[(NOW - 1, "late")], None);
    let rest = filter_all(
        &f,
        FilterLogEventsRequest {
            next_token: Some(token),
            ..group_request()
        },
    );
    assert_eq!(rest.len(), 3_000 - 10 + 1);
    assert_eq!(rest.last().unwrap().2, "late");
}
