//! Dispatch of `POST /`: the signature's form, time and key are checked before the body is read;
//! the body is read within limits of size and time; the caller is authenticated, throttled and
//! authorised; the call goes to the table of its service ([`crate::ecs`], [`crate::ecr`], the
//! IAM, STS and EC2 tables of [`crate::query`], [`crate::berth_ops`] for Berth's own); mutating
//! calls are audited. IAM and STS answer in the Query protocol's XML, EC2 in its dialect of it,
//! the others in awsJson1.1.

use crate::catalogue::{Call, Operation};
use crate::policy::Ask;
use crate::serve::ClientAddr;
use crate::wire::{
    BODY_TIMEOUT, LAYER_BODY_TIMEOUT, MAX_IMAGE_REQUEST_BYTES, MAX_LAYER_REQUEST_BYTES,
    MAX_LOG_EVENTS_REQUEST_BYTES, MAX_REQUEST_BYTES, encode, respond,
};
use crate::{
    AppState, auth, berth_ops, ecr, ecs, images, logs, query, secretsmanager, ssm, task_asks,
    throttle,
};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use berth_types::ecs as ecs_types;
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
        Some((berth_types::logs::TARGET_PREFIX, "PutLogEvents")) => {
            (MAX_LOG_EVENTS_REQUEST_BYTES, BODY_TIMEOUT)
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
    uri: &Uri,
    headers: &HeaderMap,
    refused: ApiError,
    request_id: &str,
) -> Response {
    let address = client.map(|c| c.0.ip().to_string()).unwrap_or_default();
    let admitted = app.limiter.admit(&address, throttle::Class::Anonymous)
        && app.limiter.admit("", throttle::Class::AnyAnonymous);
    let refused = if admitted {
        let target = target_of(headers);
        let action = match Operation::from_target(target) {
            Some(operation) if operation.is_mutating() => Some(operation.action()),
            Some(_) => None,
            None => target
                .rsplit_once('.')
                .filter(|(prefix, op)| prefix.starts_with("Berth") && !op.starts_with("List"))
                .map(|(_, op)| format!("berth:{op}")),
        };
        if let Some(action) = action {
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
        let service = auth::claimed_service(uri, headers);
        query::refused(service.as_deref(), &refused, request_id)
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
                unauthenticated(&app, client, &uri, &headers, e, &request_id)
            }
            joined => respond(&request_id, joined),
        };
    }
    if app.verify
        && let Err(e) = auth::precheck(&app.root, &app.control, &method, &uri, &headers)
    {
        return unauthenticated(&app, client, &uri, &headers, e, &request_id);
    }
    let body = match read_body(&headers, body, body_limit(&target)).await {
        Ok(body) => body,
        Err(e) => return respond(&request_id, Err(e)),
    };
    let (signer, principal) = match app.authenticate(&method, &uri, &headers, &body) {
        Ok(signed) => signed,
        Err(e) => return unauthenticated(&app, client, &uri, &headers, e, &request_id),
    };
    // The Query protocol names its service in the signature's credential scope and its
    // operation in the body; the JSON APIs name both in `X-Amz-Target`.
    let protocol = if query::is_query(&headers) {
        Protocol::Query(signer.service.clone())
    } else {
        Protocol::Json
    };
    let operation = match &protocol {
        Protocol::Query(service) => query::operation(service, &body),
        Protocol::Json => Operation::from_target(&target).ok_or_else(|| match target.rsplit_once('.') {
            Some((berth_types::logs::TARGET_PREFIX, name))
                if berth_types::logs::MODELLED_OPERATIONS.contains(&name) =>
            {
                ApiError::new(
                    ErrorCode::UnsupportedFeatureException,
                    format!("CloudWatch Logs operation {name} is not supported by Berth yet"),
                )
            }
            Some((berth_types::ssm::TARGET_PREFIX, name))
                if berth_types::ssm::MODELLED_OPERATIONS.contains(&name) =>
            {
                ApiError::new(
                    ErrorCode::ValidationException,
                    format!("SSM operation {name} is not supported by Berth: it answers Parameter Store's"),
                )
            }
            Some((berth_types::secretsmanager::TARGET_PREFIX, name))
                if berth_types::secretsmanager::MODELLED_OPERATIONS.contains(&name) =>
            {
                ApiError::new(
                    ErrorCode::InvalidRequestException,
                    format!("Secrets Manager operation {name} is not supported by Berth yet"),
                )
            }
            _ => ApiError::new(
                ErrorCode::UnknownOperationException,
                format!(
                    "{target:?} is not an operation Berth knows: check the X-Amz-Target header, e.g. AmazonEC2ContainerServiceV20141113.ListClusters"
                ),
            ),
        }),
    };
    let class = operation
        .as_ref()
        .map_or(throttle::Class::Api, |op| op.throttle());
    let signed = if app.limiter.admit(&signer.access_key, class) {
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
    let (prefix, name) = target.rsplit_once('.').unwrap_or(("", &target));
    if protocol == Protocol::Json
        && [berth_ops::AUDIT_PREFIX, berth_ops::AGENT_PREFIX].contains(&prefix)
    {
        let principal = signed.as_ref().ok().map(|(_, p)| p.arn().to_string());
        let result = signed
            .and_then(|(_, principal)| berth_ops::call(&app, &principal, prefix, name, &body));
        if !name.starts_with("List") {
            let ask = berth_ops::ask(name);
            let principal = principal.unwrap_or_else(|| "anonymous".into());
            let outcome = crate::outcome(&result);
            app.record(&principal, ask.action, ask.resource, outcome, &request_id);
        }
        return respond(&request_id, result);
    }
    let operation = match operation {
        Ok(operation) => operation,
        Err(unknown) => return protocol.refuse(&request_id, signed.err().unwrap_or(unknown)),
    };
    if !supported(operation) {
        let unsupported = ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            match operation {
                Operation::Ecr(op) => {
                    format!("ECR operation {} is not supported by Berth yet", op.name())
                }
                other => format!("{} is not supported by Berth yet", other.name()),
            },
        );
        return protocol.refuse(&request_id, signed.err().unwrap_or(unsupported));
    }
    let caller = signed.as_ref().ok().map(|(_, p)| p);
    let (call, ask) = decoded(&app, operation, &body, caller);
    let audited = ask
        .as_ref()
        .map_or((operation.action(), "*".to_string()), |a| {
            (a.action.clone(), a.resource.clone())
        });
    let principal = signed.as_ref().ok().map(|(_, p)| p.arn().to_string());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let result = signed.and_then(|(signer, principal)| {
        let (call, ask) = (call?, ask.unwrap_or_default());
        let answer = dispatch(&app, &signer.access_key, &principal, call, ask, host)?;
        if let auth::Principal::Agent { key, .. } = &principal
            && operation == Operation::Ecs(ecs_types::Operation::RegisterContainerInstance)
        {
            bind(&app, &key.id, &answer)?;
        }
        Ok(answer)
    });
    if operation.is_mutating() {
        let principal = principal.unwrap_or_else(|| "anonymous".into());
        let (action, asked) = audited;
        let resource = audited_resource(operation, asked, &result);
        app.record(
            &principal,
            action,
            resource,
            crate::outcome(&result),
            &request_id,
        );
    }
    match &protocol {
        Protocol::Json => respond(&request_id, result),
        Protocol::Query(service) => query::respond(service, operation, &request_id, result),
    }
}

/// How a request is framed: awsJson1.1 (ECS, ECR, Berth's own), or the Query protocol of the
/// service its signature names (IAM, STS).
#[derive(Debug, PartialEq)]
enum Protocol {
    Json,
    Query(String),
}

impl Protocol {
    /// The answer to a request refused before its body was decoded.
    fn refuse(&self, request_id: &str, refused: ApiError) -> Response {
        match self {
            Protocol::Json => respond(request_id, Err(refused)),
            Protocol::Query(service) => query::failure(service, &refused, request_id),
        }
    }
}

/// Whether Berth answers an operation (the IAM and STS operations generated are those it
/// answers).
fn supported(operation: Operation) -> bool {
    match operation {
        Operation::Ecs(op) => ecs::supports(op),
        Operation::Ecr(op) => ecr::supports(op),
        Operation::Logs(op) => logs::supports(op),
        Operation::Iam(_)
        | Operation::Sts(_)
        | Operation::Ssm(_)
        | Operation::SecretsManager(_)
        | Operation::Ec2(_) => true,
    }
}

/// The one decoding of a body, and what the call asks of the caller's policies: the typed call
/// then drives authorisation, audit and dispatch.
/// (An IAM call may be about the caller itself, so its ask depends on who calls.)
fn decoded(
    app: &AppState,
    operation: Operation,
    body: &[u8],
    caller: Option<&auth::Principal>,
) -> (Result<Call, ApiError>, Option<Ask>) {
    let call = operation.decode(body);
    let partition = app.control.partition();
    let ask = call.as_ref().ok().map(|call| match call {
        Call::Ecs(request) => ecs::ask(partition, request),
        Call::Ecr(request) => ecr::ask(app, request),
        Call::Iam(request) => query::iam::ask(&app.control, caller, request),
        Call::Sts(request) => query::sts::ask(request),
        Call::Logs(request) => logs::ask(partition, request),
        // Audited on the first name; `dispatch` asks for each.
        Call::Ssm(request) => ssm::asks(partition, request)
            .into_iter()
            .next()
            .unwrap_or_default(),
        Call::SecretsManager(request) => secretsmanager::ask(&app.control, request),
        // EC2 authorises its Describe* calls on `*`; Berth does the same for every EC2 call.
        Call::Ec2(request) => Ask {
            action: Operation::Ec2(request.operation()).action(),
            resource: "*".into(),
            ..Ask::default()
        },
    });
    (call, ask)
}

/// The largest join request: a token and a cluster name.
const JOIN_REQUEST_BYTES: usize = 4096;

/// Binds an agent's key to the instance its registration created.
fn bind(app: &AppState, key: &str, answer: &[u8]) -> Result<(), ApiError> {
    let v: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    match v["containerInstance"]["containerInstanceArn"].as_str() {
        Some(arn) => tokio::task::block_in_place(|| app.control.bind_agent_key(key, arn))
            .map_err(crate::control_errors::refused),
        None => Ok(()),
    }
}

/// The resource an audit event names: what the call was authorised on, except for a task
/// definition's registration, authorised on `*` since its revision does not exist yet, which
/// names the revision it created.
fn audited_resource(
    operation: Operation,
    asked: String,
    result: &Result<Vec<u8>, ApiError>,
) -> String {
    let created = match (operation, result) {
        (Operation::Ecs(ecs_types::Operation::RegisterTaskDefinition), Ok(answer)) => {
            let v: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
            v["taskDefinition"]["taskDefinitionArn"]
                .as_str()
                .map(str::to_string)
        }
        _ => None,
    };
    created.unwrap_or(asked)
}

/// Authorises a decoded call and answers it.
fn dispatch(
    app: &AppState,
    signer_key: &str,
    principal: &auth::Principal,
    call: Call,
    mut ask: Ask,
    host: &str,
) -> Result<Vec<u8>, ApiError> {
    match call {
        Call::Ecs(mut request) => {
            if ecs::batch_items(&mut request).is_some() {
                return batch(app, principal, request, host);
            }
            let definition = task_asks::definition(app, &request);
            if let Some(definition) = &definition {
                ask.keys.extend(task_asks::condition_keys(definition));
            }
            let tagging = ecs::tagging_ask(&app.control, principal.principal_arn(), &request, &ask);
            app.authorize(principal, ask, ErrorCode::AccessDeniedException)?;
            for pass in definition.iter().flat_map(task_asks::pass_role_asks) {
                app.authorize(principal, pass, ErrorCode::AccessDeniedException)?;
            }
            if let Some(tagging) = tagging {
                app.authorize(principal, tagging, ErrorCode::AccessDeniedException)?;
            }
            let starts = request.operation() != ecs_types::Operation::RegisterTaskDefinition;
            if let Some(definition) = definition.filter(|_| starts) {
                images::check_caller_may_pull(app, principal, &definition, host)?;
            }
            // Control-plane calls may wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| {
                ecs::call(&app.control, request, host, principal.principal_arn())
            })
        }
        Call::Ecr(request) => {
            let policy = ecr::repository_policy(app, &request)?;
            app.authorize_with(
                principal,
                ask,
                ErrorCode::AccessDeniedException,
                policy.as_deref(),
            )?;
            // Registry calls read and fsync files; keep them off the async workers' path.
            tokio::task::block_in_place(|| ecr::call(app, signer_key, request, host))
        }
        Call::Iam(request) => {
            app.authorize(principal, ask, ErrorCode::AccessDenied)?;
            // Identity calls may wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| query::iam::call(&app.control, principal, request))
        }
        // Who the caller is needs no permission, as in AWS; AssumeRole weighs the caller's
        // identity policies with the role's trust policy itself.
        Call::Sts(request) => query::sts::call(&app.control, principal, request),
        Call::Logs(request) => {
            app.authorize(principal, ask, ErrorCode::AccessDeniedException)?;
            // PutLogEvents fsyncs before it answers; keep it off the async workers' path.
            tokio::task::block_in_place(|| logs::call(&app.logs, app.control.partition(), request))
        }
        Call::Ssm(request) => {
            for ask in ssm::asks(app.control.partition(), &request) {
                app.authorize(principal, ask, ErrorCode::AccessDeniedException)?;
            }
            // Parameter writes wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| ssm::call(&app.control, principal.arn(), request))
        }
        Call::SecretsManager(request) => {
            app.authorize(principal, ask, ErrorCode::AccessDeniedException)?;
            // Secret writes wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| secretsmanager::call(&app.control, request))
        }
        Call::Ec2(request) => {
            app.authorize(principal, ask, ErrorCode::UnauthorizedOperation)?;
            // Network calls may wait on an fsync; keep them off the async workers' path.
            tokio::task::block_in_place(|| query::ec2::call(&app.control, principal, request))
        }
    }
}

/// A batch call whose items are authorised one by one: the call is made for the items the
/// caller may touch, and the others are added to its `failures[]` (reason `ACCESS_DENIED`).
/// When none may be touched, the call is refused as a whole.
fn batch(
    app: &AppState,
    principal: &auth::Principal,
    mut request: ecs_types::Request,
    host: &str,
) -> Result<Vec<u8>, ApiError> {
    let items = ecs::batch_items(&mut request)
        .map(std::mem::take)
        .unwrap_or_default();
    let mut allowed = vec![];
    let mut refused = vec![];
    for item in items {
        let ask = ecs::item_ask(app.control.partition(), &request, &item);
        match app.authorize(principal, ask, ErrorCode::AccessDeniedException) {
            Ok(()) => allowed.push(item),
            Err(e) => refused.push((item, e)),
        }
    }
    if allowed.is_empty()
        && let Some((_, e)) = refused.first()
    {
        return Err(e.clone());
    }
    if let Some(items) = ecs::batch_items(&mut request) {
        *items = allowed;
    }
    let answer = tokio::task::block_in_place(|| {
        ecs::call(&app.control, request, host, principal.principal_arn())
    })?;
    if refused.is_empty() {
        return Ok(answer);
    }
    let mut answer: serde_json::Value = serde_json::from_slice(&answer)
        .map_err(|e| ApiError::server(format!("cannot read the answer: {e}")))?;
    let failures = answer["failures"].as_array().cloned().unwrap_or_default();
    let denied = refused.into_iter().map(|(item, e)| {
        serde_json::json!({"arn": item, "reason": "ACCESS_DENIED", "detail": e.message})
    });
    answer["failures"] = failures.into_iter().chain(denied).collect();
    encode(&answer)
}

#[cfg(test)]
mod tests;
