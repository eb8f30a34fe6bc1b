//! Upload sessions: a staging file per session (`uploads/<id>/data`, with the repository it is
//! for in `uploads/<id>/repository`), appended to by PATCH and checked and moved into the blob
//! store by the final PUT. Sessions survive restarts (resumable) and are purged when stale.
//!
//! A session is made durable with its first bytes, not when it starts: a session lost to a
//! crash before it holds anything is answered BLOB_UPLOAD_UNKNOWN and started again, and most
//! sessions (monolithic uploads) end in the request that started them, so fsyncing their start
//! would only slow every push.

use crate::RegistryError;
use crate::files;
use crate::sealed::{HEADER, Key};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an untouched session is kept.
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The upload sessions under one directory.
pub struct Uploads {
    dir: PathBuf,
    key: Key,
}

/// Seals the next bytes of an upload: they go at `offset` of the plaintext.
pub struct Sealer {
    key: Key,
    header: [u8; 16],
    offset: u64,
}

impl Sealer {
    /// Encrypts `buf` in place as the next bytes of the upload.
    pub fn seal(&mut self, buf: &mut [u8]) {
        self.key.seal(&self.header, self.offset, buf);
        self.offset += buf.len() as u64;
    }
}

impl Uploads {
    /// Sessions under `dir/uploads`, sealed with `key`.
    pub fn open(dir: &Path, key: Key) -> Result<Self, RegistryError> {
        let dir = dir.join("uploads");
        files::create_dir_all(&dir)?;
        Ok(Self { dir, key })
    }

    fn session(&self, id: &str) -> Result<PathBuf, RegistryError> {
        // Ids are uuids: anything else would name a path outside the sessions.
        uuid::Uuid::parse_str(id).map_err(|_| RegistryError::BlobUploadUnknown(id.into()))?;
        Ok(self.dir.join(id))
    }

    /// Starts a session for `repository`: its id.
    pub fn start(&self, repository: &str) -> Result<String, RegistryError> {
        let id = uuid::Uuid::new_v4().to_string();
        let dir = self.dir.join(&id);
        std::fs::create_dir_all(&dir).map_err(|e| RegistryError::io(&dir, e))?;
        std::fs::write(dir.join("repository"), repository)
            .map_err(|e| RegistryError::io(&dir, e))?;
        std::fs::write(dir.join("data"), self.key.header())
            .map_err(|e| RegistryError::io(&dir, e))?;
        Ok(id)
    }

    /// The staging file of a session of `repository` and the (plaintext) bytes it holds.
    pub fn data(&self, repository: &str, id: &str) -> Result<(PathBuf, u64), RegistryError> {
        let dir = self.session(id)?;
        let owner = std::fs::read_to_string(dir.join("repository"))
            .map_err(|_| RegistryError::BlobUploadUnknown(id.into()))?;
        if owner != repository {
            return Err(RegistryError::BlobUploadUnknown(id.into()));
        }
        let data = dir.join("data");
        let size = std::fs::metadata(&data)
            .map_err(|_| RegistryError::BlobUploadUnknown(id.into()))?
            .len()
            .saturating_sub(HEADER);
        Ok((data, size))
    }

    /// What seals the next bytes appended to the staging file of a session.
    pub fn sealer(&self, repository: &str, id: &str) -> Result<Sealer, RegistryError> {
        use std::io::Read;
        let (data, size) = self.data(repository, id)?;
        let mut header = [0u8; 16];
        std::fs::File::open(&data)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_err(|e| RegistryError::io(&data, e))?;
        Ok(Sealer {
            key: self.key.clone(),
            header,
            offset: size,
        })
    }

    /// Appends `bytes` to a session, durably: the bytes it now holds.
    pub fn append(&self, repository: &str, id: &str, bytes: &[u8]) -> Result<u64, RegistryError> {
        use std::io::Write;
        let mut sealer = self.sealer(repository, id)?;
        let (data, size) = self.data(repository, id)?;
        let mut sealed = bytes.to_vec();
        sealer.seal(&mut sealed);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&data)
            .and_then(|mut f| f.write_all(&sealed))
            .map_err(|e| RegistryError::io(&data, e))?;
        self.sync(repository, id, size)?;
        Ok(size + bytes.len() as u64)
    }

    /// Makes what was appended to a session (which held `before` bytes) survive a crash:
    /// its data and, on its first bytes, the session itself.
    pub fn sync(&self, repository: &str, id: &str, before: u64) -> Result<(), RegistryError> {
        let (data, _) = self.data(repository, id)?;
        // The data and the length that finds it; the file's other metadata may lag.
        std::fs::File::open(&data)
            .and_then(|f| f.sync_data())
            .map_err(|e| RegistryError::io(&data, e))?;
        if before == 0 {
            let dir = self.session(id)?;
            let owner = dir.join("repository");
            std::fs::File::open(&owner)
                .and_then(|f| f.sync_all())
                .map_err(|e| RegistryError::io(&owner, e))?;
            files::sync_dir(&dir)?;
            files::sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Ends a session, whatever became of its data.
    pub fn remove(&self, id: &str) -> Result<(), RegistryError> {
        let dir = self.session(id)?;
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RegistryError::io(&dir, e)),
        }
    }

    /// Removes sessions untouched for `STALE_AFTER`: how many.
    pub fn purge_stale(&self, now: SystemTime) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut purged = 0;
        for entry in entries.flatten() {
            // Touched by every append; a session that has no data yet (being started) is as
            // old as its directory. One whose age cannot be read is kept: taking it for
            // stale would end uploads under way.
            let session = entry.path();
            let touched = std::fs::metadata(session.join("data"))
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => std::fs::metadata(&session),
                    _ => Err(e),
                })
                .and_then(|m| m.modified());
            if touched.is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_AFTER)
                && std::fs::remove_dir_all(&session).is_ok()
            {
                purged += 1;
            }
        }
        purged
    }
}
