//! Log group and stream names, checked as CloudWatch Logs checks them, and their ARNs.

use berth_types::arn::Partition;

/// Where the logs service answers: its region and account, which its ARNs carry.
#[derive(Debug, Clone)]
pub struct Context {
    /// The server's region and account.
    pub partition: Partition,
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>`.
pub fn group_arn(partition: &Partition, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        partition.region, partition.account
    )
}

/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>`.
pub fn stream_arn(partition: &Partition, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(partition, group))
}

/// The log group a log group ARN (with or without the trailing `:*`) names.
pub fn group_of_arn(partition: &Partition, arn: &str) -> Result<String, crate::LogsError> {
    let prefix = format!("{}:", group_arn(partition, "").trim_end_matches(':'));
    arn.strip_prefix(&prefix)
        .map(|name| name.strip_suffix(":*").unwrap_or(name).to_string())
        .filter(|name| !name.is_empty() && !name.contains(':'))
        .ok_or_else(|| {
            crate::LogsError::InvalidParameter(format!(
                "{arn} is not the ARN of a log group in {} of account {}",
                partition.region, partition.account
            ))
        })
}
