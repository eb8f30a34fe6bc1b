//! The CloudWatch Logs operations Berth answers, over the generated wire shapes.

use crate::{Context, Logs, LogsError};
use berth_types::logs::*;

/// The logs service as one caller sees it, in one region and account.
pub struct LogsApi<'a> {
    #[allow(dead_code)]
    logs: &'a Logs,
    #[allow(dead_code)]
    context: &'a Context,
}

fn unsupported<T>(what: &str) -> Result<T, LogsError> {
    Err(LogsError::Unsupported(format!(
        "{what} is not supported yet"
    )))
}

impl<'a> LogsApi<'a> {
    pub(crate) fn new(logs: &'a Logs, context: &'a Context) -> Self {
        Self { logs, context }
    }

    /// CreateLogGroup.
    pub fn create_log_group(&self, _input: CreateLogGroupRequest) -> Result<(), LogsError> {
        unsupported("CreateLogGroup")
    }

    /// DeleteLogGroup: the group, its streams and their events.
    pub fn delete_log_group(&self, _input: DeleteLogGroupRequest) -> Result<(), LogsError> {
        unsupported("DeleteLogGroup")
    }

    /// DescribeLogGroups, in name order, paged.
    pub fn describe_log_groups(
        &self,
        _input: DescribeLogGroupsRequest,
    ) -> Result<DescribeLogGroupsResponse, LogsError> {
        unsupported("DescribeLogGroups")
    }

    /// CreateLogStream.
    pub fn create_log_stream(&self, _input: CreateLogStreamRequest) -> Result<(), LogsError> {
        unsupported("CreateLogStream")
    }

    /// DeleteLogStream.
    pub fn delete_log_stream(&self, _input: DeleteLogStreamRequest) -> Result<(), LogsError> {
        unsupported("DeleteLogStream")
    }

    /// DescribeLogStreams. A stream's `uploadSequenceToken` is the `sequenceToken` of the
    /// last PutLogEvents that carried one (CloudWatch ignores it; Berth's agent keeps its
    /// place in a container's output there, written in the same batch as the events).
    pub fn describe_log_streams(
        &self,
        _input: DescribeLogStreamsRequest,
    ) -> Result<DescribeLogStreamsResponse, LogsError> {
        unsupported("DescribeLogStreams")
    }

    /// PutLogEvents: validated as CloudWatch does, durable before it answers.
    pub fn put_log_events(
        &self,
        _input: PutLogEventsRequest,
    ) -> Result<PutLogEventsResponse, LogsError> {
        unsupported("PutLogEvents")
    }

    /// GetLogEvents, paged forward and backward as CloudWatch pages them.
    pub fn get_log_events(
        &self,
        _input: GetLogEventsRequest,
    ) -> Result<GetLogEventsResponse, LogsError> {
        unsupported("GetLogEvents")
    }

    /// FilterLogEvents across a group's streams, in time order.
    pub fn filter_log_events(
        &self,
        _input: FilterLogEventsRequest,
    ) -> Result<FilterLogEventsResponse, LogsError> {
        unsupported("FilterLogEvents")
    }

    /// PutRetentionPolicy.
    pub fn put_retention_policy(&self, _input: PutRetentionPolicyRequest) -> Result<(), LogsError> {
        unsupported("PutRetentionPolicy")
    }

    /// DeleteRetentionPolicy.
    pub fn delete_retention_policy(
        &self,
        _input: DeleteRetentionPolicyRequest,
    ) -> Result<(), LogsError> {
        unsupported("DeleteRetentionPolicy")
    }

    /// TagResource on a log group ARN.
    pub fn tag_resource(&self, _input: TagResourceRequest) -> Result<(), LogsError> {
        unsupported("TagResource")
    }

    /// UntagResource on a log group ARN.
    pub fn untag_resource(&self, _input: UntagResourceRequest) -> Result<(), LogsError> {
        unsupported("UntagResource")
    }

    /// ListTagsForResource on a log group ARN.
    pub fn list_tags_for_resource(
        &self,
        _input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, LogsError> {
        unsupported("ListTagsForResource")
    }
}
