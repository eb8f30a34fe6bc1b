//! A service of N replicas (busybox sleep) to steady state, then a rolling update of all of
//! them to a new image, on this one machine: Berth beside Docker Swarm doing the same
//! (`docker service create --replicas N`, `docker service update --image` with start-first
//! and all at once, as ECS's default 100%/200% does), and beside the floor of starting N
//! containers with bare `docker run -d` (8 at a time), all in one run.

use super::{LocalBerth, image, summary};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    CreateServiceRequest, CreateServiceResponse, DeleteServiceRequest, DeleteServiceResponse,
    DescribeServicesRequest, DescribeServicesResponse, UpdateServiceRequest, UpdateServiceResponse,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The second image of the rolling update: the bench image under another tag.
const IMAGE2: &str = "berth-busybox:bench-update";
const SWARM_SERVICE: &str = "berth-bench-swarm";
const POLL: Duration = Duration::from_millis(100);
const LIMIT: Duration = Duration::from_secs(600);

fn docker(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("docker")
        .args(args)
        .stderr(Stdio::piped())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Waits until the service is steady as `aws ecs wait services-stable` sees it: one deployment,
/// of `td`, with `count` RUNNING tasks; returns the seconds since `start`.
async fn settled(
    ecs: &EcsClient,
    cluster: &str,
    td: &str,
    count: i32,
    start: Instant,
) -> anyhow::Result<f64> {
    loop {
        let d: DescribeServicesResponse = ecs
            .call(
                "DescribeServices",
                &DescribeServicesRequest {
                    cluster: Some(cluster.into()),
                    services: vec!["bench".into()],
                    ..DescribeServicesRequest::default()
                },
            )
            .await?;
        let s = d.services.and_then(|s| s.into_iter().next());
        let done = s.as_ref().is_some_and(|s| {
            let d = s.deployments.as_deref().unwrap_or_default();
            d.len() == 1
                && d[0].task_definition.as_deref() == Some(td)
                && s.running_count == Some(count)
        });
        if done {
            return Ok(start.elapsed().as_secs_f64());
        }
        anyhow::ensure!(start.elapsed() < LIMIT, "the service did not settle: {s:?}");
        tokio::time::sleep(POLL).await;
    }
}

async fn berth(replicas: i32) -> anyhow::Result<(f64, f64)> {
    let local = LocalBerth::start("bench-service").await?;
    let (ecs, cluster) = (&local.ecs, local.cluster.clone());
    let first = local
        .register_sleeper("bench-service", image::IMAGE, 8)
        .await?;
    let second = local.register_sleeper("bench-service", IMAGE2, 8).await?;
    say!("berth: a service of {replicas} replicas ...");
    let start = Instant::now();
    let _: CreateServiceResponse = ecs
        .call(
            "CreateService",
            &CreateServiceRequest {
                cluster: Some(cluster.clone()),
                service_name: "bench".into(),
                task_definition: Some(first.clone()),
                desired_count: Some(replicas),
                ..CreateServiceRequest::default()
            },
        )
        .await?;
    let converge = settled(ecs, &cluster, &first, replicas, start).await?;
    say!("  steady in {converge:.1} s; rolling update ...");
    let start = Instant::now();
    let _: UpdateServiceResponse = ecs
        .call(
            "UpdateService",
            &UpdateServiceRequest {
                cluster: Some(cluster.clone()),
                service: "bench".into(),
                task_definition: Some(second.clone()),
                ..UpdateServiceRequest::default()
            },
        )
        .await?;
    let update = settled(ecs, &cluster, &second, replicas, start).await?;
    say!("  updated in {update:.1} s");
    let _: DeleteServiceResponse = ecs
        .call(
            "DeleteService",
            &DeleteServiceRequest {
                cluster: Some(cluster.clone()),
                service: "bench".into(),
                force: Some(true),
            },
        )
        .await?;
    // Give the agent time to stop the containers (stopTimeout 1 s) before it goes.
    let label = format!("label=com.amazonaws.ecs.cluster={cluster}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !docker(&["ps", "-q", "--filter", &label])?.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    local.stop().await;
    let leftovers = docker(&["ps", "-aq", "--filter", &label])?;
    if !leftovers.is_empty() {
        let mut rm = vec!["rm", "-f"];
        rm.extend(leftovers.split_whitespace());
        docker(&rm)?;
    }
    Ok((converge, update))
}

/// Polls until `done` holds; returns the seconds since `start`.
async fn until(
    start: Instant,
    what: &str,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<f64> {
    loop {
        if done()? {
            return Ok(start.elapsed().as_secs_f64());
        }
        anyhow::ensure!(start.elapsed() < LIMIT, "{what} did not finish in time");
        tokio::time::sleep(POLL).await;
    }
}

async fn swarm(replicas: i32) -> anyhow::Result<(f64, f64)> {
    let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])?;
    let ours = state == "inactive";
    if ours {
        docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"])?;
    }
    say!("swarm: a service of {replicas} replicas ...");
    let want = format!("{replicas}/{replicas}");
    let replicas_flag = replicas.to_string();
    let start = Instant::now();
    docker(&[
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        SWARM_SERVICE,
        "--replicas",
        &replicas_flag,
        "--stop-grace-period",
        "1s",
        "--update-parallelism",
        "0",
        "--update-order",
        "start-first",
        image::IMAGE,
        "sleep",
        "600",
    ])?;
    let replicas_now = || {
        docker(&[
            "service",
            "ls",
            "--filter",
            &format!("name={SWARM_SERVICE}"),
            "--format",
            "{{.Replicas}}",
        ])
    };
    let converge = until(start, "docker service create", || {
        Ok(replicas_now()? == want)
    })
    .await?;
    say!("  steady in {converge:.1} s; rolling update ...");
    let start = Instant::now();
    docker(&[
        "service",
        "update",
        "--detach",
        "--quiet",
        "--image",
        IMAGE2,
        SWARM_SERVICE,
    ])?;
    let update = until(start, "docker service update", || {
        let state = docker(&[
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
            SWARM_SERVICE,
        ])?;
        Ok(state == "completed" && replicas_now()? == want)
    })
    .await?;
    say!("  updated in {update:.1} s");
    docker(&["service", "rm", SWARM_SERVICE])?;
    let label = format!("label=com.docker.swarm.service.name={SWARM_SERVICE}");
    until(Instant::now(), "removing the swarm service", || {
        Ok(docker(&["ps", "-aq", "--filter", &label])?.is_empty())
    })
    .await?;
    if ours {
        docker(&["swarm", "leave", "--force"])?;
    }
    Ok((converge, update))
}

/// Bare `docker run -d` of `replicas` containers, 8 at a time.
fn floor(replicas: i32) -> anyhow::Result<f64> {
    say!("docker: {replicas} × docker run -d, 8 at a time ...");
    let start = Instant::now();
    let next = std::sync::atomic::AtomicI32::new(0);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < replicas {
                        docker(&[
                            "run",
                            "-d",
                            "--label",
                            "berth-bench=floor",
                            image::IMAGE,
                            "sleep",
                            "600",
                        ])?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a docker run worker panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let ids = docker(&["ps", "-aq", "--filter", "label=berth-bench=floor"])?;
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.split_whitespace());
    docker(&rm)?;
    say!("  started in {elapsed:.1} s");
    Ok(elapsed)
}

/// Runs the benchmark.
pub async fn run(replicas: i32) -> anyhow::Result<()> {
    image::ensure()?;
    docker(&["tag", image::IMAGE, IMAGE2])?;
    let (berth_converge, berth_update) = berth(replicas).await?;
    let (swarm_converge, swarm_update) = swarm(replicas).await?;
    let floor = tokio::task::spawn_blocking(move || floor(replicas)).await??;
    summary(&[
        ("berth_converge_s", berth_converge, "s"),
        ("swarm_converge_s", swarm_converge, "s"),
        ("docker_floor_s", floor, "s"),
        ("berth_update_s", berth_update, "s"),
        ("swarm_update_s", swarm_update, "s"),
        ("converge_vs_swarm", berth_converge / swarm_converge, "x"),
        ("converge_vs_floor", berth_converge / floor, "x"),
        ("update_vs_swarm", berth_update / swarm_update, "x"),
    ]);
    Ok(())
}
