//! The throwaway GlusterFS volume `berth bench volumes` measures when it is given no file
//! system ([`ScratchVolume`], as the tests make theirs), declared in a file of its own for the
//! in-process server. Dropping it deletes the volume, its bricks and the file.

use berth_agent::scratch_gluster::{ScratchVolume, installed};
use std::path::PathBuf;

/// The id the throwaway volume is declared as.
pub const FILE_SYSTEM_ID: &str = "fs-00000000000bec4e";

/// A started volume and its declarations file.
pub struct Scratch(ScratchVolume);

impl Scratch {
    /// Creates and starts the volume, and declares it.
    pub fn create() -> anyhow::Result<Self> {
        anyhow::ensure!(
            installed(),
            "no --file-systems given, and GlusterFS is not installed to make a throwaway volume: \
             apt-get install glusterfs-server glusterfs-client (with /dev/fuse present), or pass \
             --file-systems FILE --file-system-id fs-... naming a declared GlusterFS volume"
        );
        let scratch = Self(ScratchVolume::create("bench").map_err(anyhow::Error::msg)?);
        let declarations =
            serde_json::json!({"fileSystems": [scratch.0.declaration(FILE_SYSTEM_ID)]});
        std::fs::write(scratch.declarations(), declarations.to_string())?;
        Ok(scratch)
    }

    /// The declarations file (`berth server --file-systems`) naming the volume.
    pub fn declarations(&self) -> PathBuf {
        self.0.dir().join("file-systems.json")
    }

    /// The volume's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}
