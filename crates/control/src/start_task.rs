//! StartTask: a task on each container instance named, where it is told, with only the task
//! definition's constraints (and an awsvpc task's subnets' zones) applying.

use crate::error::ControlError;
use crate::network::enis::{self, NetworkPlan};
use crate::tasks::{Launch, check_overrides, group_of, new_task, runnable, standalone_tags};
use crate::{Change, ControlPlane, clusters, lookup, placement};
use berth_scheduler::{Overlay, Views, feasibility};
use berth_types::ecs::{Failure, StartTaskRequest, StartTaskResponse};

impl ControlPlane {
    /// StartTask: one task on each named container instance.
    pub fn start_task(&self, req: StartTaskRequest) -> Result<StartTaskResponse, ControlError> {
        let n = req.container_instances.len();
        if n == 0 || n > 10 {
            return Err(ControlError::invalid(format!(
                "containerInstances has {n} entries, but StartTask takes 1 to 10"
            )));
        }
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let td = runnable(state, &req.task_definition)?;
            check_overrides(td, req.overrides.as_ref())?;
            let tags = standalone_tags(
                state,
                &name,
                td,
                req.tags.as_ref(),
                req.propagate_tags,
                req.enable_ecs_managed_tags,
            )?;
            let launch = Launch {
                cluster: name.clone(),
                td,
                overrides: req.overrides.as_ref(),
                started_by: req.started_by.as_ref(),
                group: group_of(td, req.group.as_ref()),
                launch_type: None,
                tags,
            };
            let network =
                NetworkPlan::check(&state.network, td, req.network_configuration.as_ref(), None)?;
            // StartTask places where it is told: only the task definition's constraints and,
            // for awsvpc, the subnets' zones apply.
            let constraints = enis::with_zones(None, network.as_ref(), state);
            let request = placement::request(
                td,
                req.overrides.as_ref(),
                &launch.group,
                Some(&constraints),
                None,
            )?;
            let mut tasks = vec![];
            let mut failures = vec![];
            let views = state.cluster_views(&name);
            let mut overlay = Overlay::new(views.map(|v| v.all()).unwrap_or_default());
            for reference in &req.container_instances {
                let found =
                    lookup::instance(state, ctx.partition, &name, reference).and_then(|i| {
                        let arn = i.container_instance_arn.as_deref().unwrap_or_default();
                        Some((i, views?.position(arn)?))
                    });
                let Some((instance, at)) = found else {
                    failures.push(crate::missing(reference));
                    continue;
                };
                let key = instance.container_instance_arn.clone().unwrap_or_default();
                match feasibility::check(overlay.get(at), &request) {
                    Ok(()) => {
                        overlay.reserve(at, &request.demand, &request.group);
                        tasks.push(new_task(ctx, &launch, instance));
                    }
                    Err(m) => failures.push(Failure {
                        arn: Some(key),
                        reason: Some(m.reason().into()),
                        detail: None,
                    }),
                }
            }
            let (tasks, interfaces, no_interface) =
                enis::give_interfaces(state, network.as_ref(), tasks);
            failures.extend(no_interface);
            let mut changes: Vec<Change> = tasks.iter().cloned().map(Change::Task).collect();
            changes.extend(interfaces);
            Ok((
                changes,
                StartTaskResponse {
                    tasks: Some(tasks),
                    failures: Some(failures),
                },
            ))
        })
    }
}
