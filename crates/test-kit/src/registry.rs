//! What the registry tests share: the ECR client, the Basic credentials `docker login` would
//! use, and a small HTTP client of `/v2/` that reads OCI error codes.

use crate::ecs::json_client;
use crate::process::Exports;
use base64::Engine;
use berth_agent::client::EcsClient;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The ECR target prefix.
pub const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Creates repository `name`.
pub async fn create_repository(client: &EcsClient, name: &str) {
    let _: Value = client
        .call_target(ECR, "CreateRepository", &json!({ "repositoryName": name }))
        .await
        .expect("repository created");
}

/// The user and password GetAuthorizationToken gives `client`.
pub async fn credentials(client: &EcsClient) -> (String, String) {
    let answer: Value = client
        .call_target(ECR, "GetAuthorizationToken", &json!({}))
        .await
        .expect("token");
    let token = answer["authorizationData"][0]["authorizationToken"]
        .as_str()
        .expect("token");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .expect("base64");
    let decoded = String::from_utf8(decoded).expect("utf8");
    let (user, password) = decoded.split_once(':').expect("user:password");
    assert_eq!(user, "AWS", "the user is AWS");
    (user.to_string(), password.to_string())
}

/// The `Authorization` header of HTTP Basic auth with `user:password`.
pub fn basic(user_and_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_and_password)
    )
}

/// The `Authorization` header `docker login` would send for `client`.
pub async fn login(client: &EcsClient) -> String {
    let (user, password) = credentials(client).await;
    basic(&format!("{user}:{password}"))
}

/// A client of `/v2/` with fixed credentials.
pub struct Registry {
    /// The HTTP client.
    pub http: Client,
    /// The server's `http://host:port`.
    pub base: String,
    /// The `Authorization` header sent with every request.
    pub auth: String,
}

impl Registry {
    /// A client of the server that printed `e`, sending `auth` as its `Authorization`.
    pub fn new(e: &Exports, auth: String) -> Self {
        Self {
            http: Client::new(),
            base: e.endpoint.clone(),
            auth,
        }
    }

    /// A client logged in as `client` (`docker login` with its GetAuthorizationToken).
    pub async fn login(e: &Exports, client: &EcsClient) -> Self {
        Self::new(e, login(client).await)
    }

    /// A client logged in as the root of the server that printed `e`.
    pub async fn root(e: &Exports) -> Self {
        Self::login(e, &json_client(e)).await
    }

    /// Sends a request to `path` (absolute, or `/v2/...` on this registry).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        let url = if path.starts_with("/v2/") {
            format!("{}{path}", self.base)
        } else {
            path.to_string()
        };
        let mut r = self
            .http
            .request(method, url)
            .header("authorization", &self.auth);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(body).send().await.expect("the registry answers")
    }

    /// A GET of `path`, with no headers of its own.
    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, &[], vec![]).await
    }

    /// A HEAD of `path`.
    pub async fn head(&self, path: &str) -> Response {
        self.send(Method::HEAD, path, &[], vec![]).await
    }

    /// A DELETE of `path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, &[], vec![]).await
    }

    /// A POST of `body` to `path`.
    pub async fn post(&self, path: &str, body: &[u8]) -> Response {
        self.send(Method::POST, path, &[], body.to_vec()).await
    }

    /// A PUT of `body` to `path`.
    pub async fn put(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.send(Method::PUT, path, headers, body.to_vec()).await
    }

    /// A PATCH of `body` to `path` (a chunk of an upload), with its `Content-Range` if given.
    pub async fn patch(&self, path: &str, range: Option<&str>, body: &[u8]) -> Response {
        let headers: Vec<(&str, &str)> = range.map(|r| ("content-range", r)).into_iter().collect();
        self.send(Method::PATCH, path, &headers, body.to_vec())
            .await
    }

    /// Starts an upload session in repository `name`; returns its absolute URL.
    pub async fn start_upload(&self, name: &str) -> String {
        let r = self.post(&format!("/v2/{name}/blobs/uploads/"), b"").await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "upload started in {name}");
        format!("{}{}", self.base, location(&r))
    }

    /// Pushes a blob monolithically (one POST with its digest); returns the digest.
    pub async fn push_blob(&self, name: &str, bytes: &[u8]) -> String {
        let d = digest(bytes);
        let r = self
            .post(&format!("/v2/{name}/blobs/uploads/?digest={d}"), bytes)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "blob {d} pushed");
        d
    }

    /// Puts an OCI image manifest under `reference`; returns the response.
    pub async fn put_manifest(&self, name: &str, reference: &str, manifest: &Value) -> Response {
        let bytes = serde_json::to_vec(manifest).expect("json");
        self.put(
            &format!("/v2/{name}/manifests/{reference}"),
            &[("content-type", OCI_MANIFEST)],
            &bytes,
        )
        .await
    }
}

/// An OCI image manifest of `config` and `layers` (digest, size).
pub fn image_manifest(config: (&str, usize), layers: &[(&str, usize)]) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.0, "size": config.1},
        "layers": layers.iter().map(|(d, s)| json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s
        })).collect::<Vec<_>>(),
    })
}

/// The status and OCI error code of a response.
pub async fn code(r: Response) -> (StatusCode, String) {
    let status = r.status();
    let v: Value = serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
    (
        status,
        v["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Asserts the status and OCI error code of a response.
pub async fn assert_code(r: Response, status: StatusCode, error: &str) {
    assert_eq!(code(r).await, (status, error.to_string()));
}

/// The `Location` header of a response.
pub fn location(r: &Response) -> String {
    r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}
