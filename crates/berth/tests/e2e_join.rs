//! Agents join with the server's join token and get credentials of their own: good for the
//! agent-facing calls of their own instance, and dead once that instance is deregistered.

mod common;

use aws_sdk_ecs::types::ContainerDefinition;
use common::{Exports, IMAGE, start_agent_with_token, start_server};

fn code<E: aws_sdk_ecs::error::ProvideErrorMetadata>(e: E) -> String {
    e.code().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_joined_agent_may_only_act_for_its_own_instance() {
    common::ensure_image();
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = common::unique_cluster("join");
    let (mut server, exports) = start_server(data.path(), "127.0.0.1:0");
    let token = common::rotate_join_token(&exports, None).await;
    let root = common::client(&exports);

    // A wrong token buys nothing.
    let refused = reqwest::Client::new()
        .post(format!("{}/", exports.endpoint))
        .header("x-amz-target", "BerthAgent.Join")
        .body(serde_json::json!({"joinToken": "bjt-wrong", "cluster": cluster}).to_string())
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status().as_u16(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap_or_default()
            .contains("UnrecognizedClientException")
    );

    let state = data.path().join("agent");
    let mut agent = start_agent_with_token(&exports, &cluster, &state, &token);
    let instance = common::wait_instance(&root, &cluster).await;
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("agent-credentials.json")).expect("saved credentials"),
    )
    .expect("json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.join("agent-credentials.json"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the agent's secret is private");
    let agent_client = common::client(&Exports {
        access_key: saved["accessKeyId"].as_str().expect("key").into(),
        secret_key: saved["secretAccessKey"].as_str().expect("secret").into(),
        ..exports.clone()
    });

    // The agent runs tasks (its reports are accepted) ...
    root.register_task_definition()
        .family("join")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(IMAGE)
                .command("sleep")
                .command("600")
                .memory(8)
                .stop_timeout(1)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let task = root
        .run_task()
        .cluster(&cluster)
        .task_definition("join")
        .send()
        .await
        .expect("RunTask")
        .tasks()[0]
        .task_arn()
        .expect("arn")
        .to_string();
    common::wait_status(&root, &cluster, &task, "RUNNING").await;

    // ... but its key is good for nothing else.
    let denied = agent_client
        .list_clusters()
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(denied), "AccessDeniedException");
    let denied = agent_client
        .run_task()
        .cluster(&cluster)
        .task_definition("join")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(denied), "AccessDeniedException");
    let denied = agent_client
        .register_container_instance()
        .cluster("some-other-cluster")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(denied), "AccessDeniedException");
    let denied = agent_client
        .submit_task_state_change()
        .cluster(&cluster)
        .task("arn:aws:ecs:us-east-1:000000000000:task/elsewhere/0123")
        .status("STOPPED")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(denied), "AccessDeniedException");

    // Deregistered, its instance's key stops working.
    root.stop_task()
        .cluster(&cluster)
        .task(&task)
        .send()
        .await
        .expect("StopTask");
    common::wait_status(&root, &cluster, &task, "STOPPED").await;
    root.deregister_container_instance()
        .cluster(&cluster)
        .container_instance(&instance)
        .send()
        .await
        .expect("DeregisterContainerInstance");
    let dead = agent_client
        .discover_poll_endpoint()
        .cluster(&cluster)
        .send()
        .await
        .expect_err("the key died with its instance");
    assert_eq!(code(dead), "UnrecognizedClientException");

    let _ = agent.kill();
    let _ = agent.wait();
    let _ = server.kill();
    let _ = server.wait();
    common::remove_cluster_containers(&cluster);
}
