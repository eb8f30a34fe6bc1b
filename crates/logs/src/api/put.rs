//! PutLogEvents: validated as CloudWatch does, durable before it answers.

use super::LogsApi;
use super::limits::unsupported;
use crate::names::{check_group_name, check_stream_name, violation};
use crate::{Logs, LogsError};
use berth_types::logs::*;

/// The most events a batch may carry.
const MAX_EVENTS: usize = 10_000;
/// The most bytes a batch may carry, counting 26 bytes an event besides its message.
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
/// The longest upload sequence token kept (Berth's agent stores a small cursor there).
const MAX_TOKEN_BYTES: usize = 256;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

impl LogsApi<'_> {
    /// PutLogEvents: validated as CloudWatch does, durable before it answers.
    pub fn put_log_events(
        &self,
        input: PutLogEventsRequest,
    ) -> Result<PutLogEventsResponse, LogsError> {
        check_group_name(&input.log_group_name, "logGroupName")?;
        check_stream_name(&input.log_stream_name, "logStreamName")?;
        if input.entity.is_some() {
            return Err(unsupported(
                "entity",
                "log events are not associated with entities",
            ));
        }
        let token = input.sequence_token.as_deref();
        if let Some(t) = token
            && (t.is_empty() || t.len() > MAX_TOKEN_BYTES)
        {
            return Err(violation(
                t,
                "sequenceToken",
                &format!("Member must have length between 1 and {MAX_TOKEN_BYTES} bytes"),
            ));
        }
        let events = &input.log_events;
        check_batch(events)?;
        let group = self.logs.group(&input.log_group_name)?;
        let now = self.logs.now();
        // The batch is in timestamp order, so each kind of rejection is a run at one end.
        let too_new = events.partition_point(|e| e.timestamp <= now + 2 * HOUR);
        let too_old = events.partition_point(|e| e.timestamp < now - 14 * DAY);
        let cutoff = Logs::retention_cutoff(&group, now);
        let expired = events.partition_point(|e| e.timestamp < cutoff);
        let start = too_old.max(expired).min(too_new);
        let accepted = &events[start..too_new];
        if let (Some(first), Some(last)) = (accepted.first(), accepted.last())
            && last.timestamp - first.timestamp > DAY
        {
            return Err(LogsError::InvalidParameter(
                "The batch of log events in a single PutLogEvents request cannot span \
                 more than 24 hours."
                    .into(),
            ));
        }
        let pairs: Vec<(i64, &str)> = accepted
            .iter()
            .map(|e| (e.timestamp, e.message.as_str()))
            .collect();
        let stored =
            self.logs
                .with_stream(&input.log_group_name, &input.log_stream_name, |stream| {
                    // A batch with every event rejected still moves the agent's cursor on.
                    if !pairs.is_empty() || token.is_some() {
                        stream.append(&pairs, now, token).map_err(|e| {
                            LogsError::storage(
                                format!("cannot store log events of {}", input.log_stream_name),
                                e,
                            )
                        })?;
                    }
                    Ok(stream.token().map(str::to_string))
                })?;
        let rejected =
            (too_new < events.len() || too_old > 0 || expired > 0).then(|| RejectedLogEventsInfo {
                too_new_log_event_start_index: (too_new < events.len()).then_some(too_new as i32),
                too_old_log_event_end_index: (too_old > 0).then_some(too_old as i32),
                expired_log_event_end_index: (expired > 0).then_some(expired as i32),
            });
        Ok(PutLogEventsResponse {
            next_sequence_token: token.map(str::to_string).or(stored),
            rejected_log_events_info: rejected,
            rejected_entity_info: None,
        })
    }
}

/// Checks what makes CloudWatch refuse a whole batch: its count, size, empty messages and
/// order.
fn check_batch(events: &[InputLogEvent]) -> Result<(), LogsError> {
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(violation(
            &format!("{} events", events.len()),
            "logEvents",
            &format!("Member must have length between 1 and {MAX_EVENTS}"),
        ));
    }
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        if e.message.is_empty() {
            return Err(violation(
                "",
                &format!("logEvents.{}.member.message", i + 1),
                "Member must have length greater than or equal to 1",
            ));
        }
        bytes += e.message.len() + EVENT_OVERHEAD;
    }
    if bytes > MAX_BATCH_BYTES {
        return Err(LogsError::InvalidParameter(format!(
            "Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(LogsError::InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        ));
    }
    Ok(())
}
