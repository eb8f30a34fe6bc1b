//! Log group and stream names, checked as CloudWatch Logs checks them, and their ARNs.

use berth_types::arn::Partition;

/// Where the logs service answers: its region and account, which its ARNs carry.
#[derive(Debug, Clone)]
pub struct Context {
    /// The server's region and account.
    pub partition: Partition,
}
