//! The server killed with SIGKILL and restarted: everything acknowledged is still there, the
//! agent reconnects, and the running container is adopted, not restarted.

use berth_test_kit::docker::docker_inspect;
use berth_test_kit::ecs::{
    container, register, run_one, stop_and_wait, wait_instance, wait_status,
};
use berth_test_kit::fleet::Fleet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn state_and_containers_survive_a_server_crash() {
    // The fleet kills the server and the agent, and removes their containers, when dropped.
    let (mut fleet, instance) = Fleet::with_agent("restart", &[]).await;
    let (ecs, cluster) = (fleet.ecs.clone(), fleet.cluster.clone());

    let td_arn = register(
        &ecs,
        "survivor",
        vec![container("s", &["sleep", "600"]).build()],
    )
    .await;
    let arn = run_one(&ecs, &cluster, &td_arn).await;
    let before = wait_status(&ecs, &cluster, &arn, "RUNNING").await;
    let runtime_id = before.containers()[0]
        .runtime_id()
        .expect("runtime id")
        .to_string();
    let started_at = docker_inspect(&runtime_id, "{{.State.StartedAt}}");

    fleet.restart_server();

    let described = ecs
        .describe_task_definition()
        .task_definition("survivor:1")
        .send()
        .await
        .expect("the task definition survived");
    assert_eq!(described.task_definition().map(|t| t.revision()), Some(1));
    let reconnected = wait_instance(&ecs, &cluster).await;
    assert_eq!(
        reconnected, instance,
        "the agent came back as the same instance"
    );
    let after = wait_status(&ecs, &cluster, &arn, "RUNNING").await;
    assert_eq!(
        after.containers()[0].runtime_id(),
        Some(runtime_id.as_str()),
        "same container"
    );
    // Give the agent time to act wrongly, then check Docker never restarted the container.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        docker_inspect(&runtime_id, "{{.State.StartedAt}}"),
        started_at,
        "not restarted"
    );
    assert_eq!(docker_inspect(&runtime_id, "{{.State.Running}}"), "true");

    stop_and_wait(&ecs, &cluster, &arn).await;
}
