//! AWS Signature Version 4, verified: the request is canonicalised exactly as the client did it
//! (only the headers it signed, its path and query re-encoded, the body hashed), the signing key
//! is derived from the secret of the access key it names, and the signatures are compared in
//! constant time. Both forms are read: the `Authorization` header and the presigned query
//! (`X-Amz-Signature`). Requests older or newer than [`SKEW_SECONDS`] (or past a presigned
//! request's `X-Amz-Expires`) are refused.
//!
//! Pure: no I/O, the caller passes the request, a way to find a key's secret, and the time.

mod dates;
mod encoding;

pub use dates::{amz_date, iso8601, parse_amz_date};
pub use encoding::{percent_decode, uri_encode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far a request's `X-Amz-Date` may be from the server's clock, as AWS allows.
pub(crate) const SKEW_SECONDS: i64 = 15 * 60;
/// The longest a presigned request may stay valid (`X-Amz-Expires`), as AWS allows: 7 days.
pub const MAX_EXPIRES_SECONDS: i64 = 7 * 24 * 3600;
/// The most headers a signature may cover (the SDKs sign a handful).
pub(crate) const MAX_SIGNED_HEADERS: usize = 64;
/// Headers that say what a request does: when present they must be signed, or a captured
/// request could be replayed as another operation.
const MUST_SIGN: &[&str] = &["x-amz-target", "content-type"];
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request as the client signed it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as it appeared on the request line, without the query.
    pub path: &'a str,
    /// The raw query string (after `?`), possibly empty.
    pub query: &'a str,
    /// Headers as received, in order; names in any case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The access key id.
    pub access_key: String,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope.
    pub service: String,
}

/// Why a request did not verify, in the terms AWS answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No signature at all (MissingAuthenticationTokenException).
    Missing,
    /// A signature that is malformed or lacks a part (IncompleteSignatureException).
    Incomplete(String),
    /// An access key nobody issued (UnrecognizedClientException).
    UnknownKey(String),
    /// The signatures differ (InvalidSignatureException).
    Mismatch,
    /// Signed too long ago, or in the future (InvalidSignatureException, "Signature expired").
    Expired(String),
    /// `x-amz-content-sha256` is not the body's hash.
    BodyHash,
}

/// The parts of a signature, from the header or the query.
struct Parts {
    access_key: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    /// Seconds a presigned request stays valid; None for the header form.
    expires: Option<i64>,
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The canonical URI: dot segments and empty segments removed when `normalize`, then the path
/// as sent encoded once more (so an already-encoded path ends up double-encoded, as the SDKs
/// sign it for every service but S3).
fn canonical_uri(path: &str, normalize: bool) -> String {
    let path = if path.is_empty() { "/" } else { path };
    let path = if normalize {
        let mut segments: Vec<&str> = vec![];
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                s => segments.push(s),
            }
        }
        let trailing = path.ends_with('/') && !segments.is_empty();
        let mut p = format!("/{}", segments.join("/"));
        if trailing {
            p.push('/');
        }
        p
    } else {
        path.to_string()
    };
    uri_encode(path.as_bytes(), true)
}

/// The canonical query: every parameter but the signature, decoded and re-encoded, sorted.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    params.sort();
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value as signed: trimmed, runs of spaces made one.
fn canonical_value(v: &str) -> std::borrow::Cow<'_, str> {
    // Most values are already canonical: single spaces, none at the ends.
    let mut after_space = true;
    let plain = v.chars().all(|c| {
        let fine = !c.is_whitespace() || (c == ' ' && !after_space);
        after_space = c.is_whitespace();
        fine
    }) && !v.ends_with(char::is_whitespace);
    if plain {
        v.into()
    } else {
        v.split_whitespace().collect::<Vec<_>>().join(" ").into()
    }
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The key a secret signs with on `date` (YYYYMMDD) for a region and service.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// The canonical request of `req` under `parts`, with the body's hash.
fn canonical_request(req: &Request, parts: &Parts, normalize: bool, body_hash: &str) -> String {
    let mut out = String::with_capacity(512);
    for part in [
        req.method,
        "\n",
        &canonical_uri(req.path, normalize),
        "\n",
        &canonical_query(req.query),
        "\n",
    ] {
        out.push_str(part);
    }
    for name in &parts.signed_headers {
        out.push_str(name);
        out.push(':');
        let values = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        for (i, (_, v)) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&canonical_value(v));
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&parts.signed_headers.join(";"));
    out.push('\n');
    out.push_str(body_hash);
    out
}

/// The string to sign for a canonical request.
fn string_to_sign(parts: &Parts, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/aws4_request\n{}",
        parts.amz_date,
        parts.date,
        parts.region,
        parts.service,
        hex_sha256(canonical.as_bytes())
    )
}

fn scope_parts(credential: &str) -> Result<(String, String, String, String), Fault> {
    let bad = || {
        Fault::Incomplete(format!(
            "Credential {credential:?} must be <access key>/<YYYYMMDD>/<region>/<service>/aws4_request"
        ))
    };
    let fields: Vec<&str> = credential.split('/').collect();
    match fields.as_slice() {
        [key, date, region, service, "aws4_request"]
            if !key.is_empty() && date.len() == 8 && !region.is_empty() && !service.is_empty() =>
        {
            Ok((
                key.to_string(),
                date.to_string(),
                region.to_string(),
                service.to_string(),
            ))
        }
        _ => Err(bad()),
    }
}

fn from_header(req: &Request, authorization: &str) -> Result<Parts, Fault> {
    let rest = authorization
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            Fault::Incomplete(format!(
                "the Authorization header must start with {ALGORITHM}"
            ))
        })?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(Fault::Incomplete(format!(
                "Authorization header part {:?} is not key=value",
                part.trim()
            )));
        };
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let missing =
        |what: &str| Fault::Incomplete(format!("Authorization header requires '{what}' parameter"));
    let (access_key, date, region, service) =
        scope_parts(credential.ok_or_else(|| missing("Credential"))?)?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("Signature"))?;
    let amz_date = header(req, "x-amz-date")
        .ok_or_else(|| missing("X-Amz-Date"))?
        .to_string();
    Ok(Parts {
        access_key,
        date,
        region,
        service,
        signed_headers: signed.split(';').map(str::to_ascii_lowercase).collect(),
        signature: signature.to_string(),
        amz_date,
        expires: None,
    })
}

fn from_query(query: &str) -> Result<Option<Parts>, Fault> {
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(&percent_decode(k)).into_owned(),
                String::from_utf8_lossy(&percent_decode(v)).into_owned(),
            )
        })
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(signature) = get("X-Amz-Signature") else {
        return Ok(None);
    };
    let missing = |what: &str| Fault::Incomplete(format!("the presigned query lacks {what}"));
    if get("X-Amz-Algorithm").as_deref() != Some(ALGORITHM) {
        return Err(missing(&format!("X-Amz-Algorithm={ALGORITHM}")));
    }
    let (access_key, date, region, service) =
        scope_parts(&get("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?)?;
    let expires = get("X-Amz-Expires")
        .ok_or_else(|| missing("X-Amz-Expires"))?
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES_SECONDS).contains(s))
        .ok_or_else(|| {
            Fault::Incomplete(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_SECONDS} (7 days)"
            ))
        })?;
    Ok(Some(Parts {
        access_key,
        date,
        region,
        service,
        signed_headers: get("X-Amz-SignedHeaders")
            .ok_or_else(|| missing("X-Amz-SignedHeaders"))?
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect(),
        signature,
        amz_date: get("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?,
        expires: Some(expires),
    }))
}

/// The signature's parts, checked for everything but the signature itself: its form, the
/// headers it must cover and its time.
fn checked_parts(req: &Request, now: i64) -> Result<Parts, Fault> {
    let parts = match header(req, "authorization") {
        Some(a) => from_header(req, a)?,
        None => from_query(req.query)?.ok_or(Fault::Missing)?,
    };
    if !parts.signed_headers.iter().any(|h| h == "host") {
        return Err(Fault::Incomplete("SignedHeaders must include host".into()));
    }
    // Sorted and unique, as SigV4 has them: a name repeated would repeat its value in the
    // canonical request, so a short header could be made to cost gigabytes to verify.
    if parts.signed_headers.len() > MAX_SIGNED_HEADERS
        || parts.signed_headers.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(Fault::Incomplete(format!(
            "SignedHeaders must name at most {MAX_SIGNED_HEADERS} headers, each once, in sorted order"
        )));
    }
    for name in MUST_SIGN {
        if header(req, name).is_some() && !parts.signed_headers.iter().any(|h| h == name) {
            return Err(Fault::Incomplete(format!(
                "SignedHeaders must include {name} when the request carries it"
            )));
        }
    }
    let signed_at = parse_amz_date(&parts.amz_date).ok_or_else(|| {
        Fault::Incomplete(format!(
            "X-Amz-Date {:?} must be YYYYMMDD'T'HHMMSS'Z'",
            parts.amz_date
        ))
    })?;
    if !parts.amz_date.starts_with(&parts.date) {
        return Err(Fault::Incomplete(format!(
            "the credential scope date {} is not the date of X-Amz-Date {}",
            parts.date, parts.amz_date
        )));
    }
    let valid_until = signed_at + parts.expires.unwrap_or(SKEW_SECONDS);
    if now > valid_until || now < signed_at - SKEW_SECONDS {
        return Err(Fault::Expired(parts.amz_date.clone()));
    }
    Ok(parts)
}

/// What can be checked before the body is read: the signature's form and time, and that
/// `known` knows its access key. A request that fails here is refused without reading its
/// body, so an anonymous client cannot make the server buffer anything.
pub fn precheck(req: &Request, known: impl FnOnce(&str) -> bool, now: i64) -> Result<(), Fault> {
    let parts = checked_parts(req, now)?;
    if known(&parts.access_key) {
        Ok(())
    } else {
        Err(Fault::UnknownKey(parts.access_key))
    }
}

/// The region and service of the credential scope a well-formed signature names.
pub(crate) fn claimed_scope(req: &Request) -> Option<(String, String)> {
    let parts = match header(req, "authorization") {
        Some(a) => from_header(req, a).ok()?,
        None => from_query(req.query).ok()??,
    };
    Some((parts.region, parts.service))
}

/// Verifies `req`, signed by the key `secret_of` knows, at `now` (seconds since the epoch).
/// `normalize` is true for every service but S3.
pub fn verify(
    req: &Request,
    secret_of: impl FnOnce(&str) -> Option<String>,
    now: i64,
    normalize: bool,
) -> Result<Signer, Fault> {
    let parts = checked_parts(req, now)?;
    let body_hash = hex_sha256(req.body);
    if let Some(claimed) = header(req, "x-amz-content-sha256")
        && claimed != "UNSIGNED-PAYLOAD"
        && !claimed.eq_ignore_ascii_case(&body_hash)
    {
        return Err(Fault::BodyHash);
    }
    let secret =
        secret_of(&parts.access_key).ok_or_else(|| Fault::UnknownKey(parts.access_key.clone()))?;
    let provided = hex::decode(&parts.signature)
        .map_err(|_| Fault::Incomplete("Signature must be hex digits".into()))?;
    let key = signing_key(&secret, &parts.date, &parts.region, &parts.service);
    // A presigned request's session token may have been added after signing (as STS clients
    // do): the query is then also tried without it.
    let without_token: String;
    let mut queries = vec![req.query];
    if parts.expires.is_some() && req.query.contains("X-Amz-Security-Token=") {
        without_token = req
            .query
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-Security-Token="))
            .collect::<Vec<_>>()
            .join("&");
        queries.push(&without_token);
    }
    let matches = queries.into_iter().any(|query| {
        let canonical =
            canonical_request(&Request { query, ..*req }, &parts, normalize, &body_hash);
        let to_sign = string_to_sign(&parts, &canonical);
        Hmac::<Sha256>::new_from_slice(&key).is_ok_and(|mut mac| {
            mac.update(to_sign.as_bytes());
            // verify_slice compares in constant time.
            mac.verify_slice(&provided).is_ok()
        })
    });
    if !matches {
        return Err(Fault::Mismatch);
    }
    Ok(Signer {
        access_key: parts.access_key,
        region: parts.region,
        service: parts.service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_trim_and_squeeze() {
        for v in [
            "", "a", "a b", " a", "a ", "a  b", "a\tb", "a\u{a0}b", "  ", "x\n y",
        ] {
            let slow = v.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(canonical_value(v), slow, "{v:?}");
        }
    }

    #[test]
    fn signed_headers_are_sorted_and_named_once() {
        let now = 1_800_000_000;
        let date = amz_date(now);
        let check = |signed: &str| {
            let headers = vec![
                ("host".to_string(), "h".to_string()),
                ("x-amz-date".to_string(), date.clone()),
                ("a".to_string(), "x".repeat(1000)),
                (
                    "authorization".to_string(),
                    format!(
                        "{ALGORITHM} Credential=AKIA/{}/us-east-1/ecs/aws4_request, SignedHeaders={signed}, Signature=ab",
                        &date[..8]
                    ),
                ),
            ];
            let request = Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body: b"",
            };
            precheck(&request, |_| true, now)
        };
        assert_eq!(check("a;host;x-amz-date"), Ok(()));
        let repeated = format!("a;{}host;x-amz-date", "a;".repeat(20_000));
        for bad in [
            "host;a;x-amz-date",
            "a;a;host;x-amz-date",
            repeated.as_str(),
        ] {
            assert!(
                matches!(check(bad), Err(Fault::Incomplete(_))),
                "{}",
                &bad[..20]
            );
        }
    }

    #[test]
    fn paths_normalise_and_encode() {
        assert_eq!(canonical_uri("//example//", true), "/example/");
        assert_eq!(canonical_uri("/example1/example2/../..", true), "/");
        assert_eq!(
            canonical_uri("/example%20space/", true),
            "/example%2520space/"
        );
        assert_eq!(canonical_uri("/./example", false), "/./example");
    }
}
