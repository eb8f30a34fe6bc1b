//! The policies stored on a repository: its lifecycle policy (checked by
//! [`crate::lifecycle`], previewed, and applied to every repository before garbage collection)
//! and its access policy (checked and enforced by the caller, which knows the policy language).

use super::images::Image;
use super::{Registry, now};
use crate::RegistryError;
use crate::digest::Digest;
use crate::files;
use crate::lifecycle::Policy;
use serde_json::{Value, json};

impl Registry {
    /// Sets a repository's lifecycle policy (checked first).
    pub fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), RegistryError> {
        Policy::parse(text)?;
        let _guard = self.locked();
        self.repository(name)?;
        let stored = json!({ "text": text, "lastEvaluatedAt": null });
        files::write(
            &self.layout.lifecycle_policy(name),
            stored.to_string().as_bytes(),
        )
    }

    /// A repository's lifecycle policy and when it was last evaluated.
    pub fn lifecycle_policy(&self, name: &str) -> Result<(String, Option<f64>), RegistryError> {
        self.repository(name)?;
        let stored: Value = files::read_json(&self.layout.lifecycle_policy(name))?.ok_or_else(
            || {
                RegistryError::LifecyclePolicyNotFound(format!(
                    "Lifecycle policy does not exist for the repository with name '{name}': set one with PutLifecyclePolicy"
                ))
            },
        )?;
        Ok((
            stored["text"].as_str().unwrap_or_default().to_string(),
            stored["lastEvaluatedAt"].as_f64(),
        ))
    }

    /// Removes a repository's lifecycle policy: what it was.
    pub fn delete_lifecycle_policy(
        &self,
        name: &str,
    ) -> Result<(String, Option<f64>), RegistryError> {
        let policy = self.lifecycle_policy(name)?;
        let _guard = self.locked();
        files::remove_file_synced(&self.layout.lifecycle_policy(name))?;
        Ok(policy)
    }

    /// What `text` (or the repository's own policy) would expire now, without expiring it;
    /// kept as the repository's preview.
    pub fn preview_lifecycle(
        &self,
        name: &str,
        text: Option<&str>,
    ) -> Result<(String, Vec<(Image, i64)>), RegistryError> {
        let text = match text {
            Some(t) => t.to_string(),
            None => self.lifecycle_policy(name)?.0,
        };
        let policy = Policy::parse(&text)?;
        let expired = policy.expired(&self.images(name)?, now());
        let stored = json!({
            "text": text,
            "results": expired.iter().map(|(i, p)| json!({"digest": i.digest, "priority": p})).collect::<Vec<_>>(),
        });
        files::write(
            &self.layout.lifecycle_preview(name),
            stored.to_string().as_bytes(),
        )?;
        Ok((text, expired))
    }

    /// The last preview: the policy text and the images it would expire.
    pub(crate) fn lifecycle_preview(
        &self,
        name: &str,
    ) -> Result<(String, Vec<(Image, i64)>), RegistryError> {
        let stored: Value = files::read_json(&self.layout.lifecycle_preview(name))?.ok_or_else(
            || {
                RegistryError::LifecyclePreviewNotFound(format!(
                    "There is no lifecycle policy preview for the repository with name '{name}': start one with StartLifecyclePolicyPreview"
                ))
            },
        )?;
        let images = self.images(name)?;
        let results = stored["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let image = images
                    .iter()
                    .find(|i| Some(i.digest.as_str()) == r["digest"].as_str())?;
                Some((image.clone(), r["priority"].as_i64().unwrap_or_default()))
            })
            .collect();
        Ok((
            stored["text"].as_str().unwrap_or_default().to_string(),
            results,
        ))
    }

    /// Evaluates every repository's lifecycle policy and expires what it selects: the images
    /// expired.
    pub fn apply_lifecycle_policies(&self) -> Result<usize, RegistryError> {
        let mut expired = 0;
        for repository in self.repositories()? {
            let text = match self.lifecycle_policy(&repository.name) {
                Ok((text, _)) => text,
                Err(RegistryError::LifecyclePolicyNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let policy = match Policy::parse(&text) {
                Ok(policy) => policy,
                // Stored before a check it fails was added: set aside, not applied by guesswork.
                Err(e) => {
                    let name = &repository.name;
                    tracing::warn!(repository = %name, error = %e, "lifecycle policy not applied");
                    continue;
                }
            };
            for (image, _) in policy.expired(&self.images(&repository.name)?, now()) {
                self.delete_manifest(&repository.name, &Digest::parse(&image.digest)?)?;
                expired += 1;
            }
            let _guard = self.locked();
            let stored = json!({ "text": text, "lastEvaluatedAt": now() });
            files::write(
                &self.layout.lifecycle_policy(&repository.name),
                stored.to_string().as_bytes(),
            )?;
        }
        Ok(expired)
    }

    /// Sets a repository's policy (checked by the caller, which knows the policy language).
    pub fn set_repository_policy(&self, name: &str, text: &str) -> Result<(), RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        files::write(&self.layout.policy(name), text.as_bytes())
    }

    /// A repository's policy, if it has one. A policy that cannot be read is an error, never
    /// "no policy": its denies must not be skipped.
    pub fn repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let path = self.layout.policy(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io(&path, e)),
        }
    }

    /// Removes a repository's policy: what it was.
    pub fn delete_repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        let policy = self.repository_policy(name)?;
        if policy.is_some() {
            files::remove_file_synced(&self.layout.policy(name))?;
        }
        Ok(policy)
    }
}
