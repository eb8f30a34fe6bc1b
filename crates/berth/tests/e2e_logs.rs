//! `awslogs` task definitions under `berth up`: containers' output shipped by the agent to
//! Berth's CloudWatch Logs API and read back with the official AWS SDK, also after the task
//! stopped.

use berth_test_kit::ecs::{self as kit, register, run_one, wait_status};
use berth_test_kit::logs::{client as logs_client, logging, read_all};
use berth_test_kit::up::Berth;

fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_lines_read_back_in_order_forward_and_backward() {
    let (berth, ecs) = Berth::ready("logs10k").await;
    let group = format!("/ecs/{}", berth.cluster);
    let td = register(
        &ecs,
        "logs10k",
        vec![logging(
            "counter",
            &[
                "sh",
                "-c",
                "i=1; while [ $i -le 10000 ]; do echo line $i; i=$((i+1)); done",
            ],
            &group,
            true,
        )],
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    let logs = logs_client(&berth.exports);
    let stream = format!("app/counter/{}", task_id(&arn));
    let expected: Vec<String> = (1..=10_000).map(|i| format!("line {i}")).collect();
    let forward = read_all(&logs, &group, &stream, true, None).await;
    assert_eq!(forward.len(), expected.len(), "every line, once");
    assert!(forward == expected, "in order");
    for limit in [Some(777), Some(10_000)] {
        assert!(read_all(&logs, &group, &stream, true, limit).await == expected);
        assert!(read_all(&logs, &group, &stream, false, limit).await == expected);
    }
    assert!(read_all(&logs, &group, &stream, false, None).await == expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_tasks_last_lines_are_readable_after_it_stopped() {
    let (berth, ecs) = Berth::ready("logscrash").await;
    let group = format!("/ecs/{}", berth.cluster);
    let td = register(
        &ecs,
        "logscrash",
        vec![logging(
            "crasher",
            &[
                "sh",
                "-c",
                "echo starting; echo 'fatal: no config' >&2; exit 3",
            ],
            &group,
            true,
        )],
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    let task = wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    assert_eq!(
        kit::container_named(&task, "crasher").and_then(|c| c.exit_code()),
        Some(3)
    );
    let logs = logs_client(&berth.exports);
    let stream = format!("app/crasher/{}", task_id(&arn));
    let mut lines = read_all(&logs, &group, &stream, true, None).await;
    // The engine copies stdout and stderr separately: their lines' relative order is the
    // order the engine read them in, which need not be the order they were printed in.
    lines.sort();
    assert_eq!(lines, ["fatal: no config", "starting"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_group_without_create_group_stops_the_task_with_ecs_reason() {
    let (berth, ecs) = Berth::ready("logsmissing").await;
    let group = format!("/ecs/{}-absent", berth.cluster);
    let td = register(
        &ecs,
        "logsmissing",
        vec![logging("app", &["sleep", "60"], &group, false)],
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    let task = wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    let reason = kit::container_named(&task, "app")
        .and_then(|c| c.reason())
        .or(task.stopped_reason())
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.starts_with("CannotStartContainerError")
            && reason
                .contains("ResourceNotFoundException: The specified log group does not exist."),
        "{reason}"
    );
}

/// The CloudWatch documentation's sample events, and patterns from it with the events each
/// matches, through PutLogEvents and FilterLogEvents of the official SDK.
#[tokio::test(flavor = "multi_thread")]
async fn filter_patterns_from_the_cloudwatch_documentation() {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, exports) = berth_test_kit::process::start_server(data.path(), "127.0.0.1:0");
    let logs = logs_client(&exports);
    let events = [
        "[ERROR 401] UNAUTHORIZED REQUEST",
        "[ERROR 400] BAD REQUEST",
        "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS",
        "[ERROR 500] INTERNAL SERVER ERROR",
        "[INFO 200] SUCCESSFUL REQUEST",
        r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}]}"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
    ];
    let (group, stream) = ("/docs/samples", "samples");
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("CreateLogStream");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let mut put = logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for message in events {
        put = put.log_events(
            InputLogEvent::builder()
                .timestamp(now)
                .message(message)
                .build()
                .expect("event"),
        );
    }
    put.send().await.expect("PutLogEvents");
    let table: &[(&str, &[usize])] = &[
        ("ERROR", &[0, 1, 2, 3, 4]),
        ("ERROR ARGUMENTS", &[2, 3]),
        ("?ERROR ?ARGUMENTS", &[0, 1, 2, 3, 4]),
        ("\"INTERNAL SERVER ERROR\"", &[4]),
        ("ERROR -ARGUMENTS", &[0, 1, 4]),
        ("", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ("{ $.eventType = \"UpdateTrail\" }", &[6]),
        ("{ $.sourceIPAddress != 123.123.* }", &[6]),
        ("{ $.arrayKey[0] = \"value\" }", &[6]),
        ("{ $.objectList[1].id = 2 }", &[6]),
        (
            "{ $.eventType = \"Other\" || $.objectList[0].name = \"a\" }",
            &[6],
        ),
        (
            "[ip = 127.0.0.1, user, username, timestamp, request, status_code, bytes]",
            &[7, 8, 9],
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 5*, bytes]",
            &[8],
        ),
        ("[..., status_code = 200, bytes > 4000]", &[9]),
    ];
    for (pattern, expected) in table {
        let found = logs
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(*pattern)
            .send()
            .await
            .unwrap_or_else(|e| panic!("FilterLogEvents {pattern:?}: {e:?}"));
        let messages: Vec<&str> = found.events().iter().filter_map(|e| e.message()).collect();
        let wanted: Vec<&str> = expected.iter().map(|i| events[*i]).collect();
        assert_eq!(messages, wanted, "pattern {pattern:?}");
    }
    let refused = logs
        .filter_log_events()
        .log_group_name(group)
        .filter_pattern("{ $.eventType = ")
        .send()
        .await
        .expect_err("a broken pattern is refused");
    assert!(
        refused
            .as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception()),
        "{refused:?}"
    );
}

/// The agent and then the server killed with SIGKILL (and started again) while a task prints:
/// every line arrives once, in order.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_the_agent_and_of_the_server_loses_and_repeats_nothing() {
    use berth_test_kit::fleet::Fleet;
    use std::time::Duration;
    let (mut fleet, _) = Fleet::with_agent("logskill", &[]).await;
    let group = format!("/ecs/{}", fleet.cluster);
    let lines = 3_000;
    let printer =
        format!("i=1; while [ $i -le {lines} ]; do echo line $i; i=$((i+1)); usleep 3000; done");
    let td = register(
        &fleet.ecs,
        "logskill",
        vec![logging("printer", &["sh", "-c", &printer], &group, true)],
    )
    .await;
    let arn = run_one(&fleet.ecs, &fleet.cluster, &td).await;
    wait_status(&fleet.ecs, &fleet.cluster, &arn, "RUNNING").await;
    let logs = logs_client(&fleet.exports);
    let stream = format!("app/printer/{}", task_id(&arn));
    // Each kill lands while lines are being printed and shipped.
    let shipped = |wanted: usize| {
        let logs = logs.clone();
        let (group, stream) = (group.clone(), stream.clone());
        async move {
            kit::eventually("lines shipped", Duration::from_secs(60), || async {
                let page = logs
                    .get_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .start_from_head(false)
                    .limit(1)
                    .send()
                    .await
                    .ok()?;
                let last = page.events().first()?.message()?.to_string();
                let n: usize = last.strip_prefix("line ")?.parse().ok()?;
                (n >= wanted).then_some(())
            })
            .await
        }
    };
    shipped(300).await;
    fleet.restart_agent(0, &[]);
    shipped(1_000).await;
    fleet.restart_server();
    shipped(1_700).await;
    fleet.restart_agent(0, &[]);
    fleet.restart_server();
    wait_status(&fleet.ecs, &fleet.cluster, &arn, "STOPPED").await;
    let expected: Vec<String> = (1..=lines).map(|i| format!("line {i}")).collect();
    let got = kit::eventually("every line", Duration::from_secs(30), || async {
        let got = read_all(&logs, &group, &stream, true, None).await;
        (got.len() >= expected.len()).then_some(got)
    })
    .await;
    let first_wrong = got.iter().zip(&expected).position(|(g, e)| g != e);
    assert_eq!(
        (got.len(), first_wrong),
        (expected.len(), None),
        "every line once, in order"
    );
}
