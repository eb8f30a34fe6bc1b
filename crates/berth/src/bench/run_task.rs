//! RunTask → RUNNING as a client sees it (DescribeTasks polled every 2 ms), beside bare
//! `docker run -d` of the same image, beside the same task with a task role, an execution
//! role and ten secrets ([`super::identity`]), and beside it in awsvpc mode (its own address
//! in a VPC of the benchmark's, a pause container holding its namespace), alternated so all
//! see the same machine load.

use super::{image, percentiles, summary};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    AwsVpcConfiguration, NetworkConfiguration, NetworkMode, StopTaskRequest, StopTaskResponse,
};
use std::process::Command;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(2);

/// The VPC block of the awsvpc tasks: one a developer's own VPCs are unlikely to hold.
const VPC_CIDR: &str = "10.251.0.0/16";

async fn time_run_task(
    ecs: &EcsClient,
    cluster: &str,
    family: &str,
    network: Option<&NetworkConfiguration>,
) -> anyhow::Result<(f64, String)> {
    let start = Instant::now();
    let arn = super::run_one_task(ecs, cluster, family, network).await?;
    loop {
        let task = crate::logs::describe_task(ecs, cluster, &arn).await?;
        match task.last_status.as_deref() {
            Some("RUNNING") => return Ok((start.elapsed().as_secs_f64() * 1000.0, arn)),
            Some("STOPPED") => anyhow::bail!("task {arn} stopped before RUNNING"),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

fn time_docker_run() -> anyhow::Result<(f64, String)> {
    let start = Instant::now();
    let out = Command::new("docker")
        .args([
            "run",
            "-d",
            "--label",
            "berth-bench=baseline",
            image::IMAGE,
            "sleep",
            "600",
        ])
        .output()?;
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        out.status.success(),
        "docker run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((
        elapsed,
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

/// Runs the benchmark.
pub async fn run(iterations: usize) -> anyhow::Result<()> {
    image::ensure()?;
    let local = super::LocalBerth::start("bench").await?;
    let (ecs, cluster) = (&local.ecs, local.cluster.clone());
    local.register_sleeper("bench", image::IMAGE, 16).await?;
    super::identity::register(&local, "bench-identity", image::IMAGE).await?;
    local
        .register_sleeper_in("bench-awsvpc", image::IMAGE, 16, Some(NetworkMode::Awsvpc))
        .await?;
    let network = vpc_subnet(&local)?;

    say!(
        "timing {iterations} RunTask→RUNNING, {iterations} with a task role and {} secrets, {iterations} in awsvpc mode and {iterations} `docker run -d`, alternated",
        super::identity::SECRETS
    );
    let mut berth = vec![];
    let mut identity = vec![];
    let mut awsvpc = vec![];
    let mut docker = vec![];
    let mut tasks = vec![];
    let mut containers = vec![];
    for i in 0..iterations {
        let (ms, arn) = time_run_task(ecs, &cluster, "bench", None).await?;
        berth.push(ms);
        tasks.push(arn);
        let (ms, arn) = time_run_task(ecs, &cluster, "bench-identity", None).await?;
        identity.push(ms);
        tasks.push(arn);
        let (ms, arn) = time_run_task(ecs, &cluster, "bench-awsvpc", Some(&network)).await?;
        awsvpc.push(ms);
        tasks.push(arn);
        let (ms, id) = tokio::task::spawn_blocking(time_docker_run).await??;
        docker.push(ms);
        containers.push(id);
        if (i + 1) % 10 == 0 {
            say!("  {}/{iterations}", i + 1);
        }
    }

    say!("cleaning up");
    for arn in &tasks {
        let _: StopTaskResponse = ecs
            .call(
                "StopTask",
                &StopTaskRequest {
                    cluster: Some(cluster.clone()),
                    task: arn.clone(),
                    ..StopTaskRequest::default()
                },
            )
            .await?;
    }
    let _ = Command::new("docker")
        .args(["rm", "-f"])
        .args(&containers)
        .output();
    // Give the agent its stopTimeout to stop and remove the task containers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    local.stop().await;

    let (b50, b99) = percentiles(&berth);
    let (d50, d99) = percentiles(&docker);
    let (i50, i99) = percentiles(&identity);
    let (a50, a99) = percentiles(&awsvpc);
    summary(&[
        ("run_task_to_running_p50", b50, "ms"),
        ("run_task_to_running_p99", b99, "ms"),
        ("docker_run_p50", d50, "ms"),
        ("docker_run_p99", d99, "ms"),
        ("overhead_p50", b50 - d50, "ms"),
        ("ratio_p50", b50 / d50, "x"),
        ("role_and_secrets_to_running_p50", i50, "ms"),
        ("role_and_secrets_to_running_p99", i99, "ms"),
        ("role_and_secrets_extra_p50", i50 - b50, "ms"),
        ("awsvpc_to_running_p50", a50, "ms"),
        ("awsvpc_to_running_p99", a99, "ms"),
        ("awsvpc_extra_p50", a50 - b50, "ms"),
    ]);
    Ok(())
}

/// A VPC and subnet of the benchmark's own (the default VPC's block may be in use by a Berth
/// the developer runs beside it), as the awsvpc tasks' network configuration.
fn vpc_subnet(local: &super::LocalBerth) -> anyhow::Result<NetworkConfiguration> {
    let control = &local.local.server.control;
    let vpc = control.create_vpc(VPC_CIDR, Default::default())?;
    let subnet = control.create_subnet(&vpc.id, "10.251.0.0/20", None, Default::default())?;
    Ok(NetworkConfiguration {
        awsvpc_configuration: Some(AwsVpcConfiguration {
            subnets: vec![subnet.id],
            ..AwsVpcConfiguration::default()
        }),
    })
}
