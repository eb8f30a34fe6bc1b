//! Berth's image registry: the OCI Distribution semantics (blobs, upload sessions, manifests,
//! tags, referrers) over content-addressed storage, without HTTP — `berth-api` serves it at
//! `/v2/` and backs the ECR API with it.
//!
//! - [`digest`]: digests, parsed strictly and computed;
//! - [`blobs`]: the [`blobs::BlobStore`] trait and the file-system backend, held to
//!   [`conformance`];
//! - [`sealed`]: AES-256 encryption at rest that still reads any byte range;
//! - `files`: durable writes, renames and removals, which everything stored goes through;
//! - [`uploads`]: resumable upload sessions;
//! - [`manifest`]: manifest media types and what a manifest refers to;
//! - [`lifecycle`]: lifecycle policies that expire images by count or age;
//! - [`repositories`]: repositories, images and tags, and garbage collection.

pub mod blobs;
pub mod conformance;
pub mod digest;
mod files;
pub mod lifecycle;
pub mod manifest;
pub mod repositories;
pub mod sealed;
pub mod uploads;

pub use repositories::{Image, Registry, Repository, ResourceTag};

use std::path::Path;

/// A refusal, with the OCI error code it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The blob is not in the repository.
    #[error("blob unknown to registry: {0}")]
    BlobUnknown(String),
    /// The upload session does not exist (or belongs to another repository).
    #[error("blob upload unknown to registry: {0}")]
    BlobUploadUnknown(String),
    /// The upload is not acceptable (e.g. a chunk out of order).
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    /// A chunk does not start where the upload ends.
    #[error("requested range not satisfiable: {0}")]
    RangeInvalid(String),
    /// A malformed digest, an unknown algorithm or content that does not match it.
    #[error("provided digest did not match uploaded content: {0}")]
    DigestInvalid(String),
    /// The manifest cannot be accepted.
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    /// The manifest is larger than the registry accepts.
    #[error("manifest invalid: {0}")]
    ManifestTooLarge(String),
    /// The manifest refers to a blob or manifest the repository lacks.
    #[error("blob unknown to registry: {0}")]
    ManifestBlobUnknown(String),
    /// No such manifest.
    #[error("manifest unknown: {0}")]
    ManifestUnknown(String),
    /// The repository name is not valid.
    #[error("invalid repository name: {0}")]
    NameInvalid(String),
    /// No such repository.
    #[error("repository name not known to registry: {0}")]
    NameUnknown(String),
    /// The repository exists already.
    #[error("repository already exists: {0}")]
    NameExists(String),
    /// A repository that still holds images cannot be deleted without force.
    #[error("repository not empty: {0}")]
    NameNotEmpty(String),
    /// The tag is malformed, or immutable and taken.
    #[error("manifest tag did not match URI: {0}")]
    TagInvalid(String),
    /// A lifecycle policy that is not valid.
    #[error("{0}")]
    LifecyclePolicyInvalid(String),
    /// The repository has no lifecycle policy (or preview).
    #[error("{0}")]
    LifecyclePolicyNotFound(String),
    /// A limit would be exceeded (e.g. too many tags on a repository).
    #[error("{0}")]
    LimitExceeded(String),
    /// The operation is not supported.
    #[error("the operation is unsupported: {0}")]
    Unsupported(String),
    /// Storage failed.
    #[error("storage error: {0}")]
    Storage(String),
}

impl RegistryError {
    /// A storage failure at `path`.
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        RegistryError::Storage(format!("{}: {e}", path.display()))
    }

    /// The OCI error code.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::BlobUnknown(_) => "BLOB_UNKNOWN",
            RegistryError::BlobUploadUnknown(_) => "BLOB_UPLOAD_UNKNOWN",
            RegistryError::BlobUploadInvalid(_) | RegistryError::RangeInvalid(_) => {
                "BLOB_UPLOAD_INVALID"
            }
            RegistryError::DigestInvalid(_) => "DIGEST_INVALID",
            RegistryError::ManifestInvalid(_) | RegistryError::ManifestTooLarge(_) => {
                "MANIFEST_INVALID"
            }
            RegistryError::ManifestBlobUnknown(_) => "MANIFEST_BLOB_UNKNOWN",
            RegistryError::ManifestUnknown(_) => "MANIFEST_UNKNOWN",
            RegistryError::NameInvalid(_) => "NAME_INVALID",
            RegistryError::NameUnknown(_) => "NAME_UNKNOWN",
            RegistryError::NameExists(_)
            | RegistryError::NameNotEmpty(_)
            | RegistryError::LimitExceeded(_) => "DENIED",
            RegistryError::TagInvalid(_) => "TAG_INVALID",
            RegistryError::Unsupported(_) => "UNSUPPORTED",
            RegistryError::Storage(_)
            | RegistryError::LifecyclePolicyInvalid(_)
            | RegistryError::LifecyclePolicyNotFound(_) => "UNKNOWN",
        }
    }

    /// The HTTP status the OCI spec gives the code.
    pub fn status(&self) -> u16 {
        match self {
            RegistryError::BlobUnknown(_)
            | RegistryError::BlobUploadUnknown(_)
            | RegistryError::ManifestUnknown(_)
            | RegistryError::NameUnknown(_) => 404,
            RegistryError::RangeInvalid(_) => 416,
            // The spec's answer to a manifest over the size limit.
            RegistryError::ManifestTooLarge(_) => 413,
            RegistryError::NameExists(_) | RegistryError::NameNotEmpty(_) => 409,
            RegistryError::Unsupported(_) => 405,
            RegistryError::Storage(_) => 500,
            _ => 400,
        }
    }
}
