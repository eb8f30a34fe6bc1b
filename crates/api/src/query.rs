//! The Query protocol of IAM and STS: `POST /` with a form body (`Action=CreateUser&...`),
//! answered in XML, so `aws iam ...`, `aws sts get-caller-identity` and the SDKs' IAM clients
//! work against Berth. Which service is meant comes from the signature's credential scope.
//! IAM calls are authorised like any other (`iam:<Action>` on the user's ARN).

use crate::auth::Principal;
use crate::policy::Ask;
use crate::sigv4;
use crate::{AppState, policy};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_control::identity::{AccessKey, User};
use berth_types::{ApiError, ErrorCode};
use std::collections::BTreeMap;

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Whether a request is on the Query protocol (a form body, no `X-Amz-Target`).
pub fn is_query(headers: &axum::http::HeaderMap) -> bool {
    !headers.contains_key("x-amz-target")
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

/// The parameters of a form body (`Action=CreateUser&UserName=...`): `+` is a space, `%XX`
/// escapes are decoded, and a repeated key keeps its last value.
pub fn form(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body).replace('+', " ");
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| String::from_utf8_lossy(&sigv4::percent_decode(s)).into_owned();
            (decode(k), decode(v))
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

/// ISO 8601, as IAM writes dates.
fn iso(epoch: f64) -> String {
    let d = sigv4::amz_date(epoch as i64);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    )
}

fn user_xml(u: &User) -> String {
    format!(
        "{}{}{}{}{}",
        el("Path", &u.path),
        el("UserName", &u.name),
        el("UserId", &u.id),
        el("Arn", &u.arn),
        el("CreateDate", &iso(u.created))
    )
}

fn key_xml(k: &AccessKey, with_secret: bool) -> String {
    let status = if k.active { "Active" } else { "Inactive" };
    let secret = if with_secret {
        el("SecretAccessKey", &k.secret)
    } else {
        String::new()
    };
    format!(
        "{}{}{}{secret}{}",
        el("UserName", &k.user),
        el("AccessKeyId", &k.id),
        el("Status", status),
        el("CreateDate", &iso(k.created))
    )
}

fn members(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect()
}

fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ValidationError,
                format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"),
            )
        })
}

/// The user an IAM call is about: `UserName`, or the caller's own.
fn user_name(params: &BTreeMap<String, String>, principal: &Principal) -> Result<String, ApiError> {
    match (params.get("UserName"), principal) {
        (Some(n), _) if !n.is_empty() => Ok(n.clone()),
        (_, Principal::User(u)) => Ok(u.name.clone()),
        _ => param(params, "UserName").map(str::to_string),
    }
}

/// The `<Action>Result` body of an IAM action.
fn iam(
    app: &AppState,
    action: &str,
    params: &BTreeMap<String, String>,
    principal: &Principal,
) -> Result<String, ApiError> {
    let control = &app.control;
    let account = &control.partition().account;
    let name = || user_name(params, principal);
    let target = match action {
        "ListUsers" => "*".to_string(),
        _ => format!("arn:aws:iam::{account}:user/{}", name().unwrap_or_default()),
    };
    let ask = Ask {
        action: format!("iam:{action}"),
        resource: target,
        ..Ask::default()
    };
    app.authorize(principal, ask, ErrorCode::AccessDenied)?;
    // Identity calls may wait on an fsync; keep them off the async workers' path.
    tokio::task::block_in_place(|| {
        Ok(match action {
            "CreateUser" => format!("<User>{}</User>", user_xml(&control.create_user(&name()?)?)),
            "GetUser" => match principal {
                Principal::Root { arn } if !params.contains_key("UserName") => format!(
                    "<User>{}{}{}</User>",
                    el("UserId", account),
                    el("Arn", arn),
                    el("CreateDate", &iso(0.0))
                ),
                _ => format!("<User>{}</User>", user_xml(&control.get_user(&name()?)?)),
            },
            "ListUsers" => format!(
                "<Users>{}</Users><IsTruncated>false</IsTruncated>",
                members(control.list_users().iter().map(user_xml))
            ),
            "DeleteUser" => {
                control.delete_user(&name()?)?;
                String::new()
            }
            "CreateAccessKey" => format!(
                "<AccessKey>{}</AccessKey>",
                key_xml(&control.create_access_key(&name()?)?, true)
            ),
            "ListAccessKeys" => format!(
                "<AccessKeyMetadata>{}</AccessKeyMetadata><IsTruncated>false</IsTruncated>",
                members(
                    control
                        .list_access_keys(&name()?)?
                        .iter()
                        .map(|k| key_xml(k, false))
                )
            ),
            "UpdateAccessKey" => {
                control.update_access_key(
                    &name()?,
                    param(params, "AccessKeyId")?,
                    param(params, "Status")?,
                )?;
                String::new()
            }
            "DeleteAccessKey" => {
                control.delete_access_key(&name()?, param(params, "AccessKeyId")?)?;
                String::new()
            }
            "PutUserPolicy" => {
                control.put_user_policy(
                    &name()?,
                    param(params, "PolicyName")?,
                    param(params, "PolicyDocument")?,
                    policy::check,
                )?;
                String::new()
            }
            "GetUserPolicy" => {
                let p = control.get_user_policy(&name()?, param(params, "PolicyName")?)?;
                // IAM answers the document URL-encoded; the SDKs decode it.
                format!(
                    "{}{}{}",
                    el("UserName", &p.user),
                    el("PolicyName", &p.name),
                    el(
                        "PolicyDocument",
                        &sigv4::uri_encode(p.document.as_bytes(), false)
                    )
                )
            }
            "ListUserPolicies" => format!(
                "<PolicyNames>{}</PolicyNames><IsTruncated>false</IsTruncated>",
                members(
                    control
                        .list_user_policies(&name()?)?
                        .iter()
                        .map(|n| escape(n))
                )
            ),
            "DeleteUserPolicy" => {
                control.delete_user_policy(&name()?, param(params, "PolicyName")?)?;
                String::new()
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedFeatureException,
                    format!(
                        "IAM action {other} is not supported by Berth: users, access keys and inline user policies are"
                    ),
                ));
            }
        })
    })
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

fn error_response(e: &ApiError, request_id: &str, ns: &str) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml_response(
        status,
        format!(
            "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type>{}{}</Error>{}</ErrorResponse>",
            el("Code", e.code.as_str()),
            el("Message", &e.message),
            el("RequestId", request_id)
        ),
    )
}

/// Answers one Query-protocol request from a signed, authenticated caller.
pub fn handle(
    app: &AppState,
    service: &str,
    principal: &Principal,
    body: &[u8],
    request_id: &str,
) -> Response {
    let params = form(body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let (ns, result) = match service {
        "sts" => (
            STS_NS,
            match action.as_str() {
                // GetCallerIdentity needs no permission, as in AWS.
                "GetCallerIdentity" => {
                    let (id, arn) = match principal {
                        Principal::Root { arn } => {
                            (app.control.partition().account.clone(), arn.clone())
                        }
                        Principal::User(u) => (u.id.clone(), u.arn.clone()),
                        Principal::Agent { arn, key } => (key.id.clone(), arn.clone()),
                    };
                    Ok(format!(
                        "{}{}{}",
                        el("Arn", &arn),
                        el("UserId", &id),
                        el("Account", &app.control.partition().account)
                    ))
                }
                other => Err(ApiError::new(
                    ErrorCode::UnsupportedFeatureException,
                    format!("STS action {other} is not supported by Berth: GetCallerIdentity is"),
                )),
            },
        ),
        "iam" => {
            let result = iam(app, &action, &params, principal);
            if !["Get", "List"].iter().any(|p| action.starts_with(p)) {
                let user = params.get("UserName").cloned().unwrap_or_default();
                let resource = format!(
                    "arn:aws:iam::{}:user/{user}",
                    app.control.partition().account
                );
                let outcome = crate::outcome(&result);
                app.record(
                    principal.arn(),
                    format!("iam:{action}"),
                    resource,
                    outcome,
                    request_id,
                );
            }
            (IAM_NS, result)
        }
        other => (
            IAM_NS,
            Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                format!(
                    "service {other} is not served on the Query protocol here: iam and sts are"
                ),
            )),
        ),
    };
    match result {
        Ok(inner) => xml_response(
            StatusCode::OK,
            format!(
                "<{action}Response xmlns=\"{ns}\"><{action}Result>{inner}</{action}Result><ResponseMetadata>{}</ResponseMetadata></{action}Response>",
                el("RequestId", request_id)
            ),
        ),
        Err(e) => error_response(&e, request_id, ns),
    }
}

/// An authentication failure on the Query protocol, in its XML form.
pub fn refused(e: &ApiError, request_id: &str) -> Response {
    error_response(e, request_id, IAM_NS)
}
