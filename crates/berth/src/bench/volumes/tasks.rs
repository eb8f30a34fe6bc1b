//! The two tasks of `berth bench volumes`: registered, run and waited for, then stopped and
//! waited for until the agent has let go of their containers and mounts.

use super::super::{LocalBerth, image};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    ContainerDefinition, MountPoint, RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse,
    StopTaskRequest, StopTaskResponse, Volume,
};
use std::time::{Duration, Instant};

/// How long a task may take to start, and its containers and mounts to go.
const PATIENCE: Duration = Duration::from_secs(120);

/// Registers `family` (busybox sleeping, `volume` as `data` at /data), runs one task of it
/// (noted in `tasks`) and waits for it to run; the container's id.
pub async fn start_task(
    local: &LocalBerth,
    family: &str,
    volume: Volume,
    tasks: &mut Vec<String>,
) -> anyhow::Result<String> {
    let container = ContainerDefinition {
        name: Some("bench".into()),
        image: Some(image::IMAGE.into()),
        command: Some(vec!["sleep".into(), "3600".into()]),
        // Room for the default file in the page cache, so the limit throttles neither side.
        memory: Some(1536),
        stop_timeout: Some(1),
        mount_points: Some(vec![MountPoint {
            source_volume: Some("data".into()),
            container_path: Some("/data".into()),
            read_only: Some(false),
        }]),
        ..ContainerDefinition::default()
    };
    let request = RegisterTaskDefinitionRequest {
        family: family.into(),
        container_definitions: vec![container],
        volumes: Some(vec![Volume {
            name: Some("data".into()),
            ..volume
        }]),
        ..RegisterTaskDefinitionRequest::default()
    };
    let registered: RegisterTaskDefinitionResponse =
        local.ecs.call("RegisterTaskDefinition", &request).await?;
    let td = registered
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .ok_or_else(|| anyhow::anyhow!("no task definition ARN"))?;
    let arn = super::super::run_one_task(&local.ecs, &local.cluster, &td, None).await?;
    tasks.push(arn.clone());
    wait_running(&local.ecs, &local.cluster, &arn).await
}

/// Polls the task until it runs; its container's id.
async fn wait_running(ecs: &EcsClient, cluster: &str, arn: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let task = crate::logs::describe_task(ecs, cluster, arn).await?;
        match task.last_status.as_deref() {
            Some("RUNNING") => {
                return task
                    .containers
                    .into_iter()
                    .flatten()
                    .find_map(|c| c.runtime_id)
                    .ok_or_else(|| anyhow::anyhow!("task {arn} runs without a container id"));
            }
            Some("STOPPED") => anyhow::bail!(
                "task {arn} stopped: {}",
                task.stopped_reason.unwrap_or_default()
            ),
            _ if Instant::now() > deadline => anyhow::bail!("task {arn} did not run in time"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Stops the tasks and waits until they are stopped and the agent has let go of their mounts:
/// Berth's data directory is removed afterwards, which must not reach through a live mount.
pub async fn stop_tasks(local: &LocalBerth, tasks: &[String]) {
    for arn in tasks {
        let stopped: Result<StopTaskResponse, _> = local
            .ecs
            .call(
                "StopTask",
                &StopTaskRequest {
                    cluster: Some(local.cluster.clone()),
                    task: arn.clone(),
                    ..StopTaskRequest::default()
                },
            )
            .await;
        if let Err(e) = stopped {
            eprintln!("StopTask {arn}: {e}");
        }
    }
    let deadline = Instant::now() + PATIENCE;
    for arn in tasks {
        while Instant::now() < deadline {
            let status = crate::logs::describe_task(&local.ecs, &local.cluster, arn).await;
            if matches!(status.map(|t| t.last_status), Ok(Some(s)) if s == "STOPPED") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The agent removes a stopped task's containers and mounts just after it reports it.
    while !super::super::mounts_under(local.data_dir()).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
}
