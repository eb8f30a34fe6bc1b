//! CreateLogGroup, DeleteLogGroup and DescribeLogGroups.

use super::LogsApi;
use super::limits::{page_limit, unsupported};
use super::tags::check_tags;
use super::tokens::{name_token, read_name_token};
use crate::LogsError;
use crate::names::{check_group_prefix, check_new_group_name, group_arn};
use crate::store::GroupMeta;
use berth_types::logs::*;
use std::ops::Bound;

impl LogsApi<'_> {
    /// CreateLogGroup.
    pub fn create_log_group(&self, input: CreateLogGroupRequest) -> Result<(), LogsError> {
        check_new_group_name(&input.log_group_name)?;
        if input.kms_key_id.is_some() {
            return Err(unsupported(
                "kmsKeyId",
                "log groups are not encrypted with KMS keys",
            ));
        }
        if let Some(class) = input
            .log_group_class
            .filter(|c| *c != LogGroupClass::Standard)
        {
            return Err(unsupported(
                "logGroupClass",
                &format!("only STANDARD log groups exist, not {class}"),
            ));
        }
        if input.deletion_protection_enabled == Some(true) {
            return Err(unsupported(
                "deletionProtectionEnabled",
                "log groups have no deletion protection",
            ));
        }
        let tags = input.tags.unwrap_or_default();
        check_tags(&tags)?;
        self.logs.create_group(GroupMeta {
            name: input.log_group_name,
            creation_time: self.logs.now(),
            retention_in_days: None,
            tags,
        })
    }

    /// DeleteLogGroup: the group, its streams and their events.
    pub fn delete_log_group(&self, input: DeleteLogGroupRequest) -> Result<(), LogsError> {
        crate::names::check_group_name(&input.log_group_name, "logGroupName")?;
        self.logs.delete_group(&input.log_group_name)
    }

    /// DescribeLogGroups, in name order, paged.
    pub fn describe_log_groups(
        &self,
        input: DescribeLogGroupsRequest,
    ) -> Result<DescribeLogGroupsResponse, LogsError> {
        if input
            .account_identifiers
            .as_ref()
            .is_some_and(|a| !a.is_empty())
        {
            return Err(unsupported(
                "accountIdentifiers",
                "there are no linked accounts",
            ));
        }
        if input.include_linked_accounts == Some(true) {
            return Err(unsupported(
                "includeLinkedAccounts",
                "there are no linked accounts",
            ));
        }
        if input.log_group_identifiers.is_some() {
            return Err(unsupported(
                "logGroupIdentifiers",
                "use logGroupNamePrefix or logGroupNamePattern",
            ));
        }
        let prefix = input.log_group_name_prefix.as_deref();
        let pattern = input.log_group_name_pattern.as_deref();
        if prefix.is_some() && pattern.is_some() {
            return Err(LogsError::InvalidParameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive \
                 parameters."
                    .into(),
            ));
        }
        if let Some(p) = prefix {
            check_group_prefix(p, "logGroupNamePrefix")?;
        }
        if let Some(p) = pattern.filter(|p| !p.is_empty()) {
            check_group_prefix(p, "logGroupNamePattern")?;
        }
        let limit = page_limit(input.limit, 50, 50)?;
        let after = input
            .next_token
            .as_deref()
            .map(|t| read_name_token('g', t))
            .transpose()?;
        // Every group is STANDARD: asking for another class finds none.
        let class_matches = input
            .log_group_class
            .is_none_or(|c| c == LogGroupClass::Standard);
        let mut page: Vec<GroupMeta> = Vec::with_capacity(limit + 1);
        if class_matches {
            let groups = self.logs.groups();
            let start = match &after {
                Some(name) => Bound::Excluded(name.as_str()),
                None => match prefix {
                    Some(p) => Bound::Included(p),
                    None => Bound::Unbounded,
                },
            };
            for (name, meta) in groups.range::<str, _>((start, Bound::Unbounded)) {
                if let Some(p) = prefix
                    && !name.starts_with(p)
                {
                    // Names with the prefix are together in order: past them, we are done.
                    if name.as_str() > p {
                        break;
                    }
                    continue;
                }
                if pattern.is_some_and(|p| !name.contains(p)) {
                    continue;
                }
                page.push(meta.clone());
                if page.len() > limit {
                    break;
                }
            }
        }
        let next_token = (page.len() > limit).then(|| {
            page.truncate(limit);
            name_token('g', page.last().map_or("", |g| g.name.as_str()))
        });
        let partition = &self.context.partition;
        let log_groups = page
            .into_iter()
            .map(|g| {
                let arn = group_arn(partition, &g.name);
                LogGroup {
                    stored_bytes: Some(self.logs.stored_bytes(&g.name) as i64),
                    log_group_name: Some(g.name),
                    creation_time: Some(g.creation_time),
                    retention_in_days: g.retention_in_days,
                    metric_filter_count: Some(0),
                    arn: Some(format!("{arn}:*")),
                    log_group_arn: Some(arn),
                    log_group_class: Some(LogGroupClass::Standard),
                    ..LogGroup::default()
                }
            })
            .collect();
        Ok(DescribeLogGroupsResponse {
            log_groups: Some(log_groups),
            next_token,
        })
    }
}
