//! The runner's logic on the in-memory runtime: dependsOn order, essential exits, stop
//! timeouts and adoption, without Docker.

use super::*;
use crate::logs::memory::MemorySink;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::test_kit::{INSTANCE, Reports, TASK, container, ctx, depends, task};
use berth_types::ecs::{
    ContainerDefinition, ContainerStateChange, HealthCheck, LogConfiguration, LogDriver,
};

fn pull() -> Call {
    Call::Pull("busybox".into())
}

fn create(name: &str) -> Call {
    Call::Create(name.into())
}

fn start(name: &str) -> Call {
    Call::Start(name.into())
}

fn remove(name: &str) -> Call {
    Call::Remove(name.into())
}

fn stop(name: &str) -> Call {
    Call::Stop(name.into(), DEFAULT_STOP_TIMEOUT)
}

/// What starting a container asks of the runtime: pull, create, start.
fn launch(name: &str) -> Vec<Call> {
    vec![pull(), create(name), start(name)]
}

fn removed(names: &[&str]) -> Vec<Call> {
    names.iter().map(|n| remove(n)).collect()
}

/// Runs `containers` as task [`TASK`] on `fake`; the sender is the task's desired status
/// (dropping it would stop the task).
fn spawn_on(
    fake: &FakeRuntime,
    containers: Vec<ContainerDefinition>,
) -> (watch::Sender<String>, Reports) {
    let (ctx, reports) = ctx(fake.clone());
    let (desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, task(TASK, containers), rx).await });
    (desired, reports)
}

/// [`spawn_on`] a fresh runtime whose awslogs output goes to `sink`.
fn spawn_logging(
    sink: &MemorySink,
    containers: Vec<ContainerDefinition>,
) -> (FakeRuntime, watch::Sender<String>, Reports) {
    let fake = FakeRuntime::default();
    let (mut ctx, reports) = ctx(fake.clone());
    ctx.logs = Arc::new(sink.clone());
    let (desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, task(TASK, containers), rx).await });
    (fake, desired, reports)
}

/// `def` logging with `driver` and `options`.
fn logging(
    mut def: ContainerDefinition,
    driver: LogDriver,
    options: &[(&str, &str)],
) -> ContainerDefinition {
    def.log_configuration = Some(LogConfiguration {
        log_driver: driver,
        options: Some(
            options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        secret_options: None,
    });
    def
}

/// [`spawn_on`] a fresh runtime, returned first.
fn spawn(containers: Vec<ContainerDefinition>) -> (FakeRuntime, watch::Sender<String>, Reports) {
    let fake = FakeRuntime::default();
    let (desired, reports) = spawn_on(&fake, containers);
    (fake, desired, reports)
}

/// One value of each container a report names, in order.
fn per_container<T>(
    report: SubmitTaskStateChangeRequest,
    value: impl Fn(ContainerStateChange) -> T,
) -> Vec<T> {
    report
        .containers
        .expect("containers")
        .into_iter()
        .map(value)
        .collect()
}

fn with_stop_timeout(mut def: ContainerDefinition, seconds: i32) -> ContainerDefinition {
    def.stop_timeout = Some(seconds);
    def
}

fn non_essential(mut def: ContainerDefinition) -> ContainerDefinition {
    def.essential = Some(false);
    def
}

#[tokio::test]
async fn containers_start_in_depends_on_order() {
    let (fake, desired, mut reports) = spawn(vec![
        non_essential(container("setup")),
        non_essential(depends(
            container("check"),
            "setup",
            ContainerCondition::Complete,
        )),
        depends(container("app"), "check", ContainerCondition::Success),
        depends(container("log"), "app", ContainerCondition::Start),
    ]);
    fake.until("setup started", |c| c.contains(&start("setup")))
        .await;
    // COMPLETE accepts a failure.
    fake.exit("setup", 3);
    fake.until("check started", |c| c.contains(&start("check")))
        .await;
    fake.exit("check", 0);
    reports.next("RUNNING").await;
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    let expected = [
        launch("setup"),
        vec![Call::Exit("setup".into(), 3)],
        launch("check"),
        vec![Call::Exit("check".into(), 0)],
        launch("app"),
        launch("log"),
        vec![stop("app"), stop("log")],
        removed(&["setup", "check", "app", "log"]),
    ]
    .concat();
    assert_eq!(fake.calls(), expected);
}

#[tokio::test]
async fn a_failed_success_dependency_stops_the_task() {
    let (fake, _desired, mut reports) = spawn(vec![
        non_essential(container("migrate")),
        depends(container("app"), "migrate", ContainerCondition::Success),
    ]);
    fake.until("migrate started", |c| c.contains(&start("migrate")))
        .await;
    fake.exit("migrate", 1);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(
        stopped.reason.as_deref(),
        Some("DependencyError: container migrate exited with code 1, but app needs it to succeed")
    );
    assert!(!fake.calls().contains(&create("app")), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_healthy_dependency_waits_for_the_health_check() {
    let fake = FakeRuntime::default();
    let mut db = container("db");
    db.health_check = Some(HealthCheck {
        command: vec!["CMD".into(), "true".into()],
        ..HealthCheck::default()
    });
    let (_desired, mut reports) = spawn_on(
        &fake,
        vec![
            db,
            depends(container("app"), "db", ContainerCondition::Healthy),
        ],
    );
    fake.until("db started", |c| c.contains(&start("db"))).await;
    fake.set_health("db", "starting");
    // Long enough for the runner to look at db's health twice.
    tokio::time::sleep(POLL * 2).await;
    assert!(!fake.calls().contains(&create("app")), "{:?}", fake.calls());
    fake.set_health("db", "healthy");
    fake.until("app started", |c| c.contains(&start("app")))
        .await;
    reports.next("RUNNING").await;
}

#[tokio::test]
async fn an_essential_exit_stops_the_task_and_a_non_essential_one_does_not() {
    let (fake, _desired, mut reports) = spawn(vec![
        container("web"),
        container("worker"),
        non_essential(container("warmup")),
    ]);
    reports.next("RUNNING").await;
    fake.exit("warmup", 0);
    // Reported while the task keeps running, with warmup stopped.
    let running = reports.next("RUNNING").await;
    let warmup = &running.containers.expect("containers")[2];
    assert_eq!(
        (warmup.status.as_deref(), warmup.exit_code),
        (Some("STOPPED"), Some(0))
    );
    assert!(!fake.calls().iter().any(|c| matches!(c, Call::Stop(..))));
    fake.exit("web", 2);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(
        stopped.reason.as_deref(),
        Some("Essential container in task exited")
    );
    let codes = per_container(stopped, |c| c.exit_code);
    let killed = crate::runtime::fake::STOPPED_EXIT_CODE;
    assert_eq!(codes, [Some(2), Some(killed), Some(0)]);
    let calls = fake.calls();
    let after_exit = &calls[calls.len() - 4..];
    let expected = [vec![stop("worker")], removed(&["web", "worker", "warmup"])].concat();
    assert_eq!(after_exit, expected);
}

#[tokio::test]
async fn stop_timeout_reaches_the_engine() {
    let (fake, desired, mut reports) = spawn(vec![
        with_stop_timeout(container("web"), 5),
        container("log"),
    ]);
    reports.next("RUNNING").await;
    desired.send_replace("STOPPED".into());
    let stopped = reports.next("STOPPED").await;
    assert_eq!(stopped.reason, None, "a requested stop is no failure");
    let stops: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Stop(..)))
        .collect();
    assert_eq!(stops, [Call::Stop("web".into(), 5), stop("log")]);
}

#[tokio::test]
async fn existing_containers_are_adopted_not_created_again() {
    let fake = FakeRuntime::default();
    let web = fake.existing(INSTANCE, TASK, "web");
    let (_desired, mut reports) = spawn_on(&fake, vec![container("web"), container("log")]);
    let running = reports.next("RUNNING").await;
    let ids = per_container(running, |c| c.runtime_id);
    assert_eq!(ids[0].as_deref(), Some(web.as_str()));
    assert_eq!(fake.calls(), launch("log"));
    // The adopted container is watched like one the runner started.
    fake.exit("web", 0);
    reports.next("STOPPED").await;
    assert!(fake.calls().contains(&remove("web")));
}

#[tokio::test]
async fn a_missing_log_group_stops_the_task_as_ecs_does() {
    let sink = MemorySink::default();
    let web = logging(
        container("web"),
        LogDriver::Awslogs,
        &[
            ("awslogs-group", "/ecs/missing"),
            ("awslogs-stream-prefix", "ecs"),
        ],
    );
    let (fake, _desired, mut reports) = spawn_logging(&sink, vec![web]);
    let stopped = reports.next("STOPPED").await;
    let reason = "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.";
    assert_eq!(stopped.reason.as_deref(), Some(reason));
    let containers = per_container(stopped, |c| c.reason);
    assert_eq!(containers[0].as_deref(), Some(reason));
    assert!(!fake.calls().contains(&start("web")), "{:?}", fake.calls());
    assert!(!sink.has_group("/ecs/missing"));
}

#[tokio::test]
async fn create_group_makes_the_group_and_the_last_lines_are_shipped_before_stopped() {
    let sink = MemorySink::default();
    let web = logging(
        container("web"),
        LogDriver::Awslogs,
        &[
            ("awslogs-group", "/ecs/app"),
            ("awslogs-stream-prefix", "ecs"),
            ("awslogs-create-group", "true"),
        ],
    );
    let (fake, _desired, mut reports) = spawn_logging(&sink, vec![web]);
    reports.next("RUNNING").await;
    assert!(sink.has_group("/ecs/app"));
    fake.print("web", 1_000_000_000, "starting\n");
    fake.print("web", 2_000_000_000, "panic: out of luck\n");
    fake.exit("web", 2);
    reports.next("STOPPED").await;
    // Readable once the task is STOPPED: shipped before the report.
    assert_eq!(
        sink.messages("/ecs/app", "ecs/web/t1"),
        ["starting", "panic: out of luck"]
    );
}

#[tokio::test]
async fn log_configurations_berth_cannot_honour_stop_the_task_by_name() {
    let firelens = logging(container("web"), LogDriver::Awsfirelens, &[]);
    let (fake, _desired, mut reports) = spawn(vec![firelens]);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(
        stopped.reason.as_deref(),
        Some(
            "container web logs with awsfirelens, but no container of the task has a firelensConfiguration"
        )
    );
    let unknown = logging(
        container("web"),
        LogDriver::Awslogs,
        &[("awslogs-group", "g"), ("awslogs-colour", "red")],
    );
    let (_fake, _desired, mut reports) = spawn(vec![unknown]);
    let stopped = reports.next("STOPPED").await;
    assert!(
        stopped
            .reason
            .as_deref()
            .is_some_and(|r| r.ends_with("unknown log opt 'awslogs-colour' for awslogs log driver")),
        "{:?}",
        stopped.reason
    );
    assert!(
        fake.calls().is_empty(),
        "nothing is pulled or created: {:?}",
        fake.calls()
    );
}

#[tokio::test]
async fn an_adopted_container_ships_from_where_the_last_agent_stopped() {
    let sink = MemorySink::with_group("/ecs/app");
    let fake = FakeRuntime::default();
    // What ran before the agent restarted: its first line was shipped then.
    fake.existing(INSTANCE, TASK, "web");
    fake.print("web", 1_000_000_000, "before\n");
    let shipped = berth_types::logs::InputLogEvent {
        timestamp: 1_000,
        message: "before".into(),
    };
    sink.create_stream("/ecs/app", "ecs/web/t1")
        .await
        .expect("stream");
    sink.put("/ecs/app", "ecs/web/t1", &[shipped], Some("1000000000:1"))
        .await
        .expect("stored");
    fake.print("web", 2_000_000_000, "after\n");
    let web = logging(
        container("web"),
        LogDriver::Awslogs,
        &[
            ("awslogs-group", "/ecs/app"),
            ("awslogs-stream-prefix", "ecs"),
        ],
    );
    let (mut ctx, mut reports) = ctx(fake.clone());
    ctx.logs = Arc::new(sink.clone());
    let (_desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, task(TASK, vec![web]), rx).await });
    reports.next("RUNNING").await;
    fake.exit("web", 0);
    reports.next("STOPPED").await;
    assert_eq!(sink.messages("/ecs/app", "ecs/web/t1"), ["before", "after"]);
}

/// Refuses every task's secrets with `reason`.
struct Unreadable(&'static str);

impl task_secrets::SecretsSource for Unreadable {
    fn fetch<'a>(
        &'a self,
        _task_arn: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<berth_types::protocol::TaskSecrets, String>>
    {
        Box::pin(async move { Err(self.0.to_string()) })
    }
}

#[tokio::test]
async fn secrets_that_cannot_be_read_stop_the_task_before_the_pull() {
    let reason = "ResourceInitializationError: unable to pull secrets or registry auth: no such parameter /db/password";
    let fake = FakeRuntime::default();
    let (mut ctx, mut reports) = ctx(fake.clone());
    ctx.secrets = Arc::new(Unreadable(reason));
    let mut web = container("web");
    web.secrets = Some(vec![berth_types::ecs::Secret {
        name: "DB_PASSWORD".into(),
        value_from: "/db/password".into(),
    }]);
    let (_desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, task(TASK, vec![web]), rx).await });
    let stopped = reports.next("STOPPED").await;
    assert_eq!(stopped.reason.as_deref(), Some(reason));
    assert_eq!(
        per_container(stopped, |c| c.reason)[0].as_deref(),
        Some(reason)
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn environment_files_stop_the_task_by_name() {
    let mut web = container("web");
    web.environment_files = Some(vec![berth_types::ecs::EnvironmentFile {
        value: "arn:aws:s3:::bucket/app.env".into(),
        r#type: berth_types::ecs::EnvironmentFileType::S3,
    }]);
    let (fake, _desired, mut reports) = spawn(vec![web]);
    let stopped = reports.next("STOPPED").await;
    assert!(
        stopped
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("environmentFiles (container web) are S3 objects")),
        "{:?}",
        stopped.reason
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_field_without_a_service_stops_the_task_by_name() {
    let mut web = container("web");
    web.credential_specs = Some(vec!["credentialspec:arn:aws:s3:::bucket/gmsa.json".into()]);
    let (fake, _desired, mut reports) = spawn(vec![web]);
    let stopped = reports.next("STOPPED").await;
    assert!(
        stopped
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("credentialSpecs (Windows gMSA) (container web)")),
        "{:?}",
        stopped.reason
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn the_running_report_carries_the_pull_times_and_the_image_digests() {
    let (_fake, _desired, mut reports) = spawn(vec![container("app")]);
    let running = reports.next("RUNNING").await;
    let (started, stopped) = (running.pull_started_at, running.pull_stopped_at);
    assert!(
        started.is_some() && stopped >= started,
        "{started:?} {stopped:?}"
    );
    let digests = per_container(running, |c| c.image_digest);
    assert_eq!(digests, [Some(format!("sha256:{:064}", "busybox".len()))]);
}
