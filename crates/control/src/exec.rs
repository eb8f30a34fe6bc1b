//! ExecuteCommand. ECS Exec runs a command in a container through AWS Systems Manager Session
//! Manager, which Berth does not have; the call is refused with what to run instead: `docker
//! exec` on the task's host, with the container's id.

use crate::error::ControlError;
use crate::{ControlPlane, clusters, lookup};
use berth_types::ecs::{ExecuteCommandRequest, ExecuteCommandResponse};

impl ControlPlane {
    /// ExecuteCommand: always refused (UnsupportedFeatureException), naming the `docker exec`
    /// command that does the same on the task's host. A task or container that does not exist
    /// is an InvalidParameterException first, as ECS answers.
    pub fn execute_command(
        &self,
        req: ExecuteCommandRequest,
    ) -> Result<ExecuteCommandResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.as_deref().unwrap_or_default();
        let task = lookup::task(&state, self.partition(), name, &req.task).ok_or_else(|| {
            ControlError::invalid(format!(
                "task {} was not found in cluster {name}: name a task of that cluster",
                req.task
            ))
        })?;
        let containers = task.containers.as_deref().unwrap_or_default();
        let container = match req.container.as_deref() {
            Some(wanted) => containers
                .iter()
                .find(|c| c.name.as_deref() == Some(wanted))
                .ok_or_else(|| {
                    ControlError::invalid(format!(
                        "task {} has no container named {wanted}",
                        req.task
                    ))
                })?,
            None => match containers {
                [only] => only,
                _ => {
                    return Err(ControlError::invalid(format!(
                        "task {} has {} containers: name one with container (--container)",
                        req.task,
                        containers.len()
                    )));
                }
            },
        };
        let host = task
            .container_instance_arn
            .as_deref()
            .and_then(|i| state.instances.get(i))
            .and_then(|i| i.ec2_instance_id.clone())
            .unwrap_or_else(|| "its container instance".into());
        let id = container
            .runtime_id
            .as_deref()
            .unwrap_or("<the container's runtimeId>");
        let tty = if req.interactive { "-it " } else { "" };
        Err(ControlError::Unsupported(format!(
            "ECS Exec is not supported by Berth: it needs AWS Systems Manager Session Manager. On the task's host ({host}) run: docker exec {tty}{id} {}",
            req.command
        )))
    }
}
