//! One PutLogEvents' worth of events, within CloudWatch's limits: at most 10,000 events and
//! 1,048,576 bytes (each message's bytes plus 26), spanning at most 24 hours.

use super::cursor::Cursor;
use super::events::Event;
use berth_types::logs::InputLogEvent;
use std::time::Instant;

/// Most events in one PutLogEvents.
pub const MAX_EVENTS: usize = 10_000;
/// Most bytes in one PutLogEvents, counted as CloudWatch counts them.
pub const MAX_BYTES: usize = 1_048_576;
/// What CloudWatch adds to each message's bytes.
pub const EVENT_OVERHEAD: usize = 26;
/// Widest span of timestamps in one PutLogEvents.
const MAX_SPAN_MS: i64 = 24 * 3600 * 1000;

/// Events on their way, in the order read.
#[derive(Debug)]
pub struct Batch {
    /// The events.
    pub events: Vec<InputLogEvent>,
    /// Their size as CloudWatch counts it.
    pub bytes: usize,
    /// The cursor after the last event that has one: the batch's `sequenceToken`.
    pub cursor: Option<Cursor>,
    /// When the first event came, to ship a batch that fills slowly soon anyway.
    pub opened: Option<Instant>,
    /// Smallest and largest timestamps (ms).
    span: (i64, i64),
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            events: Vec::new(),
            bytes: 0,
            cursor: None,
            opened: None,
            span: (i64::MAX, i64::MIN),
        }
    }
}

impl Batch {
    /// Whether `event` still fits.
    pub fn fits(&self, event: &Event) -> bool {
        let ms = event.ns.div_euclid(1_000_000);
        self.events.len() < MAX_EVENTS
            && self.bytes + event.message.len() + EVENT_OVERHEAD <= MAX_BYTES
            && (self.events.is_empty()
                || (ms.max(self.span.1) - ms.min(self.span.0)) <= MAX_SPAN_MS)
    }

    /// Adds `event` (which [`Batch::fits`]); the first one opens the batch at `now`.
    pub fn push(&mut self, event: Event, now: Instant) {
        let ms = event.ns.div_euclid(1_000_000);
        self.span = (self.span.0.min(ms), self.span.1.max(ms));
        self.bytes += event.message.len() + EVENT_OVERHEAD;
        if event.cursor.is_some() {
            self.cursor = event.cursor;
        }
        self.opened.get_or_insert(now);
        self.events.push(InputLogEvent {
            timestamp: ms.max(0),
            message: event.message,
        });
    }

    /// Whether nothing is in it.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether no other event can fit.
    pub fn is_full(&self) -> bool {
        self.events.len() >= MAX_EVENTS || self.bytes + EVENT_OVERHEAD + 1 > MAX_BYTES
    }

    /// The events in timestamp order, as CloudWatch wants them (stdout and stderr are
    /// stamped apart and may cross); the sort is stable, so equal stamps keep their order.
    pub fn sorted(mut self) -> Self {
        if !self.events.is_sorted_by_key(|e| e.timestamp) {
            self.events.sort_by_key(|e| e.timestamp);
        }
        self
    }

    /// The `sequenceToken` it carries.
    pub fn token(&self) -> Option<String> {
        self.cursor.map(|c| c.token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ns: i64, len: usize) -> Event {
        Event {
            ns,
            message: "x".repeat(len),
            cursor: Some(Cursor { ns, at_ns: 1 }),
        }
    }

    #[test]
    fn at_most_ten_thousand_events() {
        let mut b = Batch::default();
        let now = Instant::now();
        for i in 0..MAX_EVENTS as i64 {
            assert!(b.fits(&event(i, 1)));
            b.push(event(i, 1), now);
        }
        assert!(b.is_full());
        assert!(!b.fits(&event(0, 1)));
        assert_eq!(b.token().as_deref(), Some("9999:1"));
    }

    #[test]
    fn at_most_a_mebibyte_counting_26_bytes_an_event() {
        let mut b = Batch::default();
        let now = Instant::now();
        // Four events of exactly a quarter each, overhead included.
        let quarter = MAX_BYTES / 4 - EVENT_OVERHEAD;
        for i in 0..4 {
            assert!(b.fits(&event(i, quarter)));
            b.push(event(i, quarter), now);
        }
        assert_eq!(b.bytes, MAX_BYTES);
        assert!(b.is_full() && !b.fits(&event(5, 1)));
    }

    #[test]
    fn at_most_a_day_and_sorted_when_sent() {
        let mut b = Batch::default();
        let now = Instant::now();
        let ms = 1_000_000;
        b.push(event(5 * ms, 1), now);
        b.push(event(3 * ms, 1), now);
        assert!(!b.fits(&event((5 + MAX_SPAN_MS) * ms, 1)));
        assert!(b.fits(&event((3 + MAX_SPAN_MS) * ms, 1)));
        let sorted = b.sorted();
        let stamps: Vec<_> = sorted.events.iter().map(|e| e.timestamp).collect();
        assert_eq!(stamps, [3, 5]);
        assert_eq!(
            sorted.token().as_deref(),
            Some("3000000:1"),
            "the last read, not the latest"
        );
    }
}
