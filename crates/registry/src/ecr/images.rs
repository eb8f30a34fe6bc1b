//! ECR's image operations — ListImages, DescribeImages, BatchGetImage, BatchDeleteImage — and
//! what their answers share: image identifiers, `failures[]` entries, and finding an image by
//! identifier.

use super::{Ecr, page};
use crate::digest::Digest;
use crate::{Image, RegistryError};
use berth_types::ecr::{
    BatchDeleteImageRequest, BatchDeleteImageResponse, BatchGetImageRequest, BatchGetImageResponse,
    DescribeImagesRequest, DescribeImagesResponse, ImageDetail, ImageFailure, ImageFailureCode,
    ImageIdentifier, ListImagesRequest, ListImagesResponse, TagStatus,
};

/// An `imageId`: a digest and, when given, a tag.
pub(super) fn image_id(digest: &str, tag: Option<&str>) -> ImageIdentifier {
    ImageIdentifier {
        image_digest: Some(digest.to_string()),
        image_tag: tag.map(str::to_string),
    }
}

/// A `failures[]` entry for an image identifier.
fn failure(id: &ImageIdentifier, code: ImageFailureCode, reason: String) -> ImageFailure {
    ImageFailure {
        image_id: Some(id.clone()),
        failure_code: Some(code),
        failure_reason: Some(reason),
    }
}

/// The image an identifier names, or the `failures[]` entry saying why not.
fn find<'a>(images: &'a [Image], id: &ImageIdentifier) -> Result<&'a Image, ImageFailure> {
    let (digest, tag) = (id.image_digest.as_deref(), id.image_tag.as_deref());
    if digest.is_none() && tag.is_none() {
        return Err(failure(
            id,
            ImageFailureCode::MissingDigestAndTag,
            "Invalid request parameters: both tag and digest cannot be null".into(),
        ));
    }
    if let Some(d) = digest
        && Digest::parse(d).is_err()
    {
        return Err(failure(
            id,
            ImageFailureCode::InvalidImageDigest,
            format!("Invalid request parameters: image digest {d:?} is not sha256:<64 hex>"),
        ));
    }
    let by_digest = digest.and_then(|d| images.iter().find(|i| i.digest == d));
    let by_tag = tag.and_then(|t| images.iter().find(|i| i.tags.iter().any(|x| x == t)));
    match (digest, tag, by_digest, by_tag) {
        (Some(_), Some(_), Some(a), Some(b)) if a.digest != b.digest => Err(failure(
            id,
            ImageFailureCode::ImageTagDoesNotMatchDigest,
            "Invalid request parameters: given tag does not match the given digest".into(),
        )),
        (_, _, Some(i), _) | (None, _, _, Some(i)) => Ok(i),
        _ => Err(failure(
            id,
            ImageFailureCode::ImageNotFound,
            "Requested image not found".into(),
        )),
    }
}

impl Ecr<'_> {
    /// ListImages: an identifier per tag (and one per untagged image), a page at a time.
    pub fn list_images(
        &self,
        input: ListImagesRequest,
    ) -> Result<ListImagesResponse, RegistryError> {
        let images = self.registry.images(&input.repository_name)?;
        let status = input.filter.and_then(|f| f.tag_status);
        let mut ids = vec![];
        for image in &images {
            let untagged = image.tags.is_empty();
            let wanted = match status {
                Some(TagStatus::Tagged) => !untagged,
                Some(TagStatus::Untagged) => untagged,
                _ => true,
            };
            if !wanted {
                continue;
            }
            if untagged {
                ids.push(image_id(&image.digest, None));
            }
            for tag in &image.tags {
                ids.push(image_id(&image.digest, Some(tag)));
            }
        }
        let (shown, next_token) = page(ids, input.max_results, input.next_token.as_deref())?;
        Ok(ListImagesResponse {
            image_ids: Some(shown),
            next_token,
        })
    }

    /// DescribeImages: the named images (every one must exist), or all, a page at a time.
    pub fn describe_images(
        &self,
        input: DescribeImagesRequest,
    ) -> Result<DescribeImagesResponse, RegistryError> {
        let name = &input.repository_name;
        let images = self.registry.images(name)?;
        let chosen: Vec<&Image> = match &input.image_ids {
            Some(ids) => ids
                .iter()
                .map(|id| find(&images, id).map_err(|f| not_found(name, &f)))
                .collect::<Result<_, _>>()?,
            None => images.iter().collect(),
        };
        let (shown, next_token) = page(chosen, input.max_results, input.next_token.as_deref())?;
        let details = shown
            .into_iter()
            .map(|i| ImageDetail {
                registry_id: self.account(),
                repository_name: Some(name.clone()),
                image_digest: Some(i.digest.clone()),
                image_tags: (!i.tags.is_empty()).then(|| i.tags.clone()),
                image_size_in_bytes: Some(i.size as i64),
                image_pushed_at: Some(i.pushed_at),
                image_manifest_media_type: Some(i.media_type.clone()),
                artifact_media_type: i.artifact_type.clone(),
                last_recorded_pull_time: i.last_pulled_at,
                ..ImageDetail::default()
            })
            .collect();
        Ok(DescribeImagesResponse {
            image_details: Some(details),
            next_token,
        })
    }

    /// BatchGetImage: each named image's manifest, or why not in `failures[]`.
    pub fn batch_get_image(
        &self,
        input: BatchGetImageRequest,
    ) -> Result<BatchGetImageResponse, RegistryError> {
        let name = &input.repository_name;
        let images = self.registry.images(name)?;
        let (mut found, mut failures) = (vec![], vec![]);
        for id in &input.image_ids {
            match find(&images, id) {
                Ok(image) => {
                    let (_, bytes) = self.registry.manifest(name, &image.digest)?;
                    found.push(berth_types::ecr::Image {
                        registry_id: self.account(),
                        repository_name: Some(name.clone()),
                        image_id: Some(image_id(&image.digest, id.image_tag.as_deref())),
                        image_manifest: Some(String::from_utf8_lossy(&bytes).into_owned()),
                        image_manifest_media_type: Some(image.media_type.clone()),
                    });
                }
                Err(f) => failures.push(f),
            }
        }
        Ok(BatchGetImageResponse {
            images: Some(found),
            failures: Some(failures),
        })
    }

    /// BatchDeleteImage: a tag alone removes the tag (the image goes with its last tag); a
    /// digest removes the image and its tags.
    pub fn batch_delete_image(
        &self,
        input: BatchDeleteImageRequest,
    ) -> Result<BatchDeleteImageResponse, RegistryError> {
        let name = &input.repository_name;
        let (mut deleted, mut failures) = (vec![], vec![]);
        for id in &input.image_ids {
            let images = self.registry.images(name)?;
            let image = match find(&images, id) {
                Ok(i) => i.clone(),
                Err(f) => {
                    failures.push(f);
                    continue;
                }
            };
            let outcome = match (&id.image_tag, &id.image_digest) {
                (Some(tag), None) if image.tags.len() > 1 => self.registry.untag(name, tag),
                _ => Digest::parse(&image.digest)
                    .and_then(|d| self.registry.delete_manifest(name, &d)),
            };
            match outcome {
                Ok(_) => deleted.push(image_id(&image.digest, id.image_tag.as_deref())),
                Err(e) => {
                    failures.push(failure(id, ImageFailureCode::ImageNotFound, e.to_string()))
                }
            }
        }
        Ok(BatchDeleteImageResponse {
            image_ids: Some(deleted),
            failures: Some(failures),
        })
    }
}

/// DescribeImages' refusal of an image it cannot find, saying which and why.
fn not_found(repository: &str, f: &ImageFailure) -> RegistryError {
    let json = |v: serde_json::Result<String>| v.unwrap_or_default();
    RegistryError::ImageNotFound(format!(
        "The image with imageId {} does not exist within the repository with name '{repository}' in the registry: {}",
        json(serde_json::to_string(&f.image_id)),
        json(serde_json::to_string(&f.failure_reason)),
    ))
}
