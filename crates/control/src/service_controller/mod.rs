//! The service controller. Level-triggered: each pass reads a service and its tasks as they are
//! and makes one durable set of changes towards what the service wants, so a missed event or a
//! restart in the middle of a deployment is repaired by the next pass, and nothing is started
//! twice (a task exists in the store before anyone hears of it).
//!
//! One pass over a service, in order:
//! 1. the circuit breaker (`breaker`): the PRIMARY deployment's failed tasks against its
//!    threshold; on failure it is FAILED and, with rollback, the last COMPLETED deployment is
//!    PRIMARY again;
//! 2. tasks that failed their health checks are stopped (and replaced below);
//! 3. the older deployments' tasks are stopped as far as `minimumHealthyPercent` allows
//!    (`rollout`);
//! 4. the PRIMARY deployment is scaled in, or out as far as `maximumPercent` allows and the
//!    launch throttle (`backoff`) lets it; DAEMON services follow their instances instead of
//!    a count (`daemon`);
//! 5. the tasks planned are started, placed through the applier like RunTask; what cannot be
//!    placed becomes an event with the reasons;
//! 6. counts, rollout state and events (`status`).
//!
//! Steps 1 to 4 only read the snapshot and build up a `Pass`; this module runs the
//! steps, starts the tasks, turns the pass into changes, and drives the passes.

mod backoff;
mod breaker;
mod daemon;
mod pass;
mod rollout;
mod status;

use crate::error::ControlError;
use crate::network::enis::{self, NetworkPlan};
use crate::state::State;
use crate::status::{ServiceStatus, TaskStatus};
use crate::tasks::{self, Launch};
use crate::{Change, ControlPlane, Ctx, applier, placement, service_history, services, tags};
use berth_scheduler::ranking::SpreadField;
use berth_scheduler::{Request, Strategy};
use berth_types::arn::Partition;
use berth_types::ecs::{DeploymentRolloutState, SchedulingStrategy, Service, Task, TaskDefinition};
use pass::{Pass, Starts};
use std::sync::Arc;
use std::time::Duration;

/// How often every service is looked at even when nothing woke the controller (grace periods
/// run out without an event).
const TICK: Duration = Duration::from_secs(1);

/// Where an awsvpc service's tasks get their interfaces, as the service's network
/// configuration says against the subnets and groups there are now.
fn network_plan(
    state: &State,
    service: &Service,
    td: &TaskDefinition,
) -> Result<Option<NetworkPlan>, ControlError> {
    NetworkPlan::check(
        &state.network,
        td,
        service.network_configuration.as_ref(),
        service.launch_type,
    )
}

/// The placement request for a service's tasks: its constraints and strategies, or, with no
/// strategy given, spread over availability zones as ECS does for services.
fn request(state: &State, service: &Service, td: &TaskDefinition) -> Option<Request> {
    let constraints = enis::with_zones(
        service.placement_constraints.as_deref(),
        network_plan(state, service, td).ok().flatten().as_ref(),
        state,
    );
    let mut request = placement::request(
        td,
        None,
        &services::group(service),
        Some(&constraints),
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

/// Steps 1 to 4 on the snapshot alone: what to stop, what to start, and the service as it
/// will be. False for a service whose tasks the controller leaves alone (INACTIVE).
fn decide(pass: &mut Pass) -> bool {
    match ServiceStatus::of(&pass.service.status) {
        Some(ServiceStatus::Active) => {
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
            let request = pass
                .definition()
                .and_then(|td| request(pass.state, &pass.service, td));
            match (pass.service.scheduling_strategy, request) {
                (_, None) => {}
                (Some(SchedulingStrategy::Daemon), Some(r)) => pass.follow_instances(&r),
                (_, Some(r)) => {
                    pass.drain_old(primary_failed);
                    let hold_launches = primary_failed || pass.launches_throttled();
                    pass.scale_primary(hold_launches, &r);
                }
            }
            true
        }
        Some(ServiceStatus::Draining) => {
            for t in pass.live.clone() {
                pass.stop(t, "Service is being deleted".into());
            }
            // INACTIVE once every task has stopped on its host, as ECS reports it (so
            // `wait services-inactive` returns when the containers are gone).
            let stopped = |t: &Task| TaskStatus::Stopped.is(&t.last_status);
            if pass.state.tasks_of_service(&pass.service).all(stopped) {
                pass.service.status = ServiceStatus::Inactive.into();
            }
            true
        }
        _ => false,
    }
}

impl Pass<'_> {
    /// Starts the tasks the pass decided on, all of the PRIMARY deployment.
    fn start(&mut self, ctx: &Ctx) -> Vec<Task> {
        let Some(td) = self.definition() else {
            return vec![];
        };
        let instances = match std::mem::replace(&mut self.starts, Starts::Nothing) {
            Starts::Nothing => return vec![],
            Starts::On(instances) => instances,
            Starts::Placed { count, request } => {
                let applied = applier::apply(
                    self.state,
                    &self.cluster,
                    &request,
                    &[],
                    count,
                    self.now.to_bits(),
                );
                if let Some(refusal) = applied.refusal {
                    let name = services::subject(&self.service);
                    self.event_once(format!(
                        "{name} was unable to place a task because no container instance met all of its requirements. Reason: {}.",
                        refusal.summary()
                    ));
                }
                applied.instances
            }
        };
        let network = match network_plan(self.state, &self.service, td) {
            Ok(network) => network,
            Err(e) => {
                let name = services::subject(&self.service);
                self.event_once(format!("{name} was unable to place a task: {e}"));
                return vec![];
            }
        };
        let started_by = self.primary_id();
        let from = tags::TagSources {
            propagate: self.service.propagate_tags,
            service: Some(&self.service),
            managed: self.service.enable_ecs_managed_tags.unwrap_or(false),
        };
        let launch = Launch {
            cluster: self.cluster.clone(),
            td,
            overrides: None,
            started_by: Some(&started_by),
            group: services::group(&self.service),
            launch_type: self.service.launch_type,
            tags: tags::for_new_task(self.state, &self.cluster, td, None, &from),
        };
        let placed = instances
            .iter()
            .filter_map(|a| self.state.instances.get(a))
            .map(|instance| tasks::new_task(ctx, &launch, instance))
            .collect();
        let (started, interfaces, failures) =
            enis::give_interfaces(self.state, network.as_ref(), placed);
        if let Some(f) = failures.first() {
            let name = services::subject(&self.service);
            self.event_once(format!(
                "{name} was unable to place a task: {}",
                f.detail.as_deref().unwrap_or_default()
            ));
        }
        self.interfaces = interfaces;
        started
    }

    /// The pass as durable changes: the tasks started, the history records, the tasks
    /// stopped, and the service when it changed.
    fn into_changes(mut self, started: Vec<Task>, partition: &Partition) -> Vec<Change> {
        let history = service_history::sync(
            self.state,
            partition,
            &mut self.service,
            &self.retired,
            self.now,
        );
        let mut changes: Vec<Change> = started.into_iter().map(Change::Task).collect();
        changes.append(&mut self.interfaces);
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
pub(crate) fn reconcile(state: &State, ctx: &Ctx, service_arn: &str) -> Vec<Change> {
    let Some(service) = state.services.get(service_arn) else {
        return vec![];
    };
    let mut pass = Pass::new(state, service, ctx.now);
    let mut started = vec![];
    if decide(&mut pass) {
        started = pass.start(ctx);
        pass.settle(&started);
    }
    pass.into_changes(started, ctx.partition)
}

impl ControlPlane {
    /// One pass over every service that is not INACTIVE; returns how many changed.
    pub fn reconcile_services(&self) -> usize {
        let arns: Vec<String> = self
            .read()
            .services
            .values()
            .filter(|s| !ServiceStatus::Inactive.is(&s.status))
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
                Err(e) => tracing::warn!(service = %arn, error = %e, "service pass failed"),
            }
        }
        changed
    }

    /// Runs the controller until the process ends: a pass whenever a commit may concern a
    /// service (as the change feed tells, see `wakeups`), and every second regardless.
    pub async fn run_service_controller(self: Arc<Self>) {
        self.follow_commits();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::InstanceStatus;
    use berth_types::ecs::{
        ContainerDefinition, ContainerInstance, Resource, TaskDefinitionStatus,
    };

    /// A snapshot with one connected instance that has room for two tasks of the service's
    /// definition, and the service, which wants three.
    fn snapshot(partition: &Partition, now: f64) -> State {
        let mut state = State::default();
        let instance = partition.container_instance("default", "i1");
        state.apply(Change::Instance(ContainerInstance {
            container_instance_arn: Some(instance.clone()),
            status: InstanceStatus::Active.into(),
            registered_resources: Some(vec![
                Resource {
                    name: Some("CPU".into()),
                    integer_value: Some(1024),
                    ..Resource::default()
                },
                Resource {
                    name: Some("MEMORY".into()),
                    integer_value: Some(512),
                    ..Resource::default()
                },
            ]),
            ..ContainerInstance::default()
        }));
        // Only instances whose agent is connected take tasks.
        state.connected.insert(instance.clone(), 1);
        state.refresh_view(&instance);
        let td = partition.task_definition("web", 1);
        state.apply(Change::TaskDefinition(TaskDefinition {
            task_definition_arn: Some(td.clone()),
            family: Some("web".into()),
            revision: Some(1),
            status: Some(TaskDefinitionStatus::Active),
            container_definitions: Some(vec![ContainerDefinition {
                name: Some("web".into()),
                memory: Some(256),
                ..ContainerDefinition::default()
            }]),
            ..TaskDefinition::default()
        }));
        let ctx = Ctx { partition, now };
        state.apply(Change::Service(Service {
            service_arn: Some(partition.service("default", "web")),
            service_name: Some("web".into()),
            cluster_arn: Some(partition.cluster("default")),
            status: ServiceStatus::Active.into(),
            task_definition: Some(td.clone()),
            desired_count: Some(3),
            deployments: Some(vec![services::new_deployment(&ctx, &td, 3)]),
            ..Service::default()
        }));
        state
    }

    #[test]
    fn a_pass_decides_on_the_snapshot_and_places_afterwards() {
        let partition = Partition {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let ctx = Ctx {
            partition: &partition,
            now: 1_000_000.0,
        };
        let state = snapshot(&partition, ctx.now);
        let service = state.services.values().next().expect("the service");
        let mut pass = Pass::new(&state, service, ctx.now);
        assert!(decide(&mut pass));
        // The decision is the count the service lacks, whatever room the cluster has.
        assert!(matches!(pass.starts, Starts::Placed { count: 3, .. }));
        assert!(pass.stopping.is_empty());
        let started = pass.start(&ctx);
        assert_eq!(started.len(), 2, "the instance has room for two");
        let newest = pass.service.events.iter().flatten().next();
        assert!(
            newest
                .and_then(|e| e.message.as_deref())
                .is_some_and(|m| m.contains("was unable to place a task")),
            "the third becomes an event: {newest:?}"
        );
        assert!(state.tasks.is_empty(), "nothing is written by a pass");
    }
}
