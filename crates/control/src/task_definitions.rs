//! RegisterTaskDefinition (validated against the model's rules, cpu/memory normalised, and the
//! cross-field rules of [`crate::task_definition_rules`]), DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
//! DeregisterTaskDefinition and DeleteTaskDefinitions.

use crate::error::ControlError;
use crate::{Change, ControlPlane, Ctx, State, paginate};
use berth_types::arn;
use berth_types::ecs::{
    Attribute, Compatibility, ContainerCondition, ContainerDefinition,
    DeleteTaskDefinitionsRequest, DeleteTaskDefinitionsResponse, DeregisterTaskDefinitionRequest,
    DeregisterTaskDefinitionResponse, DescribeTaskDefinitionRequest,
    DescribeTaskDefinitionResponse, Failure, ListTaskDefinitionFamiliesRequest,
    ListTaskDefinitionFamiliesResponse, ListTaskDefinitionsRequest, ListTaskDefinitionsResponse,
    NetworkMode, RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse, SortOrder,
    TaskDefinition, TaskDefinitionFamilyStatus, TaskDefinitionField, TaskDefinitionStatus,
    TransportProtocol,
};
use berth_types::units::{parse_cpu, parse_memory};
use std::collections::BTreeSet;

/// Most containers one task definition may hold.
pub(crate) const MAX_CONTAINERS: usize = 10;

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Finds the task definition a reference names: `family` (latest ACTIVE revision),
/// `family:revision` or an ARN (any status).
pub fn resolve<'s>(state: &'s State, reference: &str) -> Result<&'s TaskDefinition, ControlError> {
    let not_found = || {
        ControlError::client(format!(
            "unable to describe task definition {reference}: register it first, or name an existing family, family:revision or ARN"
        ))
    };
    let r = arn::task_definition_ref(reference).ok_or_else(not_found)?;
    match r.revision {
        Some(rev) => state
            .task_definitions
            .get(&(r.family, rev))
            .ok_or_else(not_found),
        None => state
            .task_definitions
            .range((r.family.clone(), 0)..=(r.family.clone(), i32::MAX))
            .rev()
            .map(|(_, td)| td)
            .find(|td| td.status == Some(TaskDefinitionStatus::Active))
            .ok_or_else(not_found),
    }
}

/// Checks one container definition and fills in the defaults ECS shows on Describe.
fn normalise_container(
    c: &ContainerDefinition,
    network_mode: Option<NetworkMode>,
    task_memory: bool,
) -> Result<ContainerDefinition, ControlError> {
    let name = c.name.as_deref().unwrap_or_default();
    if !valid_name(name) {
        return Err(ControlError::client(format!(
            "container name {name:?} is not valid: use 1 to 255 letters, numbers, hyphens and underscores"
        )));
    }
    if c.image.as_deref().is_none_or(|i| i.trim().is_empty()) {
        return Err(ControlError::client(format!(
            "container {name}: image should not be null or empty"
        )));
    }
    if !task_memory && c.memory.is_none() && c.memory_reservation.is_none() {
        return Err(ControlError::client(format!(
            "invalid setting for container '{name}': at least one of 'memory' or 'memoryReservation' must be specified (or set the task-level memory)"
        )));
    }
    if let (Some(hard), Some(soft)) = (c.memory, c.memory_reservation)
        && hard < soft
    {
        return Err(ControlError::client(format!(
            "invalid setting for container '{name}': memory ({hard}) must be greater than or equal to memoryReservation ({soft})"
        )));
    }
    if c.memory.is_some_and(|m| m < 6) {
        return Err(ControlError::client(format!(
            "invalid setting for container '{name}': memory must be at least 6 MiB"
        )));
    }
    if c.cpu.is_some_and(|cpu| cpu < 0) {
        return Err(ControlError::client(format!(
            "invalid setting for container '{name}': cpu must not be negative"
        )));
    }
    let mut out = c.clone();
    out.essential = Some(c.essential.unwrap_or(true));
    out.cpu = Some(c.cpu.unwrap_or(0));
    let mut mappings = c.port_mappings.clone().unwrap_or_default();
    for pm in &mut mappings {
        let container_port = pm.container_port.unwrap_or_default();
        if !(1..=65535).contains(&container_port) && pm.container_port_range.is_none() {
            return Err(ControlError::client(format!(
                "invalid setting for container '{name}': containerPort {container_port} must be between 1 and 65535"
            )));
        }
        if let Some(host_port) = pm.host_port
            && !(0..=65535).contains(&host_port)
        {
            return Err(ControlError::client(format!(
                "invalid setting for container '{name}': hostPort {host_port} must be between 0 and 65535"
            )));
        }
        if matches!(network_mode, Some(NetworkMode::Host | NetworkMode::Awsvpc)) {
            match pm.host_port {
                Some(h) if h != container_port => {
                    return Err(ControlError::client(format!(
                        "invalid setting for container '{name}': when networkMode is host or awsvpc, hostPort ({h}) must be empty or equal to containerPort ({container_port})"
                    )));
                }
                _ => pm.host_port = Some(container_port),
            }
        }
        pm.protocol = Some(pm.protocol.unwrap_or(TransportProtocol::Tcp));
    }
    out.port_mappings = Some(mappings);
    out.environment = Some(c.environment.clone().unwrap_or_default());
    out.mount_points = Some(c.mount_points.clone().unwrap_or_default());
    out.volumes_from = Some(c.volumes_from.clone().unwrap_or_default());
    out.system_controls = Some(c.system_controls.clone().unwrap_or_default());
    if let Some(hc) = &c.health_check {
        let checks = [
            ("interval", hc.interval, 5, 300),
            ("timeout", hc.timeout, 2, 60),
            ("retries", hc.retries, 1, 10),
            ("startPeriod", hc.start_period, 0, 300),
        ];
        for (field, value, lo, hi) in checks {
            if let Some(v) = value
                && !(lo..=hi).contains(&v)
            {
                return Err(ControlError::client(format!(
                    "invalid setting for container '{name}': healthCheck.{field} is {v}, but must be between {lo} and {hi}"
                )));
            }
        }
        if hc.command.is_empty() {
            return Err(ControlError::client(format!(
                "invalid setting for container '{name}': healthCheck.command must not be empty"
            )));
        }
    }
    Ok(out)
}

/// Checks a whole registration and builds the stored definition.
fn build(
    req: &RegisterTaskDefinitionRequest,
    ctx: &Ctx,
    revision: i32,
) -> Result<TaskDefinition, ControlError> {
    if !valid_name(&req.family) {
        return Err(ControlError::client(format!(
            "family {:?} is not valid: use 1 to 255 letters, numbers, hyphens and underscores",
            req.family
        )));
    }
    let n = req.container_definitions.len();
    if n == 0 || n > MAX_CONTAINERS {
        return Err(ControlError::client(format!(
            "containerDefinitions has {n} entries, but a task definition holds 1 to {MAX_CONTAINERS} containers"
        )));
    }
    let cpu = match req.cpu.as_deref() {
        None => None,
        Some(s) => Some(parse_cpu(s).filter(|c| (128..=196_608).contains(c)).ok_or_else(|| {
            ControlError::client(format!(
                "task cpu {s:?} is not valid: give CPU units between 128 and 196608 (\"1024\") or vCPUs (\"1 vCPU\")"
            ))
        })?),
    };
    let memory = match req.memory.as_deref() {
        None => None,
        Some(s) => Some(parse_memory(s).filter(|m| *m >= 6).ok_or_else(|| {
            ControlError::client(format!(
                "task memory {s:?} is not valid: give MiB (\"2048\") or GB (\"2 GB\"), at least 6 MiB"
            ))
        })?),
    };
    let mut names = BTreeSet::new();
    let mut containers = Vec::with_capacity(n);
    for c in &req.container_definitions {
        let c = normalise_container(c, req.network_mode, memory.is_some())?;
        let name = c.name.clone().unwrap_or_default();
        if !names.insert(name.clone()) {
            return Err(ControlError::client(format!(
                "container name {name} is used twice: container names must be unique within a task definition"
            )));
        }
        containers.push(c);
    }
    if !containers.iter().any(|c| c.essential == Some(true)) {
        return Err(ControlError::client(
            "a task definition must have at least one essential container: set essential to true on one",
        ));
    }
    for c in &containers {
        for dep in c.depends_on.as_deref().unwrap_or_default() {
            let name = c.name.as_deref().unwrap_or_default();
            if !names.contains(&dep.container_name) || dep.container_name == name {
                return Err(ControlError::client(format!(
                    "container {name} depends on {:?}, which is not another container of this task definition",
                    dep.container_name
                )));
            }
            let target_essential = containers.iter().any(|t| {
                t.name.as_deref() == Some(&dep.container_name) && t.essential == Some(true)
            });
            if target_essential
                && matches!(
                    dep.condition,
                    ContainerCondition::Complete | ContainerCondition::Success
                )
            {
                return Err(ControlError::client(format!(
                    "container {name} waits for essential container {} to {}: COMPLETE and SUCCESS are only allowed on non-essential containers",
                    dep.container_name, dep.condition
                )));
            }
        }
    }
    let (task_cpu, task_memory) = (cpu.map(i64::from), memory.map(i64::from));
    crate::task_definition_rules::check(req, task_cpu, task_memory, &containers)?;
    let mut compatibilities = vec![Compatibility::Ec2, Compatibility::External];
    if req
        .requires_compatibilities
        .as_ref()
        .is_some_and(|r| r.contains(&Compatibility::Fargate))
    {
        compatibilities.push(Compatibility::Fargate);
    }
    Ok(TaskDefinition {
        task_definition_arn: Some(ctx.partition.task_definition(&req.family, revision)),
        container_definitions: Some(containers),
        family: Some(req.family.clone()),
        task_role_arn: req.task_role_arn.clone(),
        execution_role_arn: req.execution_role_arn.clone(),
        network_mode: req.network_mode,
        revision: Some(revision),
        volumes: Some(req.volumes.clone().unwrap_or_default()),
        status: Some(TaskDefinitionStatus::Active),
        requires_attributes: Some(required_attributes(req)),
        placement_constraints: Some(req.placement_constraints.clone().unwrap_or_default()),
        compatibilities: Some(compatibilities),
        runtime_platform: req.runtime_platform.clone(),
        requires_compatibilities: req.requires_compatibilities.clone(),
        cpu: cpu.map(|c| c.to_string()),
        memory: memory.map(|m| m.to_string()),
        pid_mode: req.pid_mode,
        ipc_mode: req.ipc_mode,
        proxy_configuration: req.proxy_configuration.clone(),
        registered_at: Some(ctx.now),
        registered_by: Some(format!("arn:aws:iam::{}:root", ctx.partition.account)),
        ephemeral_storage: req.ephemeral_storage.clone(),
        enable_fault_injection: req.enable_fault_injection,
        inference_accelerators: req.inference_accelerators.clone(),
        ..TaskDefinition::default()
    })
}

/// The host capabilities the definition needs, as ECS lists them in `requiresAttributes` and
/// places by them: `ecs.capability.efs` for a shared file system volume, and
/// `ecs.capability.efsAuth` when one names an access point or IAM authorization.
fn required_attributes(req: &RegisterTaskDefinitionRequest) -> Vec<Attribute> {
    let efs: Vec<_> = req
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| v.efs_volume_configuration.as_ref())
        .collect();
    let mut names = vec![];
    if !efs.is_empty() {
        names.push("ecs.capability.efs");
    }
    if efs.iter().any(|c| c.authorization_config.is_some()) {
        names.push("ecs.capability.efsAuth");
    }
    names
        .into_iter()
        .map(|name| Attribute {
            name: name.to_string(),
            ..Attribute::default()
        })
        .collect()
}

impl ControlPlane {
    /// RegisterTaskDefinition: a new revision of the family.
    pub fn register_task_definition(
        &self,
        req: RegisterTaskDefinitionRequest,
    ) -> Result<RegisterTaskDefinitionResponse, ControlError> {
        self.mutate(|state, ctx| {
            let revision = state.families.get(&req.family).copied().unwrap_or(0) + 1;
            let td = build(&req, ctx, revision)?;
            let arn = td.task_definition_arn.clone().unwrap_or_default();
            let tags = req.tags.clone().unwrap_or_default();
            let answer = RegisterTaskDefinitionResponse {
                task_definition: Some(td.clone()),
                tags: Some(tags.clone()),
            };
            let mut changes = vec![
                Change::FamilyRevision(req.family.clone(), revision),
                Change::TaskDefinition(td),
            ];
            if !tags.is_empty() {
                changes.push(Change::Tags(arn, tags));
            }
            Ok((changes, answer))
        })
    }

    /// DescribeTaskDefinition.
    pub fn describe_task_definition(
        &self,
        req: DescribeTaskDefinitionRequest,
    ) -> Result<DescribeTaskDefinitionResponse, ControlError> {
        let state = self.read();
        let td = resolve(&state, &req.task_definition)?;
        let tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskDefinitionField::Tags))
            .then(|| {
                td.task_definition_arn
                    .as_ref()
                    .and_then(|a| state.tags.get(a).cloned())
                    .unwrap_or_default()
            });
        Ok(DescribeTaskDefinitionResponse {
            task_definition: Some(td.clone()),
            tags,
        })
    }

    /// ListTaskDefinitions: by family then revision, ACTIVE unless asked otherwise.
    pub fn list_task_definitions(
        &self,
        req: ListTaskDefinitionsRequest,
    ) -> Result<ListTaskDefinitionsResponse, ControlError> {
        let status = req.status.unwrap_or(TaskDefinitionStatus::Active);
        let prefix = req.family_prefix.as_deref().unwrap_or_default();
        let mut arns: Vec<String> = self
            .read()
            .task_definitions
            .iter()
            .filter(|((family, _), td)| family.starts_with(prefix) && td.status == Some(status))
            .filter_map(|(_, td)| td.task_definition_arn.clone())
            .collect();
        if req.sort == Some(SortOrder::Desc) {
            arns.reverse();
        }
        let (page, next) = paginate::ecs_page(arns, req.max_results, req.next_token.as_deref())?;
        Ok(ListTaskDefinitionsResponse {
            task_definition_arns: Some(page),
            next_token: next,
        })
    }

    /// ListTaskDefinitionFamilies: a family is ACTIVE while any revision is.
    pub fn list_task_definition_families(
        &self,
        req: ListTaskDefinitionFamiliesRequest,
    ) -> Result<ListTaskDefinitionFamiliesResponse, ControlError> {
        let state = self.read();
        let prefix = req.family_prefix.as_deref().unwrap_or_default();
        let status = req.status.unwrap_or(TaskDefinitionFamilyStatus::Active);
        let families: Vec<String> = state
            .families
            .keys()
            .filter(|f| f.starts_with(prefix))
            .filter(|f| {
                let active = state
                    .task_definitions
                    .range(((*f).clone(), 0)..=((*f).clone(), i32::MAX))
                    .any(|(_, td)| td.status == Some(TaskDefinitionStatus::Active));
                match status {
                    TaskDefinitionFamilyStatus::Active => active,
                    TaskDefinitionFamilyStatus::Inactive => !active,
                    TaskDefinitionFamilyStatus::All => true,
                }
            })
            .cloned()
            .collect();
        let (page, next) =
            paginate::ecs_page(families, req.max_results, req.next_token.as_deref())?;
        Ok(ListTaskDefinitionFamiliesResponse {
            families: Some(page),
            next_token: next,
        })
    }

    /// DeregisterTaskDefinition: the revision becomes INACTIVE; running tasks are untouched.
    pub fn deregister_task_definition(
        &self,
        req: DeregisterTaskDefinitionRequest,
    ) -> Result<DeregisterTaskDefinitionResponse, ControlError> {
        let has_revision =
            arn::task_definition_ref(&req.task_definition).is_some_and(|r| r.revision.is_some());
        if !has_revision {
            return Err(ControlError::client(format!(
                "task definition {:?} names no revision: deregister family:revision or the full ARN",
                req.task_definition
            )));
        }
        self.mutate(|state, ctx| {
            let mut td = resolve(state, &req.task_definition)?.clone();
            if td.status == Some(TaskDefinitionStatus::Active) {
                td.status = Some(TaskDefinitionStatus::Inactive);
                td.deregistered_at = Some(ctx.now);
            }
            let answer = DeregisterTaskDefinitionResponse {
                task_definition: Some(td.clone()),
            };
            Ok((vec![Change::TaskDefinition(td)], answer))
        })
    }

    /// DeleteTaskDefinitions: INACTIVE revisions move to DELETE_IN_PROGRESS; others are failures.
    pub fn delete_task_definitions(
        &self,
        req: DeleteTaskDefinitionsRequest,
    ) -> Result<DeleteTaskDefinitionsResponse, ControlError> {
        if req.task_definitions.is_empty() || req.task_definitions.len() > 10 {
            return Err(ControlError::invalid(format!(
                "taskDefinitions has {} entries, but DeleteTaskDefinitions takes 1 to 10",
                req.task_definitions.len()
            )));
        }
        self.mutate(|state, ctx| {
            let mut changes = vec![];
            let mut deleted = vec![];
            let mut failures = vec![];
            for reference in &req.task_definitions {
                let has_revision =
                    arn::task_definition_ref(reference).is_some_and(|r| r.revision.is_some());
                let found = resolve(state, reference).ok().filter(|_| has_revision);
                match found {
                    None => failures.push(Failure {
                        arn: Some(reference.clone()),
                        reason: Some("TASK_DEFINITION_NOT_FOUND".into()),
                        detail: Some("name family:revision or the ARN of a registered task definition".into()),
                    }),
                    Some(td) if td.status == Some(TaskDefinitionStatus::Active) => {
                        failures.push(Failure {
                            arn: td.task_definition_arn.clone(),
                            reason: Some("The specified task definition is still in ACTIVE status. Please deregister the target and try again.".into()),
                            detail: None,
                        })
                    }
                    Some(td) => {
                        let mut td = td.clone();
                        if td.status != Some(TaskDefinitionStatus::DeleteInProgress) {
                            td.status = Some(TaskDefinitionStatus::DeleteInProgress);
                            td.delete_requested_at = Some(ctx.now);
                        }
                        deleted.push(td.clone());
                        changes.push(Change::TaskDefinition(td));
                    }
                }
            }
            Ok((
                changes,
                DeleteTaskDefinitionsResponse {
                    task_definitions: Some(deleted),
                    failures: Some(failures),
                },
            ))
        })
    }
}
