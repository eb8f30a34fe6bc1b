//! What the end-to-end tests share: the busybox test image, a real `berth` process (up, or
//! server and agent apart), an official AWS SDK client pointed at it, and polling helpers.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sdk_ecs::config::{BehaviorVersion, Region};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The test image: a `FROM scratch` image holding Debian's static busybox.
pub const IMAGE: &str = "berth-busybox:e2e";

/// Builds [`IMAGE`] once per test binary, with no registry.
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

/// The `export NAME=value` lines a berth command printed.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

/// A child process that is killed when dropped, so a test that panics leaves no `berth`
/// behind (one would hold the test's output pipe open and the run would wait forever).
pub struct Process(pub Child);

impl std::ops::Deref for Process {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Process {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_and_read_exports(cmd: &mut Command) -> (Process, Exports) {
    spawn_with_stderr(cmd, Stdio::inherit())
}

fn spawn_with_stderr(cmd: &mut Command, stderr: Stdio) -> (Process, Exports) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("berth starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut e = Exports::default();
    while e.region.is_empty() {
        let line = lines
            .next()
            .expect("berth printed its exports before exiting")
            .expect("read line");
        let Some(rest) = line.strip_prefix("export ") else {
            continue;
        };
        let (k, v) = rest.split_once('=').expect("NAME=value");
        match k {
            "AWS_ENDPOINT_URL" => e.endpoint = v.into(),
            "AWS_ACCESS_KEY_ID" => e.access_key = v.into(),
            "AWS_SECRET_ACCESS_KEY" => e.secret_key = v.into(),
            "AWS_DEFAULT_REGION" => e.region = v.into(),
            _ => {}
        }
    }
    // Keep draining stdout so berth never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Process(child), e)
}

/// A unique cluster name, so tests sharing the Docker engine never touch each other's containers.
pub fn unique_cluster(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

fn berth() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.env("BERTH_LOG", "warn");
    c
}

/// Removes every container of a cluster.
pub fn remove_cluster_containers(cluster: &str) {
    // A create the agent sent just before it was killed may still land after a removal: look
    // again until the cluster has stayed empty for a moment.
    let mut quiet = 0;
    for _ in 0..20 {
        let out = Command::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=com.amazonaws.ecs.cluster={cluster}"))
            .output()
            .expect("docker ps");
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if ids.is_empty() {
            quiet += 1;
            if quiet == 3 {
                return;
            }
        } else {
            quiet = 0;
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .stdout(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Docker container ids of a task, from its labels.
pub fn task_containers(task_arn: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=com.amazonaws.ecs.task-arn={task_arn}"))
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// One `docker inspect --format` value.
pub fn docker_inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", format, id])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `berth up` in its own data directory, with its own cluster.
pub struct Berth {
    pub child: Process,
    pub exports: Exports,
    pub cluster: String,
    pub data_dir: tempfile::TempDir,
}

impl Berth {
    /// Starts `berth up` on 127.0.0.1:0 and waits until it printed its exports.
    pub fn up(prefix: &str) -> Self {
        ensure_image();
        let data_dir = tempfile::tempdir().expect("tempdir");
        let cluster = unique_cluster(prefix);
        let (child, exports) = spawn_and_read_exports(
            berth()
                .args(["up", "--listen", "127.0.0.1:0", "--cluster", &cluster])
                .arg("--data-dir")
                .arg(data_dir.path()),
        );
        Self {
            child,
            exports,
            cluster,
            data_dir,
        }
    }

    pub fn client(&self) -> aws_sdk_ecs::Client {
        client(&self.exports)
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_cluster_containers(&self.cluster);
    }
}

/// `berth server` as a process of its own.
pub fn start_server(data_dir: &Path, listen: &str) -> (Process, Exports) {
    start_server_with(data_dir, listen, &[])
}

/// `berth server` with extra flags.
pub fn start_server_with(data_dir: &Path, listen: &str, extra: &[&str]) -> (Process, Exports) {
    spawn_and_read_exports(
        berth()
            .args(["server", "--listen", listen])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra),
    )
}

/// `berth server` with extra flags, its stderr written to `log` (to look for panics).
pub fn start_server_logged(
    data_dir: &Path,
    listen: &str,
    extra: &[&str],
    log: &Path,
) -> (Process, Exports) {
    let log = std::fs::File::create(log).expect("create the server's log");
    spawn_with_stderr(
        berth()
            .args(["server", "--listen", listen])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra),
        Stdio::from(log),
    )
}

/// `berth agent` as a process of its own, with any extra flags.
pub fn start_agent(
    exports: &Exports,
    cluster: &str,
    state_dir: &PathBuf,
    extra: &[&str],
) -> Process {
    berth()
        .args([
            "agent",
            "--endpoint",
            &exports.endpoint,
            "--cluster",
            cluster,
        ])
        .args(["--access-key", &exports.access_key])
        .args(["--secret-key", &exports.secret_key])
        .arg("--state-dir")
        .arg(state_dir)
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .map(Process)
        .expect("berth agent starts")
}

/// `berth agent` joining with the server's join token instead of a key.
pub fn start_agent_with_token(
    exports: &Exports,
    cluster: &str,
    state_dir: &Path,
    token: &str,
) -> Process {
    berth()
        .args([
            "agent",
            "--endpoint",
            &exports.endpoint,
            "--cluster",
            cluster,
        ])
        .env("BERTH_JOIN_TOKEN", token)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("--state-dir")
        .arg(state_dir)
        .stdout(Stdio::null())
        .spawn()
        .map(Process)
        .expect("berth agent starts")
}

/// A new join token (`BerthAgent.RotateJoinToken` with the root key): of `cluster`, or good
/// for every cluster.
pub async fn rotate_join_token(exports: &Exports, cluster: Option<&str>) -> String {
    let client = berth_agent::client::EcsClient::new(
        &exports.endpoint,
        &exports.access_key,
        &exports.secret_key,
        &exports.region,
    );
    let answer: serde_json::Value = client
        .call_target(
            "BerthAgent",
            "RotateJoinToken",
            &serde_json::json!({ "cluster": cluster }),
        )
        .await
        .expect("the root may rotate join tokens");
    answer["joinToken"].as_str().expect("a token").to_string()
}

/// `berth simulate` as a process of its own: simulated instances that need no Docker.
pub fn start_simulator(exports: &Exports, cluster: &str, extra: &[&str]) -> Process {
    berth()
        .args([
            "simulate",
            "--endpoint",
            &exports.endpoint,
            "--cluster",
            cluster,
        ])
        .args(["--access-key", &exports.access_key])
        .args(["--secret-key", &exports.secret_key])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .map(Process)
        .expect("berth simulate starts")
}

/// The official AWS SDK client for ECS, pointed at Berth.
pub fn client(e: &Exports) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&e.endpoint)
        .region(Region::new(e.region.clone()))
        .credentials_provider(Credentials::new(
            &e.access_key,
            &e.secret_key,
            None,
            None,
            "berth-e2e",
        ))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// Polls `check` until it returns Some, or panics after `limit` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Describes one task.
pub async fn describe(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    task_arn: &str,
) -> aws_sdk_ecs::types::Task {
    client
        .describe_tasks()
        .cluster(cluster)
        .tasks(task_arn)
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .first()
        .cloned()
        .expect("the task is described")
}

/// Waits until the task's lastStatus is `status`.
pub async fn wait_status(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    task_arn: &str,
    status: &str,
) -> aws_sdk_ecs::types::Task {
    eventually(
        &format!("task {task_arn} to be {status}"),
        Duration::from_secs(60),
        || async {
            let t = describe(client, cluster, task_arn).await;
            (t.last_status() == Some(status)).then_some(t)
        },
    )
    .await
}

/// Waits until the cluster has a connected container instance; returns its ARN.
pub async fn wait_instance(client: &aws_sdk_ecs::Client, cluster: &str) -> String {
    wait_instances(client, cluster, 1).await.remove(0)
}

/// Waits until the cluster has `n` connected container instances; returns their ARNs.
pub async fn wait_instances(client: &aws_sdk_ecs::Client, cluster: &str, n: usize) -> Vec<String> {
    eventually(
        "connected container instances",
        Duration::from_secs(30),
        || async {
            let list = client
                .list_container_instances()
                .cluster(cluster)
                .send()
                .await
                .ok()?;
            let arns = list.container_instance_arns().to_vec();
            if arns.len() < n {
                return None;
            }
            let described = client
                .describe_container_instances()
                .cluster(cluster)
                .set_container_instances(Some(arns.clone()))
                .send()
                .await
                .ok()?;
            let connected = described
                .container_instances()
                .iter()
                .all(|i| i.agent_connected());
            connected.then_some(arns)
        },
    )
    .await
}

/// A `berth server` with agents of its own, each in its own zone; all are killed, and the
/// cluster's containers removed, when it is dropped.
pub struct Fleet {
    pub server: Process,
    pub agents: Vec<Process>,
    pub cluster: String,
    pub ecs: aws_sdk_ecs::Client,
    pub exports: Exports,
    pub data: tempfile::TempDir,
}

impl Fleet {
    /// A server and one agent per zone; each agent also carries `role=<zone>-role`. Returns the
    /// fleet and the instance ARNs once all are connected.
    pub async fn start(prefix: &str, zones: &[&str]) -> (Self, Vec<String>) {
        ensure_image();
        let data = tempfile::tempdir().expect("tempdir");
        let cluster = unique_cluster(prefix);
        let (server, exports) = start_server(data.path(), "127.0.0.1:0");
        let ecs = client(&exports);
        ecs.create_cluster()
            .cluster_name(&cluster)
            .send()
            .await
            .expect("CreateCluster");
        let mut fleet = Self {
            server,
            agents: vec![],
            cluster,
            ecs,
            exports,
            data,
        };
        for zone in zones {
            fleet.add_agent(zone);
        }
        let instances = wait_instances(&fleet.ecs, &fleet.cluster, zones.len()).await;
        (fleet, instances)
    }

    /// Starts one more agent, in `zone`.
    pub fn add_agent(&mut self, zone: &str) {
        let role = format!("role={zone}-role");
        let state_dir = self
            .data
            .path()
            .join(format!("agent-{}", self.agents.len()));
        let agent = start_agent(
            &self.exports,
            &self.cluster,
            &state_dir,
            &["--availability-zone", zone, "--attribute", &role],
        );
        self.agents.push(agent);
    }

    /// Kills the server with SIGKILL and starts it again on the same address and data.
    pub fn restart_server(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let listen = self
            .exports
            .endpoint
            .trim_start_matches("http://")
            .to_string();
        let (server, _) = start_server(self.data.path(), &listen);
        self.server = server;
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for a in &mut self.agents {
            let _ = a.kill();
            let _ = a.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        remove_cluster_containers(&self.cluster);
    }
}
