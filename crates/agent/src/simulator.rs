//! A cluster simulator: any number of container instances without Docker. Each registers through
//! the real API, holds its own assignment stream, and acknowledges tasks at once: RUNNING as
//! soon as it is assigned one, STOPPED as soon as it is told to stop it. The control plane
//! cannot tell them from real agents, so they drive its real API, scheduler and store at any
//! scale this machine's memory allows.

use crate::client::EcsClient;
use crate::health::HealthBoard;
use crate::reporter::Reporter;
use crate::stream::{self, Host};
use crate::{AgentError, host, registration};
use berth_types::ecs::{
    ContainerStateChange, RegisterContainerInstanceRequest, SubmitTaskStateChangeRequest,
    VersionInfo,
};
use berth_types::protocol::{AssignedTask, ManifestEntry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// One simulated instance: what it offers and what it says of itself.
#[derive(Debug, Clone)]
pub struct SimulatedInstance {
    /// CPU units.
    pub cpu: i32,
    /// MiB.
    pub memory: i32,
    /// The `ecs.availability-zone` attribute.
    pub availability_zone: String,
    /// Custom attributes.
    pub attributes: Vec<(String, String)>,
}

/// A simulated host: remembers the last status it reported per task, reports at once.
struct Simulated {
    cluster: String,
    reporter: Reporter,
    reported: Mutex<HashMap<String, &'static str>>,
    health: HealthBoard,
}

impl Simulated {
    fn report(&self, a: &AssignedTask, status: &'static str) {
        let arn = a.task.task_arn.clone().unwrap_or_default();
        {
            let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
            let last = reported.entry(arn.clone()).or_insert("PENDING");
            if *last == status || *last == "STOPPED" {
                return;
            }
            *last = status;
        }
        let exit_code = (status == "STOPPED").then_some(0);
        self.reporter.report(SubmitTaskStateChangeRequest {
            cluster: Some(self.cluster.clone()),
            task: Some(arn.clone()),
            status: Some(status.into()),
            reason: (status == "STOPPED").then(|| "Simulated task stopped".into()),
            containers: Some(
                a.task
                    .containers
                    .iter()
                    .flatten()
                    .map(|c| ContainerStateChange {
                        container_name: c.name.clone(),
                        status: Some(status.into()),
                        runtime_id: Some(format!("simulated-{}", c.name.as_deref().unwrap_or(""))),
                        exit_code,
                        ..ContainerStateChange::default()
                    })
                    .collect(),
            ),
            ..SubmitTaskStateChangeRequest::default()
        });
    }
}

impl Host for Simulated {
    fn apply(self: &Arc<Self>, tasks: Vec<AssignedTask>) {
        for a in &tasks {
            match a.task.desired_status.as_deref() {
                Some("STOPPED") => self.report(a, "STOPPED"),
                _ => self.report(a, "RUNNING"),
            }
        }
    }

    async fn reconcile(self: &Arc<Self>, manifest: &[ManifestEntry]) {
        // Forget what the control plane no longer lists, so memory stays bounded.
        let listed: std::collections::HashSet<&str> =
            manifest.iter().map(|e| e.task_arn.as_str()).collect();
        self.reported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|arn, _| listed.contains(arn.as_str()));
    }

    fn health(&self) -> &HealthBoard {
        &self.health
    }
}

/// Registers `instances` in `cluster` and keeps each one's stream open until `shutdown`;
/// returns the instance ARNs once all are registered (their streams open moments later).
pub async fn start(
    client: &EcsClient,
    cluster: &str,
    instances: &[SimulatedInstance],
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<String>, AgentError> {
    let reporter = Reporter::start(client.clone());
    let mut arns = Vec::with_capacity(instances.len());
    for (n, spec) in instances.iter().enumerate() {
        let request = RegisterContainerInstanceRequest {
            cluster: Some(cluster.to_string()),
            total_resources: Some(host::total_resources(spec.cpu, spec.memory)),
            version_info: Some(VersionInfo {
                agent_version: Some(env!("CARGO_PKG_VERSION").into()),
                agent_hash: Some("berth-simulator".into()),
                docker_version: Some("DockerVersion: simulated".into()),
            }),
            attributes: Some(host::attributes(
                &spec.availability_zone,
                &spec.attributes,
                host::Capabilities {
                    shared_volumes: false,
                    task_limits: true,
                },
            )),
            instance_identity_document: Some(format!("{{\"instanceId\":\"i-sim{n:012}\"}}")),
            ..RegisterContainerInstanceRequest::default()
        };
        let arn = registration::submit(client, &request, shutdown.clone()).await?;
        let simulated = Arc::new(Simulated {
            cluster: cluster.to_string(),
            reporter: reporter.clone(),
            reported: Mutex::default(),
            health: HealthBoard::default(),
        });
        let (client, stream_arn, shutdown) = (client.clone(), arn.clone(), shutdown.clone());
        tokio::spawn(async move {
            let ended = stream::run(&client, &stream_arn, &simulated, shutdown).await;
            if let stream::Ended::Refused(why) = ended {
                tracing::warn!(instance = %stream_arn, reason = %why, "simulated instance refused");
            }
        });
        arns.push(arn);
    }
    Ok(arns)
}
