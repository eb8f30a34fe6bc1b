//! Tasks run as real Docker containers under `berth up`, driven by the official AWS SDK.

mod common;

use aws_sdk_ecs::types::{ContainerDefinition, PortMapping, TaskStopCode};
use common::{Berth, IMAGE, describe, eventually, task_containers, wait_status};
use std::time::Duration;

fn container(name: &str, command: &[&str], essential: bool) -> ContainerDefinition {
    ContainerDefinition::builder()
        .name(name)
        .image(IMAGE)
        .set_command(Some(command.iter().map(|s| s.to_string()).collect()))
        .memory(32)
        .essential(essential)
        .stop_timeout(2)
        .build()
}

async fn register(
    client: &aws_sdk_ecs::Client,
    family: &str,
    containers: Vec<ContainerDefinition>,
) -> String {
    client
        .register_task_definition()
        .family(family)
        .set_container_definitions(Some(containers))
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|td| td.task_definition_arn())
        .expect("an ARN")
        .to_string()
}

async fn run_one(client: &aws_sdk_ecs::Client, cluster: &str, td: &str) -> String {
    let out = client
        .run_task()
        .cluster(cluster)
        .task_definition(td)
        .send()
        .await
        .expect("RunTask");
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

#[tokio::test(flavor = "multi_thread")]
async fn two_containers_run_report_exit_codes_and_stop_on_request() {
    let berth = Berth::up("two");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let td = register(
        &ecs,
        "two",
        vec![
            container("sleeper", &["sleep", "600"], true),
            container("quitter", &["sh", "-c", "exit 3"], false),
        ],
    )
    .await;
    let arn = run_one(&ecs, cluster, &td).await;
    wait_status(&ecs, cluster, &arn, "RUNNING").await;
    let task = eventually("quitter's exit code", Duration::from_secs(30), || async {
        let t = describe(&ecs, cluster, &arn).await;
        let quitter = t
            .containers()
            .iter()
            .find(|c| c.name() == Some("quitter"))?;
        (quitter.exit_code() == Some(3)).then_some(t)
    })
    .await;
    assert_eq!(
        task.last_status(),
        Some("RUNNING"),
        "a non-essential exit leaves the task running"
    );
    let sleeper = task
        .containers()
        .iter()
        .find(|c| c.name() == Some("sleeper"))
        .expect("sleeper");
    assert_eq!(sleeper.last_status(), Some("RUNNING"));
    assert!(sleeper.runtime_id().is_some_and(|id| id.len() == 64));
    assert!(task.started_at().is_some() && task.created_at().is_some());

    let stopped = ecs
        .stop_task()
        .cluster(cluster)
        .task(&arn)
        .reason("test is done")
        .send()
        .await
        .expect("StopTask");
    assert_eq!(
        stopped.task().and_then(|t| t.desired_status()),
        Some("STOPPED")
    );
    let task = wait_status(&ecs, cluster, &arn, "STOPPED").await;
    assert_eq!(task.stop_code(), Some(&TaskStopCode::UserInitiated));
    assert_eq!(task.stopped_reason(), Some("test is done"));
    assert!(task.stopped_at().is_some() && task.stopping_at().is_some());
    assert!(
        task_containers(&arn).is_empty(),
        "no container of a stopped task is left in Docker"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_essential_exit_stops_the_task() {
    let berth = Berth::up("ess");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let td = register(
        &ecs,
        "ess",
        vec![
            container("main", &["sh", "-c", "sleep 1; exit 5"], true),
            container("side", &["sleep", "600"], false),
        ],
    )
    .await;
    let arn = run_one(&ecs, cluster, &td).await;
    let task = wait_status(&ecs, cluster, &arn, "STOPPED").await;
    assert_eq!(
        task.stop_code(),
        Some(&TaskStopCode::EssentialContainerExited)
    );
    assert_eq!(
        task.stopped_reason(),
        Some("Essential container in task exited")
    );
    assert_eq!(task.desired_status(), Some("STOPPED"));
    let main = task
        .containers()
        .iter()
        .find(|c| c.name() == Some("main"))
        .expect("main");
    assert_eq!(main.exit_code(), Some(5));
    let side = task
        .containers()
        .iter()
        .find(|c| c.name() == Some("side"))
        .expect("side");
    assert_eq!(side.last_status(), Some("STOPPED"));
    assert!(
        side.exit_code().is_some(),
        "the side container was stopped and has an exit code"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_fails_to_start() {
    let berth = Berth::up("pull");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let missing = ContainerDefinition::builder()
        .name("ghost")
        .image("berth-no-such-image:never")
        .memory(16)
        .build();
    let td = register(&ecs, "pull", vec![missing]).await;
    let arn = run_one(&ecs, cluster, &td).await;
    let task = wait_status(&ecs, cluster, &arn, "STOPPED").await;
    assert_eq!(task.stop_code(), Some(&TaskStopCode::TaskFailedToStart));
    let reason = task.stopped_reason().unwrap_or_default();
    assert!(
        reason.starts_with("CannotPullContainerError"),
        "reason: {reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dynamic_host_port_is_reported_and_serves() {
    let berth = Berth::up("port");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let web = ContainerDefinition::builder()
        .name("web")
        .image(IMAGE)
        .command("sh")
        .command("-c")
        .command("echo hello-from-berth > /www/index.html && exec httpd -f -p 8080 -h /www")
        .memory(32)
        .stop_timeout(1)
        .port_mappings(
            PortMapping::builder()
                .container_port(8080)
                .host_port(0)
                .build(),
        )
        .build();
    let td = register(&ecs, "port", vec![web]).await;
    let arn = run_one(&ecs, cluster, &td).await;
    let task = wait_status(&ecs, cluster, &arn, "RUNNING").await;
    let binding = task.containers()[0]
        .network_bindings()
        .first()
        .cloned()
        .expect("a network binding");
    assert_eq!(binding.container_port(), Some(8080));
    let port = binding.host_port().expect("host port");
    assert!(port > 0, "Docker chose a host port");
    let body = eventually("httpd to answer", Duration::from_secs(10), || async {
        let r = reqwest::get(format!("http://127.0.0.1:{port}/index.html"))
            .await
            .ok()?;
        r.text().await.ok()
    })
    .await;
    assert_eq!(body.trim(), "hello-from-berth");
    let instance = ecs
        .describe_container_instances()
        .cluster(cluster)
        .container_instances(task.container_instance_arn().expect("instance"))
        .send()
        .await
        .expect("DescribeContainerInstances");
    let instance = &instance.container_instances()[0];
    assert_eq!(instance.running_tasks_count(), 1);
    assert!(instance.agent_connected());
}

#[tokio::test(flavor = "multi_thread")]
async fn run_task_is_idempotent_on_its_client_token() {
    let berth = Berth::up("token");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let td = register(&ecs, "token", vec![container("s", &["sleep", "600"], true)]).await;
    let first = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(&td)
        .count(2)
        .client_token("token-1")
        .send()
        .await
        .expect("RunTask");
    let again = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(&td)
        .count(2)
        .client_token("token-1")
        .send()
        .await
        .expect("RunTask repeated");
    let arns = |tasks: &[aws_sdk_ecs::types::Task]| {
        let mut v: Vec<String> = tasks
            .iter()
            .filter_map(|t| t.task_arn().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    assert_eq!(arns(first.tasks()).len(), 2);
    assert_eq!(
        arns(first.tasks()),
        arns(again.tasks()),
        "the same token gives the same tasks"
    );
    let conflict = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(&td)
        .count(1)
        .client_token("token-1")
        .send()
        .await
        .expect_err("other parameters with the same token conflict");
    let service_error = conflict.into_service_error();
    assert!(service_error.is_conflict_exception(), "{service_error:?}");
    let listed = ecs
        .list_tasks()
        .cluster(cluster)
        .send()
        .await
        .expect("ListTasks");
    assert_eq!(listed.task_arns().len(), 2, "no task was started twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_tasks_are_reported_missing() {
    let berth = Berth::up("missing");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let unknown = format!("arn:aws:ecs:us-east-1:000000000000:task/{cluster}/0123456789abcdef");
    let out = ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(&unknown)
        .send()
        .await
        .expect("DescribeTasks answers, it does not fail");
    assert!(out.tasks().is_empty());
    let failure = &out.failures()[0];
    assert_eq!(failure.reason(), Some("MISSING"));
    assert_eq!(failure.arn(), Some(unknown.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_checks_gate_dependencies_and_report_health() {
    use aws_sdk_ecs::types::{ContainerCondition, ContainerDependency, HealthCheck, HealthStatus};
    let berth = Berth::up("health");
    let ecs = berth.client();
    let cluster = &berth.cluster;
    common::wait_instance(&ecs, cluster).await;
    let db = ContainerDefinition::builder()
        .name("db")
        .image(IMAGE)
        .command("sh")
        .command("-c")
        .command("sleep 1; touch /tmp/ready; exec sleep 600")
        .memory(16)
        .stop_timeout(1)
        .health_check(
            HealthCheck::builder()
                .command("CMD-SHELL")
                .command("test -f /tmp/ready")
                .interval(5)
                .retries(1)
                .build()
                .expect("health check"),
        )
        .build();
    let app = ContainerDefinition::builder()
        .name("app")
        .image(IMAGE)
        .command("sleep")
        .command("600")
        .memory(16)
        .stop_timeout(1)
        .depends_on(
            ContainerDependency::builder()
                .container_name("db")
                .condition(ContainerCondition::Healthy)
                .build()
                .expect("dependency"),
        )
        .build();
    let td = register(&ecs, "health", vec![db, app]).await;
    let arn = run_one(&ecs, cluster, &td).await;
    wait_status(&ecs, cluster, &arn, "RUNNING").await;
    let task = eventually(
        "the task to be HEALTHY",
        Duration::from_secs(10),
        || async {
            let t = describe(&ecs, cluster, &arn).await;
            (t.health_status() == Some(&HealthStatus::Healthy)).then_some(t)
        },
    )
    .await;
    let ids: Vec<&str> = task
        .containers()
        .iter()
        .filter_map(|c| c.runtime_id())
        .collect();
    assert_eq!(ids.len(), 2);
    let db = task
        .containers()
        .iter()
        .find(|c| c.name() == Some("db"))
        .expect("db");
    assert_eq!(db.health_status(), Some(&HealthStatus::Healthy));
    let db_started = common::docker_inspect(ids[0], "{{.State.StartedAt}}");
    let app_started = common::docker_inspect(ids[1], "{{.State.StartedAt}}");
    assert!(
        db_started < app_started,
        "dependsOn HEALTHY ordered the starts"
    );
}
