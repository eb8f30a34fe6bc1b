//! Every parser that reads what a client sends, fed arbitrary and hostile input: none panics,
//! each does work bounded by its input, and each refuses in the terms AWS answers with.
//!
//! The signature's fields (header and presigned forms), the registry's Basic password and the
//! dates and escapes inside them are read before anything is authenticated. The JSON body
//! decoder, the Query protocol's form and the registry's paths are read once a request is, but
//! any holder of a key (an agent's, a read-only user's) may send them anything. The cluster
//! query language has a suite of its own (`crates/scheduler/tests/query_limits.rs`).

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use berth_api::auth::{self, RootKey};
use berth_api::oci::{Route, route};
use berth_api::sigv4::{self, Fault, Request};
use berth_api::{query, wire};
use berth_control::{ControlPlane, SystemClock};
use berth_store::MemStore;
use berth_types::arn::Partition;
use berth_types::{ApiError, ErrorCode, Validate, ecr, ecs};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The signing time of the well-formed signatures below, and the verifier's clock (a minute
/// later, well within the allowed skew).
const SIGNED_AT: &str = "20270115T080000Z";
const CREDENTIAL: &str = "AKIDEXAMPLE/20270115/us-east-1/ecs/aws4_request";

fn now() -> i64 {
    sigv4::parse_amz_date(SIGNED_AT).expect("a valid date") + 60
}

/// The stack the JSON decoder runs on. serde_json stops at 128 levels of nesting; the deepest
/// document it builds (nested objects in a free JSON field, `hookDetails`) takes about 2.3 KiB
/// a level in a debug build, 300 KiB in all (measured: 256 KiB overflows), so this leaves a
/// margin of 1.7, and a decoder without the limit would overflow it at about 220 levels. An
/// overflow aborts the test binary.
const SMALL_STACK: usize = 512 * 1024;

/// The most time one maximal input may take in a debug build: each takes well under a second,
/// and a parser that went quadratic on an input of a MiB would take hours.
const WORK_BUDGET: Duration = Duration::from_secs(5);

/// Runs `work` on a thread with a [`SMALL_STACK`]-sized stack; a panic fails the test.
fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(work)
        .expect("spawn a parser thread")
        .join()
        .expect("parsing never panics")
}

/// Runs `work` and checks it ended within [`WORK_BUDGET`].
fn bounded<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = work();
    let took = started.elapsed();
    assert!(took < WORK_BUDGET, "{what} took {took:?}");
    out
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
        prop::sample::select(vec![
            "AWS4-HMAC-SHA256",
            CREDENTIAL,
            "AKIDEXAMPLE/2027011/us-east-1/ecs/aws4_request",
            "AKIDEXAMPLE/20270115/us-east-1/ecs/aws4_request/extra",
            "/20270115/us-east-1/ecs/aws4_request",
            "////",
            SIGNED_AT,
            "20270115T080000",
            "300",
            "0",
            "-1",
            "604801",
            "9223372036854775807",
            "99999999999999999999999",
            "1e3",
            " 5",
            "NaN",
            "host",
            "host;x-amz-target",
            "",
        ])
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
        (
            "X-Amz-Expires",
            &[
                "",
                "0",
                "-1",
                "604801",
                "9223372036854775807",
                "99999999999999999999999",
                "1e3",
                " 5",
                "0x10",
                "NaN",
                "%00",
            ],
        ),
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
fn huge_signature_fields_are_refused_in_bounded_time() {
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
        let checked = bounded("precheck", || sigv4::precheck(&request, |_| true, now()));
        assert_eq!(checked, Ok(()), "well-formed");
        let verdict = bounded("verify", || {
            sigv4::verify(&request, |_| Some("secret".into()), now(), true)
        });
        assert_eq!(verdict, Err(Fault::Mismatch));
    }
    let escapes = "%41%zz%".repeat(150_000);
    bounded("percent_decode", || sigv4::percent_decode(&escapes));
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

/// Decodes `body` as `T`, as the server does an operation's input.
fn decoded<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<(), ApiError> {
    wire::decode::<T>(body).map(drop)
}

/// Decodes a body as one operation's input.
type Decoder = fn(&[u8]) -> Result<(), ApiError>;

/// Input shapes of the calls that carry the most structure (nested lists, enums, numbers, a
/// free JSON document) and of the registry's calls with the largest bodies.
const DECODERS: &[(&str, Decoder)] = &[
    ("RunTask", decoded::<ecs::RunTaskRequest>),
    (
        "RegisterTaskDefinition",
        decoded::<ecs::RegisterTaskDefinitionRequest>,
    ),
    (
        "ListContainerInstances",
        decoded::<ecs::ListContainerInstancesRequest>,
    ),
    ("CreateService", decoded::<ecs::CreateServiceRequest>),
    (
        "SubmitTaskStateChange",
        decoded::<ecs::SubmitTaskStateChangeRequest>,
    ),
    ("PutImage", decoded::<ecr::PutImageRequest>),
    ("UploadLayerPart", decoded::<ecr::UploadLayerPartRequest>),
];

/// Decodes `body` as every shape of [`DECODERS`] on a small stack: each accepts it or
/// answers SerializationException or InvalidParameterException.
fn decodes_or_refuses(body: Vec<u8>) -> Result<(), String> {
    on_small_stack(move || {
        for (operation, decode) in DECODERS {
            if let Err(e) = decode(&body)
                && !matches!(
                    e.code,
                    ErrorCode::SerializationException | ErrorCode::InvalidParameterException
                )
            {
                return Err(format!("{operation}: {e}"));
            }
        }
        Ok(())
    })
}

/// Pieces of JSON and of the ECS and ECR models, so generated bodies reach the fields, the
/// enums, the numbers and the limits.
fn json_fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\\u",
        "\"\\ud800\"",
        "null",
        "true",
        "0",
        "-1",
        "1e999",
        "18446744073709551616",
        "-9223372036854775809",
        "0.5",
        "\"x\"",
        "\"\"",
        "\"family\"",
        "\"containerDefinitions\"",
        "\"name\"",
        "\"image\"",
        "\"memory\"",
        "\"portMappings\"",
        "\"containerPort\"",
        "\"cluster\"",
        "\"taskDefinition\"",
        "\"count\"",
        "\"launchType\"",
        "\"EC2\"",
        "\"SPACESHIP\"",
        "\"overrides\"",
        "\"containerOverrides\"",
        "\"placementConstraints\"",
        "\"type\"",
        "\"memberOf\"",
        "\"expression\"",
        "\"filter\"",
        "\"status\"",
        "\"maxResults\"",
        "\"serviceName\"",
        "\"deploymentConfiguration\"",
        "\"lifecycleHooks\"",
        "\"hookDetails\"",
        "\"repositoryName\"",
        "\"imageManifest\"",
        "\"uploadId\"",
        "\"layerPartBlob\"",
        "\"partFirstByte\"",
        " ",
    ])
}

/// `depth` nested arrays (`[[...]]`) or objects (`{"a":{"a":...}}`), closed or left open.
fn nested(depth: usize, objects: bool, closed: bool) -> String {
    let (open, close) = if objects {
        ("{\"a\":", "}")
    } else {
        ("[", "]")
    };
    let mut s = open.repeat(depth);
    if closed {
        s.push('1');
        s.push_str(&close.repeat(depth));
    }
    s
}

/// Where a deep document sits in a body: the whole body, an unknown field (skipped, not
/// built), a free JSON document (`hookDetails`, built as a `serde_json::Value`) and a typed
/// list of structures.
fn placed(nest: &str, place: u8) -> String {
    match place {
        0 => nest.to_string(),
        1 => format!("{{\"cluster\":\"c\",\"somethingElse\":{nest}}}"),
        2 => format!(
            "{{\"serviceName\":\"s\",\"deploymentConfiguration\":{{\"lifecycleHooks\":[{{\"hookDetails\":{nest}}}]}}}}"
        ),
        _ => format!("{{\"family\":\"f\",\"containerDefinitions\":[{nest}]}}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_decode_or_get_an_aws_error(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            prop::collection::vec(json_fragment(), 0..64).prop_map(|parts| parts.concat().into_bytes()),
        ],
    ) {
        let verdict = decodes_or_refuses(body);
        prop_assert!(verdict.is_ok(), "{verdict:?}");
    }

    #[test]
    fn nesting_of_any_depth_is_refused_not_overflowed(
        depth in prop_oneof![0usize..300, 300usize..20_000],
        objects in any::<bool>(),
        closed in any::<bool>(),
        place in 0u8..4,
    ) {
        let verdict = decodes_or_refuses(placed(&nested(depth, objects, closed), place).into_bytes());
        prop_assert!(verdict.is_ok(), "{verdict:?}");
    }
}

/// Nesting as deep as the largest body allows, everywhere it can sit, on a small stack and
/// within the time budget.
#[test]
fn a_body_of_nothing_but_nesting_is_refused_quickly() {
    let depth = wire::MAX_REQUEST_BYTES / "{\"a\":".len();
    for objects in [false, true] {
        for closed in [false, true] {
            for place in 0..4 {
                let body = placed(&nested(depth, objects, closed), place).into_bytes();
                let verdict = bounded("decoding deep nesting", || decodes_or_refuses(body));
                assert_eq!(
                    verdict,
                    Ok(()),
                    "objects {objects}, closed {closed}, place {place}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the path, a route is a split of it: the name, the marker, the rest.
    #[test]
    fn any_registry_path_routes_as_a_split_of_itself(
        path in prop_oneof![
            any::<String>(),
            prop::collection::vec(
                prop::sample::select(vec![
                    "a", "library", "é", "/", "blobs", "uploads", "manifests", "referrers", "tags",
                    "list", "sha256:ab", "latest", "..", "",
                ]),
                0..12,
            ).prop_map(|parts| parts.concat()),
        ],
    ) {
        let Some((name, kind)) = route(&path) else {
            return Ok(());
        };
        let rebuilt = match kind {
            Route::Blob(d) => vec![format!("{name}/blobs/{d}")],
            Route::Uploads => vec![format!("{name}/blobs/uploads"), format!("{name}/blobs/uploads/")],
            Route::Upload(id) => vec![format!("{name}/blobs/uploads/{id}")],
            Route::Manifest(r) => vec![format!("{name}/manifests/{r}")],
            Route::Tags => vec![format!("{name}/tags/list")],
            Route::Referrers(d) => vec![format!("{name}/referrers/{d}")],
        };
        prop_assert!(rebuilt.contains(&path), "{path:?} routed as {rebuilt:?}");
    }

    /// Repository names of several components and references without `/` route as meant.
    #[test]
    fn registry_paths_route_to_their_name_and_reference(
        name in "[a-z0-9]{1,8}(/[a-z0-9._-]{1,8}){0,4}",
        reference in "[A-Za-z0-9._:-]{1,24}",
    ) {
        let manifest = format!("{name}/manifests/{reference}");
        prop_assert!(matches!(route(&manifest), Some((n, Route::Manifest(r))) if n == name && r == reference));
        let blob = format!("{name}/blobs/{reference}");
        prop_assert!(matches!(route(&blob), Some((n, Route::Blob(d))) if n == name && d == reference));
        let upload = format!("{name}/blobs/uploads/{reference}");
        prop_assert!(matches!(route(&upload), Some((n, Route::Upload(id))) if n == name && id == reference));
        let tags = format!("{name}/tags/list");
        prop_assert!(matches!(route(&tags), Some((n, Route::Tags)) if n == name));
    }

    /// The Query protocol's form: never more parameters than pieces, never longer than the
    /// body, and what `uri_encode` wrote reads back (the last of a repeated key wins).
    #[test]
    fn any_form_body_parses_and_encoded_forms_read_back(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            prop::collection::vec(
                prop::sample::select(vec!["Action", "=", "&", "+", "%", "%2", "%2B", "%zz", "%FF", "é", "x"]),
                0..32,
            ).prop_map(|parts| parts.concat().into_bytes()),
        ],
        pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..8),
    ) {
        let params = query::form(&body);
        prop_assert!(params.len() <= body.iter().filter(|b| **b == b'&').count() + 1);
        // Lossy UTF-8 turns each bad byte into a three-byte character, at worst.
        let most = 3 * body.len();
        prop_assert!(params.iter().all(|(k, v)| k.len() + v.len() <= most));

        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", sigv4::uri_encode(k.as_bytes(), false), sigv4::uri_encode(v.as_bytes(), false)))
            .collect::<Vec<_>>()
            .join("&");
        let expected: std::collections::BTreeMap<String, String> = pairs.into_iter().collect();
        prop_assert_eq!(query::form(encoded.as_bytes()), expected);
    }
}

/// The largest form body and the longest path hyper accepts take a moment to read.
#[test]
fn huge_forms_and_paths_are_read_in_bounded_time() {
    let form = "Action=ListUsers&%zz=%41+&&=".repeat(wire::MAX_REQUEST_BYTES / 28);
    let params = bounded("form", || query::form(form.as_bytes()));
    assert_eq!(params.get("Action").map(String::as_str), Some("ListUsers"));
    let path = "a/blobs/manifests/referrers/tags/".repeat(2_000);
    bounded("route", || {
        for suffix in ["x", "blobs/uploads/", "blobs/uploads/x", "tags/list"] {
            assert!(route(&format!("{path}{suffix}")).is_some());
        }
    });
}
