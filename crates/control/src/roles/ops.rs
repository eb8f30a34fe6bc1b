//! The role operations of IAM: CreateRole, GetRole, ListRoles, DeleteRole,
//! UpdateAssumeRolePolicy and the roles' inline policies.

use super::records::{Role, RoleChange};
use super::trust;
use crate::error::{ControlError, IdentityError};
use crate::identity::{UPPER_DIGITS, check_name, random};
use crate::{Change, ControlPlane, State};
use berth_types::paginate::{self, PageError, Size};

/// The session length AssumeRole grants at most unless CreateRole says otherwise, in seconds.
pub(crate) const DEFAULT_MAX_SESSION: i32 = 3600;
/// IAM's bounds of MaxSessionDuration, in seconds.
pub(crate) const MAX_SESSION_RANGE: std::ops::RangeInclusive<i32> = 3600..=43200;

/// Longest inline role policy document, as in IAM (10,240 characters).
pub(crate) const MAX_ROLE_POLICY_CHARS: usize = 10_240;

/// ListRoles and the policy lists: up to 100 items a page unless asked, at most 1,000.
pub(crate) const IAM_PAGE: Size = Size {
    default: 100,
    most: 1000,
};

/// What CreateRole asks for.
#[derive(Debug, Clone, Default)]
pub struct NewRole<'a> {
    /// RoleName.
    pub name: &'a str,
    /// Path; `/` when absent.
    pub path: Option<&'a str>,
    /// AssumeRolePolicyDocument.
    pub trust: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// MaxSessionDuration in seconds; [`DEFAULT_MAX_SESSION`] when absent.
    pub max_session: Option<i32>,
}

/// Checks a path: `/`, or `/`-delimited names of printable ASCII, as IAM takes them.
pub(crate) fn check_path(path: &str) -> Result<(), ControlError> {
    let ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::InvalidValue(format!(
            "The specified value for path is invalid: {path:?} must begin and end with / and hold printable ASCII only"
        ))
        .into())
    }
}

fn check_trust(document: &str) -> Result<(), ControlError> {
    trust::check(document).map_err(|e| IdentityError::MalformedPolicy(e).into())
}

/// The role named `name`.
pub(crate) fn role<'s>(state: &'s State, name: &str) -> Result<&'s Role, ControlError> {
    state
        .roles
        .roles
        .get(name)
        .ok_or_else(|| IdentityError::NoSuchRole(name.to_string()).into())
}

/// A page of `items` for IAM's `Marker`/`MaxItems`: the page, and the marker of the next.
pub(crate) fn iam_page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<(Vec<T>, Option<String>), ControlError> {
    paginate::page(items, max_items, marker, IAM_PAGE).map_err(|e| match e {
        PageError::Token(t) => IdentityError::InvalidValue(format!(
            "Invalid Marker {t:?}: pass the Marker of the previous page unchanged"
        ))
        .into(),
        other => ControlError::Page(other),
    })
}

impl ControlPlane {
    /// CreateRole: the trust policy must be one ([`trust::check`]).
    pub fn create_role(&self, new: NewRole<'_>) -> Result<Role, ControlError> {
        check_name("RoleName", new.name)?;
        let path = new.path.unwrap_or("/");
        check_path(path)?;
        check_trust(new.trust)?;
        let max_session = new.max_session.unwrap_or(DEFAULT_MAX_SESSION);
        if !MAX_SESSION_RANGE.contains(&max_session) {
            return Err(IdentityError::InvalidValue(format!(
                "MaxSessionDuration {max_session} is not valid: use 3600 to 43200 seconds"
            ))
            .into());
        }
        self.mutate(|state, ctx| {
            if state.roles.roles.contains_key(new.name) {
                return Err(IdentityError::RoleExists(new.name.to_string()).into());
            }
            let role = Role {
                name: new.name.to_string(),
                id: format!("AROA{}", random(17, UPPER_DIGITS)),
                arn: format!(
                    "arn:aws:iam::{}:role{path}{}",
                    ctx.partition.account, new.name
                ),
                path: path.to_string(),
                created: ctx.now,
                trust: new.trust.to_string(),
                description: new.description.map(str::to_string),
                max_session,
                inline: Default::default(),
                attached: vec![],
            };
            Ok((vec![Change::Roles(RoleChange::Role(role.clone()))], role))
        })
    }

    /// GetRole.
    pub fn get_role(&self, name: &str) -> Result<Role, ControlError> {
        role(&self.read(), name).cloned()
    }

    /// ListRoles, by name, of the path prefix given: a page and the next page's marker.
    pub fn list_roles(
        &self,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i32>,
    ) -> Result<(Vec<Role>, Option<String>), ControlError> {
        let prefix = path_prefix.unwrap_or("/");
        let roles = self
            .read()
            .roles
            .roles
            .values()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect();
        iam_page(roles, marker, max_items)
    }

    /// DeleteRole: refused while the role has inline or attached policies, as in IAM. Its
    /// sessions end with it.
    pub fn delete_role(&self, name: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            let role = role(state, name)?;
            if !role.inline.is_empty() || !role.attached.is_empty() {
                return Err(IdentityError::RoleInUse(name.to_string()).into());
            }
            let mut changes = vec![Change::Roles(RoleChange::RemoveRole(name.to_string()))];
            changes.extend(
                state
                    .roles
                    .sessions
                    .values()
                    .filter(|s| s.role == name)
                    .map(|s| Change::Roles(RoleChange::RemoveSession(s.id.clone()))),
            );
            Ok((changes, ()))
        })
    }

    /// UpdateAssumeRolePolicy: a new trust policy.
    pub fn update_assume_role_policy(
        &self,
        name: &str,
        document: &str,
    ) -> Result<(), ControlError> {
        check_trust(document)?;
        self.change_role(name, |role| {
            role.trust = document.to_string();
            Ok(())
        })
    }

    /// PutRolePolicy: the document must be policy JSON.
    pub fn put_role_policy(
        &self,
        name: &str,
        policy: &str,
        document: &str,
    ) -> Result<(), ControlError> {
        check_name("PolicyName", policy)?;
        if document.chars().count() > MAX_ROLE_POLICY_CHARS {
            return Err(IdentityError::QuotaExceeded(format!(
                "Maximum policy size of {MAX_ROLE_POLICY_CHARS} bytes exceeded for role {name}"
            ))
            .into());
        }
        crate::policy::check(document).map_err(IdentityError::MalformedPolicy)?;
        self.change_role(name, |role| {
            role.inline.insert(policy.to_string(), document.to_string());
            Ok(())
        })
    }

    /// GetRolePolicy: the document.
    pub fn get_role_policy(&self, name: &str, policy: &str) -> Result<String, ControlError> {
        role(&self.read(), name)?
            .inline
            .get(policy)
            .cloned()
            .ok_or_else(|| no_role_policy(name, policy))
    }

    /// ListRolePolicies: the names of a role's inline policies.
    pub fn list_role_policies(&self, name: &str) -> Result<Vec<String>, ControlError> {
        Ok(role(&self.read(), name)?.inline.keys().cloned().collect())
    }

    /// DeleteRolePolicy.
    pub fn delete_role_policy(&self, name: &str, policy: &str) -> Result<(), ControlError> {
        self.change_role(name, |role| match role.inline.remove(policy) {
            Some(_) => Ok(()),
            None => Err(no_role_policy(name, policy)),
        })
    }

    /// Changes the role named `name` with `edit` and stores it.
    pub(crate) fn change_role(
        &self,
        name: &str,
        edit: impl FnOnce(&mut Role) -> Result<(), ControlError>,
    ) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            let mut role = role(state, name)?.clone();
            edit(&mut role)?;
            Ok((vec![Change::Roles(RoleChange::Role(role))], ()))
        })
    }
}

fn no_role_policy(role: &str, policy: &str) -> ControlError {
    IdentityError::NoSuchRolePolicy {
        role: role.to_string(),
        policy: policy.to_string(),
    }
    .into()
}
