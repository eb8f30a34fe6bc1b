//! SSM Parameter Store through the control plane: versions, overwrite, SecureString reads,
//! paths, history, deletes, tags and the refusals SSM answers with.

use berth_control::ControlPlane;
use berth_control::error::{ControlError, ParameterError};
use berth_types::ssm::*;

const ME: &str = "arn:aws:iam::000000000000:root";

fn put(
    cp: &ControlPlane,
    name: &str,
    value: &str,
    kind: Option<ParameterType>,
    overwrite: bool,
) -> Result<i64, ControlError> {
    cp.put_parameter(
        PutParameterRequest {
            name: name.into(),
            value: value.into(),
            r#type: kind,
            overwrite: Some(overwrite),
            ..PutParameterRequest::default()
        },
        ME,
    )
    .map(|r| r.version.expect("a version"))
}

fn get(cp: &ControlPlane, name: &str, decrypt: bool) -> Result<Parameter, ControlError> {
    cp.get_parameter(GetParameterRequest {
        name: name.into(),
        with_decryption: Some(decrypt),
    })
    .map(|r| r.parameter.expect("a parameter"))
}

fn parameter_error(r: Result<impl std::fmt::Debug, ControlError>) -> ParameterError {
    match r {
        Err(ControlError::Parameter(e)) => e,
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn versions_start_at_one_and_overwrite_adds_one() {
    let (cp, _) = berth_test_kit::control::plane();
    assert_eq!(
        put(
            &cp,
            "/app/db/url",
            "one",
            Some(ParameterType::String),
            false
        )
        .unwrap(),
        1
    );
    assert_eq!(
        parameter_error(put(
            &cp,
            "/app/db/url",
            "two",
            Some(ParameterType::String),
            false
        )),
        ParameterError::AlreadyExists("/app/db/url".into())
    );
    assert_eq!(put(&cp, "/app/db/url", "two", None, true).unwrap(), 2);
    let p = get(&cp, "/app/db/url", false).unwrap();
    assert_eq!(p.value.as_deref(), Some("two"));
    assert_eq!(p.version, Some(2));
    assert_eq!(p.r#type, Some(ParameterType::String), "the type is kept");
    assert_eq!(
        p.arn.as_deref(),
        Some("arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url")
    );
    // A version by selector, and by ARN.
    assert_eq!(
        get(&cp, "/app/db/url:1", false).unwrap().value.as_deref(),
        Some("one")
    );
    assert_eq!(
        get(&cp, "/app/db/url:1", false)
            .unwrap()
            .selector
            .as_deref(),
        Some(":1")
    );
    let by_arn = get(
        &cp,
        "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url",
        false,
    );
    assert_eq!(by_arn.unwrap().value.as_deref(), Some("two"));
    let elsewhere = get(
        &cp,
        "arn:aws:ssm:eu-west-1:000000000000:parameter/app/db/url",
        false,
    );
    assert!(matches!(
        parameter_error(elsewhere),
        ParameterError::NotFound(_)
    ));
    assert!(matches!(
        parameter_error(get(&cp, "/app/db/url:9", false)),
        ParameterError::VersionNotFound { .. }
    ));
    assert_eq!(
        parameter_error(get(&cp, "/nope", false)),
        ParameterError::NotFound("/nope".into())
    );
}

#[test]
fn a_new_parameter_needs_a_type_and_a_valid_name() {
    let (cp, _) = berth_test_kit::control::plane();
    assert!(matches!(
        parameter_error(put(&cp, "x", "v", None, false)),
        ParameterError::Invalid(_)
    ));
    for bad in ["a/b", "/aws/x", "ssm-x", "/a//b", "sp ace"] {
        assert!(
            matches!(
                parameter_error(put(&cp, bad, "v", Some(ParameterType::String), false)),
                ParameterError::Invalid(_)
            ),
            "{bad}"
        );
    }
    let deep = "/l".repeat(16);
    assert_eq!(
        parameter_error(put(&cp, &deep, "v", Some(ParameterType::String), false)),
        ParameterError::HierarchyTooDeep(deep.clone())
    );
    let long = "v".repeat(4097);
    assert!(matches!(
        parameter_error(put(&cp, "big", &long, Some(ParameterType::String), false)),
        ParameterError::Invalid(_)
    ));
    let tagged_overwrite = cp.put_parameter(
        PutParameterRequest {
            name: "t".into(),
            value: "v".into(),
            r#type: Some(ParameterType::String),
            overwrite: Some(true),
            tags: Some(vec![Tag {
                key: "k".into(),
                value: "v".into(),
            }]),
            ..PutParameterRequest::default()
        },
        ME,
    );
    assert!(matches!(
        parameter_error(tagged_overwrite),
        ParameterError::Invalid(_)
    ));
}

#[test]
fn secure_strings_are_answered_only_with_decryption() {
    let (cp, _) = berth_test_kit::control::plane();
    put(
        &cp,
        "/app/password",
        "hunter2",
        Some(ParameterType::SecureString),
        false,
    )
    .unwrap();
    let sealed = get(&cp, "/app/password", false).unwrap().value.unwrap();
    assert_ne!(sealed, "hunter2");
    assert!(!sealed.contains("hunter2"));
    assert_eq!(
        get(&cp, "/app/password", true).unwrap().value.as_deref(),
        Some("hunter2")
    );
    // Strings are plain either way.
    put(&cp, "/app/user", "ana", Some(ParameterType::String), false).unwrap();
    let both = cp
        .get_parameters(GetParametersRequest {
            names: vec![
                "/app/password".into(),
                "/app/user".into(),
                "/app/missing".into(),
            ],
            with_decryption: None,
        })
        .unwrap();
    let values: Vec<_> = both
        .parameters
        .unwrap()
        .into_iter()
        .map(|p| p.value.unwrap())
        .collect();
    assert_eq!(values, [sealed.clone(), "ana".to_string()]);
    assert_eq!(both.invalid_parameters.unwrap(), ["/app/missing"]);
    let history = cp
        .get_parameter_history(GetParameterHistoryRequest {
            name: "/app/password".into(),
            with_decryption: Some(false),
            ..GetParameterHistoryRequest::default()
        })
        .unwrap();
    let h = &history.parameters.unwrap()[0];
    assert_eq!(h.value.as_deref(), Some(sealed.as_str()));
    assert_eq!(h.key_id.as_deref(), Some("alias/aws/ssm"));
    assert_eq!(h.last_modified_user.as_deref(), Some(ME));
}

#[test]
fn paths_list_one_level_or_all_below_and_page() {
    let (cp, _) = berth_test_kit::control::plane();
    for name in [
        "/app/a",
        "/app/b",
        "/app/sub/c",
        "/app/sub/deep/d",
        "/other/e",
        "root",
    ] {
        put(&cp, name, name, Some(ParameterType::String), false).unwrap();
    }
    let names = |path: &str, recursive: bool| -> Vec<String> {
        let mut names = vec![];
        let mut token = None;
        loop {
            let page = cp
                .get_parameters_by_path(GetParametersByPathRequest {
                    path: path.into(),
                    recursive: Some(recursive),
                    max_results: Some(1),
                    next_token: token,
                    ..GetParametersByPathRequest::default()
                })
                .unwrap();
            names.extend(
                page.parameters
                    .unwrap()
                    .into_iter()
                    .map(|p| p.name.unwrap()),
            );
            token = page.next_token;
            if token.is_none() {
                return names;
            }
        }
    };
    assert_eq!(names("/app", false), ["/app/a", "/app/b"]);
    assert_eq!(
        names("/app/", true),
        ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d"]
    );
    assert_eq!(names("/app/sub", true), ["/app/sub/c", "/app/sub/deep/d"]);
    assert!(names("/none", true).is_empty());
    assert!(matches!(
        parameter_error(cp.get_parameters_by_path(GetParametersByPathRequest {
            path: "app".into(),
            ..GetParametersByPathRequest::default()
        })),
        ParameterError::Invalid(_)
    ));
}

#[test]
fn describe_filters_by_name_type_and_path() {
    let (cp, _) = berth_test_kit::control::plane();
    put(&cp, "/app/a", "1", Some(ParameterType::String), false).unwrap();
    put(&cp, "/app/s", "2", Some(ParameterType::SecureString), false).unwrap();
    put(
        &cp,
        "/app/x/l",
        "a,b",
        Some(ParameterType::StringList),
        false,
    )
    .unwrap();
    let describe = |filters: Vec<ParameterStringFilter>| -> Result<Vec<String>, ControlError> {
        cp.describe_parameters(DescribeParametersRequest {
            parameter_filters: Some(filters),
            ..DescribeParametersRequest::default()
        })
        .map(|r| {
            r.parameters
                .unwrap()
                .into_iter()
                .map(|p| p.name.unwrap())
                .collect()
        })
    };
    let filter = |key: &str, option: Option<&str>, values: &[&str]| ParameterStringFilter {
        key: key.into(),
        option: option.map(str::to_string),
        values: Some(values.iter().map(|v| v.to_string()).collect()),
    };
    assert_eq!(describe(vec![]).unwrap().len(), 3);
    assert_eq!(
        describe(vec![filter("Type", None, &["SecureString"])]).unwrap(),
        ["/app/s"]
    );
    assert_eq!(
        describe(vec![filter("Name", Some("BeginsWith"), &["/app/x"])]).unwrap(),
        ["/app/x/l"]
    );
    assert_eq!(
        describe(vec![filter("Path", None, &["/app"])]).unwrap(),
        ["/app/a", "/app/s"]
    );
    assert_eq!(
        describe(vec![filter("Path", Some("Recursive"), &["/app"])])
            .unwrap()
            .len(),
        3
    );
    assert!(matches!(
        parameter_error(describe(vec![filter("Label", None, &["x"])])),
        ParameterError::InvalidFilterKey(_)
    ));
    assert!(matches!(
        parameter_error(describe(vec![filter("Type", Some("BeginsWith"), &["S"])])),
        ParameterError::InvalidFilterOption(_)
    ));
    assert!(matches!(
        parameter_error(describe(vec![filter("Type", None, &["Number"])])),
        ParameterError::InvalidFilterValue(_)
    ));
    let metadata = cp
        .describe_parameters(DescribeParametersRequest::default())
        .unwrap()
        .parameters
        .unwrap();
    assert!(metadata.iter().all(|m| m.version == Some(1)));
}

#[test]
fn deletes_name_what_was_not_there() {
    let (cp, _) = berth_test_kit::control::plane();
    put(&cp, "/a", "1", Some(ParameterType::String), false).unwrap();
    put(&cp, "/b", "2", Some(ParameterType::String), false).unwrap();
    cp.delete_parameter(DeleteParameterRequest { name: "/a".into() })
        .unwrap();
    assert_eq!(
        parameter_error(cp.delete_parameter(DeleteParameterRequest { name: "/a".into() })),
        ParameterError::NotFound("/a".into())
    );
    let r = cp
        .delete_parameters(DeleteParametersRequest {
            names: vec!["/a".into(), "/b".into()],
        })
        .unwrap();
    assert_eq!(r.deleted_parameters.unwrap(), ["/b"]);
    assert_eq!(r.invalid_parameters.unwrap(), ["/a"]);
    // A deleted parameter starts again at version 1.
    assert_eq!(
        put(&cp, "/b", "3", Some(ParameterType::String), false).unwrap(),
        1
    );
}

#[test]
fn tags_are_added_replaced_and_removed() {
    let (cp, _) = berth_test_kit::control::plane();
    cp.put_parameter(
        PutParameterRequest {
            name: "/t".into(),
            value: "v".into(),
            r#type: Some(ParameterType::String),
            tags: Some(vec![Tag {
                key: "team".into(),
                value: "a".into(),
            }]),
            ..PutParameterRequest::default()
        },
        ME,
    )
    .unwrap();
    let tags = |cp: &ControlPlane| -> Vec<(String, String)> {
        cp.list_tags_of_parameter(ListTagsForResourceRequest {
            resource_type: ResourceTypeForTagging::Parameter,
            resource_id: "/t".into(),
        })
        .unwrap()
        .tag_list
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
    };
    assert_eq!(tags(&cp), [("team".into(), "a".into())]);
    cp.add_tags_to_parameter(AddTagsToResourceRequest {
        resource_type: ResourceTypeForTagging::Parameter,
        resource_id: "/t".into(),
        tags: vec![
            Tag {
                key: "team".into(),
                value: "b".into(),
            },
            Tag {
                key: "env".into(),
                value: "prod".into(),
            },
        ],
    })
    .unwrap();
    assert_eq!(
        tags(&cp),
        [("team".into(), "b".into()), ("env".into(), "prod".into())]
    );
    cp.remove_tags_from_parameter(RemoveTagsFromResourceRequest {
        resource_type: ResourceTypeForTagging::Parameter,
        resource_id: "/t".into(),
        tag_keys: vec!["team".into(), "absent".into()],
    })
    .unwrap();
    assert_eq!(tags(&cp), [("env".into(), "prod".into())]);
    let wrong_type = cp.list_tags_of_parameter(ListTagsForResourceRequest {
        resource_type: ResourceTypeForTagging::Document,
        resource_id: "/t".into(),
    });
    assert_eq!(
        parameter_error(wrong_type),
        ParameterError::InvalidResourceType("Document".into())
    );
    let missing = cp.list_tags_of_parameter(ListTagsForResourceRequest {
        resource_type: ResourceTypeForTagging::Parameter,
        resource_id: "/none".into(),
    });
    assert_eq!(
        parameter_error(missing),
        ParameterError::InvalidResourceId("/none".into())
    );
    let many: Vec<Tag> = (0..51)
        .map(|i| Tag {
            key: format!("k{i}"),
            value: "v".into(),
        })
        .collect();
    let too_many = cp.add_tags_to_parameter(AddTagsToResourceRequest {
        resource_type: ResourceTypeForTagging::Parameter,
        resource_id: "/t".into(),
        tags: many,
    });
    assert_eq!(
        parameter_error(too_many),
        ParameterError::TooManyTags("/t".into())
    );
}

#[test]
fn only_the_newest_hundred_versions_are_kept() {
    let (cp, _) = berth_test_kit::control::plane();
    put(&cp, "/v", "0", Some(ParameterType::String), false).unwrap();
    for i in 1..105 {
        put(&cp, "/v", &i.to_string(), None, true).unwrap();
    }
    let mut versions = vec![];
    let mut token = None;
    loop {
        let page = cp
            .get_parameter_history(GetParameterHistoryRequest {
                name: "/v".into(),
                next_token: token,
                ..GetParameterHistoryRequest::default()
            })
            .unwrap();
        versions.extend(
            page.parameters
                .unwrap()
                .into_iter()
                .map(|h| h.version.unwrap()),
        );
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(versions, (6..=105).collect::<Vec<i64>>());
}
