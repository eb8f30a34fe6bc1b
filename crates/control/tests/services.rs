//! Services on the in-memory store, with the test playing the agents: replicas kept running,
//! rolling deployments within their bounds, the circuit breaker with rollback, DAEMON services
//! following their instances, and deletion.

use berth_control::ControlPlane;
use berth_test_kit::assert_mentioned;
use berth_test_kit::control::*;
use berth_types::ecs::*;
use std::sync::Arc;

fn service(cp: &ControlPlane, name: &str) -> Service {
    let mut request = DescribeServicesRequest::default();
    request.services.push(name.into());
    let described = cp.describe_services(request).expect("describes");
    described
        .services
        .into_iter()
        .flatten()
        .next()
        .expect("found")
}

/// A control plane with `count` instances of that CPU and memory, and the task definition
/// `web` of 64 MiB; returns it, its clock and the instances' ARNs.
fn with_instances(
    count: usize,
    cpu: i32,
    memory: i32,
) -> (ControlPlane, Arc<HandClock>, Vec<String>) {
    let (cp, clock) = plane();
    let instances = (0..count).map(|_| instance(&cp, cpu, memory)).collect();
    definition(&cp, 64, None);
    (cp, clock, instances)
}

/// The service's event messages, newest first.
fn event_messages(s: &Service) -> Vec<String> {
    s.events
        .iter()
        .flatten()
        .filter_map(|e| e.message.clone())
        .collect()
}

/// A circuit breaker that fails a deployment after `failures` failed tasks and rolls back.
fn rolling_back_after(failures: i32) -> DeploymentConfiguration {
    DeploymentConfiguration {
        deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
            enable: true,
            rollback: true,
            threshold_configuration: Some(ThresholdConfiguration {
                r#type: ThresholdType::Count,
                value: failures,
            }),
            ..DeploymentCircuitBreaker::default()
        }),
        ..DeploymentConfiguration::default()
    }
}

/// Controller passes and agent rounds until the service is stable (one deployment, running ==
/// desired); `check` sees the service after every pass.
fn settle(
    cp: &ControlPlane,
    clock: &HandClock,
    name: &str,
    fail: impl Fn(&Task) -> bool,
    check: impl Fn(&ControlPlane),
) -> Service {
    for _ in 0..100 {
        cp.reconcile_services();
        check(cp);
        play_agents(cp, &fail);
        // Time passes between rounds, so RUNNING tasks become stable.
        clock.advance(2);
        let s = service(cp, name);
        let d = s.deployments.clone().unwrap_or_default();
        let group = format!("service:{name}");
        let wanted = live(cp)
            .iter()
            .filter(|t| t.group.as_deref() == Some(group.as_str()))
            .map(|t| t.desired_status.as_deref() == Some("RUNNING"))
            .collect::<Vec<_>>();
        if d.len() == 1
            && d[0].rollout_state == Some(DeploymentRolloutState::Completed)
            && s.running_count == s.desired_count
            && s.pending_count == Some(0)
            && wanted.iter().all(|w| *w)
            && Some(wanted.len() as i32) == s.desired_count
        {
            cp.reconcile_services();
            return service(cp, name);
        }
    }
    panic!("service {name} never settled: {:?}", service(cp, name));
}

/// A minute later, UpdateService of `web` to the task definition `td`.
fn update_later(cp: &ControlPlane, clock: &HandClock, td: &str) {
    clock.advance(60);
    update_to(cp, td);
}

fn live(cp: &ControlPlane) -> Vec<Task> {
    all_tasks(cp)
        .into_iter()
        .filter(|t| t.last_status.as_deref() != Some("STOPPED"))
        .collect()
}

#[test]
fn a_service_reaches_its_count_and_replaces_a_task_that_stops() {
    let (cp, clock, _) = with_instances(2, 4096, 1000);
    create_service(&cp, "web", 3, None);
    let s = settle(&cp, &clock, "web", |_| false, |_| {});
    assert_eq!((s.running_count, s.pending_count), (Some(3), Some(0)));
    let messages = event_messages(&s);
    assert!(
        messages[0].contains("has reached a steady state"),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("has started 3 tasks")),
        "{messages:?}"
    );
    let tasks = live(&cp);
    assert!(
        tasks
            .iter()
            .all(|t| t.group.as_deref() == Some("service:web"))
    );
    let deployment = s.deployments.as_ref().expect("deployments")[0].id.clone();
    assert!(tasks.iter().all(|t| t.started_by == deployment));

    // A container dies: the task stops, and a replacement restores the count.
    let victim = tasks[0].task_arn.clone().expect("arn");
    report(
        &cp,
        &victim,
        "STOPPED",
        Some("Essential container in task exited"),
    );
    let s = settle(&cp, &clock, "web", |_| false, |_| {});
    assert_eq!(s.running_count, Some(3));
    assert_eq!(live(&cp).len(), 3);
}

#[test]
fn a_rolling_update_keeps_within_min_and_max_percent() {
    let (cp, clock, _) = with_instances(2, 100_000, 100_000);
    let bounds = DeploymentConfiguration {
        minimum_healthy_percent: Some(50),
        maximum_percent: Some(150),
        ..DeploymentConfiguration::default()
    };
    create_service(&cp, "web", 4, Some(bounds));
    settle(&cp, &clock, "web", |_| false, |_| {});
    definition(&cp, 32, None);
    update_later(&cp, &clock, "web:2");
    let s = settle(
        &cp,
        &clock,
        "web",
        |_| false,
        |cp| {
            let live = live(cp);
            let wanted = live
                .iter()
                .filter(|t| t.desired_status.as_deref() == Some("RUNNING"));
            assert!(wanted.count() <= 6, "at most 150% of 4 tasks");
            let healthy = live
                .iter()
                .filter(|t| t.last_status.as_deref() == Some("RUNNING"))
                .filter(|t| t.desired_status.as_deref() == Some("RUNNING"))
                .count();
            assert!(healthy >= 2, "at least 50% of 4 healthy, saw {healthy}");
        },
    );
    let d = s.deployments.expect("deployments");
    assert_eq!(d.len(), 1);
    assert!(
        d[0].task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with("web:2"))
    );
    assert!(
        s.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with("web:2"))
    );
    assert!(live(&cp).iter().all(|t| {
        t.task_definition_arn
            .as_deref()
            .is_some_and(|a| a.ends_with("web:2"))
    }));
    assert_eq!(
        history(&cp, "web"),
        vec![
            (ServiceDeploymentStatus::Successful, "web:2".to_string()),
            (ServiceDeploymentStatus::Successful, "web:1".to_string()),
        ]
    );
    let current = s
        .current_service_deployment
        .clone()
        .expect("current deployment");
    let described = cp
        .describe_service_deployments(DescribeServiceDeploymentsRequest {
            service_deployment_arns: vec![
                current,
                "arn:aws:ecs:us-east-1:000000000000:service-deployment/default/web/0".into(),
            ],
        })
        .expect("describes");
    assert_eq!(described.service_deployments.map(|d| d.len()), Some(1));
    assert_eq!(described.failures.map(|f| f.len()), Some(1));
}

#[test]
fn the_circuit_breaker_fails_a_bad_revision_and_rolls_back() {
    let (cp, clock, _) = with_instances(1, 100_000, 100_000);
    let breaker = rolling_back_after(3);
    create_service(&cp, "web", 2, Some(breaker));
    settle(&cp, &clock, "web", |_| false, |_| {});
    definition(&cp, 32, None);
    update_later(&cp, &clock, "web:2");
    let bad = |t: &Task| {
        t.task_definition_arn
            .as_deref()
            .is_some_and(|a| a.ends_with("web:2"))
    };
    let s = settle(&cp, &clock, "web", bad, |_| {});
    assert!(
        s.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with("web:1")),
        "rolled back"
    );
    let messages = event_messages(&s);
    assert_mentioned(&messages, &["deployment failed", "rolling back"]);
    assert_eq!(live(&cp).len(), 2);
    assert_eq!(
        history(&cp, "web"),
        vec![
            (
                ServiceDeploymentStatus::RollbackSuccessful,
                "web:2".to_string()
            ),
            (ServiceDeploymentStatus::Successful, "web:1".to_string()),
        ]
    );
}

/// The service's deployment records, newest first: status and task definition.
fn history(cp: &ControlPlane, name: &str) -> Vec<(ServiceDeploymentStatus, String)> {
    let briefs = cp
        .list_service_deployments(ListServiceDeploymentsRequest {
            service: name.into(),
            ..ListServiceDeploymentsRequest::default()
        })
        .expect("lists")
        .service_deployments
        .unwrap_or_default();
    briefs
        .iter()
        .map(|b| {
            let revision = cp
                .describe_service_revisions(DescribeServiceRevisionsRequest {
                    service_revision_arns: vec![
                        b.target_service_revision_arn.clone().expect("revision"),
                    ],
                })
                .expect("describes")
                .service_revisions
                .and_then(|r| r.into_iter().next())
                .expect("the revision exists");
            let td = revision.task_definition.unwrap_or_default();
            let short = td.rsplit('/').next().unwrap_or_default().to_string();
            (b.status.expect("status"), short)
        })
        .collect()
}

#[test]
fn a_daemon_service_follows_its_instances() {
    let (cp, clock, instances) = with_instances(2, 4096, 1000);
    let a = instances[0].clone();
    cp.create_service(CreateServiceRequest {
        service_name: "logs".into(),
        task_definition: Some("web".into()),
        scheduling_strategy: Some(SchedulingStrategy::Daemon),
        ..CreateServiceRequest::default()
    })
    .expect("CreateService");
    let s = settle(&cp, &clock, "logs", |_| false, |_| {});
    assert_eq!((s.desired_count, s.running_count), (Some(2), Some(2)));
    instance(&cp, 4096, 1000);
    let s = settle(&cp, &clock, "logs", |_| false, |_| {});
    assert_eq!(s.running_count, Some(3));
    clock.advance(1);
    cp.update_container_instances_state(UpdateContainerInstancesStateRequest {
        container_instances: vec![a.clone()],
        status: ContainerInstanceStatus::Draining,
        ..UpdateContainerInstancesStateRequest::default()
    })
    .expect("drains");
    let s = settle(&cp, &clock, "logs", |_| false, |_| {});
    assert_eq!((s.desired_count, s.running_count), (Some(2), Some(2)));
    assert!(
        live(&cp)
            .iter()
            .all(|t| t.container_instance_arn.as_deref() != Some(a.as_str()))
    );
}

#[test]
fn deleting_a_service_drains_it_to_inactive() {
    let (cp, clock, _) = with_instances(1, 4096, 1000);
    create_service(&cp, "web", 2, None);
    settle(&cp, &clock, "web", |_| false, |_| {});
    let refused = cp
        .delete_service(DeleteServiceRequest {
            service: "web".into(),
            ..DeleteServiceRequest::default()
        })
        .expect_err("refused while scaled above 0");
    assert!(refused.to_string().contains("scaled above 0"), "{refused}");
    let s = cp
        .delete_service(DeleteServiceRequest {
            service: "web".into(),
            force: Some(true),
            ..DeleteServiceRequest::default()
        })
        .expect("forced")
        .service
        .expect("service");
    assert_eq!(s.status.as_deref(), Some("DRAINING"));
    for _ in 0..3 {
        cp.reconcile_services();
        play_agents(&cp, |_| false);
    }
    cp.reconcile_services();
    assert_eq!(service(&cp, "web").status.as_deref(), Some("INACTIVE"));
    assert!(live(&cp).is_empty());
    let listed = cp
        .list_services(ListServicesRequest::default())
        .expect("lists");
    assert_eq!(listed.service_arns.map(|a| a.len()), Some(0));
}

fn per_instance(cp: &ControlPlane) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for t in live(cp) {
        *counts
            .entry(t.container_instance_arn.clone().unwrap_or_default())
            .or_default() += 1;
    }
    counts
}

#[test]
fn scaling_in_keeps_the_spread_balanced() {
    let (cp, clock, _) = with_instances(2, 100_000, 100_000);
    cp.create_service(CreateServiceRequest {
        service_name: "web".into(),
        task_definition: Some("web".into()),
        desired_count: Some(6),
        placement_strategy: Some(vec![PlacementStrategy {
            r#type: Some(PlacementStrategyType::Spread),
            field: Some("instanceId".into()),
        }]),
        ..CreateServiceRequest::default()
    })
    .expect("CreateService");
    settle(&cp, &clock, "web", |_| false, |_| {});
    assert_eq!(
        per_instance(&cp).values().copied().collect::<Vec<_>>(),
        vec![3, 3]
    );
    cp.update_service(UpdateServiceRequest {
        service: "web".into(),
        desired_count: Some(2),
        ..UpdateServiceRequest::default()
    })
    .expect("UpdateService");
    let s = settle(&cp, &clock, "web", |_| false, |_| {});
    assert_eq!(s.running_count, Some(2));
    assert_eq!(
        per_instance(&cp).values().copied().collect::<Vec<_>>(),
        vec![1, 1]
    );
}

#[test]
fn a_draining_instance_has_its_service_tasks_replaced_elsewhere() {
    let (cp, clock, instances) = with_instances(1, 100_000, 100_000);
    let a = instances[0].clone();
    create_service(&cp, "web", 2, None);
    settle(&cp, &clock, "web", |_| false, |_| {});
    let standalone = run(&cp, 1).tasks.expect("tasks")[0]
        .task_arn
        .clone()
        .expect("arn");
    report(&cp, &standalone, "RUNNING", None);
    let b = instance(&cp, 100_000, 100_000);
    cp.update_container_instances_state(UpdateContainerInstancesStateRequest {
        container_instances: vec![a.clone()],
        status: ContainerInstanceStatus::Draining,
        ..UpdateContainerInstancesStateRequest::default()
    })
    .expect("drains");
    // minimumHealthyPercent 100: the replacements run before the drained tasks stop.
    let never_under_100_percent = |cp: &ControlPlane| {
        let running = live(cp)
            .iter()
            .filter(|t| t.group.as_deref() == Some("service:web"))
            .filter(|t| t.last_status.as_deref() == Some("RUNNING"))
            .filter(|t| t.desired_status.as_deref() == Some("RUNNING"))
            .count();
        assert!(running >= 2, "never under 100% healthy, saw {running}");
    };
    let s = settle(&cp, &clock, "web", |_| false, never_under_100_percent);
    assert_eq!(s.running_count, Some(2));
    let services_on: Vec<String> = live(&cp)
        .iter()
        .filter(|t| t.group.as_deref() == Some("service:web"))
        .filter_map(|t| t.container_instance_arn.clone())
        .collect();
    assert_eq!(services_on, vec![b.clone(), b]);
    // The standalone task is left alone, as in ECS.
    assert!(
        live(&cp)
            .iter()
            .any(|t| t.task_arn.as_deref() == Some(standalone.as_str()))
    );
}

#[test]
fn failing_health_checks_trip_the_circuit_breaker() {
    let (cp, clock) = plane();
    let host = instance(&cp, 100_000, 100_000);
    let checked = |command: &str| RegisterTaskDefinitionRequest {
        family: "web".into(),
        container_definitions: vec![ContainerDefinition {
            name: Some("web".into()),
            image: Some("busybox".into()),
            memory: Some(64),
            health_check: Some(HealthCheck {
                command: vec!["CMD-SHELL".into(), command.into()],
                ..HealthCheck::default()
            }),
            ..ContainerDefinition::default()
        }],
        ..RegisterTaskDefinitionRequest::default()
    };
    cp.register_task_definition(checked("true"))
        .expect("registers");
    let breaker = rolling_back_after(2);
    create_service(&cp, "web", 1, Some(breaker));
    // Plays the agents and their health checks: revision 1 passes, revision 2 fails.
    let health = |cp: &ControlPlane| {
        let reports: Vec<berth_types::protocol::ContainerHealth> = live(cp)
            .iter()
            .filter(|t| t.last_status.as_deref() == Some("RUNNING"))
            .map(|t| berth_types::protocol::ContainerHealth {
                task_arn: t.task_arn.clone().expect("arn"),
                container_name: "web".into(),
                health_status: if t
                    .task_definition_arn
                    .as_deref()
                    .is_some_and(|a| a.ends_with("web:2"))
                {
                    HealthStatus::Unhealthy
                } else {
                    HealthStatus::Healthy
                },
            })
            .collect();
        cp.publish_health(&host, &reports).expect("health");
    };
    for _ in 0..5 {
        cp.reconcile_services();
        play_agents(&cp, |_| false);
        health(&cp);
    }
    assert_eq!(service(&cp, "web").running_count, Some(1));
    cp.register_task_definition(checked("false"))
        .expect("registers");
    update_later(&cp, &clock, "web:2");
    for _ in 0..20 {
        cp.reconcile_services();
        play_agents(&cp, |_| false);
        health(&cp);
    }
    let s = service(&cp, "web");
    assert!(
        s.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with("web:1")),
        "rolled back: {s:?}"
    );
    let stopped: Vec<Task> = all_tasks(&cp)
        .into_iter()
        .filter(|t| t.stopped_reason.as_deref() == Some("Task failed container health checks"))
        .collect();
    assert!(
        stopped.len() >= 2,
        "unhealthy tasks were replaced and counted"
    );
    assert_eq!(
        history(&cp, "web")[0].0,
        ServiceDeploymentStatus::RollbackSuccessful
    );
}
