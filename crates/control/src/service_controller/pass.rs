//! One pass over one service: the snapshot it reads, the service as the pass leaves it, the
//! tasks it stops and starts, and the questions every step asks of them (which tasks remain,
//! which are healthy). The steps themselves live beside this module and only read the
//! snapshot; nothing here places a task or writes anything.

use crate::services::push_event;
use crate::state::State;
use crate::status::TaskStatus;
use crate::{Change, protection, tasks};
use berth_scheduler::Request;
use berth_types::arn;
use berth_types::ecs::{Deployment, HealthStatus, Service, Task, TaskDefinition, TaskStopCode};
use std::collections::BTreeSet;

/// How long a task without health checks must have been RUNNING before it counts as healthy,
/// at the least. ECS waits 40 s; Berth waits as long as Docker Swarm's update monitor does,
/// long enough to catch a container that exits as soon as it starts.
pub(crate) const STABLE_SECONDS: f64 = 5.0;

fn has_health_checks(td: Option<&TaskDefinition>) -> bool {
    td.and_then(|td| td.container_definitions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| c.essential.unwrap_or(true) && c.health_check.is_some())
}

/// Whether a task counts as healthy for `minimumHealthyPercent`: RUNNING, and its essential
/// containers' health checks pass, or, without any, RUNNING for the grace period (at least
/// [`STABLE_SECONDS`]).
fn healthy(state: &State, task: &Task, grace: f64, now: f64) -> bool {
    if !TaskStatus::Running.is(&task.last_status) {
        return false;
    }
    if has_health_checks(state.definition_of(task)) {
        task.health_status == Some(HealthStatus::Healthy)
    } else {
        task.started_at
            .is_some_and(|s| now - s >= grace.max(STABLE_SECONDS))
    }
}

/// The tasks a pass decides to start, all of the PRIMARY deployment.
pub(super) enum Starts {
    /// None.
    Nothing,
    /// `count` tasks wherever the applier places them.
    Placed { count: usize, request: Request },
    /// One task on each of these instances, by ARN (a daemon's, checked for room already).
    On(Vec<String>),
}

/// One pass's work on one service.
pub(super) struct Pass<'s> {
    pub(super) state: &'s State,
    pub(super) now: f64,
    pub(super) service: Service,
    pub(super) cluster: String,
    /// The service's tasks that are wanted: desiredStatus RUNNING and not STOPPED.
    pub(super) live: Vec<&'s Task>,
    pub(super) stopping: Vec<Task>,
    /// The network interfaces of the awsvpc tasks started.
    pub(super) interfaces: Vec<Change>,
    pub(super) starts: Starts,
    /// Deployments drained and dropped from the service in this pass.
    pub(super) retired: Vec<Deployment>,
}

impl<'s> Pass<'s> {
    pub(super) fn new(state: &'s State, service: &Service, now: f64) -> Self {
        let cluster = arn::cluster_name(service.cluster_arn.as_deref().unwrap_or("")).to_string();
        let live = state
            .tasks_of_service(service)
            .filter(|t| TaskStatus::Running.is(&t.desired_status))
            .filter(|t| !TaskStatus::Stopped.is(&t.last_status))
            .collect();
        Self {
            state,
            now,
            service: service.clone(),
            cluster,
            live,
            stopping: vec![],
            interfaces: vec![],
            starts: Starts::Nothing,
            retired: vec![],
        }
    }

    /// The service's current task definition.
    pub(super) fn definition(&self) -> Option<&'s TaskDefinition> {
        let r = arn::task_definition_ref(self.service.task_definition.as_deref()?)?;
        self.state.task_definitions.get(&(r.family, r.revision?))
    }

    fn grace(&self) -> f64 {
        f64::from(self.service.health_check_grace_period_seconds.unwrap_or(0))
    }

    pub(super) fn is_healthy(&self, task: &Task) -> bool {
        healthy(self.state, task, self.grace(), self.now)
    }

    /// Whether the task is protected from scale-in and deployments (UpdateTaskProtection).
    pub(super) fn is_protected(&self, task: &Task) -> bool {
        protection::is_protected(self.state, task, self.now)
    }

    fn stopping_arns(&self) -> BTreeSet<&str> {
        self.stopping
            .iter()
            .filter_map(|t| t.task_arn.as_deref())
            .collect()
    }

    /// The service's tasks that are to stop (earlier, or in this pass) but still RUNNING on
    /// their hosts: a container draining for its stop timeout. ECS counts them in their
    /// deployment's and the service's runningCount until they have stopped, so a deployment
    /// is not done, nor a deleted service INACTIVE, while they run.
    pub(super) fn still_running_stopping(&self) -> Vec<&Task> {
        let earlier = self
            .state
            .tasks_of_service(&self.service)
            .filter(|t| TaskStatus::Stopped.is(&t.desired_status));
        earlier
            .chain(self.stopping.iter())
            .filter(|t| TaskStatus::Running.is(&t.last_status))
            .collect()
    }

    /// The live tasks not being stopped in this pass, of one deployment or of all.
    pub(super) fn remaining(&self, deployment: Option<&str>) -> Vec<&'s Task> {
        let stopping = self.stopping_arns();
        self.live
            .iter()
            .copied()
            .filter(|t| !stopping.contains(t.task_arn.as_deref().unwrap_or("")))
            .filter(|t| deployment.is_none() || t.started_by.as_deref() == deployment)
            .collect()
    }

    pub(super) fn stop(&mut self, task: &Task, reason: String) {
        let code = TaskStopCode::ServiceSchedulerInitiated;
        self.stopping
            .push(tasks::stopping(self.state, task, code, reason, self.now));
    }

    pub(super) fn deployments(&mut self) -> &mut Vec<Deployment> {
        self.service.deployments.get_or_insert_with(Vec::new)
    }

    pub(super) fn primary_id(&self) -> String {
        self.service
            .deployments
            .iter()
            .flatten()
            .next()
            .and_then(|d| d.id.clone())
            .unwrap_or_default()
    }

    pub(super) fn event(&mut self, message: String) {
        push_event(&mut self.service, self.now, message);
    }

    /// An event, unless the newest one already says it (a refusal repeats every pass).
    pub(super) fn event_once(&mut self, message: String) {
        let newest = self
            .service
            .events
            .iter()
            .flatten()
            .next()
            .and_then(|e| e.message.as_deref());
        if newest != Some(message.as_str()) {
            self.event(message);
        }
    }
}
