//! Where the registry keeps repositories on disk, and the name rules that make names safe as
//! paths. Under `repositories/`, each repository has a directory (its name with `/` as `+`):
//!
//! - `repository.json`: its settings;
//! - `images/<algorithm>-<hex>.json`: an image (a manifest's record; the manifest is a blob);
//! - `tags/<tag>`: a tag, holding the digest it names;
//! - `layers/<algorithm>-<hex>`: empty, a blob the repository may read — stored once for
//!   every repository, but readable only where pushed or mounted, so a repository's access
//!   policy also guards its layers;
//! - `lifecycle.json`, `lifecycle-preview.json`, `policy.json`: its policies.
//!
//! A deleted repository's directory is first renamed to a hidden `.deleted-<uuid>`.

use crate::RegistryError;
use crate::digest::Digest;
use std::path::{Path, PathBuf};

/// How the directory of a deleted repository is renamed while its files are removed.
const DELETED: &str = ".deleted-";

/// ECR's repository name rule.
pub fn check_name(name: &str) -> Result<(), RegistryError> {
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
            return false;
        }
        // Separators: `.`, `_`, `__` or runs of `-`, each between alphanumerics.
        let mut i = 0;
        while i < b.len() {
            if alnum(&b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(&b[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            let fine = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
            if !fine {
                return false;
            }
        }
        true
    };
    if !(2..=256).contains(&name.len()) || !name.split('/').all(component_ok) {
        return Err(RegistryError::NameInvalid(format!(
            "{name:?}: a repository name is 2-256 characters of lower-case letters, digits and single separators (. _ __ -), in components joined by /"
        )));
    }
    Ok(())
}

/// The OCI tag rule.
pub(crate) fn check_tag(tag: &str) -> Result<(), RegistryError> {
    let b = tag.as_bytes();
    let first = b
        .first()
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let rest = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !first || !rest || b.len() > 128 {
        return Err(RegistryError::TagInvalid(format!(
            "{tag:?}: a tag is up to 128 letters, digits, _, . and -, not starting with . or -"
        )));
    }
    Ok(())
}

/// The paths of the repositories under one directory.
pub(super) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The repositories under `dir/repositories`.
    pub(super) fn new(dir: &Path) -> Self {
        Self {
            root: dir.join("repositories"),
        }
    }

    /// The directory holding every repository.
    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    /// A repository's directory.
    pub(super) fn repository(&self, name: &str) -> PathBuf {
        // `/` is not allowed in a file name and `+` is not allowed in a repository name.
        self.root.join(name.replace('/', "+"))
    }

    /// The settings file of the repository whose directory is `dir`.
    pub(crate) fn settings_in(dir: &Path) -> PathBuf {
        dir.join("repository.json")
    }

    /// A repository's settings file.
    pub(super) fn settings(&self, name: &str) -> PathBuf {
        Self::settings_in(&self.repository(name))
    }

    /// The directory of a repository's images.
    pub(super) fn images(&self, name: &str) -> PathBuf {
        self.repository(name).join("images")
    }

    /// The record of image `digest`.
    pub(super) fn image(&self, name: &str, digest: &Digest) -> PathBuf {
        self.images(name)
            .join(format!("{}-{}.json", digest.algorithm(), digest.hex()))
    }

    /// The directory of a repository's tags.
    pub(super) fn tags(&self, name: &str) -> PathBuf {
        self.repository(name).join("tags")
    }

    /// The file of `tag` (checked with [`check_tag`], so it stays in the directory).
    pub(super) fn tag(&self, name: &str, tag: &str) -> PathBuf {
        self.tags(name).join(tag)
    }

    /// The directory of the links to the blobs a repository may read.
    pub(super) fn layers(&self, name: &str) -> PathBuf {
        self.repository(name).join("layers")
    }

    /// The link that lets repository `name` read blob `digest`.
    pub(super) fn layer(&self, name: &str, digest: &Digest) -> PathBuf {
        self.layers(name)
            .join(format!("{}-{}", digest.algorithm(), digest.hex()))
    }

    /// A repository's lifecycle policy.
    pub(super) fn lifecycle_policy(&self, name: &str) -> PathBuf {
        self.repository(name).join("lifecycle.json")
    }

    /// A repository's last lifecycle policy preview.
    pub(crate) fn lifecycle_preview(&self, name: &str) -> PathBuf {
        self.repository(name).join("lifecycle-preview.json")
    }

    /// A repository's access policy.
    pub(super) fn policy(&self, name: &str) -> PathBuf {
        self.repository(name).join("policy.json")
    }

    /// A new hidden name for the directory of a repository being deleted.
    pub(super) fn deleted(&self) -> PathBuf {
        self.root.join(format!("{DELETED}{}", uuid::Uuid::new_v4()))
    }

    /// Whether `path` is the directory of a deleted repository.
    pub(crate) fn is_deleted(path: &Path) -> bool {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(DELETED))
    }
}
