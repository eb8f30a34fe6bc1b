//! Bad input gets the exception ECS gives, with a message naming the problem, and changes nothing.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use berth_test_kit::image::IMAGE;
use berth_test_kit::process::Exports;
use berth_test_kit::up::Berth;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// Asserts a 400 answer of exception `code` whose message names `mentions`; `what` says
/// which request it was.
fn assert_refused((status, answer): (u16, Value), code: &str, mentions: &str, what: &str) {
    assert_eq!(status, 400, "{what}: {answer}");
    assert_eq!(answer["__type"], code, "{what}: {answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(mentions),
        "{what}: message {message:?} should name {mentions:?}"
    );
}

/// How a raw request is signed.
#[derive(Clone)]
struct Signing {
    access_key: String,
    secret_key: String,
    at: SystemTime,
    /// Sent instead of the body that was signed, when set.
    tampered: Option<String>,
    /// A session token signed with the key (a long-term key takes none).
    session_token: Option<String>,
}

impl Signing {
    fn good(e: &Exports) -> Self {
        Self {
            access_key: e.access_key.clone(),
            secret_key: e.secret_key.clone(),
            at: SystemTime::now(),
            tampered: None,
            session_token: None,
        }
    }
}

/// Sends raw awsJson1.1 signed with the official SigV4 signer, as a misbehaving client would.
async fn signed_call(endpoint: &str, target: &str, body: &str, signing: &Signing) -> (u16, Value) {
    let url = format!("{endpoint}/");
    let identity: Identity = Credentials::new(
        &signing.access_key,
        &signing.secret_key,
        signing.session_token.clone(),
        None,
        "e2e",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("ecs")
        .time(signing.at)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let headers = [
        ("x-amz-target", target),
        ("content-type", "application/x-amz-json-1.1"),
    ];
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
    let mut request = reqwest::Client::new().post(&url);
    for (n, v) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(n, v);
    }
    let sent = signing.tampered.clone().unwrap_or_else(|| body.to_string());
    let r = request.body(sent).send().await.expect("the server answers");
    assert!(
        r.headers().contains_key("x-amzn-requestid"),
        "every answer has a request id"
    );
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn ecs(op: &str) -> String {
    format!("AmazonEC2ContainerServiceV20141113.{op}")
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_the_ecs_exception_and_change_nothing() {
    let berth = Berth::up("bad");
    let endpoint = berth.exports.endpoint.clone();
    let good = Signing::good(&berth.exports);
    let call = |endpoint: &str, target: &str, body: &str| {
        let (endpoint, target, body, good) = (
            endpoint.to_string(),
            target.to_string(),
            body.to_string(),
            good.clone(),
        );
        async move { signed_call(&endpoint, &target, &body, &good).await }
    };
    let container = json!({"name": "c", "image": IMAGE, "memory": 16});
    let ok = json!({"family": "good", "containerDefinitions": [container]}).to_string();
    let (status, _) = call(&endpoint, &ecs("RegisterTaskDefinition"), &ok).await;
    assert_eq!(status, 200);
    let dup = json!({"serviceName": "dup", "taskDefinition": "good", "desiredCount": 0});
    let (status, _) = call(&endpoint, &ecs("CreateService"), &dup.to_string()).await;
    assert_eq!(status, 200);

    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"name": format!("c{i}"), "image": IMAGE, "memory": 16}))
        .collect();
    let cases = [
        (
            ecs("RegisterTaskDefinition"),
            "{\"family\": ".to_string(),
            "SerializationException",
            "",
        ),
        (
            ecs("RegisterTaskDefinition"),
            json!({"family": "good", "containerDefinitions": [{"name": "c", "image": IMAGE, "memory": "128"}]}).to_string(),
            "SerializationException",
            "containerDefinitions[0].memory must be an integer",
        ),
        (
            ecs("RegisterTaskDefinition"),
            json!({"containerDefinitions": [container]}).to_string(),
            "InvalidParameterException",
            "family is required",
        ),
        (
            ecs("RegisterTaskDefinition"),
            json!({"family": "good", "containerDefinitions": eleven}).to_string(),
            "ClientException",
            "containerDefinitions",
        ),
        (
            ecs("RegisterTaskDefinition"),
            json!({"family": "bad name!", "containerDefinitions": [container]}).to_string(),
            "ClientException",
            "family",
        ),
        (
            ecs("RunTask"),
            json!({"cluster": "no-such-cluster", "taskDefinition": "good"}).to_string(),
            "ClusterNotFoundException",
            "no-such-cluster",
        ),
        (
            ecs("RunTask"),
            json!({"taskDefinition": "good", "count": 11}).to_string(),
            "InvalidParameterException",
            "count",
        ),
        (
            ecs("RunTask"),
            json!({"taskDefinition": "good", "launchType": "SPACESHIP"}).to_string(),
            "InvalidParameterException",
            "SPACESHIP",
        ),
        (
            ecs("CreateService"),
            json!({"serviceName": "d", "taskDefinition": "good", "schedulingStrategy": "DAEMON", "desiredCount": 2}).to_string(),
            "InvalidParameterException",
            "desiredCount",
        ),
        (
            ecs("CreateService"),
            json!({"serviceName": "m", "taskDefinition": "good", "deploymentConfiguration": {"maximumPercent": 50}}).to_string(),
            "InvalidParameterException",
            "maximumPercent",
        ),
        (
            ecs("CreateService"),
            json!({"serviceName": "u", "taskDefinition": "no-such-family", "desiredCount": 1}).to_string(),
            "ClientException",
            "no-such-family",
        ),
        (
            ecs("CreateService"),
            dup.to_string(),
            "InvalidParameterException",
            "not idempotent",
        ),
        (
            ecs("UpdateService"),
            json!({"service": "ghost", "desiredCount": 1}).to_string(),
            "ServiceNotFoundException",
            "ghost",
        ),
        (
            ecs("DescribeServices"),
            json!({"services": (0..11).map(|i| format!("s{i}")).collect::<Vec<_>>()}).to_string(),
            "InvalidParameterException",
            "DescribeServices",
        ),
        (
            ecs("FlyToTheMoon"),
            "{}".to_string(),
            "UnknownOperationException",
            "FlyToTheMoon",
        ),
        (
            ecs("CreateCapacityProvider"),
            "{}".to_string(),
            "UnsupportedFeatureException",
            "CreateCapacityProvider",
        ),
    ];
    for (target, body, code, mentions) in cases {
        let answered = call(&endpoint, &target, &body).await;
        assert_refused(answered, code, mentions, &format!("{target} {body}"));
    }

    let (_, listed) = call(&endpoint, &ecs("ListTaskDefinitions"), "{}").await;
    let arns = listed["taskDefinitionArns"].as_array().expect("list");
    assert_eq!(
        arns.len(),
        1,
        "only the good registration is stored: {listed}"
    );
    assert!(
        arns[0]
            .as_str()
            .unwrap_or_default()
            .ends_with("task-definition/good:1")
    );
    let (_, services) = call(&endpoint, &ecs("ListServices"), "{}").await;
    let services = services["serviceArns"].as_array().expect("list").clone();
    assert_eq!(
        services.len(),
        1,
        "only the first service exists: {services:?}"
    );
    let list_tasks = json!({"cluster": berth.cluster}).to_string();
    let (_, tasks) = call(&endpoint, &ecs("ListTasks"), &list_tasks).await;
    assert_eq!(tasks["taskArns"], json!([]), "no task was started");

    let unsigned = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("x-amz-target", ecs("ListClusters"))
        .body("{}")
        .send()
        .await
        .expect("answer");
    assert_eq!(unsigned.status().as_u16(), 403);
    let body: Value = serde_json::from_slice(&unsigned.bytes().await.expect("body")).expect("json");
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");

    // Each signing fault has its own exception, and none of them changes anything.
    let create = json!({"clusterName": "must-not-exist"}).to_string();
    let faults = [
        (
            Signing {
                access_key: "AKIANOTISSUED0000000".into(),
                ..good.clone()
            },
            "UnrecognizedClientException",
            "AKIANOTISSUED0000000",
        ),
        (
            Signing {
                secret_key: "not-the-secret".into(),
                ..good.clone()
            },
            "InvalidSignatureException",
            "does not match",
        ),
        (
            Signing {
                at: SystemTime::now() - Duration::from_secs(20 * 60),
                ..good.clone()
            },
            "InvalidSignatureException",
            "Signature expired",
        ),
        (
            Signing {
                tampered: Some(json!({"clusterName": "tampered"}).to_string()),
                ..good.clone()
            },
            "InvalidSignatureException",
            "does not match",
        ),
        (
            Signing {
                session_token: Some("FwoGZXIvYXdzEXAMPLE".into()),
                ..good.clone()
            },
            "UnrecognizedClientException",
            "The security token included in the request is invalid",
        ),
    ];
    for (signing, code, mentions) in faults {
        let answered = signed_call(&endpoint, &ecs("CreateCluster"), &create, &signing).await;
        assert_refused(answered, code, mentions, &format!("{code} {mentions}"));
    }
    let (_, clusters) = call(&endpoint, &ecs("ListClusters"), "{}").await;
    let names = clusters["clusterArns"].to_string();
    assert!(
        !names.contains("must-not-exist") && !names.contains("tampered"),
        "no refused call created a cluster: {names}"
    );
}
