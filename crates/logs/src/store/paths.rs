//! Where a group or stream lives on disk, and the hash that names long names and tokens.
//!
//! A directory is named by the hex of the name, so it decodes back to the name without
//! reading anything. File systems cap a file name at 255 bytes while names go up to 512, so a
//! name longer than [`HEX_WHOLE`] bytes is named by the hex of its first bytes and a hash of
//! the whole; its metadata file then holds the name.

use std::path::{Path, PathBuf};

/// Names up to this many bytes are hex-encoded whole (220 characters; a long name takes 245).
const HEX_WHOLE: usize = 110;
/// The marker between a long name's hex prefix and its hash; never in plain hex.
const LONG_MARK: char = '-';

/// FNV-1a, 64 bits: stable across builds and platforms, which std's hasher is not.
pub(crate) fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The directory name of a group or stream called `name`.
pub(crate) fn dir_name(name: &str) -> String {
    if name.len() <= HEX_WHOLE {
        return hex::encode(name);
    }
    let whole = name.as_bytes();
    let crc = crc32fast::hash(whole);
    format!(
        "{}{LONG_MARK}{:016x}{crc:08x}",
        hex::encode(&whole[..HEX_WHOLE]),
        fnv64(&[whole])
    )
}

/// The name a directory name stands for, when it says it whole; `None` for a long name
/// (read its metadata) or something that is not one of ours.
pub(crate) fn name_of_dir(dir_name: &str) -> Option<String> {
    if dir_name.contains(LONG_MARK) {
        return None;
    }
    String::from_utf8(hex::decode(dir_name).ok()?).ok()
}

/// Whether a directory entry is a group or stream (not a temporary or something foreign).
pub(crate) fn is_named_dir(dir_name: &str) -> bool {
    !dir_name.is_empty()
        && dir_name
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == LONG_MARK)
}

/// The layout under the store's root.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(super) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// Where every group's directory is.
    pub(super) fn groups(&self) -> PathBuf {
        self.root.join("groups")
    }

    /// Where directories are built before being renamed into place, and deleted ones go
    /// before being removed, so that a crash leaves nothing half made or half gone in view.
    pub(super) fn scratch(&self) -> PathBuf {
        self.root.join("scratch")
    }

    pub(super) fn group(&self, group: &str) -> PathBuf {
        self.groups().join(dir_name(group))
    }

    pub(crate) fn group_meta(&self, group: &str) -> PathBuf {
        self.group(group).join("group.json")
    }

    pub(super) fn streams(&self, group: &str) -> PathBuf {
        self.group(group).join("streams")
    }

    pub(super) fn stream(&self, group: &str, stream: &str) -> PathBuf {
        self.streams(group).join(dir_name(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_keep_their_order() {
        let names = ["/a", "/a/b", "/b", "A", "a#"];
        let mut dirs: Vec<_> = names.iter().map(|n| dir_name(n)).collect();
        dirs.sort();
        let back: Vec<_> = dirs.iter().map(|d| name_of_dir(d).unwrap()).collect();
        let mut sorted = names.to_vec();
        sorted.sort();
        assert_eq!(back, sorted);
        let long = "x".repeat(512);
        let d = dir_name(&long);
        assert!(d.len() < 255);
        assert!(is_named_dir(&d));
        assert_eq!(name_of_dir(&d), None);
        assert_ne!(d, dir_name(&"x".repeat(511)));
    }
}
