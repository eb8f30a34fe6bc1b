//! The registry's limits against a real `berth server`: a lifecycle policy with more
//! `tagPatternList` wildcards than ECR allows is refused by PutLifecyclePolicy and
//! StartLifecyclePolicyPreview alike, with ECR's error and a message naming the pattern and the
//! limit (matching such patterns once took exponential time).

use berth_test_kit::ecs::json_client;
use berth_test_kit::process::start_server;
use berth_test_kit::registry::{ECR, create_repository};
use serde_json::{Value, json};

/// A one-rule policy keeping one image of those whose tags match `pattern`.
fn policy(pattern: &str) -> String {
    json!({"rules": [{
        "rulePriority": 1,
        "selection": {"tagStatus": "tagged", "tagPatternList": [pattern],
                      "countType": "imageCountMoreThan", "countNumber": 1},
        "action": {"type": "expire"},
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lifecycle_policy_with_five_wildcards_is_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let client = json_client(&exports);
    create_repository(&client, "team/app").await;

    for operation in ["PutLifecyclePolicy", "StartLifecyclePolicyPreview"] {
        let refused = client
            .call_target::<_, Value>(
                ECR,
                operation,
                &json!({"repositoryName": "team/app", "lifecyclePolicyText": policy("v*1*2*3*4*")}),
            )
            .await
            .expect_err("five wildcards");
        let berth_agent::client::ClientError::Api { code, message, .. } = refused else {
            panic!("{operation}: not an API error: {refused}");
        };
        assert_eq!(code, "InvalidParameterException", "{operation}: {message}");
        assert!(
            message.contains(r#""v*1*2*3*4*""#) && message.contains("limit is 4"),
            "{operation}: the message names the pattern and the limit: {message}"
        );
    }
    let refused = client
        .call_target::<_, Value>(
            ECR,
            "GetLifecyclePolicy",
            &json!({"repositoryName": "team/app"}),
        )
        .await;
    assert!(refused.is_err(), "nothing was stored: {refused:?}");

    // ECR's limit itself is fine.
    let _: Value = client
        .call_target(
            ECR,
            "PutLifecyclePolicy",
            &json!({"repositoryName": "team/app", "lifecyclePolicyText": policy("v*1*2*3*")}),
        )
        .await
        .expect("four wildcards are accepted");
}
