//! A log group's metadata: a small JSON file beside its streams.

use super::paths::{Layout, is_named_dir, name_of_dir};
use crate::LogsError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What is kept of a log group besides its streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupMeta {
    pub name: String,
    pub creation_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What is kept of a log stream besides its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamMeta {
    pub name: String,
    pub creation_time: i64,
}

/// Writes `value` as JSON to `path`, whole and durably.
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), LogsError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| LogsError::storage(format!("cannot encode {}", path.display()), e.into()))?;
    berth_files::write_private(path, &bytes)
        .map_err(|e| LogsError::storage(format!("cannot write {}", path.display()), e))
}

/// Reads the JSON file at `path`.
pub(crate) fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::from)
}

/// Every log group kept under `layout`. A group whose metadata cannot be read is left out and
/// logged rather than failing the whole store.
pub(crate) fn load_all(layout: &Layout) -> Result<BTreeMap<String, GroupMeta>, LogsError> {
    let dir = layout.groups();
    let mut groups = BTreeMap::new();
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| LogsError::storage(format!("cannot list {}", dir.display()), e))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| LogsError::storage(format!("cannot list {}", dir.display()), e))?;
        let file_name = entry.file_name();
        let Some(dir_name) = file_name.to_str().filter(|n| is_named_dir(n)) else {
            continue;
        };
        let path = entry.path().join("group.json");
        match load::<GroupMeta>(&path) {
            Ok(meta) if name_of_dir(dir_name).is_none_or(|n| n == meta.name) => {
                groups.insert(meta.name.clone(), meta);
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "log group metadata names another group")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unreadable log group metadata")
            }
        }
    }
    Ok(groups)
}
