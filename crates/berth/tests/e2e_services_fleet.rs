//! Services across several real agents: a DAEMON service following instances as they join and
//! drain, and a deployment that survives the server being killed in its middle.

mod common;

use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::{
    ContainerDefinition, ContainerInstanceStatus, DesiredStatus, SchedulingStrategy,
};
use common::{Fleet, IMAGE, eventually};
use std::time::Duration;

async fn register(ecs: &aws_sdk_ecs::Client, family: &str, seconds: &str) -> String {
    ecs.register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(IMAGE)
                .command("sleep")
                .command(seconds)
                .memory(8)
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

/// The service's wanted tasks: (instance, lastStatus, task definition) of each.
async fn tasks(
    fleet: &Fleet,
    service: &str,
    desired: DesiredStatus,
) -> Vec<(String, String, String)> {
    let arns = fleet
        .ecs
        .list_tasks()
        .cluster(&fleet.cluster)
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
    fleet
        .ecs
        .describe_tasks()
        .cluster(&fleet.cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .iter()
        .map(|t| {
            (
                t.container_instance_arn().unwrap_or_default().to_string(),
                t.last_status().unwrap_or_default().to_string(),
                t.task_definition_arn().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Waits until the service runs exactly one RUNNING task on each of `instances`.
async fn one_on_each(fleet: &Fleet, service: &str, instances: &[String]) {
    eventually(
        &format!("one RUNNING task on each of {} instances", instances.len()),
        Duration::from_secs(60),
        || async {
            let t = tasks(fleet, service, DesiredStatus::Running).await;
            let mut on: Vec<&str> = t
                .iter()
                .filter(|(_, status, _)| status == "RUNNING")
                .map(|(i, _, _)| i.as_str())
                .collect();
            on.sort();
            let mut want: Vec<&str> = instances.iter().map(String::as_str).collect();
            want.sort();
            (on == want && t.len() == instances.len()).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_service_follows_agents_that_join_and_drain() {
    let (mut fleet, mut instances) = Fleet::start("daemon", &["zone-a", "zone-b"]).await;
    register(&fleet.ecs, "daemon", "600").await;
    fleet
        .ecs
        .create_service()
        .cluster(&fleet.cluster)
        .service_name("daemon")
        .task_definition("daemon")
        .scheduling_strategy(SchedulingStrategy::Daemon)
        .send()
        .await
        .expect("CreateService");
    one_on_each(&fleet, "daemon", &instances).await;

    fleet.add_agent("zone-c");
    instances = common::wait_instances(&fleet.ecs, &fleet.cluster, 3).await;
    one_on_each(&fleet, "daemon", &instances).await;

    let drained = instances.remove(0);
    fleet
        .ecs
        .update_container_instances_state()
        .cluster(&fleet.cluster)
        .container_instances(&drained)
        .status(ContainerInstanceStatus::Draining)
        .send()
        .await
        .expect("UpdateContainerInstancesState");
    one_on_each(&fleet, "daemon", &instances).await;
    fleet
        .ecs
        .wait_until_services_stable()
        .cluster(&fleet.cluster)
        .services("daemon")
        .wait(Duration::from_secs(120))
        .await
        .expect("the DAEMON service is stable");
    let s = fleet
        .ecs
        .describe_services()
        .cluster(&fleet.cluster)
        .services("daemon")
        .send()
        .await
        .expect("DescribeServices");
    assert_eq!(s.services()[0].desired_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_completes_after_the_server_is_killed_in_its_middle() {
    let (mut fleet, instances) = Fleet::start("restart-svc", &["zone-a"]).await;
    register(&fleet.ecs, "restart", "600").await;
    fleet
        .ecs
        .create_service()
        .cluster(&fleet.cluster)
        .service_name("restart")
        .task_definition("restart")
        .desired_count(3)
        .send()
        .await
        .expect("CreateService");
    fleet
        .ecs
        .wait_until_services_stable()
        .cluster(&fleet.cluster)
        .services("restart")
        .wait(Duration::from_secs(120))
        .await
        .expect("stable before the update");
    let second = register(&fleet.ecs, "restart", "601").await;
    fleet
        .ecs
        .update_service()
        .cluster(&fleet.cluster)
        .service("restart")
        .task_definition(&second)
        .send()
        .await
        .expect("UpdateService");
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.restart_server();
    common::wait_instances(&fleet.ecs, &fleet.cluster, instances.len()).await;
    fleet
        .ecs
        .wait_until_services_stable()
        .cluster(&fleet.cluster)
        .services("restart")
        .wait(Duration::from_secs(180))
        .await
        .expect("stable after the restart");
    let running = tasks(&fleet, "restart", DesiredStatus::Running).await;
    assert_eq!(running.len(), 3, "{running:?}");
    assert!(
        running
            .iter()
            .all(|(_, s, td)| s == "RUNNING" && td == &second)
    );
    // Nothing of the new revision was started twice and then scaled away.
    let stopped = tasks(&fleet, "restart", DesiredStatus::Stopped).await;
    assert!(
        stopped.iter().all(|(_, _, td)| td != &second),
        "a task of the new revision was stopped: {stopped:?}"
    );
    eventually(
        "three containers of the cluster running in Docker",
        Duration::from_secs(30),
        || async {
            let out = std::process::Command::new("docker")
                .args(["ps", "-q", "--filter"])
                .arg(format!("label=com.amazonaws.ecs.cluster={}", fleet.cluster))
                .output()
                .expect("docker ps");
            (String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .count()
                == 3)
                .then_some(())
        },
    )
    .await;
}
