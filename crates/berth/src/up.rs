//! `berth up`: the control plane and an agent for the local Docker engine, in one process.

use crate::env_file::EnvFile;
use crate::server::{self, Running, ServerOptions};
use std::path::PathBuf;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, clap::Args)]
pub struct AgentOptions {
    /// Cluster to join (created on first use when it is `default`).
    #[arg(long, env = "BERTH_CLUSTER", default_value = "default")]
    pub cluster: String,
    /// CPU units to offer (default: 1024 per core).
    #[arg(long)]
    pub cpu: Option<i32>,
    /// MiB of memory to offer (default: the host's total).
    #[arg(long)]
    pub memory: Option<i32>,
    /// The ecs.availability-zone attribute of this host.
    #[arg(long, default_value = "local-a")]
    pub availability_zone: String,
    /// Custom attribute NAME=VALUE (repeatable).
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// What tasks may not ask for on this host.
    #[command(flatten)]
    pub host_policy: HostPolicyOptions,
    /// How long a stopped task's containers stay on the host (so `docker logs` works on them)
    /// before they are removed, as ECS's ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: 3h, 10m, 30s,
    /// 0s (removed as the task stops).
    #[arg(
        long,
        env = "BERTH_TASK_CLEANUP_WAIT",
        default_value = "3h",
        value_parser = berth_agent::cleanup::parse_duration
    )]
    pub task_cleanup_wait: std::time::Duration,
}

/// What tasks may not ask for on this host; by default everything is allowed. A task that asks
/// for something forbidden is stopped with CannotStartContainerError before any container is
/// created.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Host policy")]
pub struct HostPolicyOptions {
    /// Refuse containers with privileged: true or linuxParameters.devices, and tasks with
    /// pidMode or ipcMode host.
    #[arg(long, env = "BERTH_DENY_PRIVILEGED")]
    pub deny_privileged: bool,
    /// Refuse tasks with networkMode host.
    #[arg(long, env = "BERTH_DENY_HOST_NETWORK")]
    pub deny_host_network: bool,
    /// Refuse containers with linuxParameters.capabilities.add.
    #[arg(long, env = "BERTH_DENY_ADDED_CAPABILITIES")]
    pub deny_added_capabilities: bool,
    /// Allow volumes' host.sourcePath only under this absolute path (repeatable; the
    /// environment variable takes a comma-separated list). Without any, every host path is
    /// allowed.
    #[arg(
        long = "allowed-host-path",
        value_name = "PATH",
        env = "BERTH_ALLOWED_HOST_PATHS",
        value_delimiter = ',',
        value_parser = parse_allowed_host_path
    )]
    pub allowed_host_paths: Vec<PathBuf>,
}

/// An absolute path of `--allowed-host-path`: a relative one would allow nothing.
fn parse_allowed_host_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(format!("allowed host path {s:?} must be absolute"))
    }
}

/// `NAME=VALUE` of `--attribute`.
pub fn parse_attribute(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("attribute {s:?} must be NAME=VALUE"))
}

impl AgentOptions {
    pub fn config(
        &self,
        endpoint: String,
        credentials: berth_agent::AgentCredentials,
        region: String,
        state_dir: PathBuf,
    ) -> berth_agent::AgentConfig {
        berth_agent::AgentConfig {
            endpoint,
            cluster: self.cluster.clone(),
            state_dir,
            credentials,
            region,
            ca_bundle: None,
            cpu: self.cpu,
            memory: self.memory,
            availability_zone: self.availability_zone.clone(),
            attributes: self.attributes.clone(),
            host_policy: berth_agent::host_policy::HostPolicy {
                deny_privileged: self.host_policy.deny_privileged,
                deny_host_network: self.host_policy.deny_host_network,
                deny_added_capabilities: self.host_policy.deny_added_capabilities,
                allowed_host_paths: self.host_policy.allowed_host_paths.clone(),
            },
            task_cleanup_wait: self.task_cleanup_wait,
        }
    }
}

/// A server with its agent registered.
pub struct Local {
    pub server: Running,
    pub instance_arn: String,
    pub agent: JoinHandle<Result<(), berth_agent::AgentError>>,
}

/// Starts the server, then the agent, and returns once the agent has registered.
pub async fn start(
    server_opts: &ServerOptions,
    agent_opts: &AgentOptions,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Local> {
    let running = server::start(server_opts, shutdown.clone()).await?;
    let mut config = agent_opts.config(
        running.endpoint(),
        // The local agent joins as any agent would, with credentials scoped to its instance.
        berth_agent::AgentCredentials::JoinToken(running.credentials.join_token.clone()),
        running.region.clone(),
        server_opts.data_dir.join("agent"),
    );
    config.ca_bundle = running.ca_file.clone();
    let (registered_tx, registered_rx) = oneshot::channel();
    let agent = tokio::spawn(berth_agent::run(config, shutdown, Some(registered_tx)));
    let Ok(instance_arn) = registered_rx.await else {
        agent.await??;
        anyhow::bail!("the agent stopped before registering");
    };
    Ok(Local {
        server: running,
        instance_arn,
        agent,
    })
}

/// `berth up`: prints what to export (and writes it to `--env-file`), then serves until shut
/// down.
pub async fn run(
    server_opts: ServerOptions,
    agent_opts: AgentOptions,
    env_file: EnvFile,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let local = start(&server_opts, &agent_opts, shutdown).await?;
    say!(
        "Berth is up: ECS and ECR APIs on {}, registry at {} (data in {})",
        local.server.endpoint(),
        local.server.registry_host(),
        server_opts.data_dir.display()
    );
    say!(
        "This host joined cluster {} as {}",
        agent_opts.cluster,
        local.instance_arn
    );
    say!("{}", local.server.exports());
    say!(
        "# Try: aws ecs list-container-instances --cluster {}",
        agent_opts.cluster
    );
    env_file.write(&local.server.exports())?;
    local.server.served.await??;
    local.agent.await??;
    Ok(())
}
