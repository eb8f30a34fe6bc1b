//! The audit log keeps its events in order across batches and forgets only the oldest past its
//! retention.

use berth_control::audit::{AuditEvent, AuditFilter};

fn event(action: &str) -> AuditEvent {
    AuditEvent {
        sequence: 0,
        time: 1.0,
        principal: "arn:aws:iam::000000000000:root".into(),
        action: action.into(),
        resource: "*".into(),
        outcome: "Success".into(),
        request_id: "r".into(),
    }
}

#[test]
fn retention_forgets_the_oldest_events_only() {
    let (cp, _) = berth_test_kit::control::plane();
    let all = AuditFilter::default();
    for i in 0..25 {
        cp.audit(event(&format!("ecs:Call{i}")));
        if i % 10 == 0 {
            cp.flush_audit();
        }
    }
    assert_eq!(cp.audit_events(100, &all).expect("read").len(), 25);
    assert_eq!(cp.prune_audit(10).expect("pruned"), 15);
    let kept = cp.audit_events(100, &all).expect("read");
    let actions: Vec<&str> = kept.iter().map(|e| e.action.as_str()).collect();
    let newest: Vec<String> = (15..25).map(|i| format!("ecs:Call{i}")).collect();
    assert_eq!(actions, newest);
    assert!(kept.windows(2).all(|w| w[0].sequence < w[1].sequence));
    assert_eq!(cp.prune_audit(10).expect("nothing more"), 0);
    // Sequence numbers go on after the pruned ones.
    cp.audit(event("ecs:After"));
    let last = cp.audit_events(1, &all).expect("read");
    assert_eq!(last[0].sequence, 26);
}

#[test]
fn filters_keep_the_newest_matching_events() {
    let (cp, _) = berth_test_kit::control::plane();
    let agent = "arn:aws:iam::000000000000:agent/AKIAAGENT";
    for (time, principal, action, outcome) in [
        (10.0, agent, "ecs:SubmitTaskStateChange", "Success"),
        (
            20.0,
            agent,
            "ecs:SubmitTaskStateChange",
            "AccessDeniedException",
        ),
        (30.0, agent, "ecs:RegisterContainerInstance", "Success"),
        (
            40.0,
            "arn:aws:iam::000000000000:user/alice",
            "ecs:RunTask",
            "Success",
        ),
        (
            50.0,
            "arn:aws:iam::000000000000:root",
            "ecs:RunTask",
            "Success",
        ),
    ] {
        cp.audit(AuditEvent {
            time,
            principal: principal.into(),
            outcome: outcome.into(),
            ..event(action)
        });
    }
    let times = |filter: AuditFilter, limit: usize| -> Vec<f64> {
        let events = cp.audit_events(limit, &filter).expect("read");
        events.iter().map(|e| e.time).collect()
    };
    let hide = AuditFilter {
        hide_agent_reports: true,
        ..AuditFilter::default()
    };
    // A refused report and a registration are not routine.
    assert_eq!(times(hide.clone(), 10), [20.0, 30.0, 40.0, 50.0]);
    assert_eq!(times(AuditFilter::default(), 10).len(), 5);
    let run_task = AuditFilter {
        action: Some("RunTask".into()),
        ..hide.clone()
    };
    assert_eq!(times(run_task.clone(), 1), [50.0], "the newest first");
    let alice = AuditFilter {
        principal: Some("user/alice".into()),
        ..run_task
    };
    assert_eq!(times(alice, 10), [40.0]);
    let window = AuditFilter {
        since: Some(20.0),
        until: Some(40.0),
        ..AuditFilter::default()
    };
    assert_eq!(times(window, 10), [20.0, 30.0, 40.0]);
}
