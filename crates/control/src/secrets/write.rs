//! CreateSecret, PutSecretValue, UpdateSecret, DeleteSecret, RestoreSecret, TagResource and
//! UntagResource.

use super::{
    AWSCURRENT, AWSPREVIOUS, SecretVersion, StoredSecret, check_name, find, find_live, new_arn,
};
use crate::error::{ControlError, SecretError};
use crate::{Change, ControlPlane, Ctx, State};
use berth_types::secretsmanager::{
    CreateSecretRequest, CreateSecretResponse, DeleteSecretRequest, DeleteSecretResponse,
    PutSecretValueRequest, PutSecretValueResponse, RestoreSecretRequest, RestoreSecretResponse,
    Tag, TagResourceRequest, UntagResourceRequest, UpdateSecretRequest, UpdateSecretResponse,
};

/// The most versions a secret keeps: outdated ones (without labels) go beyond it.
const MAX_VERSIONS: usize = 100;
/// The recovery window when DeleteSecret names none, and its bounds, in days.
const DEFAULT_WINDOW: i64 = 30;
const WINDOWS: std::ops::RangeInclusive<i64> = 7..=30;
/// The most tags a secret may carry.
const MAX_TAGS: usize = 50;
const DAY: f64 = 86_400.0;

/// A version's value: its SecretString and its SecretBinary, one of them given.
type Value = (Option<String>, Option<String>);

/// A secret value as given: a string or a binary, never both.
fn value(string: &Option<String>, binary: &Option<String>) -> Result<Option<Value>, SecretError> {
    match (string, binary) {
        (Some(_), Some(_)) => Err(SecretError::InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the same secret.".into(),
        )),
        (None, None) => Ok(None),
        _ => Ok(Some((string.clone(), binary.clone()))),
    }
}

/// Adds a version to `secret` with `stages` (moving each label from the version that had it;
/// AWSCURRENT's old holder becomes AWSPREVIOUS), or finds the same version already made with
/// this token. Returns the version's id and labels, and whether anything changed.
fn add_version(
    secret: &mut StoredSecret,
    token: Option<&str>,
    (string, binary): Value,
    stages: Vec<String>,
    now: f64,
) -> Result<(String, Vec<String>, bool), SecretError> {
    let id = token.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    if let Some(existing) = secret.versions.iter().find(|v| v.id == id) {
        // A retry of the same call is answered as the first was; another value is refused.
        if existing.string == string && existing.binary == binary {
            return Ok((id, existing.stages.clone(), false));
        }
        return Err(SecretError::VersionExists);
    }
    let moves_current = stages.iter().any(|s| s == AWSCURRENT);
    for version in &mut secret.versions {
        let was_current = version.stages.iter().any(|s| s == AWSCURRENT);
        version
            .stages
            .retain(|s| !(stages.contains(s) || moves_current && s == AWSPREVIOUS));
        if moves_current && was_current {
            version.stages.push(AWSPREVIOUS.into());
        }
    }
    secret.versions.push(SecretVersion {
        id: id.clone(),
        string,
        binary,
        created: now,
        stages: stages.clone(),
    });
    while secret.versions.len() > MAX_VERSIONS {
        match secret.versions.iter().position(|v| v.stages.is_empty()) {
            Some(outdated) => secret.versions.remove(outdated),
            None => break,
        };
    }
    secret.changed = now;
    Ok((id, stages, true))
}

/// Adds `new` to `tags`, a new value replacing an old one of the same key.
fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), SecretError> {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(old) => old.value = tag.value,
            None => tags.push(tag),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(SecretError::InvalidParameter(format!(
            "a secret can have at most {MAX_TAGS} tags"
        )));
    }
    Ok(())
}

/// A changed copy of the live secret `secret_id` names, stored when `change` succeeds.
fn changed<R>(
    state: &State,
    ctx: &Ctx,
    secret_id: &str,
    change: impl FnOnce(&mut StoredSecret) -> Result<R, SecretError>,
) -> Result<(Vec<Change>, R), ControlError> {
    let mut secret = find_live(state, secret_id, ctx.now)?.clone();
    let answer = change(&mut secret)?;
    Ok((vec![Change::Secret(secret)], answer))
}

impl ControlPlane {
    /// CreateSecret: a new secret, with a first version labelled AWSCURRENT when a value is
    /// given.
    pub fn create_secret(
        &self,
        input: CreateSecretRequest,
    ) -> Result<CreateSecretResponse, ControlError> {
        check_name(&input.name)?;
        let given = value(&input.secret_string, &input.secret_binary)?;
        if input.add_replica_regions.is_some() {
            return Err(SecretError::InvalidParameter(
                "AddReplicaRegions is not supported by Berth: a server is one region".into(),
            )
            .into());
        }
        self.mutate(|state, ctx| {
            match state.secrets.get(&input.name) {
                Some(old) if old.is_gone(ctx.now) => {}
                Some(old) if old.is_scheduled_for_deletion() => {
                    return Err(SecretError::NameScheduledForDeletion.into());
                }
                Some(_) => return Err(SecretError::Exists(input.name.clone()).into()),
                None => {}
            }
            let mut secret = StoredSecret {
                arn: new_arn(&self.partition, &input.name),
                name: input.name.clone(),
                description: input.description.clone(),
                kms_key_id: input.kms_key_id.clone(),
                tags: vec![],
                created: ctx.now,
                changed: ctx.now,
                deleted: None,
                deletion_date: None,
                versions: vec![],
            };
            merge_tags(&mut secret.tags, input.tags.clone().unwrap_or_default())?;
            let version_id = match given {
                Some(value) => {
                    let token = input.client_request_token.as_deref();
                    let stages = vec![AWSCURRENT.to_string()];
                    Some(add_version(&mut secret, token, value, stages, ctx.now)?.0)
                }
                None => None,
            };
            let answer = CreateSecretResponse {
                arn: Some(secret.arn.clone()),
                name: Some(secret.name.clone()),
                version_id,
                ..CreateSecretResponse::default()
            };
            Ok((vec![Change::Secret(secret)], answer))
        })
    }

    /// PutSecretValue: a new version, AWSCURRENT unless other labels are named.
    pub fn put_secret_value(
        &self,
        input: PutSecretValueRequest,
    ) -> Result<PutSecretValueResponse, ControlError> {
        let given = value(&input.secret_string, &input.secret_binary)?.ok_or_else(|| {
            SecretError::InvalidParameter(
                "You must provide either SecretString or SecretBinary.".into(),
            )
        })?;
        let stages = input
            .version_stages
            .clone()
            .unwrap_or_else(|| vec![AWSCURRENT.into()]);
        self.mutate(|state, ctx| {
            let mut secret = find_live(state, &input.secret_id, ctx.now)?.clone();
            let token = input.client_request_token.as_deref();
            let (id, stages, new) = add_version(&mut secret, token, given, stages, ctx.now)?;
            let answer = PutSecretValueResponse {
                arn: Some(secret.arn.clone()),
                name: Some(secret.name.clone()),
                version_id: Some(id),
                version_stages: Some(stages),
            };
            let changes = if new {
                vec![Change::Secret(secret)]
            } else {
                vec![]
            };
            Ok((changes, answer))
        })
    }

    /// UpdateSecret: the description or KMS key, and with a value a new AWSCURRENT version.
    pub fn update_secret(
        &self,
        input: UpdateSecretRequest,
    ) -> Result<UpdateSecretResponse, ControlError> {
        let given = value(&input.secret_string, &input.secret_binary)?;
        self.mutate(|state, ctx| {
            changed(state, ctx, &input.secret_id, |secret| {
                if let Some(description) = &input.description {
                    secret.description = Some(description.clone());
                }
                if let Some(key) = &input.kms_key_id {
                    secret.kms_key_id = Some(key.clone());
                }
                secret.changed = ctx.now;
                let version_id = match given {
                    Some(value) => {
                        let token = input.client_request_token.as_deref();
                        let stages = vec![AWSCURRENT.to_string()];
                        Some(add_version(secret, token, value, stages, ctx.now)?.0)
                    }
                    None => None,
                };
                Ok(UpdateSecretResponse {
                    arn: Some(secret.arn.clone()),
                    name: Some(secret.name.clone()),
                    version_id,
                })
            })
        })
    }

    /// DeleteSecret: scheduled for deletion after a recovery window of 7 to 30 days (30
    /// unless given), or at once with ForceDeleteWithoutRecovery.
    pub fn delete_secret(
        &self,
        input: DeleteSecretRequest,
    ) -> Result<DeleteSecretResponse, ControlError> {
        let force = input.force_delete_without_recovery.unwrap_or(false);
        if force && input.recovery_window_in_days.is_some() {
            return Err(SecretError::InvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.".into(),
            )
            .into());
        }
        let window = input.recovery_window_in_days.unwrap_or(DEFAULT_WINDOW);
        if !WINDOWS.contains(&window) {
            return Err(SecretError::InvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into(),
            )
            .into());
        }
        self.mutate(|state, ctx| {
            let secret = find(state, &input.secret_id, ctx.now)?;
            let mut answer = DeleteSecretResponse {
                arn: Some(secret.arn.clone()),
                name: Some(secret.name.clone()),
                deletion_date: Some(ctx.now),
            };
            if force {
                return Ok((vec![Change::RemoveSecret(secret.name.clone())], answer));
            }
            if secret.is_scheduled_for_deletion() {
                return Err(SecretError::InvalidRequest(format!(
                    "You can't delete secret {} that is already scheduled for deletion: restore it with RestoreSecret, or delete it with ForceDeleteWithoutRecovery",
                    secret.name
                ))
                .into());
            }
            let mut secret = secret.clone();
            let deletion_date = ctx.now + window as f64 * DAY;
            secret.deleted = Some(ctx.now);
            secret.deletion_date = Some(deletion_date);
            answer.deletion_date = Some(deletion_date);
            Ok((vec![Change::Secret(secret)], answer))
        })
    }

    /// RestoreSecret: a secret scheduled for deletion is kept after all.
    pub fn restore_secret(
        &self,
        input: RestoreSecretRequest,
    ) -> Result<RestoreSecretResponse, ControlError> {
        self.mutate(|state, ctx| {
            let mut secret = find(state, &input.secret_id, ctx.now)?.clone();
            let answer = RestoreSecretResponse {
                arn: Some(secret.arn.clone()),
                name: Some(secret.name.clone()),
            };
            if !secret.is_scheduled_for_deletion() {
                return Ok((vec![], answer));
            }
            secret.deleted = None;
            secret.deletion_date = None;
            Ok((vec![Change::Secret(secret)], answer))
        })
    }

    /// TagResource on a secret: new keys added, existing ones given the new value.
    pub fn tag_secret(&self, input: TagResourceRequest) -> Result<(), ControlError> {
        self.mutate(|state, ctx| {
            changed(state, ctx, &input.secret_id, |secret| {
                merge_tags(&mut secret.tags, input.tags.clone())
            })
        })
    }

    /// UntagResource on a secret: keys it does not carry are ignored.
    pub fn untag_secret(&self, input: UntagResourceRequest) -> Result<(), ControlError> {
        self.mutate(|state, ctx| {
            changed(state, ctx, &input.secret_id, |secret| {
                secret
                    .tags
                    .retain(|t| !t.key.as_ref().is_some_and(|k| input.tag_keys.contains(k)));
                Ok(())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_current_version_makes_the_old_one_previous() {
        let mut secret = StoredSecret {
            arn: "arn".into(),
            name: "s".into(),
            description: None,
            kms_key_id: None,
            tags: vec![],
            created: 0.0,
            changed: 0.0,
            deleted: None,
            deletion_date: None,
            versions: vec![],
        };
        let current = || vec![AWSCURRENT.to_string()];
        let v = |s: &str| (Some(s.to_string()), None);
        add_version(&mut secret, Some("t1"), v("one"), current(), 1.0).unwrap();
        add_version(&mut secret, Some("t2"), v("two"), current(), 2.0).unwrap();
        add_version(&mut secret, Some("t3"), v("three"), current(), 3.0).unwrap();
        let stages: Vec<_> = secret.versions.iter().map(|v| v.stages.clone()).collect();
        assert_eq!(
            stages,
            [
                vec![],
                vec![AWSPREVIOUS.to_string()],
                vec![AWSCURRENT.to_string()]
            ]
        );
        // The same token and value again: nothing new; another value: refused.
        let again = add_version(&mut secret, Some("t3"), v("three"), current(), 4.0).unwrap();
        assert_eq!(again, ("t3".into(), current(), false));
        assert_eq!(
            add_version(&mut secret, Some("t3"), v("other"), current(), 4.0),
            Err(SecretError::VersionExists)
        );
        // A custom label moves alone.
        add_version(&mut secret, Some("t4"), v("four"), vec!["blue".into()], 5.0).unwrap();
        assert_eq!(secret.version(None, None).unwrap().id, "t3");
        assert_eq!(secret.version(None, Some("blue")).unwrap().id, "t4");
    }
}
