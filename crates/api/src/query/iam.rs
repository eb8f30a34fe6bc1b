//! The IAM operations: each typed request mapped to the control-plane call that answers it
//! (users, their access keys and inline policies in `berth_control::identity`; roles and
//! managed policies in [`super::iam_roles`]), and what each asks of the caller's policies:
//! `iam:<Action>` on the ARN of the user, role or policy it is about.

use super::iam_roles as roles;
use super::xml::encode;
use crate::auth::Principal;
use crate::control_errors::refused;
use crate::policy::{self, Ask};
use crate::sigv4;
use berth_control::ControlPlane;
use berth_control::identity;
use berth_types::arn::Partition;
use berth_types::iam::{
    AccessKey, AccessKeyMetadata, CreateAccessKeyResponse, CreateUserResponse,
    GetUserPolicyResponse, GetUserResponse, ListAccessKeysResponse, ListUserPoliciesResponse,
    ListUsersResponse, Operation, Request, StatusType, User,
};
use berth_types::{ApiError, ErrorCode, Timestamp};

/// Answers one IAM request of `principal`: the members of its output (none for the operations
/// without one).
pub(crate) fn call(
    control: &ControlPlane,
    principal: &Principal,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    let own = |name: Option<String>| user_name(name.as_deref(), principal);
    let done = |()| Vec::new();
    match request {
        Request::CreateUser(input) => encode(&CreateUserResponse {
            user: Some(user(
                control.create_user(&input.user_name).map_err(refused)?,
            )),
        }),
        Request::GetUser(input) => encode(&GetUserResponse {
            user: Some(match (input.user_name, principal) {
                (None, Principal::Root { arn }) => root(control.partition(), arn),
                (name, _) => user(control.get_user(&own(name)?).map_err(refused)?),
            }),
        }),
        Request::ListUsers(_) => encode(&ListUsersResponse {
            users: Some(control.list_users().into_iter().map(user).collect()),
            is_truncated: Some(false),
            marker: None,
        }),
        Request::DeleteUser(input) => control
            .delete_user(&input.user_name)
            .map(done)
            .map_err(refused),
        Request::CreateAccessKey(input) => {
            let key = control
                .create_access_key(&own(input.user_name)?)
                .map_err(refused)?;
            encode(&CreateAccessKeyResponse {
                access_key: Some(AccessKey {
                    status: Some(status(&key)),
                    create_date: Some(Timestamp(key.created)),
                    user_name: Some(key.user),
                    access_key_id: Some(key.id),
                    secret_access_key: Some(key.secret),
                }),
            })
        }
        Request::ListAccessKeys(input) => encode(&ListAccessKeysResponse {
            access_key_metadata: Some(
                control
                    .list_access_keys(&own(input.user_name)?)
                    .map_err(refused)?
                    .into_iter()
                    .map(|key| AccessKeyMetadata {
                        status: Some(status(&key)),
                        create_date: Some(Timestamp(key.created)),
                        user_name: Some(key.user),
                        access_key_id: Some(key.id),
                    })
                    .collect(),
            ),
            is_truncated: Some(false),
            marker: None,
        }),
        Request::UpdateAccessKey(input) => control
            .update_access_key(
                &own(input.user_name)?,
                &input.access_key_id,
                input.status.as_str(),
            )
            .map(done)
            .map_err(refused),
        Request::DeleteAccessKey(input) => control
            .delete_access_key(&own(input.user_name)?, &input.access_key_id)
            .map(done)
            .map_err(refused),
        Request::PutUserPolicy(input) => control
            .put_user_policy(
                &input.user_name,
                &input.policy_name,
                &input.policy_document,
                policy::check,
            )
            .map(done)
            .map_err(refused),
        Request::GetUserPolicy(input) => {
            let found = control
                .get_user_policy(&input.user_name, &input.policy_name)
                .map_err(refused)?;
            encode(&GetUserPolicyResponse {
                user_name: Some(found.user),
                policy_name: Some(found.name),
                // IAM answers the document URL-encoded; the SDKs decode it.
                policy_document: Some(sigv4::uri_encode(found.document.as_bytes(), false)),
            })
        }
        Request::ListUserPolicies(input) => encode(&ListUserPoliciesResponse {
            policy_names: Some(
                control
                    .list_user_policies(&input.user_name)
                    .map_err(refused)?,
            ),
            is_truncated: Some(false),
            marker: None,
        }),
        Request::DeleteUserPolicy(input) => control
            .delete_user_policy(&input.user_name, &input.policy_name)
            .map(done)
            .map_err(refused),
        Request::CreateRole(input) => roles::create_role(control, input),
        Request::GetRole(input) => roles::get_role(control, input),
        Request::ListRoles(input) => roles::list_roles(control, input),
        Request::DeleteRole(input) => roles::delete_role(control, input),
        Request::UpdateAssumeRolePolicy(input) => roles::update_trust(control, input),
        Request::PutRolePolicy(input) => roles::put_role_policy(control, input),
        Request::GetRolePolicy(input) => roles::get_role_policy(control, input),
        Request::ListRolePolicies(input) => roles::list_role_policies(control, input),
        Request::DeleteRolePolicy(input) => roles::delete_role_policy(control, input),
        Request::CreatePolicy(input) => roles::create_policy(control, input),
        Request::GetPolicy(input) => roles::get_policy(control, input),
        Request::GetPolicyVersion(input) => roles::get_policy_version(control, input),
        Request::DeletePolicy(input) => roles::delete_policy(control, input),
        Request::AttachRolePolicy(input) => roles::attach_role_policy(control, input),
        Request::DetachRolePolicy(input) => roles::detach_role_policy(control, input),
        Request::ListAttachedRolePolicies(input) => {
            roles::list_attached_role_policies(control, input)
        }
        Request::AttachUserPolicy(input) => roles::attach_user_policy(control, input),
        Request::DetachUserPolicy(input) => roles::detach_user_policy(control, input),
        Request::ListAttachedUserPolicies(input) => {
            roles::list_attached_user_policies(control, input)
        }
    }
}

/// What an IAM call asks of the caller's policies: `iam:<Action>` on the user, role or policy
/// it is about (every user for ListUsers, every role for ListRoles).
pub(crate) fn ask(control: &ControlPlane, principal: Option<&Principal>, request: &Request) -> Ask {
    let partition = control.partition();
    let operation = request.operation();
    let resource = match (operation, principal) {
        (Operation::ListUsers, _) => "*".to_string(),
        _ if let Some(resource) = roles::resource(control, request) => resource,
        (_, principal) => {
            let named = request.members().text("UserName");
            let name = match principal {
                Some(principal) => user_name(named, principal).unwrap_or_default(),
                None => named.unwrap_or_default().to_string(),
            };
            format!("arn:aws:iam::{}:user/{name}", partition.account)
        }
    };
    Ask {
        action: crate::catalogue::Operation::Iam(operation).action(),
        resource,
        ..Ask::default()
    }
}

/// The user a call is about: the one it names, or else the calling user.
fn user_name(named: Option<&str>, principal: &Principal) -> Result<String, ApiError> {
    match (named, principal) {
        (Some(name), _) => Ok(name.to_string()),
        (None, Principal::User(u)) => Ok(u.name.clone()),
        (None, _) => Err(ApiError::new(
            ErrorCode::ValidationError,
            "1 validation error detected: Value null at 'UserName' failed to satisfy constraint: Member must not be null: only a user's own calls may leave it out",
        )),
    }
}

fn user(u: identity::User) -> User {
    User {
        path: Some(u.path),
        user_name: Some(u.name),
        user_id: Some(u.id),
        arn: Some(u.arn),
        create_date: Some(Timestamp(u.created)),
        ..User::default()
    }
}

/// The account root, as GetUser answers it about itself: no name or path, as in IAM.
fn root(partition: &Partition, arn: &str) -> User {
    User {
        user_id: Some(partition.account.clone()),
        arn: Some(arn.to_string()),
        create_date: Some(Timestamp(0.0)),
        ..User::default()
    }
}

fn status(key: &identity::AccessKey) -> StatusType {
    if key.active {
        StatusType::Active
    } else {
        StatusType::Inactive
    }
}
