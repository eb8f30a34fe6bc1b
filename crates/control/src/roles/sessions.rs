//! Sessions of assumed roles: STS AssumeRole for a caller, sessions minted for a task's role
//! without a caller ([`ControlPlane::issue_role_session`]), their revocation, and the lookup
//! that authenticates requests signed with their temporary credentials. Sessions are stored
//! (sealed: their table holds secrets) so they outlive a restart until they expire; expired
//! ones are forgotten whenever a new one is minted.

use super::ops::role;
use super::records::{RoleChange, RoleSession};
use super::trust::{self, Assumer, Trust};
use crate::error::{ControlError, IdentityError};
use crate::identity::{SECRET_CHARS, UPPER_DIGITS, random};
use crate::policy::{Ask, Decision};
use crate::{Change, ControlPlane, Ctx, State};
use std::collections::BTreeMap;
use std::time::Duration;

/// The session AssumeRole grants unless DurationSeconds says otherwise, in seconds.
pub(crate) const DEFAULT_SESSION_SECONDS: i32 = 3600;
/// The shortest session STS grants, in seconds.
pub(crate) const MIN_SESSION_SECONDS: i32 = 900;
/// The longest session STS grants, in seconds (a role's MaxSessionDuration may be shorter).
pub(crate) const MAX_SESSION_SECONDS: i32 = 43200;

/// What AssumeRole asks for, and what the API layer knows of the caller.
#[derive(Debug, Clone)]
pub struct AssumeRole<'a> {
    /// The caller's ARN (a user's, or an assumed-role session's).
    pub caller: &'a str,
    /// Every ARN the caller goes by in a trust policy ([`Assumer::Aws`]).
    pub assumer: Assumer,
    /// `aws:PrincipalArn`: the user's ARN, or a session's role's ARN.
    pub principal_arn: &'a str,
    /// What the caller's identity policies say of `sts:AssumeRole` on the role.
    pub identity: Decision,
    /// RoleArn.
    pub role_arn: &'a str,
    /// RoleSessionName.
    pub session_name: &'a str,
    /// DurationSeconds.
    pub duration: Option<i32>,
    /// ExternalId.
    pub external_id: Option<&'a str>,
    /// The session tags.
    pub tags: Vec<(String, String)>,
}

fn invalid(message: String) -> ControlError {
    IdentityError::InvalidValue(message).into()
}

/// Checks a RoleSessionName: 2–64 characters of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), ControlError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        return Ok(());
    }
    Err(invalid(format!(
        "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*"
    )))
}

/// The condition keys of an AssumeRole request.
fn ask(role_arn: &str, keys: &[(&str, Option<&str>)]) -> Ask {
    let keys: BTreeMap<String, String> = keys
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .collect();
    Ask {
        action: "sts:AssumeRole".into(),
        resource: role_arn.to_string(),
        keys,
        ..Ask::default()
    }
}

/// A new session of the role `name` for `seconds`, and the changes that store it and forget
/// the sessions that expired.
fn mint(
    state: &State,
    ctx: &Ctx,
    name: &str,
    session: &str,
    seconds: i32,
    source: &str,
    tags: Vec<(String, String)>,
) -> Result<(Vec<Change>, RoleSession), ControlError> {
    let role = role(state, name)?;
    let session = RoleSession {
        id: format!("ASIA{}", random(16, UPPER_DIGITS)),
        secret: random(40, SECRET_CHARS),
        token: format!("BerthSession/{}", random(160, SECRET_CHARS)),
        role: role.name.clone(),
        role_id: role.id.clone(),
        role_arn: role.arn.clone(),
        name: session.to_string(),
        created: ctx.now,
        expires: ctx.now + f64::from(seconds),
        source: source.to_string(),
        tags,
    };
    let mut changes: Vec<Change> = state
        .roles
        .sessions
        .values()
        .filter(|s| s.expires <= ctx.now)
        .map(|s| Change::Roles(RoleChange::RemoveSession(s.id.clone())))
        .collect();
    changes.push(Change::Roles(RoleChange::Session(session.clone())));
    Ok((changes, session))
}

/// The role an ARN names (by its last path segment), if it is that role's ARN.
fn role_named_by<'s>(state: &'s State, arn: &str) -> Option<&'s str> {
    let name = arn.rsplit('/').next()?;
    let role = state.roles.roles.get(name)?;
    (role.arn == arn).then_some(role.name.as_str())
}

impl ControlPlane {
    /// STS AssumeRole: allowed when the role's trust policy names the caller (its ARN, or its
    /// account while its identity policies allow `sts:AssumeRole` on the role too) and nothing
    /// denies it. The session lasts `duration` seconds (900 up to the role's
    /// MaxSessionDuration; 3600 by default).
    pub fn assume_role(&self, call: AssumeRole<'_>) -> Result<RoleSession, ControlError> {
        check_session_name(call.session_name)?;
        let seconds = call.duration.unwrap_or(DEFAULT_SESSION_SECONDS);
        if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&seconds) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}"
            )));
        }
        let denied = || {
            ControlError::from(IdentityError::AssumeDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                call.caller, call.role_arn
            )))
        };
        self.mutate(|state, ctx| {
            let name = role_named_by(state, call.role_arn).ok_or_else(denied)?;
            let role = role(state, name)?;
            let account = &ctx.partition.account;
            let ask = ask(
                call.role_arn,
                &[
                    ("aws:principalarn", Some(call.principal_arn)),
                    ("aws:principalaccount", Some(account)),
                    ("sts:externalid", call.external_id),
                    ("sts:rolesessionname", Some(call.session_name)),
                ],
            );
            let trusted = match trust::evaluate(&role.trust, &call.assumer, &ask) {
                Trust::Directly => call.identity != Decision::ExplicitDeny,
                Trust::ByAccount => call.identity == Decision::Allow,
                Trust::Denied | Trust::NotNamed => false,
            };
            if !trusted {
                return Err(denied());
            }
            if seconds > role.max_session {
                return Err(invalid(format!(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({} seconds).",
                    role.max_session
                )));
            }
            let tags = call.tags.clone();
            mint(state, ctx, name, call.session_name, seconds, call.caller, tags)
        })
    }

    /// Mints a session of the role `role_arn` for a task, without a caller: the role must
    /// exist and its trust policy must allow the service principal `ecs-tasks.amazonaws.com`
    /// (with `aws:SourceAccount` this account). `duration` is 15 minutes to 12 hours; the
    /// role's MaxSessionDuration does not apply, as for ECS's task credentials.
    pub fn issue_role_session(
        &self,
        role_arn: &str,
        session_name: &str,
        duration: Duration,
    ) -> Result<RoleSession, ControlError> {
        check_session_name(session_name)?;
        let seconds = i32::try_from(duration.as_secs()).unwrap_or(i32::MAX);
        if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&seconds) {
            return Err(invalid(format!(
                "a task's session lasts {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS} seconds, not {seconds}"
            )));
        }
        self.mutate(|state, ctx| {
            let untrusted = || {
                ControlError::from(IdentityError::AssumeDenied(format!(
                    "ECS was unable to assume the role '{role_arn}' that was provided for this task: the role does not exist or its trust policy does not allow {} to assume it",
                    trust::ECS_TASKS
                )))
            };
            // A task definition may name its roles by ARN or by bare name.
            let name = role_named_by(state, role_arn)
                .or_else(|| state.roles.roles.get(role_arn).map(|r| r.name.as_str()))
                .ok_or_else(untrusted)?;
            let ask = ask(
                role_arn,
                &[("aws:sourceaccount", Some(&ctx.partition.account))],
            );
            let assumer = Assumer::Service(trust::ECS_TASKS.to_string());
            if trust::evaluate(&role(state, name)?.trust, &assumer, &ask) != Trust::Directly {
                return Err(untrusted());
            }
            mint(state, ctx, name, session_name, seconds, trust::ECS_TASKS, vec![])
        })
    }

    /// Ends at once every session [`Self::issue_role_session`] minted under `session_name`
    /// (a stopped task's): their credentials sign nothing from now on. How many ended.
    pub fn revoke_role_sessions(&self, session_name: &str) -> Result<usize, ControlError> {
        self.mutate(|state, _| {
            let gone: Vec<Change> = state
                .roles
                .sessions
                .values()
                .filter(|s| s.name == session_name && s.source == trust::ECS_TASKS)
                .map(|s| Change::Roles(RoleChange::RemoveSession(s.id.clone())))
                .collect();
            let count = gone.len();
            Ok((gone, count))
        })
    }

    /// The session of a temporary access key id (`ASIA…`), expired or not (the caller tells an
    /// expired token apart), while its role still exists: a role deleted, or deleted and
    /// created again, ends its sessions.
    pub fn role_session(&self, id: &str) -> Option<RoleSession> {
        let state = self.read();
        let session = state.roles.sessions.get(id)?;
        let role = state.roles.roles.get(&session.role)?;
        (role.id == session.role_id).then(|| session.clone())
    }
}
