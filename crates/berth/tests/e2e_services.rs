//! Services with real Docker containers under `berth up`, through the official AWS SDK and its
//! waiters: replacement of a killed task, a rolling update within its bounds, and a bad
//! revision failed by the circuit breaker and rolled back.

mod common;

use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentRolloutState,
    DesiredStatus, Service,
};
use common::{Berth, IMAGE, eventually, task_containers, wait_status};
use std::time::Duration;

async fn register(ecs: &aws_sdk_ecs::Client, family: &str, command: &[&str]) -> String {
    ecs.register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(IMAGE)
                .set_command(Some(command.iter().map(|s| s.to_string()).collect()))
                .memory(16)
                .stop_timeout(1)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|td| td.task_definition_arn())
        .expect("an ARN")
        .to_string()
}

async fn service(ecs: &aws_sdk_ecs::Client, cluster: &str, name: &str) -> Service {
    ecs.describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .expect("DescribeServices")
        .services()
        .first()
        .cloned()
        .expect("the service is described")
}

/// The service's tasks still wanted (desiredStatus RUNNING), described.
async fn service_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
) -> Vec<aws_sdk_ecs::types::Task> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(name)
        .desired_status(DesiredStatus::Running)
        .send()
        .await
        .expect("ListTasks")
        .task_arns()
        .to_vec();
    if arns.is_empty() {
        return vec![];
    }
    ecs.describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .to_vec()
}

async fn wait_stable(ecs: &aws_sdk_ecs::Client, cluster: &str, name: &str) {
    ecs.wait_until_services_stable()
        .cluster(cluster)
        .services(name)
        .wait(Duration::from_secs(180))
        .await
        .expect("the services-stable waiter succeeds");
}

async fn delete(ecs: &aws_sdk_ecs::Client, cluster: &str, name: &str) {
    ecs.delete_service()
        .cluster(cluster)
        .service(name)
        .force(true)
        .send()
        .await
        .expect("DeleteService");
    ecs.wait_until_services_inactive()
        .cluster(cluster)
        .services(name)
        .wait(Duration::from_secs(120))
        .await
        .expect("the services-inactive waiter succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_three_replaces_a_killed_container() {
    let berth = Berth::up("svc-three");
    let (ecs, cluster) = (berth.client(), berth.cluster.clone());
    common::wait_instance(&ecs, &cluster).await;
    register(&ecs, "three", &["sleep", "600"]).await;
    let created = ecs
        .create_service()
        .cluster(&cluster)
        .service_name("three")
        .task_definition("three")
        .desired_count(3)
        .send()
        .await
        .expect("CreateService")
        .service
        .expect("service");
    assert_eq!(created.status(), Some("ACTIVE"));
    assert_eq!(created.deployments().len(), 1);
    wait_stable(&ecs, &cluster, "three").await;

    let tasks = service_tasks(&ecs, &cluster, "three").await;
    assert_eq!(tasks.len(), 3);
    let deployment = service(&ecs, &cluster, "three").await.deployments()[0]
        .id()
        .map(str::to_string);
    for t in &tasks {
        assert_eq!(t.group(), Some("service:three"));
        assert_eq!(t.started_by().map(str::to_string), deployment);
        assert_eq!(t.last_status(), Some("RUNNING"));
    }

    let victim = tasks[0].task_arn().expect("arn").to_string();
    for id in task_containers(&victim) {
        std::process::Command::new("docker")
            .args(["kill", &id])
            .output()
            .expect("docker kill");
    }
    let stopped = wait_status(&ecs, &cluster, &victim, "STOPPED").await;
    assert!(
        stopped
            .stopped_reason()
            .is_some_and(|r| r.contains("Essential container in task exited")),
        "{:?}",
        stopped.stopped_reason()
    );
    eventually(
        "a replacement to bring the service back to 3 RUNNING tasks",
        Duration::from_secs(60),
        || async {
            let tasks = service_tasks(&ecs, &cluster, "three").await;
            let running = tasks
                .iter()
                .filter(|t| t.last_status() == Some("RUNNING"))
                .count();
            let s = service(&ecs, &cluster, "three").await;
            (running == 3 && tasks.len() == 3 && s.running_count() == 3).then_some(())
        },
    )
    .await;
    let events: Vec<String> = service(&ecs, &cluster, "three")
        .await
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect();
    assert!(
        events
            .iter()
            .any(|m| m.contains("has reached a steady state")),
        "{events:?}"
    );
    delete(&ecs, &cluster, "three").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_update_keeps_its_bounds_and_completes() {
    let berth = Berth::up("svc-roll");
    let (ecs, cluster) = (berth.client(), berth.cluster.clone());
    common::wait_instance(&ecs, &cluster).await;
    register(&ecs, "roll", &["sleep", "600"]).await;
    ecs.create_service()
        .cluster(&cluster)
        .service_name("roll")
        .task_definition("roll")
        .desired_count(4)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .minimum_healthy_percent(50)
                .maximum_percent(200)
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    wait_stable(&ecs, &cluster, "roll").await;
    let second = register(&ecs, "roll", &["sleep", "601"]).await;
    ecs.update_service()
        .cluster(&cluster)
        .service("roll")
        .task_definition(&second)
        .send()
        .await
        .expect("UpdateService");

    // Sample until the new deployment completes: never more than 200% of 4 wanted, never
    // fewer than 50% of 4 RUNNING.
    let mut samples = 0;
    loop {
        let tasks = service_tasks(&ecs, &cluster, "roll").await;
        let running = tasks
            .iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .count();
        assert!(
            tasks.len() <= 8,
            "{} tasks wanted, over 200% of 4",
            tasks.len()
        );
        assert!(running >= 2, "{running} RUNNING, under 50% of 4");
        samples += 1;
        let s = service(&ecs, &cluster, "roll").await;
        let d = s.deployments();
        if d.len() == 1 && d[0].rollout_state() == Some(&DeploymentRolloutState::Completed) {
            assert_eq!(d[0].task_definition(), Some(second.as_str()));
            assert_eq!(s.running_count(), 4);
            break;
        }
        assert!(
            samples < 1200,
            "the deployment did not complete in time: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_stable(&ecs, &cluster, "roll").await;
    let tasks = service_tasks(&ecs, &cluster, "roll").await;
    assert_eq!(tasks.len(), 4);
    assert!(
        tasks
            .iter()
            .all(|t| t.task_definition_arn() == Some(second.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_revision_fails_and_rolls_back() {
    let berth = Berth::up("svc-bad");
    let (ecs, cluster) = (berth.client(), berth.cluster.clone());
    common::wait_instance(&ecs, &cluster).await;
    let good = register(&ecs, "bad", &["sleep", "600"]).await;
    ecs.create_service()
        .cluster(&cluster)
        .service_name("bad")
        .task_definition("bad")
        .desired_count(2)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .deployment_circuit_breaker(
                    DeploymentCircuitBreaker::builder()
                        .enable(true)
                        .rollback(true)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    wait_stable(&ecs, &cluster, "bad").await;
    let broken = register(&ecs, "bad", &["sh", "-c", "exit 3"]).await;
    ecs.update_service()
        .cluster(&cluster)
        .service("bad")
        .task_definition(&broken)
        .send()
        .await
        .expect("UpdateService");
    let s = eventually(
        "the circuit breaker to roll back to the first revision",
        Duration::from_secs(120),
        || async {
            let s = service(&ecs, &cluster, "bad").await;
            (s.task_definition() == Some(good.as_str())).then_some(s)
        },
    )
    .await;
    let events: Vec<String> = s
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect();
    assert!(
        events.iter().any(|m| m.contains("deployment failed")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|m| m.contains("rolling back")),
        "{events:?}"
    );
    wait_stable(&ecs, &cluster, "bad").await;
    let s = service(&ecs, &cluster, "bad").await;
    assert_eq!(s.deployments().len(), 1);
    assert_eq!(s.deployments()[0].task_definition(), Some(good.as_str()));
    let tasks = service_tasks(&ecs, &cluster, "bad").await;
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.task_definition_arn() == Some(good.as_str()))
    );
}
