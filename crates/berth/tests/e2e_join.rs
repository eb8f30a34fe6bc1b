//! Agents join with the server's join token and get credentials of their own: good for the
//! agent-facing calls of their own instance, and dead once that instance is deregistered.

use berth_test_kit::ecs::{
    json_client, refusal, register, rotate_join_token, run_one, stop_and_wait, wait_instance,
    wait_status,
};
use berth_test_kit::fleet::Fleet;
use berth_test_kit::logs::logging;
use berth_test_kit::process::Exports;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_joined_agent_may_only_act_for_its_own_instance() {
    // The fleet kills the server and the agent, and removes their containers, when dropped.
    let mut fleet = Fleet::server("join");
    let (exports, cluster, root) = (
        fleet.exports.clone(),
        fleet.cluster.clone(),
        fleet.ecs.clone(),
    );
    let token = rotate_join_token(&exports, None).await;

    // A wrong token buys nothing.
    let refused = reqwest::Client::new()
        .post(format!("{}/", exports.endpoint))
        .header("x-amz-target", "BerthAgent.Join")
        .body(json!({"joinToken": "bjt-wrong", "cluster": cluster}).to_string())
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

    let state = fleet.join_agent(&token);
    let instance = wait_instance(&root, &cluster).await;
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("agent-credentials.json")).expect("saved credentials"),
    )
    .expect("json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.join("agent-credentials.json"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the agent's secret is private");
    // Signing as the agent does, with its own client.
    let agent_client = json_client(&Exports {
        access_key: saved["accessKeyId"].as_str().expect("key").into(),
        secret_key: saved["secretAccessKey"].as_str().expect("secret").into(),
        ..exports.clone()
    });

    // The agent runs tasks (its reports are accepted) ...
    let app = logging("app", &["sleep", "600"], "join-app", true);
    register(&root, "join", vec![app]).await;
    let task = run_one(&root, &cluster, "join").await;
    wait_status(&root, &cluster, &task, "RUNNING").await;

    // ... but its key is good for nothing else.
    let elsewhere = "arn:aws:ecs:us-east-1:000000000000:task/elsewhere/0123";
    let forbidden = [
        ("ListClusters", json!({})),
        (
            "RunTask",
            json!({"cluster": cluster, "taskDefinition": "join"}),
        ),
        (
            "RegisterContainerInstance",
            json!({"cluster": "some-other-cluster"}),
        ),
        (
            "SubmitTaskStateChange",
            json!({"cluster": cluster, "task": elsewhere, "status": "STOPPED"}),
        ),
    ];
    for (operation, input) in forbidden {
        let (code, message) = refusal(agent_client.call::<_, Value>(operation, &input).await);
        assert_eq!(code, "AccessDeniedException", "{operation}: {message}");
    }
    // It writes the log groups its tasks name, and no other.
    let put = |group: &str| {
        json!({"logGroupName": group, "logStreamName": "app/app/x",
            "logEvents": [{"timestamp": 1_700_000_000_000_i64, "message": "m"}]})
    };
    let logs = "Logs_20140328";
    let own: Result<Value, _> = agent_client
        .call_target(
            logs,
            "DescribeLogStreams",
            &json!({"logGroupName": "join-app"}),
        )
        .await;
    assert!(own.is_ok(), "its task's group: {own:?}");
    for (operation, input) in [
        ("CreateLogGroup", json!({"logGroupName": "someone-elses"})),
        ("PutLogEvents", put("someone-elses")),
        (
            "DescribeLogStreams",
            json!({"logGroupName": "someone-elses"}),
        ),
    ] {
        let refused = agent_client
            .call_target::<_, Value>(logs, operation, &input)
            .await;
        let (code, message) = refusal(refused);
        assert_eq!(code, "AccessDeniedException", "{operation}: {message}");
    }

    // Deregistered, its instance's key stops working.
    stop_and_wait(&root, &cluster, &task).await;
    root.deregister_container_instance()
        .cluster(&cluster)
        .container_instance(&instance)
        .send()
        .await
        .expect("DeregisterContainerInstance");
    let dead = agent_client
        .call::<_, Value>("DiscoverPollEndpoint", &json!({"cluster": cluster}))
        .await;
    assert_eq!(
        refusal(dead).0,
        "UnrecognizedClientException",
        "the key died with its instance"
    );
}
