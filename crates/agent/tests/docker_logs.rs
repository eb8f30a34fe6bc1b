//! The Docker runtime's `logs` against the real engine: lines come with the engine's
//! timestamps, in order, the stream ends once the container has exited and all it wrote was
//! read, and `since` starts later. Only the container this test creates is removed.
//!
//! The image is the test kit's busybox image (`crates/test-kit/src/image.rs`), built the same
//! way here: the test kit depends on this crate, and linking it (and the control plane it
//! brings) into the agent's tests would cost more than these few lines.

use berth_agent::docker::Docker;
use berth_agent::runtime::{ContainerRuntime, LogLine};
use bollard::models::{ContainerCreateBody, HostConfig};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const IMAGE: &str = "berth-busybox:e2e";

fn ensure_image() {
    let present = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return;
    }
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
}

/// Removes the container when the test ends, however it ends.
struct Removed(String);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn read_all(docker: &Docker, id: &str, since: i64) -> Vec<LogLine> {
    let lines = docker.logs(id, since).collect::<Vec<_>>();
    tokio::time::timeout(Duration::from_secs(30), lines)
        .await
        .expect("the output ends once the container exited")
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("lines")
}

#[tokio::test]
async fn logs_come_with_engine_timestamps_and_resume_from_since() {
    ensure_image();
    let docker = Docker::connect().await.expect("Docker is running");
    let body = ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            // stdout and stderr are copied apart: a pause keeps their order known.
            "echo one; sleep 1; echo two >&2; sleep 2; echo three; printf 'no newline'".into(),
        ]),
        labels: Some(HashMap::from([(
            "berth.test".to_string(),
            "agent-docker-logs".to_string(),
        )])),
        host_config: Some(HostConfig {
            log_config: Some(bollard::models::HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::new()),
            }),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let name = format!("berth-agent-logs-{}", std::process::id());
    let id = docker.create(&name, body).await.expect("created");
    let _removed = Removed(id.clone());
    docker.start(&id).await.expect("started");
    let expected = ["one\n", "two\n", "three\n", "no newline"];
    // Followed from the start while it runs, until it exits: the engine may end the follow
    // before the last of the output (Docker 20.10 does), which is why the shipper reads again.
    let followed = read_all(&docker, &id, 0).await;
    let texts: Vec<_> = followed.iter().map(|l| l.text.as_str()).collect();
    assert!(
        texts.len() >= 3 && expected.starts_with(&texts),
        "{texts:?}"
    );
    let lines = read_all(&docker, &id, 0).await;
    let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, expected);
    assert_eq!(
        lines[..followed.len()],
        followed[..],
        "the same timestamps each time"
    );
    assert!(lines.windows(2).all(|w| w[0].ns <= w[1].ns), "{lines:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as i64;
    assert!(
        lines.iter().all(|l| (now - l.ns) < 60_000_000_000),
        "recent: {lines:?}"
    );
    assert!(
        lines[2].ns - lines[0].ns >= 1_900_000_000,
        "a 2 s sleep between: {lines:?}"
    );
    // Read again from the second of "three": the earlier lines are left out.
    let since = lines[2].ns.div_euclid(1_000_000_000);
    let later = read_all(&docker, &id, since).await;
    let texts: Vec<_> = later.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["three\n", "no newline"]);
    assert_eq!(later[0], lines[2]);
    let inspected = docker.inspect(&id).await.expect("inspect");
    assert!(inspected.finished_at.is_some(), "{inspected:?}");
}
