//! PutRetentionPolicy and DeleteRetentionPolicy.

use super::LogsApi;
use crate::LogsError;
use crate::names::{check_group_name, violation};
use berth_types::logs::*;

/// The retention periods CloudWatch allows, in days.
const DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

impl LogsApi<'_> {
    /// PutRetentionPolicy.
    pub fn put_retention_policy(&self, input: PutRetentionPolicyRequest) -> Result<(), LogsError> {
        check_group_name(&input.log_group_name, "logGroupName")?;
        let days = input.retention_in_days;
        if !DAYS.contains(&days) {
            let allowed: Vec<String> = DAYS.iter().map(i32::to_string).collect();
            return Err(violation(
                &days.to_string(),
                "retentionInDays",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            ));
        }
        self.logs.update_group(&input.log_group_name, |meta| {
            meta.retention_in_days = Some(days);
            Ok(())
        })
    }

    /// DeleteRetentionPolicy.
    pub fn delete_retention_policy(
        &self,
        input: DeleteRetentionPolicyRequest,
    ) -> Result<(), LogsError> {
        check_group_name(&input.log_group_name, "logGroupName")?;
        self.logs.update_group(&input.log_group_name, |meta| {
            meta.retention_in_days = None;
            Ok(())
        })
    }
}
