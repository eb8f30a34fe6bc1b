//! The throwaway GlusterFS volume `berth bench volumes` measures when it is given no file
//! system: replica 3 with its three bricks on this host at 127.0.0.2 (as the tests make
//! theirs; in production the bricks are on three hosts), declared in a file of its own for the
//! in-process server. Dropping it stops and deletes the volume and removes the bricks, so an
//! error part way through leaves nothing behind. glusterd is started if it does not answer, and
//! left running, like the Docker engine.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The address the bricks are on: gluster refuses 127.0.0.1 and `localhost` for bricks.
const SERVER: &str = "127.0.0.2";

/// The id the throwaway volume is declared as.
pub const FILE_SYSTEM_ID: &str = "fs-00000000000bec4e";

/// A started volume, its bricks and its declarations file, all under one directory.
pub struct Scratch {
    name: String,
    dir: PathBuf,
}

impl Scratch {
    /// Creates and starts `berth-bench-<pid>`, its bricks under `/var/tmp`.
    pub fn create() -> anyhow::Result<Self> {
        ensure_installed()?;
        ensure_glusterd()?;
        let pid = std::process::id();
        let name = format!("berth-bench-{pid}");
        let dir = PathBuf::from(format!("/var/tmp/berth-bench-bricks-{pid}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
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
        let scratch = Self { name, dir };
        gluster_retrying(&["volume", "start", &scratch.name])?;
        let declarations = serde_json::json!({
            "fileSystems": [{
                "fileSystemId": FILE_SYSTEM_ID,
                "engine": "glusterfs",
                "servers": [SERVER],
                "volume": scratch.name,
            }]
        });
        std::fs::write(scratch.declarations(), declarations.to_string())?;
        Ok(scratch)
    }

    /// The declarations file (`berth server --file-systems`) naming the volume.
    pub fn declarations(&self) -> PathBuf {
        self.dir.join("file-systems.json")
    }

    /// The volume's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for args in [
            vec!["volume", "stop", &self.name, "force"],
            vec!["volume", "delete", &self.name],
        ] {
            if let Err(e) = gluster_retrying(&args) {
                eprintln!("{e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cannot remove {}: {e}", self.dir.display());
        }
    }
}

/// Fails, saying how to fix it, unless the server, the FUSE client and /dev/fuse are here.
fn ensure_installed() -> anyhow::Result<()> {
    let runs = |program: &str, arg: &str| Command::new(program).arg(arg).output().is_ok();
    let installed = Path::new("/dev/fuse").exists()
        && runs("gluster", "--version")
        && runs("glusterd", "--version")
        && runs("mount.glusterfs", "-V");
    anyhow::ensure!(
        installed,
        "no --file-systems given, and GlusterFS is not installed to make a throwaway volume: \
         apt-get install glusterfs-server glusterfs-client (with /dev/fuse present), or pass \
         --file-systems FILE --file-system-id fs-... naming a declared GlusterFS volume"
    );
    Ok(())
}

/// Starts glusterd unless it answers already.
fn ensure_glusterd() -> anyhow::Result<()> {
    if gluster(&["volume", "list"]).is_ok() {
        return Ok(());
    }
    say!("starting glusterd");
    let _ = Command::new("glusterd")
        .args([
            "-p",
            "/run/berth-bench-glusterd.pid",
            "--log-level",
            "WARNING",
        ])
        .status()
        .context("run glusterd")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = gluster(&["volume", "list"]) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "glusterd did not answer within 30 s: {e}"
        );
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
fn gluster_retrying(args: &[&str]) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..20 {
        match gluster(args) {
            Ok(out) => return Ok(out),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    anyhow::bail!("gluster {}: {}", args.join(" "), last.trim())
}
