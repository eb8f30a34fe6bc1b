//! [`LogSink`] over Berth's CloudWatch Logs API (awsJson1.1, `Logs_20140328.*`), signed with
//! the agent's own key as service `logs` in the agent's region: the server is one region,
//! whatever a task definition's `awslogs-region` says.

use super::sink::{LogSink, SinkError, SinkFuture};
use crate::client::{ClientError, EcsClient};
use berth_types::logs::{
    CreateLogGroupRequest, CreateLogStreamRequest, DescribeLogStreamsRequest,
    DescribeLogStreamsResponse, InputLogEvent, PutLogEventsResponse, TARGET_PREFIX,
};
use serde::{Deserialize, Serialize};

/// PutLogEvents' input, borrowing the batch so a retry sends the same events without a copy.
#[derive(Serialize)]
struct PutLogEvents<'a> {
    #[serde(rename = "logGroupName")]
    group: &'a str,
    #[serde(rename = "logStreamName")]
    stream: &'a str,
    #[serde(rename = "logEvents")]
    events: &'a [InputLogEvent],
    #[serde(rename = "sequenceToken", skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

/// An answer whose content the agent does not need.
#[derive(Deserialize)]
struct Ignored {}

fn sink_error(e: ClientError) -> SinkError {
    if e.is_retryable() {
        return SinkError::Retryable(e.to_string());
    }
    match e {
        ClientError::Api { code, message, .. } if code == "ResourceNotFoundException" => {
            SinkError::NotFound(message)
        }
        ClientError::Api { code, message, .. } if code == "ResourceAlreadyExistsException" => {
            SinkError::AlreadyExists(message)
        }
        other => SinkError::Refused(other.to_string()),
    }
}

impl LogSink for EcsClient {
    fn create_group<'a>(&'a self, group: &'a str) -> SinkFuture<'a, ()> {
        Box::pin(async move {
            let input = CreateLogGroupRequest {
                log_group_name: group.to_string(),
                ..CreateLogGroupRequest::default()
            };
            self.call_target::<_, Ignored>(TARGET_PREFIX, "CreateLogGroup", &input)
                .await
                .map(|_| ())
                .map_err(sink_error)
        })
    }

    fn create_stream<'a>(&'a self, group: &'a str, stream: &'a str) -> SinkFuture<'a, ()> {
        Box::pin(async move {
            let input = CreateLogStreamRequest {
                log_group_name: group.to_string(),
                log_stream_name: stream.to_string(),
            };
            self.call_target::<_, Ignored>(TARGET_PREFIX, "CreateLogStream", &input)
                .await
                .map(|_| ())
                .map_err(sink_error)
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
            let input = PutLogEvents {
                group,
                stream,
                events,
                token,
            };
            let answer: PutLogEventsResponse = self
                .call_target(TARGET_PREFIX, "PutLogEvents", &input)
                .await
                .map_err(sink_error)?;
            // Stored, but the server left some out (too old, too new): nothing a retry mends.
            if let Some(rejected) = answer.rejected_log_events_info {
                tracing::warn!(%stream, ?rejected, "the server rejected some events");
            }
            Ok(())
        })
    }

    fn stream_token<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
    ) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            // Ordered by name (the default), the exact name comes first of those it prefixes.
            let input = DescribeLogStreamsRequest {
                log_group_name: Some(group.to_string()),
                log_stream_name_prefix: Some(stream.to_string()),
                ..DescribeLogStreamsRequest::default()
            };
            let found: DescribeLogStreamsResponse = self
                .call_target(TARGET_PREFIX, "DescribeLogStreams", &input)
                .await
                .map_err(sink_error)?;
            Ok(found
                .log_streams
                .unwrap_or_default()
                .into_iter()
                .find(|s| s.log_stream_name.as_deref() == Some(stream))
                .and_then(|s| s.upload_sequence_token))
        })
    }
}
