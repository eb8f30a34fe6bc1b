//! RegisterContainerInstance, remembering the instance ARN in the state directory so that a
//! restarted agent comes back as the same instance, with its tasks.

use crate::client::{ClientError, EcsClient};
use crate::docker::Docker;
use crate::{AgentConfig, AgentError, host};
use berth_types::ecs::{
    CreateClusterRequest, CreateClusterResponse, RegisterContainerInstanceRequest,
    RegisterContainerInstanceResponse, VersionInfo,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

/// What the agent keeps between runs.
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    endpoint: String,
    cluster: String,
    #[serde(rename = "containerInstanceArn")]
    container_instance_arn: String,
}

const STATE_FILE: &str = "instance.json";

fn remembered(config: &AgentConfig) -> Option<String> {
    let text = std::fs::read_to_string(config.state_dir.join(STATE_FILE)).ok()?;
    let r: Remembered = serde_json::from_str(&text).ok()?;
    (r.cluster == config.cluster && r.endpoint == config.endpoint)
        .then_some(r.container_instance_arn)
}

fn remember(config: &AgentConfig, arn: &str) -> Result<(), AgentError> {
    let r = Remembered {
        endpoint: config.endpoint.clone(),
        cluster: config.cluster.clone(),
        container_instance_arn: arn.to_string(),
    };
    let path = config.state_dir.join(STATE_FILE);
    std::fs::create_dir_all(&config.state_dir)
        .and_then(|()| {
            berth_files::write_private(&path, &serde_json::to_vec_pretty(&r).unwrap_or_default())
        })
        .map_err(|e| {
            AgentError::Registration(format!(
                "cannot write {}: {e} (choose a writable --state-dir)",
                path.display()
            ))
        })
}

/// Registers (or re-registers) this host; waits for the control plane if it is not up yet.
pub(crate) async fn register(
    config: &AgentConfig,
    client: &EcsClient,
    docker: &Docker,
    capabilities: host::Capabilities,
    shutdown: watch::Receiver<bool>,
) -> Result<String, AgentError> {
    let request = RegisterContainerInstanceRequest {
        cluster: Some(config.cluster.clone()),
        container_instance_arn: remembered(config),
        total_resources: Some(host::total_resources(
            config.cpu.unwrap_or_else(host::cpu_units),
            config.memory.unwrap_or_else(host::memory_mib),
        )),
        version_info: Some(VersionInfo {
            agent_version: Some(env!("CARGO_PKG_VERSION").into()),
            agent_hash: Some("berth".into()),
            docker_version: Some(format!("DockerVersion: {}", docker.version().await)),
        }),
        attributes: Some(host::attributes(
            &config.availability_zone,
            &config.attributes,
            capabilities,
        )),
        ..RegisterContainerInstanceRequest::default()
    };
    let arn = submit(client, &request, shutdown).await?;
    remember(config, &arn)?;
    tracing::info!(instance = %arn, cluster = %config.cluster, "registered");
    Ok(arn)
}

/// Sends a registration until the control plane answers it, creating the cluster when it does
/// not exist yet (as the ECS agent does for `default`); returns the instance ARN.
pub(crate) async fn submit(
    client: &EcsClient,
    request: &RegisterContainerInstanceRequest,
    mut shutdown: watch::Receiver<bool>,
) -> Result<String, AgentError> {
    let cluster = request.cluster.clone().unwrap_or_default();
    let mut pause = Duration::from_millis(100);
    loop {
        let answer: Result<RegisterContainerInstanceResponse, _> =
            client.call("RegisterContainerInstance", request).await;
        match answer {
            Ok(r) => {
                return r
                    .container_instance
                    .and_then(|i| i.container_instance_arn)
                    .ok_or_else(|| {
                        AgentError::Registration(
                            "the control plane returned no container instance ARN".into(),
                        )
                    });
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = %e, "control plane not reachable yet, retrying");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return Err(AgentError::Registration("shut down before registering".into())),
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(ClientError::Api { code, .. }) if code == "ClusterNotFoundException" => {
                let create = CreateClusterRequest {
                    cluster_name: Some(cluster.clone()),
                    ..CreateClusterRequest::default()
                };
                let created: Result<CreateClusterResponse, _> =
                    client.call("CreateCluster", &create).await;
                created.map_err(|e| {
                    AgentError::Registration(format!("cannot create cluster {cluster}: {e}"))
                })?;
                tracing::info!(cluster = %cluster, "created the cluster to join");
            }
            Err(e) => {
                return Err(AgentError::Registration(format!(
                    "registration refused: {e}"
                )));
            }
        }
    }
}
