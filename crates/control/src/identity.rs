//! Identities: IAM users, their access keys and inline policies, kept in the store like every
//! other record. The operations answer the subset of IAM that manages them; the API front puts
//! them on IAM's Query protocol.

use crate::error::{ControlError, IdentityError};
use crate::status::InstanceStatus;
use crate::{Change, ControlPlane, State};
use serde::{Deserialize, Serialize};

/// Most access keys one user may hold, as in IAM.
pub const MAX_KEYS_PER_USER: usize = 2;
/// Longest inline policy document, as in IAM.
pub const MAX_POLICY_CHARS: usize = 2048;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// 1–64 characters of `[\w+=,.@-]`.
    pub name: String,
    /// `AIDA…`.
    pub id: String,
    /// `arn:aws:iam::<account>:user/<name>`.
    pub arn: String,
    /// `/`.
    pub path: String,
    /// Seconds since the epoch.
    pub created: f64,
}

/// An access key pair of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AKIA…`.
    pub id: String,
    /// The secret; shown once, at creation.
    pub secret: String,
    /// The user's name.
    pub user: String,
    /// Active or Inactive.
    pub active: bool,
    /// Seconds since the epoch.
    pub created: f64,
}

/// An inline policy of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPolicy {
    /// The user's name.
    pub user: String,
    /// The policy's name.
    pub name: String,
    /// The JSON document.
    pub document: String,
}

/// The credentials an agent bought with the join token: good for the agent-facing calls of
/// one cluster, and, once it registered, of its own container instance only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKey {
    /// `AKIA…`.
    pub id: String,
    /// The secret.
    pub secret: String,
    /// The cluster it joins.
    pub cluster: String,
    /// The instance it registered, once it has.
    pub instance: Option<String>,
    /// Seconds since the epoch.
    pub created: f64,
}

impl AgentKey {
    /// The principal its calls are made and audited as.
    pub fn arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:{AGENT_PRINCIPAL}{}", self.id)
    }
}

/// What an agent key's principal ARN has where a user's has `user/`.
const AGENT_PRINCIPAL: &str = "agent/";

/// Whether `principal` is an agent key's ARN ([`AgentKey::arn`]).
pub fn is_agent_principal(principal: &str) -> bool {
    principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, name)| name.starts_with(AGENT_PRINCIPAL))
}

/// A token agents trade for keys of their own ([`ControlPlane::join`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinToken {
    /// The cluster it joins, or [`ANY_CLUSTER`].
    pub cluster: String,
    /// The token.
    pub token: String,
    /// Seconds since the epoch.
    pub created: f64,
}

/// The scope of the join token good for every cluster.
pub const ANY_CLUSTER: &str = "*";
/// How long a key bought with a join token may stay unused before it expires: an agent
/// registers within seconds of joining.
pub const UNBOUND_KEY_SECONDS: f64 = 3600.0;

/// `count` characters of `alphabet`, from the operating system's randomness (via UUID v4).
pub fn random(count: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(count);
    while out.len() < count {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < count {
                out.push(alphabet[*b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

pub(crate) const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub(crate) const SECRET_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), ControlError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::InvalidName {
            what,
            name: name.to_string(),
        }
        .into())
    }
}

fn no_user(name: &str) -> ControlError {
    IdentityError::NoSuchUser(name.to_string()).into()
}

pub(crate) fn user<'s>(state: &'s State, name: &str) -> Result<&'s User, ControlError> {
    state.users.get(name).ok_or_else(|| no_user(name))
}

fn policy_of<'s>(
    state: &'s State,
    name: &str,
    policy: &str,
) -> Result<&'s UserPolicy, ControlError> {
    user(state, name)?;
    state
        .user_policies
        .get(&(name.to_string(), policy.to_string()))
        .ok_or_else(|| IdentityError::NoSuchPolicy(policy.to_string()).into())
}

/// Equal bytes, compared in time that does not depend on where they differ (secrets, tokens).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether an agent key is good no more: its instance was deregistered, or it was never used
/// to register one in time.
fn expired(state: &State, key: &AgentKey, now: f64) -> bool {
    match &key.instance {
        Some(arn) => state
            .instances
            .get(arn)
            .is_none_or(|i| InstanceStatus::Inactive.is(&i.status)),
        None => key.created + UNBOUND_KEY_SECONDS < now,
    }
}

fn new_join_token(scope: &str, now: f64) -> JoinToken {
    JoinToken {
        cluster: scope.to_string(),
        token: format!(
            "bjt-{}",
            random(32, b"abcdefghijklmnopqrstuvwxyz0123456789")
        ),
        created: now,
    }
}

impl ControlPlane {
    /// The join token of `scope` (a cluster name, or [`ANY_CLUSTER`]), created on first use:
    /// `seed` when given (the token of an earlier version's credentials file), else a new one.
    pub fn ensure_join_token(
        &self,
        scope: &str,
        seed: Option<&str>,
    ) -> Result<String, ControlError> {
        if let Some(t) = self.read().join_tokens.get(scope) {
            return Ok(t.token.clone());
        }
        self.mutate(|state, ctx| {
            if let Some(t) = state.join_tokens.get(scope) {
                return Ok((vec![], t.token.clone()));
            }
            let mut token = new_join_token(scope, ctx.now);
            if let Some(seed) = seed {
                token.token = seed.to_string();
            }
            let value = token.token.clone();
            Ok((vec![Change::JoinToken(token)], value))
        })
    }

    /// Replaces the join token of `scope` (a cluster name, or [`ANY_CLUSTER`]) with a new one;
    /// the old one joins nothing from now on (agents that joined with it keep their keys).
    pub fn rotate_join_token(&self, scope: &str) -> Result<String, ControlError> {
        if scope != ANY_CLUSTER {
            crate::clusters::check_name(scope)?;
        }
        self.mutate(|_, ctx| {
            let token = new_join_token(scope, ctx.now);
            let value = token.token.clone();
            Ok((vec![Change::JoinToken(token)], value))
        })
    }

    /// Trades a join token for a key of `cluster`'s: the token of that cluster or the one good
    /// for every cluster.
    pub fn join(&self, token: &str, cluster: &str) -> Result<AgentKey, ControlError> {
        let valid = {
            let state = self.read();
            [ANY_CLUSTER, cluster]
                .iter()
                .filter_map(|scope| state.join_tokens.get(*scope))
                .any(|t| same(t.token.as_bytes(), token.as_bytes()))
        };
        if !valid {
            return Err(IdentityError::JoinTokenInvalid(cluster.to_string()).into());
        }
        self.issue_agent_key(cluster)
    }

    /// Issues an agent key for `cluster` (the caller checked the join token).
    fn issue_agent_key(&self, cluster: &str) -> Result<AgentKey, ControlError> {
        self.mutate(|_, ctx| {
            let key = AgentKey {
                id: format!("AKIA{}", random(16, UPPER_DIGITS)),
                secret: random(40, SECRET_CHARS),
                cluster: cluster.to_string(),
                instance: None,
                created: ctx.now,
            };
            Ok((vec![Change::AgentKey(key.clone())], key))
        })
    }

    /// An agent key, unless the instance it registered has been deregistered, or it has
    /// stayed unused for longer than [`UNBOUND_KEY_SECONDS`].
    pub fn agent_key(&self, id: &str) -> Option<AgentKey> {
        let state = self.read();
        let key = state.agent_keys.get(id)?;
        (!expired(&state, key, self.now())).then(|| key.clone())
    }

    /// The agents' keys, of one cluster or all, without their secrets.
    pub fn agent_keys(&self, cluster: Option<&str>) -> Vec<AgentKey> {
        self.read()
            .agent_keys
            .values()
            .filter(|k| cluster.is_none_or(|c| k.cluster == c))
            .map(|k| AgentKey {
                secret: String::new(),
                ..k.clone()
            })
            .collect()
    }

    /// Revokes an agent's key: it signs nothing from now on, and its stream is closed.
    pub fn revoke_agent_key(&self, id: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            if !state.agent_keys.contains_key(id) {
                return Err(IdentityError::NoAgentKey(id.to_string()).into());
            }
            Ok((vec![Change::RemoveAgentKey(id.to_string())], ()))
        })
    }

    /// Forgets the agent keys that expired unused and those of deregistered instances.
    pub fn prune_agent_keys(&self) -> Result<usize, ControlError> {
        self.mutate(|state, ctx| {
            let gone: Vec<Change> = state
                .agent_keys
                .values()
                .filter(|k| expired(state, k, ctx.now))
                .map(|k| Change::RemoveAgentKey(k.id.clone()))
                .collect();
            let count = gone.len();
            Ok((gone, count))
        })
    }

    /// Binds an agent key to the instance it registered.
    pub fn bind_agent_key(&self, id: &str, instance_arn: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            let Some(key) = state.agent_keys.get(id).filter(|k| k.instance.is_none()) else {
                return Ok((vec![], ()));
            };
            let mut key = key.clone();
            key.instance = Some(instance_arn.to_string());
            Ok((vec![Change::AgentKey(key)], ()))
        })
    }

    /// The secret of an active access key (the root key is the server's, not here).
    pub fn access_key(&self, id: &str) -> Option<AccessKey> {
        self.read()
            .access_keys
            .get(id)
            .filter(|k| k.active)
            .cloned()
    }

    /// CreateUser.
    pub fn create_user(&self, name: &str) -> Result<User, ControlError> {
        check_name("UserName", name)?;
        self.mutate(|state, ctx| {
            if state.users.contains_key(name) {
                return Err(IdentityError::UserExists(name.to_string()).into());
            }
            let user = User {
                name: name.to_string(),
                id: format!("AIDA{}", random(17, UPPER_DIGITS)),
                arn: format!("arn:aws:iam::{}:user/{name}", ctx.partition.account),
                path: "/".into(),
                created: ctx.now,
            };
            Ok((vec![Change::User(user.clone())], user))
        })
    }

    /// GetUser.
    pub fn get_user(&self, name: &str) -> Result<User, ControlError> {
        user(&self.read(), name).cloned()
    }

    /// ListUsers, by name.
    pub fn list_users(&self) -> Vec<User> {
        self.read().users.values().cloned().collect()
    }

    /// DeleteUser: refused while the user has access keys or policies, as in IAM.
    pub fn delete_user(&self, name: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            user(state, name)?;
            let keys = state.access_keys.values().any(|k| k.user == name);
            let policies = state.user_policies.keys().any(|(u, _)| u == name)
                || state.roles.user_attached.contains_key(name);
            if keys || policies {
                return Err(IdentityError::UserInUse(name.to_string()).into());
            }
            Ok((vec![Change::RemoveUser(name.to_string())], ()))
        })
    }

    /// CreateAccessKey: at most two per user.
    pub fn create_access_key(&self, name: &str) -> Result<AccessKey, ControlError> {
        self.mutate(|state, ctx| {
            user(state, name)?;
            if state
                .access_keys
                .values()
                .filter(|k| k.user == name)
                .count()
                >= MAX_KEYS_PER_USER
            {
                return Err(IdentityError::TooManyAccessKeys {
                    user: name.to_string(),
                    most: MAX_KEYS_PER_USER,
                }
                .into());
            }
            let key = AccessKey {
                id: format!("AKIA{}", random(16, UPPER_DIGITS)),
                secret: random(40, SECRET_CHARS),
                user: name.to_string(),
                active: true,
                created: ctx.now,
            };
            Ok((vec![Change::AccessKey(key.clone())], key))
        })
    }

    /// ListAccessKeys of a user.
    pub fn list_access_keys(&self, name: &str) -> Result<Vec<AccessKey>, ControlError> {
        let state = self.read();
        user(&state, name)?;
        Ok(state
            .access_keys
            .values()
            .filter(|k| k.user == name)
            .cloned()
            .collect())
    }

    fn key_of(state: &State, name: &str, id: &str) -> Result<AccessKey, ControlError> {
        state
            .access_keys
            .get(id)
            .filter(|k| k.user == name)
            .cloned()
            .ok_or_else(|| {
                IdentityError::NoSuchAccessKey {
                    user: name.to_string(),
                    id: id.to_string(),
                }
                .into()
            })
    }

    /// UpdateAccessKey: Active or Inactive.
    pub fn update_access_key(
        &self,
        name: &str,
        id: &str,
        status: &str,
    ) -> Result<(), ControlError> {
        let active = match status {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(IdentityError::InvalidStatus(other.to_string()).into());
            }
        };
        self.mutate(|state, _| {
            let mut key = Self::key_of(state, name, id)?;
            key.active = active;
            Ok((vec![Change::AccessKey(key)], ()))
        })
    }

    /// DeleteAccessKey.
    pub fn delete_access_key(&self, name: &str, id: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            Self::key_of(state, name, id)?;
            Ok((vec![Change::RemoveAccessKey(id.to_string())], ()))
        })
    }

    /// PutUserPolicy: the document must be policy JSON (`check` says why not).
    pub fn put_user_policy(
        &self,
        name: &str,
        policy: &str,
        document: &str,
        check: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<(), ControlError> {
        check_name("PolicyName", policy)?;
        if document.chars().count() > MAX_POLICY_CHARS {
            return Err(IdentityError::PolicyTooLarge {
                user: name.to_string(),
                most: MAX_POLICY_CHARS,
            }
            .into());
        }
        check(document).map_err(IdentityError::MalformedPolicy)?;
        self.mutate(|state, _| {
            user(state, name)?;
            let p = UserPolicy {
                user: name.to_string(),
                name: policy.to_string(),
                document: document.to_string(),
            };
            Ok((vec![Change::UserPolicy(p)], ()))
        })
    }

    /// GetUserPolicy.
    pub fn get_user_policy(&self, name: &str, policy: &str) -> Result<UserPolicy, ControlError> {
        policy_of(&self.read(), name, policy).cloned()
    }

    /// ListUserPolicies: the names of a user's inline policies.
    pub fn list_user_policies(&self, name: &str) -> Result<Vec<String>, ControlError> {
        let state = self.read();
        user(&state, name)?;
        Ok(state
            .user_policies
            .keys()
            .filter(|(u, _)| u == name)
            .map(|(_, p)| p.clone())
            .collect())
    }

    /// The documents of a user's inline policies and of the managed policies attached to it:
    /// what the user may do.
    pub fn policies_of(&self, name: &str) -> Vec<String> {
        let state = self.read();
        let mut docs: Vec<String> = state
            .user_policies
            .values()
            .filter(|p| p.user == name)
            .map(|p| p.document.clone())
            .collect();
        docs.extend(Self::user_attached_documents(&state, name));
        docs
    }

    /// DeleteUserPolicy.
    pub fn delete_user_policy(&self, name: &str, policy: &str) -> Result<(), ControlError> {
        self.mutate(|state, _| {
            policy_of(state, name, policy)?;
            Ok((
                vec![Change::RemoveUserPolicy(
                    name.to_string(),
                    policy.to_string(),
                )],
                (),
            ))
        })
    }
}
