//! Authentication: every request (the JSON API and the agent stream) must carry a valid SigV4
//! signature by an access key the server issued. The faults map to the exceptions AWS answers
//! with, so the SDKs and the CLI report them as they would against AWS.

use crate::sigv4::{self, Fault, Signer};
use axum::http::{HeaderMap, Method, Uri};
use berth_types::{ApiError, ErrorCode};
use std::collections::HashMap;

/// Where the secrets of access keys are kept.
pub trait Keys: Send + Sync {
    /// The secret of an access key, if the server issued it and it is active.
    fn secret(&self, access_key_id: &str) -> Option<String>;
}

/// A fixed set of keys (the account's root key).
#[derive(Debug, Default, Clone)]
pub struct StaticKeys(HashMap<String, String>);

impl StaticKeys {
    /// Keys from `(access key id, secret)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }
}

impl Keys for StaticKeys {
    fn secret(&self, access_key_id: &str) -> Option<String> {
        self.0.get(access_key_id).cloned()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn error(fault: Fault, now: i64) -> ApiError {
    match fault {
        Fault::Missing => ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "Missing Authentication Token: sign the request with SigV4 (export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as `berth up` prints them)",
        ),
        Fault::Incomplete(why) => ApiError::new(ErrorCode::IncompleteSignatureException, why),
        Fault::UnknownKey(key) => ApiError::new(
            ErrorCode::UnrecognizedClientException,
            format!(
                "The security token included in the request is invalid: access key {key} was not issued by this server; use the keys `berth up` printed"
            ),
        ),
        Fault::Mismatch => ApiError::new(
            ErrorCode::InvalidSignatureException,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ),
        Fault::Expired(signed) => ApiError::new(
            ErrorCode::InvalidSignatureException,
            format!(
                "Signature expired: {signed} is now earlier than {} ({} - 15 min.); check this machine's clock",
                sigv4::amz_date(now - sigv4::SKEW_SECONDS),
                sigv4::amz_date(now)
            ),
        ),
        Fault::BodyHash => ApiError::new(
            ErrorCode::InvalidSignatureException,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
    }
}

/// Verifies a request's signature; the signer on success, the AWS exception otherwise.
pub fn authenticate(
    keys: &dyn Keys,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Signer, ApiError> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let request = sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        headers: &headers,
        body,
    };
    let now = now();
    sigv4::verify(&request, |key| keys.secret(key), now, true).map_err(|f| error(f, now))
}
