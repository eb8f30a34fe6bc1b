//! The control plane on the in-memory store with a hand-driven clock: placement, agent reports,
//! stop codes, resource accounting and the retention of STOPPED tasks.

use berth_control::ControlPlane;
use berth_test_kit::control::*;
use berth_types::ecs::*;

fn task(cp: &ControlPlane, arn: &str) -> Task {
    let mut request = DescribeTasksRequest::default();
    request.tasks.push(arn.into());
    let described = cp.describe_tasks(request).expect("describes");
    described.tasks.into_iter().flatten().next().expect("found")
}

/// The reason RunTask gave for the first task it could not place.
fn first_refusal(out: &RunTaskResponse) -> Option<&str> {
    out.failures.as_ref()?.first()?.reason.as_deref()
}

#[test]
fn memory_is_never_overcommitted_and_freed_on_stop() {
    let (cp, _) = plane();
    let inst = instance(&cp, 1024, 100);
    definition(&cp, 40, None);
    let first = run(&cp, 3);
    assert_eq!(
        first.tasks.as_ref().map(Vec::len),
        Some(2),
        "two of 40 MiB fit in 100"
    );
    let failures = first.failures.expect("failures");
    assert_eq!(failures[0].reason.as_deref(), Some("RESOURCE:MEMORY"));
    assert_eq!(failures[0].arn.as_deref(), Some(inst.as_str()));
    let arn = first.tasks.expect("tasks")[0]
        .task_arn
        .clone()
        .expect("arn");
    assert_eq!(task(&cp, &arn).last_status.as_deref(), Some("PENDING"));
    report(&cp, &arn, "RUNNING", None);
    assert_eq!(task(&cp, &arn).last_status.as_deref(), Some("RUNNING"));
    report(
        &cp,
        &arn,
        "STOPPED",
        Some("CannotStartContainerError: boom"),
    );
    let stopped = task(&cp, &arn);
    assert_eq!(stopped.stop_code, Some(TaskStopCode::TaskFailedToStart));
    report(&cp, &arn, "RUNNING", None);
    assert_eq!(
        task(&cp, &arn).last_status.as_deref(),
        Some("STOPPED"),
        "never backwards"
    );
    assert_eq!(
        run(&cp, 1).tasks.map(|t| t.len()),
        Some(1),
        "the stopped task's memory is free again"
    );
}

#[test]
fn static_host_ports_are_exclusive() {
    let (cp, _) = plane();
    instance(&cp, 4096, 4096);
    definition(&cp, 16, Some(8080));
    let out = run(&cp, 2);
    assert_eq!(out.tasks.as_ref().map(|t| t.len()), Some(1));
    assert_eq!(first_refusal(&out), Some("RESOURCE:PORTS_TCP"));
}

#[test]
fn disconnected_agents_get_no_tasks() {
    let (cp, _) = plane();
    let inst = instance(&cp, 4096, 4096);
    cp.set_agent_connected(&inst, false);
    definition(&cp, 16, None);
    let out = run(&cp, 1);
    assert!(out.tasks.as_ref().expect("tasks").is_empty());
    assert_eq!(first_refusal(&out), Some("AGENT"));
}

#[test]
fn essential_exit_and_user_stop_codes() {
    let (cp, _) = plane();
    instance(&cp, 4096, 4096);
    definition(&cp, 16, None);
    let tasks = run(&cp, 2).tasks.expect("tasks");
    let (a, b) = (
        tasks[0].task_arn.clone().expect("a"),
        tasks[1].task_arn.clone().expect("b"),
    );
    report(&cp, &a, "RUNNING", None);
    report(&cp, &a, "STOPPED", None);
    let t = task(&cp, &a);
    assert_eq!(t.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert_eq!(
        t.stopped_reason.as_deref(),
        Some("Essential container in task exited")
    );
    cp.stop_task(StopTaskRequest {
        task: b.clone(),
        reason: Some("bye".into()),
        ..StopTaskRequest::default()
    })
    .expect("stops");
    report(
        &cp,
        &b,
        "STOPPED",
        Some("Essential container in task exited"),
    );
    let t = task(&cp, &b);
    assert_eq!(
        t.stop_code,
        Some(TaskStopCode::UserInitiated),
        "the user's stop wins"
    );
    assert_eq!(t.stopped_reason.as_deref(), Some("bye"));
}

#[test]
fn stopped_tasks_are_kept_an_hour_then_forgotten() {
    let (cp, clock) = plane();
    instance(&cp, 4096, 4096);
    definition(&cp, 16, None);
    let arn = run(&cp, 1).tasks.expect("tasks")[0]
        .task_arn
        .clone()
        .expect("arn");
    report(&cp, &arn, "STOPPED", None);
    clock.advance(3599);
    assert_eq!(cp.prune_stopped().expect("prunes"), 0);
    task(&cp, &arn);
    clock.advance(2);
    assert_eq!(cp.prune_stopped().expect("prunes"), 1);
    let out = cp
        .describe_tasks(DescribeTasksRequest {
            tasks: vec![arn],
            ..DescribeTasksRequest::default()
        })
        .expect("answers");
    assert_eq!(
        out.failures.expect("failures")[0].reason.as_deref(),
        Some("MISSING")
    );
}

/// The agent refuses a task that needs Elastic Inference, so the definition it is sent must
/// keep the accelerators.
#[test]
fn a_definition_keeps_its_inference_accelerators() {
    let (cp, _clock) = plane();
    let accelerators = vec![InferenceAccelerator {
        device_name: "device1".into(),
        device_type: "eia2.medium".into(),
    }];
    let registered = cp
        .register_task_definition(RegisterTaskDefinitionRequest {
            family: "web".into(),
            container_definitions: vec![ContainerDefinition {
                name: Some("web".into()),
                image: Some("busybox".into()),
                memory: Some(64),
                ..ContainerDefinition::default()
            }],
            inference_accelerators: Some(accelerators.clone()),
            ..RegisterTaskDefinitionRequest::default()
        })
        .expect("registers");
    let td = registered.task_definition.expect("definition");
    assert_eq!(td.inference_accelerators, Some(accelerators));
}
