//! `berth` as processes of their own: `server`, `agent` and `simulate` (and the plumbing of
//! [`crate::up`]), each killed when dropped, and the `export NAME=value` lines a server prints.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `export NAME=value` lines a berth command printed.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// `AWS_ENDPOINT_URL`: `http://host:port`.
    pub endpoint: String,
    /// `AWS_ACCESS_KEY_ID` of the root key.
    pub access_key: String,
    /// `AWS_SECRET_ACCESS_KEY` of the root key.
    pub secret_key: String,
    /// `AWS_DEFAULT_REGION`.
    pub region: String,
}

impl Exports {
    /// The `host:port` the server listens on, to start it again on the same address.
    pub fn listen(&self) -> String {
        self.endpoint.trim_start_matches("http://").to_string()
    }
}

/// A child process that is killed when dropped, so a test that panics leaves no `berth`
/// behind (one would hold the test's output pipe open and the run would wait forever).
pub struct Process(pub Child);

impl Process {
    /// Kills the process with SIGKILL and reaps it.
    pub fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
        self.stop();
    }
}

/// The `berth` binary of this build. Cargo builds a package's binaries before its integration
/// tests and puts both in the same profile directory (`target/debug/deps/<test>` beside
/// `target/debug/berth`), so the test binary finds it from its own path; only the `berth`
/// package's tests start it.
fn berth_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps");
    let berth = profile.join("berth");
    assert!(
        berth.is_file(),
        "{} is built by `cargo test -p berth`",
        berth.display()
    );
    berth
}

pub(crate) fn berth() -> Command {
    let mut c = Command::new(berth_binary());
    c.env("BERTH_LOG", "warn");
    // Agents (of `berth agent` and `berth up`) remove a stopped task's containers at once
    // rather than after ECS's 3 hours, so tests leave no containers behind; a test that needs
    // them kept passes `--task-cleanup-wait`, which wins over this.
    c.env("BERTH_TASK_CLEANUP_WAIT", "0s");
    c
}

pub(crate) fn spawn_with_stderr(cmd: &mut Command, stderr: Stdio) -> (Process, Exports) {
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

fn server(data_dir: &Path, listen: &str, extra: &[&str]) -> Command {
    let mut c = berth();
    c.args(["server", "--listen", listen])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra);
    c
}

/// `berth server` as a process of its own.
pub fn start_server(data_dir: &Path, listen: &str) -> (Process, Exports) {
    start_server_with(data_dir, listen, &[])
}

/// `berth server` with extra flags.
pub fn start_server_with(data_dir: &Path, listen: &str, extra: &[&str]) -> (Process, Exports) {
    spawn_with_stderr(&mut server(data_dir, listen, extra), Stdio::inherit())
}

/// `berth server` with extra flags, its stderr written to `log` (to look for panics).
pub fn start_server_logged(
    data_dir: &Path,
    listen: &str,
    extra: &[&str],
    log: &Path,
) -> (Process, Exports) {
    let log = std::fs::File::create(log).expect("create the server's log");
    spawn_with_stderr(&mut server(data_dir, listen, extra), Stdio::from(log))
}

/// `berth <command> --endpoint <server> --cluster <cluster>`: an agent or a simulator.
fn client_of(command: &str, exports: &Exports, cluster: &str) -> Command {
    let mut c = berth();
    c.args([
        command,
        "--endpoint",
        &exports.endpoint,
        "--cluster",
        cluster,
    ])
    .stdout(Stdio::null());
    c
}

/// [`client_of`] signing with the server's root key.
fn root_client_of(command: &str, exports: &Exports, cluster: &str) -> Command {
    let mut c = client_of(command, exports, cluster);
    c.args(["--access-key", &exports.access_key])
        .args(["--secret-key", &exports.secret_key]);
    c
}

fn spawn(mut cmd: Command, what: &str) -> Process {
    cmd.spawn()
        .map(Process)
        .unwrap_or_else(|e| panic!("{what} starts: {e}"))
}

/// `berth agent` as a process of its own, with any extra flags.
pub fn start_agent(exports: &Exports, cluster: &str, state_dir: &Path, extra: &[&str]) -> Process {
    let mut c = root_client_of("agent", exports, cluster);
    c.arg("--state-dir").arg(state_dir).args(extra);
    spawn(c, "berth agent")
}

/// `berth agent` joining with the server's join token instead of a key.
pub fn start_agent_with_token(
    exports: &Exports,
    cluster: &str,
    state_dir: &Path,
    token: &str,
) -> Process {
    let mut c = client_of("agent", exports, cluster);
    c.env("BERTH_JOIN_TOKEN", token)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("--state-dir")
        .arg(state_dir);
    spawn(c, "berth agent")
}

/// `berth simulate` as a process of its own: simulated instances that need no Docker.
pub fn start_simulator(exports: &Exports, cluster: &str, extra: &[&str]) -> Process {
    let mut c = root_client_of("simulate", exports, cluster);
    c.args(extra);
    spawn(c, "berth simulate")
}
