//! Failures: tasks that fail their health checks are stopped (the rollout replaces them), and
//! the circuit breaker counts the PRIMARY deployment's failed tasks against its threshold; on
//! failure the deployment is FAILED and, with rollback, the last COMPLETED one is PRIMARY again.

use super::pass::Pass;
use crate::services::subject;
use crate::status::{DeploymentStatus, TaskStatus};
use berth_types::ecs::{
    DeploymentRolloutState, HealthStatus, Service, Task, TaskStopCode, ThresholdType,
};

/// The stopped reason of a task the controller replaces for failing its health checks.
const UNHEALTHY: &str = "Task failed container health checks";

/// Whether a stopped task counts against the circuit breaker.
pub(super) fn failed(task: &Task) -> bool {
    TaskStatus::Stopped.is(&task.last_status)
        && (matches!(
            task.stop_code,
            Some(TaskStopCode::TaskFailedToStart | TaskStopCode::EssentialContainerExited)
        ) || task.stopped_reason.as_deref() == Some(UNHEALTHY))
}

/// The bounds of the circuit breaker's threshold, which is half the desired count unless
/// `thresholdConfiguration` says otherwise (ECS's developer guide, "Deployment circuit
/// breaker": 0.5 × desired, at least 3, at most 200).
const MIN_THRESHOLD: usize = 3;
const MAX_THRESHOLD: usize = 200;

/// The circuit breaker's threshold for a deployment of `desired` tasks.
fn threshold(service: &Service, desired: i32) -> Option<usize> {
    let breaker = service
        .deployment_configuration
        .as_ref()?
        .deployment_circuit_breaker
        .as_ref()
        .filter(|b| b.enable)?;
    let percent = |p: i32| (f64::from(desired) * f64::from(p) / 100.0).ceil() as usize;
    Some(match &breaker.threshold_configuration {
        Some(t) if t.r#type == ThresholdType::Count => t.value.max(1) as usize,
        Some(t) if t.r#type == ThresholdType::UnboundedPercent => percent(t.value).max(1),
        Some(t) => percent(t.value).clamp(MIN_THRESHOLD, MAX_THRESHOLD),
        None => percent(50).clamp(MIN_THRESHOLD, MAX_THRESHOLD),
    })
}

impl Pass<'_> {
    pub(super) fn circuit_breaker(&mut self) {
        let desired = self.service.desired_count.unwrap_or_default();
        let Some(limit) = threshold(&self.service, desired) else {
            return;
        };
        let Some(primary) = self.service.deployments.iter().flatten().next().cloned() else {
            return;
        };
        if primary.rollout_state != Some(DeploymentRolloutState::InProgress) {
            return;
        }
        let failures = self
            .state
            .tasks_of_service(&self.service)
            .filter(|t| t.started_by == primary.id && failed(t))
            .count();
        if failures < limit {
            return;
        }
        let id = primary.id.clone().unwrap_or_default();
        let name = subject(&self.service);
        if let Some(d) = self.deployments().first_mut() {
            d.rollout_state = Some(DeploymentRolloutState::Failed);
            d.rollout_state_reason = Some(format!(
                "ECS deployment circuit breaker: tasks failed to start or pass health checks ({failures} of a threshold of {limit})."
            ));
        }
        self.event(format!(
            "{name} (deployment {id}) deployment failed: tasks failed to start."
        ));
        let rollback = self
            .service
            .deployment_configuration
            .as_ref()
            .and_then(|c| c.deployment_circuit_breaker.as_ref())
            .is_some_and(|b| b.rollback);
        let target = self
            .service
            .deployments
            .iter()
            .flatten()
            .position(|d| d.rollout_state == Some(DeploymentRolloutState::Completed));
        if let (true, Some(at)) = (rollback, target) {
            // The last good deployment becomes PRIMARY again and keeps its tasks.
            let now = self.now;
            let deployments = self.deployments();
            let mut good = deployments.remove(at);
            for d in deployments.iter_mut() {
                d.status = DeploymentStatus::Active.into();
                d.updated_at = Some(now);
            }
            good.status = DeploymentStatus::Primary.into();
            good.desired_count = Some(desired);
            good.rollout_state = Some(DeploymentRolloutState::InProgress);
            good.rollout_state_reason = Some(format!(
                "ECS deployment circuit breaker: rolling back to deployment {}.",
                good.id.as_deref().unwrap_or_default()
            ));
            good.updated_at = Some(now);
            let good_id = good.id.clone().unwrap_or_default();
            self.service.task_definition = good.task_definition.clone();
            self.deployments().insert(0, good);
            if let Some(failed) = self.deployments().get_mut(1) {
                let reason = failed.rollout_state_reason.take().unwrap_or_default();
                failed.rollout_state_reason =
                    Some(format!("{reason} Rolling back to deployment {good_id}."));
            }
            self.event(format!("{name} rolling back to deployment {good_id}."));
        }
    }

    pub(super) fn replace_unhealthy(&mut self) {
        let unhealthy: Vec<&Task> = self
            .live
            .iter()
            .copied()
            .filter(|t| t.health_status == Some(HealthStatus::Unhealthy))
            .collect();
        for t in unhealthy {
            self.stop(t, UNHEALTHY.into());
        }
    }
}
