//! Task scale-in protection (UpdateTaskProtection, GetTaskProtection): a service's task that
//! is protected is not stopped by scaling in or by a deployment until its protection is
//! cleared or expires (2 hours unless `expiresInMinutes` says otherwise, at most 48 hours).

use crate::error::ControlError;
use crate::status::TaskStatus;
use crate::{Change, ControlPlane, State, clusters, lookup};
use berth_types::arn;
use berth_types::ecs::{
    Failure, GetTaskProtectionRequest, GetTaskProtectionResponse, ProtectedTask, Task,
    UpdateTaskProtectionRequest, UpdateTaskProtectionResponse,
};

/// How long protection lasts when `expiresInMinutes` is not given.
const DEFAULT_MINUTES: i32 = 120;
/// The longest protection one call may give.
const MAX_MINUTES: i32 = 2880;
/// Most tasks one UpdateTaskProtection call may name.
const MAX_UPDATE: usize = 10;
/// Most tasks one GetTaskProtection call may name.
const MAX_GET: usize = 100;

/// Whether `task` is protected from scale-in at `now`.
pub(crate) fn is_protected(state: &State, task: &Task, now: f64) -> bool {
    task.task_arn
        .as_deref()
        .and_then(|arn| state.protection.get(arn))
        .is_some_and(|until| *until > now)
}

/// The answer for one task: protected, and until when, as of `now`.
fn answer(state: &State, task: &Task, now: f64) -> ProtectedTask {
    let until = task
        .task_arn
        .as_deref()
        .and_then(|arn| state.protection.get(arn))
        .filter(|until| **until > now);
    ProtectedTask {
        task_arn: task.task_arn.clone(),
        protection_enabled: Some(until.is_some()),
        expiration_date: until.copied(),
    }
}

/// A task that protection may apply to: a service's, not yet stopped. Others are failures
/// with the reason ECS gives (`MISSING`, `TASK_NOT_VALID`).
fn protectable<'s>(
    state: &'s State,
    control: &ControlPlane,
    cluster: &str,
    reference: &str,
) -> Result<&'s Task, Failure> {
    let task = lookup::task(state, control.partition(), cluster, reference)
        .ok_or_else(|| crate::missing(reference))?;
    let of_service = task
        .group
        .as_deref()
        .is_some_and(|g| g.starts_with("service:"));
    if !of_service || TaskStatus::Stopped.is(&task.last_status) {
        return Err(Failure {
            arn: task.task_arn.clone(),
            reason: Some("TASK_NOT_VALID".into()),
            detail: Some(
                "only tasks of a service that are not STOPPED can be protected from scale-in"
                    .into(),
            ),
        });
    }
    Ok(task)
}

fn check_count(n: usize, max: usize, operation: &str) -> Result<(), ControlError> {
    if n == 0 || n > max {
        return Err(ControlError::invalid(format!(
            "tasks has {n} entries, but {operation} takes 1 to {max}"
        )));
    }
    Ok(())
}

impl ControlPlane {
    /// UpdateTaskProtection: protects tasks for `expiresInMinutes` (120 unless given), or
    /// clears their protection.
    pub fn update_task_protection(
        &self,
        req: UpdateTaskProtectionRequest,
    ) -> Result<UpdateTaskProtectionResponse, ControlError> {
        check_count(req.tasks.len(), MAX_UPDATE, "UpdateTaskProtection")?;
        let minutes = match (req.protection_enabled, req.expires_in_minutes) {
            (true, Some(m)) if !(1..=MAX_MINUTES).contains(&m) => {
                return Err(ControlError::invalid(format!(
                    "expiresInMinutes is {m}, but must be from 1 to {MAX_MINUTES} (48 hours)"
                )));
            }
            (true, m) => Some(m.unwrap_or(DEFAULT_MINUTES)),
            (false, _) => None,
        };
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, Some(req.cluster.as_str()))?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let until = minutes.map(|m| ctx.now + f64::from(m) * 60.0);
            let mut changes = vec![];
            let mut protected = vec![];
            let mut failures = vec![];
            for reference in &req.tasks {
                match protectable(state, self, &name, reference) {
                    Ok(task) => {
                        let arn = task.task_arn.clone().unwrap_or_default();
                        changes.push(Change::Protection(arn, until));
                        protected.push(ProtectedTask {
                            task_arn: task.task_arn.clone(),
                            protection_enabled: Some(until.is_some()),
                            expiration_date: until,
                        });
                    }
                    Err(failure) => failures.push(failure),
                }
            }
            let response = UpdateTaskProtectionResponse {
                protected_tasks: Some(protected),
                failures: Some(failures),
            };
            Ok((changes, response))
        })
    }

    /// GetTaskProtection: whether each task is protected, and until when.
    pub fn get_task_protection(
        &self,
        req: GetTaskProtectionRequest,
    ) -> Result<GetTaskProtectionResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, Some(req.cluster.as_str()))?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let now = self.now();
        // Without a list, the cluster's protected tasks.
        let references = match req.tasks {
            Some(tasks) => {
                check_count(tasks.len(), MAX_GET, "GetTaskProtection")?;
                tasks
            }
            None => state
                .protection
                .iter()
                .filter(|(arn, until)| **until > now && arn::cluster_of(arn) == Some(name.as_str()))
                .map(|(arn, _)| arn.clone())
                .collect(),
        };
        let mut protected = vec![];
        let mut failures = vec![];
        for reference in &references {
            match protectable(&state, self, &name, reference) {
                Ok(task) => protected.push(answer(&state, task, now)),
                Err(failure) => failures.push(failure),
            }
        }
        Ok(GetTaskProtectionResponse {
            protected_tasks: Some(protected),
            failures: Some(failures),
        })
    }
}
