//! How agent reports move a task: PENDING → RUNNING → STOPPED, never backwards.
//!
//! Reports are idempotent: the same report twice changes nothing the second time, and anything
//! reported for a STOPPED task is ignored. When the agent stops a task on its own, the stop code
//! says why: `TaskFailedToStart` for the start-up errors ECS names (`CannotPullContainerError`,
//! `CannotStartContainerError`, ...), `EssentialContainerExited` otherwise.

use crate::error::ControlError;
use crate::status::TaskStatus;
use crate::{Change, ControlPlane, State, clusters, lookup};
use berth_types::ecs::{
    Connectivity, ContainerStateChange, HealthStatus, SubmitContainerStateChangeRequest,
    SubmitContainerStateChangeResponse, SubmitTaskStateChangeRequest,
    SubmitTaskStateChangeResponse, Task, TaskDefinition, TaskStopCode,
};
use berth_types::protocol::ContainerHealth;
use std::collections::HashMap;

/// Reasons that mean the task never got going.
const START_FAILURES: &[&str] = &[
    "CannotPullContainerError",
    "CannotCreateContainerError",
    "CannotStartContainerError",
    "CannotInspectContainerError",
    "ContainerRuntimeTimeoutError",
    "ResourceInitializationError",
    "CannotCreateVolumeError",
    "DependencyError",
];

/// Moves a task to STOPPED with every container stopped.
pub(crate) fn mark_stopped(task: &mut Task, now: f64) {
    task.last_status = TaskStatus::Stopped.into();
    task.desired_status = TaskStatus::Stopped.into();
    task.stopping_at.get_or_insert(now);
    task.execution_stopped_at.get_or_insert(now);
    task.stopped_at = Some(now);
    task.connectivity = None;
    crate::network::enis::detach(task);
    for c in task.containers.iter_mut().flatten() {
        if !TaskStatus::Stopped.is(&c.last_status) {
            c.last_status = TaskStatus::Stopped.into();
        }
    }
}

fn merge_container(task: &mut Task, change: &ContainerStateChange) {
    let Some(container) = task
        .containers
        .iter_mut()
        .flatten()
        .find(|c| c.name == change.container_name)
    else {
        return;
    };
    if TaskStatus::Stopped.is(&container.last_status) {
        return;
    }
    if let Some(status) = &change.status {
        container.last_status = Some(status.clone());
    }
    if change.runtime_id.is_some() {
        container.runtime_id = change.runtime_id.clone();
    }
    if change.exit_code.is_some() {
        container.exit_code = change.exit_code;
    }
    if change.reason.is_some() {
        container.reason = change.reason.clone();
    }
    if change.image_digest.is_some() {
        container.image_digest = change.image_digest.clone();
    }
    if let Some(bindings) = &change.network_bindings {
        container.network_bindings = Some(bindings.clone());
    }
}

/// Applies a task-level report; returns whether anything changed.
pub(crate) fn apply_task_report(
    task: &mut Task,
    req: &SubmitTaskStateChangeRequest,
    now: f64,
) -> bool {
    if TaskStatus::Stopped.is(&task.last_status) {
        return false;
    }
    let before = task.clone();
    for change in req.containers.as_deref().unwrap_or_default() {
        merge_container(task, change);
    }
    if req.pull_started_at.is_some() {
        task.pull_started_at = req.pull_started_at;
    }
    if req.pull_stopped_at.is_some() {
        task.pull_stopped_at = req.pull_stopped_at;
    }
    match TaskStatus::of(&req.status) {
        Some(TaskStatus::Running) if !TaskStatus::Running.is(&task.last_status) => {
            task.last_status = TaskStatus::Running.into();
            task.started_at.get_or_insert(now);
            task.connectivity = Some(Connectivity::Connected);
            task.connectivity_at.get_or_insert(now);
        }
        Some(TaskStatus::Stopped) => {
            if !TaskStatus::Stopped.is(&task.desired_status) {
                let reason = req
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Essential container in task exited".into());
                let failed_start = START_FAILURES.iter().any(|p| reason.starts_with(p));
                task.stop_code = Some(if failed_start {
                    TaskStopCode::TaskFailedToStart
                } else {
                    TaskStopCode::EssentialContainerExited
                });
                task.stopped_reason = Some(reason);
            }
            task.execution_stopped_at = req.execution_stopped_at.or(Some(now));
            mark_stopped(task, now);
        }
        _ => {}
    }
    let changed = *task != before;
    if changed {
        task.version = Some(task.version.unwrap_or_default() + 1);
    }
    changed
}

impl ControlPlane {
    /// SubmitTaskStateChange: the agent's report on a task and its containers.
    pub fn submit_task_state_change(
        &self,
        req: SubmitTaskStateChangeRequest,
    ) -> Result<SubmitTaskStateChangeResponse, ControlError> {
        let reference = req
            .task
            .clone()
            .ok_or_else(|| ControlError::invalid("task is required: name the task ARN"))?;
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let mut task = lookup::task(state, ctx.partition, &name, &reference)
                .ok_or_else(|| {
                    ControlError::invalid(format!(
                        "task {reference} was not found in cluster {name}"
                    ))
                })?
                .clone();
            let changes = if apply_task_report(&mut task, &req, ctx.now) {
                vec![Change::Task(task)]
            } else {
                vec![]
            };
            Ok((
                changes,
                SubmitTaskStateChangeResponse {
                    acknowledgment: Some("ACK".into()),
                },
            ))
        })
    }

    /// SubmitContainerStateChange: the agent's report on one container.
    pub fn submit_container_state_change(
        &self,
        req: SubmitContainerStateChangeRequest,
    ) -> Result<SubmitContainerStateChangeResponse, ControlError> {
        let as_task_report = SubmitTaskStateChangeRequest {
            cluster: req.cluster.clone(),
            task: req.task.clone(),
            containers: Some(vec![ContainerStateChange {
                container_name: req.container_name.clone(),
                runtime_id: req.runtime_id.clone(),
                exit_code: req.exit_code,
                network_bindings: req.network_bindings.clone(),
                reason: req.reason.clone(),
                status: req.status.clone(),
                image_digest: None,
            }]),
            ..SubmitTaskStateChangeRequest::default()
        };
        self.submit_task_state_change(as_task_report)?;
        Ok(SubmitContainerStateChangeResponse {
            acknowledgment: Some("ACK".into()),
        })
    }
}

/// The task's health from its essential containers that have a health check: any UNHEALTHY makes
/// it UNHEALTHY, all HEALTHY makes it HEALTHY, anything else is UNKNOWN.
pub(crate) fn task_health(task: &Task, td: Option<&TaskDefinition>) -> HealthStatus {
    let checked: Vec<&str> = td
        .and_then(|td| td.container_definitions.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.essential.unwrap_or(true) && c.health_check.is_some())
        .filter_map(|c| c.name.as_deref())
        .collect();
    let statuses: Vec<HealthStatus> = task
        .containers
        .iter()
        .flatten()
        .filter(|c| c.name.as_deref().is_some_and(|n| checked.contains(&n)))
        .map(|c| c.health_status.unwrap_or(HealthStatus::Unknown))
        .collect();
    if statuses.contains(&HealthStatus::Unhealthy) {
        HealthStatus::Unhealthy
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == HealthStatus::Healthy) {
        HealthStatus::Healthy
    } else {
        HealthStatus::Unknown
    }
}

impl ControlPlane {
    /// Health reports from the agent of `instance_arn`; reports about tasks on other
    /// instances, or already STOPPED, are ignored.
    pub fn publish_health(
        &self,
        instance_arn: &str,
        reports: &[ContainerHealth],
    ) -> Result<(), ControlError> {
        self.mutate(|state, _ctx| {
            let mut changed: std::collections::BTreeMap<String, Task> = Default::default();
            for r in reports {
                let Some(task) = state.tasks.get(&r.task_arn) else {
                    continue;
                };
                if task.container_instance_arn.as_deref() != Some(instance_arn)
                    || TaskStatus::Stopped.is(&task.last_status)
                {
                    continue;
                }
                let task = changed
                    .entry(r.task_arn.clone())
                    .or_insert_with(|| task.clone());
                for c in task.containers.iter_mut().flatten() {
                    if c.name.as_deref() == Some(r.container_name.as_str()) {
                        c.health_status = Some(r.health_status);
                    }
                }
            }
            let changes = changed
                .into_values()
                .filter_map(|mut task| {
                    task.health_status = Some(task_health(&task, state.definition_of(&task)));
                    let before = state
                        .tasks
                        .get(task.task_arn.as_deref().unwrap_or_default())?;
                    (*before != task).then(|| {
                        task.version = Some(task.version.unwrap_or_default() + 1);
                        Change::Task(task)
                    })
                })
                .collect();
            Ok((changes, ()))
        })
    }
}

/// How long STOPPED tasks stay describable; ECS promises at least an hour.
pub(crate) const STOPPED_RETENTION_SECONDS: f64 = 3600.0;

/// Most STOPPED tasks kept per service within the retention, newest first, so a service whose
/// tasks crash as soon as they start cannot fill the store.
pub(crate) const STOPPED_PER_SERVICE: usize = 100;

/// The STOPPED tasks to forget: past the retention, or beyond the newest
/// [`STOPPED_PER_SERVICE`] of their service.
fn expired_tasks(state: &State, now: f64) -> std::collections::BTreeSet<&String> {
    let cutoff = now - STOPPED_RETENTION_SECONDS;
    let mut expired = std::collections::BTreeSet::new();
    let mut by_service: HashMap<(&str, &str), Vec<(f64, &String)>> = HashMap::new();
    for (arn, t) in &state.tasks {
        if !TaskStatus::Stopped.is(&t.last_status) {
            continue;
        }
        let stopped_at = t.stopped_at.unwrap_or(now);
        if stopped_at < cutoff {
            expired.insert(arn);
        } else if let Some(group) = t.group.as_deref().filter(|g| g.starts_with("service:")) {
            let cluster = t.cluster_arn.as_deref().unwrap_or_default();
            by_service
                .entry((cluster, group))
                .or_default()
                .push((stopped_at, arn));
        }
    }
    for mut stopped in by_service.into_values() {
        if stopped.len() > STOPPED_PER_SERVICE {
            stopped.sort_by(|a, b| b.0.total_cmp(&a.0));
            expired.extend(stopped.drain(STOPPED_PER_SERVICE..).map(|(_, arn)| arn));
        }
    }
    expired
}

impl ControlPlane {
    /// Forgets the STOPPED tasks past their retention (see [`expired_tasks`]), and the client
    /// tokens whose tasks are all gone. Returns how many tasks were forgotten.
    pub fn prune_stopped(&self) -> Result<usize, ControlError> {
        self.mutate(|state, ctx| {
            let expired = expired_tasks(state, ctx.now);
            let tokens = state
                .client_tokens
                .iter()
                .filter(|(_, record)| {
                    record
                        .task_arns
                        .iter()
                        .all(|arn| expired.contains(arn) || !state.tasks.contains_key(arn))
                })
                .map(|(token, _)| Change::RemoveClientToken(token.clone()));
            let mut changes: Vec<Change> = expired
                .iter()
                .map(|arn| Change::RemoveTask((*arn).clone()))
                .collect();
            let count = changes.len();
            changes.extend(crate::network::enis::forgotten(
                state,
                expired.iter().copied(),
            ));
            // Protection that has ended, or whose task is gone or stopped, is forgotten.
            changes.extend(
                state
                    .protection
                    .iter()
                    .filter(|(arn, until)| {
                        **until <= ctx.now
                            || state
                                .tasks
                                .get(*arn)
                                .is_none_or(|t| TaskStatus::Stopped.is(&t.last_status))
                    })
                    .map(|(arn, _)| Change::Protection(arn.clone(), None)),
            );
            if count > 0 {
                changes.extend(tokens);
            }
            Ok((changes, count))
        })
    }
}
