//! Deployments as deploy tools see them, with real containers through the AWS SDK: a rolling
//! update of a one-task service never leaves it without a RUNNING task, and a service whose
//! image cannot be pulled has its launches throttled and says so.

use aws_sdk_ecs::types::{DeploymentConfiguration, DesiredStatus};
use berth_test_kit::ecs::{
    container, describe_service, eventually, register, service_events, service_tasks,
    update_service,
};
use berth_test_kit::up::Berth;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_one_task_service_keeps_a_running_task_through_a_deployment() {
    let (berth, ecs) = Berth::ready("deploy-floor").await;
    let cluster = berth.cluster.clone();
    register(
        &ecs,
        "floor",
        vec![container("app", &["sleep", "600"]).build()],
    )
    .await;
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
            let live = service_tasks(&ecs, &cluster, "floor", DesiredStatus::Running).await;
            live.iter()
                .any(|t| t.last_status() == Some("RUNNING"))
                .then_some(())
        },
    )
    .await;
    register(
        &ecs,
        "floor",
        vec![container("app", &["sleep", "601"]).build()],
    )
    .await;
    update_service(&ecs, &cluster, "floor", "floor:2").await;
    let mut polls = 0;
    loop {
        let live = service_tasks(&ecs, &cluster, "floor", DesiredStatus::Running).await;
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
    let (berth, ecs) = Berth::ready("deploy-throttle").await;
    let cluster = berth.cluster.clone();
    // Nothing listens on port 9 of loopback: every pull fails at once.
    let unpullable = container("app", &["true"]).image("127.0.0.1:9/nothing/here:1");
    register(&ecs, "unpullable", vec![unpullable.build()]).await;
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
    let stopped = service_tasks(&ecs, &cluster, "unpullable", DesiredStatus::Stopped).await;
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
    let events = service_events(&describe_service(&ecs, &cluster, "unpullable").await);
    assert!(
        events.iter().any(
            |m| m == "(service unpullable) is unable to consistently start tasks successfully."
        ),
        "{events:?}"
    );
}
