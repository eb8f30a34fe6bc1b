//! ECR resource tags on repositories: TagResource, UntagResource and ListTagsForResource (the
//! ECR target prefix, `Key`/`Value` tags), and the checks CreateRepository's `tags` share.

use berth_registry::{Registry, RegistryError, ResourceTag};
use berth_types::ecr::{Request, Tag};
use berth_types::{ApiError, ErrorCode};
use serde_json::{Value, json};

/// Most tags one repository may carry.
pub const MAX_TAGS: usize = 50;

/// The repository an ECR ARN names, given this registry's ARN prefix
/// (`arn:aws:ecr:<region>:<account>:repository/`).
pub fn repository_of(prefix: &str, resource_arn: &str) -> Result<String, ApiError> {
    if let Some(name) = resource_arn.strip_prefix(prefix) {
        return Ok(name.to_string());
    }
    let parts: Vec<&str> = resource_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ecr", _, _, resource] if resource.starts_with("repository/") => {
            // Another region's or account's repository: not in this registry.
            Err(ApiError::new(
                ErrorCode::RepositoryNotFoundException,
                format!(
                    "The repository {resource_arn} does not exist in this registry: its ARNs start with {prefix}"
                ),
            ))
        }
        _ => Err(ApiError::invalid(format!(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN' ({resource_arn:?}): pass a repository ARN such as {prefix}team/app"
        ))),
    }
}

/// Checks tags against ECR's rules (key 1–128 characters, value up to 256, letters, digits,
/// spaces and `_ . : / = + - @`, no `aws:` prefix) and converts them.
pub fn checked(tags: &[Tag]) -> Result<Vec<ResourceTag>, ApiError> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    let bad = |message: String| ApiError::new(ErrorCode::InvalidTagParameterException, message);
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
pub fn merge(tags: &mut Vec<ResourceTag>, new: Vec<ResourceTag>) -> Result<(), RegistryError> {
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

/// Answers one of the tag operations; gives back any other request.
// The request handed back is the caller's own, moved back to it, never copied.
#[allow(clippy::result_large_err)]
pub fn call(
    registry: &Registry,
    prefix: &str,
    request: Request,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Result<Value, ApiError>, Request> {
    let refused = move |e: RegistryError| match e {
        RegistryError::LimitExceeded(m) => ApiError::new(ErrorCode::TooManyTagsException, m),
        other => refused(other),
    };
    let answer = match request {
        Request::TagResource(input) => (|| {
            let name = repository_of(prefix, &input.resource_arn)?;
            let new = checked(&input.tags)?;
            registry
                .update_repository(&name, |r| merge(&mut r.tags, new))
                .map_err(refused)?;
            Ok(json!({}))
        })(),
        Request::UntagResource(input) => (|| {
            let name = repository_of(prefix, &input.resource_arn)?;
            registry
                .update_repository(&name, |r| {
                    r.tags.retain(|t| !input.tag_keys.contains(&t.key));
                    Ok(())
                })
                .map_err(refused)?;
            Ok(json!({}))
        })(),
        Request::ListTagsForResource(input) => (|| {
            let name = repository_of(prefix, &input.resource_arn)?;
            let repository = registry.repository(&name).map_err(refused)?;
            Ok(json!({ "tags": repository.tags }))
        })(),
        other => return Err(other),
    };
    Ok(answer)
}
