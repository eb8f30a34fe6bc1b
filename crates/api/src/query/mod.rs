//! The Query protocol of IAM and STS: `POST /` with a form body (`Action=CreateUser&...`),
//! answered in XML, so `aws iam ...`, `aws sts get-caller-identity` and the SDKs' IAM clients
//! work against Berth. Which service is meant comes from the signature's credential scope, the
//! operation from the `Action` parameter; the body is decoded once ([`params`], [`codec`]) into the
//! operation's generated input, and its output written as XML ([`xml`]). [`iam`] and [`sts`]
//! are the tables of operations.

pub(crate) mod codec;
pub(crate) mod iam;
pub(crate) mod iam_roles;
pub(crate) mod params;
pub(crate) mod sts;
pub(crate) mod xml;

pub use params::form;

use crate::catalogue::Operation;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_types::{ApiError, ErrorCode};

/// Whether a request is on the Query protocol (a form body, no `X-Amz-Target`).
pub fn is_query(headers: &axum::http::HeaderMap) -> bool {
    !headers.contains_key("x-amz-target")
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

/// The operation a Query request is for: of the service its signature names (`iam`, `sts`),
/// the one its `Action` parameter names.
pub fn operation(service: &str, body: &[u8]) -> Result<Operation, ApiError> {
    let action = params::action(body).unwrap_or_default();
    let unsupported = |service: &str, what: &str| {
        ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            format!("{service} action {action} is not supported by Berth: {what}"),
        )
    };
    match service {
        berth_types::iam::SIGNING_NAME => berth_types::iam::Operation::from_name(&action)
            .map(Operation::Iam)
            .ok_or_else(|| {
                unsupported(
                    "IAM",
                    "users, access keys, roles, their inline and managed policies are",
                )
            }),
        berth_types::sts::SIGNING_NAME => berth_types::sts::Operation::from_name(&action)
            .map(Operation::Sts)
            .ok_or_else(|| unsupported("STS", "GetCallerIdentity and AssumeRole are")),
        other => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("service {other} is not served on the Query protocol here: iam and sts are"),
        )),
    }
}

/// The XML namespace of a service's answers.
fn namespace(service: &str) -> &'static str {
    match service {
        berth_types::sts::SIGNING_NAME => berth_types::sts::XML_NAMESPACE,
        _ => berth_types::iam::XML_NAMESPACE,
    }
}

/// The answer to a Query request of `service`: the output's members (see [`xml::encode`])
/// wrapped as `operation`'s answer, or the error.
pub fn respond(
    service: &str,
    operation: Operation,
    request_id: &str,
    result: Result<Vec<u8>, ApiError>,
) -> Response {
    let namespace = namespace(service);
    match result {
        Ok(members) => xml_response(
            StatusCode::OK,
            xml::answer(
                operation.name(),
                operation.result_wrapper(),
                namespace,
                &members,
                request_id,
            ),
        ),
        Err(e) => failed(&e, request_id, namespace),
    }
}

/// A Query request of `service` refused before its operation was known.
pub fn failure(service: &str, e: &ApiError, request_id: &str) -> Response {
    failed(e, request_id, namespace(service))
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

fn failed(e: &ApiError, request_id: &str, namespace: &str) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = xml::error(e, status.is_server_error(), namespace, request_id);
    xml_response(status, body)
}

/// An authentication failure on the Query protocol, in its XML form.
pub fn refused(e: &ApiError, request_id: &str) -> Response {
    failed(e, request_id, berth_types::iam::XML_NAMESPACE)
}
