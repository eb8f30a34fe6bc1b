//! The segment file format: a run of records, one per PutLogEvents batch.
//!
//! A record is a fixed 64-byte header, the stream's upload sequence token, and the batch's
//! events as one lz4 block. The header says enough (event count, first sequence number,
//! timestamp and ingestion bounds) to skip a record without decompressing it, and its crc
//! covers everything after the crc field, so a record torn by a crash is recognised and cut
//! off. All integers are little-endian.
//!
//! Header layout (byte offsets): 0 magic, 4 body length, 8 crc32 of bytes 12.. and the body,
//! 12 event count, 16 first event's sequence number, 24 min timestamp, 32 max timestamp,
//! 40 min ingestion time, 48 max ingestion time, 56 token length (u16), 58 reserved (u16),
//! 60 uncompressed length of the events block. An event in the block: timestamp (i64),
//! message length (u32), message bytes.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// `BLG1`: Berth log segment, format 1.
const MAGIC: u32 = u32::from_le_bytes(*b"BLG1");
/// The fixed size of a record header.
pub(crate) const HEADER_LEN: u64 = 64;
/// No batch comes near this (a PutLogEvents is at most 1 MiB of messages plus 12 bytes an
/// event); a header claiming more is damage, and we never allocate on its word.
const MAX_BLOCK: usize = 4 << 20;
/// Bytes an event takes in the uncompressed block besides its message.
const EVENT_OVERHEAD: usize = 12;

/// One event as stored: where it sits in its stream, when it happened and was ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The event's sequence number in its stream, counting from 0.
    pub seq: u64,
    pub timestamp: i64,
    pub ingestion: i64,
    pub message: String,
}

/// What a record header says, and where the record sits in its segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordInfo {
    pub offset: u64,
    pub body_len: u32,
    pub count: u32,
    pub first_seq: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub min_ing: i64,
    pub max_ing: i64,
    pub token_len: u16,
    pub raw_len: u32,
}

impl RecordInfo {
    /// Where the next record starts.
    pub(crate) fn end(&self) -> u64 {
        self.offset + HEADER_LEN + u64::from(self.body_len)
    }

    /// The sequence number after this record's last event.
    pub(crate) fn end_seq(&self) -> u64 {
        self.first_seq + u64::from(self.count)
    }

    /// Whether the record holds an event with a timestamp in `lo..=hi`.
    pub(crate) fn overlaps(&self, lo: i64, hi: i64) -> bool {
        self.count > 0 && self.max_ts >= lo && self.min_ts <= hi
    }
}

/// The bytes of one record, ready to append: built outside any lock that matters.
pub(crate) struct EncodedRecord {
    pub bytes: Vec<u8>,
    pub info: RecordInfo,
}

/// Builds the record of `events` (timestamp, message; already validated) ingested at
/// `ingestion`, numbered from `first_seq`, carrying `token`.
pub(crate) fn encode(
    first_seq: u64,
    events: &[(i64, &str)],
    ingestion: i64,
    token: &str,
) -> EncodedRecord {
    let raw_len: usize = events.iter().map(|(_, m)| m.len() + EVENT_OVERHEAD).sum();
    let mut raw = Vec::with_capacity(raw_len);
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    for (ts, message) in events {
        min_ts = min_ts.min(*ts);
        max_ts = max_ts.max(*ts);
        raw.extend_from_slice(&ts.to_le_bytes());
        raw.extend_from_slice(&(message.len() as u32).to_le_bytes());
        raw.extend_from_slice(message.as_bytes());
    }
    let block = lz4_flex::block::compress(&raw);
    let token = &token.as_bytes()[..token.len().min(usize::from(u16::MAX))];
    let body_len = token.len() + block.len();
    let (min_ing, max_ing) = if events.is_empty() {
        (i64::MAX, i64::MIN)
    } else {
        (ingestion, ingestion)
    };
    let info = RecordInfo {
        offset: 0,
        body_len: body_len as u32,
        count: events.len() as u32,
        first_seq,
        min_ts,
        max_ts,
        min_ing,
        max_ing,
        token_len: token.len() as u16,
        raw_len: raw.len() as u32,
    };
    let mut bytes = Vec::with_capacity(HEADER_LEN as usize + body_len);
    bytes.extend_from_slice(&MAGIC.to_le_bytes());
    bytes.extend_from_slice(&info.body_len.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&info.count.to_le_bytes());
    bytes.extend_from_slice(&first_seq.to_le_bytes());
    for v in [min_ts, max_ts, min_ing, max_ing] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&info.token_len.to_le_bytes());
    bytes.extend_from_slice(&[0; 2]);
    bytes.extend_from_slice(&info.raw_len.to_le_bytes());
    bytes.extend_from_slice(token);
    bytes.extend_from_slice(&block);
    let crc = crc32fast::hash(&bytes[12..]);
    bytes[8..12].copy_from_slice(&crc.to_le_bytes());
    EncodedRecord { bytes, info }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Parses a header read at `offset`; `None` if it is not one (damage or a torn write).
fn parse_header(h: &[u8; HEADER_LEN as usize], offset: u64) -> Option<RecordInfo> {
    if u32_at(h, 0) != MAGIC {
        return None;
    }
    let info = RecordInfo {
        offset,
        body_len: u32_at(h, 4),
        count: u32_at(h, 12),
        first_seq: u64_at(h, 16),
        min_ts: u64_at(h, 24) as i64,
        max_ts: u64_at(h, 32) as i64,
        min_ing: u64_at(h, 40) as i64,
        max_ing: u64_at(h, 48) as i64,
        token_len: u16::from_le_bytes([h[56], h[57]]),
        raw_len: u32_at(h, 60),
    };
    let sane = (info.raw_len as usize) <= MAX_BLOCK
        && u64::from(info.body_len) >= u64::from(info.token_len)
        && (info.body_len as usize) <= MAX_BLOCK + usize::from(u16::MAX) + 64;
    sane.then_some(info)
}

/// The records of the segment file `file` (`len` bytes long), in order, and where the valid
/// ones end. Records are found by their headers alone; with `check_tail` (a stream's last
/// segment, the only one a crash can have torn) the last record's crc is checked too, and it
/// is left out if it fails. Only the tail needs it: each append is fsynced before the next
/// begins, so a crash can tear only the last one.
pub(crate) fn scan(file: &File, len: u64, check_tail: bool) -> io::Result<(Vec<RecordInfo>, u64)> {
    let mut records: Vec<RecordInfo> = Vec::new();
    let mut offset = 0;
    let mut window = HeaderWindow::default();
    while offset + HEADER_LEN <= len {
        let header = window.header(file, offset, len)?;
        let Some(info) = parse_header(&header, offset) else {
            break;
        };
        if info.end() > len {
            break;
        }
        records.push(info);
        offset = info.end();
    }
    if check_tail
        && let Some(last) = records.last()
        && let Err(e) = read_body(file, last)
    {
        if e.kind() != io::ErrorKind::InvalidData {
            return Err(e);
        }
        offset = last.offset;
        records.pop();
    }
    Ok((records, offset))
}

/// Reads a segment's headers through a window of [`WINDOW`] bytes, so that a segment of many
/// small records is indexed with a few large reads rather than one read per record.
#[derive(Default)]
struct HeaderWindow {
    start: u64,
    bytes: Vec<u8>,
}

/// How much of a segment one read brings in while indexing.
const WINDOW: u64 = 256 << 10;

impl HeaderWindow {
    /// The header at `offset` of a file of `len` bytes (`offset + HEADER_LEN <= len`).
    fn header(
        &mut self,
        file: &File,
        offset: u64,
        len: u64,
    ) -> io::Result<[u8; HEADER_LEN as usize]> {
        let end = offset + HEADER_LEN;
        if offset < self.start || end > self.start + self.bytes.len() as u64 {
            let size = WINDOW.max(HEADER_LEN).min(len - offset);
            self.bytes.resize(size as usize, 0);
            file.read_exact_at(&mut self.bytes, offset)?;
            self.start = offset;
        }
        let at = (offset - self.start) as usize;
        let mut header = [0u8; HEADER_LEN as usize];
        header.copy_from_slice(&self.bytes[at..at + HEADER_LEN as usize]);
        Ok(header)
    }
}

/// Reads and checks a record's body (token and compressed block).
fn read_body(file: &File, info: &RecordInfo) -> io::Result<Vec<u8>> {
    let mut whole = vec![0u8; HEADER_LEN as usize + info.body_len as usize];
    file.read_exact_at(&mut whole, info.offset)?;
    if crc32fast::hash(&whole[12..]) != u32_at(&whole, 8) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record at {} fails its checksum", info.offset),
        ));
    }
    whole.drain(..HEADER_LEN as usize);
    Ok(whole)
}

/// The upload sequence token a record carries (empty if none).
pub(crate) fn read_token(file: &File, info: &RecordInfo) -> io::Result<String> {
    let mut token = vec![0u8; usize::from(info.token_len)];
    file.read_exact_at(&mut token, info.offset + HEADER_LEN)?;
    Ok(String::from_utf8_lossy(&token).into_owned())
}

/// Decodes a record's events, appending them to `out`. A record damaged since it was
/// written (its crc fails) is skipped with a warning rather than making every read through
/// it fail: its events are lost either way, the others need not be.
pub(crate) fn read_events(file: &File, info: &RecordInfo, out: &mut Vec<Event>) -> io::Result<()> {
    let before = out.len();
    match decode_events(file, info, out) {
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            out.truncate(before);
            tracing::warn!(error = %e, "skipping a damaged log record");
            Ok(())
        }
        other => other,
    }
}

fn decode_events(file: &File, info: &RecordInfo, out: &mut Vec<Event>) -> io::Result<()> {
    let body = read_body(file, info)?;
    let damaged = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record at {}: {what}", info.offset),
        )
    };
    let raw =
        lz4_flex::block::decompress(&body[usize::from(info.token_len)..], info.raw_len as usize)
            .map_err(|e| damaged(&e.to_string()))?;
    let mut at = 0;
    out.reserve(info.count as usize);
    for i in 0..u64::from(info.count) {
        if at + EVENT_OVERHEAD > raw.len() {
            return Err(damaged("events block too short"));
        }
        let timestamp = u64_at(&raw, at) as i64;
        let len = u32_at(&raw, at + 8) as usize;
        at += EVENT_OVERHEAD;
        let bytes = raw
            .get(at..at + len)
            .ok_or_else(|| damaged("message past the block's end"))?;
        at += len;
        let message = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        out.push(Event {
            seq: info.first_seq + i,
            timestamp,
            ingestion: info.max_ing,
            message,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn records_round_trip_and_torn_tails_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let mut f = File::create(&path).unwrap();
        let a = encode(0, &[(1, "one"), (2, "two")], 10, "tok-a");
        let b = encode(2, &[(3, "three")], 11, "");
        f.write_all(&a.bytes).unwrap();
        f.write_all(&b.bytes).unwrap();
        f.write_all(&b.bytes[..20]).unwrap();
        drop(f);
        let f = File::open(&path).unwrap();
        let len = f.metadata().unwrap().len();
        let (records, end) = scan(&f, len, true).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(end, (a.bytes.len() + b.bytes.len()) as u64);
        assert_eq!(read_token(&f, &records[0]).unwrap(), "tok-a");
        let mut events = Vec::new();
        read_events(&f, &records[0], &mut events).unwrap();
        read_events(&f, &records[1], &mut events).unwrap();
        let messages: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["one", "two", "three"]);
        assert_eq!(events[2].seq, 2);
        assert_eq!(events[2].ingestion, 11);
    }

    #[test]
    fn many_small_records_are_indexed_across_read_windows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let mut bytes = Vec::new();
        for i in 0..10_000u64 {
            bytes.extend(encode(i, &[(i as i64, "a small line")], 1, "cursor").bytes);
        }
        assert!(bytes.len() as u64 > 2 * WINDOW);
        std::fs::write(&path, &bytes).unwrap();
        let f = File::open(&path).unwrap();
        let (records, end) = scan(&f, bytes.len() as u64, true).unwrap();
        assert_eq!(records.len(), 10_000);
        assert_eq!(end, bytes.len() as u64);
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.first_seq == i as u64)
        );
    }

    #[test]
    fn a_flipped_byte_fails_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let mut rec = encode(0, &[(1, "hello world")], 10, "t").bytes;
        let last = rec.len() - 1;
        rec[last] ^= 0xff;
        std::fs::write(&path, &rec).unwrap();
        let f = File::open(&path).unwrap();
        let (records, end) = scan(&f, rec.len() as u64, true).unwrap();
        assert!(records.is_empty());
        assert_eq!(end, 0);
        // Found by its header alone, it reads as no events.
        let (records, _) = scan(&f, rec.len() as u64, false).unwrap();
        let mut events = Vec::new();
        read_events(&f, &records[0], &mut events).unwrap();
        assert!(events.is_empty());
    }
}
