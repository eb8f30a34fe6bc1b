//! The benchmark image: Debian's static busybox in a `FROM scratch` image, built locally.

use anyhow::Context;
use std::process::{Command, Stdio};

/// The image benchmarks run.
pub const IMAGE: &str = "berth-busybox:bench";

/// Builds [`IMAGE`] unless the engine has it.
pub fn ensure() -> anyhow::Result<()> {
    let present = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("the docker CLI is needed for the baseline")?;
    if present.success() {
        return Ok(());
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .context("busybox not found: apt-get install busybox-static")?;
    let dir = std::env::temp_dir().join(format!("berth-bench-image-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(busybox, dir.join("busybox"))?;
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\"]\n",
    )?;
    let built = Command::new("docker")
        .args(["build", "-q", "-t", IMAGE])
        .arg(&dir)
        .stdout(Stdio::null())
        .status()?;
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(built.success(), "docker build of {IMAGE} failed");
    Ok(())
}
