//! Tasks run as real Docker containers under `berth up`, driven by the official AWS SDK.

use aws_sdk_ecs::types::{ContainerDefinition, PortMapping, TaskStopCode};
use berth_test_kit::docker::{docker_inspect, task_containers};
use berth_test_kit::ecs::{
    self as kit, container_named, describe, eventually, register, run_one, wait_status,
};
use berth_test_kit::up::Berth;
use std::time::Duration;

fn container(name: &str, command: &[&str], essential: bool) -> ContainerDefinition {
    kit::container(name, command)
        .memory(32)
        .essential(essential)
        .stop_timeout(2)
        .build()
}

/// `berth up` with its instance connected, and a task definition of `containers` registered
/// as `family` (the cluster's name starts with it too).
async fn ready_with(
    family: &str,
    containers: Vec<ContainerDefinition>,
) -> (Berth, aws_sdk_ecs::Client, String) {
    let (berth, ecs) = Berth::ready(family).await;
    let td = register(&ecs, family, containers).await;
    (berth, ecs, td)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_containers_run_report_exit_codes_and_stop_on_request() {
    let (berth, ecs, td) = ready_with(
        "two",
        vec![
            container("sleeper", &["sleep", "600"], true),
            container("quitter", &["sh", "-c", "exit 3"], false),
        ],
    )
    .await;
    let cluster = &berth.cluster;
    let arn = run_one(&ecs, cluster, &td).await;
    wait_status(&ecs, cluster, &arn, "RUNNING").await;
    let task = eventually("quitter's exit code", Duration::from_secs(30), || async {
        let t = describe(&ecs, cluster, &arn).await;
        let exited = container_named(&t, "quitter")?.exit_code() == Some(3);
        exited.then_some(t)
    })
    .await;
    assert_eq!(
        task.last_status(),
        Some("RUNNING"),
        "a non-essential exit leaves the task running"
    );
    let sleeper = container_named(&task, "sleeper").expect("sleeper");
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
    let (berth, ecs, td) = ready_with(
        "ess",
        vec![
            container("main", &["sh", "-c", "sleep 1; exit 5"], true),
            container("side", &["sleep", "600"], false),
        ],
    )
    .await;
    let cluster = &berth.cluster;
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
    let main = container_named(&task, "main").expect("main");
    assert_eq!(main.exit_code(), Some(5));
    let side = container_named(&task, "side").expect("side");
    assert_eq!(side.last_status(), Some("STOPPED"));
    assert!(
        side.exit_code().is_some(),
        "the side container was stopped and has an exit code"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_fails_to_start() {
    let missing = ContainerDefinition::builder()
        .name("ghost")
        .image("berth-no-such-image:never")
        .memory(16)
        .build();
    let (berth, ecs, td) = ready_with("pull", vec![missing]).await;
    let cluster = &berth.cluster;
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
    let serve = "echo hello-from-berth > /www/index.html && exec httpd -f -p 8080 -h /www";
    let web = kit::container("web", &["sh", "-c", serve])
        .memory(32)
        .port_mappings(
            PortMapping::builder()
                .container_port(8080)
                .host_port(0)
                .build(),
        )
        .build();
    let (berth, ecs, td) = ready_with("port", vec![web]).await;
    let cluster = &berth.cluster;
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
    let (berth, ecs, td) = ready_with("token", vec![container("s", &["sleep", "600"], true)]).await;
    let cluster = &berth.cluster;
    let with_token = |count| {
        ecs.run_task()
            .cluster(cluster)
            .task_definition(&td)
            .count(count)
            .client_token("token-1")
            .send()
    };
    let first = with_token(2).await.expect("RunTask");
    let again = with_token(2).await.expect("RunTask repeated");
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
    let conflict = with_token(1)
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
    let (berth, ecs) = Berth::ready("missing").await;
    let cluster = &berth.cluster;
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
    let ready = "sleep 1; touch /tmp/ready; exec sleep 600";
    let db = kit::container("db", &["sh", "-c", ready])
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
    let app = kit::container("app", &["sleep", "600"])
        .depends_on(
            ContainerDependency::builder()
                .container_name("db")
                .condition(ContainerCondition::Healthy)
                .build()
                .expect("dependency"),
        )
        .build();
    let (berth, ecs, td) = ready_with("health", vec![db, app]).await;
    let cluster = &berth.cluster;
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
    let db = container_named(&task, "db").expect("db");
    assert_eq!(db.health_status(), Some(&HealthStatus::Healthy));
    let db_started = docker_inspect(ids[0], "{{.State.StartedAt}}");
    let app_started = docker_inspect(ids[1], "{{.State.StartedAt}}");
    assert!(
        db_started < app_started,
        "dependsOn HEALTHY ordered the starts"
    );
}
