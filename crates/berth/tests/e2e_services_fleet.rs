//! Services across several real agents: a DAEMON service following instances as they join and
//! drain, and a deployment that survives the server being killed in its middle.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{ContainerInstanceStatus, DesiredStatus, SchedulingStrategy};
use berth_test_kit::docker::running_cluster_containers;
use berth_test_kit::ecs::{
    self as kit, container, describe_service, eventually, service_tasks, update_service,
    wait_instances, wait_stable,
};
use berth_test_kit::fleet::Fleet;
use std::time::Duration;

/// Registers a revision of `family`: one container sleeping `seconds`.
async fn register(ecs: &Client, family: &str, seconds: &str) -> String {
    let app = container("app", &["sleep", seconds]).memory(8).build();
    kit::register(ecs, family, vec![app]).await
}

/// The service's tasks of that desired status: (instance, lastStatus, task definition) of each.
async fn tasks(
    fleet: &Fleet,
    service: &str,
    desired: DesiredStatus,
) -> Vec<(String, String, String)> {
    service_tasks(&fleet.ecs, &fleet.cluster, service, desired)
        .await
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

/// CreateService of the family of the same name: `desired` replicas, or a `strategy`.
async fn create(
    fleet: &Fleet,
    name: &str,
    desired: Option<i32>,
    strategy: Option<SchedulingStrategy>,
) {
    fleet
        .ecs
        .create_service()
        .cluster(&fleet.cluster)
        .service_name(name)
        .task_definition(name)
        .set_desired_count(desired)
        .set_scheduling_strategy(strategy)
        .send()
        .await
        .expect("CreateService");
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
    create(&fleet, "daemon", None, Some(SchedulingStrategy::Daemon)).await;
    one_on_each(&fleet, "daemon", &instances).await;

    fleet.add_agent("zone-c");
    instances = wait_instances(&fleet.ecs, &fleet.cluster, 3).await;
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
    let (ecs, cluster) = (&fleet.ecs, fleet.cluster.as_str());
    wait_stable(ecs, cluster, "daemon", Duration::from_secs(120)).await;
    let s = describe_service(ecs, cluster, "daemon").await;
    assert_eq!(s.desired_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_completes_after_the_server_is_killed_in_its_middle() {
    let (mut fleet, instances) = Fleet::start("restart-svc", &["zone-a"]).await;
    let (ecs, cluster) = (fleet.ecs.clone(), fleet.cluster.clone());
    register(&fleet.ecs, "restart", "600").await;
    create(&fleet, "restart", Some(3), None).await;
    wait_stable(&ecs, &cluster, "restart", Duration::from_secs(120)).await;
    let second = register(&fleet.ecs, "restart", "601").await;
    update_service(&fleet.ecs, &fleet.cluster, "restart", &second).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.restart_server();
    wait_instances(&fleet.ecs, &fleet.cluster, instances.len()).await;
    wait_stable(&ecs, &cluster, "restart", Duration::from_secs(180)).await;
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
        || async { (running_cluster_containers(&fleet.cluster).len() == 3).then_some(()) },
    )
    .await;
}
