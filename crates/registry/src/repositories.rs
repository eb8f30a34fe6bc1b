//! Repositories, their images (manifests) and tags, on the file system beside the blobs:
//! `repositories/<name>/repository.json`, `.../images/<algorithm>-<hex>.json`,
//! `.../tags/<tag>` (holding a digest) and `.../layers/<algorithm>-<hex>` (empty: the blobs the
//! repository may read — stored once for every repository, but readable only where pushed or
//! mounted, so a repository's access policy also guards its layers). Every file is written
//! whole (temporary file, fsync, rename); changes to the metadata and garbage collection take
//! one lock, so a collection never races a manifest that is being pushed.

use crate::RegistryError;
use crate::blobs::{BlobStore, FsBlobStore, sync_dir};
use crate::digest::Digest;
use crate::manifest;
use crate::uploads::Uploads;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How often a pull is recorded (`lastRecordedPullTime`): ECR refreshes it at least daily.
const PULL_RECORD_SECONDS: f64 = 24.0 * 3600.0;

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

/// The registry: blobs, upload sessions and repositories under one directory, with the key
/// that seals the blobs (`key`).
pub struct Registry {
    dir: PathBuf,
    blobs: Box<dyn BlobStore>,
    uploads: Uploads,
    lock: Mutex<()>,
    create_on_push: bool,
}

/// ECR's repository name rule.
pub fn check_name(name: &str) -> Result<(), RegistryError> {
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
            return false;
        }
        // Separators: `.`, `_`, `__` or runs of `-`, each between alphanumerics.
        let mut i = 0;
        while i < b.len() {
            if alnum(&b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(&b[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            let fine = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
            if !fine {
                return false;
            }
        }
        true
    };
    if !(2..=256).contains(&name.len()) || !name.split('/').all(component_ok) {
        return Err(RegistryError::NameInvalid(format!(
            "{name:?}: a repository name is 2-256 characters of lower-case letters, digits and single separators (. _ __ -), in components joined by /"
        )));
    }
    Ok(())
}

/// The OCI tag rule.
pub fn check_tag(tag: &str) -> Result<(), RegistryError> {
    let b = tag.as_bytes();
    let first = b
        .first()
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let rest = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !first || !rest || b.len() > 128 {
        return Err(RegistryError::TagInvalid(format!(
            "{tag:?}: a tag is up to 128 letters, digits, _, . and -, not starting with . or -"
        )));
    }
    Ok(())
}

/// Writes `bytes` to `path` whole: temporary file, fsync, rename, directory fsync.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| RegistryError::io(dir, e))?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        RegistryError::io(path, e)
    })?;
    sync_dir(dir);
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with(".tmp-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Registry {
    /// Opens (creating) the registry under `dir`.
    pub fn open(dir: &Path) -> Result<Self, RegistryError> {
        let repositories = dir.join("repositories");
        std::fs::create_dir_all(&repositories).map_err(|e| RegistryError::io(dir, e))?;
        let key = crate::sealed::Key::load_or_create(&dir.join("key"))?;
        let registry = Self {
            dir: repositories,
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

    /// The repository a push goes to: created first when absent and create-on-push is on.
    /// The caller holds the lock.
    fn repository_for_push(&self, name: &str) -> Result<Repository, RegistryError> {
        match self.repository(name) {
            Err(RegistryError::NameUnknown(_)) if self.create_on_push => {
                let repository = Repository {
                    name: name.to_string(),
                    created_at: now(),
                    tag_mutability: "MUTABLE".into(),
                    scan_on_push: false,
                    tags: vec![],
                };
                let file = self.repo_dir(name).join("repository.json");
                write_atomic(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
                Ok(repository)
            }
            other => other,
        }
    }

    /// Starts an upload session for a push to `name`.
    pub fn start_upload(&self, name: &str) -> Result<String, RegistryError> {
        {
            let _guard = self.locked();
            self.repository_for_push(name)?;
        }
        self.uploads.start(name)
    }

    /// The blob store.
    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// The upload sessions.
    pub fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, ()> {
        // The lock guards no data of its own: a panic elsewhere leaves nothing half-done here.
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn repo_dir(&self, name: &str) -> PathBuf {
        // `/` is not allowed in a file name and `+` is not allowed in a repository name.
        self.dir.join(name.replace('/', "+"))
    }

    fn image_file(&self, name: &str, digest: &Digest) -> PathBuf {
        self.repo_dir(name).join("images").join(format!(
            "{}-{}.json",
            digest.algorithm(),
            digest.hex()
        ))
    }

    fn layer_link(&self, name: &str, digest: &Digest) -> PathBuf {
        self.repo_dir(name)
            .join("layers")
            .join(format!("{}-{}", digest.algorithm(), digest.hex()))
    }

    /// Lets `name` read blob `digest`, durably (the directory entry is fsynced).
    fn link(&self, name: &str, digest: &Digest) -> Result<(), RegistryError> {
        let file = self.layer_link(name, digest);
        if file.exists() {
            return Ok(());
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| RegistryError::io(dir, e))?;
        std::fs::File::create(&file).map_err(|e| RegistryError::io(&file, e))?;
        sync_dir(dir);
        Ok(())
    }

    fn tag_file(&self, name: &str, tag: &str) -> PathBuf {
        self.repo_dir(name).join("tags").join(tag)
    }

    /// Creates a repository.
    pub fn create_repository(&self, repository: Repository) -> Result<Repository, RegistryError> {
        check_name(&repository.name)?;
        let _guard = self.locked();
        let file = self.repo_dir(&repository.name).join("repository.json");
        if file.exists() {
            return Err(RegistryError::NameExists(repository.name));
        }
        write_atomic(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
        Ok(repository)
    }

    /// A repository by name.
    pub fn repository(&self, name: &str) -> Result<Repository, RegistryError> {
        check_name(name)?;
        read_json(&self.repo_dir(name).join("repository.json"))
            .ok_or_else(|| RegistryError::NameUnknown(name.to_string()))
    }

    /// Every repository, by name.
    pub fn repositories(&self) -> Vec<Repository> {
        let mut all: Vec<Repository> = entries(&self.dir)
            .iter()
            .filter_map(|d| read_json(&self.dir.join(d).join("repository.json")))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
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
        let file = self.repo_dir(name).join("repository.json");
        write_atomic(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
        Ok(repository)
    }

    /// Deletes a repository; one with images only when `force`. Its blobs go at the next
    /// garbage collection.
    pub fn delete_repository(&self, name: &str, force: bool) -> Result<Repository, RegistryError> {
        let _guard = self.locked();
        let repository = self.repository(name)?;
        let images = entries(&self.repo_dir(name).join("images"));
        if !images.is_empty() && !force {
            return Err(RegistryError::NameNotEmpty(format!(
                "{name} holds {} images: delete them first, or delete with force",
                images.len()
            )));
        }
        let dir = self.repo_dir(name);
        std::fs::remove_dir_all(&dir).map_err(|e| RegistryError::io(&dir, e))?;
        sync_dir(&self.dir);
        Ok(repository)
    }

    /// The size of a blob the repository may read (one pushed or mounted into it).
    pub fn blob_size(&self, name: &str, digest: &Digest) -> Result<u64, RegistryError> {
        self.repository(name)?;
        let unknown = || RegistryError::BlobUnknown(format!("{digest} is not in {name}"));
        if !self.layer_link(name, digest).exists() {
            return Err(unknown());
        }
        self.blobs.size(digest)?.ok_or_else(unknown)
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

    /// Resolves a tag or digest to the image it names.
    fn resolve(&self, name: &str, reference: &str) -> Result<(Digest, Image), RegistryError> {
        let digest = if reference.contains(':') {
            Digest::parse(reference)?
        } else {
            check_tag(reference)?;
            let text = std::fs::read_to_string(self.tag_file(name, reference))
                .map_err(|_| RegistryError::ManifestUnknown(format!("{name}:{reference}")))?;
            Digest::parse(text.trim())?
        };
        let image: Image = read_json(&self.image_file(name, &digest))
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
            let actual = claimed
                .of_reader(bytes)
                .map_err(|e| RegistryError::Storage(e.to_string()))?;
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
            let listed: Image = read_json(&self.image_file(name, digest)).ok_or_else(|| {
                RegistryError::ManifestBlobUnknown(format!(
                    "manifest {digest} is not in {name}: push it before the index"
                ))
            })?;
            size = size.max(listed.size);
        }
        let digest = self.blobs.put(bytes)?;
        if !by_digest {
            let taken = std::fs::read_to_string(self.tag_file(name, reference)).ok();
            if repository.tag_mutability == "IMMUTABLE"
                && taken.is_some_and(|t| t.trim() != digest.to_string())
            {
                return Err(RegistryError::TagInvalid(format!(
                    "The image tag '{reference}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                )));
            }
        }
        let file = self.image_file(name, &digest);
        let image = match read_json::<Image>(&file) {
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
                write_atomic(&file, &serde_json::to_vec(&image).unwrap_or_default())?;
                image
            }
        };
        if !by_digest {
            write_atomic(
                &self.tag_file(name, reference),
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
        std::io::Read::read_to_end(&mut blob, &mut bytes)
            .map_err(|e| RegistryError::Storage(e.to_string()))?;
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
        let file = self.image_file(name, &digest);
        if let Some(mut image) = read_json::<Image>(&file) {
            image.last_pulled_at = Some(now());
            let _ = write_atomic(&file, &serde_json::to_vec(&image).unwrap_or_default());
        }
    }

    fn tags_of(&self, name: &str, digest: &str) -> Vec<String> {
        let dir = self.repo_dir(name).join("tags");
        entries(&dir)
            .into_iter()
            .filter(|t| std::fs::read_to_string(dir.join(t)).is_ok_and(|d| d.trim() == digest))
            .collect()
    }

    /// Every tag of the repository.
    pub fn tags(&self, name: &str) -> Result<Vec<String>, RegistryError> {
        self.repository(name)?;
        Ok(entries(&self.repo_dir(name).join("tags")))
    }

    /// Every image of the repository, with its tags.
    pub fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError> {
        self.repository(name)?;
        let dir = self.repo_dir(name);
        let mut by_digest: std::collections::BTreeMap<String, Image> = entries(&dir.join("images"))
            .iter()
            .filter_map(|f| read_json::<Image>(&dir.join("images").join(f)))
            .map(|i| (i.digest.clone(), i))
            .collect();
        for tag in entries(&dir.join("tags")) {
            if let Ok(d) = std::fs::read_to_string(dir.join("tags").join(&tag))
                && let Some(image) = by_digest.get_mut(d.trim())
            {
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
        let file = self.tag_file(name, tag);
        std::fs::remove_file(&file).map_err(|e| RegistryError::io(&file, e))?;
        Ok(image)
    }

    /// Deletes an image and every tag on it.
    pub fn delete_manifest(&self, name: &str, digest: &Digest) -> Result<Image, RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        let (_, mut image) = self.resolve(name, &digest.to_string())?;
        image.tags = self.tags_of(name, &image.digest);
        for tag in &image.tags {
            let _ = std::fs::remove_file(self.tag_file(name, tag));
        }
        let file = self.image_file(name, digest);
        std::fs::remove_file(&file).map_err(|e| RegistryError::io(&file, e))?;
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

    /// The blobs (config and layers) the stored manifest `digest` refers to.
    fn blobs_of(&self, digest: &Digest, media_type: &str) -> Result<Vec<Digest>, RegistryError> {
        let mut bytes = Vec::new();
        if let Some(mut blob) = self.blobs.open(digest)? {
            let _ = std::io::Read::read_to_end(&mut blob, &mut bytes);
        }
        Ok(manifest::parse(&bytes, media_type)
            .map(|parsed| parsed.blobs.into_iter().map(|(d, _)| d).collect())
            .unwrap_or_default())
    }

    /// Links the blobs of every image in repositories stored before repositories had links
    /// (no `layers/` directory), so they stay pullable.
    fn link_unlinked(&self) -> Result<(), RegistryError> {
        for repository in self.repositories() {
            if self.repo_dir(&repository.name).join("layers").exists() {
                continue;
            }
            for image in self.images(&repository.name)? {
                let Ok(digest) = Digest::parse(&image.digest) else {
                    continue;
                };
                for blob in self.blobs_of(&digest, &image.media_type)? {
                    self.link(&repository.name, &blob)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the blobs no image of any repository refers to, except those stored less than
    /// `grace` ago (a push under way uploads its blobs before its manifest). Returns the blobs
    /// removed and their bytes.
    pub fn collect_garbage(&self, grace: Duration) -> Result<(usize, u64), RegistryError> {
        let _guard = self.locked();
        let mut live = std::collections::HashSet::new();
        for repository in self.repositories() {
            for image in self.images(&repository.name)? {
                let Ok(digest) = Digest::parse(&image.digest) else {
                    continue;
                };
                live.extend(self.blobs_of(&digest, &image.media_type)?);
                live.insert(digest);
            }
        }
        let (mut removed, mut freed) = (vec![], 0);
        let now = SystemTime::now();
        for digest in self.blobs.list()? {
            let recent = self
                .blobs
                .stored_at(&digest)
                .is_some_and(|at| now.duration_since(at).unwrap_or_default() < grace);
            if live.contains(&digest) || recent {
                continue;
            }
            freed += self.blobs.size(&digest)?.unwrap_or(0);
            self.blobs.delete(&digest)?;
            removed.push(digest);
        }
        // The repositories no longer hold the removed blobs: drop their links too.
        for repository in self.repositories() {
            for digest in &removed {
                let _ = std::fs::remove_file(self.layer_link(&repository.name, digest));
            }
        }
        let removed = removed.len();
        self.uploads.purge_stale(now);
        Ok((removed, freed))
    }

    /// Sets a repository's lifecycle policy (checked first).
    pub fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), RegistryError> {
        crate::lifecycle::Policy::parse(text)?;
        let _guard = self.locked();
        self.repository(name)?;
        let stored = serde_json::json!({ "text": text, "lastEvaluatedAt": null });
        write_atomic(
            &self.repo_dir(name).join("lifecycle.json"),
            stored.to_string().as_bytes(),
        )
    }

    /// A repository's lifecycle policy and when it was last evaluated.
    pub fn lifecycle_policy(&self, name: &str) -> Result<(String, Option<f64>), RegistryError> {
        self.repository(name)?;
        let stored: serde_json::Value = read_json(&self.repo_dir(name).join("lifecycle.json"))
            .ok_or_else(|| {
                RegistryError::LifecyclePolicyNotFound(format!(
                    "Lifecycle policy does not exist for the repository with name '{name}': set one with PutLifecyclePolicy"
                ))
            })?;
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
        let file = self.repo_dir(name).join("lifecycle.json");
        std::fs::remove_file(&file).map_err(|e| RegistryError::io(&file, e))?;
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
        let policy = crate::lifecycle::Policy::parse(&text)?;
        let expired = policy.expired(&self.images(name)?, now());
        let stored = serde_json::json!({
            "text": text,
            "results": expired.iter().map(|(i, p)| serde_json::json!({"digest": i.digest, "priority": p})).collect::<Vec<_>>(),
        });
        write_atomic(
            &self.repo_dir(name).join("lifecycle-preview.json"),
            stored.to_string().as_bytes(),
        )?;
        Ok((text, expired))
    }

    /// The last preview: the policy text and the images it would expire.
    pub fn lifecycle_preview(
        &self,
        name: &str,
    ) -> Result<(String, Vec<(Image, i64)>), RegistryError> {
        let stored: serde_json::Value =
            read_json(&self.repo_dir(name).join("lifecycle-preview.json")).ok_or_else(|| {
                RegistryError::LifecyclePolicyNotFound(format!(
                    "There is no lifecycle policy preview for the repository with name '{name}': start one with StartLifecyclePolicyPreview"
                ))
            })?;
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
        for repository in self.repositories() {
            let Ok((text, _)) = self.lifecycle_policy(&repository.name) else {
                continue;
            };
            let Ok(policy) = crate::lifecycle::Policy::parse(&text) else {
                continue;
            };
            for (image, _) in policy.expired(&self.images(&repository.name)?, now()) {
                self.delete_manifest(&repository.name, &Digest::parse(&image.digest)?)?;
                expired += 1;
            }
            let _guard = self.locked();
            let stored = serde_json::json!({ "text": text, "lastEvaluatedAt": now() });
            write_atomic(
                &self.repo_dir(&repository.name).join("lifecycle.json"),
                stored.to_string().as_bytes(),
            )?;
        }
        Ok(expired)
    }

    /// Sets a repository's policy (checked by the caller, which knows the policy language).
    pub fn set_repository_policy(&self, name: &str, text: &str) -> Result<(), RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        write_atomic(&self.repo_dir(name).join("policy.json"), text.as_bytes())
    }

    /// A repository's policy, if it has one.
    pub fn repository_policy(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.repo_dir(name).join("policy.json")).ok()
    }

    /// Removes a repository's policy: what it was.
    pub fn delete_repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let _guard = self.locked();
        self.repository(name)?;
        let policy = self.repository_policy(name);
        if policy.is_some() {
            let file = self.repo_dir(name).join("policy.json");
            std::fs::remove_file(&file).map_err(|e| RegistryError::io(&file, e))?;
        }
        Ok(policy)
    }
}
