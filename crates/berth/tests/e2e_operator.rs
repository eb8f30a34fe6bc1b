//! End to end, what an operator meets first: a start that cannot listen leaves no data
//! directory behind, a command with no server to talk to says so (and prints no stack
//! backtrace, whatever RUST_BACKTRACE says), `--env-file` hands a script the exports once Berth
//! is ready, and Berth's own log (`--log-format json`) has a line for each task state change
//! and image pull.

use berth_test_kit::docker::remove_cluster_containers;
use berth_test_kit::ecs::{client, container, register, run_one, wait_instance, wait_status};
use berth_test_kit::image::ensure_image;
use berth_test_kit::process::{Exports, Process, unique_cluster};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `berth up` on a free port of loopback, with its data in `data_dir`, the exports written to
/// `env_file` and its log (at the default level) to `log`; `extra` goes before `up`.
fn up(data_dir: &Path, cluster: &str, env_file: &Path, log: &Path, extra: &[&str]) -> Process {
    let log = std::fs::File::create(log).expect("create the log");
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(extra)
        .args(["up", "--listen", "127.0.0.1:0", "--cluster", cluster])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--env-file")
        .arg(env_file)
        .env("BERTH_TASK_CLEANUP_WAIT", "0s")
        .env_remove("BERTH_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Process)
        .expect("berth up starts")
}

/// Waits for `berth up` to write its env file, as a script would; returns what it exports.
fn wait_env_file(berth: &mut Process, path: &Path) -> Exports {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = berth.try_wait().expect("try_wait") {
            panic!(
                "berth up exited ({status}) before writing {}",
                path.display()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no env file after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(path).expect("read the env file");
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no {name} in the env file: {text}"))
            .to_string()
    };
    Exports {
        endpoint: value("AWS_ENDPOINT_URL"),
        access_key: value("AWS_ACCESS_KEY_ID"),
        secret_key: value("AWS_SECRET_ACCESS_KEY"),
        region: value("AWS_DEFAULT_REGION"),
    }
}

#[test]
fn a_start_that_cannot_listen_leaves_no_data_directory() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let listen = taken.local_addr().expect("its address").to_string();
    let scratch = tempfile::tempdir().expect("tempdir");
    let data_dir = scratch.path().join("data");
    let refused = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["up", "--listen", &listen])
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .expect("berth runs");
    assert!(!refused.status.success(), "berth up on a port in use");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {listen}")),
        "{stderr}"
    );
    assert!(
        !data_dir.exists(),
        "the failed first start left {}",
        data_dir.display()
    );

    // The same directory then makes a first start on a free port as any other.
    let cluster = unique_cluster("operator-start");
    let env_file = scratch.path().join("berth.env");
    let log = scratch.path().join("berth.log");
    let mut berth = up(&data_dir, &cluster, &env_file, &log, &[]);
    let exports = wait_env_file(&mut berth, &env_file);
    assert!(
        exports.endpoint.starts_with("http://127.0.0.1:"),
        "{exports:?}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&env_file)
            .expect("env file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the env file holds the root key");
}

/// `berth audit` against `endpoint`, with RUST_BACKTRACE set: its stderr, once it has failed.
fn audit_fails(endpoint: &str) -> String {
    let refused = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["audit", "--endpoint", endpoint])
        .args([
            "--access-key",
            "AKIAIOSFODNN7EXAMPLE",
            "--secret-key",
            "secret",
        ])
        .env("RUST_BACKTRACE", "1")
        .env_remove("BERTH_LOG")
        .output()
        .expect("berth runs");
    assert!(!refused.status.success(), "berth audit on {endpoint}");
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        !stderr.to_lowercase().contains("backtrace"),
        "a user's error comes without a backtrace: {stderr}"
    );
    stderr
}

#[test]
fn a_command_with_no_server_to_talk_to_says_why() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let stderr = audit_fails(&format!("http://{closed}"));
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: cannot reach http://{closed}: connection refused (no Berth server is \
             listening there; start one with `berth up` or check --endpoint)"
        )
    );

    // Something that does not speak TLS, called with https://.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let address = plain.local_addr().expect("its address");
    std::thread::spawn(move || {
        for mut stream in plain.incoming().flatten() {
            let _ = std::io::Write::write_all(&mut stream, b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let stderr = audit_fails(&format!("https://{address}"));
    assert!(
        stderr.contains(&format!(
            "error: cannot reach https://{address}: TLS handshake failed: "
        )),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_each_task_state_change_and_pull_as_a_json_line() {
    ensure_image();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = unique_cluster("operator-log");
    let env_file = scratch.path().join("berth.env");
    let log = scratch.path().join("berth.log");
    let data_dir = scratch.path().join("data");
    let mut berth = up(
        &data_dir,
        &cluster,
        &env_file,
        &log,
        &["--log-format", "json"],
    );
    let ecs = client(&wait_env_file(&mut berth, &env_file));
    wait_instance(&ecs, &cluster).await;
    let td = register(
        &ecs,
        "operator-log",
        vec![container("app", &["sh", "-c", "sleep 1"]).build()],
    )
    .await;
    let task = run_one(&ecs, &cluster, &td).await;
    wait_status(&ecs, &cluster, &task, "STOPPED").await;
    // An image that is not on the host is pulled (here from a port nothing listens on).
    let absent = "127.0.0.1:9/absent:latest";
    let td = register(
        &ecs,
        "operator-pull",
        vec![container("app", &["true"]).image(absent).build()],
    )
    .await;
    let unpulled = run_one(&ecs, &cluster, &td).await;
    wait_status(&ecs, &cluster, &unpulled, "STOPPED").await;
    berth.stop();
    remove_cluster_containers(&cluster);

    let text = std::fs::read_to_string(&log).expect("read the log");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let changes: Vec<&serde_json::Value> = events
        .iter()
        .map(|event| &event["fields"])
        .filter(|fields| {
            fields["message"] == "task state change" && fields["task"] == task.as_str()
        })
        .collect();
    let statuses: Vec<&str> = changes
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert_eq!(statuses, ["RUNNING", "STOPPED"], "{text}");
    assert_eq!(
        changes[1]["reason"], "Essential container in task exited",
        "{text}"
    );
    let pulls = events
        .iter()
        .filter(|event| event["fields"]["message"] == "pulling the image")
        .filter(|event| event["fields"]["image"] == absent)
        .count();
    assert_eq!(pulls, 1, "{text}");
}
