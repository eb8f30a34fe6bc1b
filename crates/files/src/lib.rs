//! Private files written durably, the one way Berth writes its keys, credentials and records:
//! whole or not at all, readable by their owner only, and surviving a crash once written.
//!
//! A file is written to a temporary file beside it (mode 0600, named with a leading `.`,
//! unique, so concurrent writers never share one), fsynced, renamed over its name, and the
//! directory fsynced, so the new name is durable too. Depends on nothing but `std`, so every
//! crate that keeps files (registry, agent, the binary) may use it.

#![warn(unreachable_pub)]

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` whole and durably, readable by the owner only. The directory must
/// exist. On failure `path` is unchanged and the temporary file removed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent(path);
    let tmp = dir.join(temporary_name(path));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir)
}

/// Fsyncs directory `dir`, so the names created, renamed or removed in it survive a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot fsync a directory (EINVAL), so there is nothing to wait
        // for; PostgreSQL tolerates the same.
        Err(e) if e.kind() != ErrorKind::InvalidInput => Err(e),
        _ => Ok(()),
    }
}

/// The directory holding `path` (`.` for a bare name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A name for the temporary file of `path` that no other writer uses at the same time: the
/// process id and a counter tell writers apart.
fn temporary_name(path: &Path) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.tmp-{}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_whole_private_files_and_replaces_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret.json");
        write_private(&path, b"first").expect("write");
        write_private(&path, b"second").expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Nothing temporary is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("secret.json")]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing").join("file");
        assert!(write_private(&path, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }
}
