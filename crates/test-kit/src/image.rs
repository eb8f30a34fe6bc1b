//! The test image: a `FROM scratch` image holding Debian's static busybox, built with no
//! registry, so the end-to-end tests need no network.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The test image's tag.
pub const IMAGE: &str = "berth-busybox:e2e";

/// Builds [`IMAGE`] once per test binary.
pub fn ensure_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox-static is installed (apt-get install busybox-static)");
        std::fs::copy(busybox, dir.path().join("busybox")).expect("copy busybox");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\", \"/www\"]\n",
        )
        .expect("write Dockerfile");
        let status = Command::new("docker")
            .args(["build", "-q", "-t", IMAGE])
            .arg(dir.path())
            .stdout(Stdio::null())
            .status()
            .expect("docker build runs");
        assert!(status.success(), "docker build of the test image failed");
    });
}
