//! Identities: IAM users, their access keys and inline policies, kept in the store like every
//! other record. The operations answer the subset of IAM that manages them; the API front puts
//! them on IAM's Query protocol.

use crate::{Change, ControlPlane, State};
use berth_types::{ApiError, ErrorCode};
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

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ValidationError,
            format!("{what} {name:?} is not valid: use letters, digits and +=,.@_-"),
        ))
    }
}

fn no_user(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchEntity,
        format!("The user with name {name} cannot be found."),
    )
}

fn user<'s>(state: &'s State, name: &str) -> Result<&'s User, ApiError> {
    state.users.get(name).ok_or_else(|| no_user(name))
}

fn policy_of<'s>(state: &'s State, name: &str, policy: &str) -> Result<&'s UserPolicy, ApiError> {
    user(state, name)?;
    state
        .user_policies
        .get(&(name.to_string(), policy.to_string()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoSuchEntity,
                format!("The user policy with name {policy} cannot be found."),
            )
        })
}

impl ControlPlane {
    /// Issues an agent key for `cluster` (the caller checked the join token).
    pub fn issue_agent_key(&self, cluster: &str) -> Result<AgentKey, ApiError> {
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

    /// An agent key, unless the instance it registered has been deregistered.
    pub fn agent_key(&self, id: &str) -> Option<AgentKey> {
        let state = self.read();
        let key = state.agent_keys.get(id)?;
        let gone = key.instance.as_ref().is_some_and(|arn| {
            state
                .instances
                .get(arn)
                .is_none_or(|i| i.status.as_deref() == Some("INACTIVE"))
        });
        (!gone).then(|| key.clone())
    }

    /// Binds an agent key to the instance it registered.
    pub fn bind_agent_key(&self, id: &str, instance_arn: &str) -> Result<(), ApiError> {
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
    pub fn create_user(&self, name: &str) -> Result<User, ApiError> {
        check_name("UserName", name)?;
        self.mutate(|state, ctx| {
            if state.users.contains_key(name) {
                return Err(ApiError::new(
                    ErrorCode::EntityAlreadyExists,
                    format!("User with name {name} already exists."),
                ));
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
    pub fn get_user(&self, name: &str) -> Result<User, ApiError> {
        user(&self.read(), name).cloned()
    }

    /// ListUsers, by name.
    pub fn list_users(&self) -> Vec<User> {
        self.read().users.values().cloned().collect()
    }

    /// DeleteUser: refused while the user has access keys or policies, as in IAM.
    pub fn delete_user(&self, name: &str) -> Result<(), ApiError> {
        self.mutate(|state, _| {
            user(state, name)?;
            let keys = state.access_keys.values().any(|k| k.user == name);
            let policies = state.user_policies.keys().any(|(u, _)| u == name);
            if keys || policies {
                return Err(ApiError::new(
                    ErrorCode::DeleteConflict,
                    format!("Cannot delete entity, must delete access keys and policies first: user {name} still has some"),
                ));
            }
            Ok((vec![Change::RemoveUser(name.to_string())], ()))
        })
    }

    /// CreateAccessKey: at most two per user.
    pub fn create_access_key(&self, name: &str) -> Result<AccessKey, ApiError> {
        self.mutate(|state, ctx| {
            user(state, name)?;
            if state.access_keys.values().filter(|k| k.user == name).count() >= MAX_KEYS_PER_USER {
                return Err(ApiError::new(
                    ErrorCode::LimitExceeded,
                    format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}; delete one of {name}'s keys first"),
                ));
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
    pub fn list_access_keys(&self, name: &str) -> Result<Vec<AccessKey>, ApiError> {
        let state = self.read();
        user(&state, name)?;
        Ok(state
            .access_keys
            .values()
            .filter(|k| k.user == name)
            .cloned()
            .collect())
    }

    fn key_of(state: &State, name: &str, id: &str) -> Result<AccessKey, ApiError> {
        state
            .access_keys
            .get(id)
            .filter(|k| k.user == name)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NoSuchEntity,
                    format!("The Access Key with id {id} cannot be found for user {name}."),
                )
            })
    }

    /// UpdateAccessKey: Active or Inactive.
    pub fn update_access_key(&self, name: &str, id: &str, status: &str) -> Result<(), ApiError> {
        let active = match status {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(ApiError::new(
                    ErrorCode::ValidationError,
                    format!("Status {other:?} is not valid: use Active or Inactive"),
                ));
            }
        };
        self.mutate(|state, _| {
            let mut key = Self::key_of(state, name, id)?;
            key.active = active;
            Ok((vec![Change::AccessKey(key)], ()))
        })
    }

    /// DeleteAccessKey.
    pub fn delete_access_key(&self, name: &str, id: &str) -> Result<(), ApiError> {
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
    ) -> Result<(), ApiError> {
        check_name("PolicyName", policy)?;
        if document.chars().count() > MAX_POLICY_CHARS {
            return Err(ApiError::new(
                ErrorCode::LimitExceeded,
                format!("Maximum policy size of {MAX_POLICY_CHARS} bytes exceeded for user {name}"),
            ));
        }
        check(document).map_err(|why| ApiError::new(ErrorCode::MalformedPolicyDocument, why))?;
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
    pub fn get_user_policy(&self, name: &str, policy: &str) -> Result<UserPolicy, ApiError> {
        policy_of(&self.read(), name, policy).cloned()
    }

    /// ListUserPolicies: the names of a user's inline policies.
    pub fn list_user_policies(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let state = self.read();
        user(&state, name)?;
        Ok(state
            .user_policies
            .keys()
            .filter(|(u, _)| u == name)
            .map(|(_, p)| p.clone())
            .collect())
    }

    /// The documents of a user's inline policies.
    pub fn policies_of(&self, name: &str) -> Vec<String> {
        self.read()
            .user_policies
            .values()
            .filter(|p| p.user == name)
            .map(|p| p.document.clone())
            .collect()
    }

    /// DeleteUserPolicy.
    pub fn delete_user_policy(&self, name: &str, policy: &str) -> Result<(), ApiError> {
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
