//! What the registry tests share: the ECR client, the Basic credentials `docker login` would
//! use, and a small HTTP client of `/v2/` that reads OCI error codes. Included with
//! `#[path = "common/registry.rs"] mod registry;` beside `mod common;`.
#![allow(dead_code)]

use crate::common::Exports;
use base64::Engine;
use berth_agent::client::EcsClient;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The ECR target prefix.
pub const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An ECR client signing with the server's root key.
pub fn ecr(e: &Exports) -> EcsClient {
    EcsClient::new(&e.endpoint, &e.access_key, &e.secret_key, &e.region)
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

/// The `Authorization` header `docker login` would send for `client`.
pub async fn login(client: &EcsClient) -> String {
    let (user, password) = credentials(client).await;
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// A client of `/v2/` with fixed credentials.
pub struct Registry {
    pub http: Client,
    pub base: String,
    pub auth: String,
}

impl Registry {
    /// A client logged in as the root of the server that printed `e`.
    pub async fn root(e: &Exports) -> Self {
        Self {
            http: Client::new(),
            base: e.endpoint.clone(),
            auth: login(&ecr(e)).await,
        }
    }

    /// Sends a request to `path` (absolute, or `/v2/...` on this registry).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> reqwest::Response {
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

    /// Pushes a blob monolithically (one POST with its digest); returns the digest.
    pub async fn push_blob(&self, name: &str, bytes: &[u8]) -> String {
        let d = digest(bytes);
        let r = self
            .send(
                Method::POST,
                &format!("/v2/{name}/blobs/uploads/?digest={d}"),
                &[],
                bytes.to_vec(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "blob {d} pushed");
        d
    }

    /// Puts an OCI image manifest under `reference`; returns the response.
    pub async fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        manifest: &Value,
    ) -> reqwest::Response {
        self.send(
            Method::PUT,
            &format!("/v2/{name}/manifests/{reference}"),
            &[("content-type", OCI_MANIFEST)],
            serde_json::to_vec(manifest).expect("json"),
        )
        .await
    }
}

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

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
pub async fn code(r: reqwest::Response) -> (StatusCode, String) {
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

/// The `Location` header of a response.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}
