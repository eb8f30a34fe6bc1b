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
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = T::deserialize(&mut json).map_err(|e| explain::<T>(&e, body))?;
    json.end().map_err(|e| not_json(&e))?;
    value.validate("")?;
    Ok(value)
}

/// The stack the member of a refused body is looked for on: tracking the path costs a few KiB
/// a level in a debug build, and serde_json allows 128 levels, so the caller's own stack (a
/// runtime thread's, or a small one in the input tests) may not have room for it.
const EXPLAIN_STACK: usize = 8 * 1024 * 1024;

/// Why a body could not be decoded. A body that is not JSON (or nests past serde_json's 128
/// levels) is refused as such. Otherwise it is decoded again with its path tracked, to name
/// the member: tracking costs time and stack on every level, which a body that decodes should
/// not pay, so only a refused body does, on a thread with room for it.
fn explain<T: DeserializeOwned>(e: &serde_json::Error, body: &[u8]) -> ApiError {
    let is_json = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    if e.is_eof() || (e.is_syntax() && !is_json()) {
        return not_json(e);
    }
    let tracked = std::thread::scope(|scope| {
        let looked_for = std::thread::Builder::new()
            .name("explain".into())
            .stack_size(EXPLAIN_STACK)
            .spawn_scoped(scope, || {
                let mut json = serde_json::Deserializer::from_slice(body);
                serde_path_to_error::deserialize::<_, T>(&mut json).err()
            });
        looked_for.ok().and_then(|t| t.join().ok()).flatten()
    });
    match tracked {
        Some(tracked) => refusal(tracked),
        // No thread to look on (or, not expected, the body decoding this time): serde's words.
        None => ApiError::new(ErrorCode::SerializationException, e.to_string()),
    }
}

/// Why a body does not fit the input shape, in words naming the member (its path from the
/// body's root, as `containerDefinitions[0].memory`) rather than serde's types.
///
/// A member of the wrong JSON type is a `SerializationException`, as AWS's JSON services answer
/// it ("STRING_VALUE can not be converted to an Integer"): the body could not be read into the
/// shape at all. A missing required member or a value outside an enum is a well-formed body
/// with a bad parameter, an `InvalidParameterException`, as Berth answered it before.
fn refusal(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let json = e.inner();
    let path = e.path();
    let at_root = path.iter().next().is_none();
    let member = if at_root {
        "the request body".to_string()
    } else {
        path.to_string()
    };
    let serialization = |text: String| ApiError::new(ErrorCode::SerializationException, text);
    // serde_json's message is serde's, followed by where in the text it arose.
    let full = json.to_string();
    let suffix = format!(" at line {} column {}", json.line(), json.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if !json.is_data() {
        // ([`explain`] refused a body that is not JSON.)
        // What serde_json calls a syntax error in a body that is JSON: "expected value" for an
        // enum given something other than a string ("networkMode": 5), or "number out of
        // range" for one beyond a double.
        return serialization(if message == "expected value" {
            format!("{member} must be a string")
        } else {
            format!("{member}: {message}")
        });
    }
    // A structure's own errors (a member missing or given twice) are raised at its path.
    let member_of = |field: &str| {
        let field = field.trim_matches('`');
        if at_root {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(field) = message.strip_prefix("missing field ") {
        ApiError::invalid(format!("{} is required", member_of(field)))
    } else if let Some(field) = message.strip_prefix("duplicate field ") {
        serialization(format!("{} is given more than once", member_of(field)))
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, allowed) = rest.split_once(", expected one of ").unwrap_or((rest, ""));
        ApiError::invalid(format!(
            "{member} must be one of {}; \"{}\" is not",
            allowed.replace('`', ""),
            value.trim_matches('`')
        ))
    } else if let Some((value, expected)) = message
        .strip_prefix("invalid value: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    {
        // serde's one invalid value for these shapes: a number out of its type's range.
        let value = value.split('`').nth(1).unwrap_or(value);
        serialization(format!(
            "{member} must be {}; {value} is out of range",
            kind(expected)
        ))
    } else if let Some((_, expected)) = message.rsplit_once(", expected ") {
        // "invalid type", or "invalid length" for a list where a structure belongs.
        serialization(format!("{member} must be {}", kind(expected)))
    } else {
        serialization(format!("{member}: {message}"))
    }
}

/// A body that is not JSON at all (or has more after it).
fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        ErrorCode::SerializationException,
        format!("the request body is not valid JSON: {e}"),
    )
}

/// What a member must be, in the model's words, from what serde says it expected: a Rust type
/// (`i32`) or a visitor's description (`a sequence`, `struct ContainerDefinition`).
fn kind(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => "an integer",
        "f32" | "f64" => "a number",
        "a sequence" => "a list",
        "a map" => "a map of names to values",
        structure if structure.starts_with("struct ") => "a structure",
        // "a string", "a boolean": already the model's words.
        other => other,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::RegisterTaskDefinitionRequest;
    use berth_types::logs::PutRetentionPolicyRequest;

    /// The code and message a RegisterTaskDefinition body is refused with.
    fn refusal(body: &str) -> (ErrorCode, String) {
        let e = decode::<RegisterTaskDefinitionRequest>(body.as_bytes()).expect_err("refused");
        (e.code, e.message)
    }

    fn serialization(message: &str) -> (ErrorCode, String) {
        (ErrorCode::SerializationException, message.to_string())
    }

    fn invalid(message: &str) -> (ErrorCode, String) {
        (ErrorCode::InvalidParameterException, message.to_string())
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named_by_its_path() {
        let container = |member: &str| {
            refusal(&format!(
                r#"{{"family":"f","containerDefinitions":[{{"name":"a",{member}}}]}}"#
            ))
        };
        let memory = serialization("containerDefinitions[0].memory must be an integer");
        assert_eq!(container(r#""memory":"128""#), memory);
        assert_eq!(container(r#""memory":1.5"#), memory);
        assert_eq!(
            container(r#""memory":1e400"#),
            serialization("containerDefinitions[0].memory: number out of range")
        );
        assert_eq!(
            container(r#""memory":99999999999"#),
            serialization(
                "containerDefinitions[0].memory must be an integer; 99999999999 is out of range"
            )
        );
        assert_eq!(
            container(r#""essential":"yes""#),
            serialization("containerDefinitions[0].essential must be a boolean")
        );
        assert_eq!(
            container(r#""command":"ls""#),
            serialization("containerDefinitions[0].command must be a list")
        );
        assert_eq!(
            container(r#""linuxParameters":"x""#),
            serialization("containerDefinitions[0].linuxParameters must be a structure")
        );
        assert_eq!(
            container(r#""dockerLabels":{"a":1}"#),
            serialization("containerDefinitions[0].dockerLabels.a must be a string")
        );
    }

    #[test]
    fn a_top_level_member_or_the_body_of_the_wrong_type_is_named() {
        assert_eq!(
            refusal(r#"{"family":7,"containerDefinitions":[]}"#),
            serialization("family must be a string")
        );
        assert_eq!(
            refusal(r#"{"family":"f","containerDefinitions":[],"networkMode":5}"#),
            serialization("networkMode must be a string")
        );
        assert_eq!(
            refusal("[]"),
            serialization("the request body must be a structure")
        );
        // Every JSON service decodes through here.
        let e =
            decode::<PutRetentionPolicyRequest>(br#"{"logGroupName":"g","retentionInDays":"7"}"#)
                .expect_err("refused");
        assert_eq!(e.message, "retentionInDays must be an integer");
    }

    #[test]
    fn an_unknown_enum_value_is_named_with_the_allowed_ones() {
        assert_eq!(
            refusal(r#"{"family":"f","containerDefinitions":[],"networkMode":"bogus"}"#),
            invalid(r#"networkMode must be one of bridge, host, awsvpc, none; "bogus" is not"#)
        );
        assert_eq!(
            refusal(r#"{"family":"f","containerDefinitions":[],"requiresCompatibilities":["X"]}"#),
            invalid(
                r#"requiresCompatibilities[0] must be one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES; "X" is not"#
            )
        );
    }

    #[test]
    fn a_missing_required_member_is_named() {
        assert_eq!(
            refusal(r#"{"containerDefinitions":[]}"#),
            invalid("family is required")
        );
        assert_eq!(
            refusal(
                r#"{"family":"f","containerDefinitions":[{"name":"a","secrets":[{"name":"s"}]}]}"#
            ),
            invalid("containerDefinitions[0].secrets[0].valueFrom is required")
        );
    }

    #[test]
    fn a_body_that_is_not_json_says_so() {
        for body in [
            r#"{"family":"f""#,
            r#"{"family":"f","containerDefinitions":[]} x"#,
        ] {
            let (code, message) = refusal(body);
            assert_eq!(code, ErrorCode::SerializationException);
            assert!(
                message.starts_with("the request body is not valid JSON: "),
                "{message}"
            );
        }
    }
}
