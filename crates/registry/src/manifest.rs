//! Manifests: the media types the registry accepts and the blobs and manifests each refers to.

use crate::RegistryError;
use crate::digest::Digest;
use serde_json::Value;

/// The largest manifest accepted (ECR's limit on `imageManifest`).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Every manifest media type accepted.
pub(crate) const MEDIA_TYPES: [&str; 4] = [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX];

/// What a pushed manifest says.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Its media type.
    pub media_type: String,
    /// Blobs it needs (config and layers).
    pub blobs: Vec<(Digest, u64)>,
    /// Manifests it lists (an index).
    pub manifests: Vec<Digest>,
    /// The manifest it refers to (`subject`), for the referrers API.
    pub subject: Option<Digest>,
    /// `artifactType`, or the config's media type.
    pub artifact_type: Option<String>,
    /// Annotations.
    pub annotations: Option<Value>,
}

fn descriptor(v: &Value, what: &str) -> Result<(Digest, u64), RegistryError> {
    let invalid = |why: String| RegistryError::ManifestInvalid(why);
    let digest = v["digest"]
        .as_str()
        .ok_or_else(|| invalid(format!("{what} has no digest")))?;
    let digest = Digest::parse(digest).map_err(|e| invalid(format!("{what}: {e}")))?;
    let size = v["size"]
        .as_u64()
        .ok_or_else(|| invalid(format!("{what} has no size")))?;
    Ok((digest, size))
}

/// Parses a manifest sent with `content_type` (which may be empty: the body's `mediaType` then
/// decides).
pub fn parse(bytes: &[u8], content_type: &str) -> Result<Parsed, RegistryError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(RegistryError::ManifestTooLarge(format!(
            "the manifest is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
            bytes.len()
        )));
    }
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::ManifestInvalid(format!("the manifest is not JSON: {e}")))?;
    let declared = v["mediaType"].as_str().unwrap_or_default();
    let content_type = content_type.split(';').next().unwrap_or_default().trim();
    let media_type = if content_type.is_empty() || content_type == "application/json" {
        declared
    } else {
        content_type
    };
    if !MEDIA_TYPES.contains(&media_type) {
        return Err(RegistryError::ManifestInvalid(format!(
            "unsupported manifest media type {media_type:?}: use one of {}",
            MEDIA_TYPES.join(", ")
        )));
    }
    if !declared.is_empty() && declared != media_type {
        return Err(RegistryError::ManifestInvalid(format!(
            "the manifest says mediaType {declared:?} but was sent as {media_type:?}"
        )));
    }
    if v["schemaVersion"].as_i64() != Some(2) {
        return Err(RegistryError::ManifestInvalid(
            "schemaVersion must be 2".into(),
        ));
    }
    let mut parsed = Parsed {
        media_type: media_type.to_string(),
        blobs: vec![],
        manifests: vec![],
        subject: None,
        artifact_type: v["artifactType"]
            .as_str()
            .or(v["config"]["mediaType"].as_str())
            .map(str::to_string),
        annotations: v.get("annotations").cloned(),
    };
    if media_type == DOCKER_LIST || media_type == OCI_INDEX {
        let list = v["manifests"].as_array().ok_or_else(|| {
            RegistryError::ManifestInvalid("an index needs a manifests array".into())
        })?;
        for (i, m) in list.iter().enumerate() {
            parsed
                .manifests
                .push(descriptor(m, &format!("manifests[{i}]"))?.0);
        }
    } else {
        parsed.blobs.push(descriptor(&v["config"], "config")?);
        let layers = v["layers"].as_array().ok_or_else(|| {
            RegistryError::ManifestInvalid("an image manifest needs a layers array".into())
        })?;
        for (i, l) in layers.iter().enumerate() {
            parsed.blobs.push(descriptor(l, &format!("layers[{i}]"))?);
        }
    }
    if v.get("subject").is_some() {
        parsed.subject = Some(descriptor(&v["subject"], "subject")?.0);
    }
    Ok(parsed)
}
