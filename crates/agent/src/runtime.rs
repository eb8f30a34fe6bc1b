//! The container runtime seam: the operations the runner and the manager need from a container
//! engine, as a trait. [`crate::docker::Docker`] implements it against the real engine; tests use
//! an in-memory fake (`runtime/fake.rs`, compiled for tests only), so the runner's ordering,
//! stopping and adoption logic is tested without Docker. Errors are the strings ECS puts in
//! `reason` (`CannotPullContainerError: ...`).
//!
//! The methods return `impl Future + Send` rather than being `async fn`, so that a runner generic
//! over the runtime can still be spawned on the multi-threaded executor.

#[cfg(test)]
pub(crate) mod fake;

use berth_types::ecs::NetworkBinding;
use bollard::auth::DockerCredentials;
use bollard::models::ContainerCreateBody;
use futures_util::stream::BoxStream;
use std::collections::HashMap;
use std::future::Future;
use std::time::SystemTime;

/// A container found on the engine with Berth's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Runtime id.
    pub id: String,
    /// The task it belongs to.
    pub task_arn: String,
    /// The container's name in the task definition.
    pub container_name: String,
    /// The engine's name for it.
    pub engine_name: String,
    /// Whether it is running now.
    pub running: bool,
}

/// What inspecting a container tells the agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspected {
    /// Running now.
    pub running: bool,
    /// The exit code once it stopped.
    pub exit_code: Option<i32>,
    /// Killed by the kernel for exceeding its memory limit.
    pub oom_killed: bool,
    /// `healthy`, `unhealthy` or `starting`; `None` without a health check.
    pub health: Option<String>,
    /// Host ports bound, as ECS reports them.
    pub bindings: Vec<NetworkBinding>,
    /// When it last stopped; `None` while running or if it never ran.
    pub finished_at: Option<SystemTime>,
    /// Its first process, while it runs (its namespaces are that process's).
    pub pid: Option<u32>,
    /// The task role credentials id in its environment, if it has one.
    pub credentials_id: Option<String>,
}

/// One line of a container's output (stdout and stderr alike), as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The engine's timestamp, in ns since the epoch.
    pub ns: i64,
    /// The text, ending with a newline unless the engine split a long line here.
    pub text: String,
}

/// A Docker volume: what the runner asks to create, and what inspecting or listing one tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The engine's name for it.
    pub name: String,
    /// Its driver; `local` unless the task definition names another.
    pub driver: String,
    /// The driver's options.
    pub driver_opts: HashMap<String, String>,
    /// Its labels, Berth's included.
    pub labels: HashMap<String, String>,
}

/// A network of the engine: what the runner asks to create, and what listing one tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The engine's name for it.
    pub name: String,
    /// Its IPv4 blocks (`10.0.0.0/16`); one when Berth creates it.
    pub subnets: Vec<String>,
    /// The address of the host's end (the bridge), when Berth creates it.
    pub gateway: Option<String>,
    /// The driver's options (`com.docker.network.bridge.name`, ...).
    pub options: HashMap<String, String>,
    /// Its labels, Berth's included.
    pub labels: HashMap<String, String>,
}

/// A container engine, reduced to what a task needs. Cloning is cheap and shares the engine: a
/// runner hands a clone to each task that waits for a container's exit.
pub trait ContainerRuntime: Clone + Send + Sync + 'static {
    /// Pulls `image` unless the engine already has it, with `credentials` for its registry;
    /// returns its manifest digest (`sha256:…`), when it came from a registry.
    fn ensure_image(
        &self,
        image: &str,
        credentials: Option<DockerCredentials>,
    ) -> impl Future<Output = Result<Option<String>, String>> + Send;

    /// Creates a container named `name`; returns its id.
    fn create(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> impl Future<Output = Result<String, String>> + Send;

    /// Starts a created container.
    fn start(&self, id: &str) -> impl Future<Output = Result<(), String>> + Send;

    /// SIGTERM, then SIGKILL after `timeout` seconds.
    fn stop(&self, id: &str, timeout: i32) -> impl Future<Output = Result<(), String>> + Send;

    /// Removes a container (and its anonymous volumes).
    fn remove(&self, id: &str) -> impl Future<Output = Result<(), String>> + Send;

    /// Waits until the container exits; returns its exit code.
    fn wait(&self, id: &str) -> impl Future<Output = Result<i32, String>> + Send;

    /// State, health and port bindings of a container.
    fn inspect(&self, id: &str) -> impl Future<Output = Result<Inspected, String>> + Send;

    /// The container's output from `since_seconds` (epoch seconds) on, following it until
    /// the container stops. The engine may end the stream as the container exits before the
    /// last of its output (Docker 20.10 does): a caller that needs it all reads again.
    fn logs(&self, id: &str, since_seconds: i64) -> BoxStream<'static, Result<LogLine, String>>;

    /// Containers this container instance started, of one task or of all.
    fn list(
        &self,
        instance_arn: &str,
        task_arn: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Existing>, String>> + Send;

    /// Creates a volume.
    fn create_volume(&self, spec: &VolumeSpec) -> impl Future<Output = Result<(), String>> + Send;

    /// The volume named `name`, or `None` when the engine has none of that name.
    fn inspect_volume(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<VolumeSpec>, String>> + Send;

    /// Removes a volume; one that is gone already is not an error.
    fn remove_volume(&self, name: &str) -> impl Future<Output = Result<(), String>> + Send;

    /// Volumes this container instance created.
    fn list_volumes(
        &self,
        instance_arn: &str,
    ) -> impl Future<Output = Result<Vec<VolumeSpec>, String>> + Send;

    /// Creates image `tag` from `tar` (a root file system) with the Dockerfile instructions
    /// `changes`, through the engine's import, unless the engine has that image already.
    fn import_image(
        &self,
        tag: &str,
        tar: Vec<u8>,
        changes: &[&str],
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Every network of the engine, Berth's or not.
    fn list_networks(&self) -> impl Future<Output = Result<Vec<NetworkSpec>, String>> + Send;

    /// Creates a bridge network.
    fn create_network(&self, spec: &NetworkSpec)
    -> impl Future<Output = Result<(), String>> + Send;

    /// Removes a network; one that is gone already is not an error, one that containers still
    /// run on is.
    fn remove_network(&self, name: &str) -> impl Future<Output = Result<(), String>> + Send;
}
