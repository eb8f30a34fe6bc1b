//! The SigV4 `Authorization` header, checked for shape.
//!
//! Every AWS client signs its requests; a request without a signature is refused as AWS refuses
//! it. Verifying the signature against stored keys is the access-control layer's job; here the
//! header must be a well-formed `AWS4-HMAC-SHA256` header so that a garbled one is reported as
//! such.

use berth_types::{ApiError, ErrorCode};

/// The parts of a SigV4 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Header<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// `YYYYMMDD/region/service/aws4_request`.
    pub scope: &'a str,
    /// Semicolon-separated header names.
    pub signed_headers: &'a str,
    /// Hex signature.
    pub signature: &'a str,
}

/// Parses the `Authorization` header; the errors are the ones AWS gives.
pub fn parse(header: Option<&str>) -> Result<SigV4Header<'_>, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "request is missing Authentication Token: sign it with SigV4 (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as `berth up` prints them)",
        )
    })?;
    let incomplete = |what: &str| {
        ApiError::new(
            ErrorCode::IncompleteSignatureException,
            format!("the Authorization header is not a valid SigV4 header: {what}"),
        )
    };
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| incomplete("it must start with AWS4-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| incomplete("each part must be key=value"))?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential is missing"))?;
    let (access_key, scope) = credential
        .split_once('/')
        .ok_or_else(|| incomplete("Credential must be key/date/region/service/aws4_request"))?;
    if access_key.is_empty() || scope.split('/').count() != 4 || !scope.ends_with("/aws4_request") {
        return Err(incomplete(
            "Credential must be key/date/region/service/aws4_request",
        ));
    }
    let signed_headers = signed_headers
        .filter(|s| !s.is_empty())
        .ok_or_else(|| incomplete("SignedHeaders is missing"))?;
    let signature = signature
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| incomplete("Signature must be hex digits"))?;
    Ok(SigV4Header {
        access_key,
        scope,
        signed_headers,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sdk_headers_and_refuses_garbage() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123";
        let parsed = parse(Some(h)).expect("well formed");
        assert_eq!(parsed.access_key, "AKID");
        assert_eq!(
            parse(None).map_err(|e| e.code),
            Err(ErrorCode::MissingAuthenticationTokenException)
        );
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=x",
            "AWS4-HMAC-SHA256 \u{0}",
        ] {
            assert_eq!(
                parse(Some(bad)).map_err(|e| e.code),
                Err(ErrorCode::IncompleteSignatureException),
                "{bad}"
            );
        }
    }
}
