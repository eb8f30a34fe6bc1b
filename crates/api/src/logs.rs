//! The CloudWatch Logs API (awsJson1.1, `Logs_20140328.<Op>`, signing name `logs`): each typed
//! request mapped to the `berth_logs` method that answers it, the one mapping of the log
//! store's refusals to CloudWatch Logs' exceptions, and what each call asks of the caller's
//! policies (`logs:<Operation>` on the log group or stream it names).

use crate::policy::Ask;
use crate::wire::encode;
use berth_logs::names::{group_arn, group_of_arn, stream_arn};
use berth_logs::{Context, LogsApi, LogsError};
use berth_types::arn::Partition;
use berth_types::logs::{Operation, Request};
use berth_types::{ApiError, ErrorCode};

/// What an operation without output answers: an empty JSON object.
const EMPTY: &[u8] = b"{}";

/// The table of operations, each answered by the log store's method of the same input: it
/// makes [`TABLE`] and `table`, which answers them.
macro_rules! operations {
    (
        with output: $($op:ident => $method:ident),* ;
        without: $($unit_op:ident => $unit_method:ident),* $(,)?
    ) => {
        /// The operations the table answers.
        const TABLE: &[Operation] = &[$(Operation::$op,)* $(Operation::$unit_op,)*];

        fn table(api: &LogsApi<'_>, request: Request) -> Result<Vec<u8>, ApiError> {
            match request {
                $(Request::$op(input) => api.$method(input).map_err(refused).and_then(|out| encode(&out)),)*
                $(Request::$unit_op(input) => api.$unit_method(input).map_err(refused).map(|()| EMPTY.to_vec()),)*
            }
        }
    };
}

operations!(
    with output:
    DescribeLogGroups => describe_log_groups,
    DescribeLogStreams => describe_log_streams,
    PutLogEvents => put_log_events,
    GetLogEvents => get_log_events,
    FilterLogEvents => filter_log_events,
    ListTagsForResource => list_tags_for_resource;
    without:
    CreateLogGroup => create_log_group,
    DeleteLogGroup => delete_log_group,
    CreateLogStream => create_log_stream,
    DeleteLogStream => delete_log_stream,
    PutRetentionPolicy => put_retention_policy,
    DeleteRetentionPolicy => delete_retention_policy,
    TagResource => tag_resource,
    UntagResource => untag_resource,
);

/// Whether Berth answers a CloudWatch Logs operation: those generated are those it answers
/// (a test keeps the table whole); the model's others are refused before decoding.
pub fn supports(operation: Operation) -> bool {
    TABLE.contains(&operation)
}

/// Answers one CloudWatch Logs request.
pub fn call(
    logs: &berth_logs::Logs,
    partition: &Partition,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    let context = Context {
        partition: partition.clone(),
    };
    table(&logs.api(&context), request)
}

/// The CloudWatch Logs exception for a refusal of the log store: the one place its errors
/// become the wire's.
pub fn refused(e: LogsError) -> ApiError {
    use ErrorCode as C;
    use LogsError as E;
    let code = match &e {
        E::ResourceNotFound(_) => C::ResourceNotFoundException,
        E::ResourceAlreadyExists(_) => C::ResourceAlreadyExistsException,
        E::InvalidParameter(_) => C::InvalidParameterException,
        E::TooManyTags(_) => C::TooManyTagsException,
        E::LimitExceeded(_) => C::LimitExceededException,
        E::Unsupported(_) => C::UnsupportedFeatureException,
        E::Storage { .. } => C::ServiceUnavailableException,
    };
    ApiError::new(code, e.to_string())
}

/// What a CloudWatch Logs call asks of the caller's policies: `logs:<Operation>` on the log
/// stream it names (events), else the log group it names (`…:log-group:NAME:*`), else `*`
/// (DescribeLogGroups, as in AWS, is authorised on the account's groups).
pub fn ask(partition: &Partition, request: &Request) -> Ask {
    let members = request.members();
    let group = members
        .text("logGroupName")
        .map(str::to_string)
        .or_else(|| {
            members
                .text("resourceArn")
                .and_then(|arn| group_of_arn(partition, arn).ok())
        });
    let resource = match (&group, members.text("logStreamName")) {
        (Some(group), Some(stream)) => stream_arn(partition, group, stream),
        (Some(group), None) => group_arn(partition, group),
        (None, _) => "*".into(),
    };
    let catalogued = crate::catalogue::Operation::Logs(request.operation());
    Ask {
        action: catalogued.action(),
        resource,
        agent_facing: catalogued.is_agent_facing(),
        // An agent may only write the groups its tasks log to.
        subject: group,
        ..Ask::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_answers_every_generated_operation() {
        assert!(Operation::ALL.iter().all(|op| supports(*op)));
    }
}
