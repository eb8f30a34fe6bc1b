use super::*;
use crate::wire::DECODED;
use berth_control::{ControlPlane, SystemClock};
use berth_types::arn::Partition;
use std::sync::Arc;

fn app(dir: &std::path::Path) -> AppState {
    let partition = Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let store = Arc::new(berth_store::MemStore::default());
    let control = ControlPlane::open(partition, store, Arc::new(SystemClock)).expect("opens");
    AppState {
        control: Arc::new(control),
        registry: Arc::new(berth_registry::Registry::open(dir).expect("registry")),
        logs: Arc::new(
            berth_logs::Logs::open(&dir.join("logs"), Arc::new(berth_logs::SystemClock))
                .expect("log store"),
        ),
        root: auth::RootKey {
            id: "AKIAROOT".into(),
            secret: "secret".into(),
        },
        limiter: Arc::new(throttle::Limiter::new(0)),
        shutdown: tokio::sync::watch::channel(false).1,
        secure: false,
        verify: true,
        registry_listener: None,
    }
}

/// Answers `operation` with `body` as `principal`, and counts how many times a body was
/// decoded.
fn call(app: &AppState, principal: &auth::Principal, operation: Operation, body: &str) -> usize {
    let before = DECODED.with(|d| d.get());
    let (call, ask) = decoded(app, operation, body.as_bytes(), Some(principal));
    let answered = dispatch(
        app,
        "AKIA",
        principal,
        call.expect("decodes"),
        ask.unwrap_or_default(),
        "127.0.0.1:1",
    );
    answered.expect("answered");
    DECODED.with(|d| d.get()) - before
}

#[tokio::test(flavor = "multi_thread")]
async fn each_request_body_is_decoded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    let root = auth::Principal::root("000000000000");
    let ecs = |op: &str| format!("{}.{op}", ecs_types::TARGET_PREFIX);
    let ecr = |op: &str| format!("{}.{op}", berth_types::ecr::TARGET_PREFIX);
    let calls = [
        (ecs("CreateCluster"), r#"{"clusterName":"c"}"#.to_string()),
        (
            ecs("RegisterTaskDefinition"),
            r#"{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":32,"privileged":true}]}"#.into(),
        ),
        (ecs("RunTask"), r#"{"cluster":"c","taskDefinition":"f"}"#.into()),
        (
            ecs("CreateService"),
            r#"{"cluster":"c","serviceName":"s","taskDefinition":"f","desiredCount":0}"#.into(),
        ),
        (ecs("DescribeServices"), r#"{"cluster":"c","services":["s","t"]}"#.into()),
        (ecs("ListContainerInstances"), r#"{"cluster":"c","filter":"attribute:a == b"}"#.into()),
        (ecr("CreateRepository"), r#"{"repositoryName":"team/r"}"#.into()),
        (ecr("DescribeRepositories"), "{}".into()),
        (
            "AmazonSSM.PutParameter".into(),
            r#"{"Name":"/a/b","Value":"v","Type":"SecureString"}"#.into(),
        ),
        ("AmazonSSM.GetParameters".into(), r#"{"Names":["/a/b","c"]}"#.into()),
        (
            "secretsmanager.CreateSecret".into(),
            r#"{"Name":"s","SecretString":"v"}"#.into(),
        ),
        ("secretsmanager.GetSecretValue".into(), r#"{"SecretId":"s"}"#.into()),
    ];
    for (target, body) in calls {
        let operation = Operation::from_target(&target).expect("an operation");
        assert_eq!(
            call(&app, &root, operation, &body),
            1,
            "{target} decodes its body once"
        );
    }
    let query = [
        ("iam", "Action=CreateUser&Version=2010-05-08&UserName=ana"),
        ("iam", "Action=CreateAccessKey&UserName=ana"),
        ("iam", "Action=ListUsers"),
        ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
    ];
    for (service, body) in query {
        let operation = query::operation(service, body.as_bytes()).expect("an operation");
        assert_eq!(
            call(&app, &root, operation, body),
            1,
            "{body} decodes its body once"
        );
    }
}

/// The body of an answer.
async fn text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread")]
async fn ec2_calls_are_authorised_on_any_resource_and_answered_in_ec2_xml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    let root = auth::Principal::root("000000000000");
    let body = b"Action=DescribeVpcs&Version=2016-11-15&DryRun=false";
    let operation = query::operation("ec2", body).expect("an operation");
    let (call, ask) = decoded(&app, operation, body, Some(&root));
    let ask = ask.expect("an ask");
    assert_eq!(
        (ask.action.as_str(), ask.resource.as_str()),
        ("ec2:DescribeVpcs", "*")
    );
    let answered = dispatch(&app, "AKIA", &root, call.expect("decodes"), ask, "h");
    let response = query::respond("ec2", operation, "r-1", answered);
    assert_eq!(response.status(), 200);
    let answer = text(response).await;
    assert!(
        answer.starts_with("<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><vpcSet>"),
        "{answer}"
    );
    let body = b"Action=DescribeVpcs&Version=2016-11-15&DryRun=true";
    let (call, ask) = decoded(&app, operation, body, Some(&root));
    let answered = dispatch(
        &app,
        "AKIA",
        &root,
        call.expect("decodes"),
        ask.expect("an ask"),
        "h",
    );
    let response = query::respond("ec2", operation, "r-1", answered);
    assert_eq!(response.status(), 412);
    assert_eq!(
        text(response).await,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>r-1</RequestID></Response>"
    );
    let other = query::operation("ec2", b"Action=RunInstances").expect_err("refused");
    assert!(
        other.message.contains("RunInstances") && other.message.contains("DescribeVpcs"),
        "{other:?}"
    );
    let unsigned = ApiError::new(ErrorCode::InvalidSignatureException, "bad signature");
    let response = query::refused(Some("ec2"), &unsigned, "r-2");
    assert_eq!(response.status(), 401);
    assert!(text(response).await.contains("<Code>AuthFailure</Code>"));
}
