//! What a refused `/v2/` request is answered with: the OCI error body
//! (`{"errors":[{"code","message","detail"}]}`) with the status the spec gives its code, and the
//! Basic challenge on a 401.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_registry::RegistryError;

/// The realm `docker login` is sent to.
const REALM: &str = "Basic realm=\"Berth ECR\"";

/// Why a registry request was refused.
pub enum Refusal {
    /// The registry said no.
    Registry(RegistryError),
    /// No or bad credentials: 401 with the Basic challenge.
    Unauthorized(String),
    /// The caller's policies do not allow it.
    Denied(String),
}

/// What a handler answers: a response, or why not.
pub(super) type Answer = Result<Response, Refusal>;

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        Refusal::Registry(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Registry(e) => oci_error(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.code(),
                &e.to_string(),
            ),
            Refusal::Unauthorized(why) => oci_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &why),
            Refusal::Denied(why) => oci_error(StatusCode::FORBIDDEN, "DENIED", &why),
        }
    }
}

/// An OCI error response: `{"errors":[{"code","message","detail"}]}`.
fn oci_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"errors": [{"code": code, "message": message, "detail": {}}]});
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    }
    response
}
