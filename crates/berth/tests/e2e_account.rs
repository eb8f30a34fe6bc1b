//! The account-wide ECS calls tools make, through the AWS SDK for Rust against a real `berth
//! server`: account settings (and a new cluster's containerInsights following them), cluster
//! updates and statistics, task definitions refused as ECS refuses them, the account id and
//! region a server answers as, and ExecuteCommand's refusal.

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    ClusterField, ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition,
    NetworkMode, SettingName, SettingType,
};
use berth_test_kit::ecs::{client, wait_instances};
use berth_test_kit::process::{
    Exports, start_server, start_server_with, start_simulator, unique_cluster,
};

/// The code and message of a refused call.
fn refusal(e: impl ProvideErrorMetadata) -> (String, String) {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

fn insights(cluster: &aws_sdk_ecs::types::Cluster) -> Option<String> {
    cluster
        .settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_settings_round_trip_and_follow_into_new_clusters() {
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecs = client(&exports);

    // What infrastructure tools ask before tagging a task.
    let listed = ecs
        .list_account_settings()
        .name(SettingName::TaskLongArnFormat)
        .effective_settings(true)
        .send()
        .await
        .expect("ListAccountSettings");
    let setting = &listed.settings()[0];
    assert_eq!(setting.value(), Some("enabled"));
    assert_eq!(setting.r#type(), Some(&SettingType::AwsManaged));
    assert_eq!(
        setting.principal_arn(),
        Some("arn:aws:iam::000000000000:root")
    );
    let (code, message) = refusal(
        ecs.put_account_setting()
            .name(SettingName::TaskLongArnFormat)
            .value("disabled")
            .send()
            .await
            .expect_err("long ARNs cannot be turned off"),
    );
    assert_eq!(code, "InvalidParameterException", "{message}");

    let default = ecs
        .put_account_setting_default()
        .name(SettingName::ContainerInsights)
        .value("enabled")
        .send()
        .await
        .expect("PutAccountSettingDefault");
    assert_eq!(default.setting().and_then(|s| s.value()), Some("enabled"));
    let created = ecs
        .create_cluster()
        .cluster_name("insightful")
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .expect("a cluster");
    assert_eq!(insights(&created).as_deref(), Some("enabled"));
    let explicit = ecs
        .create_cluster()
        .cluster_name("quiet")
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value("disabled")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .expect("a cluster");
    assert_eq!(insights(&explicit).as_deref(), Some("disabled"));

    ecs.put_account_setting()
        .name(SettingName::AwsvpcTrunking)
        .value("enabled")
        .send()
        .await
        .expect("PutAccountSetting");
    let own = ecs
        .list_account_settings()
        .send()
        .await
        .expect("ListAccountSettings");
    let names: Vec<_> = own.settings().iter().filter_map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            &SettingName::AwsvpcTrunking,
            &SettingName::ContainerInsights
        ],
        "the root's own settings, and nothing AWS manages"
    );
    let deleted = ecs
        .delete_account_setting()
        .name(SettingName::ContainerInsights)
        .send()
        .await
        .expect("DeleteAccountSetting");
    assert_eq!(deleted.setting().and_then(|s| s.value()), Some("enabled"));
    let later = ecs
        .create_cluster()
        .cluster_name("later")
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .expect("a cluster");
    assert_eq!(insights(&later).as_deref(), Some("disabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_update_and_count_by_launch_type() {
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecs = client(&exports);
    ecs.create_cluster()
        .cluster_name("web")
        .send()
        .await
        .expect("CreateCluster");
    let updated = ecs
        .update_cluster_settings()
        .cluster("web")
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value("enhanced")
                .build(),
        )
        .send()
        .await
        .expect("UpdateClusterSettings")
        .cluster
        .expect("a cluster");
    assert_eq!(insights(&updated).as_deref(), Some("enhanced"));
    let (code, _) = refusal(
        ecs.update_cluster_settings()
            .cluster("web")
            .settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value("sometimes")
                    .build(),
            )
            .send()
            .await
            .expect_err("not a value"),
    );
    assert_eq!(code, "InvalidParameterException");
    let updated = ecs
        .update_cluster()
        .cluster("web")
        .service_connect_defaults(
            aws_sdk_ecs::types::ClusterServiceConnectDefaultsRequest::builder()
                .namespace("internal")
                .build()
                .expect("namespace"),
        )
        .send()
        .await
        .expect("UpdateCluster")
        .cluster
        .expect("a cluster");
    assert_eq!(
        updated
            .service_connect_defaults()
            .and_then(|d| d.namespace()),
        Some("internal")
    );
    assert_eq!(insights(&updated).as_deref(), Some("enhanced"), "kept");
    let (code, _) = refusal(
        ecs.update_cluster()
            .cluster("absent")
            .send()
            .await
            .expect_err("no such cluster"),
    );
    assert_eq!(code, "ClusterNotFoundException");

    let described = ecs
        .describe_clusters()
        .clusters("web")
        .include(ClusterField::Statistics)
        .send()
        .await
        .expect("DescribeClusters");
    let statistics = described.clusters()[0].statistics();
    let names: Vec<_> = statistics.iter().filter_map(|s| s.name()).collect();
    assert!(names.contains(&"runningEC2TasksCount"), "{names:?}");
    assert!(names.contains(&"activeFargateServiceCount"), "{names:?}");
    assert!(statistics.iter().all(|s| s.value() == Some("0")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_definitions_are_refused_as_ecs_refuses_them() {
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecs = client(&exports);
    let web = ContainerDefinition::builder()
        .name("web")
        .image("nginx")
        .build();
    let fargate = |cpu: &str, memory: &str, mode: NetworkMode| {
        ecs.register_task_definition()
            .family("web")
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(mode)
            .cpu(cpu)
            .memory(memory)
            .container_definitions(web.clone())
    };
    let (code, message) = refusal(
        fargate("256", "8192", NetworkMode::Awsvpc)
            .send()
            .await
            .expect_err("256 CPU with 8 GiB"),
    );
    assert_eq!(code, "ClientException");
    assert!(
        message
            .starts_with("No Fargate configuration exists for given values: 256 CPU, 8192 memory."),
        "{message}"
    );
    let (code, message) = refusal(
        fargate("256", "512", NetworkMode::Bridge)
            .send()
            .await
            .expect_err("bridge on Fargate"),
    );
    assert_eq!(code, "ClientException");
    assert!(
        message.starts_with("Fargate only supports network mode"),
        "{message}"
    );
    let registered = fargate("1 vCPU", "2 GB", NetworkMode::Awsvpc)
        .send()
        .await
        .expect("a valid pair")
        .task_definition
        .expect("a task definition");
    assert_eq!(registered.cpu(), Some("1024"));
    assert_eq!(registered.memory(), Some("2048"));
    let (code, message) = refusal(
        ecs.register_task_definition()
            .family("big")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("worker")
                    .image("busybox")
                    .memory(1024)
                    .build(),
            )
            .send()
            .await
            .expect_err("a container bigger than its task"),
    );
    assert_eq!(code, "ClientException");
    assert!(
        message.starts_with(
            "The 'memory' setting for container 'worker' is greater than for the task"
        ),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_id_and_region_are_the_servers() {
    let data = tempfile::tempdir().expect("tempdir");
    let flags = ["--account-id", "123456789012", "--region", "eu-west-1"];
    let (mut server, exports) = start_server_with(data.path(), "127.0.0.1:0", &flags);
    assert_eq!(exports.region, "eu-west-1");
    let ecs = client(&exports);
    let cluster = ecs
        .create_cluster()
        .cluster_name("copied")
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .expect("a cluster");
    assert_eq!(
        cluster.cluster_arn(),
        Some("arn:aws:ecs:eu-west-1:123456789012:cluster/copied")
    );
    let elsewhere = client(&Exports {
        region: "us-west-2".into(),
        ..exports.clone()
    });
    let (code, message) = refusal(
        elsewhere
            .list_clusters()
            .send()
            .await
            .expect_err("signed for a region the server does not serve"),
    );
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Credential should be scoped to a valid region"),
        "{message}"
    );

    // The same data served as another account would answer ARNs nobody's policies name.
    let _ = server.kill();
    let _ = server.wait();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .output()
        .expect("berth runs");
    assert!(!refused.status.success(), "a server of another account");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--account-id 123456789012"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_command_says_what_to_run_instead() {
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = unique_cluster("exec");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let _simulator = start_simulator(&exports, &cluster, &["--instances", "1"]);
    let ecs = client(&exports);
    wait_instances(&ecs, &cluster, 1).await;
    ecs.register_task_definition()
        .family("shell")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("simulated")
                .memory(64)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let task = ecs
        .run_task()
        .cluster(&cluster)
        .task_definition("shell")
        .send()
        .await
        .expect("RunTask")
        .tasks()[0]
        .task_arn()
        .expect("a task")
        .to_string();
    let (code, message) = refusal(
        ecs.execute_command()
            .cluster(&cluster)
            .task(&task)
            .command("/bin/sh")
            .interactive(true)
            .send()
            .await
            .expect_err("no ECS Exec"),
    );
    assert_eq!(code, "UnsupportedFeatureException");
    assert!(message.contains("docker exec -it"), "{message}");
    let (code, _) = refusal(
        ecs.execute_command()
            .cluster(&cluster)
            .task("absent")
            .command("/bin/sh")
            .interactive(true)
            .send()
            .await
            .expect_err("no such task"),
    );
    assert_eq!(code, "InvalidParameterException");
}
