//! ECR resource tags on repositories: TagResource, UntagResource and ListTagsForResource, and
//! the checks CreateRepository's `tags` share.

use super::{Ecr, repository_of};
use crate::{RegistryError, ResourceTag};
use berth_types::ecr::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, Tag, TagResourceRequest,
    TagResourceResponse, UntagResourceRequest, UntagResourceResponse,
};

/// Most tags one repository may carry.
const MAX_TAGS: usize = 50;

/// Checks tags against ECR's rules (key 1–128 characters, value up to 256, letters, digits,
/// spaces and `_ . : / = + - @`, no `aws:` prefix) and converts them.
pub(super) fn checked(tags: &[Tag]) -> Result<Vec<ResourceTag>, RegistryError> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    let bad = RegistryError::InvalidTagParameter;
    tags.iter()
        .map(|t| {
            let (key, value) = (t.key.as_str(), t.value.as_str());
            if !(1..=128).contains(&key.chars().count()) || !allowed(key) {
                return Err(bad(format!(
                    "tag key {key:?} is not valid: use 1-128 letters, digits, spaces and _ . : / = + - @"
                )));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(bad(format!(
                    "tag key {key:?} starts with aws:, which is reserved for AWS use: choose another key"
                )));
            }
            if value.chars().count() > 256 || !allowed(value) {
                return Err(bad(format!(
                    "the value of tag {key:?} is not valid: use up to 256 letters, digits, spaces and _ . : / = + - @"
                )));
            }
            Ok(ResourceTag {
                key: key.to_string(),
                value: value.to_string(),
            })
        })
        .collect()
}

/// Sets `new` tags on `tags` (replacing values by key), refusing more than [`MAX_TAGS`].
pub(super) fn merge(
    tags: &mut Vec<ResourceTag>,
    new: Vec<ResourceTag>,
) -> Result<(), RegistryError> {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => tags.push(tag),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(RegistryError::LimitExceeded(format!(
            "the repository would carry {} tags, but at most {MAX_TAGS} are allowed: remove some with UntagResource",
            tags.len()
        )));
    }
    Ok(())
}

impl Ecr<'_> {
    /// TagResource: sets tags on a repository.
    pub fn tag_resource(
        &self,
        input: TagResourceRequest,
    ) -> Result<TagResourceResponse, RegistryError> {
        let name = repository_of(&self.context.partition, &input.resource_arn)?;
        let new = checked(&input.tags)?;
        self.registry
            .update_repository(&name, |r| merge(&mut r.tags, new))?;
        Ok(TagResourceResponse {})
    }

    /// UntagResource: removes tags from a repository by key.
    pub fn untag_resource(
        &self,
        input: UntagResourceRequest,
    ) -> Result<UntagResourceResponse, RegistryError> {
        let name = repository_of(&self.context.partition, &input.resource_arn)?;
        self.registry.update_repository(&name, |r| {
            r.tags.retain(|t| !input.tag_keys.contains(&t.key));
            Ok(())
        })?;
        Ok(UntagResourceResponse {})
    }

    /// ListTagsForResource: a repository's tags, in the order they were first set.
    pub fn list_tags_for_resource(
        &self,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, RegistryError> {
        let name = repository_of(&self.context.partition, &input.resource_arn)?;
        let repository = self.registry.repository(&name)?;
        Ok(ListTagsForResourceResponse {
            tags: Some(repository.tags.into_iter().map(wire_tag).collect()),
        })
    }
}

/// A stored tag as ECR's `Tag`.
fn wire_tag(tag: ResourceTag) -> Tag {
    Tag {
        key: tag.key,
        value: tag.value,
    }
}
