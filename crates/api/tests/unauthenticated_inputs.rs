//! Every parser that reads what a client sends, fed arbitrary and hostile input: none panics,
//! each does work bounded by its input, and each refuses in the terms AWS answers with.
//!
//! The signature's fields (header and presigned forms), the registry's Basic password and the
//! dates and escapes inside them are read before anything is authenticated. What an
//! authenticated caller sends (bodies, forms, registry paths) is in `request_bodies.rs`; the
//! cluster query language has a suite of its own (`crates/scheduler/tests/query_limits.rs`).

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use berth_api::auth::{self, RootKey};
use berth_api::sigv4::{self, Fault, Request};
use berth_control::{ControlPlane, SystemClock};
use berth_store::MemStore;
use berth_types::ErrorCode;
use berth_types::arn::Partition;
use proptest::prelude::*;
use std::sync::Arc;

/// The signing time of the well-formed signatures below, and the verifier's clock (a minute
/// later, well within the allowed skew).
const SIGNED_AT: &str = "20270115T080000Z";
const CREDENTIAL: &str = "AKIDEXAMPLE/20270115/us-east-1/ecs/aws4_request";

/// Values of `X-Amz-Expires` out of range or not a plain number.
const BAD_EXPIRES: &[&str] = &[
    "0",
    "-1",
    "604801",
    "9223372036854775807",
    "99999999999999999999999",
    "1e3",
    " 5",
];

fn now() -> i64 {
    sigv4::parse_amz_date(SIGNED_AT).expect("a valid date") + 60
}

/// Pieces of SigV4's grammar, so generated text gets past the first checks.
fn sigv4_fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "AWS4-HMAC-SHA256",
        " ",
        "Credential=",
        "SignedHeaders=",
        "Signature=",
        "AKIDEXAMPLE",
        "/",
        "20270115",
        "us-east-1",
        "ecs",
        "aws4_request",
        CREDENTIAL,
        "host",
        "x-amz-date",
        "x-amz-target",
        "content-type",
        ";",
        ",",
        "=",
        "&",
        "%",
        "%4",
        "%41",
        "%zz",
        "%E2%82",
        SIGNED_AT,
        "T",
        "Z",
        "+1",
        "-1",
        "0",
        "deadbeef",
        "é",
        "\u{0}",
    ])
}

/// Arbitrary text, or SigV4 fragments run together.
fn sigv4_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(sigv4_fragment(), 0..24).prop_map(|parts| parts.concat()),
    ]
}

/// Header names the verifier looks for, and others.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Authorization",
            "authorization",
            "X-Amz-Date",
            "x-amz-target",
            "Content-Type",
            "host",
            "x-amz-content-sha256",
            "x-amz-security-token",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

/// What a presigned query may say: the parameter names SigV4 reads, with good and bad values.
fn presigned_param() -> impl Strategy<Value = (String, String)> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
        ])
        .prop_map(str::to_string),
        "[A-Za-z-]{0,12}",
    ];
    let value = prop_oneof![
        prop::sample::select(
            vec![
                "AWS4-HMAC-SHA256",
                CREDENTIAL,
                "AKIDEXAMPLE/2027011/us-east-1/ecs/aws4_request",
                "AKIDEXAMPLE/20270115/us-east-1/ecs/aws4_request/extra",
                "/20270115/us-east-1/ecs/aws4_request",
                "////",
                SIGNED_AT,
                "20270115T080000",
                "300",
            ]
            .into_iter()
            .chain(BAD_EXPIRES.iter().copied())
            .chain(["NaN", "host", "host;x-amz-target", ""])
            .collect::<Vec<_>>()
        )
        .prop_map(str::to_string),
        sigv4_text(),
    ];
    (name, value)
}

/// A query string of `params`, each percent-encoded (so it also makes a valid URI), with
/// the occasional stray separator.
fn query_of(params: &[(String, String)], stray: bool) -> String {
    let mut query: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                sigv4::uri_encode(k.as_bytes(), false),
                sigv4::uri_encode(v.as_bytes(), false)
            )
        })
        .collect();
    if stray {
        query.push("X-Amz-Signature".into());
        query.push(String::new());
    }
    query.join("&")
}

/// Runs both pure verifiers on a request. `precheck` (given that every key is known) must
/// refuse with a fault it can see without the body or the secret, and `verify` must refuse
/// with the same fault when `precheck` did: they read the signature's form the same way.
fn check_both(request: &Request) -> Result<(), TestCaseError> {
    let pre = sigv4::precheck(request, |_| true, now());
    let verdict = sigv4::verify(request, |_| Some("secret".into()), now(), true);
    prop_assert!(
        verdict.is_err(),
        "nothing verifies without a real signature"
    );
    if let Err(fault) = pre {
        prop_assert!(
            matches!(
                fault,
                Fault::Missing | Fault::Incomplete(_) | Fault::Expired(_)
            ),
            "{fault:?}"
        );
        prop_assert_eq!(verdict, Err(fault));
    }
    let unknown = sigv4::precheck(request, |_| false, now());
    prop_assert!(unknown.is_err(), "an unknown key never passes");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signature_headers_of_any_shape_get_a_fault(
        authorization in prop::option::of(sigv4_text()),
        amz_date in prop::option::of(sigv4_text()),
        extra in prop::collection::vec((header_name(), sigv4_text()), 0..6),
        path in any::<String>(),
        query in sigv4_text(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut headers = vec![("host".to_string(), "127.0.0.1:9714".to_string())];
        headers.extend(authorization.map(|a| ("authorization".to_string(), a)));
        headers.extend(amz_date.map(|d| ("x-amz-date".to_string(), d)));
        headers.extend(extra);
        let request = Request { method: "POST", path: &path, query: &query, headers: &headers, body: &body };
        check_both(&request)?;
    }

    #[test]
    fn well_formed_headers_with_one_bad_part_get_a_fault(
        credential in prop_oneof![Just(CREDENTIAL.to_string()), sigv4_text()],
        signed in prop_oneof![Just("host;x-amz-date".to_string()), sigv4_text()],
        signature in prop_oneof![Just("deadbeef".to_string()), sigv4_text()],
        amz_date in prop_oneof![Just(SIGNED_AT.to_string()), sigv4_text()],
        separator in prop::sample::select(vec![", ", ",", " , ", ",,"]),
    ) {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={credential}{separator}SignedHeaders={signed}{separator}Signature={signature}"
        );
        let headers = vec![
            ("host".to_string(), "127.0.0.1:9714".to_string()),
            ("x-amz-date".to_string(), amz_date),
            ("authorization".to_string(), authorization),
        ];
        let request = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
        check_both(&request)?;
    }

    #[test]
    fn presigned_queries_of_any_shape_get_a_fault(
        params in prop::collection::vec(presigned_param(), 0..10),
        stray in any::<bool>(),
    ) {
        let query = query_of(&params, stray);
        let headers = vec![("host".to_string(), "127.0.0.1:9714".to_string())];
        let request = Request { method: "GET", path: "/", query: &query, headers: &headers, body: &[] };
        check_both(&request)?;
        // What passes the precheck has an expiry AWS allows: the first X-Amz-Expires is read.
        if sigv4::precheck(&request, |_| true, now()).is_ok() {
            let expires = params.iter().find(|(k, _)| k == "X-Amz-Expires").map(|(_, v)| v.parse::<i64>());
            prop_assert!(
                matches!(expires, Some(Ok(s)) if (1..=sigv4::MAX_EXPIRES_SECONDS).contains(&s)),
                "{query}"
            );
        }
    }

    #[test]
    fn percent_decoding_never_grows_and_undoes_encoding(
        text in prop_oneof![any::<String>(), sigv4_text()],
        bytes in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        prop_assert!(sigv4::percent_decode(&text).len() <= text.len());
        let encoded = sigv4::uri_encode(&bytes, false);
        prop_assert_eq!(sigv4::percent_decode(&encoded), bytes);
    }

    #[test]
    fn amz_dates_of_any_shape_parse_or_not_without_panicking(
        text in prop_oneof![
            any::<String>(),
            "[0-9TZ+ -]{16}",
            "[0-9]{8}T[0-9]{6}Z",
            sigv4_text(),
        ],
        epoch in -62_135_596_800i64..253_402_300_800,
    ) {
        let _ = sigv4::parse_amz_date(&text);
        // Every second from year 1 to year 9999 writes and reads back.
        prop_assert_eq!(sigv4::parse_amz_date(&sigv4::amz_date(epoch)), Some(epoch));
    }
}

/// A presigned query that passes the precheck, and its parameters one by one made wrong:
/// each is refused as malformed, and none is read past its own check.
#[test]
fn each_bad_presigned_parameter_is_refused_as_incomplete() {
    let good = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", CREDENTIAL),
        ("X-Amz-Date", SIGNED_AT),
        ("X-Amz-Expires", "300"),
        ("X-Amz-SignedHeaders", "host"),
        ("X-Amz-Signature", "deadbeef"),
    ];
    let expires = [&[""], BAD_EXPIRES, &["0x10", "NaN", "%00"]].concat();
    let bad: &[(&str, &[&str])] = &[
        (
            "X-Amz-Algorithm",
            &["", "AWS4-HMAC-SHA1", "aws4-hmac-sha256"],
        ),
        (
            "X-Amz-Credential",
            &[
                "",
                "AKIDEXAMPLE",
                "AKIDEXAMPLE/20270115/us-east-1/ecs",
                "/20270115/us-east-1/ecs/aws4_request",
                "AKIDEXAMPLE/2027011/us-east-1/ecs/aws4_request",
                "AKIDEXAMPLE/20270116/us-east-1/ecs/aws4_request",
                "AKIDEXAMPLE/20270115//ecs/aws4_request",
                "AKIDEXAMPLE/20270115/us-east-1/ecs/aws4_request/",
                "%FF%FE/20270115/us-east-1/ecs/aws4_request%00",
            ],
        ),
        (
            "X-Amz-Date",
            &[
                "",
                "20270115T080000",
                "2027-01-15T08:00:00Z",
                "20271315T080000Z",
            ],
        ),
        ("X-Amz-Expires", &expires),
        ("X-Amz-SignedHeaders", &["", "x-amz-date", "hos", "host2"]),
    ];
    let request = |params: &[(String, String)]| {
        let query = query_of(params, false);
        let headers = vec![("host".to_string(), "127.0.0.1:9714".to_string())];
        sigv4::precheck(
            &Request {
                method: "GET",
                path: "/",
                query: &query,
                headers: &headers,
                body: &[],
            },
            |_| true,
            now(),
        )
    };
    let owned = |params: &[(&str, &str)]| -> Vec<(String, String)> {
        params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(request(&owned(&good)), Ok(()));
    for (name, values) in bad {
        for value in *values {
            let mut params = owned(&good);
            params.retain(|(k, _)| k != name);
            params.push((name.to_string(), value.to_string()));
            let verdict = request(&params);
            assert!(
                matches!(verdict, Err(Fault::Incomplete(_))),
                "{name}={value:?}: {verdict:?}"
            );
        }
        let mut missing = owned(&good);
        missing.retain(|(k, _)| k != name);
        assert!(
            matches!(request(&missing), Err(Fault::Incomplete(_))),
            "without {name}"
        );
    }
}

/// The largest signature fields hyper lets through (its header buffer is about 400 KiB), with
/// many parts, many headers or many parameters, take a moment to refuse, even well-formed and
/// by a known key (so that `verify` canonicalises the request). Not so a SignedHeaders list
/// that names one large header many times: the canonical request repeats its value for each
/// name (136 KiB of headers made 1.9 GB), which `verify` does not refuse yet.
#[test]
fn huge_signature_fields_are_refused() {
    let parts = "SignedHeaders=host;x-amz-date, ".repeat(12_000);
    let authorization = format!("AWS4-HMAC-SHA256 {parts}Credential={CREDENTIAL}, Signature=ab");
    let mut headers: Vec<(String, String)> = (0..100)
        .map(|i| (format!("x-filler-{i}"), "v".repeat(100)))
        .collect();
    headers.push(("x-amz-date".into(), SIGNED_AT.into()));
    headers.push(("authorization".into(), authorization));
    let mut params: Vec<(String, String)> = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", CREDENTIAL),
        ("X-Amz-Date", SIGNED_AT),
        ("X-Amz-Expires", "300"),
        ("X-Amz-SignedHeaders", "host"),
        ("X-Amz-Signature", "ab"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.extend((0..20_000).map(|i| (format!("p{}", 20_000 - i), "%zz".to_string())));
    let query = query_of(&params, true);
    let host = vec![("host".to_string(), "127.0.0.1:9714".to_string())];
    for (query, headers) in [("", &headers), (query.as_str(), &host)] {
        let request = Request {
            method: "POST",
            path: "/",
            query,
            headers,
            body: b"{}",
        };
        let checked = sigv4::precheck(&request, |_| true, now());
        assert_eq!(checked, Ok(()), "well-formed");
        let verdict = { sigv4::verify(&request, |_| Some("secret".into()), now(), true) };
        assert_eq!(verdict, Err(Fault::Mismatch));
    }
    let escapes = "%41%zz%".repeat(150_000);
    (sigv4::percent_decode(&escapes));
}

/// A control plane with nothing in it but the root key, for the checks that look keys up.
fn control_plane() -> (RootKey, ControlPlane) {
    let partition = Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let control = ControlPlane::open(
        partition,
        Arc::new(MemStore::default()),
        Arc::new(SystemClock),
    )
    .expect("an empty control plane opens");
    let root = RootKey {
        id: "AKIDEXAMPLE".into(),
        secret: "secret".into(),
    };
    (root, control)
}

/// The exceptions a request refused before its body is read may answer.
const AUTH_CODES: &[ErrorCode] = &[
    ErrorCode::MissingAuthenticationTokenException,
    ErrorCode::IncompleteSignatureException,
    ErrorCode::UnrecognizedClientException,
    ErrorCode::InvalidSignatureException,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The server's own precheck, on what hyper hands it: any header names and values HTTP
    /// allows (values need not be UTF-8) and any presigned query.
    #[test]
    fn the_server_precheck_answers_an_auth_exception(
        headers in prop::collection::vec(
            (header_name(), prop_oneof![
                sigv4_text().prop_map(String::into_bytes),
                prop::collection::vec(any::<u8>(), 0..48),
            ]),
            0..8,
        ),
        params in prop::collection::vec(presigned_param(), 0..8),
    ) {
        let (root, control) = control_plane();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value)) {
                map.append(name, value);
            }
        }
        let uri: Uri = format!("/?{}", query_of(&params, false)).parse().expect("an encoded query is a valid URI");
        let refused = auth::precheck(&root, &control, &Method::POST, &uri, &map)
            .expect_err("nothing is signed at the server's time");
        prop_assert!(AUTH_CODES.contains(&refused.code), "{refused}");
    }

    /// The registry's Basic password: `<key>.<expiry>.<mac>` as GetAuthorizationToken issues it.
    #[test]
    fn any_registry_password_is_refused(
        token in prop_oneof![
            any::<String>(),
            (
                prop::sample::select(vec!["AKIDEXAMPLE", "AKIDOTHER", ""]),
                prop_oneof![Just("99999999999".to_string()), "-?[0-9]{0,25}", any::<String>()],
                any::<String>(),
            ).prop_map(|(key, expires, mac)| format!("{key}.{expires}.{mac}")),
        ],
    ) {
        let (root, control) = control_plane();
        let refused = auth::registry_principal(&root, &control, &token).expect_err("no token was issued");
        prop_assert_eq!(refused.code, ErrorCode::UnrecognizedClientException);
    }
}
