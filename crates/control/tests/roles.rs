//! IAM roles, managed policies and role sessions in the control plane: the operations' rules
//! (names, trust policies, conflicts, paging), AssumeRole's weighing of trust and identity,
//! sessions minted for tasks, their expiry, revocation and survival of a restart.

use berth_control::ControlPlane;
use berth_control::error::{ControlError, IdentityError};
use berth_control::policy::Decision;
use berth_control::roles::trust::Assumer;
use berth_control::roles::{AssumeRole, NewPolicy, NewRole};
use berth_store::MemStore;
use berth_test_kit::control::{HandClock, plane};
use std::sync::Arc;
use std::time::Duration;

const ACCOUNT: &str = "000000000000";
const ALICE: &str = "arn:aws:iam::000000000000:user/alice";
const TASKS_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const READ_ECS: &str =
    r#"{"Statement":{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}}"#;

fn trust_of(principal: &str) -> String {
    format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn create(
    cp: &ControlPlane,
    name: &str,
    trust: &str,
) -> Result<berth_control::roles::Role, ControlError> {
    cp.create_role(NewRole {
        name,
        trust,
        ..NewRole::default()
    })
}

fn identity(e: ControlError) -> IdentityError {
    match e {
        ControlError::Identity(i) => i,
        other => panic!("not an identity error: {other}"),
    }
}

fn assume<'a>(role_arn: &'a str, identity: Decision) -> AssumeRole<'a> {
    AssumeRole {
        caller: ALICE,
        assumer: Assumer::Aws(vec![ALICE.into()]),
        principal_arn: ALICE,
        identity,
        role_arn,
        session_name: "alice-session",
        duration: None,
        external_id: None,
        tags: vec![],
    }
}

#[test]
fn roles_are_created_listed_and_deleted_as_iam_does() {
    let (cp, _) = plane();
    for (bad, says) in [
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
            "Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}]}"#,
            "Invalid principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}"#,
            "Resource",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecs:RunTask"}]}"#,
            "STS",
        ),
        ("{", "Json"),
    ] {
        let e = identity(create(&cp, "bad", bad).expect_err(bad));
        assert!(
            matches!(&e, IdentityError::MalformedPolicy(m) if m.contains(says)),
            "{bad}: {e}"
        );
    }
    let role = cp
        .create_role(NewRole {
            name: "app",
            path: Some("/svc/"),
            trust: TASKS_TRUST,
            max_session: Some(7200),
            ..NewRole::default()
        })
        .expect("created");
    assert_eq!(role.arn, format!("arn:aws:iam::{ACCOUNT}:role/svc/app"));
    assert!(role.id.starts_with("AROA"));
    assert_eq!(role.max_session, 7200);
    assert!(matches!(
        identity(create(&cp, "app", TASKS_TRUST).unwrap_err()),
        IdentityError::RoleExists(_)
    ));
    create(&cp, "other", TASKS_TRUST).expect("created");
    let (page, marker) = cp.list_roles(None, None, Some(1)).expect("listed");
    assert_eq!(page[0].name, "app");
    let (rest, end) = cp
        .list_roles(None, marker.as_deref(), Some(1))
        .expect("listed");
    assert_eq!((rest[0].name.as_str(), end), ("other", None));
    let (svc, _) = cp.list_roles(Some("/svc/"), None, None).expect("listed");
    assert_eq!(svc.len(), 1);

    cp.put_role_policy("app", "read", READ_ECS).expect("put");
    assert_eq!(cp.list_role_policies("app").unwrap(), vec!["read"]);
    assert_eq!(cp.get_role_policy("app", "read").unwrap(), READ_ECS);
    cp.attach_role_policy("app", EXEC_POLICY).expect("attached");
    assert_eq!(cp.role_policies("app").len(), 2);
    assert!(matches!(
        identity(cp.delete_role("app").unwrap_err()),
        IdentityError::RoleInUse(_)
    ));
    cp.delete_role_policy("app", "read").expect("deleted");
    assert!(matches!(
        identity(cp.delete_role("app").unwrap_err()),
        IdentityError::RoleInUse(_)
    ));
    cp.detach_role_policy("app", EXEC_POLICY).expect("detached");
    assert!(matches!(
        identity(cp.detach_role_policy("app", EXEC_POLICY).unwrap_err()),
        IdentityError::NotAttached { .. }
    ));
    cp.delete_role("app").expect("deleted");
    assert!(matches!(
        identity(cp.get_role("app").unwrap_err()),
        IdentityError::NoSuchRole(_)
    ));
}

#[test]
fn managed_policies_count_for_users_and_cannot_go_while_attached() {
    let (cp, _) = plane();
    cp.create_user("alice").expect("user");
    let policy = cp
        .create_policy(NewPolicy {
            name: "read-ecs",
            document: READ_ECS,
            ..NewPolicy::default()
        })
        .expect("created");
    assert_eq!(
        policy.arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/read-ecs")
    );
    assert!(matches!(
        identity(
            cp.attach_user_policy("alice", "arn:aws:iam::aws:policy/Nothing")
                .unwrap_err()
        ),
        IdentityError::NoSuchManagedPolicy(_)
    ));
    cp.attach_user_policy("alice", &policy.arn)
        .expect("attached");
    assert_eq!(cp.policies_of("alice"), vec![READ_ECS.to_string()]);
    assert_eq!(cp.get_policy(&policy.arn).unwrap().attachments, 1);
    assert!(matches!(
        identity(cp.delete_policy(&policy.arn).unwrap_err()),
        IdentityError::PolicyInUse(_)
    ));
    assert!(matches!(
        identity(cp.delete_user("alice").unwrap_err()),
        IdentityError::UserInUse(_)
    ));
    let listed = cp.list_attached_user_policies("alice").unwrap();
    assert_eq!(listed, vec![("read-ecs".to_string(), policy.arn.clone())]);
    cp.detach_user_policy("alice", &policy.arn)
        .expect("detached");
    cp.delete_policy(&policy.arn).expect("deleted");
    cp.delete_user("alice").expect("deleted");
    let aws = cp.get_policy(EXEC_POLICY).expect("an AWS managed policy");
    assert!(aws.policy.document.contains("ecr:GetAuthorizationToken"));
}

#[test]
fn assume_role_weighs_the_trust_policy_with_the_callers_policies() {
    let (cp, clock) = plane();
    let direct = create(&cp, "direct", &trust_of(ALICE)).unwrap().arn;
    let account = create(
        &cp,
        "account",
        &trust_of(&format!("arn:aws:iam::{ACCOUNT}:root")),
    )
    .unwrap()
    .arn;
    let nobody = create(&cp, "nobody", TASKS_TRUST).unwrap().arn;
    // Named by ARN: trusted without an identity policy (IAM's same-account rule), unless an
    // identity policy denies it.
    let session = cp
        .assume_role(assume(&direct, Decision::ImplicitDeny))
        .expect("assumed");
    assert!(session.id.starts_with("ASIA"));
    assert_eq!(
        session.arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/direct/alice-session")
    );
    assert_eq!(session.expires - session.created, 3600.0);
    let denied = |call| matches!(identity(cp.assume_role(call).unwrap_err()), IdentityError::AssumeDenied(m) if m.contains("is not authorized to perform: sts:AssumeRole"));
    assert!(denied(assume(&direct, Decision::ExplicitDeny)));
    // Named by account: the identity policies must allow it too.
    assert!(denied(assume(&account, Decision::ImplicitDeny)));
    cp.assume_role(assume(&account, Decision::Allow))
        .expect("assumed");
    // Not named: nothing helps.
    assert!(denied(assume(&nobody, Decision::Allow)));
    assert!(denied(assume(
        "arn:aws:iam::000000000000:role/missing",
        Decision::Allow
    )));
    // Durations: 900 up to the role's MaxSessionDuration.
    for seconds in [899, 3601, 43201] {
        let call = AssumeRole {
            duration: Some(seconds),
            ..assume(&direct, Decision::Allow)
        };
        assert!(matches!(
            identity(cp.assume_role(call).unwrap_err()),
            IdentityError::InvalidValue(_)
        ));
    }
    for name in ["a", "has space", &"x".repeat(65)] {
        let call = AssumeRole {
            session_name: name,
            ..assume(&direct, Decision::Allow)
        };
        assert!(cp.assume_role(call).is_err(), "{name}");
    }
    // The session ends when it expires (the API refuses it), and with its role.
    assert!(cp.role_session(&session.id).is_some());
    clock.advance(3601);
    assert!(cp.role_session(&session.id).unwrap().expires <= cp.now());
    cp.assume_role(assume(&direct, Decision::Allow))
        .expect("assumed");
    assert!(
        cp.role_session(&session.id).is_none(),
        "expired sessions are forgotten"
    );
}

#[test]
fn external_ids_and_principal_conditions_are_checked() {
    let (cp, _) = plane();
    let trust = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"x-42"}},"ArnEquals":{{"aws:PrincipalArn":"{ALICE}"}}}}}}]}}"#
    );
    let arn = create(&cp, "guarded", &trust).unwrap().arn;
    assert!(cp.assume_role(assume(&arn, Decision::Allow)).is_err());
    let wrong = AssumeRole {
        external_id: Some("x-41"),
        ..assume(&arn, Decision::Allow)
    };
    assert!(cp.assume_role(wrong).is_err());
    let right = AssumeRole {
        external_id: Some("x-42"),
        ..assume(&arn, Decision::Allow)
    };
    cp.assume_role(right).expect("assumed");
}

#[test]
fn task_sessions_need_the_ecs_tasks_principal_and_end_when_revoked() {
    let (cp, _) = plane();
    let task_role = create(&cp, "task", TASKS_TRUST).unwrap().arn;
    let user_role = create(&cp, "user", &trust_of(ALICE)).unwrap().arn;
    let hour = Duration::from_secs(3600);
    let session = cp
        .issue_role_session(&task_role, "task-1", hour)
        .expect("issued");
    assert_eq!(session.source, "ecs-tasks.amazonaws.com");
    assert!(cp.issue_role_session(&user_role, "task-1", hour).is_err());
    assert!(
        cp.issue_role_session(&task_role, "task-1", Duration::from_secs(60))
            .is_err()
    );
    let user_session = cp
        .assume_role(AssumeRole {
            session_name: "task-1",
            ..assume(&user_role, Decision::Allow)
        })
        .expect("assumed");
    assert_eq!(cp.revoke_role_sessions("task-1").unwrap(), 1);
    assert!(cp.role_session(&session.id).is_none());
    assert!(
        cp.role_session(&user_session.id).is_some(),
        "a user's session of the same name is not a task's"
    );
}

#[test]
fn sessions_survive_a_restart_until_the_role_goes() {
    let store = Arc::new(MemStore::default());
    let clock = Arc::new(HandClock::default());
    let partition = berth_types::arn::Partition {
        region: "us-east-1".into(),
        account: ACCOUNT.into(),
    };
    let open = || ControlPlane::open(partition.clone(), store.clone(), clock.clone()).unwrap();
    let cp = open();
    let arn = create(&cp, "task", TASKS_TRUST).unwrap().arn;
    cp.attach_role_policy("task", EXEC_POLICY).unwrap();
    let session = cp
        .issue_role_session(&arn, "task-1", Duration::from_secs(900))
        .unwrap();
    drop(cp);
    let cp = open();
    assert_eq!(cp.role_session(&session.id), Some(session.clone()));
    assert_eq!(cp.role_policies("task").len(), 1);
    cp.detach_role_policy("task", EXEC_POLICY).unwrap();
    cp.delete_role("task").unwrap();
    assert!(cp.role_session(&session.id).is_none());
}

#[test]
fn a_role_holds_at_most_ten_managed_policies() {
    let (cp, _) = plane();
    create(&cp, "busy", TASKS_TRUST).unwrap();
    for i in 0..11 {
        let name = format!("p{i}");
        let arn = cp
            .create_policy(NewPolicy {
                name: &name,
                document: READ_ECS,
                ..NewPolicy::default()
            })
            .unwrap()
            .arn;
        let attached = cp.attach_role_policy("busy", &arn);
        if i < 10 {
            attached.expect("within the quota");
        } else {
            assert!(matches!(
                identity(attached.unwrap_err()),
                IdentityError::QuotaExceeded(m) if m.contains("PoliciesPerRole")
            ));
        }
    }
    assert_eq!(cp.list_attached_role_policies("busy").unwrap().len(), 10);
}
