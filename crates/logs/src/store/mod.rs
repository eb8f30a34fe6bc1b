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
mod catalog;
mod group;
mod index;
mod paths;
mod retention;
pub(crate) mod segment;
pub(crate) mod stream;

use crate::{Clock, Context, LogsApi, LogsError};
use cache::{Slot, SlotState, StreamCache, lock};
pub(crate) use group::GroupMeta;
use paths::Layout;
use std::collections::BTreeMap;
use std::path::Path;
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
