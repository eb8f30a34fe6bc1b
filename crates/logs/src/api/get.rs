//! GetLogEvents, paged forward and backward as CloudWatch pages them.
//!
//! Positions are event sequence numbers. A forward token points at the first event to give,
//! a backward token just past the last. At the end of the data the token sent comes back, as
//! clients (the AWS CLI's paginator among them) expect in order to stop.

use super::LogsApi;
use super::limits::{page_limit, refuse_unmask};
use super::tokens::{Direction, get_token, read_get_token};
use crate::names::{check_stream_name, resolve_group};
use crate::{Logs, LogsError};
use berth_types::logs::*;

/// The most bytes of messages (plus 26 an event) a page holds.
const PAGE_BYTES: usize = 1_048_576;

impl LogsApi<'_> {
    /// GetLogEvents, paged forward and backward as CloudWatch pages them.
    pub fn get_log_events(
        &self,
        input: GetLogEventsRequest,
    ) -> Result<GetLogEventsResponse, LogsError> {
        let group = resolve_group(
            &self.context.partition,
            input.log_group_name.as_deref(),
            input.log_group_identifier.as_deref(),
        )?;
        check_stream_name(&input.log_stream_name, "logStreamName")?;
        refuse_unmask(input.unmask)?;
        let limit = page_limit(input.limit, 10_000, 10_000)?;
        let meta = self.logs.group(&group)?;
        let cutoff = Logs::retention_cutoff(&meta, self.logs.now());
        // startTime is inclusive, endTime exclusive; retention hides what it no longer keeps.
        let lo = input.start_time.unwrap_or(i64::MIN).max(cutoff);
        let hi = input.end_time.map_or(i64::MAX, |t| t.saturating_sub(1));
        let sent = input.next_token.as_deref();
        self.logs
            .with_stream(&group, &input.log_stream_name, |stream| {
                let fp = stream.fingerprint;
                let (direction, position) = match sent {
                    Some(t) => read_get_token(t, fp, stream.next_seq())?,
                    None if input.start_from_head == Some(true) => {
                        (Direction::Forward, stream.first_seq())
                    }
                    None => (Direction::Backward, stream.next_seq()),
                };
                let read = match direction {
                    Direction::Forward => {
                        stream.read_forward(position, (lo, hi), limit, PAGE_BYTES)
                    }
                    Direction::Backward => {
                        stream.read_backward(position, (lo, hi), limit, PAGE_BYTES)
                    }
                };
                let events = read.map_err(|e| {
                    LogsError::storage(format!("cannot read {}", input.log_stream_name), e)
                })?;
                let (forward, backward) = match (events.first(), events.last()) {
                    (Some(first), Some(last)) => (
                        get_token(Direction::Forward, fp, last.seq + 1),
                        get_token(Direction::Backward, fp, first.seq),
                    ),
                    // Nothing more this way: the token sent comes back.
                    _ => {
                        let f = get_token(Direction::Forward, fp, position);
                        let b = get_token(Direction::Backward, fp, position);
                        match (direction, sent) {
                            (Direction::Forward, Some(t)) => (t.to_string(), b),
                            (Direction::Backward, Some(t)) => (f, t.to_string()),
                            _ => (f, b),
                        }
                    }
                };
                Ok(GetLogEventsResponse {
                    events: Some(
                        events
                            .into_iter()
                            .map(|e| OutputLogEvent {
                                timestamp: Some(e.timestamp),
                                message: Some(e.message),
                                ingestion_time: Some(e.ingestion),
                            })
                            .collect(),
                    ),
                    next_forward_token: Some(forward),
                    next_backward_token: Some(backward),
                })
            })
    }
}
