//! A GlusterFS volume of this host's own, for the tests and `berth bench volumes`: replica 3
//! with its three bricks here at 127.0.0.2 (in production the bricks are on three hosts, but the
//! code path is the same), deleted with its bricks when dropped, so an error part way through
//! leaves nothing behind. glusterd is started if it does not answer, and left running, like the
//! Docker engine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The address the bricks are on: gluster refuses 127.0.0.1 and `localhost` for bricks.
pub const SERVER: &str = "127.0.0.2";

static VOLUMES: AtomicUsize = AtomicUsize::new(0);

/// Whether the GlusterFS server, its FUSE client and /dev/fuse are here.
pub fn installed() -> bool {
    let runs = |program: &str, arg: &str| Command::new(program).arg(arg).output().is_ok();
    Path::new("/dev/fuse").exists()
        && runs("gluster", "--version")
        && runs("glusterd", "--version")
        && runs("mount.glusterfs", "-V")
}

/// A started volume and its bricks, under one directory.
pub struct ScratchVolume {
    /// The volume's name.
    pub name: String,
    dir: PathBuf,
}

impl ScratchVolume {
    /// Creates and starts `berth-<prefix>-<pid>-<n>`, its bricks under `/var/tmp`.
    pub fn create(prefix: &str) -> Result<Self, String> {
        ensure_glusterd()?;
        let n = VOLUMES.fetch_add(1, Ordering::SeqCst);
        let name = format!("berth-{prefix}-{}-{n}", std::process::id());
        let dir = PathBuf::from(format!("/var/tmp/{name}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let bricks: Vec<String> = (1..=3)
            .map(|i| format!("{SERVER}:{}/b{i}", dir.display()))
            .collect();
        let mut create = vec!["volume", "create", &name, "replica", "3"];
        create.extend(bricks.iter().map(String::as_str));
        // `force`: the bricks are on the root file system, which gluster otherwise refuses.
        create.push("force");
        if let Err(e) = gluster_retrying(&create) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        // From here on, dropping it deletes the volume.
        let volume = Self { name, dir };
        gluster_retrying(&["volume", "start", &volume.name])?;
        Ok(volume)
    }

    /// A file system declaration (`berth server --file-systems`) of this volume as `id`.
    pub fn declaration(&self, id: &str) -> serde_json::Value {
        serde_json::json!({
            "fileSystemId": id,
            "engine": "glusterfs",
            "servers": [SERVER],
            "volume": self.name,
        })
    }

    /// Where brick `i` (1 to 3) keeps the volume's files.
    pub fn brick(&self, i: usize) -> PathBuf {
        self.dir.join(format!("b{i}"))
    }

    /// The directory of the bricks, where files about the volume may go too.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ScratchVolume {
    fn drop(&mut self) {
        for args in [
            vec!["volume", "stop", &self.name, "force"],
            vec!["volume", "delete", &self.name],
        ] {
            if let Err(e) = gluster_retrying(&args) {
                tracing::warn!(error = %e, "cannot remove a scratch GlusterFS volume");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove the bricks");
        }
    }
}

/// Starts glusterd unless it answers already. Another process may be starting it at the same
/// time: then this one exits (the port is taken), and the wait sees the other.
fn ensure_glusterd() -> Result<(), String> {
    if gluster(&["volume", "list"]).is_ok() {
        return Ok(());
    }
    tracing::info!("starting glusterd");
    Command::new("glusterd")
        .args(["-p", "/run/berth-glusterd.pid", "--log-level", "WARNING"])
        .status()
        .map_err(|e| format!("cannot run glusterd: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = gluster(&["volume", "list"]) {
        if Instant::now() >= deadline {
            return Err(format!("glusterd did not answer within 30 s: {e}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// `gluster --mode=script ARGS`: its output, or what it printed when it failed.
fn gluster(args: &[&str]) -> Result<String, String> {
    let out = Command::new("gluster")
        .arg("--mode=script")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run gluster: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// `gluster ARGS`, again for a while when another client holds the cluster lock.
fn gluster_retrying(args: &[&str]) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..30 {
        match gluster(args) {
            Ok(out) => return Ok(out),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!("gluster {}: {}", args.join(" "), last.trim()))
}
