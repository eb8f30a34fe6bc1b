//! The agent's ECS client: the public JSON API over HTTP, as the real ECS agent uses it.

use crate::trust::Trust;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use berth_types::ecs::TARGET_PREFIX;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, SystemTime};

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the connection broke: worth retrying.
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `__type`.
        code: String,
        /// `message`.
        message: String,
    },
}

impl ClientError {
    /// Whether the same call may succeed later (network trouble, 5xx, throttling).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, code, .. } => *status >= 500 || code.contains("Throttling"),
        }
    }
}

/// Calls ECS operations on one endpoint.
#[derive(Clone)]
pub struct EcsClient {
    http: reqwest::Client,
    trust: Trust,
    endpoint: String,
    identity: Identity,
    region: String,
}

impl EcsClient {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:9714`) that signs with the key pair.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str, region: &str) -> Self {
        Self::with_trust(endpoint, access_key, secret_key, region, Trust::default())
    }

    /// A client for an `https://` endpoint whose certificate `trust` accepts.
    pub fn with_trust(
        endpoint: &str,
        access_key: &str,
        secret_key: &str,
        region: &str,
        trust: Trust,
    ) -> Self {
        Self {
            http: trust.http(Some(Duration::from_secs(30))),
            trust,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            identity: Credentials::new(access_key, secret_key, None, None, "berth-agent").into(),
            region: region.to_string(),
        }
    }

    /// The same endpoint, signing as a role session (with its token) instead: the agent acting
    /// as a task's execution role.
    pub(crate) fn acting_as(&self, session: &berth_types::protocol::RoleCredentials) -> Self {
        let credentials = Credentials::new(
            &session.access_key_id,
            &session.secret_access_key,
            Some(session.token.clone()),
            None,
            "berth-agent-execution-role",
        );
        Self {
            identity: credentials.into(),
            ..self.clone()
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The certificates this client accepts, for other connections to the same server.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The headers that sign a request (SigV4 with the official signer, service `ecs`):
    /// `authorization` and `x-amz-date`. `headers` are the ones to sign besides `host`.
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, ClientError> {
        self.sign_for("ecs", method, url, headers, body)
    }

    /// [`Self::sign`] for the signing name of another service.
    fn sign_for(
        &self,
        service: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, ClientError> {
        let failed = |e: String| ClientError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason: format!("cannot sign the request: {e}"),
        };
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| failed(e.to_string()))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| failed(e.to_string()))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect())
    }

    /// Calls the ECS `operation` with `input`.
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        self.call_target(TARGET_PREFIX, operation, input).await
    }

    /// Calls `<prefix>.<operation>` on the same endpoint (Berth's own APIs use other prefixes).
    pub async fn call_target<I: Serialize, O: DeserializeOwned>(
        &self,
        prefix: &str,
        operation: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let body = serde_json::to_vec(input).map_err(|e| unreachable(e.to_string()))?;
        let url = format!("{}/", self.endpoint);
        let target = format!("{prefix}.{operation}");
        let content_type = "application/x-amz-json-1.1";
        let signed = [
            ("x-amz-target", target.as_str()),
            ("content-type", content_type),
        ];
        let mut request = self
            .http
            .post(&url)
            .header("x-amz-target", &target)
            .header("content-type", content_type);
        // The signing name of the service the prefix belongs to, as AWS's SDKs sign.
        let service = match prefix {
            berth_types::ecr::TARGET_PREFIX => "ecr",
            berth_types::logs::TARGET_PREFIX => "logs",
            _ => "ecs",
        };
        for (name, value) in self.sign_for(service, "POST", &url, &signed, &body)? {
            request = request.header(name, value);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(no_answer(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(no_answer(&e)))?;
        if status != 200 {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(ClientError::Api {
                status,
                code: v["__type"].as_str().unwrap_or("Unknown").to_string(),
                message: v["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        // An operation without output may answer 200 with nothing at all: that reads as `{}`.
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Api {
            status,
            code: "SerializationException".into(),
            message: e.to_string(),
        })
    }
}

/// Why a request to the control plane got no answer, in words that say what to do about it:
/// nothing listening, no answer in time, a TLS handshake that failed; otherwise the innermost
/// cause, which reqwest's own message ("error sending request for url ...") leaves out.
pub(crate) fn no_answer(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time (the server is overloaded, or a firewall drops the \
            connection; check --endpoint)"
            .into();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return "connection refused (no Berth server is listening there; start one with \
                    `berth up` or check --endpoint)"
                    .into();
            }
            // An io::Error's `source` skips the error it wraps (rustls's comes in two of them).
            while let Some(inner) = cause
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
            {
                cause = inner;
            }
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return format!(
                "TLS handshake failed: {tls} (for a server with Berth's own certificate, pass \
                 its ca.pem with --ca-bundle; for one without TLS, use http://)"
            );
        }
    }
    cause.to_string()
}
