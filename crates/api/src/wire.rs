//! awsJson1.1 framing: `POST /` with `X-Amz-Target: <prefix>.<Operation>`, JSON in and out,
//! `{"__type", "message"}` errors, and an `x-amzn-RequestId` on every response.

use crate::{AppState, auth, ecr, ecs, query, throttle};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use berth_control::audit::AuditEvent;
use berth_types::{ApiError, ErrorCode, Validate};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The target prefix of Berth's own audit API (`BerthAudit.ListAuditEvents`).
pub const AUDIT_TARGET_PREFIX: &str = "BerthAudit";

/// The awsJson1.1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Decodes a request body into an operation's input shape and checks the model's limits.
pub fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: T = serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        if e.is_data() && (text.contains("missing field") || text.contains("unknown variant")) {
            ApiError::invalid(text.replace("`", ""))
        } else {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("the request body is not valid for this operation: {text}"),
            )
        }
    })?;
    value.validate("")?;
    Ok(value)
}

/// Encodes an operation's output.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|e| ApiError::server(format!("cannot encode the answer: {e}")))
}

fn respond(request_id: &str, result: Result<Vec<u8>, ApiError>) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                tracing::error!(request_id, error = %e, "request failed");
            } else {
                tracing::debug!(request_id, error = %e, "request refused");
            }
            (status, e.body())
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// The largest request body: an UploadLayerPart of ECR's largest part (20 MiB), in base64,
/// with room for the rest of the JSON.
pub const MAX_REQUEST_BYTES: usize = 28 * 1024 * 1024;

/// `POST /`: authenticate, dispatch on the target, answer.
pub async fn handle(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        let refused = ApiError::invalid(format!(
            "the request body is over {} MiB, the most Berth accepts (UploadLayerPart parts are at most 20 MiB)",
            MAX_REQUEST_BYTES >> 20
        ));
        return respond(&request_id, Err(refused));
    };
    if headers.get("x-amz-target").and_then(|v| v.to_str().ok()) == Some(JOIN_TARGET) {
        // Authenticated by the join token it carries, not by a signature.
        let joined = tokio::task::block_in_place(|| join(&app, &body));
        return respond(&request_id, joined);
    }
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit_once('.'))
        .map(|(_, op)| op.to_string())
        .unwrap_or_default();
    let signed = app.authenticate(&method, &uri, &headers, &body)
        .and_then(|(signer, principal)| {
            if app
                .limiter
                .admit(&signer.access_key, throttle::Class::of(&operation))
            {
                Ok((signer, principal))
            } else {
                Err(ApiError::new(
                    ErrorCode::ThrottlingException,
                    format!(
                        "Rate exceeded for access key {}: slow down (the AWS SDKs retry with backoff)",
                        signer.access_key
                    ),
                ))
            }
        });
    if query::is_query(&headers) {
        return match signed {
            Ok((signer, principal)) => {
                query::handle(&app, &signer.service, &principal, &body, &request_id)
            }
            Err(e) => query::refused(&e, &request_id),
        };
    }
    let principal = signed.as_ref().ok().map(|(_, p)| p.arn().to_string());
    let result = signed.and_then(|(signer, principal)| {
        let answer = dispatch(&app, &signer.access_key, &principal, &headers, &body)?;
        if let auth::Principal::Agent { key, .. } = &principal
            && operation == "RegisterContainerInstance"
        {
            bind(&app, &key.id, &answer)?;
        }
        Ok(answer)
    });
    if ecs::is_mutating(&operation) {
        let is_ecr = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with(berth_types::ecr::TARGET_PREFIX));
        let ask = if is_ecr {
            ecr::ask(&app, &operation, &body)
        } else {
            ecs::ask(app.control.partition(), &operation, &body)
        };
        app.control.audit(AuditEvent {
            sequence: 0,
            time: audit_time(),
            principal: principal.unwrap_or_else(|| "anonymous".into()),
            action: ask.action,
            resource: ask.resource,
            outcome: match &result {
                Ok(_) => "Success".into(),
                Err(e) => e.code.as_str().into(),
            },
            request_id: request_id.clone(),
        });
    }
    respond(&request_id, result)
}

/// The target agents trade the join token at.
pub const JOIN_TARGET: &str = "BerthAgent.Join";

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `BerthAgent.Join {"joinToken", "cluster"}`: credentials for one agent of that cluster.
fn join(app: &AppState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let token = v["joinToken"].as_str().unwrap_or_default();
    if !same(token.as_bytes(), app.join_token.as_bytes()) {
        return Err(ApiError::new(
            ErrorCode::UnrecognizedClientException,
            "the join token is not valid: use the one `berth server` (or `berth up`) printed",
        ));
    }
    let cluster = v["cluster"]
        .as_str()
        .filter(|c| !c.is_empty())
        .unwrap_or("default");
    let key = app.control.issue_agent_key(cluster)?;
    app.control.audit(AuditEvent {
        sequence: 0,
        time: audit_time(),
        principal: "join-token".into(),
        action: "berth:Join".into(),
        resource: app.control.partition().cluster(cluster),
        outcome: "Success".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
    });
    encode(&serde_json::json!({
        "accessKeyId": key.id,
        "secretAccessKey": key.secret,
    }))
}

/// Binds an agent's key to the instance its registration created.
fn bind(app: &AppState, key: &str, answer: &[u8]) -> Result<(), ApiError> {
    let v: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    match v["containerInstance"]["containerInstanceArn"].as_str() {
        Some(arn) => tokio::task::block_in_place(|| app.control.bind_agent_key(key, arn)),
        None => Ok(()),
    }
}

/// Now, in seconds since the epoch, for audit events.
pub fn audit_time() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn dispatch(
    app: &AppState,
    signer_key: &str,
    principal: &auth::Principal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownOperationException,
                "the X-Amz-Target header is missing: name the operation, e.g. AmazonEC2ContainerServiceV20141113.ListClusters",
            )
        })?;
    let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", target));
    match prefix {
        berth_types::ecs::TARGET_PREFIX => {
            let ask = ecs::ask(app.control.partition(), operation, body);
            app.authorize(principal, ask, body, ErrorCode::AccessDeniedException)?;
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            // Control-plane calls may wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| ecs::call(&app.control, operation, body, host))
        }
        AUDIT_TARGET_PREFIX => {
            let ask = crate::policy::Ask {
                action: format!("berth:{operation}"),
                resource: "*".into(),
                keys: Default::default(),
            };
            app.authorize(principal, ask, body, ErrorCode::AccessDeniedException)?;
            match operation {
                "ListAuditEvents" => {
                    let limit = serde_json::from_slice::<serde_json::Value>(body)
                        .ok()
                        .and_then(|v| v["maxResults"].as_u64())
                        .unwrap_or(100) as usize;
                    let events = tokio::task::block_in_place(|| app.control.audit_events(limit))?;
                    encode(&serde_json::json!({ "events": events }))
                }
                _ => Err(ApiError::new(
                    ErrorCode::UnknownOperationException,
                    format!(
                        "{target} is not an operation Berth knows: use {AUDIT_TARGET_PREFIX}.ListAuditEvents"
                    ),
                )),
            }
        }
        berth_types::ecr::TARGET_PREFIX if berth_types::ecr::OPERATIONS.contains(&operation) => {
            app.authorize_with(
                principal,
                ecr::ask(app, operation, body),
                body,
                ErrorCode::AccessDeniedException,
                ecr::repository_policy(app, body).as_deref(),
            )?;
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            // Registry calls read and fsync files; keep them off the async workers' path.
            tokio::task::block_in_place(|| ecr::call(app, signer_key, operation, body, host))
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("{target} is not an operation Berth knows: check the X-Amz-Target header"),
        )),
    }
}
