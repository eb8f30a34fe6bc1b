//! The JSON pieces ECR's answers share: image identifiers and their `failures[]` entries,
//! finding an image by identifier, and `nextToken` pages keyed by the last item shown.

use berth_registry::Image;
use berth_registry::digest::Digest;
use berth_types::ApiError;
use berth_types::ecr::ImageIdentifier;
use serde_json::{Value, json};

/// An `imageId`: a digest and, when given, a tag.
pub fn image_id(digest: &str, tag: Option<&str>) -> Value {
    let mut id = json!({ "imageDigest": digest });
    if let Some(t) = tag {
        id["imageTag"] = t.into();
    }
    id
}

/// A `failures[]` entry for an image identifier.
pub fn failure(id: &ImageIdentifier, code: &str, reason: String) -> Value {
    json!({
        "imageId": serde_json::to_value(id).unwrap_or_default(),
        "failureCode": code,
        "failureReason": reason,
    })
}

/// The image an identifier names, or the `failures[]` entry saying why not.
pub fn find<'a>(images: &'a [Image], id: &ImageIdentifier) -> Result<&'a Image, Value> {
    let (digest, tag) = (id.image_digest.as_deref(), id.image_tag.as_deref());
    if digest.is_none() && tag.is_none() {
        return Err(failure(
            id,
            "MissingDigestAndTag",
            "Invalid request parameters: both tag and digest cannot be null".into(),
        ));
    }
    if let Some(d) = digest
        && Digest::parse(d).is_err()
    {
        return Err(failure(
            id,
            "InvalidImageDigest",
            format!("Invalid request parameters: image digest {d:?} is not sha256:<64 hex>"),
        ));
    }
    let by_digest = digest.and_then(|d| images.iter().find(|i| i.digest == d));
    let by_tag = tag.and_then(|t| images.iter().find(|i| i.tags.iter().any(|x| x == t)));
    match (digest, tag, by_digest, by_tag) {
        (Some(_), Some(_), Some(a), Some(b)) if a.digest != b.digest => Err(failure(
            id,
            "ImageTagDoesNotMatchDigest",
            "Invalid request parameters: given tag does not match the given digest".into(),
        )),
        (_, _, Some(i), _) | (None, _, _, Some(i)) => Ok(i),
        _ => Err(failure(
            id,
            "ImageNotFound",
            "Requested image not found".into(),
        )),
    }
}

/// The page of `keys` after `token` (the last key of the previous page), `max` long.
pub fn page(
    keys: &[String],
    token: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let start = match token {
        Some(t) => keys
            .iter()
            .position(|k| k == t)
            .map(|i| i + 1)
            .ok_or_else(|| {
                ApiError::invalid("nextToken is not one this server gave: start again without it")
            })?,
        None => 0,
    };
    let max = max.unwrap_or(1000).clamp(1, 1000) as usize;
    let page: Vec<String> = keys.iter().skip(start).take(max).cloned().collect();
    let next = (start + page.len() < keys.len())
        .then(|| page.last().cloned())
        .flatten();
    Ok((page, next))
}

/// `v` with its `nextToken`, when there is a next page.
pub fn with_next(mut v: Value, next: Option<String>) -> Value {
    if let Some(n) = next {
        v["nextToken"] = n.into();
    }
    v
}
