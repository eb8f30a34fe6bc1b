//! A stream's index: for each segment file, bounds of its events (enough to skip it), and
//! for the last one only, its records.
//!
//! Only the last segment's records stay in memory: an older segment's are read from its
//! headers when a read reaches it, so an open stream costs memory in proportion to its
//! number of segments, not of batches, however small the batches.

use super::segment::{self, RecordInfo};
use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// A segment file and what bounds its events.
#[derive(Debug)]
pub(crate) struct Segment {
    pub id: u64,
    /// Bytes of whole records.
    pub len: u64,
    /// The first record's first sequence number (`end_seq` when there is none).
    pub first_seq: u64,
    /// The sequence number after the last record's events.
    pub end_seq: u64,
    /// The timestamps of its events (`MAX`/`MIN` when it has none).
    pub min_ts: i64,
    pub max_ts: i64,
    /// The latest ingestion time of its events (`MIN` when it has none).
    pub max_ing: i64,
    /// The records, kept for the segment being appended to only.
    records: Option<Vec<RecordInfo>>,
}

pub(crate) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

impl Segment {
    /// An empty segment whose first event will be numbered `next_seq`.
    pub(super) fn empty(id: u64, next_seq: u64) -> Self {
        Self {
            id,
            len: 0,
            first_seq: next_seq,
            end_seq: next_seq,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            max_ing: i64::MIN,
            records: Some(Vec::new()),
        }
    }

    /// The segment of `records` (`len` bytes), numbered from `next_seq` if it has none.
    pub(super) fn of(id: u64, len: u64, records: Vec<RecordInfo>, next_seq: u64) -> Self {
        let mut s = Self::empty(id, next_seq);
        if let Some(first) = records.first() {
            s.first_seq = first.first_seq;
            s.end_seq = first.first_seq;
        }
        for r in &records {
            s.note(r);
        }
        s.len = len;
        s.records = Some(records);
        s
    }

    /// Takes in the bounds of a record added at the end.
    fn note(&mut self, r: &RecordInfo) {
        self.end_seq = r.end_seq();
        if r.count > 0 {
            self.min_ts = self.min_ts.min(r.min_ts);
            self.max_ts = self.max_ts.max(r.max_ts);
            self.max_ing = self.max_ing.max(r.max_ing);
        }
    }

    /// Adds a record just appended (the segment must be the last, with its records).
    pub(super) fn push(&mut self, r: RecordInfo) {
        if self.len == 0 {
            self.first_seq = r.first_seq;
        }
        self.note(&r);
        self.len = r.end();
        if let Some(records) = &mut self.records {
            records.push(r);
        }
    }

    /// Lets go of the records once the segment is no longer the last.
    pub(super) fn seal(&mut self) {
        self.records = None;
    }

    /// Whether it holds events.
    pub(crate) fn has_events(&self) -> bool {
        self.min_ts <= self.max_ts
    }

    /// Whether it may hold an event with a timestamp in `lo..=hi`.
    pub(crate) fn overlaps(&self, lo: i64, hi: i64) -> bool {
        self.has_events() && self.max_ts >= lo && self.min_ts <= hi
    }

    /// Its records: from memory for the last segment, else from the file's headers.
    pub(super) fn records(&self, dir: &Path) -> io::Result<Cow<'_, [RecordInfo]>> {
        match &self.records {
            Some(r) => Ok(Cow::Borrowed(r)),
            None => {
                let file = File::open(segment_path(dir, self.id))?;
                let (records, _) = segment::scan(&file, self.len, false)?;
                Ok(Cow::Owned(records))
            }
        }
    }
}
