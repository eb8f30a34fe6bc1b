//! The official AWS SDK client for ECS pointed at Berth, and the calls and waits the
//! end-to-end tests repeat: registering a task definition, running and stopping a task,
//! polling until a task, an instance or a service is as wanted.

use crate::image::IMAGE;
use crate::process::Exports;
use aws_credential_types::Credentials;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::config::{BehaviorVersion, Region, SharedCredentialsProvider};
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::operation::run_task::RunTaskOutput;
use aws_sdk_ecs::types::builders::ContainerDefinitionBuilder;
use aws_sdk_ecs::types::{ContainerDefinition, DesiredStatus, Service, Task};
use berth_agent::client::{ClientError, EcsClient};
use std::time::{Duration, Instant};

/// What every official SDK client of the tests shares: Berth's endpoint and region, the root
/// key of `e`.
pub fn sdk_config(e: &Exports) -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&e.endpoint)
        .region(Region::new(e.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            &e.access_key,
            &e.secret_key,
            None,
            None,
            "berth-e2e",
        )))
        .build()
}

/// The official AWS SDK client for ECS, pointed at Berth.
pub fn client(e: &Exports) -> Client {
    Client::new(&sdk_config(e))
}

/// The error code and message of a call Berth refused, made with [`json_client`]; panics when
/// the call succeeded or never got an answer.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (String, String) {
    match result {
        Err(ClientError::Api { code, message, .. }) => (code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Polls `check` until it returns Some, or panics after `limit` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A container of [`IMAGE`] running `command`, with 16 MiB and a one-second stop timeout;
/// the caller may set more (a later setter wins).
pub fn container(name: &str, command: &[&str]) -> ContainerDefinitionBuilder {
    ContainerDefinition::builder()
        .name(name)
        .image(IMAGE)
        .set_command(Some(command.iter().map(|s| s.to_string()).collect()))
        .memory(16)
        .stop_timeout(1)
}

/// Sends a RegisterTaskDefinition; returns the new revision's ARN.
pub async fn register_definition(request: RegisterTaskDefinitionFluentBuilder) -> String {
    request
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|td| td.task_definition_arn())
        .expect("an ARN")
        .to_string()
}

/// Registers a task definition of `containers`; returns its ARN.
pub async fn register(ecs: &Client, family: &str, containers: Vec<ContainerDefinition>) -> String {
    register_definition(
        ecs.register_task_definition()
            .family(family)
            .set_container_definitions(Some(containers)),
    )
    .await
}

/// RunTask of one task of `td` (a family, a revision or an ARN).
pub async fn run_task(ecs: &Client, cluster: &str, td: &str) -> RunTaskOutput {
    ecs.run_task()
        .cluster(cluster)
        .task_definition(td)
        .send()
        .await
        .expect("RunTask")
}

/// Runs one task of `td`, which must be placed at once, PENDING and wanted RUNNING; returns
/// its ARN.
pub async fn run_one(ecs: &Client, cluster: &str, td: &str) -> String {
    let out = run_task(ecs, cluster, td).await;
    assert!(
        out.failures().is_empty(),
        "RunTask failures: {:?}",
        out.failures()
    );
    let task = out.tasks().first().expect("one task");
    assert!(
        matches!(task.last_status(), Some("PROVISIONING") | Some("PENDING")),
        "RunTask answers PROVISIONING or PENDING, not {:?}",
        task.last_status()
    );
    assert_eq!(task.desired_status(), Some("RUNNING"));
    task.task_arn().expect("task ARN").to_string()
}

/// Stops a task and waits until it is STOPPED.
pub async fn stop_and_wait(ecs: &Client, cluster: &str, task_arn: &str) -> Task {
    ecs.stop_task()
        .cluster(cluster)
        .task(task_arn)
        .send()
        .await
        .expect("StopTask");
    wait_status(ecs, cluster, task_arn, "STOPPED").await
}

/// Describes one task.
pub async fn describe(ecs: &Client, cluster: &str, task_arn: &str) -> Task {
    ecs.describe_tasks()
        .cluster(cluster)
        .tasks(task_arn)
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .first()
        .cloned()
        .expect("the task is described")
}

/// The task's container of that name.
pub fn container_named<'t>(
    task: &'t Task,
    name: &str,
) -> Option<&'t aws_sdk_ecs::types::Container> {
    task.containers().iter().find(|c| c.name() == Some(name))
}

/// Waits until the task's lastStatus is `status`.
pub async fn wait_status(ecs: &Client, cluster: &str, task_arn: &str, status: &str) -> Task {
    eventually(
        &format!("task {task_arn} to be {status}"),
        Duration::from_secs(60),
        || async {
            let t = describe(ecs, cluster, task_arn).await;
            (t.last_status() == Some(status)).then_some(t)
        },
    )
    .await
}

/// Waits until the cluster has a connected container instance; returns its ARN.
pub async fn wait_instance(ecs: &Client, cluster: &str) -> String {
    wait_instances(ecs, cluster, 1).await.remove(0)
}

/// Waits until the cluster has `n` connected container instances; returns their ARNs.
pub async fn wait_instances(ecs: &Client, cluster: &str, n: usize) -> Vec<String> {
    eventually(
        "connected container instances",
        Duration::from_secs(30),
        || async {
            let list = ecs
                .list_container_instances()
                .cluster(cluster)
                .send()
                .await
                .ok()?;
            let arns = list.container_instance_arns().to_vec();
            if arns.len() < n {
                return None;
            }
            let described = ecs
                .describe_container_instances()
                .cluster(cluster)
                .set_container_instances(Some(arns.clone()))
                .send()
                .await
                .ok()?;
            let connected = described
                .container_instances()
                .iter()
                .all(|i| i.agent_connected());
            connected.then_some(arns)
        },
    )
    .await
}

/// Describes one service.
pub async fn describe_service(ecs: &Client, cluster: &str, name: &str) -> Service {
    ecs.describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .expect("DescribeServices")
        .services()
        .first()
        .cloned()
        .expect("the service is described")
}

/// The service's event messages, newest first.
pub fn service_events(service: &Service) -> Vec<String> {
    service
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect()
}

/// The service's tasks of that desired status, described.
pub async fn service_tasks(
    ecs: &Client,
    cluster: &str,
    name: &str,
    desired: DesiredStatus,
) -> Vec<Task> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(name)
        .desired_status(desired)
        .send()
        .await
        .expect("ListTasks")
        .task_arns()
        .to_vec();
    describe_tasks(ecs, cluster, arns).await
}

/// Describes tasks (none when `arns` is empty).
pub async fn describe_tasks(ecs: &Client, cluster: &str, arns: Vec<String>) -> Vec<Task> {
    if arns.is_empty() {
        return vec![];
    }
    let described = ecs.describe_tasks().cluster(cluster).set_tasks(Some(arns));
    described
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .to_vec()
}

/// UpdateService to a new task definition.
pub async fn update_service(ecs: &Client, cluster: &str, name: &str, td: &str) {
    ecs.update_service()
        .cluster(cluster)
        .service(name)
        .task_definition(td)
        .send()
        .await
        .expect("UpdateService");
}

/// Waits, with the SDK's services-stable waiter, until the service is stable.
pub async fn wait_stable(ecs: &Client, cluster: &str, name: &str, limit: Duration) {
    ecs.wait_until_services_stable()
        .cluster(cluster)
        .services(name)
        .wait(limit)
        .await
        .unwrap_or_else(|e| panic!("service {name} is stable within {limit:?}: {e:?}"));
}

/// Berth's own awsJson1.1 client (the agent's), signing with the server's root key: for what
/// the ECS SDK does not speak (ECR, `BerthAgent`, raw JSON).
pub fn json_client(e: &Exports) -> EcsClient {
    EcsClient::new(&e.endpoint, &e.access_key, &e.secret_key, &e.region)
}

/// A new join token (`BerthAgent.RotateJoinToken` with the root key): of `cluster`, or good
/// for every cluster.
pub async fn rotate_join_token(exports: &Exports, cluster: Option<&str>) -> String {
    let answer: serde_json::Value = json_client(exports)
        .call_target(
            "BerthAgent",
            "RotateJoinToken",
            &serde_json::json!({ "cluster": cluster }),
        )
        .await
        .expect("the root may rotate join tokens");
    answer["joinToken"].as_str().expect("a token").to_string()
}

/// Joins `cluster` with `token` as an agent does (`BerthAgent.Join`, unsigned); returns a
/// client signing with the key it bought.
pub async fn join(e: &Exports, token: &str, cluster: &str) -> EcsClient {
    let joined = reqwest::Client::new()
        .post(format!("{}/", e.endpoint))
        .header("x-amz-target", "BerthAgent.Join")
        .body(serde_json::json!({"joinToken": token, "cluster": cluster}).to_string())
        .send()
        .await
        .expect("joined")
        .text()
        .await
        .expect("body");
    let joined: serde_json::Value = serde_json::from_str(&joined).expect("json");
    EcsClient::new(
        &e.endpoint,
        joined["accessKeyId"].as_str().expect("key"),
        joined["secretAccessKey"].as_str().expect("secret"),
        &e.region,
    )
}
