//! Upload sessions: a staging file per session (`uploads/<id>/data`, with the repository it is
//! for in `uploads/<id>/repository`), appended to through an [`UploadWriter`] (by `/v2/`'s PATCH
//! and PUT and ECR's UploadLayerPart) and checked and moved into the blob store when the upload
//! completes. Sessions survive restarts (resumable) and are purged when stale.
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
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The upload sessions under one directory.
pub struct Uploads {
    dir: PathBuf,
    key: Key,
}

/// Appends to one upload session: each `append` seals its bytes and writes them at the end of
/// the staging file; `commit` makes what was appended survive a crash, before it is
/// acknowledged; `cancel` ends the session. Owns what it needs, so it may move between threads
/// while a request body streams in. Bytes appended and never committed are still there for
/// `finish_upload`, which makes the blob durable itself (a monolithic upload needs no commit).
pub struct UploadWriter {
    /// The session's directory, and the directory of every session.
    session: PathBuf,
    sessions: PathBuf,
    file: std::fs::File,
    key: Key,
    header: [u8; 16],
    /// Plaintext bytes the session holds, and how many of them are durable.
    size: u64,
    committed: u64,
}

impl UploadWriter {
    /// The (plaintext) bytes the session holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Seals `bytes` and appends them to the session.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), RegistryError> {
        use std::io::Write;
        let mut sealed = bytes.to_vec();
        self.key.seal(&self.header, self.size, &mut sealed);
        self.file
            .write_all(&sealed)
            .map_err(|e| RegistryError::io(&self.session.join("data"), e))?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Makes what was appended survive a crash: its data and, on the session's first bytes,
    /// the session itself. The bytes the session now holds.
    pub fn commit(&mut self) -> Result<u64, RegistryError> {
        // The data and the length that finds it; the file's other metadata may lag.
        self.file
            .sync_data()
            .map_err(|e| RegistryError::io(&self.session.join("data"), e))?;
        if self.committed == 0 {
            let owner = self.session.join("repository");
            std::fs::File::open(&owner)
                .and_then(|f| f.sync_all())
                .map_err(|e| RegistryError::io(&owner, e))?;
            files::sync_dir(&self.session)?;
            files::sync_dir(&self.sessions)?;
        }
        self.committed = self.size;
        Ok(self.size)
    }

    /// Ends the session and drops what it holds.
    pub fn cancel(self) -> Result<(), RegistryError> {
        remove_session(&self.session)
    }
}

/// Removes a session's directory (absent is fine).
fn remove_session(dir: &Path) -> Result<(), RegistryError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RegistryError::io(dir, e)),
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

    /// The writer that appends to a session of `repository`.
    pub fn writer(&self, repository: &str, id: &str) -> Result<UploadWriter, RegistryError> {
        use std::io::Read;
        let (data, size) = self.data(repository, id)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&data)
            .map_err(|e| RegistryError::io(&data, e))?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header)
            .map_err(|e| RegistryError::io(&data, e))?;
        Ok(UploadWriter {
            session: self.session(id)?,
            sessions: self.dir.clone(),
            file,
            key: self.key.clone(),
            header,
            size,
            committed: size,
        })
    }

    /// Ends a session, whatever became of its data.
    pub fn remove(&self, id: &str) -> Result<(), RegistryError> {
        remove_session(&self.session(id)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> (tempfile::TempDir, Uploads) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = Key::load_or_create(&dir.path().join("key")).expect("key");
        let uploads = Uploads::open(dir.path(), key).expect("uploads");
        (dir, uploads)
    }

    /// The plaintext a session holds, unsealed.
    fn plaintext(uploads: &Uploads, id: &str) -> Vec<u8> {
        let (data, _) = uploads.data("team/app", id).expect("session");
        let sealed = std::fs::read(data).expect("read");
        let header: [u8; 16] = sealed[..16].try_into().expect("header");
        let mut bytes = sealed[16..].to_vec();
        uploads.key.seal(&header, 0, &mut bytes);
        bytes
    }

    #[test]
    fn a_writer_appends_sealed_bytes_across_requests_and_commits_them() {
        let (_dir, uploads) = sessions();
        let id = uploads.start("team/app").expect("start");
        let mut writer = uploads.writer("team/app", &id).expect("writer");
        assert_eq!(writer.size(), 0);
        writer.append(b"hello, ").expect("append");
        writer.append(b"upload").expect("append");
        assert_eq!(writer.commit().expect("commit"), 13);
        drop(writer);
        // A later request resumes where the last one ended, sealed at the right offset.
        let mut writer = uploads.writer("team/app", &id).expect("writer");
        assert_eq!(writer.size(), 13);
        writer.append(b"!").expect("append");
        assert_eq!(writer.commit().expect("commit"), 14);
        assert_eq!(plaintext(&uploads, &id), b"hello, upload!");
        let (_, size) = uploads.data("team/app", &id).expect("session");
        assert_eq!(size, 14);
    }

    #[test]
    fn a_cancelled_session_is_gone_and_another_repository_cannot_write_to_it() {
        let (_dir, uploads) = sessions();
        let id = uploads.start("team/app").expect("start");
        assert!(matches!(
            uploads.writer("team/other", &id),
            Err(RegistryError::BlobUploadUnknown(_))
        ));
        assert!(matches!(
            uploads.writer("team/app", "../../key"),
            Err(RegistryError::BlobUploadUnknown(_))
        ));
        let mut writer = uploads.writer("team/app", &id).expect("writer");
        writer.append(b"partial").expect("append");
        writer.cancel().expect("cancel");
        assert!(matches!(
            uploads.writer("team/app", &id),
            Err(RegistryError::BlobUploadUnknown(_))
        ));
    }
}
