//! Garbage collection: the blobs no image of any repository refers to are removed (with the
//! links to them), what is left of interrupted repository deletions is swept, and stale upload
//! sessions are purged.

use super::Registry;
use super::layout::Layout;
use crate::RegistryError;
use crate::files;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

impl Registry {
    /// Removes the blobs no image of any repository refers to, except those stored less than
    /// `grace` ago (a push under way uploads its blobs before its manifest). Returns the blobs
    /// removed and their bytes. Anything that cannot be read while the blobs still referred to
    /// are found fails the collection before it removes anything: a blob left out by a read
    /// error would be deleted from under its image.
    pub fn collect_garbage(&self, grace: Duration) -> Result<(usize, u64), RegistryError> {
        let _guard = self.locked();
        let repositories = self.repositories()?;
        let mut live = HashSet::new();
        for repository in &repositories {
            for (manifest, blobs) in self.image_blobs(&repository.name)? {
                live.extend(blobs);
                live.insert(manifest);
            }
        }
        let now = SystemTime::now();
        let mut garbage = vec![];
        for digest in self.blobs.list()? {
            let Some(stored_at) = self.blobs.stored_at(&digest)? else {
                continue;
            };
            let recent = now.duration_since(stored_at).unwrap_or_default() < grace;
            if !live.contains(&digest) && !recent {
                garbage.push(digest);
            }
        }
        let mut freed = 0;
        for digest in &garbage {
            freed += self.blobs.size(digest)?.unwrap_or(0);
            self.blobs.delete(digest)?;
            // The repositories no longer hold it: drop their links too.
            for repository in &repositories {
                files::remove_file(&self.layout.layer(&repository.name, digest))?;
            }
        }
        self.sweep_deleted_repositories()?;
        self.uploads.purge_stale(now);
        Ok((garbage.len(), freed))
    }

    /// Removes what is left of repositories whose deletion was cut short (see
    /// [`Self::delete_repository`]).
    fn sweep_deleted_repositories(&self) -> Result<(), RegistryError> {
        let root = self.layout.root();
        let listing = std::fs::read_dir(root).map_err(|e| RegistryError::io(root, e))?;
        for entry in listing {
            let path = entry.map_err(|e| RegistryError::io(root, e))?.path();
            if Layout::is_deleted(&path) {
                std::fs::remove_dir_all(&path).map_err(|e| RegistryError::io(&path, e))?;
            }
        }
        Ok(())
    }
}
