//! Repositories and their settings: created, read, listed, changed and deleted, and created on
//! a push when create-on-push is on.

use super::layout::{Layout, check_name};
use super::{Registry, now};
use crate::RegistryError;
use crate::files;
use serde::{Deserialize, Serialize};

/// A repository and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// Its name, e.g. `team/app`.
    pub name: String,
    /// Seconds since the epoch.
    #[serde(rename = "createdAt")]
    pub created_at: f64,
    /// `MUTABLE` or `IMMUTABLE`.
    #[serde(rename = "imageTagMutability")]
    pub tag_mutability: String,
    /// Whether images are scanned on push (recorded; Berth does not scan).
    #[serde(rename = "scanOnPush")]
    pub scan_on_push: bool,
    /// Its resource tags, in the order they were first set.
    #[serde(default)]
    pub tags: Vec<ResourceTag>,
}

/// A resource tag on a repository (ECR's `Key`/`Value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTag {
    /// The key, unique on the repository.
    #[serde(rename = "Key")]
    pub key: String,
    /// The value, possibly empty.
    #[serde(rename = "Value")]
    pub value: String,
}

impl Registry {
    /// Creates a repository.
    pub fn create_repository(&self, repository: Repository) -> Result<Repository, RegistryError> {
        check_name(&repository.name)?;
        let _guard = self.locked();
        let file = self.layout.settings(&repository.name);
        if file.try_exists().map_err(|e| RegistryError::io(&file, e))? {
            return Err(RegistryError::NameExists(repository.name));
        }
        self.write_settings(&repository.name, &repository)?;
        Ok(repository)
    }

    /// A repository by name.
    pub fn repository(&self, name: &str) -> Result<Repository, RegistryError> {
        check_name(name)?;
        files::read_json(&self.layout.settings(name))?
            .ok_or_else(|| RegistryError::NameUnknown(name.to_string()))
    }

    /// Every repository, by name, or the error that kept one from being read.
    pub fn repositories(&self) -> Result<Vec<Repository>, RegistryError> {
        let root = self.layout.root();
        let mut all: Vec<Repository> = vec![];
        for dir in files::entries(root)? {
            // A directory without the file is a repository being created (under the lock),
            // or whose creation a crash cut short: not a repository.
            if let Some(repository) = files::read_json(&Layout::settings_in(&root.join(dir)))? {
                all.push(repository);
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Changes a repository's settings; nothing is written when `change` refuses.
    pub fn update_repository(
        &self,
        name: &str,
        change: impl FnOnce(&mut Repository) -> Result<(), RegistryError>,
    ) -> Result<Repository, RegistryError> {
        let _guard = self.locked();
        let mut repository = self.repository(name)?;
        change(&mut repository)?;
        self.write_settings(name, &repository)?;
        Ok(repository)
    }

    /// Deletes a repository; one with images only when `force`. Its blobs go at the next
    /// garbage collection.
    pub fn delete_repository(&self, name: &str, force: bool) -> Result<Repository, RegistryError> {
        let _guard = self.locked();
        let repository = self.repository(name)?;
        let images = files::entries(&self.layout.images(name))?;
        if !images.is_empty() && !force {
            return Err(RegistryError::NameNotEmpty(format!(
                "{name} holds {} images: delete them first, or delete with force",
                images.len()
            )));
        }
        // Renamed out of sight first, durably, so the deletion is whole at once: a crash while
        // its files are removed leaves a hidden leftover (swept by garbage collection), not
        // half a repository whose tags a new one of the same name would inherit.
        let dir = self.layout.repository(name);
        let leftover = self.layout.deleted();
        std::fs::rename(&dir, &leftover).map_err(|e| RegistryError::io(&dir, e))?;
        files::sync_dir(self.layout.root())?;
        if let Err(e) = std::fs::remove_dir_all(&leftover) {
            tracing::warn!(error = %e, dir = %leftover.display(), "left for garbage collection");
        }
        Ok(repository)
    }

    /// The repository a push goes to: created first when absent and create-on-push is on,
    /// else refused with [`RegistryError::PushNameUnknown`].
    /// The caller holds the lock.
    pub(super) fn repository_for_push(&self, name: &str) -> Result<Repository, RegistryError> {
        match self.repository(name) {
            Err(RegistryError::NameUnknown(_)) if self.create_on_push => {
                let repository = Repository {
                    name: name.to_string(),
                    created_at: now(),
                    tag_mutability: "MUTABLE".into(),
                    scan_on_push: false,
                    tags: vec![],
                };
                self.write_settings(name, &repository)?;
                Ok(repository)
            }
            Err(RegistryError::NameUnknown(_)) => {
                Err(RegistryError::PushNameUnknown(name.to_string()))
            }
            other => other,
        }
    }

    fn write_settings(&self, name: &str, repository: &Repository) -> Result<(), RegistryError> {
        let bytes = serde_json::to_vec(repository).unwrap_or_default();
        files::write(&self.layout.settings(name), &bytes)
    }
}
