//! Shared file system volumes on this host: a task's `efsVolumeConfiguration` volume on a
//! GlusterFS volume is mounted with the FUSE client under `<state_dir>/fs/<task id>/<n>`,
//! checked to really be that mount, and bound into the containers from there; it is unmounted
//! when the task stops. One client per task volume keeps the bookkeeping trivial: the path
//! says whose mount it is, so an agent that restarts finds its tasks' mounts where they were
//! and the sweep unmounts those of tasks that are gone. (NFS needs no such care: the kernel
//! mounts it as a Docker `local` volume, see `runner::volumes`.)
//!
//! Nothing here removes a directory that may still be a mount: a mount point is only ever
//! `rmdir`ed, which fails on a live mount instead of deleting the shared data through it.

use berth_types::protocol::SharedSource;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// How long a mount may take before the task stops: a server that does not answer must not
/// hold the task (or the agent) forever.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// The file system type of a GlusterFS FUSE mount, as `/proc/self/mountinfo` shows it.
const GLUSTER_FSTYPE: &str = "fuse.glusterfs";

/// The file in a task's directory that names the task.
const TASK_FILE: &str = "task";

/// The mounts of this agent's tasks, under one directory.
#[derive(Debug, Clone)]
pub(crate) struct SharedMounts {
    dir: PathBuf,
}

/// Whether this host can mount shared volumes: the GlusterFS FUSE client is installed and the
/// kernel has FUSE, or the kernel has an NFS 4 client. What `ecs.capability.efs` advertises.
pub(crate) fn available() -> bool {
    let fuse = Path::new("/dev/fuse").exists() && on_path("mount.glusterfs");
    let nfs = std::fs::read_to_string("/proc/filesystems").is_ok_and(|f| f.contains("nfs4"));
    fuse || nfs
}

fn on_path(program: &str) -> bool {
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain(["/sbin".into(), "/usr/sbin".into()])
        .any(|d| d.join(program).is_file())
}

impl SharedMounts {
    /// Mounts under `<state_dir>/fs`.
    pub(crate) fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("fs"),
        }
    }

    fn task_dir(&self, task_arn: &str) -> PathBuf {
        self.dir
            .join(task_arn.rsplit('/').next().unwrap_or(task_arn))
    }

    /// Mounts volume number `index` of task `task_arn` (named `name` in the definition) from
    /// `source`, unless it is mounted already; returns the mount point.
    pub(crate) async fn mount(
        &self,
        task_arn: &str,
        index: usize,
        name: &str,
        file_system: &str,
        source: &SharedSource,
    ) -> Result<PathBuf, String> {
        let SharedSource::Glusterfs {
            servers,
            port,
            volume,
            path,
        } = source
        else {
            return Err(format!(
                "shared volume '{name}' is not a GlusterFS volume, which is all this host mounts itself"
            ));
        };
        let failed = |why: String| {
            format!(
                "ResourceInitializationError: failed to mount shared volume '{name}' ({file_system}): {why}"
            )
        };
        let task_dir = self.task_dir(task_arn);
        let prepared = std::fs::create_dir_all(task_dir.join(index.to_string()))
            .and_then(|()| write_task_file(&task_dir, task_arn))
            .and_then(|()| std::path::absolute(task_dir.join(index.to_string())));
        let point = prepared.map_err(|e| failed(format!("cannot prepare the mount point: {e}")))?;
        if is_gluster_mount(&point) {
            return Ok(point);
        }
        let first = servers.first().map(String::as_str).unwrap_or_default();
        let remote = match path.as_str() {
            "/" => format!("{first}:/{volume}"),
            sub => format!("{first}:/{volume}{sub}"),
        };
        let log = task_dir.join(format!("{index}.log"));
        let mut options = vec![
            format!("log-file={}", log.display()),
            "log-level=WARNING".to_string(),
        ];
        if servers.len() > 1 {
            options.push(format!("backup-volfile-servers={}", servers[1..].join(":")));
        }
        if let Some(port) = port {
            options.push(format!("server-port={port}"));
        }
        let mut command = Command::new("mount");
        command
            .args(["-t", "glusterfs", "-o", &options.join(",")])
            .arg(&remote)
            .arg(&point)
            .kill_on_drop(true);
        let output = match tokio::time::timeout(MOUNT_TIMEOUT, command.output()).await {
            Err(_) => Err(format!(
                "glusterfs {remote}: no answer within {}s",
                MOUNT_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(format!("cannot run mount: {e}")),
            Ok(Ok(out)) if !out.status.success() => Err(format!(
                "glusterfs {remote}: {}; code: {}",
                why_not(&out.stderr, &log),
                out.status.code().unwrap_or(-1)
            )),
            Ok(Ok(_)) => Ok(()),
        };
        // The mount command can succeed without a mount (or fail after making one): what
        // counts is what the kernel says is at the mount point.
        let found = fstype_at(&mountinfo(), &point);
        match (output, found.as_deref()) {
            (Ok(()), Some(GLUSTER_FSTYPE)) => Ok(point),
            (Ok(()), other) => {
                unmount(&point).await;
                Err(failed(format!(
                    "{remote} is not a {GLUSTER_FSTYPE} mount after mount returned (found {}); nothing was written to the container layer",
                    other.unwrap_or("no mount")
                )))
            }
            (Err(e), _) => {
                unmount(&point).await;
                Err(failed(e))
            }
        }
    }

    /// Where volume number `index` of task `task_arn` is mounted, if it is: what an agent
    /// that restarted finds of a task it adopts.
    pub(crate) fn mounted(&self, task_arn: &str, index: usize) -> Option<PathBuf> {
        let point = std::path::absolute(self.task_dir(task_arn).join(index.to_string())).ok()?;
        is_gluster_mount(&point).then_some(point)
    }

    /// Unmounts every shared volume of task `task_arn` and removes its directory.
    pub(crate) async fn release(&self, task_arn: &str) {
        release_dir(&self.task_dir(task_arn)).await;
    }

    /// Releases the mounts of tasks that are not `busy` (running, or to run): what a task
    /// leaves when the agent stopped before its runner could.
    pub(crate) async fn sweep(&self, busy: impl Fn(&str) -> bool) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let arn = std::fs::read_to_string(dir.join(TASK_FILE)).unwrap_or_default();
            if arn.is_empty() || !busy(&arn) {
                tracing::info!(task = %arn, dir = %dir.display(), "releasing a stopped task's shared volumes");
                release_dir(&dir).await;
            }
        }
    }
}

fn write_task_file(task_dir: &Path, task_arn: &str) -> std::io::Result<()> {
    std::fs::write(task_dir.join(TASK_FILE), task_arn)
}

/// Unmounts and removes the mount points in a task's directory, then the directory.
async fn release_dir(task_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(task_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            unmount(&path).await;
            if let Err(e) = std::fs::remove_dir(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a shared volume's mount point");
            }
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    let _ = std::fs::remove_dir(task_dir);
}

/// Unmounts what is mounted at `point`, lazily when it is busy (a container that has not let go).
async fn unmount(point: &Path) {
    let Ok(point) = std::path::absolute(point) else {
        return;
    };
    if fstype_at(&mountinfo(), &point).is_none() {
        return;
    }
    for args in [&[][..], &["-l"][..]] {
        let done = Command::new("umount").args(args).arg(&point).output().await;
        if done.is_ok_and(|o| o.status.success()) {
            return;
        }
    }
    tracing::warn!(path = %point.display(), "cannot unmount a shared volume");
}

/// The first line of the mount command's error and the last error the client logged.
fn why_not(stderr: &[u8], log: &Path) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let first = stderr
        .lines()
        .next()
        .map(|l| l.trim().trim_end_matches('.').to_string());
    let mut why: Vec<String> = first.into_iter().collect();
    let logged = std::fs::read_to_string(log).unwrap_or_default();
    if let Some(line) = logged.lines().rev().find(|l| l.contains("] E [")) {
        // `[date] E [file:line:function] 0-volume: what`: keep the what.
        why.push(line.rsplit("] ").next().unwrap_or(line).trim().to_string());
    }
    if why.is_empty() {
        "mount failed".into()
    } else {
        why.join(": ")
    }
}

fn is_gluster_mount(point: &Path) -> bool {
    fstype_at(&mountinfo(), point).as_deref() == Some(GLUSTER_FSTYPE)
}

fn mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default()
}

/// The file system type mounted at `point` according to `mountinfo` (the last mount there
/// wins, as the kernel stacks them), if anything is.
fn fstype_at(mountinfo: &str, point: &Path) -> Option<String> {
    let point = point.to_str()?;
    let mut found = None;
    for line in mountinfo.lines() {
        let mut fields = line.split(' ');
        let Some(mount_point) = fields.nth(4) else {
            continue;
        };
        if unescape(mount_point) != point {
            continue;
        }
        let mut after = fields.skip_while(|f| *f != "-");
        found = after.nth(1).map(str::to_string);
    }
    found
}

/// mountinfo's octal escapes (`\040` for a space) decoded.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
35 22 0:31 / /var/lib/berth/fs/abc/0 rw,relatime shared:9 - fuse.glusterfs 127.0.0.2:/v rw,user_id=0
36 22 0:32 / /tmp/with\\040space rw - tmpfs tmpfs rw
37 35 0:33 / /var/lib/berth/fs/abc/0 rw - tmpfs none rw
";

    #[test]
    fn the_last_mount_at_a_point_is_what_is_there() {
        let at = |p: &str| fstype_at(MOUNTINFO, Path::new(p));
        assert_eq!(at("/"), Some("ext4".into()));
        assert_eq!(at("/var/lib/berth/fs/abc/0"), Some("tmpfs".into()));
        assert_eq!(at("/tmp/with space"), Some("tmpfs".into()));
        assert_eq!(at("/var/lib/berth/fs/abc"), None);
        let only_gluster: String = MOUNTINFO
            .lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            fstype_at(&only_gluster, Path::new("/var/lib/berth/fs/abc/0")).as_deref(),
            Some(GLUSTER_FSTYPE)
        );
    }

    #[test]
    fn the_reason_takes_the_mount_error_and_the_clients_last_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("0.log");
        std::fs::write(
            &log,
            "[2026-12-01 10:00:00.1] W [x.c:1:f] 0-v: fine\n[2026-12-01 10:00:00.2] E [glusterfsd-mgmt.c:2:mgmt_getspec_cbk] 0-mgmt: failed to fetch volume file (key:nope)\n",
        )
        .expect("log");
        assert_eq!(
            why_not(
                b"Mount failed. Check the log file for more details.\n",
                &log
            ),
            "Mount failed. Check the log file for more details: 0-mgmt: failed to fetch volume file (key:nope)"
        );
        assert_eq!(why_not(b"", &dir.path().join("none")), "mount failed");
    }

    #[tokio::test]
    async fn a_task_directory_is_released_without_touching_what_is_not_a_mount_point() {
        let state = tempfile::tempdir().expect("tempdir");
        let mounts = SharedMounts::new(state.path());
        let task = mounts.task_dir("arn:aws:ecs:r:1:task/c/t1");
        std::fs::create_dir_all(task.join("0")).expect("dirs");
        write_task_file(&task, "arn:aws:ecs:r:1:task/c/t1").expect("task file");
        // A file in a mount point: rmdir fails, and the file stays.
        std::fs::create_dir_all(task.join("1")).expect("dirs");
        std::fs::write(task.join("1/data"), "keep").expect("data");
        mounts.sweep(|arn| arn.ends_with("/t2")).await;
        assert!(!task.join("0").exists());
        assert_eq!(
            std::fs::read_to_string(task.join("1/data")).expect("kept"),
            "keep"
        );
    }
}
