//! The Query protocol of IAM and STS, and its EC2 dialect: `POST /` with a form body
//! (`Action=CreateUser&...`), answered in XML, so `aws iam ...`, `aws sts get-caller-identity`,
//! `aws ec2 ...` and the SDKs' clients of these services work against Berth. Which service is
//! meant comes from the signature's credential scope, the operation from the `Action`
//! parameter; the body is decoded once ([`params`], [`codec`]) into the operation's generated
//! input, and its output written as XML ([`xml`]) in the service's [`Dialect`]. [`iam`],
//! [`sts`] and [`ec2`] are the tables of operations.

pub(crate) mod codec;
mod dialect;
pub(crate) mod ec2;
mod ec2_shapes;
pub(crate) mod iam;
pub(crate) mod iam_roles;
pub(crate) mod params;
pub(crate) mod sts;
pub(crate) mod xml;

pub use dialect::Dialect;
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

/// The operation a Query request is for: of the service its signature names (`iam`, `sts`,
/// `ec2`), the one its `Action` parameter names.
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
        berth_types::ec2::SIGNING_NAME => berth_types::ec2::Operation::from_name(&action)
            .map(Operation::Ec2)
            .ok_or_else(|| {
                let supported: Vec<&str> = berth_types::ec2::Operation::ALL
                    .iter()
                    .map(|op| op.name())
                    .collect();
                unsupported("EC2", &format!("{} are", supported.join(", ")))
            }),
        other => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!(
                "service {other} is not served on the Query protocol here: iam, sts and ec2 are"
            ),
        )),
    }
}

/// The XML namespace of a service's answers.
fn namespace(service: &str) -> &'static str {
    match service {
        berth_types::sts::SIGNING_NAME => berth_types::sts::XML_NAMESPACE,
        berth_types::ec2::SIGNING_NAME => berth_types::ec2::XML_NAMESPACE,
        _ => berth_types::iam::XML_NAMESPACE,
    }
}

/// The answer to a Query request of `service`: the output's members (see [`xml::encode`],
/// [`xml::encode_ec2`]) wrapped as `operation`'s answer, or the error.
pub fn respond(
    service: &str,
    operation: Operation,
    request_id: &str,
    result: Result<Vec<u8>, ApiError>,
) -> Response {
    let namespace = namespace(service);
    let name = operation.name();
    match (result, Dialect::of(service)) {
        (Ok(members), Dialect::Query) => xml_response(
            StatusCode::OK,
            xml::answer(
                name,
                operation.result_wrapper(),
                namespace,
                &members,
                request_id,
            ),
        ),
        (Ok(members), Dialect::Ec2) => xml_response(
            StatusCode::OK,
            xml::answer_ec2(
                name,
                operation.has_output(),
                namespace,
                &members,
                request_id,
            ),
        ),
        (Err(e), _) => failure(service, &e, request_id),
    }
}

/// A Query request of `service` refused before its operation was known.
pub fn failure(service: &str, e: &ApiError, request_id: &str) -> Response {
    match Dialect::of(service) {
        Dialect::Query => failed(e, request_id, namespace(service)),
        Dialect::Ec2 => {
            let e = ec2_refusal(e);
            let status =
                StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            xml_response(status, xml::error_ec2(&e, request_id))
        }
    }
}

/// An error as EC2 names it: a request that does not authenticate is AuthFailure there, whatever
/// the reason (the message says which).
fn ec2_refusal(e: &ApiError) -> ApiError {
    match e.code {
        ErrorCode::MissingAuthenticationTokenException
        | ErrorCode::IncompleteSignatureException
        | ErrorCode::InvalidSignatureException
        | ErrorCode::UnrecognizedClientException
        | ErrorCode::InvalidClientTokenId
        | ErrorCode::ExpiredToken
        | ErrorCode::ExpiredTokenException => ApiError::new(ErrorCode::AuthFailure, &e.message),
        _ => e.clone(),
    }
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

/// An authentication failure on the Query protocol: in EC2's XML when the signature claims
/// `ec2`, else in IAM's.
pub fn refused(service: Option<&str>, e: &ApiError, request_id: &str) -> Response {
    match service {
        Some(service) if Dialect::of(service) == Dialect::Ec2 => failure(service, e, request_id),
        _ => failed(e, request_id, berth_types::iam::XML_NAMESPACE),
    }
}
