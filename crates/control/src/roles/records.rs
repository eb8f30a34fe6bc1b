//! The records of IAM roles, customer managed policies, the policies attached to users and
//! the sessions of assumed roles; the one durable change ([`RoleChange`]) that alters them and
//! how each is stored and applied, so `change` and `state` only delegate here.

use berth_store::{Op, Store, StoreError, Table, load};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// 1–64 characters of `[\w+=,.@-]`.
    pub name: String,
    /// `AROA…`.
    pub id: String,
    /// `arn:aws:iam::<account>:role<path><name>`.
    pub arn: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// Seconds since the epoch.
    pub created: f64,
    /// The trust policy (AssumeRolePolicyDocument).
    pub trust: String,
    /// What the role is for.
    pub description: Option<String>,
    /// The longest session AssumeRole grants, in seconds (3600–43200).
    pub max_session: i32,
    /// Inline policies: name → document.
    pub inline: BTreeMap<String, String>,
    /// The ARNs of the managed policies attached, in the order they were attached.
    pub attached: Vec<String>,
}

/// A customer managed policy (one version, `v1`, the default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// `arn:aws:iam::<account>:policy<path><name>`.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// `ANPA…`.
    pub id: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// The JSON document.
    pub document: String,
    /// What it is for.
    pub description: Option<String>,
    /// Seconds since the epoch.
    pub created: f64,
}

/// The temporary credentials of an assumed role, good until `expires`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleSession {
    /// `ASIA…`.
    pub id: String,
    /// The secret access key.
    pub secret: String,
    /// The session token the requests it signs must carry.
    pub token: String,
    /// The role's name.
    pub role: String,
    /// The role's id (`AROA…`) when the session began.
    pub role_id: String,
    /// The role's ARN.
    pub role_arn: String,
    /// RoleSessionName.
    pub name: String,
    /// Seconds since the epoch.
    pub created: f64,
    /// Seconds since the epoch.
    pub expires: f64,
    /// Who assumed it (an ARN, or the service principal for a task's session).
    pub source: String,
    /// The session tags.
    pub tags: Vec<(String, String)>,
}

impl RoleSession {
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`, the principal it stands for.
    pub fn arn(&self) -> String {
        let account = self.role_arn.split(':').nth(4).unwrap_or_default();
        format!(
            "arn:aws:sts::{account}:assumed-role/{}/{}",
            self.role, self.name
        )
    }

    /// `AROA…:<session>`, the UserId GetCallerIdentity answers.
    pub fn user_id(&self) -> String {
        format!("{}:{}", self.role_id, self.name)
    }
}

/// A durable change to roles, managed policies, attachments or sessions.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleChange {
    /// Create or replace a role (with its inline policies and attachments).
    Role(Role),
    /// Forget a role, by name.
    RemoveRole(String),
    /// Create or replace a customer managed policy.
    Policy(ManagedPolicy),
    /// Forget a customer managed policy, by ARN.
    RemovePolicy(String),
    /// The managed policies attached to a user (none: the record is removed).
    UserAttached(String, Vec<String>),
    /// Create a session.
    Session(RoleSession),
    /// Forget a session (expired or revoked), by access key id.
    RemoveSession(String),
}

/// Roles, policies, attachments and sessions, in memory.
#[derive(Debug, Default)]
pub struct RoleState {
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// The managed policies attached to each user, by user name.
    pub user_attached: BTreeMap<String, Vec<String>>,
    /// Sessions by access key id.
    pub sessions: BTreeMap<String, RoleSession>,
}

impl RoleChange {
    /// The store operation that makes this change durable.
    pub(crate) fn to_op(&self) -> Op {
        match self {
            RoleChange::Role(r) => Op::put(Table::Roles, &r.name, r),
            RoleChange::RemoveRole(name) => Op::delete(Table::Roles, name),
            RoleChange::Policy(p) => Op::put(Table::ManagedPolicies, &p.arn, p),
            RoleChange::RemovePolicy(arn) => Op::delete(Table::ManagedPolicies, arn),
            RoleChange::UserAttached(user, arns) if arns.is_empty() => {
                Op::delete(Table::UserAttachments, user)
            }
            RoleChange::UserAttached(user, arns) => Op::put(Table::UserAttachments, user, arns),
            RoleChange::Session(s) => Op::put(Table::RoleSessions, &s.id, s),
            RoleChange::RemoveSession(id) => Op::delete(Table::RoleSessions, id),
        }
    }
}

impl RoleState {
    /// Reads the tables.
    pub(crate) fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut state = RoleState::default();
        for (_, r) in load::<Role>(store, Table::Roles)? {
            state.apply(RoleChange::Role(r));
        }
        for (_, p) in load::<ManagedPolicy>(store, Table::ManagedPolicies)? {
            state.apply(RoleChange::Policy(p));
        }
        for (user, arns) in load::<Vec<String>>(store, Table::UserAttachments)? {
            state.apply(RoleChange::UserAttached(user, arns));
        }
        for (_, s) in load::<RoleSession>(store, Table::RoleSessions)? {
            state.apply(RoleChange::Session(s));
        }
        Ok(state)
    }

    /// Applies one change to memory.
    pub(crate) fn apply(&mut self, change: RoleChange) {
        match change {
            RoleChange::Role(r) => {
                self.roles.insert(r.name.clone(), r);
            }
            RoleChange::RemoveRole(name) => {
                self.roles.remove(&name);
            }
            RoleChange::Policy(p) => {
                self.policies.insert(p.arn.clone(), p);
            }
            RoleChange::RemovePolicy(arn) => {
                self.policies.remove(&arn);
            }
            RoleChange::UserAttached(user, arns) if arns.is_empty() => {
                self.user_attached.remove(&user);
            }
            RoleChange::UserAttached(user, arns) => {
                self.user_attached.insert(user, arns);
            }
            RoleChange::Session(s) => {
                self.sessions.insert(s.id.clone(), s);
            }
            RoleChange::RemoveSession(id) => {
                self.sessions.remove(&id);
            }
        }
    }
}
