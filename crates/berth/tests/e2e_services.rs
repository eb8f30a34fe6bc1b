//! Services with real Docker containers under `berth up`, through the official AWS SDK and its
//! waiters: replacement of a killed task, a rolling update within its bounds, and a bad
//! revision failed by the circuit breaker and rolled back, and an update or a deletion
//! reported done only once a task that ignores SIGTERM has drained.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::{
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentRolloutState, DesiredStatus,
    Service, Task,
};
use berth_test_kit::assert_mentioned;
use berth_test_kit::docker::{docker_kill, task_containers};
use berth_test_kit::ecs::{
    self as kit, container, describe_service as service, eventually, service_events, service_tasks,
    update_service, wait_status,
};
use berth_test_kit::up::Berth;
use std::time::Duration;

/// How long a services-stable waiter may wait.
const STABLE: Duration = Duration::from_secs(180);

/// The service's tasks still wanted (desiredStatus RUNNING), described.
async fn wanted(ecs: &Client, cluster: &str, name: &str) -> Vec<Task> {
    service_tasks(ecs, cluster, name, DesiredStatus::Running).await
}

/// Registers a revision of `family`: one container running `command`.
async fn register(ecs: &Client, family: &str, command: &[&str]) -> String {
    kit::register(ecs, family, vec![container("app", command).build()]).await
}

/// CreateService of `desired` tasks of the family of the same name, as `configuration` says.
async fn create(
    ecs: &Client,
    cluster: &str,
    name: &str,
    desired: i32,
    configuration: Option<DeploymentConfiguration>,
) -> Service {
    ecs.create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(name)
        .desired_count(desired)
        .set_deployment_configuration(configuration)
        .send()
        .await
        .expect("CreateService")
        .service
        .expect("service")
}

/// Waits until the service is stable, then checks it runs `count` tasks, all of `td`.
async fn assert_stable_on(ecs: &Client, cluster: &str, name: &str, count: usize, td: &str) {
    kit::wait_stable(ecs, cluster, name, STABLE).await;
    let tasks = wanted(ecs, cluster, name).await;
    assert_eq!(tasks.len(), count);
    assert!(tasks.iter().all(|t| t.task_definition_arn() == Some(td)));
}

async fn delete(ecs: &Client, cluster: &str, name: &str) {
    ecs.delete_service()
        .cluster(cluster)
        .service(name)
        .force(true)
        .send()
        .await
        .expect("DeleteService");
    ecs.wait_until_services_inactive()
        .cluster(cluster)
        .services(name)
        .wait(Duration::from_secs(120))
        .await
        .expect("the services-inactive waiter succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_three_replaces_a_killed_container() {
    let (berth, ecs) = Berth::ready("svc-three").await;
    let cluster = berth.cluster.clone();
    register(&ecs, "three", &["sleep", "600"]).await;
    let created = create(&ecs, &cluster, "three", 3, None).await;
    assert_eq!(created.status(), Some("ACTIVE"));
    assert_eq!(created.deployments().len(), 1);
    kit::wait_stable(&ecs, &cluster, "three", STABLE).await;

    let tasks = wanted(&ecs, &cluster, "three").await;
    assert_eq!(tasks.len(), 3);
    let deployment = service(&ecs, &cluster, "three").await.deployments()[0]
        .id()
        .map(str::to_string);
    for t in &tasks {
        assert_eq!(t.group(), Some("service:three"));
        assert_eq!(t.started_by().map(str::to_string), deployment);
        assert_eq!(t.last_status(), Some("RUNNING"));
    }

    let victim = tasks[0].task_arn().expect("arn").to_string();
    docker_kill(&task_containers(&victim));
    let stopped = wait_status(&ecs, &cluster, &victim, "STOPPED").await;
    assert!(
        stopped
            .stopped_reason()
            .is_some_and(|r| r.contains("Essential container in task exited")),
        "{:?}",
        stopped.stopped_reason()
    );
    eventually(
        "a replacement to bring the service back to 3 RUNNING tasks",
        Duration::from_secs(60),
        || async {
            let tasks = wanted(&ecs, &cluster, "three").await;
            let running = tasks
                .iter()
                .filter(|t| t.last_status() == Some("RUNNING"))
                .count();
            let s = service(&ecs, &cluster, "three").await;
            (running == 3 && tasks.len() == 3 && s.running_count() == 3).then_some(())
        },
    )
    .await;
    let events = service_events(&service(&ecs, &cluster, "three").await);
    assert_mentioned(&events, &["has reached a steady state"]);
    delete(&ecs, &cluster, "three").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_update_keeps_its_bounds_and_completes() {
    let (berth, ecs) = Berth::ready("svc-roll").await;
    let cluster = berth.cluster.clone();
    register(&ecs, "roll", &["sleep", "600"]).await;
    let bounds = DeploymentConfiguration::builder()
        .minimum_healthy_percent(50)
        .maximum_percent(200)
        .build();
    create(&ecs, &cluster, "roll", 4, Some(bounds)).await;
    kit::wait_stable(&ecs, &cluster, "roll", STABLE).await;
    let second = register(&ecs, "roll", &["sleep", "601"]).await;
    update_service(&ecs, &cluster, "roll", &second).await;

    // Sample until the new deployment completes: never more than 200% of 4 wanted, never
    // fewer than 50% of 4 RUNNING.
    let mut samples = 0;
    loop {
        let tasks = wanted(&ecs, &cluster, "roll").await;
        let running = tasks
            .iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .count();
        assert!(
            tasks.len() <= 8,
            "{} tasks wanted, over 200% of 4",
            tasks.len()
        );
        assert!(running >= 2, "{running} RUNNING, under 50% of 4");
        samples += 1;
        let s = service(&ecs, &cluster, "roll").await;
        let d = s.deployments();
        if d.len() == 1 && d[0].rollout_state() == Some(&DeploymentRolloutState::Completed) {
            assert_eq!(d[0].task_definition(), Some(second.as_str()));
            assert_eq!(s.running_count(), 4);
            break;
        }
        assert!(
            samples < 1200,
            "the deployment did not complete in time: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_stable_on(&ecs, &cluster, "roll", 4, &second).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_revision_fails_and_rolls_back() {
    let (berth, ecs) = Berth::ready("svc-bad").await;
    let cluster = berth.cluster.clone();
    let good = register(&ecs, "bad", &["sleep", "600"]).await;
    let breaker = DeploymentCircuitBreaker::builder()
        .enable(true)
        .rollback(true)
        .build();
    let configuration = DeploymentConfiguration::builder()
        .deployment_circuit_breaker(breaker)
        .build();
    create(&ecs, &cluster, "bad", 2, Some(configuration)).await;
    kit::wait_stable(&ecs, &cluster, "bad", STABLE).await;
    let broken = register(&ecs, "bad", &["sh", "-c", "exit 3"]).await;
    update_service(&ecs, &cluster, "bad", &broken).await;
    let s = eventually(
        "the circuit breaker to roll back to the first revision",
        Duration::from_secs(120),
        || async {
            let s = service(&ecs, &cluster, "bad").await;
            (s.task_definition() == Some(good.as_str())).then_some(s)
        },
    )
    .await;
    let events = service_events(&s);
    assert_mentioned(&events, &["deployment failed", "rolling back"]);
    assert_stable_on(&ecs, &cluster, "bad", 2, &good).await;
    let s = service(&ecs, &cluster, "bad").await;
    assert_eq!(s.deployments().len(), 1);
    assert_eq!(s.deployments()[0].task_definition(), Some(good.as_str()));
}

/// Registers `family`: a container that ignores SIGTERM (a shell trapping it, as PID 1) and
/// so drains for its whole stop timeout of `stop_timeout` seconds.
async fn register_slow_to_stop(
    ecs: &Client,
    family: &str,
    stop_timeout: i32,
    marker: &str,
) -> String {
    let script = format!("trap '' TERM; while true; do sleep 1; done # {marker}");
    let app = container("app", &["sh", "-c", &script])
        .stop_timeout(stop_timeout)
        .build();
    kit::register(ecs, family, vec![app]).await
}

/// The service's tasks that are to stop but still RUNNING on the host.
async fn draining(ecs: &Client, cluster: &str, name: &str) -> Vec<Task> {
    let stopping = service_tasks(ecs, cluster, name, DesiredStatus::Stopped).await;
    stopping
        .into_iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_and_a_deletion_are_done_only_once_old_tasks_have_stopped() {
    let (berth, ecs) = Berth::ready("svc-drain").await;
    let cluster = berth.cluster.clone();
    register_slow_to_stop(&ecs, "drain", 8, "v1").await;
    create(&ecs, &cluster, "drain", 1, None).await;
    kit::wait_stable(&ecs, &cluster, "drain", STABLE).await;
    let old = wanted(&ecs, &cluster, "drain").await.remove(0);
    let second = register_slow_to_stop(&ecs, "drain", 8, "v2").await;
    update_service(&ecs, &cluster, "drain", &second).await;

    // While the old task drains, its deployment is still listed with it RUNNING, and the
    // service is not stable.
    eventually("the old task draining", Duration::from_secs(60), || async {
        let d = draining(&ecs, &cluster, "drain").await;
        d.iter()
            .any(|t| t.task_arn() == old.task_arn())
            .then_some(())
    })
    .await;
    let s = service(&ecs, &cluster, "drain").await;
    let deployments = s.deployments();
    assert_eq!(deployments.len(), 2, "{deployments:?}");
    assert_eq!(deployments[1].status(), Some("ACTIVE"));
    assert_eq!(
        deployments[1].running_count(),
        1,
        "the draining task counts"
    );
    kit::wait_stable(&ecs, &cluster, "drain", STABLE).await;
    let old = kit::describe(&ecs, &cluster, old.task_arn().unwrap_or_default()).await;
    assert_eq!(
        old.last_status(),
        Some("STOPPED"),
        "stable after the old task stopped"
    );

    // A deleted service is DRAINING while its task drains, INACTIVE once it has stopped.
    let current = wanted(&ecs, &cluster, "drain").await.remove(0);
    ecs.delete_service()
        .cluster(&cluster)
        .service("drain")
        .force(true)
        .send()
        .await
        .expect("DeleteService");
    let s = service(&ecs, &cluster, "drain").await;
    assert_eq!(s.status(), Some("DRAINING"));
    ecs.wait_until_services_inactive()
        .cluster(&cluster)
        .services("drain")
        .wait(Duration::from_secs(120))
        .await
        .expect("the services-inactive waiter succeeds");
    let arn = current.task_arn().unwrap_or_default();
    let task = kit::describe(&ecs, &cluster, arn).await;
    assert_eq!(
        task.last_status(),
        Some("STOPPED"),
        "inactive after its task stopped"
    );
    let running = task_containers(arn)
        .iter()
        .filter(|id| berth_test_kit::docker::docker_inspect(id, "{{.State.Running}}") == "true")
        .count();
    assert_eq!(running, 0, "no container of the deleted service runs");
}
