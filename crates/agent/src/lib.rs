//! Berth's host agent: registers this host as a container instance, holds the assignment stream,
//! and runs the assigned tasks as Docker containers, reporting their state back.
//!
//! It talks to the control plane only over the network (the public ECS API plus the assignment
//! stream), exactly as an agent on another machine would. Modules:
//! - [`client`]: the ECS JSON API client; [`trust`]: the certificates it accepts;
//! - `host`: cpu, memory and attributes of this host;
//! - [`host_policy`]: what the operator forbids on this host (privileged containers, ...);
//! - `join`: the join token traded for the agent's own credentials;
//! - `registration`: RegisterContainerInstance, remembering the instance across restarts;
//! - `registry_auth`: credentials for pulling from Berth's own registry;
//! - `stream`: the WebSocket the assignments arrive on;
//! - `manager` and `runner`: one runner per task, adopting existing containers;
//! - [`cleanup`]: how long a stopped task's containers stay on the host;
//! - `spec`: ECS container definition → Docker create body;
//! - [`logs`]: the awslogs driver: the containers' output shipped to CloudWatch Logs;
//! - `runtime`: what the runner needs of a container engine; `docker` gives it with the
//!   Docker Engine API;
//! - `reporter`: batched, retried state reports;
//! - `health`: container health, published over the stream;
//! - `network`: awsvpc tasks' namespaces (pause containers) on their VPCs' Docker networks;
//! - `shared_fs`: shared file system volumes mounted for tasks; `task_cgroup`: a task's cpu
//!   and memory as a cgroup of its own;
//! - [`simulator`]: simulated instances without Docker that acknowledge tasks at once;
//!   [`scratch_gluster`]: a GlusterFS volume of this host's own, for tests and benchmarks.

#![warn(unreachable_pub)]

pub mod cleanup;
pub mod client;
mod docker;
mod health;
mod host;
pub mod host_policy;
mod join;
pub mod logs;
mod manager;
mod network;
mod registration;
mod registry_auth;
mod reporter;
mod runner;
mod runtime;
pub mod scratch_gluster;
mod shared_fs;
pub mod simulator;
mod spec;
mod stream;
mod task_cgroup;
mod task_credentials;
mod task_secrets;
#[cfg(test)]
mod test_kit;
pub mod trust;

use std::path::PathBuf;
use tokio::sync::{oneshot, watch};

/// How the agent is set up.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The control plane, e.g. `http://127.0.0.1:9714`.
    pub endpoint: String,
    /// The cluster to join.
    pub cluster: String,
    /// Where the agent remembers its instance ARN.
    pub state_dir: PathBuf,
    /// What the agent signs with.
    pub credentials: AgentCredentials,
    /// Region in the signature scope.
    pub region: String,
    /// A CA bundle (PEM) to trust besides the system's roots, for an `https://` endpoint.
    pub ca_bundle: Option<PathBuf>,
    /// CPU units to offer (default: 1024 per core).
    pub cpu: Option<i32>,
    /// MiB to offer (default: all of the host's memory).
    pub memory: Option<i32>,
    /// The `ecs.availability-zone` attribute.
    pub availability_zone: String,
    /// Custom attributes.
    pub attributes: Vec<(String, String)>,
    /// What tasks may not ask for on this host.
    pub host_policy: host_policy::HostPolicy,
    /// How long a stopped task's containers stay on the host ([`cleanup`]).
    pub task_cleanup_wait: std::time::Duration,
}

/// How an agent gets the keys it signs with.
#[derive(Debug, Clone)]
pub enum AgentCredentials {
    /// A key pair given outright (the root key, or an IAM user's).
    Keys {
        /// Access key id.
        access_key: String,
        /// Its secret.
        secret_key: String,
    },
    /// The server's join token, traded for a key of the agent's own ([`join`]).
    JoinToken(String),
}

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Docker cannot be reached.
    #[error("{0}")]
    Docker(String),
    /// Registration failed for good.
    #[error("{0}")]
    Registration(String),
    /// The control plane refused this instance.
    #[error(
        "the control plane refused container instance {arn}: {why}; restart the agent to register again"
    )]
    Refused {
        /// The instance.
        arn: String,
        /// The server's words.
        why: String,
    },
}

/// Runs the agent until `shutdown` flips to true. Running containers are left running on
/// shutdown: the next start adopts them. `registered` hears the instance ARN once registered.
pub async fn run(
    config: AgentConfig,
    shutdown: watch::Receiver<bool>,
    registered: Option<oneshot::Sender<String>>,
) -> Result<(), AgentError> {
    let docker = docker::Docker::connect()
        .await
        .map_err(AgentError::Docker)?;
    let trust = trust::Trust::new(config.ca_bundle.as_deref()).map_err(AgentError::Registration)?;
    let (access_key, secret_key) = join::credentials(&config, &trust).await?;
    let client = client::EcsClient::with_trust(
        &config.endpoint,
        &access_key,
        &secret_key,
        &config.region,
        trust,
    );
    let cgroups = task_cgroup::TaskCgroups::detect(docker.cgroup_driver().await.as_deref());
    let capabilities = host::Capabilities {
        shared_volumes: shared_fs::available(),
        task_limits: cgroups.is_some(),
    };
    let arn =
        registration::register(&config, &client, &docker, capabilities, shutdown.clone()).await?;
    if let Some(tx) = registered {
        let _ = tx.send(arn.clone());
    }
    let reporter = reporter::Reporter::start(client.clone());
    let manager = manager::Manager::new(runner::RunnerCtx {
        runtime: docker,
        reporter,
        cluster: config.cluster.clone(),
        instance_arn: arn.clone(),
        health: Default::default(),
        registry: std::sync::Arc::new(registry_auth::RegistryAuth::new(client.clone())),
        policy: config.host_policy,
        logs: std::sync::Arc::new(client.clone()),
        cleanup_wait: config.task_cleanup_wait,
        firelens: logs::firelens::Host::new(&config.state_dir, &config.endpoint),
        shared_fs: shared_fs::SharedMounts::new(&config.state_dir),
        cgroups,
        credentials: std::sync::Arc::new(client.clone()),
        secrets: std::sync::Arc::new(client.clone()),
        networks: Default::default(),
    });
    let sweeper = tokio::spawn({
        let manager = manager.clone();
        let period = cleanup::sweep_period(config.task_cleanup_wait);
        async move {
            loop {
                tokio::time::sleep(period).await;
                manager.sweep().await;
            }
        }
    });
    let ended = stream::run(&client, &arn, &manager, shutdown).await;
    sweeper.abort();
    match ended {
        stream::Ended::Shutdown => Ok(()),
        stream::Ended::Refused(why) => Err(AgentError::Refused { arn, why }),
    }
}
