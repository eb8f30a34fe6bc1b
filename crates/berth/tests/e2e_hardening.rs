//! The audit's findings, each tried again against a real `berth server` as the attacker or the
//! careless client did: a filter that overflowed the stack, a join key taking over an instance,
//! bodies buffered before the signature was checked, half-sent requests held open, anonymous
//! floods, presigned URLs that never expired, an operation swapped under a signature. The
//! server's stderr must show no panic afterwards.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use berth_agent::client::EcsClient;
use berth_test_kit::ecs::{client, join, json_client, refusal, rotate_join_token, wait_instance};
use berth_test_kit::process::{
    Exports, Process, start_server_logged, start_simulator, unique_cluster,
};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ECS: &str = "AmazonEC2ContainerServiceV20141113";

/// A server whose stderr is kept, to look for panics when the test is done.
struct Server {
    process: Process,
    exports: Exports,
    log: tempfile::TempPath,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let log = tempfile::NamedTempFile::new()
            .expect("log")
            .into_temp_path();
        let (process, exports) = start_server_logged(data.path(), "127.0.0.1:0", &[], &log);
        Self {
            process,
            exports,
            log,
            _data: data,
        }
    }

    fn root(&self) -> EcsClient {
        json_client(&self.exports)
    }

    fn address(&self) -> String {
        self.exports.listen()
    }

    /// Stops the server and checks it never panicked.
    fn assert_no_panic(mut self) {
        self.process.stop();
        let log = std::fs::read_to_string(Path::new(&self.log)).unwrap_or_default();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_nested_beyond_reason_is_refused_and_the_server_lives() {
    let server = Server::start();
    let root = server.root();
    let filter = "!".repeat(300_000);
    let refused = root
        .call::<_, Value>(
            "ListContainerInstances",
            &json!({"cluster": "default", "filter": filter}),
        )
        .await;
    let (code, message) = refusal(refused);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("over 2000 characters"), "{message}");
    assert!(
        message.len() < 500,
        "the error does not echo the filter back"
    );
    let deep = format!("{}attribute:a == b{}", "(".repeat(40), ")".repeat(40));
    let (code, message) = refusal(
        root.call::<_, Value>("ListContainerInstances", &json!({"filter": deep}))
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("nest more than 32"), "{message}");
    let alive: Value = root
        .call("ListClusters", &json!({}))
        .await
        .expect("the server still answers");
    assert!(alive["clusterArns"].is_array());
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_agent_key_cannot_take_over_a_registered_instance() {
    let server = Server::start();
    let cluster = unique_cluster("takeover");
    let simulator = start_simulator(&server.exports, &cluster, &["--instances", "1"]);
    let client = client(&server.exports);
    let victim = wait_instance(&client, &cluster).await;
    let token = rotate_join_token(&server.exports, Some(&cluster)).await;
    let attacker = join(&server.exports, &token, &cluster).await;
    let resources = json!([
        {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
        {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}
    ]);
    let (code, message) = refusal(
        attacker
            .call::<_, Value>(
                "RegisterContainerInstance",
                &json!({"cluster": cluster, "containerInstanceArn": victim, "totalResources": resources}),
            )
            .await,
    );
    assert_eq!(code, "AccessDeniedException", "{message}");
    assert!(
        message.contains("may only register a new container instance"),
        "{message}"
    );
    // Nor may it hold the victim's stream or report its tasks: it is bound to nothing.
    let (code, _) = refusal(
        attacker
            .call::<_, Value>(
                "SubmitTaskStateChange",
                &json!({"cluster": cluster, "task": "t", "status": "STOPPED"}),
            )
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    // Registering a new instance is what a join key is for.
    let registered: Value = attacker
        .call(
            "RegisterContainerInstance",
            &json!({"cluster": cluster, "totalResources": resources}),
        )
        .await
        .expect("a new instance registers");
    assert_ne!(
        registered["containerInstance"]["containerInstanceArn"].as_str(),
        Some(victim.as_str())
    );
    drop(simulator);
    server.assert_no_panic();
}

/// Sends raw bytes and reads what comes back until the server closes or `limit` passes.
async fn raw(address: &str, request: &[u8], limit: Duration) -> (String, bool) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut answer = vec![];
    let mut buf = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break false;
                }
            }
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_clients_hold_neither_memory_nor_connections() {
    let server = Server::start();
    let address = server.address();

    // An unsigned request that announces 20 MB is answered at once, without reading a byte of
    // its body.
    let announce = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: {ECS}.ListClusters\r\nContent-Length: 20000000\r\n\r\n"
    );
    let (answer, _) = raw(&address, announce.as_bytes(), Duration::from_secs(15)).await;
    assert!(
        answer.contains("MissingAuthenticationTokenException"),
        "answered before the body: {answer:?}"
    );

    // Half-sent headers, and a signed request whose body never comes: the server lets go.
    let half_sent = format!("POST / HTTP/1.1\r\nHost: {address}\r\n");
    let half = raw(&address, half_sent.as_bytes(), Duration::from_secs(60));
    let root = server.root();
    let url = format!("{}/", server.exports.endpoint);
    let target = format!("{ECS}.ListClusters");
    let headers = [
        ("x-amz-target", target.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
    ];
    let body = b"{\"maxResults\": 10}";
    let signed = root.sign("POST", &url, &headers, body).expect("signed");
    let mut stalled = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .chain(signed)
    {
        stalled.push_str(&format!("{name}: {value}\r\n"));
    }
    stalled.push_str("\r\n{\"max");
    let stalled = raw(&address, stalled.as_bytes(), Duration::from_secs(60));
    let ((half, half_closed), (stalled, _)) = tokio::join!(half, stalled);
    assert!(
        half_closed && half.is_empty(),
        "half-sent headers are dropped: {half:?}"
    );
    assert!(
        stalled.contains("RequestTimeoutException"),
        "a body that never comes times out: {stalled:?}"
    );

    // A signed body over 1 MiB is refused by name.
    let huge = json!({"family": "x".repeat(2 << 20), "containerDefinitions": []});
    let (code, message) = refusal(root.call::<_, Value>("RegisterTaskDefinition", &huge).await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("1024 KiB"), "{message}");

    // An anonymous flood is throttled per address; signed callers from it go on, and the audit
    // log keeps only what was let through.
    let http = reqwest::Client::new();
    let mut throttled = 0;
    for _ in 0..200 {
        let r = http
            .post(&url)
            .header("x-amz-target", format!("{ECS}.DeleteCluster"))
            .body("{}")
            .send()
            .await
            .expect("answer");
        if r.text()
            .await
            .unwrap_or_default()
            .contains("ThrottlingException")
        {
            throttled += 1;
        }
    }
    assert!(
        throttled > 100,
        "most of the flood is throttled: {throttled}"
    );
    let _: Value = root
        .call("ListClusters", &json!({}))
        .await
        .expect("signed calls go on");
    let events: Value = root
        .call_target(
            "BerthAudit",
            "ListAuditEvents",
            &json!({"maxResults": 1000}),
        )
        .await
        .expect("audit");
    let anonymous = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["principal"] == "anonymous")
        .count();
    assert!(
        anonymous < 100,
        "a flood does not flood the audit log: {anonymous}"
    );
    server.assert_no_panic();
}

/// A request signed by the official signer with `settings`, `signed` headers in the
/// signature and `extra` headers added after signing.
async fn send_signed(
    e: &Exports,
    settings: SigningSettings,
    signed: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> String {
    let url = format!("{}/", e.endpoint);
    let identity: Identity =
        Credentials::new(&e.access_key, &e.secret_key, None, None, "e2e").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&e.region)
        .name("ecs")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let body = b"{}";
    let signable = SignableRequest::new(
        "POST",
        &url,
        signed.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
    let query: Vec<String> = instructions
        .params()
        .iter()
        .map(|(k, v)| format!("{k}={}", berth_api::sigv4::uri_encode(v.as_bytes(), false)))
        .collect();
    let mut sent = reqwest::Client::new().post(format!("{url}?{}", query.join("&")));
    for (n, v) in signed
        .iter()
        .chain(extra)
        .copied()
        .chain(instructions.headers())
    {
        sent = sent.header(n, v);
    }
    sent.body(body.to_vec())
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_requests_expire_and_the_operation_must_be_signed() {
    let server = Server::start();
    let e = &server.exports;
    let target = format!("{ECS}.ListClusters");
    let presigned = |days: u64| {
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(days * 86_400));
        settings
    };
    let headers = [("x-amz-target", target.as_str())];
    let ok = send_signed(e, presigned(1), &headers, &[]).await;
    assert!(
        ok.contains("clusterArns"),
        "a day-long presigned call works: {ok}"
    );
    let refused = send_signed(e, presigned(8), &headers, &[]).await;
    assert!(
        refused.contains("IncompleteSignatureException") && refused.contains("X-Amz-Expires"),
        "X-Amz-Expires past 7 days is refused: {refused}"
    );
    // The operation header added after signing: a captured request cannot be made another.
    let swapped = send_signed(
        e,
        SigningSettings::default(),
        &[],
        &[("x-amz-target", &format!("{ECS}.DeleteCluster"))],
    )
    .await;
    assert!(
        swapped.contains("IncompleteSignatureException") && swapped.contains("x-amz-target"),
        "an unsigned X-Amz-Target is refused: {swapped}"
    );
    server.assert_no_panic();
}
