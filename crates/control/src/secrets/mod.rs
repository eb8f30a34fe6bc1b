//! Secrets Manager: secrets, each with its versions (a SecretString or a SecretBinary) and the
//! staging labels on them (AWSCURRENT, AWSPREVIOUS, others a caller names), its tags, and the
//! recovery window of a deleted one. The records hold every version's value and live in the
//! store's `Secrets` table, which `Sealed` encrypts with the server's key.
//!
//! A secret whose recovery window is over is gone: every lookup skips it, and a new secret of
//! its name replaces its record (no sweeper is needed for it to vanish on time).
//!
//! - this module: the record, names, ARNs and finding a secret by name, ARN or partial ARN;
//! - `write`: CreateSecret, PutSecretValue, UpdateSecret, DeleteSecret, RestoreSecret, tags;
//! - `read`: GetSecretValue, DescribeSecret, ListSecrets.

mod read;
mod write;

use crate::error::SecretError;
use crate::{ControlPlane, State};
use berth_types::arn::Partition;
use berth_types::secretsmanager::Tag;
use serde::{Deserialize, Serialize};

/// The label of the current version.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The label of the version the current one replaced.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";

/// A secret and its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSecret {
    /// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>`.
    pub arn: String,
    /// The name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The KMS key named at create or update, said back as given.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When it was created (epoch seconds).
    pub created: f64,
    /// When it last changed.
    pub changed: f64,
    /// When DeleteSecret scheduled it for deletion, if it did.
    #[serde(default)]
    pub deleted: Option<f64>,
    /// When its recovery window ends: from then on it is gone.
    #[serde(default)]
    pub deletion_date: Option<f64>,
    /// Its versions, oldest first.
    #[serde(default)]
    pub versions: Vec<SecretVersion>,
}

/// One version of a secret's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretVersion {
    /// The ClientRequestToken it was made with, or a UUID.
    pub id: String,
    /// The SecretString, if it is one.
    #[serde(default)]
    pub string: Option<String>,
    /// The SecretBinary (base64, as on the wire), if it is one.
    #[serde(default)]
    pub binary: Option<String>,
    /// When it was made.
    pub created: f64,
    /// The staging labels on it; none once it is outdated.
    #[serde(default)]
    pub stages: Vec<String>,
}

impl StoredSecret {
    /// Whether DeleteSecret has scheduled it for deletion.
    pub fn is_scheduled_for_deletion(&self) -> bool {
        self.deleted.is_some()
    }

    /// Whether its recovery window is over at `now`: then it no longer exists.
    fn is_gone(&self, now: f64) -> bool {
        self.deletion_date.is_some_and(|date| date <= now)
    }

    /// The version a read selects: by id, by label, or both (which must agree); the
    /// AWSCURRENT one when neither is given.
    pub fn version(
        &self,
        id: Option<&str>,
        stage: Option<&str>,
    ) -> Result<&SecretVersion, SecretError> {
        let stage = stage.or(id.is_none().then_some(AWSCURRENT));
        let found = self.versions.iter().find(|v| {
            id.is_none_or(|id| v.id == id) && stage.is_none_or(|s| v.stages.iter().any(|l| l == s))
        });
        found.ok_or_else(|| {
            SecretError::VersionNotFound(match (id, stage) {
                (Some(id), Some(stage)) => format!("VersionId: {id} and staging label: {stage}"),
                (Some(id), None) => format!("VersionId: {id}"),
                (None, stage) => format!("staging label: {}", stage.unwrap_or(AWSCURRENT)),
            })
        })
    }

    /// Version ids and their labels, for DescribeSecret and ListSecrets (outdated versions,
    /// without labels, are left out as AWS does).
    fn stages(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .map(|v| (v.id.clone(), v.stages.clone()))
            .collect()
    }
}

/// A new secret ARN: the name and six random letters and digits, as AWS makes them.
fn new_arn(partition: &Partition, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = uuid::Uuid::new_v4().as_bytes()[..6]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!(
        "arn:aws:secretsmanager:{}:{}:secret:{name}-{suffix}",
        partition.region, partition.account
    )
}

/// Checks a secret name: 1 to 512 of letters, digits and `/_+=.@-!`.
fn check_name(name: &str) -> Result<(), SecretError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-!".contains(c);
    if name.is_empty() || name.len() > 512 || !name.chars().all(allowed) {
        return Err(SecretError::InvalidParameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!".into(),
        ));
    }
    Ok(())
}

/// Whether `arn` is the ARN of `secret`, in full or without its random suffix.
fn is_arn_of(secret: &StoredSecret, arn: &str) -> bool {
    secret.arn == arn
        || secret
            .arn
            .strip_prefix(arn)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|suffix| suffix.len() == 6)
}

/// The secret a SecretId names (its name, ARN or partial ARN), unless its recovery window is
/// over; scheduled for deletion or not.
pub(crate) fn find<'s>(
    state: &'s State,
    secret_id: &str,
    now: f64,
) -> Result<&'s StoredSecret, SecretError> {
    let found = match state.secrets.get(secret_id) {
        Some(secret) => Some(secret),
        None if secret_id.starts_with("arn:") => {
            state.secrets.values().find(|s| is_arn_of(s, secret_id))
        }
        None => None,
    };
    found
        .filter(|s| !s.is_gone(now))
        .ok_or(SecretError::NotFound)
}

/// The secret a SecretId names, refused when it is scheduled for deletion: what reads of its
/// value and changes to it need.
pub(crate) fn find_live<'s>(
    state: &'s State,
    secret_id: &str,
    now: f64,
) -> Result<&'s StoredSecret, SecretError> {
    let secret = find(state, secret_id, now)?;
    if secret.is_scheduled_for_deletion() {
        return Err(SecretError::MarkedForDeletion);
    }
    Ok(secret)
}

impl ControlPlane {
    /// The ARN a call naming `secret_id` is authorised on: the secret's own when it exists,
    /// else the ARN as given, else the name's ARN without the random suffix (what CreateSecret
    /// is authorised on, as the suffix is not drawn yet).
    pub fn secret_resource(&self, secret_id: &str) -> String {
        if let Ok(secret) = find(&self.read(), secret_id, self.now()) {
            return secret.arn.clone();
        }
        if secret_id.starts_with("arn:") {
            return secret_id.to_string();
        }
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{secret_id}",
            self.partition.region, self.partition.account
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> StoredSecret {
        let version = |id: &str, stages: &[&str]| SecretVersion {
            id: id.into(),
            string: Some(id.into()),
            binary: None,
            created: 1.0,
            stages: stages.iter().map(|s| s.to_string()).collect(),
        };
        StoredSecret {
            arn: "arn:aws:secretsmanager:r:1:secret:db-AbC123".into(),
            name: "db".into(),
            description: None,
            kms_key_id: None,
            tags: vec![],
            created: 1.0,
            changed: 1.0,
            deleted: None,
            deletion_date: None,
            versions: vec![
                version("v0", &[]),
                version("v1", &[AWSPREVIOUS]),
                version("v2", &[AWSCURRENT, "blue"]),
            ],
        }
    }

    #[test]
    fn versions_are_selected_by_id_stage_or_both() {
        let s = secret();
        assert_eq!(s.version(None, None).unwrap().id, "v2");
        assert_eq!(s.version(None, Some(AWSPREVIOUS)).unwrap().id, "v1");
        assert_eq!(s.version(Some("v0"), None).unwrap().id, "v0");
        assert_eq!(s.version(Some("v2"), Some("blue")).unwrap().id, "v2");
        assert_eq!(
            s.version(Some("v1"), Some(AWSCURRENT)),
            Err(SecretError::VersionNotFound(
                "VersionId: v1 and staging label: AWSCURRENT".into()
            ))
        );
        assert!(s.version(None, Some("green")).is_err());
        assert_eq!(s.stages().len(), 2, "outdated versions are left out");
    }

    #[test]
    fn arns_match_in_full_or_without_their_suffix() {
        let s = secret();
        assert!(is_arn_of(&s, "arn:aws:secretsmanager:r:1:secret:db-AbC123"));
        assert!(is_arn_of(&s, "arn:aws:secretsmanager:r:1:secret:db"));
        assert!(!is_arn_of(&s, "arn:aws:secretsmanager:r:1:secret:d"));
        let arn = new_arn(
            &Partition {
                region: "r".into(),
                account: "1".into(),
            },
            "a/b",
        );
        let suffix = arn
            .strip_prefix("arn:aws:secretsmanager:r:1:secret:a/b-")
            .unwrap();
        assert_eq!(suffix.len(), 6);
        assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("prod/db_password+1=@.-!").is_ok());
        assert!(check_name("a b").is_err());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(513)).is_err());
    }
}
