//! The log store: groups, streams and their events under one directory.
//!
//! Layout: `groups/<name>/group.json` (metadata), `groups/<name>/streams/<name>/stream.json`
//! and that stream's segment files (`<id>.seg`, see [`segment`]); names are hex-encoded (see
//! [`paths`]). Groups and streams are built in `scratch/` and renamed into place, and renamed
//! back there to be deleted, so a crash never leaves half of one in view.
//!
//! Locks, always taken in this order: the group table (an `RwLock`), the open-stream cache,
//! a stream's slot. Deletions hold the cache while they rename, so no request can open a
//! stream that is on its way out.

mod cache;
mod group;
mod index;
mod paths;
mod retention;
pub(crate) mod segment;
pub(crate) mod stream;

use crate::{Clock, Context, LogsApi, LogsError};
use cache::{Slot, SlotState, StreamCache, lock};
pub(crate) use group::GroupMeta;
use group::StreamMeta;
use paths::{Layout, is_named_dir, name_of_dir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use stream::StreamState;

/// How the store sizes its files and memory.
#[derive(Debug, Clone)]
pub struct Options {
    /// A stream's segment file is closed and a new one started past this many bytes.
    pub segment_bytes: u64,
    /// At most this many streams are held open (indexed in memory) at once.
    pub max_open_streams: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            segment_bytes: 6 << 20,
            max_open_streams: 512,
        }
    }
}

/// Every log group, stream and event, kept under one directory.
pub struct Logs {
    layout: Layout,
    clock: Arc<dyn Clock>,
    options: Options,
    groups: RwLock<BTreeMap<String, GroupMeta>>,
    cache: Mutex<StreamCache>,
}

pub(crate) fn group_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log group does not exist.".into())
}

pub(crate) fn stream_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log stream does not exist.".into())
}

fn io_error(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> LogsError {
    let context = format!("cannot {what} {}", path.display());
    move |e| LogsError::storage(context, e)
}

impl Logs {
    /// Opens (creating if need be) the log store kept in `dir`; a batch torn by a crash is cut
    /// off when its stream is first used.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, LogsError> {
        Self::open_with(dir, clock, Options::default())
    }

    /// [`Logs::open`] with other sizes than the defaults (tests use small segments).
    pub fn open_with(
        dir: &Path,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> Result<Self, LogsError> {
        let layout = Layout::new(dir);
        let scratch = layout.scratch();
        // Whatever is in scratch was half built or half deleted when the server stopped.
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(io_error("clear", &scratch))?;
        }
        for d in [layout.groups(), scratch] {
            std::fs::create_dir_all(&d).map_err(io_error("create", &d))?;
        }
        let groups = group::load_all(&layout)?;
        Ok(Self {
            layout,
            clock,
            cache: Mutex::new(StreamCache::new(options.max_open_streams)),
            options,
            groups: RwLock::new(groups),
        })
    }

    /// The CloudWatch Logs operations, answered in `context`'s region and account.
    pub fn api<'a>(&'a self, context: &'a Context) -> LogsApi<'a> {
        LogsApi::new(self, context)
    }

    /// Now, by the store's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    pub(crate) fn groups(&self) -> RwLockReadGuard<'_, BTreeMap<String, GroupMeta>> {
        self.groups.read().unwrap_or_else(|e| e.into_inner())
    }

    fn groups_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<String, GroupMeta>> {
        self.groups.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of a group's metadata.
    pub(crate) fn group(&self, name: &str) -> Result<GroupMeta, LogsError> {
        self.groups().get(name).cloned().ok_or_else(group_not_found)
    }

    /// A fresh directory in scratch, to build something in or to move something out to.
    fn scratch_path(&self) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.layout
            .scratch()
            .join(format!("{}-{n}", std::process::id()))
    }

    /// Creates a log group.
    pub(crate) fn create_group(&self, meta: GroupMeta) -> Result<(), LogsError> {
        let mut groups = self.groups_mut();
        if groups.contains_key(&meta.name) {
            return Err(LogsError::ResourceAlreadyExists(
                "The specified log group already exists".into(),
            ));
        }
        let build = self.scratch_path();
        let streams = build.join("streams");
        std::fs::create_dir_all(&streams).map_err(io_error("create", &streams))?;
        group::save(&build.join("group.json"), &meta)?;
        let target = self.layout.group(&meta.name);
        std::fs::rename(&build, &target).map_err(io_error("create", &target))?;
        berth_files::sync_dir(&self.layout.groups()).map_err(io_error("sync", &target))?;
        groups.insert(meta.name.clone(), meta);
        Ok(())
    }

    /// Changes a group's metadata with `change`, durably.
    pub(crate) fn update_group(
        &self,
        name: &str,
        change: impl FnOnce(&mut GroupMeta) -> Result<(), LogsError>,
    ) -> Result<(), LogsError> {
        let mut groups = self.groups_mut();
        let current = groups.get(name).ok_or_else(group_not_found)?;
        let mut meta = current.clone();
        change(&mut meta)?;
        group::save(&self.layout.group_meta(name), &meta)?;
        groups.insert(name.to_string(), meta);
        Ok(())
    }

    /// Deletes a log group with its streams and events.
    pub(crate) fn delete_group(&self, name: &str) -> Result<(), LogsError> {
        let mut groups = self.groups_mut();
        if !groups.contains_key(name) {
            return Err(group_not_found());
        }
        let trash = self.scratch_path();
        {
            let mut cache = lock(&self.cache);
            for slot in cache.remove_group(name) {
                *lock(&slot) = SlotState::Gone;
            }
            let dir = self.layout.group(name);
            std::fs::rename(&dir, &trash).map_err(io_error("delete", &dir))?;
        }
        groups.remove(name);
        drop(groups);
        berth_files::sync_dir(&self.layout.groups())
            .map_err(io_error("sync", &self.layout.groups()))?;
        self.discard(&trash);
        Ok(())
    }

    /// Removes a deleted group or stream from scratch; what is left is cleared on next open.
    fn discard(&self, trash: &Path) {
        if let Err(e) = std::fs::remove_dir_all(trash) {
            tracing::warn!(path = %trash.display(), error = %e, "cannot remove deleted logs");
        }
    }

    /// Creates a log stream in an existing group.
    pub(crate) fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        // Held so that the group cannot be deleted under us.
        let groups = self.groups();
        if !groups.contains_key(group) {
            return Err(group_not_found());
        }
        let exists =
            || LogsError::ResourceAlreadyExists("The specified log stream already exists".into());
        let target = self.layout.stream(group, stream);
        if target.exists() {
            return Err(exists());
        }
        let build = self.scratch_path();
        std::fs::create_dir_all(&build).map_err(io_error("create", &build))?;
        let meta = StreamMeta {
            name: stream.to_string(),
            creation_time: self.now(),
        };
        group::save(&build.join("stream.json"), &meta)?;
        // Renaming a directory onto a non-empty one fails, so of two racing creations one
        // wins and the other is told the stream exists.
        if let Err(e) = std::fs::rename(&build, &target) {
            self.discard(&build);
            return Err(if target.exists() {
                exists()
            } else {
                io_error("create", &target)(e)
            });
        }
        let parent = self.layout.streams(group);
        berth_files::sync_dir(&parent).map_err(io_error("sync", &parent))?;
        Ok(())
    }

    /// Deletes a log stream and its events.
    pub(crate) fn delete_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        let groups = self.groups();
        if !groups.contains_key(group) {
            return Err(group_not_found());
        }
        let dir = self.layout.stream(group, stream);
        let trash = self.scratch_path();
        {
            let mut cache = lock(&self.cache);
            if !self.stream_meta(group, stream).is_ok_and(|m| m.is_some()) {
                return Err(stream_not_found());
            }
            if let Some(slot) = cache.remove(group, stream) {
                *lock(&slot) = SlotState::Gone;
            }
            std::fs::rename(&dir, &trash).map_err(io_error("delete", &dir))?;
        }
        drop(groups);
        let parent = self.layout.streams(group);
        berth_files::sync_dir(&parent).map_err(io_error("sync", &parent))?;
        self.discard(&trash);
        Ok(())
    }

    /// A stream's metadata, `None` if there is no such stream.
    fn stream_meta(&self, group: &str, stream: &str) -> Result<Option<StreamMeta>, LogsError> {
        let path = self.layout.stream(group, stream).join("stream.json");
        match group::load::<StreamMeta>(&path) {
            // A long name's directory may be shared by a hash collision: the name decides.
            Ok(meta) if meta.name == stream => Ok(Some(meta)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path)(e)),
        }
    }

    /// The names of a group's streams, in name order.
    pub(crate) fn stream_names(&self, group: &str) -> Result<Vec<String>, LogsError> {
        let dir = self.layout.streams(group);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(group_not_found()),
            Err(e) => return Err(io_error("list", &dir)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("list", &dir))?;
            let file_name = entry.file_name();
            let Some(dir_name) = file_name.to_str().filter(|n| is_named_dir(n)) else {
                continue;
            };
            match name_of_dir(dir_name) {
                Some(name) => names.push(name),
                None => {
                    let path = entry.path().join("stream.json");
                    match group::load::<StreamMeta>(&path) {
                        Ok(meta) => names.push(meta.name),
                        Err(e) => tracing::warn!(path = %path.display(), error = %e,
                            "unreadable log stream metadata"),
                    }
                }
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// Runs `f` on a stream, opening it if need be; the stream is locked meanwhile.
    pub(crate) fn with_stream<T>(
        &self,
        group: &str,
        stream: &str,
        f: impl FnOnce(&mut StreamState) -> Result<T, LogsError>,
    ) -> Result<T, LogsError> {
        let slot: Slot = lock(&self.cache).slot(group, stream);
        let mut state = lock(&slot);
        if let SlotState::Unloaded = *state {
            let Some(meta) = self.stream_meta(group, stream)? else {
                return Err(stream_not_found());
            };
            let dir = self.layout.stream(group, stream);
            let fingerprint = paths::fnv64(&[
                group.as_bytes(),
                stream.as_bytes(),
                &meta.creation_time.to_le_bytes(),
            ]);
            let opened = StreamState::load(
                &dir,
                meta.creation_time,
                fingerprint,
                self.options.segment_bytes,
            )
            .map_err(io_error("open", &dir))?;
            *state = SlotState::Open(opened);
        }
        match &mut *state {
            SlotState::Open(s) => f(s),
            _ => Err(stream_not_found()),
        }
    }

    /// The bytes a group's segment files take.
    pub(crate) fn stored_bytes(&self, group: &str) -> u64 {
        let walk = |dir: PathBuf| -> std::io::Result<u64> {
            let mut total = 0;
            for stream in std::fs::read_dir(dir)? {
                for file in std::fs::read_dir(stream?.path())? {
                    let file = file?;
                    if file.file_name().to_string_lossy().ends_with(".seg") {
                        total += file.metadata()?.len();
                    }
                }
            }
            Ok(total)
        };
        // A stream deleted while we walk is not worth an error in a listing.
        walk(self.layout.streams(group)).unwrap_or(0)
    }

    /// The oldest timestamp a group's retention still shows at `now`.
    pub(crate) fn retention_cutoff(meta: &GroupMeta, now: i64) -> i64 {
        meta.retention_in_days.map_or(i64::MIN, |days| {
            now.saturating_sub(i64::from(days).saturating_mul(86_400_000))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Clock for Fixed {
        fn now_millis(&self) -> i64 {
            1_000
        }
    }

    #[test]
    fn logs_can_be_shared_between_request_handlers() {
        fn shared<T: Send + Sync>() {}
        shared::<Logs>();
    }

    #[test]
    fn the_open_stream_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            max_open_streams: 4,
            ..Options::default()
        };
        let logs = Logs::open_with(dir.path(), Arc::new(Fixed), options).unwrap();
        logs.create_group(GroupMeta {
            name: "g".into(),
            creation_time: 1,
            retention_in_days: None,
            tags: BTreeMap::new(),
        })
        .unwrap();
        for i in 0..20 {
            let s = format!("s{i}");
            logs.create_stream("g", &s).unwrap();
            logs.with_stream("g", &s, |st| {
                st.append(&[(1, "x")], 1, None)
                    .map_err(|e| LogsError::storage("append", e))
            })
            .unwrap();
        }
        assert_eq!(lock(&logs.cache).len(), 4);
    }
}
