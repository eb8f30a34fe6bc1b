//! Repositories, their images (manifests) and tags, on the file system beside the blobs:
//! `repositories/<name>/repository.json`, `.../images/<algorithm>-<hex>.json`,
//! `.../tags/<tag>` (holding a digest) and `.../layers/<algorithm>-<hex>` (empty: the blobs the
//! repository may read — stored once for every repository, but readable only where pushed or
//! mounted, so a repository's access policy also guards its layers). Every file is written
//! whole and durably (see the `files` module); changes to the metadata and garbage collection
//! take one lock, so a collection never races a manifest that is being pushed.
//!
//! Reads tell a file that is not there from one that cannot be read: an error is never taken
//! for "nothing there", since garbage collection would then delete the blobs of images it
//! failed to read.

use crate::RegistryError;
use crate::blobs::{BlobStore, FsBlobStore};
use crate::digest::Digest;
use crate::files;
use crate::manifest;
use crate::uploads::Uploads;
use serde::{Deserialize, Serialize};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How often a pull is recorded (`lastRecordedPullTime`): ECR refreshes it at least daily.
const PULL_RECORD_SECONDS: f64 = 24.0 * 3600.0;

/// How the directory of a deleted repository is renamed while its files are removed.
const DELETED: &str = ".deleted-";

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

/// The contents of `path`, or None when there is no such file.
fn read(path: &Path) -> Result<Option<Vec<u8>>, RegistryError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RegistryError::io(path, e)),
    }
}

/// `path` parsed, or None when there is no such file; a file that does not parse is damaged,
/// an error.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, RegistryError> {
    read(path)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| RegistryError::Storage(format!("{} is damaged: {e}", path.display())))
        })
        .transpose()
}

/// The digest a tag file names, or None when there is no such tag.
fn read_tag(path: &Path) -> Result<Option<String>, RegistryError> {
    Ok(read(path)?.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()))
}

/// The names in `dir`, sorted; none when it does not exist (nothing was ever put there).
/// Names starting with `.` are not data: temporary files and deleted repositories.
fn entries(dir: &Path) -> Result<Vec<String>, RegistryError> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(RegistryError::io(dir, e)),
    };
    let mut names = vec![];
    for entry in listing {
        let name = entry.map_err(|e| RegistryError::io(dir, e))?.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') {
            names.push(name.into_owned());
        }
    }
    names.sort();
    Ok(names)
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
        files::create_dir_all(&repositories)?;
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
                files::write(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
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

    /// Lets `name` read blob `digest`, durably (the directory entry is fsynced even when the
    /// link was there: a concurrent upload of the same blob may have made it and not yet
    /// fsynced it).
    fn link(&self, name: &str, digest: &Digest) -> Result<(), RegistryError> {
        let file = self.layer_link(name, digest);
        let dir = files::parent(&file);
        files::create_dir_all(dir)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .map_err(|e| RegistryError::io(&file, e))?;
        files::sync_dir(dir)
    }

    fn tag_file(&self, name: &str, tag: &str) -> PathBuf {
        self.repo_dir(name).join("tags").join(tag)
    }

    /// Creates a repository.
    pub fn create_repository(&self, repository: Repository) -> Result<Repository, RegistryError> {
        check_name(&repository.name)?;
        let _guard = self.locked();
        let file = self.repo_dir(&repository.name).join("repository.json");
        if file.try_exists().map_err(|e| RegistryError::io(&file, e))? {
            return Err(RegistryError::NameExists(repository.name));
        }
        files::write(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
        Ok(repository)
    }

    /// A repository by name.
    pub fn repository(&self, name: &str) -> Result<Repository, RegistryError> {
        check_name(name)?;
        read_json(&self.repo_dir(name).join("repository.json"))?
            .ok_or_else(|| RegistryError::NameUnknown(name.to_string()))
    }

    /// Every repository, by name, or the error that kept one from being read.
    pub fn repositories(&self) -> Result<Vec<Repository>, RegistryError> {
        let mut all: Vec<Repository> = vec![];
        for dir in entries(&self.dir)? {
            // A directory without the file is a repository being created (under the lock),
            // or whose creation a crash cut short: not a repository.
            if let Some(repository) = read_json(&self.dir.join(dir).join("repository.json"))? {
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
        let file = self.repo_dir(name).join("repository.json");
        files::write(&file, &serde_json::to_vec(&repository).unwrap_or_default())?;
        Ok(repository)
    }

    /// Deletes a repository; one with images only when `force`. Its blobs go at the next
    /// garbage collection.
    pub fn delete_repository(&self, name: &str, force: bool) -> Result<Repository, RegistryError> {
        let _guard = self.locked();
        let repository = self.repository(name)?;
        let images = entries(&self.repo_dir(name).join("images"))?;
        if !images.is_empty() && !force {
            return Err(RegistryError::NameNotEmpty(format!(
                "{name} holds {} images: delete them first, or delete with force",
                images.len()
            )));
        }
        // Renamed out of sight first, durably, so the deletion is whole at once: a crash while
        // its files are removed leaves a hidden leftover (swept by garbage collection), not
        // half a repository whose tags a new one of the same name would inherit.
        let dir = self.repo_dir(name);
        let leftover = self.dir.join(format!("{DELETED}{}", uuid::Uuid::new_v4()));
        std::fs::rename(&dir, &leftover).map_err(|e| RegistryError::io(&dir, e))?;
        files::sync_dir(&self.dir)?;
        if let Err(e) = std::fs::remove_dir_all(&leftover) {
            tracing::warn!(error = %e, dir = %leftover.display(), "left for garbage collection");
        }
        Ok(repository)
    }

    /// The size of a blob the repository may read (one pushed or mounted into it).
    pub fn blob_size(&self, name: &str, digest: &Digest) -> Result<u64, RegistryError> {
        self.repository(name)?;
        let unknown = || RegistryError::BlobUnknown(format!("{digest} is not in {name}"));
        let link = self.layer_link(name, digest);
        if !link.try_exists().map_err(|e| RegistryError::io(&link, e))? {
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
            let file = self.tag_file(name, reference);
            let text = read_tag(&file)?
                .ok_or_else(|| RegistryError::ManifestUnknown(format!("{name}:{reference}")))?;
            Digest::parse(&text).map_err(|e| {
                RegistryError::Storage(format!("{} is damaged: {e}", file.display()))
            })?
        };
        let image: Image = read_json(&self.image_file(name, &digest))?
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
            let listed: Image = read_json(&self.image_file(name, digest))?.ok_or_else(|| {
                RegistryError::ManifestBlobUnknown(format!(
                    "manifest {digest} is not in {name}: push it before the index"
                ))
            })?;
            size = size.max(listed.size);
        }
        let digest = self.blobs.put(bytes)?;
        if !by_digest {
            let taken = read_tag(&self.tag_file(name, reference))?;
            if repository.tag_mutability == "IMMUTABLE"
                && taken.is_some_and(|t| t != digest.to_string())
            {
                return Err(RegistryError::TagInvalid(format!(
                    "The image tag '{reference}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                )));
            }
        }
        let file = self.image_file(name, &digest);
        let image = match read_json::<Image>(&file)? {
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
        // Best effort: a pull is served whether or not it could be recorded.
        if let Ok(Some(mut image)) = read_json::<Image>(&file) {
            image.last_pulled_at = Some(now());
            let _ = files::write(&file, &serde_json::to_vec(&image).unwrap_or_default());
        }
    }

    /// Every tag of the repository and the digest it names, by tag. A tag removed while they
    /// are read is left out.
    fn tag_targets(&self, name: &str) -> Result<Vec<(String, String)>, RegistryError> {
        let dir = self.repo_dir(name).join("tags");
        let mut targets = vec![];
        for tag in entries(&dir)? {
            if let Some(digest) = read_tag(&dir.join(&tag))? {
                targets.push((tag, digest));
            }
        }
        Ok(targets)
    }

    /// Every tag of the repository.
    pub fn tags(&self, name: &str) -> Result<Vec<String>, RegistryError> {
        self.repository(name)?;
        entries(&self.repo_dir(name).join("tags"))
    }

    /// Every image of the repository, with its tags. An image deleted while they are read is
    /// left out; one that cannot be read is an error.
    pub fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError> {
        self.repository(name)?;
        let dir = self.repo_dir(name).join("images");
        let mut by_digest = std::collections::BTreeMap::new();
        for file in entries(&dir)? {
            if let Some(image) = read_json::<Image>(&dir.join(file))? {
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
        files::remove_file_synced(&self.tag_file(name, tag))?;
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
            files::remove_file(&self.tag_file(name, tag))?;
        }
        if !image.tags.is_empty() {
            files::sync_dir(&self.repo_dir(name).join("tags"))?;
        }
        files::remove_file_synced(&self.image_file(name, digest))?;
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
    fn image_blobs(&self, name: &str) -> Result<Vec<(Digest, Vec<Digest>)>, RegistryError> {
        let mut out = vec![];
        for image in self.images(name)? {
            let damaged = |why: String| {
                RegistryError::Storage(format!("image {} of {name}: {why}", image.digest))
            };
            let digest = Digest::parse(&image.digest).map_err(|e| damaged(e.to_string()))?;
            let mut blob = self
                .blobs
                .open(&digest)?
                .ok_or_else(|| damaged("its manifest is missing from the blob store".into()))?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut blob, &mut bytes)
                .map_err(|e| damaged(e.to_string()))?;
            let parsed =
                manifest::parse(&bytes, &image.media_type).map_err(|e| damaged(e.to_string()))?;
            out.push((digest, parsed.blobs.into_iter().map(|(d, _)| d).collect()));
        }
        Ok(out)
    }

    /// Links the blobs of every image in repositories stored before repositories had links
    /// (no `layers/` directory), so they stay pullable.
    fn link_unlinked(&self) -> Result<(), RegistryError> {
        for repository in self.repositories()? {
            let layers = self.repo_dir(&repository.name).join("layers");
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

    /// Removes the blobs no image of any repository refers to, except those stored less than
    /// `grace` ago (a push under way uploads its blobs before its manifest). Returns the blobs
    /// removed and their bytes. Anything that cannot be read while the blobs still referred to
    /// are found fails the collection before it removes anything: a blob left out by a read
    /// error would be deleted from under its image.
    pub fn collect_garbage(&self, grace: Duration) -> Result<(usize, u64), RegistryError> {
        let _guard = self.locked();
        let repositories = self.repositories()?;
        let mut live = std::collections::HashSet::new();
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
                files::remove_file(&self.layer_link(&repository.name, digest))?;
            }
        }
        self.sweep_deleted_repositories()?;
        self.uploads.purge_stale(now);
        Ok((garbage.len(), freed))
    }

    /// Removes what is left of repositories whose deletion was cut short (see
    /// [`Self::delete_repository`]).
    fn sweep_deleted_repositories(&self) -> Result<(), RegistryError> {
        let listing = std::fs::read_dir(&self.dir).map_err(|e| RegistryError::io(&self.dir, e))?;
        for entry in listing {
            let path = entry.map_err(|e| RegistryError::io(&self.dir, e))?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(DELETED))
            {
                std::fs::remove_dir_all(&path).map_err(|e| RegistryError::io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Sets a repository's lifecycle policy (checked first).
    pub fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), RegistryError> {
        crate::lifecycle::Policy::parse(text)?;
        let _guard = self.locked();
        self.repository(name)?;
        let stored = serde_json::json!({ "text": text, "lastEvaluatedAt": null });
        files::write(
            &self.repo_dir(name).join("lifecycle.json"),
            stored.to_string().as_bytes(),
        )
    }

    /// A repository's lifecycle policy and when it was last evaluated.
    pub fn lifecycle_policy(&self, name: &str) -> Result<(String, Option<f64>), RegistryError> {
        self.repository(name)?;
        let stored: serde_json::Value = read_json(&self.repo_dir(name).join("lifecycle.json"))?
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
        files::remove_file_synced(&self.repo_dir(name).join("lifecycle.json"))?;
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
        files::write(
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
            read_json(&self.repo_dir(name).join("lifecycle-preview.json"))?.ok_or_else(|| {
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
        for repository in self.repositories()? {
            let text = match self.lifecycle_policy(&repository.name) {
                Ok((text, _)) => text,
                Err(RegistryError::LifecyclePolicyNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let policy = match crate::lifecycle::Policy::parse(&text) {
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
            let stored = serde_json::json!({ "text": text, "lastEvaluatedAt": now() });
            files::write(
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
        files::write(&self.repo_dir(name).join("policy.json"), text.as_bytes())
    }

    /// A repository's policy, if it has one. A policy that cannot be read is an error, never
    /// "no policy": its denies must not be skipped.
    pub fn repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let path = self.repo_dir(name).join("policy.json");
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
            files::remove_file_synced(&self.repo_dir(name).join("policy.json"))?;
        }
        Ok(policy)
    }
}
