//! The groups and streams that exist: creating, listing and deleting them on disk.
//!
//! A group or stream is built in scratch and renamed into place, and renamed back out to be
//! deleted, so a crash never leaves half of one in view; scratch is cleared on open.

use super::cache::{SlotState, lock};
use super::group::{self, GroupMeta, StreamMeta};
use super::paths::{is_named_dir, name_of_dir};
use super::{Logs, group_not_found, io_error, stream_not_found};
use crate::LogsError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

impl Logs {
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
        // In view now: the table must say so even if the sync below fails.
        groups.insert(meta.name.clone(), meta);
        berth_files::sync_dir(&self.layout.groups()).map_err(io_error("sync", &target))
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
    pub(super) fn stream_meta(
        &self,
        group: &str,
        stream: &str,
    ) -> Result<Option<StreamMeta>, LogsError> {
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
}
