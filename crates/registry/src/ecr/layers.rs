//! ECR's layer operations — BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
//! CompleteLayerUpload, GetDownloadUrlForLayer — and PutImage: pushing through the JSON API
//! instead of `/v2/`, over the same upload sessions (and upload writer) and checks.

use super::Ecr;
use super::images::image_id;
use crate::RegistryError;
use crate::digest::Digest;
use base64::Engine;
use berth_types::ecr::{
    BatchCheckLayerAvailabilityRequest, BatchCheckLayerAvailabilityResponse,
    CompleteLayerUploadRequest, CompleteLayerUploadResponse, GetDownloadUrlForLayerRequest,
    GetDownloadUrlForLayerResponse, Image, InitiateLayerUploadRequest, InitiateLayerUploadResponse,
    Layer, LayerAvailability, LayerFailure, LayerFailureCode, PutImageRequest, PutImageResponse,
    UploadLayerPartRequest, UploadLayerPartResponse,
};

/// ECR's part size hint for UploadLayerPart (10 MiB).
const PART_SIZE: i64 = 10 * 1024 * 1024;

impl Ecr<'_> {
    /// BatchCheckLayerAvailability: each layer's size, or why it is not available.
    pub fn batch_check_layer_availability(
        &self,
        input: BatchCheckLayerAvailabilityRequest,
    ) -> Result<BatchCheckLayerAvailabilityResponse, RegistryError> {
        let name = &input.repository_name;
        self.registry.repository(name)?;
        let (mut layers, mut failures) = (vec![], vec![]);
        let failure = |d: &str, code, reason: String| LayerFailure {
            layer_digest: Some(d.to_string()),
            failure_code: Some(code),
            failure_reason: Some(reason),
        };
        for d in &input.layer_digests {
            match Digest::parse(d) {
                Err(e) => failures.push(failure(
                    d,
                    LayerFailureCode::InvalidLayerDigest,
                    e.to_string(),
                )),
                Ok(digest) => match self.registry.blob_size(name, &digest) {
                    Ok(size) => layers.push(Layer {
                        layer_digest: Some(d.clone()),
                        layer_availability: Some(LayerAvailability::Available),
                        layer_size: Some(size as i64),
                        media_type: None,
                    }),
                    Err(RegistryError::BlobUnknown(_)) => failures.push(failure(
                        d,
                        LayerFailureCode::MissingLayerDigest,
                        "The layer is not in the repository".into(),
                    )),
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(BatchCheckLayerAvailabilityResponse {
            layers: Some(layers),
            failures: Some(failures),
        })
    }

    /// InitiateLayerUpload: a new upload session.
    pub fn initiate_layer_upload(
        &self,
        input: InitiateLayerUploadRequest,
    ) -> Result<InitiateLayerUploadResponse, RegistryError> {
        self.registry.repository(&input.repository_name)?;
        let id = self.registry.uploads().start(&input.repository_name)?;
        Ok(InitiateLayerUploadResponse {
            upload_id: Some(id),
            part_size: Some(PART_SIZE),
        })
    }

    /// UploadLayerPart: the part appended, durably; it must start where the upload ends.
    pub fn upload_layer_part(
        &self,
        input: UploadLayerPartRequest,
    ) -> Result<UploadLayerPartResponse, RegistryError> {
        let mut writer = self
            .registry
            .uploads()
            .writer(&input.repository_name, &input.upload_id)
            .map_err(|_| upload_not_found(&input.upload_id))?;
        let part = base64::engine::general_purpose::STANDARD
            .decode(&input.layer_part_blob)
            .map_err(|e| {
                RegistryError::InvalidParameter(format!("layerPartBlob is not base64: {e}"))
            })?;
        let size = writer.size();
        let expected_last = input.part_first_byte + part.len() as i64 - 1;
        if input.part_first_byte != size as i64 || input.part_last_byte != expected_last {
            return Err(RegistryError::InvalidLayerPart(format!(
                "the part covers bytes {}-{} but the upload holds {size} bytes and the part is {} bytes long: send partFirstByte {size}",
                input.part_first_byte,
                input.part_last_byte,
                part.len()
            )));
        }
        writer.append(&part)?;
        writer.commit()?;
        Ok(UploadLayerPartResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            upload_id: Some(input.upload_id),
            last_byte_received: Some(expected_last),
        })
    }

    /// CompleteLayerUpload: the upload checked against its digest and stored as a layer.
    pub fn complete_layer_upload(
        &self,
        input: CompleteLayerUploadRequest,
    ) -> Result<CompleteLayerUploadResponse, RegistryError> {
        let name = &input.repository_name;
        let id = &input.upload_id;
        let [digest] = input.layer_digests.as_slice() else {
            return Err(RegistryError::InvalidParameter(
                "layerDigests must name exactly one digest".into(),
            ));
        };
        let digest = Digest::parse(digest)?;
        let (_, size) = self
            .registry
            .uploads()
            .data(name, id)
            .map_err(|_| upload_not_found(id))?;
        if size == 0 {
            return Err(RegistryError::EmptyUpload(format!(
                "The upload {id} holds no data: send parts with UploadLayerPart"
            )));
        }
        if self.registry.blob_size(name, &digest).is_ok() {
            self.registry.uploads().remove(id)?;
            return Err(RegistryError::LayerAlreadyExists(format!(
                "The layer {digest} already exists in the repository"
            )));
        }
        self.registry
            .finish_upload(name, id, &digest)
            .map_err(|e| match e {
                RegistryError::DigestInvalid(m) => RegistryError::InvalidLayer(m),
                other => other,
            })?;
        Ok(CompleteLayerUploadResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            upload_id: Some(input.upload_id),
            layer_digest: Some(digest.to_string()),
        })
    }

    /// GetDownloadUrlForLayer: the `/v2/` URL of a layer of the repository.
    pub fn get_download_url_for_layer(
        &self,
        input: GetDownloadUrlForLayerRequest,
    ) -> Result<GetDownloadUrlForLayerResponse, RegistryError> {
        let digest = Digest::parse(&input.layer_digest)?;
        self.registry
            .blob_size(&input.repository_name, &digest)
            .map_err(|_| {
                RegistryError::LayersNotFound(format!(
                    "The layer {} does not exist in the repository: push it first",
                    input.layer_digest
                ))
            })?;
        let (scheme, host) = (self.context.scheme, &self.context.host);
        Ok(GetDownloadUrlForLayerResponse {
            download_url: Some(format!(
                "{scheme}://{host}/v2/{}/blobs/{digest}",
                input.repository_name
            )),
            layer_digest: Some(digest.to_string()),
        })
    }

    /// PutImage: a manifest stored under its tag (or digest); its layers must be there.
    pub fn put_image(&self, input: PutImageRequest) -> Result<PutImageResponse, RegistryError> {
        let name = &input.repository_name;
        let bytes = input.image_manifest.as_bytes();
        let digest = Digest::of(bytes).to_string();
        if let Some(claimed) = &input.image_digest
            && *claimed != digest
        {
            return Err(RegistryError::ImageDigestDoesNotMatch(format!(
                "The manifest's digest is {digest}, not the {claimed} given"
            )));
        }
        let reference = input.image_tag.clone().unwrap_or_else(|| digest.clone());
        let existing = self.registry.images(name)?;
        let same = existing.iter().find(|i| i.digest == digest);
        let already = match &input.image_tag {
            Some(tag) => same.is_some_and(|i| i.tags.contains(tag)),
            None => same.is_some(),
        };
        if already {
            return Err(RegistryError::ImageAlreadyExists(format!(
                "Image with digest '{digest}' and tag '{reference}' already exists in the repository with name '{name}'"
            )));
        }
        let media_type = input.image_manifest_media_type.clone().unwrap_or_default();
        let image = self
            .registry
            .put_manifest(name, &reference, &media_type, bytes)?;
        Ok(PutImageResponse {
            image: Some(Image {
                registry_id: self.account(),
                repository_name: Some(input.repository_name.clone()),
                image_id: Some(image_id(&image.digest, input.image_tag.as_deref())),
                image_manifest: Some(input.image_manifest),
                image_manifest_media_type: Some(image.media_type),
            }),
        })
    }
}

/// The refusal of an upload that is not there.
fn upload_not_found(id: &str) -> RegistryError {
    RegistryError::UploadNotFound(format!(
        "The upload {id} does not exist: start one with InitiateLayerUpload"
    ))
}
