//! [`RegistryError`]: every refusal and failure of the registry, a variant for each case a
//! caller answers differently (so no caller matches message text), with the OCI error code
//! and HTTP status `/v2/` answers it with. The ECR operations (`crate::ecr`) have variants of
//! their own, one per ECR exception, which `berth-api` maps to ECR's error codes in one place.
//! A storage failure keeps its I/O error as the source ([`StorageError`]).

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

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
    /// A push to a repository that does not exist, with create-on-push off: the same refusal,
    /// told with the two ways to make the push work.
    #[error(
        "repository \"{0}\" does not exist: create it with aws ecr create-repository \
         --repository-name {0}, or start the server with --registry-create-on-push"
    )]
    PushNameUnknown(String),
    /// The repository exists already.
    #[error("repository already exists: {0}")]
    NameExists(String),
    /// A repository that still holds images cannot be deleted without force.
    #[error("repository not empty: {0}")]
    NameNotEmpty(String),
    /// The tag is malformed.
    #[error("manifest tag did not match URI: {0}")]
    TagInvalid(String),
    /// The tag names another image and the repository's tags are immutable. OCI clients get
    /// TAG_INVALID, as before; ECR answers ImageTagAlreadyExistsException.
    #[error("manifest tag did not match URI: {0}")]
    TagImmutable(String),
    /// A lifecycle policy that is not valid.
    #[error("{0}")]
    LifecyclePolicyInvalid(String),
    /// The repository has no lifecycle policy.
    #[error("{0}")]
    LifecyclePolicyNotFound(String),
    /// The repository has no lifecycle policy preview.
    #[error("{0}")]
    LifecyclePreviewNotFound(String),
    /// A limit would be exceeded (e.g. too many tags on a repository).
    #[error("{0}")]
    LimitExceeded(String),
    /// The operation is not supported.
    #[error("the operation is unsupported: {0}")]
    Unsupported(String),
    /// ECR: a parameter that is not valid (ECR's InvalidParameterException).
    #[error("{0}")]
    InvalidParameter(String),
    /// ECR: a resource tag that is not valid.
    #[error("{0}")]
    InvalidTagParameter(String),
    /// ECR: a setting Berth does not support (e.g. KMS, tag mutability exclusions).
    #[error("{0}")]
    UnsupportedFeature(String),
    /// ECR: the repository an ARN names is not in this registry (another account or region).
    #[error("{0}")]
    RepositoryNotFound(String),
    /// ECR: an image that DescribeImages names is not in the repository.
    #[error("{0}")]
    ImageNotFound(String),
    /// ECR: the image (digest and tag) is in the repository already.
    #[error("{0}")]
    ImageAlreadyExists(String),
    /// ECR: the manifest's digest is not the one given.
    #[error("{0}")]
    ImageDigestDoesNotMatch(String),
    /// ECR: the repository has no access policy.
    #[error("{0}")]
    RepositoryPolicyNotFound(String),
    /// ECR: the layer is not in the repository.
    #[error("{0}")]
    LayersNotFound(String),
    /// ECR: the layer is in the repository already.
    #[error("{0}")]
    LayerAlreadyExists(String),
    /// ECR: the upload does not exist (or belongs to another repository).
    #[error("{0}")]
    UploadNotFound(String),
    /// ECR: a part that does not start where the upload ends.
    #[error("{0}")]
    InvalidLayerPart(String),
    /// ECR: an upload completed with no data.
    #[error("{0}")]
    EmptyUpload(String),
    /// ECR: the uploaded layer does not match its digest.
    #[error("{0}")]
    InvalidLayer(String),
    /// Storage failed.
    #[error("storage error: {0}")]
    Storage(#[from] StorageError),
}

/// Why storage failed: an I/O error, or stored data the registry cannot use.
#[derive(Debug, Clone)]
pub enum StorageError {
    /// Reading or writing failed.
    Io {
        /// Where: a path, or what was being read; None when the caller cannot say.
        at: Option<String>,
        /// The I/O error, shared so that the error stays cloneable.
        source: Arc<io::Error>,
    },
    /// What is stored is damaged (or, for the key, unreadable): where, and how.
    Damaged(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io {
                at: Some(at),
                source,
            } => write!(f, "{at}: {source}"),
            StorageError::Io { at: None, source } => write!(f, "{source}"),
            StorageError::Damaged(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source.as_ref()),
            StorageError::Damaged(_) => None,
        }
    }
}

/// `io::Error` has no equality of its own: two failures are equal when they say the same.
impl PartialEq for StorageError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for StorageError {}

/// An I/O error where the caller cannot say what it was reading or writing.
impl From<io::Error> for RegistryError {
    fn from(e: io::Error) -> Self {
        RegistryError::Storage(StorageError::Io {
            at: None,
            source: Arc::new(e),
        })
    }
}

impl RegistryError {
    /// A storage failure at `at` (a path, or what was being read or written).
    pub fn io(at: &Path, e: io::Error) -> Self {
        Self::io_in(at.display(), e)
    }

    /// A storage failure while reading or writing `what`, which is not one file.
    pub(crate) fn io_in(what: impl fmt::Display, e: io::Error) -> Self {
        RegistryError::Storage(StorageError::Io {
            at: Some(what.to_string()),
            source: Arc::new(e),
        })
    }

    /// Stored data found damaged: `what` says where and how.
    pub fn damaged(what: impl Into<String>) -> Self {
        RegistryError::Storage(StorageError::Damaged(what.into()))
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
            RegistryError::NameUnknown(_) | RegistryError::PushNameUnknown(_) => "NAME_UNKNOWN",
            RegistryError::NameExists(_)
            | RegistryError::NameNotEmpty(_)
            | RegistryError::LimitExceeded(_) => "DENIED",
            RegistryError::TagInvalid(_) | RegistryError::TagImmutable(_) => "TAG_INVALID",
            RegistryError::Unsupported(_) | RegistryError::UnsupportedFeature(_) => "UNSUPPORTED",
            RegistryError::ImageNotFound(_) => "MANIFEST_UNKNOWN",
            RegistryError::LayersNotFound(_) => "BLOB_UNKNOWN",
            RegistryError::UploadNotFound(_) => "BLOB_UPLOAD_UNKNOWN",
            RegistryError::RepositoryNotFound(_) => "NAME_UNKNOWN",
            RegistryError::InvalidLayerPart(_) | RegistryError::EmptyUpload(_) => {
                "BLOB_UPLOAD_INVALID"
            }
            RegistryError::InvalidLayer(_) | RegistryError::ImageDigestDoesNotMatch(_) => {
                "DIGEST_INVALID"
            }
            RegistryError::ImageAlreadyExists(_) | RegistryError::LayerAlreadyExists(_) => "DENIED",
            RegistryError::InvalidParameter(_)
            | RegistryError::InvalidTagParameter(_)
            | RegistryError::RepositoryPolicyNotFound(_)
            | RegistryError::Storage(_)
            | RegistryError::LifecyclePolicyInvalid(_)
            | RegistryError::LifecyclePolicyNotFound(_)
            | RegistryError::LifecyclePreviewNotFound(_) => "UNKNOWN",
        }
    }

    /// The HTTP status the OCI spec gives the code.
    pub fn status(&self) -> u16 {
        match self {
            RegistryError::BlobUnknown(_)
            | RegistryError::BlobUploadUnknown(_)
            | RegistryError::ManifestUnknown(_)
            | RegistryError::NameUnknown(_)
            | RegistryError::PushNameUnknown(_)
            | RegistryError::ImageNotFound(_)
            | RegistryError::LayersNotFound(_)
            | RegistryError::UploadNotFound(_)
            | RegistryError::RepositoryNotFound(_)
            | RegistryError::RepositoryPolicyNotFound(_) => 404,
            RegistryError::RangeInvalid(_) => 416,
            // The spec's answer to a manifest over the size limit.
            RegistryError::ManifestTooLarge(_) => 413,
            RegistryError::NameExists(_)
            | RegistryError::NameNotEmpty(_)
            | RegistryError::ImageAlreadyExists(_)
            | RegistryError::LayerAlreadyExists(_) => 409,
            RegistryError::Unsupported(_) | RegistryError::UnsupportedFeature(_) => 405,
            RegistryError::Storage(_) => 500,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_io_failure_keeps_its_error_as_the_source_and_says_where() {
        let e = RegistryError::io(
            Path::new("/data/key"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(e.to_string(), "storage error: /data/key: permission denied");
        let source = e.source().and_then(|s| s.source());
        let io = source.and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(
            io.map(io::Error::kind),
            Some(io::ErrorKind::PermissionDenied)
        );
    }
}
