//! The file-system steps the registry builds on, made durable: a change is acknowledged only
//! once it would survive a crash, so a file's contents are fsynced before it gets its name and
//! the directory holding a name is fsynced after the name is created, renamed or removed.
//!
//! Reads tell a file that is not there from one that cannot be read: an error is never taken
//! for "nothing there", since garbage collection would then delete the blobs of images it
//! failed to read.

use crate::RegistryError;
use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;

// The directory holding `path` (`.` for a bare name).
pub(crate) use berth_files::parent;

/// Writes `bytes` to `path` whole and durably, readable by the owner only (the registry's
/// files include its key), through [`berth_files::write_private`]. Missing directories are
/// created first.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    create_dir_all(parent(path))?;
    berth_files::write_private(path, bytes).map_err(|e| RegistryError::io(path, e))
}

/// Renames the complete file `file` (open at `from`) to `to`, in an existing directory:
/// fsynced first, so `to` never names a partial file, and the directory after, so the new
/// name survives a crash.
pub(crate) fn publish(file: &File, from: &Path, to: &Path) -> Result<(), RegistryError> {
    file.sync_all().map_err(|e| RegistryError::io(from, e))?;
    std::fs::rename(from, to).map_err(|e| RegistryError::io(to, e))?;
    sync_dir(parent(to))
}

/// Creates `dir` and whichever of its parents are missing, each fsynced into its parent.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), RegistryError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(up) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(up)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => sync_dir(parent(dir)),
        // Created meanwhile by a concurrent call, which makes it durable.
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(RegistryError::io(dir, e)),
    }
}

/// Removes the file at `path` (absent is fine). Not durable by itself: callers that must not
/// see it come back after a crash fsync its directory, once for all the files they remove.
pub(crate) fn remove_file(path: &Path) -> Result<(), RegistryError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(RegistryError::io(path, e)),
        _ => Ok(()),
    }
}

/// Removes the file at `path` (absent is fine), durably.
pub(crate) fn remove_file_synced(path: &Path) -> Result<(), RegistryError> {
    remove_file(path)?;
    sync_dir(parent(path))
}

/// Fsyncs directory `dir`, so the names created, renamed or removed in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    berth_files::sync_dir(dir).map_err(|e| RegistryError::io(dir, e))
}

/// The contents of `path`, or None when there is no such file.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, RegistryError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RegistryError::io(path, e)),
    }
}

/// `path` parsed, or None when there is no such file; a file that does not parse is damaged,
/// an error.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, RegistryError> {
    read(path)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| RegistryError::damaged(format!("{} is damaged: {e}", path.display())))
        })
        .transpose()
}

/// The names in `dir`, sorted; none when it does not exist (nothing was ever put there).
/// Names starting with `.` are not data: temporary files and deleted repositories.
pub(crate) fn entries(dir: &Path) -> Result<Vec<String>, RegistryError> {
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
