//! Where the shipped events go: the four CloudWatch Logs calls the agent makes, as a trait, so
//! the shipper and the runner are tested with an in-memory sink (`memory.rs`) and run against
//! the server with [`crate::client::EcsClient`] (`cloudwatch.rs`).
//!
//! The methods return boxed futures so that the runner can hold any sink as `Arc<dyn LogSink>`;
//! there is one call a batch, so the box costs nothing that matters.

use berth_types::logs::InputLogEvent;
use std::future::Future;
use std::pin::Pin;

/// What a sink call returns.
pub type SinkFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SinkError>> + Send + 'a>>;

/// A failed call, as the shipper needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// `ResourceNotFoundException`: the group (or the stream) does not exist.
    #[error("ResourceNotFoundException: {0}")]
    NotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("ResourceAlreadyExistsException: {0}")]
    AlreadyExists(String),
    /// Worth trying again: the server is unreachable, busy or restarting.
    #[error("{0}")]
    Retryable(String),
    /// Refused for good (`<code>: <message>`).
    #[error("{0}")]
    Refused(String),
}

/// CloudWatch Logs, as far as the agent uses it.
pub trait LogSink: Send + Sync + 'static {
    /// CreateLogGroup.
    fn create_group<'a>(&'a self, group: &'a str) -> SinkFuture<'a, ()>;

    /// CreateLogStream.
    fn create_stream<'a>(&'a self, group: &'a str, stream: &'a str) -> SinkFuture<'a, ()>;

    /// PutLogEvents with `events` (in timestamp order) and the `sequenceToken` to store with
    /// them.
    fn put<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        events: &'a [InputLogEvent],
        token: Option<&'a str>,
    ) -> SinkFuture<'a, ()>;

    /// The stream's `uploadSequenceToken` (DescribeLogStreams); `None` when it has none, or
    /// when the stream does not exist.
    fn stream_token<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
    ) -> SinkFuture<'a, Option<String>>;
}

/// What ECS says when the group is missing and the task may not create it.
pub const MISSING_GROUP: &str = "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.";

/// Creates the stream as Docker's awslogs driver does before a container starts: an existing
/// stream is fine; a missing group is created when `create_group` allows it (one created
/// meanwhile is fine too), otherwise the container may not start. `Err` is the reason the task
/// stops with; a retryable failure is returned as [`SinkError::Retryable`] for the caller to
/// retry.
pub async fn create_stream(
    sink: &dyn LogSink,
    group: &str,
    stream: &str,
    create_group: bool,
) -> Result<(), SinkError> {
    match sink.create_stream(group, stream).await {
        Ok(()) | Err(SinkError::AlreadyExists(_)) => return Ok(()),
        Err(SinkError::NotFound(_)) if create_group => {}
        Err(SinkError::NotFound(_)) => return Err(SinkError::Refused(MISSING_GROUP.into())),
        Err(e) => return Err(e),
    }
    match sink.create_group(group).await {
        Ok(()) | Err(SinkError::AlreadyExists(_)) => {}
        Err(e) => return Err(e),
    }
    match sink.create_stream(group, stream).await {
        Ok(()) | Err(SinkError::AlreadyExists(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The reason a container does not start when its stream cannot be created.
pub fn start_failure(error: &SinkError) -> String {
    match error {
        SinkError::Refused(reason) if reason == MISSING_GROUP => reason.clone(),
        other => format!(
            "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: {other}"
        ),
    }
}
