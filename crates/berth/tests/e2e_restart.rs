//! The server killed with SIGKILL and restarted: everything acknowledged is still there, the
//! agent reconnects, and the running container is adopted, not restarted.

mod common;

use aws_sdk_ecs::types::ContainerDefinition;
use common::{IMAGE, describe, docker_inspect, eventually, start_agent, start_server, wait_status};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn state_and_containers_survive_a_server_crash() {
    common::ensure_image();
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = common::unique_cluster("restart");
    let (mut server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecs = common::client(&exports);
    ecs.create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .expect("CreateCluster");
    let mut agent = start_agent(&exports, &cluster, &data.path().join("agent"), &[]);
    let instance = common::wait_instance(&ecs, &cluster).await;

    let td = ecs
        .register_task_definition()
        .family("survivor")
        .container_definitions(
            ContainerDefinition::builder()
                .name("s")
                .image(IMAGE)
                .command("sleep")
                .command("600")
                .memory(16)
                .stop_timeout(1)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let td_arn = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string();
    let run = ecs
        .run_task()
        .cluster(&cluster)
        .task_definition(&td_arn)
        .send()
        .await
        .expect("RunTask");
    let arn = run.tasks()[0].task_arn().expect("arn").to_string();
    let before = wait_status(&ecs, &cluster, &arn, "RUNNING").await;
    let runtime_id = before.containers()[0]
        .runtime_id()
        .expect("runtime id")
        .to_string();
    let started_at = docker_inspect(&runtime_id, "{{.State.StartedAt}}");

    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    let port = exports
        .endpoint
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    let (mut server, _) = start_server(data.path(), &format!("127.0.0.1:{port}"));

    let described = ecs
        .describe_task_definition()
        .task_definition("survivor:1")
        .send()
        .await
        .expect("the task definition survived");
    assert_eq!(described.task_definition().map(|t| t.revision()), Some(1));
    let reconnected = common::wait_instance(&ecs, &cluster).await;
    assert_eq!(
        reconnected, instance,
        "the agent came back as the same instance"
    );
    let after = eventually(
        "the task to be RUNNING after the restart",
        Duration::from_secs(30),
        || async {
            let t = describe(&ecs, &cluster, &arn).await;
            (t.last_status() == Some("RUNNING")).then_some(t)
        },
    )
    .await;
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

    ecs.stop_task()
        .cluster(&cluster)
        .task(&arn)
        .send()
        .await
        .expect("StopTask");
    wait_status(&ecs, &cluster, &arn, "STOPPED").await;
    let _ = agent.kill();
    let _ = server.kill();
    let _ = agent.wait();
    let _ = server.wait();
    common::remove_cluster_containers(&cluster);
}
