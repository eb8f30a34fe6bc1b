//! Dispatch of `POST /`: the signature's form, time and key are checked before the body is read;
//! the body is read within limits of size and time; the caller is authenticated, throttled and
//! authorised; the call goes to the table of its service ([`crate::ecs`], [`crate::ecr`],
//! [`crate::query`] for IAM and STS, [`crate::berth_ops`] for Berth's own); mutating calls are
//! audited.

use crate::serve::ClientAddr;
use crate::wire::{
    BODY_TIMEOUT, LAYER_BODY_TIMEOUT, MAX_IMAGE_REQUEST_BYTES, MAX_LAYER_REQUEST_BYTES,
    MAX_REQUEST_BYTES, encode, respond,
};
use crate::{AppState, auth, berth_ops, ecr, ecs, images, query, task_asks, throttle};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use berth_types::{ApiError, ErrorCode};
use futures_util::StreamExt;
use std::time::Duration;

/// The most of an oversized body read and dropped before it is refused.
const MAX_DRAINED_BYTES: usize = 64 * 1024 * 1024;

/// The most bytes a call's body may have, and how long the client has to send them.
fn body_limit(target: &str) -> (usize, Duration) {
    match target.rsplit_once('.') {
        Some((berth_types::ecr::TARGET_PREFIX, "UploadLayerPart")) => {
            (MAX_LAYER_REQUEST_BYTES, LAYER_BODY_TIMEOUT)
        }
        Some((berth_types::ecr::TARGET_PREFIX, "PutImage")) => {
            (MAX_IMAGE_REQUEST_BYTES, LAYER_BODY_TIMEOUT)
        }
        _ => (MAX_REQUEST_BYTES, BODY_TIMEOUT),
    }
}

/// Reads a body of at most `limit` bytes within `timeout`.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    (limit, timeout): (usize, Duration),
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::invalid(format!(
            "the request body is over {} KiB, the most this operation accepts (UploadLayerPart takes parts of up to 20 MiB, PutImage manifests of up to 4 MiB)",
            limit >> 10
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Read (and drop) what the client is sending, within bounds, so it sees the answer
        // rather than a connection reset in the middle of its upload.
        let drain = async {
            let mut chunks = body.into_data_stream();
            let mut seen = 0;
            while let Some(Ok(chunk)) = chunks.next().await {
                seen += chunk.len();
                if seen > MAX_DRAINED_BYTES {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, drain).await;
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeoutException,
            format!(
                "the request body did not arrive within {} s: send it at once",
                timeout.as_secs()
            ),
        )),
    }
}

/// The answer to a request that failed authentication: its exception, unless its client
/// address has sent too many such requests lately, then ThrottlingException (and no audit
/// event, so a flood cannot push real events out of the log).
fn unauthenticated(
    app: &AppState,
    client: Option<ClientAddr>,
    headers: &HeaderMap,
    refused: ApiError,
    request_id: &str,
) -> Response {
    let address = client.map(|c| c.0.ip().to_string()).unwrap_or_default();
    let refused = if app.limiter.admit(&address, throttle::Class::Anonymous) {
        let target = target_of(headers);
        let operation = target.rsplit_once('.').map_or("", |(_, op)| op);
        if ecs::is_mutating(operation) {
            let action = if target.starts_with(berth_types::ecr::TARGET_PREFIX) {
                format!("ecr:{operation}")
            } else if target.starts_with("Berth") {
                format!("berth:{operation}")
            } else {
                format!("ecs:{operation}")
            };
            app.record(
                "anonymous",
                action,
                "*".into(),
                refused.code.as_str(),
                request_id,
            );
        }
        refused
    } else {
        ApiError::new(
            ErrorCode::ThrottlingException,
            format!(
                "Rate exceeded for unauthenticated requests from {address}: sign your requests"
            ),
        )
    };
    if query::is_query(headers) {
        query::refused(&refused, request_id)
    } else {
        respond(request_id, Err(refused))
    }
}

/// The `X-Amz-Target` header, or "".
fn target_of(headers: &HeaderMap) -> &str {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `POST /`: authenticate, dispatch on the target, answer. The signature's form, time and key
/// are checked before the body is read; the body is read within limits of size and time.
pub async fn handle(
    State(app): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client = client.map(|Extension(c)| c);
    let target = target_of(&headers).to_string();
    if target == berth_ops::JOIN_TARGET {
        // Authenticated by the join token it carries, not by a signature.
        let joined = match read_body(&headers, body, (JOIN_REQUEST_BYTES, BODY_TIMEOUT)).await {
            Ok(body) => tokio::task::block_in_place(|| berth_ops::join(&app, &body)),
            Err(e) => Err(e),
        };
        return match joined {
            Err(e) if e.code == ErrorCode::UnrecognizedClientException => {
                unauthenticated(&app, client, &headers, e, &request_id)
            }
            joined => respond(&request_id, joined),
        };
    }
    if app.verify
        && let Err(e) = auth::precheck(&app.root, &app.control, &method, &uri, &headers)
    {
        return unauthenticated(&app, client, &headers, e, &request_id);
    }
    let body = match read_body(&headers, body, body_limit(&target)).await {
        Ok(body) => body,
        Err(e) => return respond(&request_id, Err(e)),
    };
    let operation = target
        .rsplit_once('.')
        .map(|(_, op)| op.to_string())
        .unwrap_or_default();
    let (signer, principal) = match app.authenticate(&method, &uri, &headers, &body) {
        Ok(signed) => signed,
        Err(e) => return unauthenticated(&app, client, &headers, e, &request_id),
    };
    let signed = if app
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
    };
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
        let ask = if target.starts_with(berth_types::ecr::TARGET_PREFIX) {
            ecr::ask(&app, &operation, &body)
        } else if target.starts_with("Berth") {
            berth_ops::ask(&operation)
        } else {
            ecs::ask(app.control.partition(), &operation, &body)
        };
        let principal = principal.unwrap_or_else(|| "anonymous".into());
        app.record(
            &principal,
            ask.action,
            ask.resource,
            crate::outcome(&result),
            &request_id,
        );
    }
    respond(&request_id, result)
}

/// The largest join request: a token and a cluster name.
const JOIN_REQUEST_BYTES: usize = 4096;

/// Binds an agent's key to the instance its registration created.
fn bind(app: &AppState, key: &str, answer: &[u8]) -> Result<(), ApiError> {
    let v: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    match v["containerInstance"]["containerInstanceArn"].as_str() {
        Some(arn) => tokio::task::block_in_place(|| app.control.bind_agent_key(key, arn)),
        None => Ok(()),
    }
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
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            if let Some((field, asks)) = ecs::batch_asks(app.control.partition(), operation, body) {
                return batch(app, principal, operation, body, host, field, asks);
            }
            let mut ask = ecs::ask(app.control.partition(), operation, body);
            let definition = task_asks::definition(app, operation, body);
            if let Some(definition) = &definition {
                ask.keys.extend(task_asks::condition_keys(definition));
            }
            app.authorize(principal, ask, body, ErrorCode::AccessDeniedException)?;
            if let Some(definition) = definition.filter(|_| operation != "RegisterTaskDefinition") {
                images::check_caller_may_pull(app, principal, &definition, body, host)?;
            }
            // Control-plane calls may wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| ecs::call(&app.control, operation, body, host))
        }
        berth_ops::AUDIT_PREFIX | berth_ops::AGENT_PREFIX => {
            berth_ops::call(app, principal, prefix, operation, body)
        }
        berth_types::ecr::TARGET_PREFIX if berth_types::ecr::OPERATIONS.contains(&operation) => {
            app.authorize_with(
                principal,
                ecr::ask(app, operation, body),
                body,
                ErrorCode::AccessDeniedException,
                ecr::repository_policy(app, body)?.as_deref(),
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

/// A batch call whose items are authorised one by one: the call is made for the items the
/// caller may touch, and the others are added to its `failures[]` (reason `ACCESS_DENIED`).
/// When none may be touched, the call is refused as a whole.
fn batch(
    app: &AppState,
    principal: &auth::Principal,
    operation: &str,
    body: &[u8],
    host: &str,
    field: &str,
    asks: Vec<(String, crate::policy::Ask)>,
) -> Result<Vec<u8>, ApiError> {
    let mut allowed = vec![];
    let mut refused = vec![];
    for (item, ask) in asks {
        match app.authorize(principal, ask, body, ErrorCode::AccessDeniedException) {
            Ok(()) => allowed.push(item),
            Err(e) => refused.push((item, e)),
        }
    }
    if allowed.is_empty()
        && let Some((_, e)) = refused.first()
    {
        return Err(e.clone());
    }
    if refused.is_empty() {
        return tokio::task::block_in_place(|| ecs::call(&app.control, operation, body, host));
    }
    let mut request: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))?;
    request[field] = serde_json::json!(allowed);
    let request = encode(&request)?;
    let answer =
        tokio::task::block_in_place(|| ecs::call(&app.control, operation, &request, host))?;
    let mut answer: serde_json::Value = serde_json::from_slice(&answer)
        .map_err(|e| ApiError::server(format!("cannot read the answer: {e}")))?;
    let failures = answer["failures"].as_array().cloned().unwrap_or_default();
    let denied = refused.into_iter().map(|(item, e)| {
        serde_json::json!({"arn": item, "reason": "ACCESS_DENIED", "detail": e.message})
    });
    answer["failures"] = failures.into_iter().chain(denied).collect();
    encode(&answer)
}
