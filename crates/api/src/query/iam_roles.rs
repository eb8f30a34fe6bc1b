//! The IAM operations on roles and managed policies, each typed request mapped to the
//! control-plane call that answers it (`berth_control::roles`), and the ARN each is authorised
//! on: the role's for role calls and attachments to roles, the policy's for policy calls.

use super::xml::encode;
use crate::control_errors::refused;
use crate::sigv4;
use berth_control::ControlPlane;
use berth_control::roles::{self, NewPolicy, NewRole, PolicyInfo};
use berth_types::iam::{
    AttachRolePolicyRequest, AttachUserPolicyRequest, AttachedPolicy, CreatePolicyRequest,
    CreatePolicyResponse, CreateRoleRequest, CreateRoleResponse, DeletePolicyRequest,
    DeleteRolePolicyRequest, DeleteRoleRequest, DetachRolePolicyRequest, DetachUserPolicyRequest,
    GetPolicyRequest, GetPolicyResponse, GetPolicyVersionRequest, GetPolicyVersionResponse,
    GetRolePolicyRequest, GetRolePolicyResponse, GetRoleRequest, GetRoleResponse,
    ListAttachedRolePoliciesRequest, ListAttachedRolePoliciesResponse,
    ListAttachedUserPoliciesRequest, ListAttachedUserPoliciesResponse, ListRolePoliciesRequest,
    ListRolePoliciesResponse, ListRolesRequest, ListRolesResponse, Policy, PolicyVersion,
    PutRolePolicyRequest, Request, Role, UpdateAssumeRolePolicyRequest,
};
use berth_types::{ApiError, ErrorCode, Timestamp};

type Answer = Result<Vec<u8>, ApiError>;

/// IAM answers policy documents URL-encoded; the SDKs decode them.
fn encoded(document: &str) -> String {
    sigv4::uri_encode(document.as_bytes(), false)
}

fn role(r: roles::Role) -> Role {
    Role {
        path: Some(r.path),
        role_name: Some(r.name),
        role_id: Some(r.id),
        arn: Some(r.arn),
        create_date: Some(Timestamp(r.created)),
        assume_role_policy_document: Some(encoded(&r.trust)),
        description: r.description,
        max_session_duration: Some(r.max_session),
        ..Role::default()
    }
}

fn policy(info: PolicyInfo) -> Policy {
    let p = info.policy;
    Policy {
        policy_name: Some(p.name),
        policy_id: Some(p.id),
        arn: Some(p.arn),
        path: Some(p.path),
        default_version_id: Some(VERSION.into()),
        attachment_count: Some(i32::try_from(info.attachments).unwrap_or(i32::MAX)),
        permissions_boundary_usage_count: Some(0),
        is_attachable: Some(true),
        description: p.description,
        create_date: Some(Timestamp(p.created)),
        update_date: Some(Timestamp(p.created)),
        ..Policy::default()
    }
}

/// The one version of every managed policy Berth keeps.
const VERSION: &str = "v1";

fn attached(list: Vec<(String, String)>) -> Option<Vec<AttachedPolicy>> {
    Some(
        list.into_iter()
            .map(|(name, arn)| AttachedPolicy {
                policy_name: Some(name),
                policy_arn: Some(arn),
            })
            .collect(),
    )
}

fn done(result: Result<(), berth_control::error::ControlError>) -> Answer {
    result.map(|()| Vec::new()).map_err(refused)
}

pub(crate) fn create_role(control: &ControlPlane, input: CreateRoleRequest) -> Answer {
    if input.permissions_boundary.is_some() {
        return Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            "permissions boundaries are not supported by Berth",
        ));
    }
    let created = control
        .create_role(NewRole {
            name: &input.role_name,
            path: input.path.as_deref(),
            trust: &input.assume_role_policy_document,
            description: input.description.as_deref(),
            max_session: input.max_session_duration,
        })
        .map_err(refused)?;
    encode(&CreateRoleResponse {
        role: Some(role(created)),
    })
}

pub(crate) fn get_role(control: &ControlPlane, input: GetRoleRequest) -> Answer {
    let found = control.get_role(&input.role_name).map_err(refused)?;
    encode(&GetRoleResponse {
        role: Some(role(found)),
    })
}

pub(crate) fn list_roles(control: &ControlPlane, input: ListRolesRequest) -> Answer {
    let (page, marker) = control
        .list_roles(
            input.path_prefix.as_deref(),
            input.marker.as_deref(),
            input.max_items,
        )
        .map_err(refused)?;
    encode(&ListRolesResponse {
        roles: Some(page.into_iter().map(role).collect()),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

pub(crate) fn delete_role(control: &ControlPlane, input: DeleteRoleRequest) -> Answer {
    done(control.delete_role(&input.role_name))
}

pub(crate) fn update_trust(control: &ControlPlane, input: UpdateAssumeRolePolicyRequest) -> Answer {
    done(control.update_assume_role_policy(&input.role_name, &input.policy_document))
}

pub(crate) fn put_role_policy(control: &ControlPlane, input: PutRolePolicyRequest) -> Answer {
    done(control.put_role_policy(&input.role_name, &input.policy_name, &input.policy_document))
}

pub(crate) fn get_role_policy(control: &ControlPlane, input: GetRolePolicyRequest) -> Answer {
    let document = control
        .get_role_policy(&input.role_name, &input.policy_name)
        .map_err(refused)?;
    encode(&GetRolePolicyResponse {
        role_name: Some(input.role_name),
        policy_name: Some(input.policy_name),
        policy_document: Some(encoded(&document)),
    })
}

pub(crate) fn list_role_policies(control: &ControlPlane, input: ListRolePoliciesRequest) -> Answer {
    let names = control
        .list_role_policies(&input.role_name)
        .map_err(refused)?;
    encode(&ListRolePoliciesResponse {
        policy_names: Some(names),
        is_truncated: Some(false),
        marker: None,
    })
}

pub(crate) fn delete_role_policy(control: &ControlPlane, input: DeleteRolePolicyRequest) -> Answer {
    done(control.delete_role_policy(&input.role_name, &input.policy_name))
}

pub(crate) fn create_policy(control: &ControlPlane, input: CreatePolicyRequest) -> Answer {
    let created = control
        .create_policy(NewPolicy {
            name: &input.policy_name,
            path: input.path.as_deref(),
            document: &input.policy_document,
            description: input.description.as_deref(),
        })
        .map_err(refused)?;
    encode(&CreatePolicyResponse {
        policy: Some(policy(PolicyInfo {
            policy: created,
            attachments: 0,
        })),
    })
}

pub(crate) fn get_policy(control: &ControlPlane, input: GetPolicyRequest) -> Answer {
    let info = control.get_policy(&input.policy_arn).map_err(refused)?;
    encode(&GetPolicyResponse {
        policy: Some(policy(info)),
    })
}

pub(crate) fn get_policy_version(control: &ControlPlane, input: GetPolicyVersionRequest) -> Answer {
    let info = control.get_policy(&input.policy_arn).map_err(refused)?;
    if input.version_id != VERSION {
        return Err(ApiError::new(
            ErrorCode::NoSuchEntity,
            format!(
                "Policy {} version {} does not exist or is not attachable.",
                input.policy_arn, input.version_id
            ),
        ));
    }
    encode(&GetPolicyVersionResponse {
        policy_version: Some(PolicyVersion {
            document: Some(encoded(&info.policy.document)),
            version_id: Some(VERSION.into()),
            is_default_version: Some(true),
            create_date: Some(Timestamp(info.policy.created)),
        }),
    })
}

pub(crate) fn delete_policy(control: &ControlPlane, input: DeletePolicyRequest) -> Answer {
    done(control.delete_policy(&input.policy_arn))
}

pub(crate) fn attach_role_policy(control: &ControlPlane, input: AttachRolePolicyRequest) -> Answer {
    done(control.attach_role_policy(&input.role_name, &input.policy_arn))
}

pub(crate) fn detach_role_policy(control: &ControlPlane, input: DetachRolePolicyRequest) -> Answer {
    done(control.detach_role_policy(&input.role_name, &input.policy_arn))
}

pub(crate) fn list_attached_role_policies(
    control: &ControlPlane,
    input: ListAttachedRolePoliciesRequest,
) -> Answer {
    let list = control
        .list_attached_role_policies(&input.role_name)
        .map_err(refused)?;
    encode(&ListAttachedRolePoliciesResponse {
        attached_policies: attached(list),
        is_truncated: Some(false),
        marker: None,
    })
}

pub(crate) fn attach_user_policy(control: &ControlPlane, input: AttachUserPolicyRequest) -> Answer {
    done(control.attach_user_policy(&input.user_name, &input.policy_arn))
}

pub(crate) fn detach_user_policy(control: &ControlPlane, input: DetachUserPolicyRequest) -> Answer {
    done(control.detach_user_policy(&input.user_name, &input.policy_arn))
}

pub(crate) fn list_attached_user_policies(
    control: &ControlPlane,
    input: ListAttachedUserPoliciesRequest,
) -> Answer {
    let list = control
        .list_attached_user_policies(&input.user_name)
        .map_err(refused)?;
    encode(&ListAttachedUserPoliciesResponse {
        attached_policies: attached(list),
        is_truncated: Some(false),
        marker: None,
    })
}

/// The ARN a role or policy call is authorised on, or `None` for a user call (the caller
/// computes the user's ARN): the role's (with its path, as stored, or as CreateRole gives
/// it), the policy's, or `*` for ListRoles.
pub(crate) fn resource(control: &ControlPlane, request: &Request) -> Option<String> {
    let account = &control.partition().account;
    let members = request.members();
    let role_arn = |name: &str, path: Option<&str>| match control.get_role(name) {
        Ok(r) => r.arn,
        Err(_) => format!("arn:aws:iam::{account}:role{}{name}", path.unwrap_or("/")),
    };
    match request {
        Request::ListRoles(_) => Some("*".into()),
        Request::CreatePolicy(input) => Some(format!(
            "arn:aws:iam::{account}:policy{}{}",
            input.path.as_deref().unwrap_or("/"),
            input.policy_name
        )),
        Request::CreateRole(input) => Some(role_arn(&input.role_name, input.path.as_deref())),
        _ => match (members.text("RoleName"), members.text("PolicyArn")) {
            (Some(name), _) => Some(role_arn(name, None)),
            (None, Some(arn)) if members.text("UserName").is_none() => Some(arn.to_string()),
            _ => None,
        },
    }
}
