//! The batches between the reader of a container's output and the uploader. In `blocking`
//! mode the reader waits while two batches are queued (so it stops reading and the engine's
//! json-file holds the rest); in `non-blocking` mode it never waits, and the oldest batches
//! beyond `max-buffer-size` are dropped and counted. The lock is taken once a batch, never a
//! line.

use super::batch::Batch;
use super::options::Mode;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Batches queued before a blocking reader waits.
const BLOCKING_DEPTH: usize = 2;
/// How often drops are logged at most.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Queue {
    batches: VecDeque<Batch>,
    bytes: usize,
    closed: bool,
    dropped: u64,
    dropped_logged: Option<Instant>,
}

/// The queue of one container's batches.
pub struct Outbox {
    queue: Mutex<Queue>,
    /// A batch was queued, or the outbox closed.
    filled: Notify,
    /// A batch was taken.
    emptied: Notify,
    mode: Mode,
    max_bytes: usize,
    /// What the drops are counted for, in the log.
    stream: String,
}

impl Outbox {
    /// An empty outbox for `stream`.
    pub fn new(mode: Mode, max_bytes: usize, stream: &str) -> Self {
        Self {
            queue: Mutex::default(),
            filled: Notify::new(),
            emptied: Notify::new(),
            mode,
            max_bytes,
            stream: stream.to_string(),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `batch`: waits for room in blocking mode, drops the oldest in non-blocking mode.
    pub async fn push(&self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        if self.mode == Mode::Blocking {
            loop {
                // Registered before looking, so a batch taken in between still wakes us.
                let emptied = self.emptied.notified();
                if self.queue().batches.len() < BLOCKING_DEPTH {
                    break;
                }
                emptied.await;
            }
        }
        {
            let mut q = self.queue();
            q.bytes += batch.bytes;
            q.batches.push_back(batch);
            if self.mode == Mode::NonBlocking {
                self.drop_oldest(&mut q);
            }
        }
        self.filled.notify_one();
    }

    fn drop_oldest(&self, q: &mut Queue) {
        let mut dropped = 0;
        while q.bytes > self.max_bytes {
            let Some(old) = q.batches.pop_front() else {
                break;
            };
            q.bytes -= old.bytes;
            dropped += old.events.len() as u64;
        }
        if dropped == 0 {
            return;
        }
        q.dropped += dropped;
        let now = Instant::now();
        if q.dropped_logged
            .is_none_or(|at| now.duration_since(at) >= DROP_LOG_EVERY)
        {
            q.dropped_logged = Some(now);
            tracing::warn!(
                stream = %self.stream,
                dropped = q.dropped,
                "the log server is not keeping up: non-blocking mode dropped the oldest events"
            );
        }
    }

    /// No more batches will come.
    pub fn close(&self) {
        self.queue().closed = true;
        self.filled.notify_one();
    }

    /// The oldest batch, waiting for one; `None` once closed and empty.
    pub async fn pop(&self) -> Option<Batch> {
        loop {
            let filled = self.filled.notified();
            {
                let mut q = self.queue();
                if let Some(batch) = q.batches.pop_front() {
                    q.bytes -= batch.bytes;
                    drop(q);
                    self.emptied.notify_one();
                    return Some(batch);
                }
                if q.closed {
                    return None;
                }
            }
            filled.await;
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.queue().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::cursor::Cursor;
    use crate::logs::events::Event;

    fn batch(events: usize, size: usize) -> Batch {
        let mut b = Batch::default();
        for i in 0..events {
            let event = Event {
                ns: i as i64,
                message: "x".repeat(size),
                cursor: Some(Cursor::default()),
            };
            b.push(event, Instant::now());
        }
        b
    }

    #[tokio::test]
    async fn non_blocking_drops_the_oldest_beyond_the_buffer_and_counts() {
        // Room for two batches of 10 events of 74 + 26 bytes.
        let outbox = Outbox::new(Mode::NonBlocking, 2_000, "s");
        for _ in 0..5 {
            outbox.push(batch(10, 74)).await;
        }
        assert_eq!(outbox.dropped(), 30);
        outbox.close();
        let mut left = 0;
        while let Some(b) = outbox.pop().await {
            left += b.events.len();
        }
        assert_eq!(left, 20);
    }

    #[tokio::test]
    async fn blocking_waits_for_room_and_never_drops() {
        let outbox = std::sync::Arc::new(Outbox::new(Mode::Blocking, 0, "s"));
        outbox.push(batch(1, 1)).await;
        outbox.push(batch(1, 1)).await;
        let third = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.push(batch(1, 1)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !third.is_finished(),
            "the reader waits while two batches are queued"
        );
        assert!(outbox.pop().await.is_some());
        third
            .await
            .expect("the third batch goes in once one is taken");
        assert_eq!(outbox.dropped(), 0);
    }
}
