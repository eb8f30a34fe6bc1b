//! Log groups and streams: creating, describing and deleting them, and the errors
//! CloudWatch gives.

mod common;

use berth_logs::LogsError;
use berth_logs::names::group_arn;
use berth_types::logs::*;
use common::*;

fn describe(f: &Fixture, request: DescribeLogGroupsRequest) -> DescribeLogGroupsResponse {
    f.api()
        .describe_log_groups(request)
        .expect("describe groups")
}

fn group_names(r: &DescribeLogGroupsResponse) -> Vec<String> {
    r.log_groups
        .iter()
        .flatten()
        .map(|g| g.log_group_name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn groups_are_created_described_in_order_and_deleted() {
    let f = Fixture::new();
    for name in ["/ecs/web", "/ecs/api", "Zeta", "/other"] {
        f.group(name);
    }
    let all = describe(&f, DescribeLogGroupsRequest::default());
    assert_eq!(
        group_names(&all),
        ["/ecs/api", "/ecs/web", "/other", "Zeta"]
    );
    assert_eq!(all.next_token, None);
    let g = &all.log_groups.as_ref().unwrap()[0];
    assert_eq!(g.creation_time, Some(NOW));
    assert_eq!(g.metric_filter_count, Some(0));
    assert_eq!(g.stored_bytes, Some(0));
    assert_eq!(g.log_group_class, Some(LogGroupClass::Standard));
    assert_eq!(
        g.arn.as_deref(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api:*")
    );
    assert_eq!(
        g.log_group_arn.as_deref(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api")
    );

    let prefixed = describe(
        &f,
        DescribeLogGroupsRequest {
            log_group_name_prefix: Some("/ecs/".into()),
            ..Default::default()
        },
    );
    assert_eq!(group_names(&prefixed), ["/ecs/api", "/ecs/web"]);
    let pattern = describe(
        &f,
        DescribeLogGroupsRequest {
            log_group_name_pattern: Some("t".into()),
            ..Default::default()
        },
    );
    assert_eq!(group_names(&pattern), ["/other", "Zeta"]);

    // Paging one at a time sees every group once.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = describe(
            &f,
            DescribeLogGroupsRequest {
                limit: Some(1),
                next_token: token,
                ..Default::default()
            },
        );
        seen.extend(group_names(&page));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["/ecs/api", "/ecs/web", "/other", "Zeta"]);

    f.api()
        .delete_log_group(DeleteLogGroupRequest {
            log_group_name: "/ecs/web".into(),
        })
        .unwrap();
    assert_eq!(
        group_names(&describe(&f, DescribeLogGroupsRequest::default())),
        ["/ecs/api", "/other", "Zeta"]
    );
}

#[test]
fn group_errors() {
    let f = Fixture::new();
    f.group("g");
    let create = |name: &str| {
        f.api().create_log_group(CreateLogGroupRequest {
            log_group_name: name.into(),
            ..Default::default()
        })
    };
    assert!(
        matches!(create("g"), Err(LogsError::ResourceAlreadyExists(m)) if m == "The specified log group already exists")
    );
    assert!(
        matches!(create("aws/x"), Err(LogsError::InvalidParameter(m)) if m == "Log groups starting with AWS/ are reserved for AWS.")
    );
    assert!(
        matches!(create("a b"), Err(LogsError::InvalidParameter(m)) if m.contains("Member must satisfy regular expression pattern"))
    );
    assert!(matches!(
        f.api().create_log_group(CreateLogGroupRequest {
            log_group_name: "k".into(),
            kms_key_id: Some("arn:aws:kms:x".into()),
            ..Default::default()
        }),
        Err(LogsError::Unsupported(m)) if m.contains("kmsKeyId")
    ));
    assert!(matches!(
        f.api().create_log_group(CreateLogGroupRequest {
            log_group_name: "k".into(),
            log_group_class: Some(LogGroupClass::InfrequentAccess),
            ..Default::default()
        }),
        Err(LogsError::Unsupported(m)) if m.contains("logGroupClass")
    ));
    assert!(matches!(
        f.api().delete_log_group(DeleteLogGroupRequest { log_group_name: "nope".into() }),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log group does not exist."
    ));
    assert!(matches!(
        f.api().describe_log_groups(DescribeLogGroupsRequest {
            log_group_name_prefix: Some("a".into()),
            log_group_name_pattern: Some("b".into()),
            ..Default::default()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    for limit in [0, 51] {
        assert!(matches!(
            f.api().describe_log_groups(DescribeLogGroupsRequest {
                limit: Some(limit),
                ..Default::default()
            }),
            Err(LogsError::InvalidParameter(_))
        ));
    }
    assert!(matches!(
        f.api().describe_log_groups(DescribeLogGroupsRequest {
            log_group_identifiers: Some(vec!["g".into()]),
            ..Default::default()
        }),
        Err(LogsError::Unsupported(m)) if m.contains("logGroupIdentifiers")
    ));
    assert!(matches!(
        f.api().describe_log_groups(DescribeLogGroupsRequest {
            include_linked_accounts: Some(true),
            ..Default::default()
        }),
        Err(LogsError::Unsupported(m)) if m.contains("includeLinkedAccounts")
    ));
    assert!(matches!(
        f.api().describe_log_groups(DescribeLogGroupsRequest {
            next_token: Some("garbage".into()),
            ..Default::default()
        }),
        Err(LogsError::InvalidParameter(_))
    ));
}

#[test]
fn streams_are_created_described_and_deleted() {
    let f = Fixture::new();
    f.group("g");
    for s in ["b", "a", "c/1", "c/2"] {
        f.stream("g", s);
    }
    f.clock.advance(5);
    f.put(
        "g",
        "b",
        &[(NOW - 10, "x"), (NOW - 5, "y")],
        Some("cursor-1"),
    );
    let streams = f.describe_streams("g");
    let names: Vec<_> = streams
        .iter()
        .map(|s| s.log_stream_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c/1", "c/2"]);
    let b = &streams[1];
    assert_eq!(b.creation_time, Some(NOW));
    assert_eq!(b.first_event_timestamp, Some(NOW - 10));
    assert_eq!(b.last_event_timestamp, Some(NOW - 5));
    assert_eq!(b.last_ingestion_time, Some(NOW + 5));
    assert_eq!(b.upload_sequence_token.as_deref(), Some("cursor-1"));
    assert_eq!(
        b.arn.as_deref(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:b")
    );
    assert!(b.stored_bytes.unwrap() > 0);
    assert_eq!(streams[0].first_event_timestamp, None);

    let describe = |r: DescribeLogStreamsRequest| f.api().describe_log_streams(r);
    let r = describe(DescribeLogStreamsRequest {
        log_group_identifier: Some(group_arn(&context().partition, "g")),
        log_stream_name_prefix: Some("c/".into()),
        descending: Some(true),
        ..Default::default()
    })
    .unwrap();
    let names: Vec<_> = r
        .log_streams
        .unwrap()
        .iter()
        .map(|s| s.log_stream_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["c/2", "c/1"]);

    // By last event time, paged two at a time: streams without events first.
    f.put("g", "c/1", &[(NOW - 1, "z")], None);
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let r = describe(DescribeLogStreamsRequest {
            log_group_name: Some("g".into()),
            order_by: Some(OrderBy::LastEventTime),
            limit: Some(2),
            next_token: token,
            ..Default::default()
        })
        .unwrap();
        seen.extend(
            r.log_streams
                .unwrap()
                .into_iter()
                .map(|s| s.log_stream_name.unwrap()),
        );
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a", "c/2", "b", "c/1"]);
    // By name, one at a time, descending.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let r = describe(DescribeLogStreamsRequest {
            log_group_name: Some("g".into()),
            descending: Some(true),
            limit: Some(1),
            next_token: token,
            ..Default::default()
        })
        .unwrap();
        seen.extend(
            r.log_streams
                .unwrap()
                .into_iter()
                .map(|s| s.log_stream_name.unwrap()),
        );
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["c/2", "c/1", "b", "a"]);

    assert!(matches!(
        describe(DescribeLogStreamsRequest {
            log_group_name: Some("g".into()),
            order_by: Some(OrderBy::LastEventTime),
            log_stream_name_prefix: Some("c".into()),
            ..Default::default()
        }),
        Err(LogsError::InvalidParameter(m)) if m == "Cannot order by LastEventTime with a logStreamNamePrefix."
    ));
    assert!(matches!(
        describe(DescribeLogStreamsRequest {
            log_group_name: Some("nope".into()),
            ..Default::default()
        }),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log group does not exist."
    ));

    let create = |g: &str, s: &str| {
        f.api().create_log_stream(CreateLogStreamRequest {
            log_group_name: g.into(),
            log_stream_name: s.into(),
        })
    };
    assert!(
        matches!(create("g", "a"), Err(LogsError::ResourceAlreadyExists(m)) if m == "The specified log stream already exists")
    );
    assert!(
        matches!(create("nope", "a"), Err(LogsError::ResourceNotFound(m)) if m == "The specified log group does not exist.")
    );
    assert!(matches!(
        create("g", "a:b"),
        Err(LogsError::InvalidParameter(_))
    ));

    let delete = |s: &str| {
        f.api().delete_log_stream(DeleteLogStreamRequest {
            log_group_name: "g".into(),
            log_stream_name: s.into(),
        })
    };
    delete("b").unwrap();
    assert!(
        matches!(delete("b"), Err(LogsError::ResourceNotFound(m)) if m == "The specified log stream does not exist.")
    );
    assert!(matches!(
        f.try_put("g", "b", &[(NOW, "x")], None),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log stream does not exist."
    ));
    // A stream made again under the same name starts empty.
    f.stream("g", "b");
    let got = f.get(get_request("g", "b"));
    assert!(messages(&got.events).is_empty());
}

#[test]
fn deleting_a_group_takes_its_streams_and_events() {
    let mut f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    f.put("g", "s", &[(NOW, "old")], None);
    f.api()
        .delete_log_group(DeleteLogGroupRequest {
            log_group_name: "g".into(),
        })
        .unwrap();
    assert!(matches!(
        f.try_put("g", "s", &[(NOW, "x")], None),
        Err(LogsError::ResourceNotFound(_))
    ));
    f.group("g");
    assert!(f.describe_streams("g").is_empty());
    f.reopen();
    assert!(f.describe_streams("g").is_empty());
}

#[test]
fn long_names_work() {
    let mut f = Fixture::new();
    let group = "g".repeat(512);
    let stream = "s".repeat(512);
    f.group(&group);
    f.stream(&group, &stream);
    f.stream(&group, &"s".repeat(511));
    f.put(&group, &stream, &[(NOW, "hello")], None);
    f.reopen();
    let streams = f.describe_streams(&group);
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[1].log_stream_name.as_deref(), Some(stream.as_str()));
    assert_eq!(
        messages(&f.get(get_request(&group, &stream)).events),
        ["hello"]
    );
}
