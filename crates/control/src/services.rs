//! Services: CreateService, UpdateService, DeleteService, DescribeServices and ListServices.
//! These calls record what the user wants (task definition, count, deployment settings) and
//! open deployments; the [`crate::service_controller`] moves the tasks towards it.

use crate::error::ControlError;
use crate::network::enis::NetworkPlan;
use crate::status::{DeploymentStatus, ServiceStatus};
use crate::{
    Change, ControlPlane, Ctx, State, clusters, lookup, paginate, placement, service_history, tags,
    tasks,
};
use berth_types::arn;
use berth_types::arn::Partition;
use berth_types::ecs::{
    CreateServiceRequest, CreateServiceResponse, DeleteServiceRequest, DeleteServiceResponse,
    Deployment, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentController,
    DeploymentControllerType, DeploymentRolloutState, DescribeServicesRequest,
    DescribeServicesResponse, LaunchType, ListServicesRequest, ListServicesResponse, PropagateTags,
    SchedulingStrategy, Service, ServiceEvent, ServiceField, UpdateServiceRequest,
    UpdateServiceResponse,
};

/// Most services one DescribeServices call takes.
pub(crate) const MAX_DESCRIBE: usize = 10;
/// Most events a service keeps, newest first.
pub(crate) const MAX_EVENTS: usize = 100;

/// The task group of a service's tasks.
pub(crate) fn group(service: &Service) -> String {
    format!(
        "service:{}",
        service.service_name.as_deref().unwrap_or_default()
    )
}

/// A deployment id as ECS writes them: `ecs-svc/` and 19 digits.
fn deployment_id() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 10u128.pow(19);
    format!("ecs-svc/{n:019}")
}

/// Adds an event, newest first, keeping at most [`MAX_EVENTS`].
pub(crate) fn push_event(service: &mut Service, now: f64, message: String) {
    let events = service.events.get_or_insert_with(Vec::new);
    events.insert(
        0,
        ServiceEvent {
            id: Some(uuid::Uuid::new_v4().to_string()),
            created_at: Some(now),
            message: Some(message),
        },
    );
    events.truncate(MAX_EVENTS);
}

/// `(service name)`, the way ECS opens every event message.
pub(crate) fn subject(service: &Service) -> String {
    format!(
        "(service {})",
        service.service_name.as_deref().unwrap_or_default()
    )
}

/// A new PRIMARY deployment of `task_definition`.
pub(crate) fn new_deployment(ctx: &Ctx, task_definition: &str, desired: i32) -> Deployment {
    let id = deployment_id();
    Deployment {
        rollout_state_reason: Some(format!("ECS deployment {id} in progress.")),
        id: Some(id),
        status: DeploymentStatus::Primary.into(),
        task_definition: Some(task_definition.to_string()),
        desired_count: Some(desired),
        pending_count: Some(0),
        running_count: Some(0),
        failed_tasks: Some(0),
        created_at: Some(ctx.now),
        updated_at: Some(ctx.now),
        launch_type: Some(LaunchType::Ec2),
        rollout_state: Some(DeploymentRolloutState::InProgress),
        ..Deployment::default()
    }
}

/// The ACTIVE service a call names.
fn active<'s>(
    state: &'s State,
    partition: &Partition,
    cluster: &str,
    reference: &str,
) -> Result<&'s Service, ControlError> {
    let service = lookup::service(state, partition, cluster, reference)
        .filter(|s| !ServiceStatus::Inactive.is(&s.status))
        .ok_or_else(|| lookup::service_not_found(reference, cluster))?;
    if !ServiceStatus::Active.is(&service.status) {
        return Err(ControlError::ServiceNotActive(reference.to_string()));
    }
    Ok(service)
}

/// The deployment configuration with ECS's defaults filled in, checked.
fn deployment_configuration(
    given: Option<&DeploymentConfiguration>,
    daemon: bool,
) -> Result<DeploymentConfiguration, ControlError> {
    let mut c = given.cloned().unwrap_or_default();
    let max = *c
        .maximum_percent
        .get_or_insert(if daemon { 100 } else { 200 });
    let min = *c
        .minimum_healthy_percent
        .get_or_insert(if daemon { 0 } else { 100 });
    if !(0..=100).contains(&min) {
        return Err(ControlError::invalid(format!(
            "minimumHealthyPercent is {min}: use 0 to 100"
        )));
    }
    if max < 100 || max < min {
        return Err(ControlError::invalid(format!(
            "maximumPercent is {max}: it must be at least 100 and at least minimumHealthyPercent ({min})"
        )));
    }
    if let Some(t) = c
        .deployment_circuit_breaker
        .as_ref()
        .and_then(|b| b.threshold_configuration.as_ref())
        && t.value < 1
    {
        return Err(ControlError::invalid(format!(
            "deploymentCircuitBreaker thresholdConfiguration value is {}: use 1 or more",
            t.value
        )));
    }
    c.deployment_circuit_breaker
        .get_or_insert(DeploymentCircuitBreaker {
            enable: false,
            rollback: false,
            ..DeploymentCircuitBreaker::default()
        });
    Ok(c)
}

fn check_name(name: &str) -> Result<(), ControlError> {
    let ok = (1..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "serviceName {name:?} is not valid: use 1 to 255 letters, numbers, hyphens and underscores"
        )))
    }
}

fn check_count(count: i32) -> Result<(), ControlError> {
    if count < 0 {
        return Err(ControlError::invalid(format!(
            "desiredCount is {count}: use 0 or more"
        )));
    }
    Ok(())
}

/// The service as Describe shows it.
fn present(service: &Service, with_tags: bool) -> Service {
    let mut s = service.clone();
    if !with_tags {
        s.tags = None;
    }
    s
}

impl ControlPlane {
    /// CreateService: an ACTIVE service with one PRIMARY deployment and no tasks yet.
    pub fn create_service(
        &self,
        req: CreateServiceRequest,
    ) -> Result<CreateServiceResponse, ControlError> {
        check_name(&req.service_name)?;
        tags::check_user_tags(req.tags.as_deref().unwrap_or_default())?;
        let daemon = req.scheduling_strategy == Some(SchedulingStrategy::Daemon);
        let desired = match (daemon, req.desired_count) {
            (true, Some(_)) => {
                return Err(ControlError::invalid(
                    "a DAEMON service runs one task on each instance: leave desiredCount out",
                ));
            }
            (true, None) => 0,
            (false, count) => count.unwrap_or(0),
        };
        check_count(desired)?;
        if let Some(c) = &req.deployment_controller
            && c.r#type != DeploymentControllerType::Ecs
        {
            return Err(ControlError::Unsupported(format!(
                "deploymentController {} is not supported: use ECS (rolling updates)",
                c.r#type.as_str()
            )));
        }
        let configuration =
            deployment_configuration(req.deployment_configuration.as_ref(), daemon)?;
        self.mutate(|state, ctx| {
            let (cluster, created) = clusters::resolve(state, ctx, req.cluster.as_deref())?;
            let reference = req.task_definition.as_deref().ok_or_else(|| {
                ControlError::invalid("taskDefinition is required: name a family, family:revision or ARN")
            })?;
            let td = tasks::runnable(state, reference)?;
            let td_arn = td.task_definition_arn.clone().unwrap_or_default();
            let service_arn = ctx.partition.service(&cluster, &req.service_name);
            if state
                .services
                .get(&service_arn)
                .is_some_and(|s| !ServiceStatus::Inactive.is(&s.status))
            {
                return Err(ControlError::invalid(format!(
                    "Creation of service was not idempotent: service {} already exists in cluster {cluster}; update it with UpdateService, or choose another name",
                    req.service_name
                )));
            }
            NetworkPlan::check(
                &state.network,
                td,
                req.network_configuration.as_ref(),
                req.launch_type,
            )?;
            // Checks the constraints and strategies as RunTask would.
            placement::request(
                td,
                None,
                &format!("service:{}", req.service_name),
                req.placement_constraints.as_deref(),
                req.placement_strategy.as_deref(),
            )?;
            let mut service = Service {
                service_arn: Some(service_arn),
                service_name: Some(req.service_name.clone()),
                cluster_arn: Some(ctx.partition.cluster(&cluster)),
                load_balancers: Some(vec![]),
                service_registries: Some(vec![]),
                status: ServiceStatus::Active.into(),
                desired_count: Some(desired),
                running_count: Some(0),
                pending_count: Some(0),
                launch_type: Some(req.launch_type.unwrap_or(LaunchType::Ec2)),
                task_definition: Some(td_arn.clone()),
                deployment_configuration: Some(configuration),
                deployments: Some(vec![new_deployment(ctx, &td_arn, desired)]),
                events: Some(vec![]),
                created_at: Some(ctx.now),
                placement_constraints: Some(req.placement_constraints.clone().unwrap_or_default()),
                placement_strategy: Some(req.placement_strategy.clone().unwrap_or_default()),
                network_configuration: req.network_configuration.clone(),
                health_check_grace_period_seconds: req.health_check_grace_period_seconds,
                scheduling_strategy: Some(if daemon {
                    SchedulingStrategy::Daemon
                } else {
                    SchedulingStrategy::Replica
                }),
                deployment_controller: Some(DeploymentController {
                    r#type: DeploymentControllerType::Ecs,
                }),
                tags: req.tags.clone(),
                enable_ecs_managed_tags: Some(req.enable_ecs_managed_tags.unwrap_or(false)),
                propagate_tags: Some(req.propagate_tags.unwrap_or(PropagateTags::None)),
                enable_execute_command: Some(req.enable_execute_command.unwrap_or(false)),
                ..Service::default()
            };
            let mut changes: Vec<Change> = created.into_iter().collect();
            changes.extend(service_history::sync(state, ctx.partition, &mut service, &[], ctx.now));
            changes.push(Change::Service(service.clone()));
            Ok((
                changes,
                CreateServiceResponse {
                    service: Some(present(&service, true)),
                },
            ))
        })
    }

    /// UpdateService: a new count applies to the current deployment; a new task definition,
    /// new placement or `forceNewDeployment` opens a new PRIMARY deployment and the others
    /// drain.
    pub fn update_service(
        &self,
        req: UpdateServiceRequest,
    ) -> Result<UpdateServiceResponse, ControlError> {
        if let Some(count) = req.desired_count {
            check_count(count)?;
        }
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let mut service = active(state, ctx.partition, &name, &req.service)?.clone();
            let daemon = service.scheduling_strategy == Some(SchedulingStrategy::Daemon);
            if daemon && req.desired_count.is_some() {
                return Err(ControlError::invalid(
                    "a DAEMON service runs one task on each instance: leave desiredCount out",
                ));
            }
            if let Some(count) = req.desired_count {
                service.desired_count = Some(count);
                if let Some(primary) = service.deployments.iter_mut().flatten().next() {
                    primary.desired_count = Some(count);
                    primary.updated_at = Some(ctx.now);
                }
            }
            if let Some(c) = &req.deployment_configuration {
                service.deployment_configuration = Some(deployment_configuration(Some(c), daemon)?);
            }
            if let Some(g) = req.health_check_grace_period_seconds {
                service.health_check_grace_period_seconds = Some(g);
            }
            // Tasks started from now on carry the new tags; ECS leaves running ones as they
            // are unless a new deployment is forced.
            if let Some(p) = req.propagate_tags {
                service.propagate_tags = Some(p);
            }
            if let Some(m) = req.enable_ecs_managed_tags {
                service.enable_ecs_managed_tags = Some(m);
            }
            let current = service.task_definition.clone().unwrap_or_default();
            let td_arn = match &req.task_definition {
                Some(reference) => tasks::runnable(state, reference)?
                    .task_definition_arn
                    .clone()
                    .unwrap_or_default(),
                None => current.clone(),
            };
            let mut redeploy = td_arn != current || req.force_new_deployment == Some(true);
            if let Some(c) = &req.placement_constraints {
                redeploy |= Some(c) != service.placement_constraints.as_ref();
                service.placement_constraints = Some(c.clone());
            }
            if let Some(s) = &req.placement_strategy {
                redeploy |= Some(s) != service.placement_strategy.as_ref();
                service.placement_strategy = Some(s.clone());
            }
            if let Some(n) = &req.network_configuration {
                redeploy |= Some(n) != service.network_configuration.as_ref();
                service.network_configuration = Some(n.clone());
            }
            let td = tasks::runnable(state, &td_arn)?;
            NetworkPlan::check(
                &state.network,
                td,
                service.network_configuration.as_ref(),
                service.launch_type,
            )?;
            placement::request(
                td,
                None,
                &group(&service),
                service.placement_constraints.as_deref(),
                service.placement_strategy.as_deref(),
            )?;
            if redeploy {
                open_deployment(&mut service, ctx, &td_arn);
            }
            let mut changes =
                service_history::sync(state, ctx.partition, &mut service, &[], ctx.now);
            changes.push(Change::Service(service.clone()));
            Ok((
                changes,
                UpdateServiceResponse {
                    service: Some(present(&service, true)),
                },
            ))
        })
    }

    /// DeleteService: DRAINING until its tasks are stopped, then INACTIVE. Refused while the
    /// service is scaled above zero, unless forced.
    pub fn delete_service(
        &self,
        req: DeleteServiceRequest,
    ) -> Result<DeleteServiceResponse, ControlError> {
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let mut service = lookup::service(state, ctx.partition, &name, &req.service)
                .filter(|s| !ServiceStatus::Inactive.is(&s.status))
                .ok_or_else(|| lookup::service_not_found(&req.service, &name))?
                .clone();
            let daemon = service.scheduling_strategy == Some(SchedulingStrategy::Daemon);
            if ServiceStatus::Active.is(&service.status)
                && !daemon
                && service.desired_count.unwrap_or_default() > 0
                && req.force != Some(true)
            {
                return Err(ControlError::invalid(format!(
                    "The service cannot be stopped while it is scaled above 0: set desiredCount of {} to 0 with UpdateService, or delete with force",
                    req.service
                )));
            }
            service.status = ServiceStatus::Draining.into();
            service.desired_count = Some(0);
            for d in service.deployments.iter_mut().flatten() {
                d.desired_count = Some(0);
                d.updated_at = Some(ctx.now);
            }
            Ok((
                vec![Change::Service(service.clone())],
                DeleteServiceResponse {
                    service: Some(present(&service, true)),
                },
            ))
        })
    }

    /// DescribeServices: unknown services come back in `failures[]` as MISSING.
    pub fn describe_services(
        &self,
        req: DescribeServicesRequest,
    ) -> Result<DescribeServicesResponse, ControlError> {
        if req.services.is_empty() || req.services.len() > MAX_DESCRIBE {
            return Err(ControlError::invalid(format!(
                "services has {} entries, but DescribeServices takes 1 to {MAX_DESCRIBE}",
                req.services.len()
            )));
        }
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&ServiceField::Tags));
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let mut services = vec![];
        let mut failures = vec![];
        for reference in &req.services {
            match lookup::service(&state, self.partition(), &name, reference) {
                Some(s) => services.push(present(s, with_tags)),
                None => failures.push(crate::missing(reference)),
            }
        }
        Ok(DescribeServicesResponse {
            services: Some(services),
            failures: Some(failures),
        })
    }

    /// ListServices: the cluster's ACTIVE and DRAINING services.
    pub fn list_services(
        &self,
        req: ListServicesRequest,
    ) -> Result<ListServicesResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let arns: Vec<String> = state
            .services
            .values()
            .filter(|s| s.cluster_arn.as_deref().map(arn::cluster_name) == Some(name.as_str()))
            .filter(|s| !ServiceStatus::Inactive.is(&s.status))
            .filter(|s| req.launch_type.is_none() || s.launch_type == req.launch_type)
            .filter(|s| {
                req.scheduling_strategy.is_none()
                    || s.scheduling_strategy == req.scheduling_strategy
            })
            .filter_map(|s| s.service_arn.clone())
            .collect();
        let (page, next) = paginate::page(
            arns,
            req.max_results,
            req.next_token.as_deref(),
            paginate::ecs(10),
        )?;
        Ok(ListServicesResponse {
            service_arns: Some(page),
            next_token: next,
        })
    }
}

/// Opens a PRIMARY deployment of `td_arn`; the previous ones become ACTIVE and drain.
pub(crate) fn open_deployment(service: &mut Service, ctx: &Ctx, td_arn: &str) {
    let desired = service.desired_count.unwrap_or_default();
    let deployments = service.deployments.get_or_insert_with(Vec::new);
    for d in deployments.iter_mut() {
        d.status = DeploymentStatus::Active.into();
        d.updated_at = Some(ctx.now);
    }
    deployments.insert(0, new_deployment(ctx, td_arn, desired));
    service.task_definition = Some(td_arn.to_string());
}
