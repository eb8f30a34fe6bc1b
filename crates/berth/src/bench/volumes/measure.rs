//! One measurement inside a running container: `docker exec` from the host timed by the host's
//! clock, so the exec overhead is the same on the shared volume and on the bind mount.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What one run measured on one volume.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Sequential write to the end of an fsync, in MB (10^6 bytes) a second.
    pub write_mb_s: f64,
    /// Sequential read with the page cache dropped, in MB a second.
    pub read_mb_s: f64,
    /// Small files created a second.
    pub creates_s: f64,
}

/// Set once the page cache could not be dropped, so that is said only once.
static CACHE_WARNED: AtomicBool = AtomicBool::new(false);

/// Writes and reads a file of `size_mib` MiB and creates `files` small files in `dir` (in the
/// container `container`), then removes `dir`, also when a step failed.
pub fn once(container: &str, dir: &str, size_mib: u64, files: u64) -> anyhow::Result<Sample> {
    let result = steps(container, dir, size_mib, files);
    let removed = exec(container, &format!("rm -rf {dir}"));
    let sample = result?;
    removed?;
    Ok(sample)
}

fn steps(container: &str, dir: &str, size_mib: u64, files: u64) -> anyhow::Result<Sample> {
    exec(container, &format!("rm -rf {dir} && mkdir -p {dir}/small"))?;
    let bytes = (size_mib * 1024 * 1024) as f64;
    let write = timed(
        container,
        &format!("dd if=/dev/zero of={dir}/big bs=1M count={size_mib} conv=fsync 2>/dev/null"),
    )?;
    // Otherwise the read would come from the page cache the write just filled.
    drop_caches();
    let read = timed(
        container,
        &format!("dd if={dir}/big of=/dev/null bs=1M 2>/dev/null"),
    )?;
    let creates = timed(
        container,
        &format!("i=0; while [ $i -lt {files} ]; do echo x > {dir}/small/f$i; i=$((i+1)); done"),
    )?;
    Ok(Sample {
        write_mb_s: bytes / 1e6 / write,
        read_mb_s: bytes / 1e6 / read,
        creates_s: files as f64 / creates,
    })
}

/// Seconds `script` took in the container.
fn timed(container: &str, script: &str) -> anyhow::Result<f64> {
    let start = Instant::now();
    exec(container, script)?;
    Ok(start.elapsed().as_secs_f64())
}

/// `docker exec CONTAINER sh -c SCRIPT`, failing with what it printed.
fn exec(container: &str, script: &str) -> anyhow::Result<()> {
    let out = Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "docker exec {container} sh -c {script:?}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Writes dirty pages out and drops the host's page cache (the FUSE client's and the bricks'
/// among it). Without root this fails; the reads are then said to be possibly cached, once.
fn drop_caches() {
    let _ = Command::new("sync").status();
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "3")
        && !CACHE_WARNED.swap(true, Ordering::SeqCst)
    {
        say!("  could not drop the page cache ({e}): read figures may come from memory");
    }
}
