//! Deployments as deploy tools see them, with real containers through the AWS SDK: a rolling
//! update of a one-task service never leaves it without a RUNNING task, and a service whose
//! image cannot be pulled has its launches throttled and says so.

mod common;

use aws_sdk_ecs::types::{ContainerDefinition, DeploymentConfiguration, DesiredStatus};
use common::{Berth, IMAGE, eventually};
use std::time::{Duration, Instant};

async fn register(ecs: &aws_sdk_ecs::Client, family: &str, image: &str, command: &[&str]) {
    ecs.register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(image)
                .set_command(Some(command.iter().map(|s| s.to_string()).collect()))
                .memory(16)
                .stop_timeout(1)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
}

/// The service's tasks with the given desired status, described.
async fn tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    desired: DesiredStatus,
) -> Vec<aws_sdk_ecs::types::Task> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(service)
        .desired_status(desired)
        .send()
        .await
        .expect("ListTasks")
        .task_arns()
        .to_vec();
    if arns.is_empty() {
        return vec![];
    }
    let mut described = vec![];
    for chunk in arns.chunks(100) {
        let answer = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .expect("DescribeTasks");
        described.extend(answer.tasks().iter().cloned());
    }
    described
}

async fn service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
) -> aws_sdk_ecs::types::Service {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_one_task_service_keeps_a_running_task_through_a_deployment() {
    let berth = Berth::up("deploy-floor");
    let (ecs, cluster) = (berth.client(), berth.cluster.clone());
    common::wait_instance(&ecs, &cluster).await;
    register(&ecs, "floor", IMAGE, &["sleep", "600"]).await;
    ecs.create_service()
        .cluster(&cluster)
        .service_name("floor")
        .task_definition("floor")
        .desired_count(1)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .minimum_healthy_percent(100)
                .maximum_percent(200)
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    // Deploy as soon as the first task is RUNNING, before it counts as healthy.
    eventually(
        "the first task to be RUNNING",
        Duration::from_secs(60),
        || async {
            let live = tasks(&ecs, &cluster, "floor", DesiredStatus::Running).await;
            live.iter()
                .any(|t| t.last_status() == Some("RUNNING"))
                .then_some(())
        },
    )
    .await;
    register(&ecs, "floor", IMAGE, &["sleep", "601"]).await;
    ecs.update_service()
        .cluster(&cluster)
        .service("floor")
        .task_definition("floor:2")
        .send()
        .await
        .expect("UpdateService");
    let mut polls = 0;
    loop {
        let live = tasks(&ecs, &cluster, "floor", DesiredStatus::Running).await;
        let running: Vec<_> = live
            .iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .collect();
        polls += 1;
        assert!(
            !running.is_empty(),
            "poll {polls}: the service has no RUNNING task during its deployment: {live:?}"
        );
        let done = running.len() == 1
            && live.len() == 1
            && running[0]
                .task_definition_arn()
                .is_some_and(|a| a.ends_with("floor:2"));
        if done {
            break;
        }
        assert!(polls < 1200, "the deployment did not finish in 1,200 polls");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_whose_image_cannot_be_pulled_is_throttled() {
    let berth = Berth::up("deploy-throttle");
    let (ecs, cluster) = (berth.client(), berth.cluster.clone());
    common::wait_instance(&ecs, &cluster).await;
    // Nothing listens on port 9 of loopback: every pull fails at once.
    register(&ecs, "unpullable", "127.0.0.1:9/nothing/here:1", &["true"]).await;
    ecs.create_service()
        .cluster(&cluster)
        .service_name("unpullable")
        .task_definition("unpullable")
        .desired_count(1)
        .send()
        .await
        .expect("CreateService");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let stopped = tasks(&ecs, &cluster, "unpullable", DesiredStatus::Stopped).await;
    // Unthrottled, this was thousands; throttled, three at once and then 10 s, 20 s, 40 s apart.
    assert!(
        (3..=10).contains(&stopped.len()),
        "{} tasks were launched in 60 s",
        stopped.len()
    );
    assert!(
        stopped.iter().all(|t| t
            .stopped_reason()
            .is_some_and(|r| r.contains("CannotPullContainerError"))),
        "{:?}",
        stopped
            .iter()
            .map(|t| t.stopped_reason())
            .collect::<Vec<_>>()
    );
    let events: Vec<String> = service(&ecs, &cluster, "unpullable")
        .await
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect();
    assert!(
        events.iter().any(
            |m| m == "(service unpullable) is unable to consistently start tasks successfully."
        ),
        "{events:?}"
    );
}
