//! The service controller. Level-triggered: each pass reads a service and its tasks as they are
//! and makes one durable set of changes towards what the service wants, so a missed event or a
//! restart in the middle of a deployment is repaired by the next pass, and nothing is started
//! twice (a task exists in the store before anyone hears of it).
//!
//! One pass over a service, in order:
//! 1. the circuit breaker: the PRIMARY deployment's failed tasks against its threshold; on
//!    failure it is FAILED and, with rollback, the last COMPLETED deployment is PRIMARY again;
//! 2. tasks that failed their health checks are stopped (and replaced below);
//! 3. the older deployments' tasks are stopped as far as `minimumHealthyPercent` allows;
//! 4. the PRIMARY deployment is scaled in, or out as far as `maximumPercent` allows, placing
//!    through the applier like RunTask; what cannot be placed becomes an event with the reasons;
//! 5. counts, rollout state and events.
//!
//! DAEMON services follow their instances instead of a count.

use crate::services::{self, push_event, subject};
use crate::state::State;
use crate::tasks::{self, Launch};
use crate::{Change, ControlPlane, Ctx, applier, placement, service_history};
use berth_scheduler::ranking::SpreadField;
use berth_scheduler::{Request, Strategy, feasibility};
use berth_types::arn;
use berth_types::ecs::{
    Deployment, DeploymentRolloutState, HealthStatus, SchedulingStrategy, Service, Task,
    TaskDefinition, TaskStopCode, ThresholdType,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How often every service is looked at even when nothing woke the controller (grace periods
/// run out without an event).
const TICK: Duration = Duration::from_secs(1);

/// The stopped reason of a task the controller replaces for failing its health checks.
const UNHEALTHY: &str = "Task failed container health checks";

fn has_health_checks(td: Option<&TaskDefinition>) -> bool {
    td.and_then(|td| td.container_definitions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| c.essential.unwrap_or(true) && c.health_check.is_some())
}

/// How long a task without health checks must have been RUNNING before it counts as healthy,
/// at the least. ECS waits 40 s; Berth waits as long as Docker Swarm's update monitor does,
/// long enough to catch a container that exits as soon as it starts.
pub const STABLE_SECONDS: f64 = 5.0;

/// Whether a task counts as healthy for `minimumHealthyPercent`: RUNNING, and its essential
/// containers' health checks pass, or, without any, RUNNING for the grace period (at least
/// [`STABLE_SECONDS`]).
fn healthy(state: &State, task: &Task, grace: f64, now: f64) -> bool {
    if task.last_status.as_deref() != Some("RUNNING") {
        return false;
    }
    if has_health_checks(state.definition_of(task)) {
        task.health_status == Some(HealthStatus::Healthy)
    } else {
        task.started_at
            .is_some_and(|s| now - s >= grace.max(STABLE_SECONDS))
    }
}

/// Whether a stopped task counts against the circuit breaker.
fn failed(task: &Task) -> bool {
    task.last_status.as_deref() == Some("STOPPED")
        && (matches!(
            task.stop_code,
            Some(TaskStopCode::TaskFailedToStart | TaskStopCode::EssentialContainerExited)
        ) || task.stopped_reason.as_deref() == Some(UNHEALTHY))
}

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
        Some(t) => percent(t.value).clamp(10, 200),
        // The classic threshold: half the desired count, at least 10, at most 200.
        None => percent(50).clamp(10, 200),
    })
}

/// The placement request for a service's tasks: its constraints and strategies, or, with no
/// strategy given, spread over availability zones as ECS does for services.
fn request(service: &Service, td: &TaskDefinition) -> Option<Request> {
    let mut request = placement::request(
        td,
        None,
        &services::group(service),
        service.placement_constraints.as_deref(),
        service.placement_strategy.as_deref(),
    )
    .ok()?;
    if request.strategies.is_empty() {
        request.strategies = vec![Strategy::Spread(SpreadField::Attribute(
            "ecs.availability-zone".into(),
        ))];
    }
    Some(request)
}

/// The spread bucket of a task's instance (its id, or the attribute's value).
fn bucket(view: Option<&berth_scheduler::InstanceView>, field: &SpreadField) -> String {
    match (view, field) {
        (Some(v), SpreadField::Instance) => v.arn.clone(),
        (Some(v), SpreadField::Attribute(name)) => {
            v.facts.attributes.get(name).cloned().unwrap_or_default()
        }
        (None, _) => String::new(),
    }
}

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

/// One pass's work on one service.
struct Pass<'s> {
    state: &'s State,
    ctx: &'s Ctx<'s>,
    service: Service,
    cluster: String,
    /// The service's tasks that are wanted: desiredStatus RUNNING and not STOPPED.
    live: Vec<&'s Task>,
    stopping: Vec<Task>,
    started: Vec<Task>,
    /// Deployments drained and dropped from the service in this pass.
    retired: Vec<Deployment>,
}

impl<'s> Pass<'s> {
    fn new(state: &'s State, ctx: &'s Ctx<'s>, service: &Service) -> Self {
        let cluster = arn::cluster_name(service.cluster_arn.as_deref().unwrap_or("")).to_string();
        let group = services::group(service);
        let live = state
            .tasks
            .values()
            .filter(|t| t.group.as_deref() == Some(group.as_str()))
            .filter(|t| t.cluster_arn.as_deref().map(arn::cluster_name) == Some(cluster.as_str()))
            .filter(|t| t.desired_status.as_deref() == Some("RUNNING"))
            .filter(|t| t.last_status.as_deref() != Some("STOPPED"))
            .collect();
        Self {
            state,
            ctx,
            service: service.clone(),
            cluster,
            live,
            stopping: vec![],
            started: vec![],
            retired: vec![],
        }
    }

    /// The service's current task definition.
    fn definition(&self) -> Option<&'s TaskDefinition> {
        let r = arn::task_definition_ref(self.service.task_definition.as_deref()?)?;
        self.state.task_definitions.get(&(r.family, r.revision?))
    }

    fn grace(&self) -> f64 {
        f64::from(self.service.health_check_grace_period_seconds.unwrap_or(0))
    }

    fn is_healthy(&self, task: &Task) -> bool {
        healthy(self.state, task, self.grace(), self.ctx.now)
    }

    fn stopping_arns(&self) -> BTreeSet<&str> {
        self.stopping
            .iter()
            .filter_map(|t| t.task_arn.as_deref())
            .collect()
    }

    /// The live tasks not being stopped in this pass, of one deployment or of all.
    fn remaining(&self, deployment: Option<&str>) -> Vec<&'s Task> {
        let stopping = self.stopping_arns();
        self.live
            .iter()
            .copied()
            .filter(|t| !stopping.contains(t.task_arn.as_deref().unwrap_or("")))
            .filter(|t| deployment.is_none() || t.started_by.as_deref() == deployment)
            .collect()
    }

    fn stop(&mut self, task: &Task, reason: String) {
        let code = TaskStopCode::ServiceSchedulerInitiated;
        self.stopping.push(tasks::stopping(
            self.state,
            task,
            code,
            reason,
            self.ctx.now,
        ));
    }

    fn deployments(&mut self) -> &mut Vec<Deployment> {
        self.service.deployments.get_or_insert_with(Vec::new)
    }

    fn primary_id(&self) -> String {
        self.service
            .deployments
            .iter()
            .flatten()
            .next()
            .and_then(|d| d.id.clone())
            .unwrap_or_default()
    }

    fn event(&mut self, message: String) {
        push_event(&mut self.service, self.ctx.now, message);
    }

    /// An event, unless the newest one already says it (a refusal repeats every pass).
    fn event_once(&mut self, message: String) {
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

    fn circuit_breaker(&mut self) {
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
            .tasks
            .values()
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
            let now = self.ctx.now;
            let deployments = self.deployments();
            let mut good = deployments.remove(at);
            for d in deployments.iter_mut() {
                d.status = Some("ACTIVE".into());
                d.updated_at = Some(now);
            }
            good.status = Some("PRIMARY".into());
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

    fn replace_unhealthy(&mut self) {
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

    fn percents(&self) -> (i32, i32) {
        let c = self.service.deployment_configuration.as_ref();
        (
            c.and_then(|c| c.minimum_healthy_percent).unwrap_or(100),
            c.and_then(|c| c.maximum_percent).unwrap_or(200),
        )
    }

    /// Whether a task's instance still takes service tasks (ACTIVE); tasks on DRAINING or
    /// deregistered instances are replaced elsewhere, as ECS does.
    fn on_active_instance(&self, task: &Task) -> bool {
        task.container_instance_arn
            .as_deref()
            .and_then(|a| self.state.instances.get(a))
            .is_some_and(|i| i.status.as_deref() == Some("ACTIVE"))
    }

    /// Stops older deployments' tasks, and tasks on draining instances, while enough healthy
    /// ones remain.
    fn drain_old(&mut self, primary_failed: bool) {
        let desired = self.service.desired_count.unwrap_or_default();
        let (min, _) = self.percents();
        let min_healthy = (f64::from(desired) * f64::from(min) / 100.0).ceil() as usize;
        let primary = self.primary_id();
        let mut healthy = self
            .remaining(None)
            .into_iter()
            .filter(|t| self.is_healthy(t))
            .count();
        let old: Vec<&Task> = self
            .remaining(None)
            .into_iter()
            .filter(|t| {
                t.started_by.as_deref() != Some(primary.as_str()) || !self.on_active_instance(t)
            })
            .collect();
        // Unhealthy ones first: stopping them costs nothing against the minimum.
        let (sick, well): (Vec<&Task>, Vec<&Task>) =
            old.into_iter().partition(|t| !self.is_healthy(t));
        let reason = |t: &Task| {
            if t.started_by.as_deref() == Some(primary.as_str()) {
                "Container instance is draining".to_string()
            } else {
                format!("Scaling activity initiated by (deployment {primary})")
            }
        };
        for t in sick {
            self.stop(t, reason(t));
        }
        if primary_failed {
            return;
        }
        for t in well {
            if healthy <= min_healthy {
                break;
            }
            healthy -= 1;
            self.stop(t, reason(t));
        }
    }

    /// The `n` tasks to stop when scaling in, chosen one at a time: tasks not yet healthy
    /// first, then as the strategies say (spread: from the fullest bucket, keeping the
    /// balance; binpack: from the instance with the most of the resource left, freeing the
    /// most), then the newest.
    fn scale_in(
        &self,
        mut candidates: Vec<&'s Task>,
        n: usize,
        request: &Request,
    ) -> Vec<&'s Task> {
        let views = self.state.cluster_views(&self.cluster);
        let view = |t: &Task| {
            let views = views?;
            Some(&views.all()[views.position(t.container_instance_arn.as_deref()?)?])
        };
        let mut chosen = Vec::with_capacity(n);
        while chosen.len() < n && !candidates.is_empty() {
            // Bucket counts of the tasks still kept, per spread strategy.
            let mut buckets: HashMap<(usize, String), i64> = HashMap::new();
            for t in &candidates {
                for (k, s) in request.strategies.iter().enumerate() {
                    if let Strategy::Spread(field) = s {
                        *buckets.entry((k, bucket(view(t), field))).or_default() += 1;
                    }
                }
            }
            let score = |t: &Task| -> Vec<i64> {
                let mut key = vec![i64::from(self.is_healthy(t))];
                for (k, s) in request.strategies.iter().enumerate() {
                    key.push(match s {
                        Strategy::Spread(field) => -buckets[&(k, bucket(view(t), field))],
                        Strategy::Binpack(resource) => {
                            -view(t).map_or(i64::MAX, |v| match resource {
                                berth_scheduler::ranking::Resource::Cpu => v.remaining_cpu,
                                berth_scheduler::ranking::Resource::Memory => v.remaining_memory,
                            })
                        }
                        Strategy::Random => 0,
                    });
                }
                key.push(-(t.created_at.unwrap_or_default() * 1000.0) as i64);
                key
            };
            let at = (0..candidates.len())
                .min_by_key(|&i| score(candidates[i]))
                .unwrap_or(0);
            chosen.push(candidates.swap_remove(at));
        }
        chosen
    }

    /// Scales the PRIMARY deployment to the desired count, within `maximumPercent`.
    fn scale_primary(&mut self, primary_failed: bool, request: &Request) {
        let desired = self.service.desired_count.unwrap_or_default().max(0) as usize;
        let primary = self.primary_id();
        let mine: Vec<&Task> = self
            .remaining(Some(&primary))
            .into_iter()
            .filter(|t| self.on_active_instance(t))
            .collect();
        if mine.len() > desired {
            let n = mine.len() - desired;
            for t in self.scale_in(mine, n, request) {
                let reason = format!("Scaling activity initiated by (deployment {primary})");
                self.stop(t, reason);
            }
            return;
        }
        if primary_failed {
            return;
        }
        let (_, max) = self.percents();
        let max_total = (desired * max.max(0) as usize) / 100;
        let total = self.remaining(None).len();
        let wanted = (desired - mine.len()).min(max_total.saturating_sub(total));
        if wanted > 0 {
            self.place(wanted, &primary, request);
        }
    }

    fn place(&mut self, count: usize, deployment: &str, request: &Request) {
        let Some(td) = self.definition() else {
            return;
        };
        let applied = applier::apply(
            self.state,
            &self.cluster,
            request,
            &[],
            count,
            self.ctx.now.to_bits(),
        );
        let started_by = deployment.to_string();
        let launch = Launch {
            cluster: self.cluster.clone(),
            td,
            overrides: None,
            started_by: Some(&started_by),
            group: services::group(&self.service),
            launch_type: self.service.launch_type,
            tags: None,
        };
        for instance in applied
            .instances
            .iter()
            .filter_map(|a| self.state.instances.get(a))
        {
            self.started
                .push(tasks::new_task(self.ctx, &launch, instance));
        }
        if let Some(refusal) = applied.refusal {
            let name = subject(&self.service);
            self.event_once(format!(
                "{name} was unable to place a task because no container instance met all of its requirements. Reason: {}.",
                refusal.summary()
            ));
        }
    }

    /// DAEMON: one task on every ACTIVE instance that satisfies the constraints; tasks on
    /// instances that drain or leave are stopped and not replaced.
    fn follow_instances(&mut self, request: &Request) {
        let Some(td) = self.definition() else {
            return;
        };
        let primary = self.primary_id();
        let mut on: HashMap<String, Vec<&'s Task>> = HashMap::new();
        for t in self.remaining(None) {
            on.entry(t.container_instance_arn.clone().unwrap_or_default())
                .or_default()
                .push(t);
        }
        let mut eligible = 0;
        let mut wanted_on = vec![];
        for view in self.state.views(&self.cluster) {
            // A daemon ignores its own group's count when checking room on an instance.
            let fits = feasibility::check(view, request);
            let member = request.constraints.iter().all(|c| match c {
                berth_scheduler::Constraint::MemberOf(e) => e.matches(&view.facts),
                berth_scheduler::Constraint::DistinctInstance => true,
            });
            if !view.active || !member {
                continue;
            }
            eligible += 1;
            let here = on.remove(&view.arn).unwrap_or_default();
            let current = here
                .iter()
                .any(|t| t.started_by.as_deref() == Some(primary.as_str()));
            for t in here
                .iter()
                .filter(|t| t.started_by.as_deref() != Some(primary.as_str()))
            {
                self.stop(
                    t,
                    format!("Scaling activity initiated by (deployment {primary})"),
                );
            }
            if !current && here.is_empty() {
                match fits {
                    Ok(()) => wanted_on.push(view.arn.clone()),
                    Err(m) => {
                        let name = subject(&self.service);
                        self.event_once(format!(
                            "{name} was unable to place a task on container instance {} because it has {}.",
                            arn::resource_id(&view.arn),
                            m.reason()
                        ));
                    }
                }
            }
        }
        // What is left runs on instances that drained, left or no longer qualify.
        for t in on.into_values().flatten() {
            self.stop(
                t,
                "Container instance is no longer eligible for this daemon".into(),
            );
        }
        self.service.desired_count = Some(eligible);
        if let Some(d) = self.deployments().first_mut() {
            d.desired_count = Some(eligible);
        }
        let started_by = primary.clone();
        let launch = Launch {
            cluster: self.cluster.clone(),
            td,
            overrides: None,
            started_by: Some(&started_by),
            group: services::group(&self.service),
            launch_type: self.service.launch_type,
            tags: None,
        };
        for instance in wanted_on.iter().filter_map(|a| self.state.instances.get(a)) {
            self.started
                .push(tasks::new_task(self.ctx, &launch, instance));
        }
    }

    /// Counts, rollout state, the deployments that are done, and the events of this pass.
    fn settle(&mut self) {
        let name = subject(&self.service);
        if !self.started.is_empty() {
            let message = format!(
                "{name} has started {} tasks: {}.",
                self.started.len(),
                ids(&self.started)
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
        let started = self.started.clone();
        let now = self.ctx.now;
        let desired = self.service.desired_count.unwrap_or_default();
        let all_healthy = remaining.iter().all(|t| self.is_healthy(t));
        let mut running_total = 0;
        let mut pending_total = 0;
        let state = self.state;
        let group = services::group(&self.service);
        let deployments = self.deployments();
        for d in deployments.iter_mut() {
            let failures = state
                .tasks
                .values()
                .filter(|t| t.group.as_deref() == Some(group.as_str()))
                .filter(|t| t.started_by == d.id && failed(t))
                .count() as i32;
            if d.failed_tasks != Some(failures) {
                d.failed_tasks = Some(failures);
                d.updated_at = Some(now);
            }
            let mine: Vec<&&Task> = remaining.iter().filter(|t| t.started_by == d.id).collect();
            let running = mine
                .iter()
                .filter(|t| t.last_status.as_deref() == Some("RUNNING"))
                .count() as i32;
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

    fn into_changes(mut self) -> Vec<Change> {
        let history = service_history::sync(
            self.state,
            self.ctx.partition,
            &mut self.service,
            &self.retired,
            self.ctx.now,
        );
        let mut changes: Vec<Change> = self.started.into_iter().map(Change::Task).collect();
        changes.extend(history);
        changes.extend(self.stopping.into_iter().map(Change::Task));
        let before = self
            .state
            .services
            .get(self.service.service_arn.as_deref().unwrap_or_default());
        if before != Some(&self.service) {
            changes.push(Change::Service(self.service));
        }
        changes
    }
}

/// The changes one pass makes to the service `service_arn`.
pub fn reconcile(state: &State, ctx: &Ctx, service_arn: &str) -> Vec<Change> {
    let Some(service) = state.services.get(service_arn) else {
        return vec![];
    };
    let mut pass = Pass::new(state, ctx, service);
    match service.status.as_deref() {
        Some("ACTIVE") => {
            pass.circuit_breaker();
            pass.replace_unhealthy();
            let primary_failed = pass
                .service
                .deployments
                .iter()
                .flatten()
                .next()
                .is_some_and(|d| d.rollout_state == Some(DeploymentRolloutState::Failed));
            // The request follows the PRIMARY deployment, which a rollback may have changed.
            let request = pass.definition().and_then(|td| request(&pass.service, td));
            match (service.scheduling_strategy, request) {
                (_, None) => {}
                (Some(SchedulingStrategy::Daemon), Some(r)) => pass.follow_instances(&r),
                (_, Some(r)) => {
                    pass.drain_old(primary_failed);
                    pass.scale_primary(primary_failed, &r);
                }
            }
            pass.settle();
        }
        Some("DRAINING") => {
            for t in pass.live.clone() {
                pass.stop(t, "Service is being deleted".into());
            }
            pass.settle();
            if pass.live.is_empty() {
                pass.service.status = Some("INACTIVE".into());
            }
        }
        _ => {}
    }
    pass.into_changes()
}

impl ControlPlane {
    /// One pass over every service that is not INACTIVE; returns how many changed.
    pub fn reconcile_services(&self) -> usize {
        let arns: Vec<String> = self
            .read()
            .services
            .values()
            .filter(|s| s.status.as_deref() != Some("INACTIVE"))
            .filter_map(|s| s.service_arn.clone())
            .collect();
        let mut changed = 0;
        for arn in arns {
            let made = self.mutate(|state, ctx| {
                let changes = reconcile(state, ctx, &arn);
                let n = changes.len();
                Ok((changes, n))
            });
            match made {
                Ok(0) => {}
                Ok(_) => changed += 1,
                Err(e) => tracing::warn!(service = %arn, error = %e.message, "service pass failed"),
            }
        }
        changed
    }

    /// Runs the controller until the process ends: a pass whenever a change may concern a
    /// service, and every second regardless.
    pub async fn run_service_controller(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.services_woken.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
            let control = Arc::clone(&self);
            tokio::task::block_in_place(|| control.reconcile_services());
        }
    }
}
