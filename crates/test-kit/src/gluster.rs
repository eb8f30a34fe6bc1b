//! A GlusterFS volume of the test's own (replica 3, its bricks on this host at 127.0.0.2, as a
//! production volume is spread over three hosts), deleted when dropped. glusterd is started if
//! it is not running and left running, like the Docker engine. Without GlusterFS installed the
//! tests that need it say so and skip, unless `BERTH_REQUIRE_GLUSTER` is set (as `.ci/run`
//! sets it), where they fail instead.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The address the bricks are on: gluster refuses 127.0.0.1 and `localhost` for bricks.
pub const SERVER: &str = "127.0.0.2";

/// A started volume and its bricks.
pub struct GlusterVolume {
    /// The volume's name.
    pub name: String,
    bricks: tempfile::TempDir,
}

static VOLUMES: AtomicUsize = AtomicUsize::new(0);

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

/// `gluster ARGS`, again while another test's gluster call holds the cluster lock.
fn gluster_retrying(args: &[&str]) -> String {
    let mut last = String::new();
    for _ in 0..30 {
        match gluster(args) {
            Ok(out) => return out,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("gluster {args:?} failed: {last}");
}

/// Starts glusterd unless it answers already.
fn ensure_glusterd() {
    if gluster(&["volume", "list"]).is_ok() {
        return;
    }
    // Another test may be starting it at the same time: then this one exits (the port is
    // taken), and the wait below sees the other.
    let _ = Command::new("glusterd")
        .args([
            "-p",
            "/run/berth-test-glusterd.pid",
            "--log-level",
            "WARNING",
        ])
        .status()
        .expect("run glusterd");
    let deadline = Instant::now() + Duration::from_secs(30);
    while gluster(&["volume", "list"]).is_err() {
        assert!(
            Instant::now() < deadline,
            "glusterd did not answer within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl GlusterVolume {
    /// A new started volume, or `None` when GlusterFS is not installed here.
    pub fn create(prefix: &str) -> Option<Self> {
        let installed = Path::new("/dev/fuse").exists()
            && Command::new("gluster").arg("--version").output().is_ok()
            && Command::new("mount.glusterfs").arg("-V").output().is_ok();
        if !installed {
            assert!(
                std::env::var_os("BERTH_REQUIRE_GLUSTER").is_none(),
                "BERTH_REQUIRE_GLUSTER is set but glusterfs-server, glusterfs-client or /dev/fuse is missing"
            );
            eprintln!(
                "skipped: GlusterFS is not installed (apt-get install glusterfs-server glusterfs-client; .ci/run does)"
            );
            return None;
        }
        ensure_glusterd();
        let n = VOLUMES.fetch_add(1, Ordering::SeqCst);
        let name = format!("berth-{prefix}-{}-{n}", std::process::id());
        let bricks = tempfile::Builder::new()
            .prefix("berth-bricks-")
            .tempdir_in("/var/tmp")
            .expect("brick directory");
        let paths: Vec<String> = (1..=3)
            .map(|i| format!("{SERVER}:{}/b{i}", bricks.path().display()))
            .collect();
        let mut create = vec!["volume", "create", &name, "replica", "3"];
        create.extend(paths.iter().map(String::as_str));
        create.push("force");
        gluster_retrying(&create);
        let volume = Self { name, bricks };
        gluster_retrying(&["volume", "start", &volume.name]);
        Some(volume)
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
    pub fn brick(&self, i: usize) -> std::path::PathBuf {
        self.bricks.path().join(format!("b{i}"))
    }
}

impl Drop for GlusterVolume {
    fn drop(&mut self) {
        for args in [
            ["volume", "stop", &self.name, "force"],
            ["volume", "delete", &self.name, ""],
        ] {
            let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
            if let Err(e) = gluster(&args) {
                eprintln!("gluster {args:?}: {e}");
            }
        }
    }
}
