//! A task as DescribeTasks shows it, field by field, once RUNNING and once STOPPED, against what
//! ECS fills (`../shared/notes/ecs-semantics.md`: the task's timestamps in lifecycle order, the
//! containers' runtime ids, status, exit code and bindings), under `berth up` with real Docker.

use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{Connectivity, LaunchType, Task, TaskStopCode};
use berth_test_kit::ecs::{container, describe, register, run_one, stop_and_wait, wait_status};
use berth_test_kit::up::Berth;

fn seconds(t: Option<&DateTime>, field: &str) -> f64 {
    t.unwrap_or_else(|| panic!("{field} is filled"))
        .as_secs_f64()
}

/// The task's timestamps that must be set, in the order the lifecycle sets them.
fn in_order(task: &Task, fields: &[(&str, Option<&DateTime>)]) {
    let times: Vec<f64> = fields.iter().map(|(f, t)| seconds(*t, f)).collect();
    for (i, pair) in times.windows(2).enumerate() {
        assert!(
            pair[0] <= pair[1],
            "{} ({}) after {} ({}): {task:?}",
            fields[i].0,
            pair[0],
            fields[i + 1].0,
            pair[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_and_a_stopped_task_carry_every_field_ecs_fills() {
    let (berth, ecs) = Berth::ready("fields").await;
    let cluster = berth.cluster.clone();
    let app = container("app", &["sleep", "600"]).stop_timeout(1).build();
    let td = register(&ecs, "fields", vec![app]).await;
    let arn = run_one(&ecs, &cluster, &td).await;
    wait_status(&ecs, &cluster, &arn, "RUNNING").await;

    let task = describe(&ecs, &cluster, &arn).await;
    assert_eq!(task.task_arn(), Some(arn.as_str()));
    assert!(
        task.cluster_arn()
            .is_some_and(|c| c.ends_with(&format!("cluster/{cluster}")))
    );
    assert_eq!(task.task_definition_arn(), Some(td.as_str()));
    assert!(task.container_instance_arn().is_some());
    assert_eq!(task.last_status(), Some("RUNNING"));
    assert_eq!(task.desired_status(), Some("RUNNING"));
    assert_eq!(task.launch_type(), Some(&LaunchType::Ec2));
    assert_eq!(task.connectivity(), Some(&Connectivity::Connected));
    assert!(task.availability_zone().is_some());
    assert!(task.version() > 0);
    assert!(task.stopped_at().is_none() && task.stop_code().is_none());
    in_order(
        &task,
        &[
            ("createdAt", task.created_at()),
            ("pullStartedAt", task.pull_started_at()),
            ("pullStoppedAt", task.pull_stopped_at()),
            ("startedAt", task.started_at()),
        ],
    );
    assert!(task.connectivity_at().is_some());
    let c = &task.containers()[0];
    assert_eq!(c.name(), Some("app"));
    assert_eq!(c.task_arn(), Some(arn.as_str()));
    assert!(c.container_arn().is_some() && c.image().is_some());
    assert!(c.runtime_id().is_some_and(|id| id.len() == 64), "{c:?}");
    assert_eq!(c.last_status(), Some("RUNNING"));
    assert!(c.exit_code().is_none());

    let task = stop_and_wait(&ecs, &cluster, &arn).await;
    assert_eq!(task.last_status(), Some("STOPPED"));
    assert_eq!(task.desired_status(), Some("STOPPED"));
    assert_eq!(task.stop_code(), Some(&TaskStopCode::UserInitiated));
    assert!(task.stopped_reason().is_some());
    in_order(
        &task,
        &[
            ("createdAt", task.created_at()),
            ("pullStartedAt", task.pull_started_at()),
            ("pullStoppedAt", task.pull_stopped_at()),
            ("startedAt", task.started_at()),
            ("stoppingAt", task.stopping_at()),
            ("executionStoppedAt", task.execution_stopped_at()),
            ("stoppedAt", task.stopped_at()),
        ],
    );
    let c = &task.containers()[0];
    assert_eq!(c.last_status(), Some("STOPPED"));
    assert!(c.exit_code().is_some(), "{c:?}");
    assert!(c.runtime_id().is_some());
}
