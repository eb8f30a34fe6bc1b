//! FireLens under `berth up`: a log router container (`firelensConfiguration` fluentbit) gets
//! the configuration the agent generated, and an app logging with `awsfirelens` sends its
//! records to it over the forward protocol. The router is busybox standing in for Fluent Bit:
//! it prints its configuration, then what `nc` receives on the forward port (through `strings`,
//! msgpack being binary), and exits when the app's driver hangs up, which stops the task. Its
//! own output goes to Berth's Logs API (awslogs), read back with the official AWS SDK.

use aws_sdk_ecs::types::{
    FirelensConfiguration, FirelensConfigurationType, LogConfiguration, LogDriver,
};
use berth_test_kit::ecs::{self as kit, register, run_one, wait_status};
use berth_test_kit::logs::{client as logs_client, read_all};
use berth_test_kit::up::Berth;

#[tokio::test(flavor = "multi_thread")]
async fn an_apps_records_reach_the_router_with_the_generated_configuration() {
    let (berth, ecs) = Berth::ready("firelens").await;
    let group = format!("/ecs/{}-firelens", berth.cluster);
    let router_logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &group)
        .options("awslogs-region", "us-east-1")
        .options("awslogs-stream-prefix", "router")
        .options("awslogs-create-group", "true")
        .build()
        .expect("router logs");
    let router = kit::container(
        "log_router",
        &[
            "sh",
            "-c",
            "cat /fluent-bit/etc/fluent-bit.conf; nc -l -p 24224 | strings -n 3",
        ],
    )
    .memory(32)
    .stop_timeout(2)
    .firelens_configuration(
        FirelensConfiguration::builder()
            .r#type(FirelensConfigurationType::Fluentbit)
            .build()
            .expect("firelens"),
    )
    .log_configuration(router_logs)
    .build();
    let app_logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awsfirelens)
        .options("Name", "cloudwatch_logs")
        .options("region", "us-east-1")
        .options("log_group_name", "x")
        .options("log_stream_prefix", "y")
        .build()
        .expect("app logs");
    // Not essential: the task stops when the router exits, once the app's driver hung up.
    let app = kit::container(
        "app",
        &[
            "sh",
            "-c",
            "echo firelens-line-one; echo firelens-line-two; sleep 1",
        ],
    )
    .memory(32)
    .stop_timeout(2)
    .essential(false)
    .log_configuration(app_logs)
    .build();
    let td = register(&ecs, "firelens", vec![router, app]).await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    let task = wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    assert_eq!(
        kit::container_named(&task, "log_router").and_then(|c| c.exit_code()),
        Some(0),
        "{:?}",
        task.stopped_reason()
    );
    // The forward port Berth published on loopback for the app is not the task's binding.
    assert!(
        task.containers()
            .iter()
            .all(|c| c.network_bindings().is_empty()),
        "{:?}",
        task.containers()
    );

    let logs = logs_client(&berth.exports);
    let task_id = arn.rsplit('/').next().unwrap_or_default();
    let stream = format!("router/log_router/{task_id}");
    let lines = read_all(&logs, &group, &stream, true, None).await;
    let output = lines.join("\n");
    let api = reqwest::Url::parse(&berth.exports.endpoint).expect("endpoint");
    let expected_config = [
        "[INPUT]".to_string(),
        "unix_path /var/run/fluent.sock".into(),
        "Port 24224".into(),
        "Tag firelens-healthcheck".into(),
        format!("Record ecs_cluster {}", berth.cluster),
        format!("Record ecs_task_arn {arn}"),
        "Record ecs_task_definition firelens:1".into(),
        "Name cloudwatch_logs".into(),
        "Match app-firelens*".into(),
        "log_group_name x".into(),
        "log_stream_prefix y".into(),
        format!("endpoint {}", api.host_str().unwrap_or_default()),
        format!("port {}", api.port_or_known_default().unwrap_or_default()),
        "tls Off".into(),
    ];
    for wanted in &expected_config {
        assert!(
            lines.iter().any(|l| l.trim() == wanted),
            "{wanted:?} in the router's output:\n{output}"
        );
    }
    // What the router received over the forward protocol: the tag, the record's keys, the
    // lines (a msgpack length byte may be printable and lead the string: `ends_with`).
    for wanted in [
        format!("app-firelens-{task_id}"),
        "container_name".into(),
        "source".into(),
        "log".into(),
        "firelens-line-one".into(),
        "firelens-line-two".into(),
    ] {
        assert!(
            lines.iter().any(|l| l.trim().ends_with(&wanted)),
            "{wanted:?} in the router's output:\n{output}"
        );
    }
}
