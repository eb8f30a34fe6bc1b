//! The audit log keeps its events in order across batches and forgets only the oldest past its
//! retention.

use berth_control::audit::AuditEvent;

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
    for i in 0..25 {
        cp.audit(event(&format!("ecs:Call{i}")));
        if i % 10 == 0 {
            cp.flush_audit();
        }
    }
    assert_eq!(cp.audit_events(100).expect("read").len(), 25);
    assert_eq!(cp.prune_audit(10).expect("pruned"), 15);
    let kept = cp.audit_events(100).expect("read");
    let actions: Vec<&str> = kept.iter().map(|e| e.action.as_str()).collect();
    let newest: Vec<String> = (15..25).map(|i| format!("ecs:Call{i}")).collect();
    assert_eq!(actions, newest);
    assert!(kept.windows(2).all(|w| w[0].sequence < w[1].sequence));
    assert_eq!(cp.prune_audit(10).expect("nothing more"), 0);
    // Sequence numbers go on after the pruned ones.
    cp.audit(event("ecs:After"));
    let last = cp.audit_events(1).expect("read");
    assert_eq!(last[0].sequence, 26);
}
