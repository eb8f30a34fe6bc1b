//! An in-memory [`LogSink`] for tests: groups of streams of events, each stream with the token
//! of its last batch, as the server stores it; calls can be made to fail.

use super::sink::{LogSink, SinkError, SinkFuture};
use berth_types::logs::InputLogEvent;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct Stream {
    events: Vec<InputLogEvent>,
    token: Option<String>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, BTreeMap<String, Stream>>,
    /// Errors the next PutLogEvents calls answer with, in order; `true` with an error
    /// stores the batch first (the answer was lost, not the batch).
    put_failures: VecDeque<(SinkError, bool)>,
    puts: usize,
    batch_sizes: Vec<usize>,
}

/// The sink; clones share it.
#[derive(Clone, Default)]
pub struct MemorySink {
    state: Arc<Mutex<State>>,
}

impl MemorySink {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A sink with `group` in it.
    pub fn with_group(group: &str) -> Self {
        let sink = Self::default();
        sink.state().groups.insert(group.into(), BTreeMap::new());
        sink
    }

    /// Whether `group` exists.
    pub fn has_group(&self, group: &str) -> bool {
        self.state().groups.contains_key(group)
    }

    /// The messages of a stream, in order.
    pub fn messages(&self, group: &str, stream: &str) -> Vec<String> {
        self.events(group, stream)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    /// The events of a stream, in order.
    pub fn events(&self, group: &str, stream: &str) -> Vec<InputLogEvent> {
        self.state()
            .groups
            .get(group)
            .and_then(|g| g.get(stream))
            .map(|s| s.events.clone())
            .unwrap_or_default()
    }

    /// The next PutLogEvents fails with `error`.
    pub fn fail_next_put(&self, error: SinkError) {
        self.state().put_failures.push_back((error, false));
    }

    /// The next PutLogEvents is stored, but its answer is lost (the caller sees a retryable
    /// error).
    pub fn lose_next_answer(&self) {
        let lost = SinkError::Retryable("connection reset".into());
        self.state().put_failures.push_back((lost, true));
    }

    /// How many events each stored PutLogEvents carried.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.state().batch_sizes.clone()
    }

    /// PutLogEvents calls answered so far (failed or not).
    pub fn puts(&self) -> usize {
        self.state().puts
    }
}

fn missing_group() -> SinkError {
    SinkError::NotFound("The specified log group does not exist.".into())
}

impl LogSink for MemorySink {
    fn create_group<'a>(&'a self, group: &'a str) -> SinkFuture<'a, ()> {
        Box::pin(async move {
            let mut s = self.state();
            if s.groups.contains_key(group) {
                return Err(SinkError::AlreadyExists(
                    "The specified log group already exists".into(),
                ));
            }
            s.groups.insert(group.into(), BTreeMap::new());
            Ok(())
        })
    }

    fn create_stream<'a>(&'a self, group: &'a str, stream: &'a str) -> SinkFuture<'a, ()> {
        Box::pin(async move {
            let mut s = self.state();
            let g = s.groups.get_mut(group).ok_or_else(missing_group)?;
            if g.contains_key(stream) {
                return Err(SinkError::AlreadyExists(
                    "The specified log stream already exists".into(),
                ));
            }
            g.insert(stream.into(), Stream::default());
            Ok(())
        })
    }

    fn put<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        events: &'a [InputLogEvent],
        token: Option<&'a str>,
    ) -> SinkFuture<'a, ()> {
        Box::pin(async move {
            let mut s = self.state();
            s.puts += 1;
            let failure = s.put_failures.pop_front();
            if let Some((error, false)) = failure {
                return Err(error);
            }
            let g = s.groups.get_mut(group).ok_or_else(missing_group)?;
            let st = g.get_mut(stream).ok_or_else(|| {
                SinkError::NotFound("The specified log stream does not exist.".into())
            })?;
            st.events.extend_from_slice(events);
            if let Some(t) = token {
                st.token = Some(t.to_string());
            }
            s.batch_sizes.push(events.len());
            match failure {
                Some((error, _)) => Err(error),
                None => Ok(()),
            }
        })
    }

    fn stream_token<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
    ) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let s = self.state();
            let g = s.groups.get(group).ok_or_else(missing_group)?;
            Ok(g.get(stream).and_then(|st| st.token.clone()))
        })
    }
}
