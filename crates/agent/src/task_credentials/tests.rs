use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hands out credentials expiring at `expiration`, counting the fetches.
struct Stub {
    fetches: AtomicUsize,
    expiration: &'static str,
}

impl CredentialsSource for Stub {
    fn fetch<'a>(&'a self, task_arn: &'a str) -> BoxFuture<'a, Result<RoleCredentials, String>> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        let expiration = self.expiration.to_string();
        Box::pin(async move {
            Ok(RoleCredentials {
                role_arn: "arn:aws:iam::000000000000:role/app".into(),
                access_key_id: format!("ASIA{n}"),
                secret_access_key: "secret".into(),
                token: format!("token for {task_arn}"),
                expiration,
            })
        })
    }

    fn execution<'a>(
        &'a self,
        _task_arn: &'a str,
    ) -> BoxFuture<'a, Result<RoleCredentials, String>> {
        Box::pin(async { Err("the stub has no execution role".to_string()) })
    }
}

/// Serves `credentials` on a loopback port; returns the port.
async fn serving(credentials: Arc<TaskCredentials>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(http::serve(listener, credentials));
    port
}

/// `GET path` → status and body.
async fn get(port: u16, path: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 169.254.170.2\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, serde_json::from_str(body).expect("json"))
}

fn stub(expiration: &'static str) -> Arc<Stub> {
    Arc::new(Stub {
        fetches: AtomicUsize::new(0),
        expiration,
    })
}

#[tokio::test]
async fn serves_the_tasks_credentials_under_its_id_only() {
    let source = stub("2200-01-01T00:00:00Z");
    let creds = TaskCredentials::new(Some("abc".into()), "arn:task/t1", source.clone());
    assert_eq!(
        creds.env(),
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc"
    );
    let port = serving(creds).await;
    let (status, body) = get(port, "/v2/credentials/abc").await;
    assert_eq!(status, 200, "{body}");
    // Sorted: with serde_json's preserve_order (another crate of the workspace turns it on)
    // the keys come in the struct's order.
    let mut keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "Expiration",
            "RoleArn",
            "SecretAccessKey",
            "Token"
        ]
    );
    assert_eq!(body["Token"], "token for arn:task/t1");
    let (status, _) = get(port, "/v1/credentials?id=abc").await;
    assert_eq!(status, 200);
    // Fetched once, kept while far from its expiry.
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let (status, body) = get(port, "/v2/credentials/another-tasks-id").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("InvalidIdInRequest"))
    );
    let (status, body) = get(port, "/v2/credentials/").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("NoIdInRequest"))
    );
    let (status, _) = get(port, "/v3/metadata").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn credentials_near_their_expiry_are_fetched_again() {
    let source = stub("2000-01-01T00:00:00Z");
    let creds = TaskCredentials::new(Some("id".into()), "t", source.clone());
    let port = serving(creds).await;
    for _ in 0..2 {
        let (status, _) = get(port, "/v2/credentials/id").await;
        assert_eq!(status, 200);
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn the_id_is_read_back_from_a_containers_environment() {
    let env = [
        "A=1",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/u-1",
    ];
    assert_eq!(id_in_env(env), Some("u-1".to_string()));
    assert_eq!(
        id_in_env(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URIX=/v2/credentials/u"]),
        None
    );
}

/// `sh -c script` in a new container of the test image, removed when dropped.
struct Container(String);

impl Container {
    async fn start(docker: &crate::docker::Docker, what: &str, script: &str) -> Self {
        use crate::runtime::ContainerRuntime;
        let body = bollard::models::ContainerCreateBody {
            image: Some(crate::test_kit::busybox_image().into()),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            ..Default::default()
        };
        let name = format!("berth-agent-creds-{what}-{}", std::process::id());
        let id = docker.create(&name, body).await.expect("created");
        let container = Self(id);
        docker.start(&container.0).await.expect("started");
        container
    }

    /// `docker exec` of `sh -c script`: its output, or why it failed.
    fn exec(&self, script: &str) -> Result<String, String> {
        let out = std::process::Command::new("docker")
            .args(["exec", &self.0, "sh", "-c", script])
            .output()
            .expect("docker exec runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &self.0])
            .output();
    }
}

/// A real container reaches its own task's credentials at 169.254.170.2, and nothing there
/// from a container beside it.
#[tokio::test]
async fn a_container_reaches_its_credentials_at_the_link_local_address_and_no_other_does() {
    use crate::runtime::ContainerRuntime;
    let docker = crate::docker::Docker::connect()
        .await
        .expect("Docker is running");
    let task = Container::start(&docker, "task", "sleep 60").await;
    let other = Container::start(&docker, "other", "sleep 60").await;
    let pid = docker.inspect(&task.0).await.expect("inspect").pid;
    let creds = TaskCredentials::new(
        Some("id-1".into()),
        "arn:task/t1",
        stub("2200-01-01T00:00:00Z"),
    );
    let endpoint = creds.serve_in(pid.expect("running")).expect("served");
    let got = tokio::task::spawn_blocking(move || {
        task.exec("wget -qO- http://169.254.170.2/v2/credentials/id-1")
    })
    .await
    .expect("joined")
    .expect("fetched");
    let body: serde_json::Value = serde_json::from_str(&got).expect("json");
    assert_eq!(body["Token"], "token for arn:task/t1");
    let refused = tokio::task::spawn_blocking(move || {
        other.exec("timeout 3 wget -qO- http://169.254.170.2/v2/credentials/id-1")
    })
    .await
    .expect("joined");
    assert!(refused.is_err(), "another container got {refused:?}");
    endpoint.abort();
}
