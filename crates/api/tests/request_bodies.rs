//! What an authenticated caller may send, fed arbitrary and hostile input: the JSON body
//! decoder, the Query protocol's form and the registry's paths. Any holder of a key (an agent's,
//! a read-only user's) may send them anything: none panics or overflows its stack, each refuses
//! in the terms AWS answers with, and a parser that went quadratic on a MiB of input would keep
//! these tests running for hours rather than pass.

use berth_api::oci::{Route, route};
use berth_api::{query, sigv4, wire};
use berth_test_kit::stack::on_small_stack;
use berth_types::{ApiError, ErrorCode, Validate, ecr, ecs};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
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
                let verdict = decodes_or_refuses(body);
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
fn huge_forms_and_paths_are_read() {
    let form = "Action=ListUsers&%zz=%41+&&=".repeat(wire::MAX_REQUEST_BYTES / 28);
    let params = query::form(form.as_bytes());
    assert_eq!(params.get("Action").map(String::as_str), Some("ListUsers"));
    let path = "a/blobs/manifests/referrers/tags/".repeat(2_000);
    for suffix in ["x", "blobs/uploads/", "blobs/uploads/x", "tags/list"] {
        assert!(route(&format!("{path}{suffix}")).is_some());
    }
}
