//! The container's output, as the engine returns it, made into CloudWatch events: pieces of a
//! line the engine split (it does so at 16 KiB) joined again, the trailing newline cut, empty
//! lines dropped (as Docker's awslogs does), messages over CloudWatch's limit split, and with a
//! multiline pattern, lines joined into the event they continue. Each event carries the
//! [`Cursor`] after its last line, when shipping it means every line before it was shipped.

use super::cursor::{Cursor, Resume};
use crate::runtime::LogLine;
use regex::Regex;
use std::time::{Duration, Instant};

/// CloudWatch's largest event: 256 KiB including 26 bytes of overhead.
pub const MAX_EVENT_BYTES: usize = 262_144 - 26;

/// One event to ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The engine's timestamp of its first line, in ns.
    pub ns: i64,
    /// The message.
    pub message: String,
    /// Where shipping stands once this event is shipped; `None` for the first pieces of a
    /// line too long for one event (resuming after one of them repeats the line).
    pub cursor: Option<Cursor>,
}

/// A multiline event still taking lines.
struct Pending {
    ns: i64,
    message: String,
    cursor: Cursor,
    touched: Instant,
}

/// Turns lines into events, in order.
pub struct Assembler {
    resume: Resume,
    cursor: Cursor,
    /// A line the engine split, until its end arrives: its first timestamp and text.
    partial: Option<(i64, String)>,
    event_start: Option<Regex>,
    pending: Option<Pending>,
    force_flush: Duration,
}

impl Assembler {
    /// An assembler resuming after `shipped`: what the cursor covers is skipped. With
    /// `event_start`, lines that do not match it join the event before them, which waits at
    /// most `force_flush` for more.
    pub fn new(shipped: Cursor, event_start: Option<Regex>, force_flush: Duration) -> Self {
        Self {
            resume: Resume::after(shipped),
            cursor: shipped,
            partial: None,
            event_start,
            pending: None,
            force_flush,
        }
    }

    /// Where reading stands: the cursor after the last line taken.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Reading starts again at `at` (the engine's stream broke): lines up to it are skipped.
    pub fn reread_after(&mut self, at: Cursor) {
        self.resume = Resume::after(at);
    }

    /// Takes the next line of the engine's output.
    pub fn push(&mut self, line: LogLine, now: Instant, out: &mut Vec<Event>) {
        if self.resume.skip(line.ns) {
            return;
        }
        self.cursor.advance(line.ns);
        let mut text = line.text;
        let complete = text.ends_with('\n');
        if complete {
            text.pop();
        }
        let (ns, text) = match self.partial.take() {
            Some((first_ns, mut joined)) => {
                joined.push_str(&text);
                (first_ns, joined)
            }
            None => (line.ns, text),
        };
        if complete {
            self.line(ns, text, now, out);
        } else if text.len() > MAX_EVENT_BYTES {
            // A line that never ends must not grow without bound: ship what fits.
            let rest = split_off_pieces(ns, text, out);
            self.partial = Some((ns, rest));
        } else {
            self.partial = Some((ns, text));
        }
    }

    /// When a waiting multiline event must go even if no line comes.
    pub fn due(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.touched + self.force_flush)
    }

    /// Ships the waiting multiline event if it is due at `now`.
    pub fn flush_due(&mut self, now: Instant, out: &mut Vec<Event>) {
        if self.due().is_some_and(|due| due <= now) {
            self.flush_pending(out);
        }
    }

    /// The output ended: whatever waits goes.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if let Some((ns, text)) = self.partial.take() {
            self.line(ns, text, Instant::now(), out);
        }
        self.flush_pending(out);
    }

    fn flush_pending(&mut self, out: &mut Vec<Event>) {
        if let Some(p) = self.pending.take() {
            emit(p.ns, p.message, p.cursor, out);
        }
    }

    /// A whole line, its newline cut, stamped with its first piece's timestamp.
    fn line(&mut self, ns: i64, text: String, now: Instant, out: &mut Vec<Event>) {
        let Some(start) = &self.event_start else {
            emit(ns, text, self.cursor, out);
            return;
        };
        let starts = start.is_match(&text);
        let too_big = self
            .pending
            .as_ref()
            .is_some_and(|p| p.message.len() + 1 + text.len() > MAX_EVENT_BYTES);
        if starts || too_big {
            self.flush_pending(out);
        }
        match &mut self.pending {
            Some(p) => {
                p.message.push('\n');
                p.message.push_str(&text);
                p.cursor = self.cursor;
                p.touched = now;
            }
            None => {
                self.pending = Some(Pending {
                    ns,
                    message: text,
                    cursor: self.cursor,
                    touched: now,
                });
            }
        }
    }
}

/// Emits `message` as events of at most [`MAX_EVENT_BYTES`]; only the last carries `cursor`.
/// An empty message is no event (CloudWatch refuses those).
fn emit(ns: i64, message: String, cursor: Cursor, out: &mut Vec<Event>) {
    if message.is_empty() {
        return;
    }
    let last = if message.len() > MAX_EVENT_BYTES {
        split_off_pieces(ns, message, out)
    } else {
        message
    };
    if !last.is_empty() {
        out.push(Event {
            ns,
            message: last,
            cursor: Some(cursor),
        });
    }
}

/// Emits whole pieces of `text` (cut on character boundaries) until what is left fits one
/// event; returns what is left.
fn split_off_pieces(ns: i64, mut text: String, out: &mut Vec<Event>) -> String {
    while text.len() > MAX_EVENT_BYTES {
        let mut cut = MAX_EVENT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let rest = text.split_off(cut);
        out.push(Event {
            ns,
            message: std::mem::replace(&mut text, rest),
            cursor: None,
        });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ns: i64, text: &str) -> LogLine {
        LogLine {
            ns,
            text: text.to_string(),
        }
    }

    fn run(assembler: &mut Assembler, lines: &[LogLine]) -> Vec<Event> {
        let mut out = vec![];
        for l in lines {
            assembler.push(l.clone(), Instant::now(), &mut out);
        }
        assembler.finish(&mut out);
        out
    }

    fn messages(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn newlines_cut_partials_joined_empty_lines_dropped() {
        let mut a = Assembler::new(Cursor::default(), None, Duration::from_secs(5));
        let events = run(
            &mut a,
            &[
                line(1, "one\n"),
                line(2, "tw"),
                line(3, "o\n"),
                line(4, "\n"),
                line(5, "three\r\n"),
            ],
        );
        assert_eq!(messages(&events), ["one", "two", "three\r"]);
        assert_eq!(events[1].ns, 2, "a joined line keeps its first timestamp");
        assert_eq!(events[1].cursor, Some(Cursor { ns: 3, at_ns: 1 }));
        assert_eq!(events[2].cursor, Some(Cursor { ns: 5, at_ns: 1 }));
    }

    #[test]
    fn long_messages_are_split() {
        let mut a = Assembler::new(Cursor::default(), None, Duration::from_secs(5));
        let long = "é".repeat(MAX_EVENT_BYTES); // two bytes each
        let events = run(&mut a, &[line(1, &format!("{long}\n"))]);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.message.len() <= MAX_EVENT_BYTES));
        assert_eq!(
            events.iter().map(|e| e.message.len()).sum::<usize>(),
            long.len()
        );
        assert_eq!((events[0].cursor, events[1].cursor.is_some()), (None, true));
    }

    #[test]
    fn multiline_joins_continuations_into_the_first_lines_event() {
        let start = Regex::new("^INFO|^ERROR").expect("regex");
        let mut a = Assembler::new(Cursor::default(), Some(start), Duration::from_secs(5));
        let events = run(
            &mut a,
            &[
                line(1, "INFO up\n"),
                line(2, "ERROR boom\n"),
                line(3, "  at main\n"),
                line(4, "  at start\n"),
                line(5, "INFO down\n"),
            ],
        );
        assert_eq!(
            messages(&events),
            ["INFO up", "ERROR boom\n  at main\n  at start", "INFO down"]
        );
        assert_eq!(events[1].ns, 2);
        assert_eq!(events[1].cursor, Some(Cursor { ns: 4, at_ns: 1 }));
    }

    #[test]
    fn a_waiting_multiline_event_goes_after_the_force_flush_interval() {
        let start = Regex::new("^INFO").expect("regex");
        let flush = Duration::from_millis(50);
        let mut a = Assembler::new(Cursor::default(), Some(start), flush);
        let mut out = vec![];
        let t0 = Instant::now();
        a.push(line(1, "INFO a\n"), t0, &mut out);
        a.push(line(2, " more\n"), t0, &mut out);
        a.flush_due(t0, &mut out);
        assert!(out.is_empty());
        assert_eq!(a.due(), Some(t0 + flush));
        a.flush_due(t0 + flush, &mut out);
        assert_eq!(messages(&out), ["INFO a\n more"]);
        assert_eq!(a.due(), None);
    }

    #[test]
    fn resuming_skips_what_the_cursor_covers() {
        let lines = [
            line(1, "a\n"),
            line(2, "b\n"),
            line(2, "c\n"),
            line(3, "d\n"),
        ];
        let mut a = Assembler::new(Cursor { ns: 2, at_ns: 1 }, None, Duration::from_secs(5));
        assert_eq!(messages(&run(&mut a, &lines)), ["c", "d"]);
    }
}
