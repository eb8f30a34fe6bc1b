//! A container's output read straight from the json-file driver's files, followed across
//! rotation by inode.
//!
//! Why not the engine's own follow (`logs?follow=1`): it loses and repeats lines when the
//! driver rotates its file under a fast writer (moby/moby#37646 and #23913; on Docker
//! 20.10.24, 40,000 lines printed with `max-size=1m` gave 26,766 lines to `docker logs -f`,
//! 4,483 of them twice, while a read without follow gave all 40,000). The files themselves
//! hold every line once, so the agent reads them when it can (it runs beside the engine, as
//! root, as the ECS agent does) and falls back on the engine's follow when it cannot (an
//! engine in a VM, another driver).
//!
//! The driver rotates by renaming `<id>-json.log` to `.1`, `.1` to `.2` and so on, deleting
//! the last, and starting a new `<id>-json.log`. An open file stays readable after its rename
//! and even after its deletion, so the follower reads its file to the end, then opens the one
//! after it: the file one number below the name its inode has now. Only a reader a whole
//! window (max-file × max-size) behind can miss lines, and then it says so.

use crate::logs::engine_time;
use crate::runtime::LogLine;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::Deserialize;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lines read ahead of the shipper.
const AHEAD: usize = 4_096;
/// The read buffer: a few hundred lines a read.
const BUFFER: usize = 256 * 1024;
/// The first wait at the end of the file; it doubles while nothing comes, up to [`IDLE_MAX`].
const IDLE_FIRST: Duration = Duration::from_millis(5);
/// The longest wait at the end of the file.
const IDLE_MAX: Duration = Duration::from_millis(100);
/// How often, at the end of the file, the follower asks whether the container still runs.
const RUNNING_EVERY: Duration = Duration::from_millis(250);
/// How many times the oldest file is looked for while rotations keep moving the names.
const RETRIES: usize = 100;

/// One record of the json-file driver: `{"log":"...","stream":"stdout","time":"..."}`.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    log: Cow<'a, str>,
    time: &'a str,
}

/// Whether `path` is a json-file log this process can read.
pub(crate) fn readable(path: &Path) -> bool {
    File::open(path).is_ok()
}

/// Follows the files of the json-file log at `base` from `since_ns` on, until `running` says
/// the container stopped and everything it wrote was read. The reading runs on a thread of
/// its own (file reads block); the stream ends it when dropped.
pub(crate) fn follow(
    base: PathBuf,
    since_ns: i64,
    running: impl FnMut() -> bool + Send + 'static,
) -> BoxStream<'static, Result<LogLine, String>> {
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    let spawned = std::thread::Builder::new()
        .name("log-files".into())
        .spawn(move || {
            let mut follower = Follower {
                files: LogFiles { base },
                since_ns,
                running,
            };
            if let Err(why) = follower.run(&tx) {
                let _ = tx.blocking_send(Err(why));
            }
        });
    if let Err(e) = spawned {
        let why = format!("cannot start reading the container's output: {e}");
        return futures_util::stream::once(async move { Err(why) }).boxed();
    }
    futures_util::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        Some((line, rx))
    })
    .boxed()
}

/// The files of one json-file log: `base` (number 0, the newest), `base.1`, `base.2`, ...
struct LogFiles {
    base: PathBuf,
}

impl LogFiles {
    fn path(&self, n: usize) -> PathBuf {
        if n == 0 {
            return self.base.clone();
        }
        let mut name = self.base.clone().into_os_string();
        name.push(format!(".{n}"));
        name.into()
    }

    /// The files there are, by number, with their inodes; `None` while the driver is in the
    /// middle of a rotation (the newest missing, or a hole below a numbered file: it renames
    /// one file at a time, oldest first).
    fn present(&self) -> Option<Vec<(usize, u64)>> {
        let mut found = Vec::new();
        for n in 0.. {
            match std::fs::metadata(self.path(n)) {
                Ok(meta) => found.push((n, meta.ino())),
                Err(_) if n == 0 => return None,
                Err(_) if std::fs::metadata(self.path(n + 1)).is_ok() => return None,
                Err(_) => break,
            }
        }
        Some(found)
    }

    /// Opens the oldest file there is.
    fn open_oldest(&self) -> std::io::Result<File> {
        let mut last = None;
        for _ in 0..RETRIES {
            let Some(present) = self.present() else {
                std::thread::sleep(IDLE_FIRST);
                continue;
            };
            for (n, _) in present.into_iter().rev() {
                match File::open(self.path(n)) {
                    Ok(file) => return Ok(file),
                    Err(e) => last = Some(e),
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)))
    }

    /// The file after the one with inode `ino`: `None` while `ino` is still the newest or a
    /// rotation is under way (the caller looks again shortly), and whether lines were missed
    /// (`ino` was rotated away before it was read to the end).
    fn after(&self, ino: u64) -> std::io::Result<Option<(File, bool)>> {
        let Some(present) = self.present() else {
            return Ok(None);
        };
        let Some(&(n, _)) = present.iter().find(|(_, i)| *i == ino) else {
            // Held open, `ino` cannot name another file: it was deleted.
            return self.open_oldest().map(|f| Some((f, true)));
        };
        if n == 0 {
            return Ok(None);
        }
        let Ok(next) = File::open(self.path(n - 1)) else {
            return Ok(None);
        };
        // A rotation between the look and the open would make `n - 1` another file: keep it
        // only if the names still say it comes right after `ino`.
        let next_ino = next.metadata()?.ino();
        let after = self.present().is_some_and(|now| {
            let at = |wanted: u64| now.iter().find(|(_, i)| *i == wanted).map(|(n, _)| *n);
            matches!((at(ino), at(next_ino)), (Some(a), Some(b)) if b + 1 == a)
        });
        Ok(after.then_some((next, false)))
    }
}

struct Follower<F> {
    files: LogFiles,
    since_ns: i64,
    running: F,
}

impl<F: FnMut() -> bool> Follower<F> {
    fn run(
        &mut self,
        tx: &tokio::sync::mpsc::Sender<Result<LogLine, String>>,
    ) -> Result<(), String> {
        let failed = |e: std::io::Error| format!("cannot read the container's log file: {e}");
        let file = self.files.open_oldest().map_err(failed)?;
        let mut ino = file.metadata().map_err(failed)?.ino();
        let mut reader = BufReader::with_capacity(BUFFER, file);
        let mut record = Vec::with_capacity(1024);
        let mut idle = IDLE_FIRST;
        let mut asked: Option<Instant> = None;
        let mut stopped = false;
        loop {
            if !record.ends_with(b"\n") {
                let read = reader.read_until(b'\n', &mut record).map_err(failed)?;
                if read > 0 {
                    // A record, or the part of one written so far.
                    continue;
                }
                // At the end of the file (a record half written stays in `record` until its
                // newline comes). A rotated file gets no more lines: go on with the next, once
                // what was written just before the rotation is read.
                if let Some((next, missed)) = self.files.after(ino).map_err(failed)? {
                    if reader.read_until(b'\n', &mut record).map_err(failed)? > 0 {
                        continue;
                    }
                    if missed {
                        tracing::warn!(log = %self.files.base.display(), "the container wrote faster than its output was read: lines were rotated away unread");
                    }
                    record.clear();
                    ino = next.metadata().map_err(failed)?.ino();
                    reader = BufReader::with_capacity(BUFFER, next);
                    continue;
                }
                let at = reader.stream_position().map_err(failed)?;
                if reader.get_ref().metadata().map_err(failed)?.len() < at {
                    // With max-file 1 the driver empties its one file instead of rotating.
                    tracing::warn!(log = %self.files.base.display(), "the log file was emptied under its reader (max-file 1): lines written just before may be lost");
                    reader.seek(SeekFrom::Start(0)).map_err(failed)?;
                    record.clear();
                    continue;
                }
                if stopped {
                    return Ok(());
                }
                if asked.is_none_or(|at| at.elapsed() >= RUNNING_EVERY) {
                    asked = Some(Instant::now());
                    // Once it stopped, read to the end once more: the engine may still have
                    // been writing its last lines when it was asked.
                    stopped = !(self.running)();
                    if stopped {
                        continue;
                    }
                }
                std::thread::sleep(idle);
                idle = (idle * 2).min(IDLE_MAX);
                continue;
            }
            idle = IDLE_FIRST;
            let line = decode(&record);
            record.clear();
            if matches!(&line, Ok(line) if line.ns < self.since_ns) {
                continue;
            }
            if tx.blocking_send(line).is_err() {
                // Nobody reads any more.
                return Ok(());
            }
        }
    }
}

/// One record → a line with its engine timestamp.
fn decode(record: &[u8]) -> Result<LogLine, String> {
    let record: Record =
        serde_json::from_slice(record).map_err(|e| format!("a bad record in the log file: {e}"))?;
    let ns = engine_time::parse_ns(record.time)
        .ok_or_else(|| format!("a log record with a bad time {:?}", record.time))?;
    Ok(LogLine {
        ns,
        text: record.log.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn record(n: u32) -> String {
        format!(
            "{{\"log\":\"line {n}\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-30T19:52:54.{n:09}Z\"}}\n"
        )
    }

    fn append(path: &Path, lines: std::ops::Range<u32>) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open");
        for n in lines {
            f.write_all(record(n).as_bytes()).expect("write");
        }
    }

    /// Rotates as the driver does: `.k` → `.k+1` (the last deleted), base → `.1`.
    fn rotate(files: &LogFiles, max_file: usize) {
        let _ = std::fs::remove_file(files.path(max_file - 1));
        for n in (1..max_file - 1).rev() {
            let _ = std::fs::rename(files.path(n), files.path(n + 1));
        }
        std::fs::rename(files.path(0), files.path(1)).expect("rotate");
        File::create(files.path(0)).expect("new file");
    }

    fn texts(lines: &[LogLine]) -> Vec<String> {
        lines.iter().map(|l| l.text.clone()).collect()
    }

    fn numbered(range: std::ops::Range<u32>) -> Vec<String> {
        range.map(|n| format!("line {n}\n")).collect()
    }

    #[tokio::test]
    async fn follows_every_line_once_across_rotations_and_ends_when_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = LogFiles {
            base: dir.path().join("c-json.log"),
        };
        append(&files.path(0), 0..10);
        rotate(&files, 3);
        append(&files.path(0), 10..20);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let running = {
            let stop = stop.clone();
            move || !stop.load(std::sync::atomic::Ordering::SeqCst)
        };
        let mut lines = follow(files.base.clone(), 0, running);
        let mut got = Vec::new();
        while got.len() < 20 {
            got.push(lines.next().await.expect("a line").expect("decoded"));
        }
        // More rotations while the follower is at the end of the newest file (the window,
        // 10 files, holds them all).
        for k in 0..4 {
            rotate(&files, 10);
            append(&files.path(0), 20 + k * 10..30 + k * 10);
        }
        // A record half written, then finished.
        let half = record(60);
        let (a, b) = half.split_at(20);
        std::fs::OpenOptions::new()
            .append(true)
            .open(files.path(0))
            .and_then(|mut f| f.write_all(a.as_bytes()))
            .expect("half");
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::OpenOptions::new()
            .append(true)
            .open(files.path(0))
            .and_then(|mut f| f.write_all(b.as_bytes()))
            .expect("rest");
        while got.len() < 61 {
            got.push(lines.next().await.expect("a line").expect("decoded"));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(lines.next().await.is_none(), "ends once stopped");
        assert_eq!(texts(&got), numbered(0..61));
        assert!(got.windows(2).all(|w| w[0].ns < w[1].ns));
    }

    #[tokio::test]
    async fn starts_at_since_and_reads_what_a_stopped_container_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = LogFiles {
            base: dir.path().join("c-json.log"),
        };
        append(&files.path(0), 0..10);
        rotate(&files, 5);
        append(&files.path(0), 10..15);
        let since = engine_time::parse_ns("2026-11-30T19:52:54.000000007Z").expect("ns");
        let got: Vec<_> = follow(files.base.clone(), since, || false)
            .map(|l| l.expect("decoded"))
            .collect()
            .await;
        assert_eq!(texts(&got), numbered(7..15));
    }

    #[test]
    fn a_file_rotated_away_unread_is_noticed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = LogFiles {
            base: dir.path().join("c-json.log"),
        };
        append(&files.path(0), 0..1);
        // Held open, as the follower holds the file it reads: its inode cannot be reused.
        let held = File::open(files.path(0)).expect("open");
        let first = held.metadata().expect("meta").ino();
        assert!(
            files.after(first).expect("after").is_none(),
            "still the newest"
        );
        rotate(&files, 2);
        let (_, missed) = files.after(first).expect("after").expect("a next file");
        assert!(!missed);
        rotate(&files, 2);
        append(&files.path(0), 1..2);
        let (_, missed) = files.after(first).expect("after").expect("a next file");
        assert!(missed, "the first file is gone");
    }

    #[test]
    fn a_rotation_under_way_is_waited_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = LogFiles {
            base: dir.path().join("c-json.log"),
        };
        append(&files.path(0), 0..1);
        append(&files.path(1), 1..2);
        assert_eq!(files.present().map(|p| p.len()), Some(2));
        // Renamed to .1 (after .1 went to .2), the new one not made yet.
        std::fs::rename(files.path(1), files.path(2)).expect("rename");
        assert!(files.present().is_none(), "a hole below .2");
        std::fs::rename(files.path(0), files.path(1)).expect("rename");
        assert!(files.present().is_none(), "no newest file");
        File::create(files.path(0)).expect("new file");
        assert_eq!(files.present().map(|p| p.len()), Some(3));
    }

    #[tokio::test]
    async fn a_file_emptied_under_its_reader_is_read_from_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("c-json.log");
        append(&base, 0..5);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let running = {
            let stop = stop.clone();
            move || !stop.load(std::sync::atomic::Ordering::SeqCst)
        };
        let mut lines = follow(base.clone(), 0, running);
        let mut got = Vec::new();
        while got.len() < 5 {
            got.push(lines.next().await.expect("a line").expect("decoded"));
        }
        // max-file 1: the same file, truncated, then written again.
        File::create(&base).expect("truncated");
        append(&base, 5..7);
        while got.len() < 7 {
            got.push(lines.next().await.expect("a line").expect("decoded"));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(lines.next().await.is_none(), "ends once stopped");
        assert_eq!(texts(&got), numbered(0..7));
    }

    #[test]
    fn decodes_the_drivers_records() {
        let line = decode(
            br#"{"log":"caf\u00e9 \"q\"\n","stream":"stderr","time":"2026-11-30T19:52:54.406246504Z"}"#,
        )
        .expect("decoded");
        assert_eq!(line.text, "café \"q\"\n");
        assert!(decode(b"{\"log\":1}").is_err());
    }
}
