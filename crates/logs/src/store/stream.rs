//! One open log stream: its segment files, indexed (see [`super::index`]), appended to and read.
//!
//! Events are numbered in the order they were stored (their sequence number), and reads page
//! by that number, so a page is found by binary search in the index instead of by scanning
//! the stream. Every record carries the stream's upload sequence token as of that batch, so
//! the last record always holds the current one.

use super::index::{Segment, segment_path};
use super::segment::{self, EncodedRecord, Event, RecordInfo};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What DescribeLogStreams tells of a stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub last_ingestion: Option<i64>,
    pub stored_bytes: u64,
    pub token: Option<String>,
}

/// A record located for a reader that works without the stream's lock (FilterLogEvents):
/// records never change once written, and a segment deleted by retention under it reads as
/// missing.
#[derive(Debug, Clone)]
pub(crate) struct RecordRef {
    pub path: PathBuf,
    pub info: RecordInfo,
}

/// A stream's events on disk and their index.
#[derive(Debug)]
pub(crate) struct StreamState {
    dir: PathBuf,
    /// When the stream was created, from its metadata.
    pub creation_time: i64,
    /// Tells this stream's GetLogEvents tokens from other streams' (and from those of an
    /// earlier stream of the same name).
    pub fingerprint: u64,
    segments: Vec<Segment>,
    /// The last segment, open for writing once something has been appended.
    active: Option<File>,
    next_seq: u64,
    token: Option<String>,
    segment_bytes: u64,
}

fn segment_ids(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        ids.push(id);
    }
    ids.sort_unstable();
    Ok(ids)
}

impl StreamState {
    /// Opens the stream kept in `dir`, indexing its segments and cutting off a record torn by
    /// a crash at the end of the last one.
    pub(crate) fn load(
        dir: &Path,
        creation_time: i64,
        fingerprint: u64,
        segment_bytes: u64,
    ) -> io::Result<Self> {
        let ids = segment_ids(dir)?;
        let mut segments: Vec<Segment> = Vec::with_capacity(ids.len());
        let mut last_record: Option<(u64, RecordInfo)> = None;
        for (i, &id) in ids.iter().enumerate() {
            let last = i + 1 == ids.len();
            let path = segment_path(dir, id);
            let file = if last {
                OpenOptions::new().read(true).write(true).open(&path)?
            } else {
                File::open(&path)?
            };
            let len = file.metadata()?.len();
            let (records, end) = segment::scan(&file, len, last)?;
            if last && end < len {
                tracing::warn!(
                    segment = %path.display(),
                    kept = end,
                    dropped = len - end,
                    "cutting off a log record torn by a crash"
                );
                file.set_len(end)?;
                file.sync_all()?;
            }
            if let Some(r) = records.last() {
                last_record = Some((id, *r));
            }
            let next = segments.last().map_or(0, |s| s.end_seq);
            let mut segment = Segment::of(id, end, records, next);
            if !last {
                segment.seal();
            }
            segments.push(segment);
        }
        let (next_seq, token) = match last_record {
            Some((id, info)) => {
                let token = segment::read_token(&File::open(segment_path(dir, id))?, &info)?;
                (info.end_seq(), (!token.is_empty()).then_some(token))
            }
            None => (0, None),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            creation_time,
            fingerprint,
            segments,
            active: None,
            next_seq,
            token,
            segment_bytes,
        })
    }

    /// The sequence number the next event will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The stream's upload sequence token: that of the last batch that carried one.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Appends a batch (timestamps and messages, already validated) ingested at `ingestion`,
    /// and makes it durable before returning. `token`, if given, becomes the stream's upload
    /// sequence token in the same record, so the two are stored together or not at all.
    pub(crate) fn append(
        &mut self,
        events: &[(i64, &str)],
        ingestion: i64,
        token: Option<&str>,
    ) -> io::Result<()> {
        let token = token.or(self.token.as_deref()).unwrap_or("");
        let EncodedRecord { bytes, mut info } =
            segment::encode(self.next_seq, events, ingestion, token);
        let token = (!token.is_empty()).then(|| token.to_string());
        let roll = match self.segments.last() {
            None => true,
            Some(s) => s.len > 0 && s.len + bytes.len() as u64 > self.segment_bytes,
        };
        if roll {
            let id = self.segments.last().map_or(0, |s| s.id + 1);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(segment_path(&self.dir, id))?;
            berth_files::sync_dir(&self.dir)?;
            if let Some(previous) = self.segments.last_mut() {
                previous.seal();
            }
            self.segments.push(Segment::empty(id, self.next_seq));
            self.active = Some(file);
        }
        let Some(segment) = self.segments.last_mut() else {
            return Err(io::Error::other("no segment to append to"));
        };
        let file = match self.active.take() {
            Some(f) => f,
            None => OpenOptions::new()
                .read(true)
                .write(true)
                .open(segment_path(&self.dir, segment.id))?,
        };
        // Written at the known end rather than in append mode, so that a write which failed
        // half-way is overwritten by the next one instead of being left in the middle.
        let written = file
            .write_all_at(&bytes, segment.len)
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            let _ = file.set_len(segment.len);
            return Err(e);
        }
        self.active = Some(file);
        info.offset = segment.len;
        segment.push(info);
        self.next_seq = info.end_seq();
        self.token = token;
        Ok(())
    }

    /// What DescribeLogStreams shows of the stream.
    pub(crate) fn summary(&self) -> Summary {
        let mut s = Summary {
            token: self.token.clone(),
            ..Summary::default()
        };
        for segment in &self.segments {
            s.stored_bytes += segment.len;
            if segment.has_events() {
                s.first_ts = Some(s.first_ts.map_or(segment.min_ts, |t| t.min(segment.min_ts)));
                s.last_ts = Some(s.last_ts.map_or(segment.max_ts, |t| t.max(segment.max_ts)));
                s.last_ingestion = Some(
                    s.last_ingestion
                        .map_or(segment.max_ing, |t| t.max(segment.max_ing)),
                );
            }
        }
        s
    }

    /// The sequence number of the oldest event still stored.
    pub(crate) fn first_seq(&self) -> u64 {
        self.segments.first().map_or(self.next_seq, |s| s.first_seq)
    }

    /// Up to `limit` events numbered `from` or later with a timestamp in `lo..=hi`, oldest
    /// first, stopping before their messages (plus 26 bytes each) pass `budget`.
    pub(crate) fn read_forward(
        &self,
        from: u64,
        (lo, hi): (i64, i64),
        limit: usize,
        budget: usize,
    ) -> io::Result<Vec<Event>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut buf = Vec::new();
        for segment in &self.segments {
            if segment.end_seq <= from || !segment.overlaps(lo, hi) {
                continue;
            }
            let records = segment.records(&self.dir)?;
            let start = records.partition_point(|r| r.end_seq() <= from);
            let mut file = None;
            for info in &records[start..] {
                if !info.overlaps(lo, hi) {
                    continue;
                }
                let file = open_once(&mut file, &self.dir, segment.id)?;
                buf.clear();
                segment::read_events(file, info, &mut buf)?;
                for event in buf.drain(..) {
                    if event.seq < from || event.timestamp < lo || event.timestamp > hi {
                        continue;
                    }
                    let size = event.message.len() + 26;
                    if !out.is_empty() && bytes + size > budget {
                        return Ok(out);
                    }
                    bytes += size;
                    out.push(event);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Up to `limit` events numbered before `before` with a timestamp in `lo..=hi`: the newest
    /// such, returned oldest first, within `budget` as for [`Self::read_forward`].
    pub(crate) fn read_backward(
        &self,
        before: u64,
        (lo, hi): (i64, i64),
        limit: usize,
        budget: usize,
    ) -> io::Result<Vec<Event>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut buf = Vec::new();
        'segments: for segment in self.segments.iter().rev() {
            if segment.first_seq >= before || !segment.overlaps(lo, hi) {
                continue;
            }
            let records = segment.records(&self.dir)?;
            let end = records.partition_point(|r| r.first_seq < before);
            let mut file = None;
            for info in records[..end].iter().rev() {
                if !info.overlaps(lo, hi) {
                    continue;
                }
                let file = open_once(&mut file, &self.dir, segment.id)?;
                buf.clear();
                segment::read_events(file, info, &mut buf)?;
                for event in buf.drain(..).rev() {
                    if event.seq >= before || event.timestamp < lo || event.timestamp > hi {
                        continue;
                    }
                    let size = event.message.len() + 26;
                    if !out.is_empty() && bytes + size > budget {
                        break 'segments;
                    }
                    bytes += size;
                    out.push(event);
                    if out.len() >= limit {
                        break 'segments;
                    }
                }
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The records holding events with a timestamp in `lo..=hi`, for FilterLogEvents.
    pub(crate) fn records_in(&self, lo: i64, hi: i64) -> io::Result<Vec<RecordRef>> {
        let mut refs = Vec::new();
        for segment in self.segments.iter().filter(|s| s.overlaps(lo, hi)) {
            let path = segment_path(&self.dir, segment.id);
            for info in segment.records(&self.dir)?.iter() {
                if info.overlaps(lo, hi) {
                    refs.push(RecordRef {
                        path: path.clone(),
                        info: *info,
                    });
                }
            }
        }
        Ok(refs)
    }

    /// Deletes the segments whose every event is older than `cutoff`, but never the last one:
    /// it carries the stream's upload sequence token and where numbering goes on. Returns how
    /// many went.
    pub(crate) fn drop_older_than(&mut self, cutoff: i64) -> io::Result<usize> {
        let candidates = self.segments.len().saturating_sub(1);
        let expired: Vec<u64> = self.segments[..candidates]
            .iter()
            .filter(|s| s.max_ts < cutoff)
            .map(|s| s.id)
            .collect();
        let mut dropped = 0;
        for id in expired {
            std::fs::remove_file(segment_path(&self.dir, id))?;
            self.segments.retain(|s| s.id != id);
            dropped += 1;
        }
        if dropped > 0 {
            berth_files::sync_dir(&self.dir)?;
        }
        Ok(dropped)
    }
}

fn open_once<'f>(file: &'f mut Option<File>, dir: &Path, id: u64) -> io::Result<&'f File> {
    if file.is_none() {
        *file = Some(File::open(segment_path(dir, id))?);
    }
    file.as_ref()
        .ok_or_else(|| io::Error::other("segment file not open"))
}

/// The events of a record found by [`StreamState::records_in`], read without the stream's
/// lock; a segment deleted meanwhile by retention gives no events.
pub(crate) fn read_record(record: &RecordRef, out: &mut Vec<Event>) -> io::Result<()> {
    match File::open(&record.path) {
        Ok(file) => segment::read_events(&file, &record.info, out),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
