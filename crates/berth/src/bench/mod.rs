//! `berth bench ...`: figures measured beside a baseline on the same machine, in the same run.
//! Every benchmark ends with a summary of one figure a line: `name: value unit`.

mod api_placement;
mod auth;
mod identity;
mod image;
mod logs;
mod placement;
mod registry;
mod run_task;
mod service;
mod volumes;

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Time from RunTask to RUNNING, beside bare `docker run -d` of the same image.
    RunTask {
        /// Tasks to time (and as many `docker run`s).
        #[arg(long, default_value_t = 30)]
        iterations: usize,
    },
    /// A service of N replicas to steady state and a rolling update of it, beside Docker Swarm
    /// and bare `docker run -d`.
    Service {
        /// Replicas of the service.
        #[arg(long, default_value_t = 100)]
        replicas: i32,
    },
    /// Placements per second: the pure scheduler on simulated clusters, then RunTask end to
    /// end through the API against simulated instances.
    Placement {
        /// Placements per cluster size, pure scheduler.
        #[arg(long, default_value_t = 1_000_000)]
        placements: usize,
        #[command(flatten)]
        api: ApiOptions,
    },
    /// Push and pull through the registry, beside Debian's docker-registry (Distribution).
    Registry {
        #[command(flatten)]
        opts: registry::RegistryOptions,
    },
    /// Log shipping: one task printing as fast as it can, its `awslogs` output readable
    /// through GetLogEvents, beside json-file logging read with `docker logs --follow`.
    Logs {
        #[command(flatten)]
        opts: logs::LogsOptions,
    },
    /// What signature verification and policy evaluation add to a cheap Describe call,
    /// beside the same server with verification switched off.
    Auth {
        #[command(flatten)]
        opts: auth::AuthOptions,
    },
    /// Sequential write and read MB/s and small-file creates a second inside a task on a
    /// shared volume (`efsVolumeConfiguration` on GlusterFS), beside a host bind mount.
    Volumes {
        #[command(flatten)]
        opts: volumes::VolumesOptions,
    },
}

/// Runs one benchmark.
pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::RunTask { iterations } => run_task::run(iterations).await,
        Which::Placement { placements, api } => placement::run(placements, api).await,
        Which::Service { replicas } => service::run(replicas).await,
        Which::Auth { opts } => auth::run(opts).await,
        Which::Registry { opts } => registry::run(opts).await,
        Which::Logs { opts } => logs::run(opts).await,
        Which::Volumes { opts } => volumes::run(opts).await,
    }
}

/// The end-to-end part of `berth bench placement`.
#[derive(Debug, clap::Args)]
pub struct ApiOptions {
    /// Simulated instances the API run places on.
    #[arg(long = "api-instances", default_value_t = 1_000)]
    pub instances: usize,
    /// Tasks the API run places.
    #[arg(long = "api-tasks", default_value_t = 20_000)]
    pub tasks: usize,
    /// Concurrent RunTask clients.
    #[arg(long = "api-clients", default_value_t = 8)]
    pub clients: usize,
}

/// A `berth up` of the benchmark's own, in this process, with a client for it.
pub struct LocalBerth {
    /// The server and its agent.
    pub local: crate::up::Local,
    /// A client of its API.
    pub ecs: berth_agent::client::EcsClient,
    /// The cluster its agent joined.
    pub cluster: String,
    stop: tokio::sync::watch::Sender<bool>,
    data: std::path::PathBuf,
}

impl LocalBerth {
    /// Starts Berth on a free port with a fresh data directory; its agent joins
    /// `<prefix>-<pid>`.
    pub async fn start(prefix: &str) -> anyhow::Result<Self> {
        Self::start_with_file_systems(prefix, None).await
    }

    /// As [`Self::start`], the server given the file system declarations `file_systems`
    /// (`berth server --file-systems`).
    pub async fn start_with_file_systems(
        prefix: &str,
        file_systems: Option<std::path::PathBuf>,
    ) -> anyhow::Result<Self> {
        let pid = std::process::id();
        let data = std::env::temp_dir().join(format!("berth-{prefix}-{pid}"));
        let cluster = format!("{prefix}-{pid}");
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let server = crate::server::ServerOptions {
            file_systems,
            ..server_options(data.clone())
        };
        let local = crate::up::start(
            &server,
            &crate::up::AgentOptions {
                cluster: cluster.clone(),
                cpu: None,
                memory: None,
                availability_zone: "local-a".into(),
                attributes: vec![],
                host_policy: Default::default(),
                // A benchmark's stopped tasks leave nothing behind.
                task_cleanup_wait: std::time::Duration::ZERO,
            },
            shutdown,
        )
        .await?;
        let ecs = local.server.root_client();
        Ok(Self {
            local,
            ecs,
            cluster,
            stop,
            data,
        })
    }

    /// Registers a revision of `family`: one container of `image` sleeping ten minutes, with
    /// `memory` MiB and a one-second stop timeout. Returns its ARN.
    pub async fn register_sleeper(
        &self,
        family: &str,
        image: &str,
        memory: i32,
    ) -> anyhow::Result<String> {
        self.register_sleeper_in(family, image, memory, None).await
    }

    /// [`Self::register_sleeper`] in network mode `mode` (bridge when none).
    pub async fn register_sleeper_in(
        &self,
        family: &str,
        image: &str,
        memory: i32,
        mode: Option<berth_types::ecs::NetworkMode>,
    ) -> anyhow::Result<String> {
        use berth_types::ecs::{
            ContainerDefinition, RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse,
        };
        let sleeper = ContainerDefinition {
            name: Some("sleep".into()),
            image: Some(image.into()),
            command: Some(vec!["sleep".into(), "600".into()]),
            memory: Some(memory),
            stop_timeout: Some(1),
            ..ContainerDefinition::default()
        };
        let request = RegisterTaskDefinitionRequest {
            family: family.into(),
            container_definitions: vec![sleeper],
            network_mode: mode,
            ..RegisterTaskDefinitionRequest::default()
        };
        let registered: RegisterTaskDefinitionResponse =
            self.ecs.call("RegisterTaskDefinition", &request).await?;
        registered
            .task_definition
            .and_then(|t| t.task_definition_arn)
            .ok_or_else(|| anyhow::anyhow!("no task definition ARN"))
    }

    /// Shuts Berth down and removes its data, unless something is still mounted in it: removing
    /// the agent's directory through a live shared-volume mount would delete the shared data.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.local.server.served.await;
        if mounts_under(&self.data).is_empty() {
            let _ = std::fs::remove_dir_all(&self.data);
        } else {
            eprintln!(
                "left {} in place: something is still mounted in it",
                self.data.display()
            );
        }
    }

    /// Where this Berth keeps its data (the agent's shared-volume mounts among it).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data
    }
}

/// RunTask of one task of `task_definition` in `cluster` (in `network`, for awsvpc); its ARN.
pub async fn run_one_task(
    ecs: &berth_agent::client::EcsClient,
    cluster: &str,
    task_definition: &str,
    network: Option<&berth_types::ecs::NetworkConfiguration>,
) -> anyhow::Result<String> {
    use berth_types::ecs::{RunTaskRequest, RunTaskResponse};
    let run: RunTaskResponse = ecs
        .call(
            "RunTask",
            &RunTaskRequest {
                cluster: Some(cluster.into()),
                task_definition: task_definition.into(),
                network_configuration: network.cloned(),
                ..RunTaskRequest::default()
            },
        )
        .await?;
    run.tasks
        .and_then(|t| t.into_iter().next())
        .and_then(|t| t.task_arn)
        .ok_or_else(|| anyhow::anyhow!("RunTask placed nothing: {:?}", run.failures))
}

/// The mount points at or under `dir`, from this process's mountinfo (spaces and the like
/// escaped as the kernel writes them, which the paths here do not have).
pub fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| std::path::Path::new(m).starts_with(dir))
        .map(str::to_string)
        .collect()
}

/// A server a benchmark runs in-process: a free loopback port, no rate limit.
pub fn server_options(data_dir: std::path::PathBuf) -> crate::server::ServerOptions {
    crate::server::ServerOptions {
        data_dir,
        listen: "127.0.0.1:0".into(),
        region: "us-east-1".into(),
        account_id: crate::server::DEFAULT_ACCOUNT.into(),
        rate_limit: 0,
        audit_retention: 1_000_000,
        registry_listen: None,
        registry_create_on_push: false,
        file_systems: None,
        tls: Default::default(),
        verify: true,
    }
}

/// The availability zones of the simulated clusters of the placement benchmarks.
pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// A field of this process's `/proc/self/status` given in kB (`VmRSS:`, `VmHWM:`), in MiB.
pub fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix(field))?;
    let kib: f64 = value.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Median and 99th percentile of samples (nearest rank).
pub fn percentiles(samples: &[f64]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(i).copied().unwrap_or(f64::NAN)
    };
    (rank(0.5), rank(0.99))
}

/// Prints the closing summary.
pub fn summary(figures: &[(&str, f64, &str)]) {
    say!("--- summary ---");
    for (name, value, unit) in figures {
        say!("{name}: {value:.1} {unit}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(super::percentiles(&samples), (50.0, 99.0));
        assert_eq!(super::percentiles(&[3.0, 1.0, 2.0]), (2.0, 3.0));
    }
}
