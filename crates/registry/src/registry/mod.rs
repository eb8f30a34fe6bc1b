//! The [`Registry`]: blobs, upload sessions and repositories under one directory, and the one
//! lock that orders changes to repositories' metadata against garbage collection, so a
//! collection never races a manifest being pushed. Every file is written whole and durably
//! (see the `files` module). Its operations live with their concern:
//!
//! - `layout`: where each repository's files are, and the name and tag rules;
//! - `repositories`: repositories and their settings;
//! - `layers`: the blobs a repository may read, pushed or mounted into it;
//! - `images`: images (manifests), tags and referrers;
//! - `gc`: garbage collection of blobs no image refers to;
//! - `policies`: a repository's lifecycle policy (its preview and its application) and its
//!   access policy, as stored.

mod gc;
mod images;
mod layers;
mod layout;
mod policies;
mod repositories;

pub use images::Image;
pub use layout::check_name;
pub use repositories::{Repository, ResourceTag};

use crate::RegistryError;
use crate::blobs::{BlobStore, FsBlobStore};
use crate::files;
use crate::uploads::Uploads;
use layout::Layout;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

/// The registry: blobs, upload sessions and repositories under one directory, with the key
/// that seals the blobs (`key`).
pub struct Registry {
    layout: Layout,
    blobs: Box<dyn BlobStore>,
    uploads: Uploads,
    lock: Mutex<()>,
    create_on_push: bool,
}

impl Registry {
    /// Opens (creating) the registry under `dir`.
    pub fn open(dir: &Path) -> Result<Self, RegistryError> {
        let layout = Layout::new(dir);
        files::create_dir_all(layout.root())?;
        let key = crate::sealed::Key::load_or_create(&dir.join("key"))?;
        let registry = Self {
            layout,
            blobs: Box::new(FsBlobStore::open(dir, key.clone())?),
            uploads: Uploads::open(dir, key)?,
            lock: Mutex::new(()),
            create_on_push: false,
        };
        registry.link_unlinked()?;
        Ok(registry)
    }

    /// Whether a push to an absent repository creates it (off by default, as in ECR, where
    /// a repository creation template turns it on).
    pub fn create_on_push(mut self, on: bool) -> Self {
        self.create_on_push = on;
        self
    }

    /// The blob store.
    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// The upload sessions.
    pub fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data of its own: a panic elsewhere leaves nothing half-done here.
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Seconds since the epoch, as repositories and images record times.
pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
