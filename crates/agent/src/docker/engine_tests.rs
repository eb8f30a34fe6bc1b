//! The Docker runtime against the real engine: its `logs` (lines with the engine's
//! timestamps, in order, from `since` on) and the shipper reading a busy container's output
//! through it. Each test removes only the container it created.

use super::*;
use crate::logs::memory::MemorySink;
use crate::logs::options::AwsLogsOptions;
use crate::logs::shipper::{self, ShipOptions, Target};
use crate::test_kit::busybox_image;
use bollard::models::HostConfig;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let docker = Docker::connect().await.expect("Docker is running");
    let body = ContainerCreateBody {
        image: Some(busybox_image().into()),
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

#[tokio::test]
async fn a_busy_containers_output_is_shipped_whole_in_order() {
    ship_numbers(100_000, HashMap::new(), "ship").await;
}

/// The json-file driver rotating some forty times under a fast writer: the engine's own
/// follow loses and repeats lines there (it shipped 20,536 of these 100,000 lines on Docker
/// 20.10.24); every line must come once. The window (60 × 200 KB) holds the whole output
/// (about 8 MB), so no line can be rotated away before it is read.
#[tokio::test]
async fn output_is_shipped_whole_across_rotations() {
    let config = HashMap::from([
        ("max-size".to_string(), "200k".to_string()),
        ("max-file".to_string(), "60".to_string()),
    ]);
    ship_numbers(100_000, config, "rotate").await;
}

/// Runs `seq 1 lines` with json-file `config` and ships it: each number once, in order.
async fn ship_numbers(lines: usize, config: HashMap<String, String>, what: &str) {
    let docker = Docker::connect().await.expect("Docker is running");
    let body = ContainerCreateBody {
        image: Some(busybox_image().into()),
        cmd: Some(vec!["seq".into(), "1".into(), lines.to_string()]),
        host_config: Some(HostConfig {
            log_config: Some(bollard::models::HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(config),
            }),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let name = format!("berth-agent-{what}-{}", std::process::id());
    let id = docker.create(&name, body).await.expect("created");
    let _removed = Removed(id.clone());
    let sink = MemorySink::with_group("g");
    let options = BTreeMap::from([("awslogs-group".to_string(), "g".to_string())]);
    let awslogs = AwsLogsOptions::parse(&options).expect("valid");
    let target = Target {
        group: "g".into(),
        stream: "s".into(),
    };
    docker.start(&id).await.expect("started");
    let began = Instant::now();
    let shipping = shipper::ship(
        docker.clone(),
        id.clone(),
        Arc::new(sink.clone()),
        target,
        ShipOptions::new(awslogs, true),
    );
    tokio::time::timeout(Duration::from_secs(120), shipping)
        .await
        .expect("shipped");
    let took = began.elapsed();
    let shipped = sink.messages("g", "s");
    if !files_readable(&docker, &id).await {
        // An engine whose files this process cannot see (in a VM, another mount namespace):
        // the agent falls back on the engine's follow, which can lose lines across rotation.
        eprintln!(
            "the engine's log files are out of reach: its follow shipped {} of {lines} lines",
            shipped.len()
        );
        let numbers: Vec<usize> = shipped.iter().filter_map(|m| m.parse().ok()).collect();
        assert_eq!(numbers.len(), shipped.len(), "only the container's lines");
        return;
    }
    assert_eq!(shipped.len(), lines);
    assert!(
        shipped
            .iter()
            .enumerate()
            .all(|(i, m)| *m == (i + 1).to_string()),
        "in order, each once"
    );
    eprintln!(
        "shipped {lines} lines from Docker in {took:?} ({:.0} lines/s)",
        lines as f64 / took.as_secs_f64()
    );
}

/// Whether the agent reads container `id`'s output from its json-file files.
async fn files_readable(docker: &Docker, id: &str) -> bool {
    let inspected = docker
        .api
        .inspect_container(id, None)
        .await
        .expect("inspect");
    inspected
        .log_path
        .is_some_and(|p| super::log_files::readable(std::path::Path::new(&p)))
}
