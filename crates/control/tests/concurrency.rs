//! Many RunTask calls racing for the last capacity: plans made side by side on the same
//! snapshot must never overcommit, exactly the capacity is used, and every task that did not
//! fit is reported to its caller.

use berth_control::ControlPlane;
use berth_test_kit::control::*;
use berth_types::ecs::*;
use std::collections::BTreeSet;

const CALLERS: usize = 16;
const PER_CALL: i32 = 10;

/// Runs CALLERS threads of one RunTask each, all released at once; returns every answer.
fn race(cp: &ControlPlane) -> Vec<RunTaskResponse> {
    let start = std::sync::Barrier::new(CALLERS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    run(cp, PER_CALL)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no caller panics"))
            .collect()
    })
}

fn check(cp: &ControlPlane, answers: &[RunTaskResponse], capacity: usize, reason: &str) {
    let mut placed = BTreeSet::new();
    for a in answers {
        let tasks = a.tasks.as_deref().unwrap_or_default();
        let failures = a.failures.as_deref().unwrap_or_default();
        if tasks.len() < PER_CALL as usize {
            assert!(
                failures.iter().any(|f| f.reason.as_deref() == Some(reason)),
                "a caller short of {PER_CALL} tasks hears why: {failures:?}"
            );
        } else {
            assert!(failures.is_empty(), "a full answer has no failures");
        }
        placed.extend(tasks.iter().filter_map(|t| t.task_arn.clone()));
    }
    assert_eq!(placed.len(), capacity, "exactly the capacity is used");
    let listed: BTreeSet<String> = cp
        .list_tasks(ListTasksRequest {
            max_results: Some(100),
            ..ListTasksRequest::default()
        })
        .expect("lists")
        .task_arns
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(
        listed, placed,
        "every answered task is stored, and no other"
    );
}

fn remaining(cp: &ControlPlane, arns: &[String], name: &str) -> Vec<i32> {
    cp.describe_container_instances(DescribeContainerInstancesRequest {
        container_instances: arns.to_vec(),
        ..DescribeContainerInstancesRequest::default()
    })
    .expect("describes")
    .container_instances
    .unwrap_or_default()
    .iter()
    .map(|i| {
        i.remaining_resources
            .iter()
            .flatten()
            .find(|r| r.name.as_deref() == Some(name))
            .and_then(|r| r.integer_value)
            .expect("remaining resource")
    })
    .collect()
}

#[test]
fn racing_calls_use_exactly_the_memory_there_is() {
    let (cp, _) = plane();
    let instances: Vec<String> = (0..3).map(|_| instance(&cp, 100_000, 17 * 40)).collect();
    definition(&cp, 40, None);
    let answers = race(&cp);
    check(&cp, &answers, 3 * 17, "RESOURCE:MEMORY");
    assert_eq!(remaining(&cp, &instances, "MEMORY"), vec![0, 0, 0]);
}

#[test]
fn racing_calls_take_a_static_port_once_per_instance() {
    let (cp, _) = plane();
    for _ in 0..3 {
        instance(&cp, 100_000, 100_000);
    }
    definition(&cp, 10, Some(8080));
    let answers = race(&cp);
    check(&cp, &answers, 3, "RESOURCE:PORTS_TCP");
}

#[test]
fn a_plan_overtaken_by_another_call_is_placed_again_or_refused() {
    use berth_control::applier;
    use berth_scheduler::{Demand, Request};
    let (cp, _) = plane();
    let a = instance(&cp, 100_000, 80);
    definition(&cp, 40, None);
    let request = Request {
        demand: Demand {
            memory: 40,
            ..Demand::default()
        },
        group: "family:web".into(),
        ..Request::default()
    };
    let planned = applier::plan(&cp.read(), "default", &request, 2, 1);
    assert_eq!(planned, vec![a.clone(), a.clone()]);
    // Another call takes half the room between the plan and its application.
    assert_eq!(run(&cp, 1).tasks.map(|t| t.len()), Some(1));
    let applied = applier::apply(&cp.read(), "default", &request, &planned, 2, 1);
    assert_eq!(applied.instances, vec![a.clone()]);
    assert_eq!(applied.replanned, 1);
    let refusal = applied.refusal.expect("the second task no longer fits");
    assert_eq!(refusal.summary(), "RESOURCE:MEMORY on 1 instance");
    // A second instance appears: the overtaken placement lands there instead.
    let b = instance(&cp, 100_000, 80);
    let applied = applier::apply(&cp.read(), "default", &request, &planned, 2, 1);
    assert_eq!(applied.instances, vec![a, b]);
    assert!(applied.refusal.is_none());
}
