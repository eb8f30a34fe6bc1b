//! The STS operations: GetCallerIdentity, which tells any caller who it is, and AssumeRole,
//! which trades a caller's credentials for a role's temporary ones.

use super::xml::encode;
use crate::auth::{self, Principal};
use crate::control_errors::refused;
use crate::policy::Ask;
use berth_control::ControlPlane;
use berth_control::roles::{AssumeRole, RoleSession, trust::Assumer};
use berth_types::sts::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, GetCallerIdentityResponse,
    Request,
};
use berth_types::{ApiError, ErrorCode, Timestamp};

/// Answers one STS request of `principal`: the members of its output.
pub(crate) fn call(
    control: &ControlPlane,
    principal: &Principal,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    let partition = control.partition();
    match request {
        Request::GetCallerIdentity(_) => {
            let (id, arn) = match principal {
                Principal::Root { arn } => (partition.account.clone(), arn.clone()),
                Principal::User(u) => (u.id.clone(), u.arn.clone()),
                Principal::Agent { arn, key } => (key.id.clone(), arn.clone()),
                Principal::Session { arn, session } => (session.user_id(), arn.clone()),
            };
            encode(&GetCallerIdentityResponse {
                user_id: Some(id),
                account: Some(partition.account.clone()),
                arn: Some(arn),
            })
        }
        Request::AssumeRole(input) => {
            let session = assume_role(control, principal, input)?;
            encode(&AssumeRoleResponse {
                assumed_role_user: Some(AssumedRoleUser {
                    assumed_role_id: Some(session.user_id()),
                    arn: Some(session.arn()),
                }),
                credentials: Some(Credentials {
                    access_key_id: Some(session.id),
                    secret_access_key: Some(session.secret),
                    session_token: Some(session.token),
                    expiration: Some(Timestamp(session.expires)),
                }),
                ..AssumeRoleResponse::default()
            })
        }
    }
}

/// The longest session a role session may get by assuming another role, in seconds.
const CHAINED_SESSION_SECONDS: i32 = 3600;

/// AssumeRole for `principal`: its identity policies are weighed with the role's trust policy
/// by the control plane. The account root may not assume roles, as in AWS; nor may agents.
fn assume_role(
    control: &ControlPlane,
    principal: &Principal,
    input: AssumeRoleRequest,
) -> Result<RoleSession, ApiError> {
    let denied = |why: &str| {
        ApiError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}: {why}",
                principal.arn(),
                input.role_arn
            ),
        )
    };
    let assumer = match principal {
        Principal::Root { .. } => return Err(denied("Roles may not be assumed by root accounts")),
        Principal::Agent { .. } => return Err(denied("agent credentials assume no roles")),
        Principal::User(u) => Assumer::Aws(vec![u.arn.clone()]),
        Principal::Session { arn, session } => {
            Assumer::Aws(vec![arn.clone(), session.role_arn.clone()])
        }
    };
    // Role chaining: a session assuming a role gets an hour at most, as in AWS.
    let chained = matches!(principal, Principal::Session { .. });
    if chained
        && input
            .duration_seconds
            .is_some_and(|d| d > CHAINED_SESSION_SECONDS)
    {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let principal_arn = principal.principal_arn();
    if input.policy.is_some() || input.policy_arns.is_some() {
        return Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            "session policies (Policy, PolicyArns) are not supported by Berth: the session may do what the role's policies allow",
        ));
    }
    let mut asked = ask(&Request::AssumeRole(input.clone()));
    asked
        .keys
        .insert("aws:principalarn".into(), principal_arn.to_string());
    let identity = auth::identity_allows(control, principal, &asked);
    let call = AssumeRole {
        caller: principal.arn(),
        assumer,
        principal_arn,
        identity,
        role_arn: &input.role_arn,
        session_name: &input.role_session_name,
        duration: input.duration_seconds,
        external_id: input.external_id.as_deref(),
        tags: input
            .tags
            .iter()
            .flatten()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect(),
    };
    // AssumeRole stores the session: it may wait on an fsync.
    tokio::task::block_in_place(|| control.assume_role(call)).map_err(refused)
}

/// What an STS call asks of the caller's policies: `sts:AssumeRole` on the role; nothing for
/// GetCallerIdentity, as in AWS, so it is never authorised, and as a read it is not audited.
pub(crate) fn ask(request: &Request) -> Ask {
    let resource = match request {
        Request::AssumeRole(input) => input.role_arn.clone(),
        Request::GetCallerIdentity(_) => "*".into(),
    };
    Ask {
        action: crate::catalogue::Operation::Sts(request.operation()).action(),
        resource,
        ..Ask::default()
    }
}
