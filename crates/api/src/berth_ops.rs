//! Berth's own operations, on the same awsJson1.1 framing as ECS: the audit log
//! (`BerthAudit.ListAuditEvents`) and the agents' credentials (`BerthAgent.Join` with a join
//! token; `RotateJoinToken`, `ListAgentKeys` and `RevokeAgentKey` for operators; a task's role
//! credentials and secrets for its agent, in [`crate::task_identity`]). Each is
//! authorised as the action `berth:<Operation>`, which only the root and users whose policies
//! name it may call.

use crate::control_errors::refused;
use crate::wire::encode;
use crate::{AppState, auth, policy::Ask};
use berth_control::audit::AuditFilter;
use berth_control::identity::ANY_CLUSTER;
use berth_types::{ApiError, ErrorCode};
use serde_json::{Value, json};

/// The target prefix of the audit API.
pub(crate) const AUDIT_PREFIX: &str = "BerthAudit";
/// The target prefix of the agents' credentials API.
pub(crate) const AGENT_PREFIX: &str = "BerthAgent";
/// The target agents trade the join token at; authenticated by the token, not a signature.
pub(crate) const JOIN_TARGET: &str = "BerthAgent.Join";

fn unknown(target: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownOperationException,
        format!(
            "{target} is not an operation Berth knows: use {AUDIT_PREFIX}.ListAuditEvents, or {AGENT_PREFIX}.RotateJoinToken, ListAgentKeys or RevokeAgentKey"
        ),
    )
}

fn parse(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("the request body is not JSON: {e}"),
        )
    })
}

/// What one of Berth's operations asks of the caller's policies: `berth:<Operation>`.
pub(crate) fn ask(operation: &str) -> Ask {
    Ask {
        action: format!("berth:{operation}"),
        resource: "*".into(),
        ..Ask::default()
    }
}

/// Answers `<prefix>.<operation>` for `principal`.
pub(crate) fn call(
    app: &AppState,
    principal: &auth::Principal,
    prefix: &str,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    if prefix == AGENT_PREFIX && crate::task_identity::answers(operation) {
        return crate::task_identity::call(app, principal, operation, body);
    }
    let target = format!("{prefix}.{operation}");
    let known = matches!(
        (prefix, operation),
        (AUDIT_PREFIX, "ListAuditEvents")
            | (
                AGENT_PREFIX,
                "RotateJoinToken" | "ListAgentKeys" | "RevokeAgentKey"
            )
    );
    if !known {
        return Err(unknown(&target));
    }
    app.authorize(principal, ask(operation), ErrorCode::AccessDeniedException)?;
    let v = parse(body)?;
    let control = &app.control;
    tokio::task::block_in_place(|| match operation {
        "ListAuditEvents" => {
            let (limit, filter) = audit_query(&v)?;
            encode(&json!({ "events": control.audit_events(limit, &filter).map_err(refused)? }))
        }
        "RotateJoinToken" => {
            let scope = v["cluster"].as_str().unwrap_or(ANY_CLUSTER);
            let token = control.rotate_join_token(scope).map_err(refused)?;
            encode(&json!({ "cluster": scope, "joinToken": token }))
        }
        "ListAgentKeys" => {
            let keys: Vec<Value> = control
                .agent_keys(v["cluster"].as_str())
                .into_iter()
                .map(|k| {
                    json!({
                        "accessKeyId": k.id,
                        "cluster": k.cluster,
                        "containerInstanceArn": k.instance,
                        "createdAt": k.created,
                    })
                })
                .collect();
            encode(&json!({ "agentKeys": keys }))
        }
        _ => {
            let id = v["accessKeyId"].as_str().ok_or_else(|| {
                ApiError::invalid("accessKeyId is required: name the agent key to revoke")
            })?;
            control.revoke_agent_key(id).map_err(refused)?;
            encode(&json!({}))
        }
    })
}

/// `ListAuditEvents`' request: `maxResults` (at least 1; 100 when absent), and the filters
/// `principal`, `action`, `resource` (text the field contains), `since`, `until` (seconds since
/// the epoch) and `hideAgentReports`. Each is optional, so a request of an older client that
/// sends `maxResults` alone is answered as before.
fn audit_query(v: &Value) -> Result<(usize, AuditFilter), ApiError> {
    let limit = match &v["maxResults"] {
        Value::Null => 100,
        n => n.as_u64().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::invalid(format!(
                "maxResults must be a whole number of at least 1, not {n}"
            ))
        })?,
    };
    let text = |name: &str| v[name].as_str().map(str::to_string);
    let filter = AuditFilter {
        principal: text("principal"),
        action: text("action"),
        resource: text("resource"),
        since: v["since"].as_f64(),
        until: v["until"].as_f64(),
        hide_agent_reports: v["hideAgentReports"].as_bool().unwrap_or(false),
    };
    Ok((usize::try_from(limit).unwrap_or(usize::MAX), filter))
}

/// `BerthAgent.Join {"joinToken", "cluster"}`: credentials for one agent of that cluster.
pub(crate) fn join(app: &AppState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let token = v["joinToken"].as_str().unwrap_or_default();
    let cluster = v["cluster"]
        .as_str()
        .filter(|c| !c.is_empty())
        .unwrap_or("default");
    let key = app.control.join(token, cluster).map_err(refused)?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let resource = app.control.partition().cluster(cluster);
    app.record(
        "join-token",
        "berth:Join".into(),
        resource,
        "Success",
        &request_id,
    );
    encode(&json!({
        "accessKeyId": key.id,
        "secretAccessKey": key.secret,
    }))
}
