//! Secrets Manager through the control plane: versions and their labels, lookups by name and
//! ARN, recovery windows, force delete, listing and tags.

use berth_control::ControlPlane;
use berth_control::error::{ControlError, SecretError};
use berth_types::secretsmanager::*;

fn create(cp: &ControlPlane, name: &str, value: &str) -> CreateSecretResponse {
    cp.create_secret(CreateSecretRequest {
        name: name.into(),
        secret_string: Some(value.into()),
        ..CreateSecretRequest::default()
    })
    .expect("created")
}

fn get(
    cp: &ControlPlane,
    id: &str,
    stage: Option<&str>,
    version: Option<&str>,
) -> Result<GetSecretValueResponse, ControlError> {
    cp.get_secret_value(GetSecretValueRequest {
        secret_id: id.into(),
        version_stage: stage.map(str::to_string),
        version_id: version.map(str::to_string),
    })
}

fn secret_error(r: Result<impl std::fmt::Debug, ControlError>) -> SecretError {
    match r {
        Err(ControlError::Secret(e)) => e,
        other => panic!("expected a secret error, got {other:?}"),
    }
}

fn delete(
    cp: &ControlPlane,
    id: &str,
    days: Option<i64>,
    force: Option<bool>,
) -> Result<DeleteSecretResponse, ControlError> {
    cp.delete_secret(DeleteSecretRequest {
        secret_id: id.into(),
        recovery_window_in_days: days,
        force_delete_without_recovery: force,
    })
}

#[test]
fn a_secret_is_found_by_name_arn_and_partial_arn() {
    let (cp, _) = berth_test_kit::control::plane();
    let created = cp
        .create_secret(CreateSecretRequest {
            name: "prod/db".into(),
            secret_string: Some("s3cret".into()),
            client_request_token: Some("a".repeat(32)),
            ..CreateSecretRequest::default()
        })
        .unwrap();
    let arn = created.arn.unwrap();
    let suffix = arn
        .strip_prefix("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-")
        .expect("the name, a dash and the suffix");
    assert!(suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created.version_id.as_deref(), Some("a".repeat(32).as_str()));
    let partial = &arn[..arn.len() - 7];
    for id in ["prod/db", arn.as_str(), partial] {
        let got = get(&cp, id, None, None).unwrap();
        assert_eq!(got.secret_string.as_deref(), Some("s3cret"), "{id}");
        assert_eq!(got.version_stages.unwrap(), ["AWSCURRENT"]);
    }
    assert_eq!(
        secret_error(get(&cp, "prod/none", None, None)),
        SecretError::NotFound
    );
    assert_eq!(
        secret_error(get(&cp, &format!("{partial}-XXXXXX"), None, None)),
        SecretError::NotFound
    );
    assert_eq!(
        secret_error(cp.create_secret(CreateSecretRequest {
            name: "prod/db".into(),
            ..CreateSecretRequest::default()
        })),
        SecretError::Exists("prod/db".into())
    );
}

#[test]
fn put_secret_value_moves_awscurrent_and_keeps_awsprevious() {
    let (cp, _) = berth_test_kit::control::plane();
    let first = create(&cp, "s", "one").version_id.unwrap();
    let put = |value: &str, token: Option<&str>| {
        cp.put_secret_value(PutSecretValueRequest {
            secret_id: "s".into(),
            secret_string: Some(value.into()),
            client_request_token: token.map(str::to_string),
            ..PutSecretValueRequest::default()
        })
    };
    let second = put("two", None).unwrap().version_id.unwrap();
    assert_eq!(
        get(&cp, "s", None, None).unwrap().secret_string.as_deref(),
        Some("two")
    );
    let previous = get(&cp, "s", Some("AWSPREVIOUS"), None).unwrap();
    assert_eq!(
        (
            previous.version_id.unwrap(),
            previous.secret_string.unwrap()
        ),
        (first.clone(), "one".into())
    );
    assert_eq!(
        get(&cp, "s", None, Some(&first))
            .unwrap()
            .secret_string
            .as_deref(),
        Some("one")
    );
    // A token names a version: the same value again is the same call, another is refused.
    let token = "t".repeat(32);
    put("three", Some(&token)).unwrap();
    assert_eq!(
        put("three", Some(&token)).unwrap().version_id.as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        secret_error(put("four", Some(&token))),
        SecretError::VersionExists
    );
    let previous = get(&cp, "s", Some("AWSPREVIOUS"), None).unwrap();
    assert_eq!(previous.version_id.unwrap(), second);
    let stages = cp
        .describe_secret(DescribeSecretRequest {
            secret_id: "s".into(),
        })
        .unwrap()
        .version_ids_to_stages
        .unwrap();
    assert_eq!(stages.len(), 2, "the first version is outdated: {stages:?}");
    assert!(matches!(
        secret_error(get(&cp, "s", Some("AWSPENDING"), None)),
        SecretError::VersionNotFound(_)
    ));
    let both = cp.put_secret_value(PutSecretValueRequest {
        secret_id: "s".into(),
        secret_string: Some("x".into()),
        secret_binary: Some("eA==".into()),
        ..PutSecretValueRequest::default()
    });
    assert!(matches!(
        secret_error(both),
        SecretError::InvalidParameter(_)
    ));
}

#[test]
fn update_secret_changes_the_description_and_the_value() {
    let (cp, _) = berth_test_kit::control::plane();
    create(&cp, "s", "one");
    let updated = cp
        .update_secret(UpdateSecretRequest {
            secret_id: "s".into(),
            description: Some("db".into()),
            ..UpdateSecretRequest::default()
        })
        .unwrap();
    assert_eq!(updated.version_id, None, "no value, no version");
    let updated = cp
        .update_secret(UpdateSecretRequest {
            secret_id: "s".into(),
            secret_binary: Some("AAE=".into()),
            ..UpdateSecretRequest::default()
        })
        .unwrap();
    assert!(updated.version_id.is_some());
    let got = get(&cp, "s", None, None).unwrap();
    assert_eq!(
        (got.secret_string, got.secret_binary.as_deref()),
        (None, Some("AAE="))
    );
    let described = cp
        .describe_secret(DescribeSecretRequest {
            secret_id: "s".into(),
        })
        .unwrap();
    assert_eq!(described.description.as_deref(), Some("db"));
}

#[test]
fn deletion_waits_out_its_recovery_window_unless_forced() {
    let (cp, clock) = berth_test_kit::control::plane();
    create(&cp, "s", "v");
    assert!(matches!(
        secret_error(delete(&cp, "s", Some(6), None)),
        SecretError::InvalidParameter(_)
    ));
    assert!(matches!(
        secret_error(delete(&cp, "s", Some(31), None)),
        SecretError::InvalidParameter(_)
    ));
    assert!(matches!(
        secret_error(delete(&cp, "s", Some(7), Some(true))),
        SecretError::InvalidParameter(_)
    ));
    let deleted = delete(&cp, "s", None, None).unwrap();
    assert_eq!(
        deleted.deletion_date,
        Some(cp.now() + 30.0 * 86_400.0),
        "30 days by default"
    );
    assert_eq!(
        secret_error(get(&cp, "s", None, None)),
        SecretError::MarkedForDeletion
    );
    let described = cp
        .describe_secret(DescribeSecretRequest {
            secret_id: "s".into(),
        })
        .unwrap();
    assert_eq!(described.deleted_date, Some(cp.now()));
    let list = |planned: bool| {
        cp.list_secrets(ListSecretsRequest {
            include_planned_deletion: Some(planned),
            ..ListSecretsRequest::default()
        })
        .unwrap()
        .secret_list
        .unwrap()
        .len()
    };
    assert_eq!((list(false), list(true)), (0, 1));
    assert_eq!(
        secret_error(cp.create_secret(CreateSecretRequest {
            name: "s".into(),
            ..CreateSecretRequest::default()
        })),
        SecretError::NameScheduledForDeletion
    );
    cp.restore_secret(RestoreSecretRequest {
        secret_id: "s".into(),
    })
    .unwrap();
    assert_eq!(
        get(&cp, "s", None, None).unwrap().secret_string.as_deref(),
        Some("v")
    );
    // Deleted again with 7 days: gone once they pass, and its name is free.
    delete(&cp, "s", Some(7), None).unwrap();
    clock.advance(7 * 86_400);
    assert_eq!(
        secret_error(get(&cp, "s", None, None)),
        SecretError::NotFound
    );
    assert_eq!(list(true), 0);
    create(&cp, "s", "new");
    // Forced: gone at once.
    delete(&cp, "s", None, Some(true)).unwrap();
    assert_eq!(
        secret_error(cp.describe_secret(DescribeSecretRequest {
            secret_id: "s".into()
        })),
        SecretError::NotFound
    );
}

#[test]
fn list_secrets_pages_and_filters() {
    let (cp, clock) = berth_test_kit::control::plane();
    for name in ["prod/a", "prod/b", "test/c"] {
        create(&cp, name, "v");
        clock.advance(1);
    }
    cp.tag_secret(TagResourceRequest {
        secret_id: "test/c".into(),
        tags: vec![Tag {
            key: Some("team".into()),
            value: Some("core".into()),
        }],
    })
    .unwrap();
    let names = |filters: Option<Vec<Filter>>, order: Option<SortOrderType>| -> Vec<String> {
        let mut names = vec![];
        let mut token = None;
        loop {
            let page = cp
                .list_secrets(ListSecretsRequest {
                    filters: filters.clone(),
                    sort_order: order,
                    max_results: Some(2),
                    next_token: token,
                    ..ListSecretsRequest::default()
                })
                .unwrap();
            names.extend(
                page.secret_list
                    .unwrap()
                    .into_iter()
                    .map(|s| s.name.unwrap()),
            );
            token = page.next_token;
            if token.is_none() {
                return names;
            }
        }
    };
    assert_eq!(
        names(None, None),
        ["test/c", "prod/b", "prod/a"],
        "newest first"
    );
    assert_eq!(
        names(None, Some(SortOrderType::Asc)),
        ["prod/a", "prod/b", "test/c"]
    );
    let filter = |key: FilterNameStringType, value: &str| {
        Some(vec![Filter {
            key: Some(key),
            values: Some(vec![value.into()]),
        }])
    };
    assert_eq!(
        names(
            filter(FilterNameStringType::Name, "prod/"),
            Some(SortOrderType::Asc)
        ),
        ["prod/a", "prod/b"]
    );
    assert_eq!(
        names(filter(FilterNameStringType::TagKey, "team"), None),
        ["test/c"]
    );
    assert_eq!(
        names(filter(FilterNameStringType::Name, "!prod"), None),
        ["test/c"]
    );
    cp.untag_secret(UntagResourceRequest {
        secret_id: "test/c".into(),
        tag_keys: vec!["team".into()],
    })
    .unwrap();
    assert!(names(filter(FilterNameStringType::TagKey, "team"), None).is_empty());
}

#[test]
fn parameters_and_secrets_survive_a_restart() {
    use berth_types::ssm::{GetParameterRequest, ParameterType, PutParameterRequest};
    let store: std::sync::Arc<dyn berth_store::Store> =
        std::sync::Arc::new(berth_store::MemStore::default());
    let partition = berth_types::arn::Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let open = || {
        ControlPlane::open(
            partition.clone(),
            store.clone(),
            std::sync::Arc::new(berth_control::SystemClock),
        )
        .expect("opens")
    };
    let cp = open();
    cp.put_parameter(
        PutParameterRequest {
            name: "/p".into(),
            value: "v1".into(),
            r#type: Some(ParameterType::SecureString),
            ..PutParameterRequest::default()
        },
        "me",
    )
    .unwrap();
    let arn = create(&cp, "s", "one").arn.unwrap();
    cp.delete_secret(DeleteSecretRequest {
        secret_id: "s".into(),
        recovery_window_in_days: Some(7),
        ..DeleteSecretRequest::default()
    })
    .unwrap();
    drop(cp);
    let cp = open();
    let p = cp
        .get_parameter(GetParameterRequest {
            name: "/p".into(),
            with_decryption: Some(true),
        })
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!((p.value.as_deref(), p.version), (Some("v1"), Some(1)));
    assert_eq!(
        secret_error(get(&cp, "s", None, None)),
        SecretError::MarkedForDeletion
    );
    cp.restore_secret(RestoreSecretRequest { secret_id: arn })
        .unwrap();
    assert_eq!(
        get(&cp, "s", None, None).unwrap().secret_string.as_deref(),
        Some("one")
    );
}
