//! What a pass reports once its tasks are stopped and started: each deployment's counts, the
//! PRIMARY deployment's rollout completing, older deployments retired once drained, and the
//! service's events (tasks started and stopped, deployment completed, steady state).

use super::breaker::failed;
use super::pass::Pass;
use crate::services::subject;
use crate::status::TaskStatus;
use berth_types::arn;
use berth_types::ecs::{DeploymentRolloutState, Service, Task};

fn ids(tasks: &[Task]) -> String {
    tasks
        .iter()
        .map(|t| {
            format!(
                "(task {})",
                arn::resource_id(t.task_arn.as_deref().unwrap_or(""))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Pass<'_> {
    /// Counts, rollout state, the deployments that are done, and the events of this pass.
    pub(super) fn settle(&mut self, started: &[Task]) {
        let name = subject(&self.service);
        if !started.is_empty() {
            let message = format!(
                "{name} has started {} tasks: {}.",
                started.len(),
                ids(started)
            );
            self.event(message);
        }
        // One event per reason, so the reason is never lost in a count.
        let mut reasons: Vec<String> = vec![];
        for reason in self
            .stopping
            .iter()
            .filter_map(|t| t.stopped_reason.clone())
        {
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        for reason in reasons {
            let tasks: Vec<Task> = self
                .stopping
                .iter()
                .filter(|t| t.stopped_reason.as_deref() == Some(reason.as_str()))
                .cloned()
                .collect();
            let message = format!(
                "{name} has stopped {} running tasks: {}. Reason: {reason}.",
                tasks.len(),
                ids(&tasks)
            );
            self.event(message);
        }
        let remaining = self.remaining(None);
        let now = self.now;
        let desired = self.service.desired_count.unwrap_or_default();
        let all_healthy = remaining.iter().all(|t| self.is_healthy(t));
        let mut running_total = 0;
        let mut pending_total = 0;
        let tasks: Vec<&Task> = self.state.tasks_of_service(&self.service).collect();
        let draining: Vec<Option<String>> = self
            .still_running_stopping()
            .iter()
            .map(|t| t.started_by.clone())
            .collect();
        let deployments = self.deployments();
        for d in deployments.iter_mut() {
            let failures = tasks
                .iter()
                .filter(|t| t.started_by == d.id && failed(t))
                .count() as i32;
            if d.failed_tasks != Some(failures) {
                d.failed_tasks = Some(failures);
                d.updated_at = Some(now);
            }
            let mine: Vec<&&Task> = remaining.iter().filter(|t| t.started_by == d.id).collect();
            let running = mine
                .iter()
                .filter(|t| TaskStatus::Running.is(&t.last_status))
                .count() as i32
                + draining.iter().filter(|s| **s == d.id).count() as i32;
            let pending = mine.len() as i32 - running
                + started.iter().filter(|t| t.started_by == d.id).count() as i32;
            if d.running_count != Some(running) || d.pending_count != Some(pending) {
                d.updated_at = Some(now);
            }
            d.running_count = Some(running);
            d.pending_count = Some(pending);
            running_total += running;
            pending_total += pending;
        }
        let others_empty = deployments
            .iter()
            .skip(1)
            .all(|d| d.running_count == Some(0) && d.pending_count == Some(0));
        let mut completed = None;
        if let Some(primary) = deployments.first_mut()
            && primary.rollout_state == Some(DeploymentRolloutState::InProgress)
            && others_empty
            && primary.running_count == Some(desired)
            && primary.pending_count == Some(0)
            && all_healthy
        {
            let id = primary.id.clone().unwrap_or_default();
            primary.rollout_state = Some(DeploymentRolloutState::Completed);
            primary.rollout_state_reason = Some(format!("ECS deployment {id} completed."));
            primary.updated_at = Some(now);
            completed = Some(id);
        }
        // Older deployments leave once drained and the PRIMARY one has completed; until then
        // they stay, so a rollback has somewhere to go.
        let primary_done = deployments
            .first()
            .is_some_and(|d| d.rollout_state == Some(DeploymentRolloutState::Completed));
        let mut retired = vec![];
        if primary_done {
            for (i, d) in std::mem::take(deployments).into_iter().enumerate() {
                if i == 0 || d.running_count != Some(0) || d.pending_count != Some(0) {
                    deployments.push(d);
                } else {
                    retired.push(d);
                }
            }
        }
        self.retired = retired;
        self.service.running_count = Some(running_total);
        self.service.pending_count = Some(pending_total);
        if let Some(id) = completed {
            self.event(format!("{name} (deployment {id}) deployment completed."));
        }
        let steady = |s: &Service| {
            s.deployments.as_ref().is_some_and(|d| {
                d.len() == 1 && d[0].rollout_state == Some(DeploymentRolloutState::Completed)
            }) && s.running_count == s.desired_count
                && s.pending_count == Some(0)
        };
        let was_steady = self
            .state
            .services
            .get(self.service.service_arn.as_deref().unwrap_or_default())
            .is_some_and(steady);
        if steady(&self.service) && !was_steady {
            self.event(format!("{name} has reached a steady state."));
        }
    }
}
