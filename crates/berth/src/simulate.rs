//! `berth simulate`: container instances without Docker that join a control plane and
//! acknowledge their tasks at once, for trying placement at scale and for benchmarks.

use crate::up::parse_attribute;
use berth_agent::client::EcsClient;
use berth_agent::simulator::{self, SimulatedInstance};
use tokio::sync::watch;

/// The simulated fleet.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateOptions {
    /// Cluster to join (created when it does not exist).
    #[arg(long, env = "BERTH_CLUSTER", default_value = "default")]
    pub cluster: String,
    /// How many instances to simulate.
    #[arg(long, default_value_t = 10)]
    pub instances: usize,
    /// CPU units each instance offers.
    #[arg(long, default_value_t = 4096)]
    pub cpu: i32,
    /// MiB each instance offers.
    #[arg(long, default_value_t = 16_384)]
    pub memory: i32,
    /// Availability zones, dealt to the instances in turn (repeatable).
    #[arg(long = "availability-zone", default_values_t = ["local-a".to_string()])]
    pub zones: Vec<String>,
    /// Custom attribute NAME=VALUE of every instance (repeatable).
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
}

/// Registers the fleet and keeps it connected until `shutdown`.
pub async fn run(
    client: EcsClient,
    opts: SimulateOptions,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let fleet: Vec<SimulatedInstance> = (0..opts.instances)
        .map(|i| SimulatedInstance {
            cpu: opts.cpu,
            memory: opts.memory,
            availability_zone: opts.zones[i % opts.zones.len()].clone(),
            attributes: opts.attributes.clone(),
        })
        .collect();
    say!(
        "registering {} simulated instances in cluster {} ...",
        opts.instances,
        opts.cluster
    );
    simulator::start(&client, &opts.cluster, &fleet, shutdown.clone()).await?;
    say!(
        "simulating {} container instances in cluster {} (no Docker: tasks go RUNNING at once); Ctrl-C stops them",
        opts.instances,
        opts.cluster
    );
    say!(
        "# try: aws ecs list-container-instances --cluster {}",
        opts.cluster
    );
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    Ok(())
}
