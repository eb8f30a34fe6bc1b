//! Content-addressed blob storage, deduplicated across repositories.
//!
//! [`BlobStore`] is what the registry needs of a backend; [`FsBlobStore`] keeps each blob in
//! `blobs/<algorithm>/<hex>`, sealed (see [`crate::sealed`]). A blob becomes visible only whole
//! and verified: uploads are staged elsewhere (sealed as they arrive), hashed, fsynced and
//! renamed into place (see the `files` module), so a crash never leaves a partial blob under a
//! digest and a stored blob survives one.

use crate::RegistryError;
use crate::digest::Digest;
use crate::files;
use crate::sealed::{HEADER, Key};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The digest algorithms blobs are stored under, a directory each.
const ALGORITHMS: [&str; 2] = ["sha256", "sha512"];

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
    /// When a blob was stored, or None when it is not.
    fn stored_at(&self, digest: &Digest) -> Result<Option<SystemTime>, RegistryError>;
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
        for algorithm in ALGORITHMS {
            files::create_dir_all(&dir.join(algorithm))?;
        }
        Ok(Self { dir, key })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.algorithm()).join(digest.hex())
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
        files::publish(&file, staged, &self.path(expected))?;
        Ok(size)
    }

    fn put(&self, bytes: &[u8]) -> Result<Digest, RegistryError> {
        let digest = Digest::of(bytes);
        if self.size(&digest)?.is_some() {
            return Ok(digest);
        }
        let header = self.key.header();
        let mut sealed = [&header[..], bytes].concat();
        self.key.seal(&header, 0, &mut sealed[header.len()..]);
        files::write(&self.path(&digest), &sealed)?;
        Ok(digest)
    }

    fn delete(&self, digest: &Digest) -> Result<(), RegistryError> {
        // Not fsynced: a deleted blob that comes back after a crash is only collected again.
        files::remove_file(&self.path(digest))
    }

    fn stored_at(&self, digest: &Digest) -> Result<Option<SystemTime>, RegistryError> {
        let path = self.path(digest);
        match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(at) => Ok(Some(at)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io(&path, e)),
        }
    }

    fn list(&self) -> Result<Vec<Digest>, RegistryError> {
        let mut out = Vec::new();
        for algorithm in ALGORITHMS {
            let dir = self.dir.join(algorithm);
            let entries = std::fs::read_dir(&dir).map_err(|e| RegistryError::io(&dir, e))?;
            for entry in entries {
                let name = entry.map_err(|e| RegistryError::io(&dir, e))?.file_name();
                // Anything else (a temporary file of a write under way) is not a blob.
                if let Ok(d) = Digest::parse(&format!("{algorithm}:{}", name.to_string_lossy())) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}
