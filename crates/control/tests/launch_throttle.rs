//! The launch throttle on the in-memory store with a hand clock: a service whose tasks never
//! start gets them ever more slowly, says it cannot consistently start tasks, and a new
//! deployment starts afresh.

use berth_control::ControlPlane;
use berth_test_kit::control::*;

/// Every PENDING task fails to pull its image, as an agent reports it.
fn pulls_fail(cp: &ControlPlane) {
    let pending: Vec<String> = cp
        .read()
        .tasks
        .values()
        .filter(|t| t.last_status.as_deref() == Some("PENDING"))
        .filter_map(|t| t.task_arn.clone())
        .collect();
    for arn in pending {
        report(
            cp,
            &arn,
            "STOPPED",
            Some("CannotPullContainerError: pull image: refused"),
        );
    }
}

/// Seconds of passes, one a second; how many tasks were launched.
fn run_for(cp: &ControlPlane, clock: &HandClock, seconds: u64) -> usize {
    let before = cp.read().tasks.len();
    for _ in 0..seconds {
        cp.reconcile_services();
        pulls_fail(cp);
        clock.advance(1);
    }
    cp.read().tasks.len() - before
}

fn events(cp: &ControlPlane) -> Vec<String> {
    cp.read()
        .services
        .values()
        .flat_map(|s| s.events.clone().unwrap_or_default())
        .filter_map(|e| e.message)
        .collect()
}

#[test]
fn failing_launches_back_off_and_a_new_deployment_starts_afresh() {
    let (cp, clock) = plane();
    instance(&cp, 4096, 4096);
    definition(&cp, 64, None);
    create_service(&cp, "web", 1, None);
    // Three at once, then 10 s, 20 s and 40 s apart: five launches in a minute.
    assert_eq!(run_for(&cp, &clock, 60), 5);
    let said = events(&cp);
    assert!(
        said.iter()
            .any(|m| m == "(service web) is unable to consistently start tasks successfully."),
        "{said:?}"
    );
    // An hour later the waits have grown: far fewer than one launch a minute.
    let launched = run_for(&cp, &clock, 3600);
    assert!(launched <= 6, "{launched} launches in the second hour");

    definition(&cp, 32, None);
    update_to(&cp, "web:2");
    assert_eq!(
        run_for(&cp, &clock, 3),
        3,
        "a new deployment is not held back"
    );
}
