//! Tags on log group ARNs, and retention policies.

mod common;

use berth_logs::LogsError;
use berth_logs::names::group_arn;
use berth_types::logs::*;
use common::*;
use std::collections::BTreeMap;

fn retention_of(f: &Fixture) -> Option<i32> {
    f.api()
        .describe_log_groups(DescribeLogGroupsRequest::default())
        .expect("describe groups")
        .log_groups
        .unwrap()[0]
        .retention_in_days
}

#[test]
fn tags_on_group_arns() {
    let f = Fixture::new();
    f.api()
        .create_log_group(CreateLogGroupRequest {
            log_group_name: "g".into(),
            tags: Some(BTreeMap::from([("team".to_string(), "web".to_string())])),
            ..Default::default()
        })
        .unwrap();
    let arn = group_arn(&context().partition, "g");
    let list = |arn: &str| {
        f.api().list_tags_for_resource(ListTagsForResourceRequest {
            resource_arn: arn.into(),
        })
    };
    assert_eq!(list(&arn).unwrap().tags.unwrap()["team"], "web");
    f.api()
        .tag_resource(TagResourceRequest {
            resource_arn: format!("{arn}:*"),
            tags: BTreeMap::from([("env".to_string(), "prod".to_string())]),
        })
        .unwrap();
    assert_eq!(list(&arn).unwrap().tags.unwrap().len(), 2);
    f.api()
        .untag_resource(UntagResourceRequest {
            resource_arn: arn.clone(),
            tag_keys: vec!["team".into()],
        })
        .unwrap();
    assert_eq!(
        list(&arn).unwrap().tags.unwrap(),
        BTreeMap::from([("env".to_string(), "prod".to_string())])
    );

    let many: BTreeMap<String, String> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    assert!(matches!(
        f.api().tag_resource(TagResourceRequest {
            resource_arn: arn.clone(),
            tags: many,
        }),
        Err(LogsError::TooManyTags(_))
    ));
    assert!(matches!(
        f.api().tag_resource(TagResourceRequest {
            resource_arn: arn.clone(),
            tags: BTreeMap::from([("aws:x".to_string(), "v".to_string())]),
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        f.api().tag_resource(TagResourceRequest {
            resource_arn: arn.clone(),
            tags: BTreeMap::from([("k".to_string(), "v".repeat(257))]),
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        list("arn:aws:logs:us-east-1:123456789012:log-group:nope"),
        Err(LogsError::ResourceNotFound(_))
    ));
    assert!(matches!(
        list("arn:aws:logs:eu-west-1:123456789012:log-group:g"),
        Err(LogsError::ResourceNotFound(_))
    ));
    assert!(matches!(
        list("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s"),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(list("g"), Err(LogsError::InvalidParameter(_))));
}

#[test]
fn retention_policies() {
    let mut f = Fixture::new();
    f.group("g");
    let put = |days: i32| {
        f.api().put_retention_policy(PutRetentionPolicyRequest {
            log_group_name: "g".into(),
            retention_in_days: days,
        })
    };
    assert!(
        matches!(put(2), Err(LogsError::InvalidParameter(m)) if m.contains("[1, 3, 5, 7, 14, 30"))
    );
    put(30).unwrap();
    f.reopen();
    assert_eq!(retention_of(&f), Some(30));
    f.api()
        .delete_retention_policy(DeleteRetentionPolicyRequest {
            log_group_name: "g".into(),
        })
        .unwrap();
    assert_eq!(retention_of(&f), None);
    assert!(matches!(
        f.api().put_retention_policy(PutRetentionPolicyRequest {
            log_group_name: "nope".into(),
            retention_in_days: 1,
        }),
        Err(LogsError::ResourceNotFound(_))
    ));
}
