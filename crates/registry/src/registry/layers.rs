//! The blobs a repository may read (its layers): a link is made when an upload to it finishes
//! or a blob is mounted into it, and every read checks for one. Blobs are stored once however
//! many repositories link them.

use super::Registry;
use crate::RegistryError;
use crate::digest::Digest;
use crate::files;

impl Registry {
    /// Starts an upload session for a push to `name`.
    pub fn start_upload(&self, name: &str) -> Result<String, RegistryError> {
        {
            let _guard = self.locked();
            self.repository_for_push(name)?;
        }
        self.uploads.start(name)
    }

    /// Completes an upload session: the data is verified against `digest`, stored, and made
    /// readable from the repository.
    pub fn finish_upload(
        &self,
        name: &str,
        id: &str,
        digest: &Digest,
    ) -> Result<u64, RegistryError> {
        let (data, _) = self.uploads.data(name, id)?;
        let stored = self.blobs.ingest(&data, digest);
        self.uploads.remove(id)?;
        let size = stored?;
        self.link(name, digest)?;
        Ok(size)
    }

    /// Mounts blob `digest` of repository `from` into `name` (creating `name` when
    /// create-on-push is on); false when `from` cannot read it. The caller checks that whoever
    /// asks may read `from`.
    pub fn mount_blob(
        &self,
        name: &str,
        from: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        // Under the lock, so garbage collection cannot remove the blob between check and link.
        let _guard = self.locked();
        if self.blob_size(from, digest).is_err() {
            return Ok(false);
        }
        self.repository_for_push(name)?;
        self.link(name, digest)?;
        Ok(true)
    }

    /// The size of a blob the repository may read (one pushed or mounted into it).
    pub fn blob_size(&self, name: &str, digest: &Digest) -> Result<u64, RegistryError> {
        self.repository(name)?;
        let unknown = || RegistryError::BlobUnknown(format!("{digest} is not in {name}"));
        let link = self.layout.layer(name, digest);
        if !link.try_exists().map_err(|e| RegistryError::io(&link, e))? {
            return Err(unknown());
        }
        self.blobs.size(digest)?.ok_or_else(unknown)
    }

    /// Lets `name` read blob `digest`, durably (the directory entry is fsynced even when the
    /// link was there: a concurrent upload of the same blob may have made it and not yet
    /// fsynced it).
    fn link(&self, name: &str, digest: &Digest) -> Result<(), RegistryError> {
        let file = self.layout.layer(name, digest);
        let dir = files::parent(&file);
        files::create_dir_all(dir)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .map_err(|e| RegistryError::io(&file, e))?;
        files::sync_dir(dir)
    }

    /// Links the blobs of every image in repositories stored before repositories had links
    /// (no `layers/` directory), so they stay pullable.
    pub(super) fn link_unlinked(&self) -> Result<(), RegistryError> {
        for repository in self.repositories()? {
            let layers = self.layout.layers(&repository.name);
            if layers
                .try_exists()
                .map_err(|e| RegistryError::io(&layers, e))?
            {
                continue;
            }
            for (_, blobs) in self.image_blobs(&repository.name)? {
                for blob in blobs {
                    self.link(&repository.name, &blob)?;
                }
            }
        }
        Ok(())
    }
}
