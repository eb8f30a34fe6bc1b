//! ECR's layer-level API (BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
//! CompleteLayerUpload, GetDownloadUrlForLayer) and PutImage: pushing through the JSON API
//! instead of `/v2/`, over the same upload sessions and checks.

use base64::Engine;
use berth_registry::digest::Digest;
use berth_registry::{Registry, RegistryError};
use berth_types::ecr::*;
use berth_types::{ApiError, ErrorCode};
use serde_json::{Value, json};

/// ECR's part size hint for UploadLayerPart (10 MiB).
const PART_SIZE: i64 = 10 * 1024 * 1024;

/// Answers one of the layer operations or PutImage; gives back any other request.
// The request handed back is the caller's own, moved back to it, never copied.
#[allow(clippy::result_large_err)]
pub fn call(
    registry: &Registry,
    account: &str,
    request: Request,
    base_url: &str,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Result<Value, ApiError>, Request> {
    Ok(match request {
        Request::BatchCheckLayerAvailability(input) => check(registry, input, refused),
        Request::InitiateLayerUpload(input) => (|| {
            registry
                .repository(&input.repository_name)
                .map_err(refused)?;
            let id = registry
                .uploads()
                .start(&input.repository_name)
                .map_err(refused)?;
            Ok(json!({ "uploadId": id, "partSize": PART_SIZE }))
        })(),
        Request::UploadLayerPart(input) => upload_part(registry, account, input, refused),
        Request::CompleteLayerUpload(input) => complete(registry, account, input, refused),
        Request::GetDownloadUrlForLayer(i) => (|| {
            let digest = Digest::parse(&i.layer_digest).map_err(refused)?;
            registry
                .blob_size(&i.repository_name, &digest)
                .map_err(|_| layers_not_found(&i.layer_digest))?;
            Ok(json!({
                "downloadUrl": format!("{base_url}/v2/{}/blobs/{digest}", i.repository_name),
                "layerDigest": digest.to_string(),
            }))
        })(),
        Request::PutImage(input) => put_image(registry, account, input, refused),
        other => return Err(other),
    })
}

fn layers_not_found(digest: &str) -> ApiError {
    ApiError::new(
        ErrorCode::LayersNotFoundException,
        format!("The layer {digest} does not exist in the repository: push it first"),
    )
}

fn check(
    registry: &Registry,
    input: BatchCheckLayerAvailabilityRequest,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Value, ApiError> {
    registry
        .repository(&input.repository_name)
        .map_err(refused)?;
    let (mut layers, mut failures) = (vec![], vec![]);
    for d in &input.layer_digests {
        match Digest::parse(d) {
            Err(e) => failures.push(json!({
                "layerDigest": d, "failureCode": "InvalidLayerDigest", "failureReason": e.to_string(),
            })),
            Ok(digest) => match registry.blob_size(&input.repository_name, &digest) {
                Ok(size) => layers.push(json!({
                    "layerDigest": d, "layerAvailability": "AVAILABLE", "layerSize": size,
                })),
                Err(RegistryError::BlobUnknown(_)) => failures.push(json!({
                    "layerDigest": d, "failureCode": "MissingLayerDigest",
                    "failureReason": "The layer is not in the repository",
                })),
                Err(e) => return Err(refused(e)),
            },
        }
    }
    Ok(json!({ "layers": layers, "failures": failures }))
}

fn upload_part(
    registry: &Registry,
    account: &str,
    input: UploadLayerPartRequest,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Value, ApiError> {
    let (_, size) = registry
        .uploads()
        .data(&input.repository_name, &input.upload_id)
        .map_err(|_| upload_not_found(&input.upload_id))?;
    let part = base64::engine::general_purpose::STANDARD
        .decode(&input.layer_part_blob)
        .map_err(|e| ApiError::invalid(format!("layerPartBlob is not base64: {e}")))?;
    let expected_last = input.part_first_byte + part.len() as i64 - 1;
    if input.part_first_byte != size as i64 || input.part_last_byte != expected_last {
        return Err(ApiError::new(
            ErrorCode::InvalidLayerPartException,
            format!(
                "the part covers bytes {}-{} but the upload holds {size} bytes and the part is {} bytes long: send partFirstByte {size}",
                input.part_first_byte,
                input.part_last_byte,
                part.len()
            ),
        ));
    }
    registry
        .uploads()
        .append(&input.repository_name, &input.upload_id, &part)
        .map_err(refused)?;
    Ok(json!({
        "registryId": account,
        "repositoryName": input.repository_name,
        "uploadId": input.upload_id,
        "lastByteReceived": expected_last,
    }))
}

fn upload_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UploadNotFoundException,
        format!("The upload {id} does not exist: start one with InitiateLayerUpload"),
    )
}

fn complete(
    registry: &Registry,
    account: &str,
    input: CompleteLayerUploadRequest,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Value, ApiError> {
    let [digest] = input.layer_digests.as_slice() else {
        return Err(ApiError::invalid(
            "layerDigests must name exactly one digest",
        ));
    };
    let digest = Digest::parse(digest).map_err(refused)?;
    let (_, size) = registry
        .uploads()
        .data(&input.repository_name, &input.upload_id)
        .map_err(|_| upload_not_found(&input.upload_id))?;
    if size == 0 {
        return Err(ApiError::new(
            ErrorCode::EmptyUploadException,
            format!(
                "The upload {} holds no data: send parts with UploadLayerPart",
                input.upload_id
            ),
        ));
    }
    if registry.blob_size(&input.repository_name, &digest).is_ok() {
        registry
            .uploads()
            .remove(&input.upload_id)
            .map_err(refused)?;
        return Err(ApiError::new(
            ErrorCode::LayerAlreadyExistsException,
            format!("The layer {digest} already exists in the repository"),
        ));
    }
    registry
        .finish_upload(&input.repository_name, &input.upload_id, &digest)
        .map_err(|e| match e {
            RegistryError::DigestInvalid(m) => ApiError::new(ErrorCode::InvalidLayerException, m),
            other => refused(other),
        })?;
    Ok(json!({
        "registryId": account,
        "repositoryName": input.repository_name,
        "uploadId": input.upload_id,
        "layerDigest": digest.to_string(),
    }))
}

fn put_image(
    registry: &Registry,
    account: &str,
    input: PutImageRequest,
    refused: fn(RegistryError) -> ApiError,
) -> Result<Value, ApiError> {
    let name = &input.repository_name;
    let bytes = input.image_manifest.as_bytes();
    let digest = Digest::of(bytes).to_string();
    if let Some(claimed) = &input.image_digest
        && *claimed != digest
    {
        return Err(ApiError::new(
            ErrorCode::ImageDigestDoesNotMatchException,
            format!("The manifest's digest is {digest}, not the {claimed} given"),
        ));
    }
    let reference = input.image_tag.clone().unwrap_or_else(|| digest.clone());
    let existing = registry.images(name).map_err(refused)?;
    let same = existing.iter().find(|i| i.digest == digest);
    let already = match &input.image_tag {
        Some(tag) => same.is_some_and(|i| i.tags.contains(tag)),
        None => same.is_some(),
    };
    if already {
        return Err(ApiError::new(
            ErrorCode::ImageAlreadyExistsException,
            format!(
                "Image with digest '{digest}' and tag '{reference}' already exists in the repository with name '{name}'"
            ),
        ));
    }
    let media_type = input.image_manifest_media_type.clone().unwrap_or_default();
    let image = registry
        .put_manifest(name, &reference, &media_type, bytes)
        .map_err(refused)?;
    let mut id = json!({ "imageDigest": image.digest });
    if let Some(t) = &input.image_tag {
        id["imageTag"] = json!(t);
    }
    Ok(json!({"image": {
        "registryId": account,
        "repositoryName": name,
        "imageId": id,
        "imageManifest": input.image_manifest,
        "imageManifestMediaType": image.media_type,
    }}))
}
