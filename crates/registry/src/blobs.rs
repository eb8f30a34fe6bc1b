//! Content-addressed blob storage, deduplicated across repositories.
//!
//! [`BlobStore`] is what the registry needs of a backend; [`FsBlobStore`] keeps each blob in
//! `blobs/<algorithm>/<hex>`, sealed (see [`crate::sealed`]). A blob becomes visible only whole
//! and verified: uploads are staged elsewhere (sealed as they arrive), hashed, fsynced and
//! renamed into place, so a crash never leaves a partial blob under a digest.

use crate::RegistryError;
use crate::digest::Digest;
use crate::sealed::{HEADER, Key};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// A readable, seekable blob.
pub trait BlobRead: Read + Seek + Send {}
impl<T: Read + Seek + Send> BlobRead for T {}

/// Where blobs live.
pub trait BlobStore: Send + Sync {
    /// The size of a stored blob, or None.
    fn size(&self, digest: &Digest) -> Result<Option<u64>, RegistryError>;
    /// Opens a stored blob.
    fn open(&self, digest: &Digest) -> Result<Option<Box<dyn BlobRead>>, RegistryError>;
    /// Stores the staged (sealed) file at `staged` as `expected`, after checking its digest;
    /// the staged file is consumed either way. DIGEST_INVALID when the content does not match.
    fn ingest(&self, staged: &Path, expected: &Digest) -> Result<u64, RegistryError>;
    /// Stores `bytes` (a manifest) under their own digest.
    fn put(&self, bytes: &[u8]) -> Result<Digest, RegistryError>;
    /// Removes a blob (absent is fine).
    fn delete(&self, digest: &Digest) -> Result<(), RegistryError>;
    /// Every stored digest.
    fn list(&self) -> Result<Vec<Digest>, RegistryError>;
    /// When a blob was stored.
    fn stored_at(&self, digest: &Digest) -> Option<std::time::SystemTime>;
}

/// Blobs as sealed files under a directory.
pub struct FsBlobStore {
    dir: PathBuf,
    key: Key,
}

impl FsBlobStore {
    /// Blobs under `dir/blobs`, sealed with `key`; staging files must be on the same file
    /// system.
    pub fn open(dir: &Path, key: Key) -> Result<Self, RegistryError> {
        let dir = dir.join("blobs");
        std::fs::create_dir_all(&dir).map_err(|e| RegistryError::io(&dir, e))?;
        Ok(Self { dir, key })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.algorithm()).join(digest.hex())
    }

    /// Moves a verified file into place, durably.
    fn publish(&self, file: &File, from: &Path, digest: &Digest) -> Result<(), RegistryError> {
        file.sync_all().map_err(|e| RegistryError::io(from, e))?;
        let to = self.path(digest);
        let parent = to.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|e| RegistryError::io(parent, e))?;
        std::fs::rename(from, &to).map_err(|e| RegistryError::io(&to, e))?;
        sync_dir(parent);
        Ok(())
    }
}

/// Makes a rename durable. Best effort: some file systems cannot open directories.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl BlobStore for FsBlobStore {
    fn size(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        match std::fs::metadata(self.path(digest)) {
            Ok(m) => Ok(Some(m.len().saturating_sub(HEADER))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io(&self.path(digest), e)),
        }
    }

    fn open(&self, digest: &Digest) -> Result<Option<Box<dyn BlobRead>>, RegistryError> {
        match File::open(self.path(digest)) {
            Ok(f) => {
                let plain = self
                    .key
                    .open(f)
                    .map_err(|e| RegistryError::io(&self.path(digest), e))?;
                Ok(Some(Box::new(plain)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io(&self.path(digest), e)),
        }
    }

    fn ingest(&self, staged: &Path, expected: &Digest) -> Result<u64, RegistryError> {
        let file = File::open(staged).map_err(|e| RegistryError::io(staged, e))?;
        let actual = self
            .key
            .open(&file)
            .and_then(|plain| expected.of_reader(plain))
            .map_err(|e| RegistryError::io(staged, e))?;
        if &actual != expected {
            let _ = std::fs::remove_file(staged);
            return Err(RegistryError::DigestInvalid(format!(
                "the uploaded content has digest {actual}, not {expected}: nothing was stored"
            )));
        }
        let size = file
            .metadata()
            .map_err(|e| RegistryError::io(staged, e))?
            .len()
            .saturating_sub(HEADER);
        if self.size(expected)?.is_some() {
            // Already stored (the same content pushed twice, or at once): keep the first.
            let _ = std::fs::remove_file(staged);
            return Ok(size);
        }
        self.publish(&file, staged, expected)?;
        Ok(size)
    }

    fn put(&self, bytes: &[u8]) -> Result<Digest, RegistryError> {
        use std::io::Write;
        let digest = Digest::of(bytes);
        if self.size(&digest)?.is_some() {
            return Ok(digest);
        }
        let tmp = self.dir.join(format!(".put-{}", uuid::Uuid::new_v4()));
        let header = self.key.header();
        let mut sealed = bytes.to_vec();
        self.key.seal(&header, 0, &mut sealed);
        let mut file = File::create(&tmp).map_err(|e| RegistryError::io(&tmp, e))?;
        file.write_all(&header)
            .and_then(|()| file.write_all(&sealed))
            .map_err(|e| RegistryError::io(&tmp, e))?;
        self.publish(&file, &tmp, &digest)?;
        Ok(digest)
    }

    fn delete(&self, digest: &Digest) -> Result<(), RegistryError> {
        match std::fs::remove_file(self.path(digest)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RegistryError::io(&self.path(digest), e)),
        }
    }

    fn stored_at(&self, digest: &Digest) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.path(digest))
            .and_then(|m| m.modified())
            .ok()
    }

    fn list(&self) -> Result<Vec<Digest>, RegistryError> {
        let mut out = Vec::new();
        for algorithm in ["sha256", "sha512"] {
            let dir = self.dir.join(algorithm);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Ok(d) = Digest::parse(&format!("{algorithm}:{name}")) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}
