//! `berth bench volumes`: sequential write and read MB/s and small-file creates a second inside
//! a task on a shared volume (`efsVolumeConfiguration` on a declared GlusterFS volume, mounted
//! by the agent with the FUSE client), beside the same task on a host bind mount
//! (`host.sourcePath`), alternated so both see the same machine load. The target is at least
//! 0.5x the host for large files. Without `--file-systems` it measures a throwaway replica-3
//! volume on this host ([`gluster`]).

mod gluster;
mod measure;
mod tasks;

use super::{LocalBerth, image, percentiles, summary};
use berth_types::ecs::{EFSVolumeConfiguration, HostVolumeProperties, Volume};
use measure::Sample;
use std::path::{Path, PathBuf};
use tasks::{start_task, stop_tasks};

/// The large-file ratio to the host the issue asks for.
const TARGET: f64 = 0.5;

/// The benchmark's options.
#[derive(Debug, clap::Args)]
pub struct VolumesOptions {
    /// File system declarations (as `berth server --file-systems` takes) with the shared volume
    /// to measure. Without it, a throwaway replica-3 GlusterFS volume on this host.
    #[arg(long, requires = "file_system_id")]
    pub file_systems: Option<PathBuf>,
    /// The declared file system to measure.
    #[arg(long, requires = "file_systems")]
    pub file_system_id: Option<String>,
    /// Runs on each volume; the figures are their medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Size of the large file written and read, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub size_mib: u64,
    /// Small files created.
    #[arg(long, default_value_t = 10_000)]
    pub files: u64,
}

/// A directory of the benchmark's own under /var/tmp, removed when dropped.
struct HostDir(PathBuf);

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the benchmark.
pub async fn run(opts: VolumesOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        opts.runs > 0 && opts.size_mib > 0 && opts.files > 0,
        "--runs, --size-mib and --files must be at least 1"
    );
    image::ensure()?;
    let host_dir = HostDir(PathBuf::from(format!(
        "/var/tmp/berth-bench-host-{}",
        std::process::id()
    )));
    std::fs::create_dir_all(&host_dir.0)?;
    // Declared before Berth starts, so it is dropped (deleted) after Berth has stopped.
    let scratch;
    let (declarations, file_system_id) = match (&opts.file_systems, &opts.file_system_id) {
        (Some(file), Some(id)) => (file.clone(), id.clone()),
        _ => {
            say!("creating a throwaway replica-3 GlusterFS volume on this host");
            scratch = tokio::task::spawn_blocking(gluster::Scratch::create).await??;
            say!(
                "  volume {} (its three bricks share this host's disk)",
                scratch.name()
            );
            (scratch.declarations(), gluster::FILE_SYSTEM_ID.to_string())
        }
    };
    let local = LocalBerth::start_with_file_systems("benchvol", Some(declarations)).await?;
    let mut tasks = vec![];
    let measured = measure_both(&local, &opts, &file_system_id, &host_dir.0, &mut tasks).await;
    say!("cleaning up");
    stop_tasks(&local, &tasks).await;
    local.stop().await;
    let (shared, host) = measured?;
    report(&shared, &host);
    Ok(())
}

/// Starts a task on each volume and measures both, alternating which goes first. Returns the
/// samples of the shared volume and of the host's; `tasks` gets the tasks started.
async fn measure_both(
    local: &LocalBerth,
    opts: &VolumesOptions,
    file_system_id: &str,
    host_dir: &Path,
    tasks: &mut Vec<String>,
) -> anyhow::Result<(Vec<Sample>, Vec<Sample>)> {
    let efs = Volume {
        efs_volume_configuration: Some(EFSVolumeConfiguration {
            file_system_id: file_system_id.into(),
            ..EFSVolumeConfiguration::default()
        }),
        ..Volume::default()
    };
    let bind = Volume {
        host: Some(HostVolumeProperties {
            source_path: Some(host_dir.display().to_string()),
        }),
        ..Volume::default()
    };
    say!(
        "starting a task on {file_system_id} and one on {}",
        host_dir.display()
    );
    let shared = start_task(local, "bench-volumes-shared", efs, tasks).await?;
    let host = start_task(local, "bench-volumes-host", bind, tasks).await?;
    // A directory of the run's own: on the operator's file system, nothing else is touched.
    let dir = format!("/data/berth-bench-{}", std::process::id());
    let (mut shared_samples, mut host_samples) = (vec![], vec![]);
    say!(
        "{} runs each: write and read {} MiB, create {} files",
        opts.runs,
        opts.size_mib,
        opts.files
    );
    for run in 1..=opts.runs {
        let mut sides = [("shared", &shared), ("host", &host)];
        if run % 2 == 0 {
            sides.reverse();
        }
        for (side, container) in sides {
            let (container, dir) = (container.clone(), dir.clone());
            let (size, files) = (opts.size_mib, opts.files);
            let sample =
                tokio::task::spawn_blocking(move || measure::once(&container, &dir, size, files))
                    .await??;
            say!(
                "  run {run}/{} {side}: write {:.1} MB/s, read {:.1} MB/s, {:.0} creates/s",
                opts.runs,
                sample.write_mb_s,
                sample.read_mb_s,
                sample.creates_s
            );
            match side {
                "shared" => shared_samples.push(sample),
                _ => host_samples.push(sample),
            }
        }
    }
    Ok((shared_samples, host_samples))
}

/// Prints the large-file ratios against the target, then the summary of the medians.
fn report(shared: &[Sample], host: &[Sample]) {
    let median = |samples: &[Sample], f: fn(&Sample) -> f64| {
        percentiles(&samples.iter().map(f).collect::<Vec<_>>()).0
    };
    let write = (
        median(shared, |s| s.write_mb_s),
        median(host, |s| s.write_mb_s),
    );
    let read = (
        median(shared, |s| s.read_mb_s),
        median(host, |s| s.read_mb_s),
    );
    let creates = (
        median(shared, |s| s.creates_s),
        median(host, |s| s.creates_s),
    );
    for (what, (s, h)) in [("write", write), ("read", read)] {
        let met = if s / h >= TARGET { "met" } else { "not met" };
        say!("{what} ratio {:.2} (target >= {TARGET}: {met})", s / h);
    }
    say!("small-file create ratio {:.2}", creates.0 / creates.1);
    summary(&[
        ("shared_write_mb_per_s", write.0, "MB/s"),
        ("host_write_mb_per_s", write.1, "MB/s"),
        ("write_ratio_to_host_pct", 100.0 * write.0 / write.1, "%"),
        ("shared_read_mb_per_s", read.0, "MB/s"),
        ("host_read_mb_per_s", read.1, "MB/s"),
        ("read_ratio_to_host_pct", 100.0 * read.0 / read.1, "%"),
        ("shared_creates_per_s", creates.0, "files/s"),
        ("host_creates_per_s", creates.1, "files/s"),
        (
            "create_ratio_to_host_pct",
            100.0 * creates.0 / creates.1,
            "%",
        ),
    ]);
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        opts: super::VolumesOptions,
    }

    #[test]
    fn a_declared_file_system_is_named_with_its_declarations() {
        let cli = Cli::try_parse_from(["volumes"]).expect("defaults");
        assert_eq!(
            (cli.opts.runs, cli.opts.size_mib, cli.opts.files),
            (3, 1024, 10_000)
        );
        assert!(cli.opts.file_systems.is_none());
        assert!(Cli::try_parse_from(["volumes", "--file-systems", "fs.json"]).is_err());
        assert!(Cli::try_parse_from(["volumes", "--file-system-id", "fs-12345678"]).is_err());
        let both = Cli::try_parse_from([
            "volumes",
            "--file-systems",
            "fs.json",
            "--file-system-id",
            "fs-12345678",
        ])
        .expect("both");
        assert_eq!(both.opts.file_system_id.as_deref(), Some("fs-12345678"));
    }
}
