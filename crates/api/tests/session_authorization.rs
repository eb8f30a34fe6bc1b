//! A role session is authorised as its role: whatever action is asked, the decision is the one
//! its role's inline and attached policies give, with an explicit deny winning; a user's
//! attached managed policies count as its inline ones do; and a session ends with its role.

use berth_api::auth::{self, Principal};
use berth_api::policy::Ask;
use berth_control::ControlPlane;
use berth_control::roles::NewRole;
use berth_test_kit::control::plane;
use berth_types::ErrorCode;
use proptest::prelude::*;
use std::time::Duration;

const TASKS_TRUST: &str = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const INLINE: &str = r#"{"Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"},{"Effect":"Deny","Action":"ecs:DescribeTasks","Resource":"*"}]}"#;
const ECR_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

/// What the role's policies allow, decided here independently of the evaluator.
fn expected(service: &str, verb: &str, noun: &str) -> bool {
    match service {
        "ecs" => matches!(verb, "Describe" | "List") && !(verb == "Describe" && noun == "Tasks"),
        "ecr" => matches!(
            (verb, noun),
            ("Describe", "Repositories" | "Images") | ("List", "Images") | ("BatchGet", "Image")
        ),
        _ => false,
    }
}

fn session_of(cp: &ControlPlane) -> Principal {
    cp.create_role(NewRole {
        name: "app",
        trust: TASKS_TRUST,
        ..NewRole::default()
    })
    .expect("role");
    cp.put_role_policy("app", "inline", INLINE).expect("inline");
    cp.attach_role_policy("app", ECR_READ_ONLY)
        .expect("attached");
    let session = cp
        .issue_role_session(
            "arn:aws:iam::000000000000:role/app",
            "task-1",
            Duration::from_secs(900),
        )
        .expect("session");
    Principal::Session {
        arn: session.arn(),
        session,
    }
}

fn decide(cp: &ControlPlane, principal: &Principal, action: &str) -> bool {
    let ask = Ask {
        action: action.into(),
        resource: "*".into(),
        ..Ask::default()
    };
    auth::authorize(cp, principal, &ask, ErrorCode::AccessDeniedException, None).is_ok()
}

proptest! {
    #[test]
    fn a_session_may_do_what_its_role_may(
        service in prop::sample::select(vec!["ecs", "ecr", "logs", "iam"]),
        verb in prop::sample::select(vec!["Describe", "List", "Delete", "Create", "BatchGet", "Put"]),
        noun in prop::sample::select(vec!["Tasks", "Clusters", "Repositories", "Images", "Image", "LogGroups"]),
    ) {
        let (cp, _) = plane();
        let session = session_of(&cp);
        let action = format!("{service}:{verb}{noun}");
        prop_assert_eq!(decide(&cp, &session, &action), expected(service, verb, noun), "{}", action);
    }
}

#[test]
fn attached_policies_count_for_users_and_sessions_end_with_their_role() {
    let (cp, _) = plane();
    let user = cp.create_user("alice").expect("user");
    let alice = Principal::User(user);
    assert!(!decide(&cp, &alice, "ecr:DescribeImages"));
    cp.attach_user_policy("alice", ECR_READ_ONLY)
        .expect("attached");
    assert!(decide(&cp, &alice, "ecr:DescribeImages"));
    assert!(!decide(&cp, &alice, "ecr:PutImage"));

    let session = session_of(&cp);
    let Principal::Session { session: s, .. } = &session else {
        panic!("a session principal")
    };
    assert!(cp.role_session(&s.id).is_some());
    cp.detach_role_policy("app", ECR_READ_ONLY)
        .expect("detached");
    assert!(
        !decide(&cp, &session, "ecr:DescribeImages"),
        "policies are read per request"
    );
    cp.delete_role_policy("app", "inline").expect("deleted");
    cp.delete_role("app").expect("deleted");
    assert!(cp.role_session(&s.id).is_none());
}
