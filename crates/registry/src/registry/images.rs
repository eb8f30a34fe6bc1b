//! Images (a manifest in a repository) and their tags: pushed, resolved by tag or digest,
//! listed, untagged and deleted, with the referrers of a manifest and the blobs each image
//! refers to (what garbage collection keeps).

use super::layout::check_tag;
use super::{Registry, now};
use crate::RegistryError;
use crate::digest::Digest;
use crate::files;
use crate::manifest;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How often a pull is recorded (`lastRecordedPullTime`): ECR refreshes it at least daily.
const PULL_RECORD_SECONDS: f64 = 24.0 * 3600.0;

/// An image: a manifest in a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Bytes of the manifest itself.
    #[serde(rename = "manifestSize")]
    pub manifest_size: u64,
    /// Bytes of the blobs it refers to.
    pub size: u64,
    /// Seconds since the epoch.
    #[serde(rename = "pushedAt")]
    pub pushed_at: f64,
    /// When it was last pulled.
    #[serde(rename = "lastPulledAt", default)]
    pub last_pulled_at: Option<f64>,
    /// The manifest it refers to (referrers API).
    #[serde(default)]
    pub subject: Option<String>,
    /// Its artifact type.
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// Its tags (filled in when read).
    #[serde(skip)]
    pub tags: Vec<String>,
}

/// The digest a tag file names, or None when there is no such tag.
fn read_tag(path: &Path) -> Result<Option<String>, RegistryError> {
    Ok(files::read(path)?.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()))
}

impl Registry {
    /// Resolves a tag or digest to the image it names.
    fn resolve(&self, name: &str, reference: &str) -> Result<(Digest, Image), RegistryError> {
        let digest = if reference.contains(':') {
            Digest::parse(reference)?
        } else {
            check_tag(reference)?;
            let file = self.layout.tag(name, reference);
            let text = read_tag(&file)?
                .ok_or_else(|| RegistryError::ManifestUnknown(format!("{name}:{reference}")))?;
            Digest::parse(&text).map_err(|e| {
                RegistryError::damaged(format!("{} is damaged: {e}", file.display()))
            })?
        };
        let image: Image = files::read_json(&self.layout.image(name, &digest))?
            .ok_or_else(|| RegistryError::ManifestUnknown(format!("{name}@{digest}")))?;
        Ok((digest, image))
    }

    /// Stores a manifest under a tag or its digest: its blobs (or, for an index, its
    /// manifests) must already be in the repository's reach.
    pub fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Image, RegistryError> {
        let parsed = manifest::parse(bytes, content_type)?;
        let by_digest = reference.contains(':');
        if by_digest {
            let claimed = Digest::parse(reference)?;
            let actual = claimed.of_reader(bytes)?;
            if claimed != actual {
                return Err(RegistryError::DigestInvalid(format!(
                    "the manifest's digest is {actual}, not {claimed}"
                )));
            }
        } else {
            check_tag(reference)?;
        }
        let _guard = self.locked();
        let repository = self.repository_for_push(name)?;
        let mut size = 0;
        for (digest, declared) in &parsed.blobs {
            let stored = self.blob_size(name, digest).map_err(|e| match e {
                RegistryError::BlobUnknown(_) => RegistryError::ManifestBlobUnknown(format!(
                    "{digest} is not in {name}: push the blob (or mount it) before the manifest"
                )),
                other => other,
            })?;
            if stored != *declared {
                return Err(RegistryError::ManifestInvalid(format!(
                    "{digest} is {stored} bytes, not the {declared} the manifest says"
                )));
            }
            size += stored;
        }
        for digest in &parsed.manifests {
            let listed: Image =
                files::read_json(&self.layout.image(name, digest))?.ok_or_else(|| {
                    RegistryError::ManifestBlobUnknown(format!(
                        "manifest {digest} is not in {name}: push it before the index"
                    ))
                })?;
            size = size.max(listed.size);
        }
        let digest = self.blobs.put(bytes)?;
        if !by_digest {
            let taken = read_tag(&self.layout.tag(name, reference))?;
            if repository.tag_mutability == "IMMUTABLE"
                && taken.is_some_and(|t| t != digest.to_string())
            {
                return Err(RegistryError::TagImmutable(format!(
                    "The image tag '{reference}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                )));
            }
        }
        let file = self.layout.image(name, &digest);
        let image = match files::read_json::<Image>(&file)? {
            Some(existing) => existing,
            None => {
                let image = Image {
                    digest: digest.to_string(),
                    media_type: parsed.media_type.clone(),
                    manifest_size: bytes.len() as u64,
                    size,
                    pushed_at: now(),
                    last_pulled_at: None,
                    subject: parsed.subject.as_ref().map(Digest::to_string),
                    artifact_type: parsed.artifact_type.clone(),
                    tags: vec![],
                };
                files::write(&file, &serde_json::to_vec(&image).unwrap_or_default())?;
                image
            }
        };
        if !by_digest {
            files::write(
                &self.layout.tag(name, reference),
                digest.to_string().as_bytes(),
            )?;
        }
        Ok(image)
    }

    /// A manifest by tag or digest: the image (without its tags) and its bytes.
    pub fn manifest(&self, name: &str, reference: &str) -> Result<(Image, Vec<u8>), RegistryError> {
        self.repository(name)?;
        let (digest, image) = self.resolve(name, reference)?;
        let mut bytes = Vec::new();
        let mut blob = self
            .blobs
            .open(&digest)?
            .ok_or_else(|| RegistryError::ManifestUnknown(format!("{name}@{digest}")))?;
        std::io::Read::read_to_end(&mut blob, &mut bytes)?;
        Ok((image, bytes))
    }

    /// Records a pull of an image (`lastRecordedPullTime`), at most once a day per image as
    /// ECR does, so pulls cost no write.
    pub fn record_pull(&self, name: &str, image: &Image) {
        if image
            .last_pulled_at
            .is_some_and(|at| now() - at < PULL_RECORD_SECONDS)
        {
            return;
        }
        let Ok(digest) = Digest::parse(&image.digest) else {
            return;
        };
        let _guard = self.locked();
        let file = self.layout.image(name, &digest);
        // Best effort: a pull is served whether or not it could be recorded.
        if let Ok(Some(mut image)) = files::read_json::<Image>(&file) {
            image.last_pulled_at = Some(now());
            let _ = files::write(&file, &serde_json::to_vec(&image).unwrap_or_default());
        }
    }

    /// Every tag of the repository and the digest it names, by tag. A tag removed while they
    /// are read is left out.
    fn tag_targets(&self, name: &str) -> Result<Vec<(String, String)>, RegistryError> {
        let dir = self.layout.tags(name);
        let mut targets = vec![];
        for tag in files::entries(&dir)? {
            if let Some(digest) = read_tag(&dir.join(&tag))? {
                targets.push((tag, digest));
            }
        }
        Ok(targets)
    }

    /// Every tag of the repository.
    pub fn tags(&self, name: &str) -> Result<Vec<String>, RegistryError> {
        self.repository(name)?;
        files::entries(&self.layout.tags(name))
    }

    /// Every image of the repository, with its tags. An image deleted while they are read is
    /// left out; one that cannot be read is an error.
    pub fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError> {
        self.repository(name)?;
        let dir = self.layout.images(name);
        let mut by_digest = std::collections::BTreeMap::new();
        for file in files::entries(&dir)? {
            if let Some(image) = files::read_json::<Image>(&dir.join(file))? {
                by_digest.insert(image.digest.clone(), image);
            }
        }
        for (tag, digest) in self.tag_targets(name)? {
            if let Some(image) = by_digest.get_mut(&digest) {
                image.tags.push(tag);
            }
        }
        Ok(by_digest.into_values().collect())
    }

    /// Removes a tag; the image stays (untagged).
    pub fn untag(&self, name: &str, tag: &str) -> Result<Image, RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        let (_, image) = self.resolve(name, tag)?;
        files::remove_file_synced(&self.layout.tag(name, tag))?;
        Ok(image)
    }

    /// Deletes an image and every tag on it.
    pub fn delete_manifest(&self, name: &str, digest: &Digest) -> Result<Image, RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        let (_, mut image) = self.resolve(name, &digest.to_string())?;
        image.tags = self
            .tag_targets(name)?
            .into_iter()
            .filter(|(_, d)| *d == image.digest)
            .map(|(tag, _)| tag)
            .collect();
        // The tags go (durably) before the image, so none is left naming a missing image.
        for tag in &image.tags {
            files::remove_file(&self.layout.tag(name, tag))?;
        }
        if !image.tags.is_empty() {
            files::sync_dir(&self.layout.tags(name))?;
        }
        files::remove_file_synced(&self.layout.image(name, digest))?;
        Ok(image)
    }

    /// The images whose `subject` is `digest` (the referrers API).
    pub fn referrers(&self, name: &str, digest: &Digest) -> Result<Vec<Image>, RegistryError> {
        let subject = digest.to_string();
        Ok(self
            .images(name)?
            .into_iter()
            .filter(|i| i.subject.as_deref() == Some(subject.as_str()))
            .collect())
    }

    /// The manifest and the blobs (config and layers) of every image of a repository. An
    /// image or manifest that cannot be read is an error, never an image without blobs.
    pub(super) fn image_blobs(
        &self,
        name: &str,
    ) -> Result<Vec<(Digest, Vec<Digest>)>, RegistryError> {
        let mut out = vec![];
        for image in self.images(name)? {
            let at = format!("image {} of {name}", image.digest);
            let damaged = |why: String| RegistryError::damaged(format!("{at}: {why}"));
            let digest = Digest::parse(&image.digest).map_err(|e| damaged(e.to_string()))?;
            let mut blob = self
                .blobs
                .open(&digest)?
                .ok_or_else(|| damaged("its manifest is missing from the blob store".into()))?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut blob, &mut bytes)
                .map_err(|e| RegistryError::io_in(&at, e))?;
            let parsed =
                manifest::parse(&bytes, &image.media_type).map_err(|e| damaged(e.to_string()))?;
            out.push((digest, parsed.blobs.into_iter().map(|(d, _)| d).collect()));
        }
        Ok(out)
    }
}
