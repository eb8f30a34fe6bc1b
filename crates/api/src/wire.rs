//! awsJson1.1 framing, a leaf every JSON API module uses: the content type, bodies decoded into
//! an operation's input shape (with the model's limits checked) and outputs encoded, answers
//! with `{"__type", "message"}` errors and an `x-amzn-RequestId`, and the limits on a body's
//! size and the time it may take to arrive.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_types::{ApiError, ErrorCode, Validate};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The awsJson1.1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Decodes a request body into an operation's input shape and checks the model's limits.
pub fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    #[cfg(test)]
    DECODED.with(|count| count.set(count.get() + 1));
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

#[cfg(test)]
thread_local! {
    /// How many bodies this thread decoded: the tests check each request is decoded once.
    pub(crate) static DECODED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The awsJson1.1 decoder the generated `Request::decode` calls ([`decode`]).
pub struct Json;

impl berth_types::request::Decoder for Json {
    fn decode<T: DeserializeOwned + Validate>(&self, body: &[u8]) -> Result<T, ApiError> {
        decode(body)
    }
}

/// Encodes an operation's output.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|e| ApiError::server(format!("cannot encode the answer: {e}")))
}

/// The answer to a call: its output, or its error with the status the error code carries.
pub fn respond(request_id: &str, result: Result<Vec<u8>, ApiError>) -> Response {
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
pub(crate) const MAX_LAYER_REQUEST_BYTES: usize = 28 * 1024 * 1024;
/// The largest PutImage body: a manifest of at most 4 MiB, escaped in JSON.
pub(crate) const MAX_IMAGE_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// The largest PutLogEvents body: 1 MiB of messages in 10,000 events, escaped in JSON.
pub(crate) const MAX_LOG_EVENTS_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// The largest body of every other call (an ECS task definition is at most 64 KiB).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// How long a client may take to send a body of [`MAX_REQUEST_BYTES`]; the calls that carry
/// layers get [`LAYER_BODY_TIMEOUT`].
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send an UploadLayerPart or PutImage body.
pub(crate) const LAYER_BODY_TIMEOUT: Duration = Duration::from_secs(300);
