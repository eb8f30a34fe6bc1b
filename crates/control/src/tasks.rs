//! Tasks: RunTask (placement, client-token idempotency), StartTask, StopTask, DescribeTasks and
//! ListTasks.

use crate::change::ClientToken;
use crate::error::ControlError;
use crate::network::enis::{self, NetworkPlan};
use crate::status::{InstanceStatus, TaskStatus};
use crate::{
    Change, ControlPlane, Ctx, State, applier, clusters, lookup, paginate, placement, tags,
    task_definitions,
};
use berth_scheduler::Request;
use berth_types::arn;
use berth_types::ecs::{
    Attribute, Container, ContainerInstance, DescribeTasksRequest, DescribeTasksResponse,
    DesiredStatus, Failure, HealthStatus, LaunchType, ListTasksRequest, ListTasksResponse,
    PropagateTags, RunTaskRequest, RunTaskResponse, StopTaskRequest, StopTaskResponse, Tag, Task,
    TaskDefinition, TaskDefinitionStatus, TaskField, TaskOverride, TaskStopCode,
};

/// Most tasks one RunTask call may start.
pub(crate) const MAX_RUN_COUNT: i32 = 10;

/// Finds a task of `cluster` by ARN or id (the path the API layer uses).
pub use crate::lookup::task as find;

/// What a new task is started from: shared by RunTask, StartTask and the service controller.
pub(crate) struct Launch<'a> {
    pub cluster: String,
    pub td: &'a TaskDefinition,
    pub overrides: Option<&'a TaskOverride>,
    pub started_by: Option<&'a String>,
    pub group: String,
    pub launch_type: Option<LaunchType>,
    /// The task's tags, all sources merged (see `tags::for_new_task`).
    pub tags: Option<Vec<Tag>>,
}

pub(crate) fn check_overrides(
    td: &TaskDefinition,
    overrides: Option<&TaskOverride>,
) -> Result<(), ControlError> {
    let names: Vec<&str> = td
        .container_definitions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.name.as_deref())
        .collect();
    for o in overrides
        .and_then(|o| o.container_overrides.as_deref())
        .unwrap_or_default()
    {
        let name = o.name.as_deref().unwrap_or_default();
        if !names.contains(&name) {
            return Err(ControlError::invalid(format!(
                "container override names {name:?}, which is not a container of {}: use one of {names:?}",
                td.task_definition_arn.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// The tags of a task RunTask or StartTask starts: only a service's tasks can take the
/// service's tags.
pub(crate) fn standalone_tags(
    state: &State,
    cluster: &str,
    td: &TaskDefinition,
    given: Option<&Vec<Tag>>,
    propagate: Option<PropagateTags>,
    managed: Option<bool>,
) -> Result<Option<Vec<Tag>>, ControlError> {
    tags::check_user_tags(given.map(Vec::as_slice).unwrap_or_default())?;
    if propagate == Some(PropagateTags::Service) {
        return Err(ControlError::invalid(
            "propagateTags SERVICE is only valid for a service's tasks: use TASK_DEFINITION or NONE",
        ));
    }
    let from = tags::TagSources {
        propagate,
        service: None,
        managed: managed.unwrap_or(false),
    };
    Ok(tags::for_new_task(state, cluster, td, given, &from))
}

/// The task group: as given, or `family:<family>`.
pub(crate) fn group_of(td: &TaskDefinition, group: Option<&String>) -> String {
    group
        .cloned()
        .unwrap_or_else(|| format!("family:{}", td.family.as_deref().unwrap_or_default()))
}

/// The task definition a reference names, when it may start tasks.
pub(crate) fn runnable<'s>(
    state: &'s State,
    reference: &str,
) -> Result<&'s TaskDefinition, ControlError> {
    let td = task_definitions::resolve(state, reference)?;
    if td.status != Some(TaskDefinitionStatus::Active) {
        return Err(ControlError::client(format!(
            "task definition {} is {}: only ACTIVE task definitions can start tasks; register a new revision",
            td.task_definition_arn.as_deref().unwrap_or_default(),
            td.status.map(|s| s.as_str()).unwrap_or("unknown")
        )));
    }
    Ok(td)
}

/// A new task placed on `instance`, PENDING with desiredStatus RUNNING.
pub(crate) fn new_task(ctx: &Ctx, launch: &Launch, instance: &ContainerInstance) -> Task {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let task_arn = ctx.partition.task(&launch.cluster, &id);
    let td = launch.td;
    let containers = td
        .container_definitions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let o = launch
                .overrides
                .and_then(|o| o.container_overrides.as_ref())
                .and_then(|list| list.iter().find(|x| x.name == c.name));
            Container {
                container_arn: Some(ctx.partition.container(
                    &launch.cluster,
                    &id,
                    &uuid::Uuid::new_v4().to_string(),
                )),
                task_arn: Some(task_arn.clone()),
                name: c.name.clone(),
                image: c.image.clone(),
                last_status: TaskStatus::Pending.into(),
                network_interfaces: Some(vec![]),
                cpu: Some(o.and_then(|o| o.cpu).or(c.cpu).unwrap_or(0).to_string()),
                memory: o.and_then(|o| o.memory).or(c.memory).map(|m| m.to_string()),
                memory_reservation: o
                    .and_then(|o| o.memory_reservation)
                    .or(c.memory_reservation)
                    .map(|m| m.to_string()),
                health_status: c.health_check.as_ref().map(|_| HealthStatus::Unknown),
                ..Container::default()
            }
        })
        .collect();
    let attribute = |name: &str| {
        instance
            .attributes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.clone())
    };
    Task {
        task_arn: Some(task_arn.clone()),
        cluster_arn: Some(ctx.partition.cluster(&launch.cluster)),
        task_definition_arn: td.task_definition_arn.clone(),
        container_instance_arn: instance.container_instance_arn.clone(),
        overrides: Some(launch.overrides.cloned().unwrap_or(TaskOverride {
            container_overrides: Some(vec![]),
            inference_accelerator_overrides: Some(vec![]),
            ..TaskOverride::default()
        })),
        last_status: TaskStatus::Pending.into(),
        desired_status: TaskStatus::Running.into(),
        cpu: launch
            .overrides
            .and_then(|o| o.cpu.clone())
            .or(td.cpu.clone()),
        memory: launch
            .overrides
            .and_then(|o| o.memory.clone())
            .or(td.memory.clone()),
        containers: Some(containers),
        started_by: launch.started_by.cloned(),
        group: Some(launch.group.clone()),
        launch_type: Some(launch.launch_type.unwrap_or(LaunchType::Ec2)),
        created_at: Some(ctx.now),
        version: Some(1),
        tags: launch.tags.clone(),
        attributes: Some(vec![Attribute {
            name: "ecs.cpu-architecture".into(),
            value: attribute("ecs.cpu-architecture"),
            ..Attribute::default()
        }]),
        availability_zone: attribute("ecs.availability-zone"),
        health_status: Some(HealthStatus::Unknown),
        enable_execute_command: Some(false),
        attachments: Some(vec![]),
        inference_accelerators: Some(vec![]),
        ..Task::default()
    }
}

/// The task with desiredStatus STOPPED, for its agent to stop; an orphaned task (its instance
/// deregistered) has no agent to stop it and is STOPPED at once.
pub(crate) fn stopping(
    state: &State,
    task: &Task,
    code: TaskStopCode,
    reason: String,
    now: f64,
) -> Task {
    let mut task = task.clone();
    task.desired_status = TaskStatus::Stopped.into();
    task.stop_code = Some(code);
    task.stopped_reason = Some(reason);
    task.stopping_at = Some(now);
    task.version = Some(task.version.unwrap_or_default() + 1);
    let orphaned = task
        .container_instance_arn
        .as_ref()
        .and_then(|a| state.instances.get(a))
        .is_none_or(|i| InstanceStatus::Inactive.is(&i.status));
    if orphaned {
        crate::lifecycle::mark_stopped(&mut task, now);
    }
    task
}

fn token_failures(failures: &[Failure]) -> Vec<(Option<String>, String)> {
    failures
        .iter()
        .map(|f| (f.arn.clone(), f.reason.clone().unwrap_or_default()))
        .collect()
}

/// The answer a RunTask with a known `clientToken` gets again, or the conflict when the token
/// came with other parameters; None for a new token.
fn replay(
    state: &State,
    req: &RunTaskRequest,
    fingerprint: &str,
) -> Result<Option<RunTaskResponse>, ControlError> {
    let Some((token, seen)) = req
        .client_token
        .as_ref()
        .and_then(|t| state.client_tokens.get(t).map(|seen| (t, seen)))
    else {
        return Ok(None);
    };
    if seen.fingerprint != fingerprint {
        return Err(ControlError::Conflict {
            token: token.clone(),
            resource_ids: seen.task_arns.clone(),
        });
    }
    Ok(Some(RunTaskResponse {
        tasks: Some(
            seen.task_arns
                .iter()
                .filter_map(|a| state.tasks.get(a).cloned())
                .collect(),
        ),
        failures: Some(
            seen.failures
                .iter()
                .map(|(arn, reason)| Failure {
                    arn: arn.clone(),
                    reason: Some(reason.clone()),
                    detail: None,
                })
                .collect(),
        ),
    }))
}

/// A RunTask call resolved against the state: what to launch, where, and the placement request;
/// `created` is the `default` cluster when this call brings it into being.
struct Prepared<'a> {
    launch: Launch<'a>,
    request: Request,
    created: Option<Change>,
    /// Where an awsvpc task's interface comes from.
    network: Option<NetworkPlan>,
}

fn prepare<'a>(
    state: &'a State,
    ctx: &Ctx,
    req: &'a RunTaskRequest,
) -> Result<Prepared<'a>, ControlError> {
    let (cluster, created) = clusters::resolve(state, ctx, req.cluster.as_deref())?;
    let td = runnable(state, &req.task_definition)?;
    check_overrides(td, req.overrides.as_ref())?;
    let tags = standalone_tags(
        state,
        &cluster,
        td,
        req.tags.as_ref(),
        req.propagate_tags,
        req.enable_ecs_managed_tags,
    )?;
    let launch = Launch {
        cluster,
        td,
        overrides: req.overrides.as_ref(),
        started_by: req.started_by.as_ref(),
        group: group_of(td, req.group.as_ref()),
        launch_type: req.launch_type,
        tags,
    };
    let network = NetworkPlan::check(
        &state.network,
        td,
        req.network_configuration.as_ref(),
        req.launch_type,
    )?;
    let constraints = enis::with_zones(
        req.placement_constraints.as_deref(),
        network.as_ref(),
        state,
    );
    let request = placement::request(
        td,
        req.overrides.as_ref(),
        &launch.group,
        Some(&constraints),
        req.placement_strategy.as_deref(),
    )?;
    Ok(Prepared {
        launch,
        request,
        created,
        network,
    })
}

impl ControlPlane {
    /// RunTask: places up to 10 tasks; what cannot be placed is reported in `failures[]`.
    /// The placements are planned on a snapshot, then re-checked and committed by the applier.
    pub fn run_task(&self, req: RunTaskRequest) -> Result<RunTaskResponse, ControlError> {
        let count = req.count.unwrap_or(1);
        if !(1..=MAX_RUN_COUNT).contains(&count) {
            return Err(ControlError::invalid(format!(
                "count is {count}, but RunTask starts 1 to {MAX_RUN_COUNT} tasks per call"
            )));
        }
        let count = count as usize;
        if let Some(token) = &req.client_token
            && (token.is_empty() || token.len() > 64 || !token.is_ascii())
        {
            return Err(ControlError::invalid(
                "clientToken must be 1 to 64 ASCII characters",
            ));
        }
        let fingerprint = serde_json::to_string(&RunTaskRequest {
            client_token: None,
            ..req.clone()
        })
        .unwrap_or_default();
        let seed = self.now().to_bits();
        let planned = {
            let state = self.read();
            if let Some(answer) = replay(&state, &req, &fingerprint)? {
                return Ok(answer);
            }
            let p = prepare(&state, &self.ctx(), &req)?;
            applier::plan(&state, &p.launch.cluster, &p.request, count, seed)
        };
        self.mutate(|state, ctx| {
            if let Some(answer) = replay(state, &req, &fingerprint)? {
                return Ok((vec![], answer));
            }
            let p = prepare(state, ctx, &req)?;
            let applied =
                applier::apply(state, &p.launch.cluster, &p.request, &planned, count, seed);
            let tasks: Vec<Task> = applied
                .instances
                .iter()
                .filter_map(|arn| state.instances.get(arn))
                .map(|instance| new_task(ctx, &p.launch, instance))
                .collect();
            let (tasks, interfaces, no_interface) =
                enis::give_interfaces(state, p.network.as_ref(), tasks);
            let mut failures = match &applied.refusal {
                Some(r) if r.per_instance.is_empty() => vec![Failure {
                    arn: None,
                    reason: Some("No Container Instances were found in your cluster.".into()),
                    detail: Some(format!(
                        "start `berth agent` (or `berth up`) to register a host in cluster {}",
                        p.launch.cluster
                    )),
                }],
                Some(r) => placement::failures(r),
                None => vec![],
            };
            failures.extend(no_interface);
            let mut changes: Vec<Change> = p.created.into_iter().collect();
            changes.extend(tasks.iter().cloned().map(Change::Task));
            changes.extend(interfaces);
            if let Some(token) = &req.client_token {
                changes.push(Change::ClientToken(
                    token.clone(),
                    ClientToken {
                        fingerprint: fingerprint.clone(),
                        task_arns: tasks.iter().filter_map(|t| t.task_arn.clone()).collect(),
                        failures: token_failures(&failures),
                    },
                ));
            }
            Ok((
                changes,
                RunTaskResponse {
                    tasks: Some(tasks),
                    failures: Some(failures),
                },
            ))
        })
    }

    /// StopTask: desiredStatus STOPPED; the agent stops the containers and reports STOPPED.
    pub fn stop_task(&self, req: StopTaskRequest) -> Result<StopTaskResponse, ControlError> {
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let task = lookup::task(state, ctx.partition, &name, &req.task).ok_or_else(|| {
                ControlError::invalid(format!(
                    "the referenced task {} was not found in cluster {name}",
                    req.task
                ))
            })?;
            if TaskStatus::Stopped.is(&task.desired_status) {
                return Ok((
                    vec![],
                    StopTaskResponse {
                        task: Some(task.clone()),
                    },
                ));
            }
            let reason: String = req
                .reason
                .clone()
                .unwrap_or_else(|| "Task stopped by user".into())
                .chars()
                .take(1024)
                .collect();
            let task = stopping(state, task, TaskStopCode::UserInitiated, reason, ctx.now);
            Ok((
                vec![Change::Task(task.clone())],
                StopTaskResponse { task: Some(task) },
            ))
        })
    }

    /// DescribeTasks: unknown tasks come back in `failures[]` as MISSING.
    pub fn describe_tasks(
        &self,
        req: DescribeTasksRequest,
    ) -> Result<DescribeTasksResponse, ControlError> {
        if req.tasks.is_empty() || req.tasks.len() > 100 {
            return Err(ControlError::invalid(format!(
                "tasks has {} entries, but DescribeTasks takes 1 to 100",
                req.tasks.len()
            )));
        }
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskField::Tags));
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let mut tasks = vec![];
        let mut failures = vec![];
        for reference in &req.tasks {
            match lookup::task(&state, self.partition(), &name, reference) {
                Some(t) => {
                    let mut t = t.clone();
                    if !with_tags {
                        t.tags = None;
                    }
                    tasks.push(t);
                }
                None => failures.push(crate::missing(reference)),
            }
        }
        Ok(DescribeTasksResponse {
            tasks: Some(tasks),
            failures: Some(failures),
        })
    }

    /// ListTasks: filters combine; desiredStatus defaults to RUNNING.
    pub fn list_tasks(&self, req: ListTasksRequest) -> Result<ListTasksResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let instance = match &req.container_instance {
            Some(r) => Some(
                lookup::instance(&state, self.partition(), &name, r)
                    .and_then(|i| i.container_instance_arn.clone())
                    .ok_or_else(|| {
                        ControlError::invalid(format!(
                            "container instance {r} is not registered in cluster {name}"
                        ))
                    })?,
            ),
            None => None,
        };
        let desired = req.desired_status.unwrap_or(DesiredStatus::Running);
        let group = req
            .service_name
            .as_ref()
            .map(|s| format!("service:{}", arn::resource_id(s)));
        let arns: Vec<String> = state
            .tasks
            .values()
            .filter(|t| t.cluster_arn.as_deref().map(arn::cluster_name) == Some(name.as_str()))
            .filter(|t| t.desired_status.as_deref() == Some(desired.as_str()))
            .filter(|t| instance.is_none() || t.container_instance_arn == instance)
            .filter(|t| req.started_by.is_none() || t.started_by == req.started_by)
            .filter(|t| req.launch_type.is_none() || t.launch_type == req.launch_type)
            .filter(|t| group.is_none() || t.group == group)
            .filter(|t| {
                req.family.as_ref().is_none_or(|f| {
                    t.task_definition_arn
                        .as_deref()
                        .and_then(arn::task_definition_ref)
                        .is_some_and(|r| r.family == *f)
                })
            })
            .filter_map(|t| t.task_arn.clone())
            .collect();
        let (page, next) = paginate::ecs_page(arns, req.max_results, req.next_token.as_deref())?;
        Ok(ListTasksResponse {
            task_arns: Some(page),
            next_token: next,
        })
    }
}
