//! Placements end to end: RunTask calls of 10 tasks from concurrent clients through the real
//! API, against a real server (durable store) and a cluster of simulated instances that
//! acknowledge their tasks at once. Counts tasks placed per second, durable commit included.

use super::{ZONES, percentiles};
use crate::server;
use berth_agent::client::EcsClient;
use berth_agent::simulator::{self, SimulatedInstance};
use berth_types::ecs::{
    ContainerDefinition, ListContainerInstancesRequest, ListContainerInstancesResponse,
    PlacementConstraint, PlacementConstraintType, PlacementStrategy, PlacementStrategyType,
    RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse, RunTaskRequest, RunTaskResponse,
};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const CLUSTER: &str = "bench-simulated";
const PER_CALL: i32 = 10;

/// What the end-to-end run measured.
pub struct Figures {
    /// Tasks placed (RunTask answered, durably stored) per second.
    pub per_second: f64,
    /// RunTask latency, p50 and p99, ms.
    pub call_p50_ms: f64,
    /// See `call_p50_ms`.
    pub call_p99_ms: f64,
}

fn instances(n: usize) -> Vec<SimulatedInstance> {
    (0..n)
        .map(|i| SimulatedInstance {
            cpu: 16_384,
            memory: 65_536,
            availability_zone: ZONES[i % ZONES.len()].into(),
            attributes: vec![(
                "role".into(),
                if i % 10 == 0 { "batch" } else { "web" }.into(),
            )],
        })
        .collect()
}

/// Instances of the cluster whose agent stream is open.
async fn connected(ecs: &EcsClient) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut next_token = None;
    loop {
        let page: ListContainerInstancesResponse = ecs
            .call(
                "ListContainerInstances",
                &ListContainerInstancesRequest {
                    cluster: Some(CLUSTER.into()),
                    filter: Some("agentConnected == true".into()),
                    max_results: Some(100),
                    next_token,
                    ..ListContainerInstancesRequest::default()
                },
            )
            .await?;
        count += page.container_instance_arns.map_or(0, |a| a.len());
        next_token = page.next_token;
        if next_token.is_none() {
            return Ok(count);
        }
    }
}

fn run_request() -> RunTaskRequest {
    RunTaskRequest {
        cluster: Some(CLUSTER.into()),
        task_definition: "bench-simulated".into(),
        count: Some(PER_CALL),
        placement_constraints: Some(vec![PlacementConstraint {
            r#type: Some(PlacementConstraintType::MemberOf),
            expression: Some("attribute:role == web".into()),
        }]),
        placement_strategy: Some(vec![
            PlacementStrategy {
                r#type: Some(PlacementStrategyType::Spread),
                field: Some("attribute:ecs.availability-zone".into()),
            },
            PlacementStrategy {
                r#type: Some(PlacementStrategyType::Binpack),
                field: Some("memory".into()),
            },
        ]),
        ..RunTaskRequest::default()
    }
}

/// One client: RunTask calls until `calls` are made; returns each call's latency (ms) and
/// the tasks placed.
async fn client(ecs: EcsClient, calls: usize) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut latencies = Vec::with_capacity(calls);
    let mut placed = 0;
    let request = run_request();
    for _ in 0..calls {
        let t = Instant::now();
        let answer: RunTaskResponse = ecs.call("RunTask", &request).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        let n = answer.tasks.map_or(0, |t| t.len());
        anyhow::ensure!(
            n == PER_CALL as usize,
            "the simulated cluster ran out of room: {:?}",
            answer.failures
        );
        placed += n;
    }
    Ok((latencies, placed))
}

/// Runs the end-to-end benchmark on `instance_count` simulated instances.
pub async fn run(instance_count: usize, tasks: usize, clients: usize) -> anyhow::Result<Figures> {
    let data = std::env::temp_dir().join(format!("berth-bench-sim-{}", std::process::id()));
    let (stop, shutdown) = watch::channel(false);
    let running = server::start(&super::server_options(data.clone()), shutdown).await?;
    let ecs = running.root_client();
    say!("registering {instance_count} simulated instances ...");
    // The fleet stops before the server, so no stream sees its server go away.
    let (stop_fleet, fleet_shutdown) = watch::channel(false);
    simulator::start(&ecs, CLUSTER, &instances(instance_count), fleet_shutdown).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected(&ecs).await? < instance_count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the simulated instances did not all connect within 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _: RegisterTaskDefinitionResponse = ecs
        .call(
            "RegisterTaskDefinition",
            &RegisterTaskDefinitionRequest {
                family: "bench-simulated".into(),
                container_definitions: vec![ContainerDefinition {
                    name: Some("app".into()),
                    image: Some("simulated".into()),
                    cpu: Some(1),
                    memory: Some(8),
                    ..ContainerDefinition::default()
                }],
                ..RegisterTaskDefinitionRequest::default()
            },
        )
        .await?;

    let calls = tasks.div_ceil(PER_CALL as usize).div_ceil(clients);
    say!(
        "placing {} tasks through RunTask ({clients} clients, {PER_CALL} tasks a call) ...",
        calls * clients * PER_CALL as usize
    );
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client(ecs.clone(), calls)))
        .collect();
    let mut latencies = vec![];
    let mut placed = 0;
    for w in workers {
        let (l, n) = w.await??;
        latencies.extend(l);
        placed += n;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (call_p50_ms, call_p99_ms) = percentiles(&latencies);
    let _ = stop_fleet.send(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    let _ = running.served.await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(Figures {
        per_second: placed as f64 / elapsed,
        call_p50_ms,
        call_p99_ms,
    })
}
