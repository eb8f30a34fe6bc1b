//! Managed policies: customer managed ones (CreatePolicy, GetPolicy, GetPolicyVersion,
//! DeletePolicy; one version each, `v1`) and the AWS managed ones of [`super::builtin`],
//! attached to roles and users; and the documents that decide what a user or a role may do.

use super::builtin;
use super::ops::{check_path, role};
use super::records::{ManagedPolicy, RoleChange};
use crate::error::{ControlError, IdentityError};
use crate::identity::{UPPER_DIGITS, check_name, random, user};
use crate::{Change, ControlPlane, State};

/// Longest managed policy document, as in IAM (6,144 characters).
pub(crate) const MAX_MANAGED_POLICY_CHARS: usize = 6144;
/// Most managed policies attached to one user or role, as in IAM's default quota.
pub(crate) const MAX_ATTACHED: usize = 10;

/// What CreatePolicy asks for.
#[derive(Debug, Clone, Default)]
pub struct NewPolicy<'a> {
    /// PolicyName.
    pub name: &'a str,
    /// Path; `/` when absent.
    pub path: Option<&'a str>,
    /// PolicyDocument.
    pub document: &'a str,
    /// Description.
    pub description: Option<&'a str>,
}

/// A managed policy and how many users and roles it is attached to.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInfo {
    /// The policy.
    pub policy: ManagedPolicy,
    /// Users and roles it is attached to.
    pub attachments: usize,
}

/// The managed policy of that ARN: a customer one, or an AWS managed one.
fn managed(state: &State, arn: &str) -> Result<ManagedPolicy, ControlError> {
    state
        .roles
        .policies
        .get(arn)
        .cloned()
        .or_else(|| builtin::find(arn))
        .ok_or_else(|| IdentityError::NoSuchManagedPolicy(arn.to_string()).into())
}

fn attachments(state: &State, arn: &str) -> usize {
    let on_roles = state.roles.roles.values().map(|r| &r.attached);
    let on_users = state.roles.user_attached.values();
    on_roles
        .chain(on_users)
        .filter(|list| list.iter().any(|a| a == arn))
        .count()
}

/// The documents of `arns` (attached policies that are gone count for nothing).
fn documents<'a>(state: &State, arns: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    arns.into_iter()
        .filter_map(|arn| managed(state, arn).ok())
        .map(|p| p.document)
        .collect()
}

/// Adds `arn` to `list` (once), within [`MAX_ATTACHED`].
fn attach(list: &mut Vec<String>, arn: &str, entity: &str) -> Result<(), ControlError> {
    if list.iter().any(|a| a == arn) {
        return Ok(());
    }
    if list.len() >= MAX_ATTACHED {
        let kind = if entity.starts_with("user") {
            "User"
        } else {
            "Role"
        };
        return Err(IdentityError::QuotaExceeded(format!(
            "Cannot exceed quota for PoliciesPer{kind}: {MAX_ATTACHED} ({entity})"
        ))
        .into());
    }
    list.push(arn.to_string());
    Ok(())
}

/// Removes `arn` from `list`, or says it was not there.
fn detach(list: &mut Vec<String>, arn: &str, entity: &str) -> Result<(), ControlError> {
    let before = list.len();
    list.retain(|a| a != arn);
    if list.len() == before {
        return Err(IdentityError::NotAttached {
            policy: arn.to_string(),
            entity: entity.to_string(),
        }
        .into());
    }
    Ok(())
}

impl ControlPlane {
    /// CreatePolicy: a customer managed policy, version `v1`.
    pub fn create_policy(&self, new: NewPolicy<'_>) -> Result<ManagedPolicy, ControlError> {
        check_name("PolicyName", new.name)?;
        let path = new.path.unwrap_or("/");
        check_path(path)?;
        if new.document.chars().count() > MAX_MANAGED_POLICY_CHARS {
            return Err(IdentityError::QuotaExceeded(format!(
                "Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_CHARS}"
            ))
            .into());
        }
        crate::policy::check(new.document).map_err(IdentityError::MalformedPolicy)?;
        self.mutate(|state, ctx| {
            let arn = format!(
                "arn:aws:iam::{}:policy{path}{}",
                ctx.partition.account, new.name
            );
            let taken = state.roles.policies.values().any(|p| p.name == new.name);
            if taken {
                return Err(IdentityError::PolicyExists(new.name.to_string()).into());
            }
            let policy = ManagedPolicy {
                arn,
                name: new.name.to_string(),
                id: format!("ANPA{}", random(17, UPPER_DIGITS)),
                path: path.to_string(),
                document: new.document.to_string(),
                description: new.description.map(str::to_string),
                created: ctx.now,
            };
            Ok((
                vec![Change::Roles(RoleChange::Policy(policy.clone()))],
                policy,
            ))
        })
    }

    /// GetPolicy (and GetPolicyVersion, whose only version is `v1`).
    pub fn get_policy(&self, arn: &str) -> Result<PolicyInfo, ControlError> {
        let state = self.read();
        Ok(PolicyInfo {
            policy: managed(&state, arn)?,
            attachments: attachments(&state, arn),
        })
    }

    /// DeletePolicy: refused while it is attached, as in IAM.
    pub fn delete_policy(&self, arn: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            if !state.roles.policies.contains_key(arn) {
                return Err(IdentityError::NoSuchManagedPolicy(arn.to_string()).into());
            }
            if attachments(state, arn) > 0 {
                return Err(IdentityError::PolicyInUse(arn.to_string()).into());
            }
            Ok((
                vec![Change::Roles(RoleChange::RemovePolicy(arn.to_string()))],
                (),
            ))
        })
    }

    /// AttachRolePolicy.
    pub fn attach_role_policy(&self, name: &str, arn: &str) -> Result<(), ControlError> {
        managed(&self.read(), arn)?;
        self.change_role(name, |role| {
            attach(&mut role.attached, arn, &format!("role {name}"))
        })
    }

    /// DetachRolePolicy.
    pub fn detach_role_policy(&self, name: &str, arn: &str) -> Result<(), ControlError> {
        self.change_role(name, |role| {
            detach(&mut role.attached, arn, &format!("role {name}"))
        })
    }

    /// ListAttachedRolePolicies: (name, ARN) of each, in the order attached.
    pub fn list_attached_role_policies(
        &self,
        name: &str,
    ) -> Result<Vec<(String, String)>, ControlError> {
        let state = self.read();
        Ok(named(&state, &role(&state, name)?.attached))
    }

    /// AttachUserPolicy.
    pub fn attach_user_policy(&self, name: &str, arn: &str) -> Result<(), ControlError> {
        self.change_user_attached(name, arn, attach)
    }

    /// DetachUserPolicy.
    pub fn detach_user_policy(&self, name: &str, arn: &str) -> Result<(), ControlError> {
        self.change_user_attached(name, arn, detach)
    }

    fn change_user_attached(
        &self,
        name: &str,
        arn: &str,
        edit: fn(&mut Vec<String>, &str, &str) -> Result<(), ControlError>,
    ) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            user(state, name)?;
            managed(state, arn)?;
            let mut list = state
                .roles
                .user_attached
                .get(name)
                .cloned()
                .unwrap_or_default();
            edit(&mut list, arn, &format!("user {name}"))?;
            let change = RoleChange::UserAttached(name.to_string(), list);
            Ok((vec![Change::Roles(change)], ()))
        })
    }

    /// ListAttachedUserPolicies: (name, ARN) of each, in the order attached.
    pub fn list_attached_user_policies(
        &self,
        name: &str,
    ) -> Result<Vec<(String, String)>, ControlError> {
        let state = self.read();
        user(&state, name)?;
        let attached = state.roles.user_attached.get(name);
        Ok(named(&state, attached.into_iter().flatten()))
    }

    /// The documents of a role's inline and attached policies: what its sessions may do.
    pub fn role_policies(&self, name: &str) -> Vec<String> {
        let state = self.read();
        let Some(role) = state.roles.roles.get(name) else {
            return vec![];
        };
        let mut docs: Vec<String> = role.inline.values().cloned().collect();
        docs.extend(documents(&state, &role.attached));
        docs
    }

    /// The documents of the managed policies attached to a user.
    pub(crate) fn user_attached_documents(state: &State, name: &str) -> Vec<String> {
        documents(
            state,
            state.roles.user_attached.get(name).into_iter().flatten(),
        )
    }
}

/// (name, ARN) of each of `arns` still known.
fn named<'a>(state: &State, arns: impl IntoIterator<Item = &'a String>) -> Vec<(String, String)> {
    arns.into_iter()
        .filter_map(|arn| managed(state, arn).ok())
        .map(|p| (p.name, p.arn))
        .collect()
}
