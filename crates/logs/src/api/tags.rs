//! TagResource, UntagResource and ListTagsForResource, on log group ARNs.

use super::LogsApi;
use crate::LogsError;
use crate::names::{group_of_arn, violation};
use berth_types::logs::*;
use std::collections::BTreeMap;

/// The most tags a log group may carry.
const MAX_TAGS: usize = 50;

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

fn check_key(key: &str) -> Result<(), LogsError> {
    let len = key.chars().count();
    if !(1..=128).contains(&len) {
        return Err(violation(
            key,
            "tags",
            "Member must have a key length between 1 and 128",
        ));
    }
    if !key.chars().all(tag_char) {
        return Err(violation(
            key,
            "tags",
            r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$",
        ));
    }
    // `get`, not indexing: byte 4 may fall inside a multi-byte character.
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(LogsError::InvalidParameter(format!(
            "Tag key '{key}' is invalid: keys starting with aws: are reserved for AWS."
        )));
    }
    Ok(())
}

/// Checks tags as CloudWatch does: at most 50, keys 1–128 characters outside `aws:`, values
/// up to 256 characters.
pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), LogsError> {
    too_many(tags.len())?;
    for (key, value) in tags {
        check_key(key)?;
        if value.chars().count() > 256 || !value.chars().all(tag_char) {
            return Err(violation(
                value,
                "tags",
                r"Member must have a value of at most 256 characters matching ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
            ));
        }
    }
    Ok(())
}

fn too_many(count: usize) -> Result<(), LogsError> {
    if count > MAX_TAGS {
        return Err(LogsError::TooManyTags(format!(
            "A resource can have no more than {MAX_TAGS} tags; this would have {count}."
        )));
    }
    Ok(())
}

impl LogsApi<'_> {
    /// TagResource on a log group ARN.
    pub fn tag_resource(&self, input: TagResourceRequest) -> Result<(), LogsError> {
        let group = group_of_arn(&self.context.partition, &input.resource_arn)?;
        check_tags(&input.tags)?;
        self.logs.update_group(&group, |meta| {
            let mut tags = meta.tags.clone();
            tags.extend(input.tags);
            too_many(tags.len())?;
            meta.tags = tags;
            Ok(())
        })
    }

    /// UntagResource on a log group ARN.
    pub fn untag_resource(&self, input: UntagResourceRequest) -> Result<(), LogsError> {
        let group = group_of_arn(&self.context.partition, &input.resource_arn)?;
        for key in &input.tag_keys {
            check_key(key)?;
        }
        self.logs.update_group(&group, |meta| {
            for key in &input.tag_keys {
                meta.tags.remove(key);
            }
            Ok(())
        })
    }

    /// ListTagsForResource on a log group ARN.
    pub fn list_tags_for_resource(
        &self,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, LogsError> {
        let group = group_of_arn(&self.context.partition, &input.resource_arn)?;
        Ok(ListTagsForResourceResponse {
            tags: Some(self.logs.group(&group)?.tags),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys() {
        assert!(check_key("team").is_ok());
        assert!(check_key("aé:x").is_ok());
        assert!(check_key("日本語キー").is_ok());
        assert!(check_key("AWS:x").is_err());
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(129)).is_err());
        assert!(check_key("a*b").is_err());
    }
}
