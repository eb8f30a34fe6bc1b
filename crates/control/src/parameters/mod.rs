//! SSM Parameter Store: parameters (String, StringList, SecureString), each with its versions,
//! from 1 up, and its tags. The records hold every kept version's value and live in the
//! store's `Parameters` table, which `Sealed` encrypts with the server's key; SecureString
//! values are answered only to a caller who asks for decryption, others read an opaque stand-in
//! for the ciphertext, as AWS answers a KMS blob.
//!
//! - this module: the record, the name rules, ARNs and finding a parameter by name, ARN or
//!   `name:version` selector (or by a tag call's ResourceId);
//! - `write`: PutParameter, DeleteParameter(s) and the tag calls;
//! - `read`: GetParameter(s), GetParametersByPath, GetParameterHistory, DescribeParameters.

mod read;
mod write;

use crate::State;
use crate::error::ParameterError;
use base64::Engine;
use berth_types::arn::Partition;
use berth_types::ssm::{ParameterTier, ParameterType, ResourceTypeForTagging, Tag};
use serde::{Deserialize, Serialize};

/// The most versions kept: Parameter Store drops the oldest beyond 100.
const MAX_VERSIONS: usize = 100;
/// The most levels of a hierarchical name.
const MAX_LEVELS: usize = 15;
/// The longest value of a Standard parameter; Advanced ones take 8 KB.
const STANDARD_VALUE: usize = 4096;
/// The longest value of an Advanced parameter.
const ADVANCED_VALUE: usize = 8192;

/// A parameter and the versions kept of it, oldest first: the last is the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredParameter {
    /// The name, as created (`/a/b` or `name`).
    pub name: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The versions kept, oldest first; never empty.
    pub versions: Vec<ParameterVersion>,
}

/// One version of a parameter: its value and what was said with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterVersion {
    /// From 1 up.
    pub version: i64,
    /// String, StringList or SecureString.
    pub kind: ParameterType,
    /// The value, in clear (the store seals the whole record).
    pub value: String,
    /// What a read without decryption answers for a SecureString: random bytes shaped like a
    /// KMS ciphertext, so the value never leaves unless asked for.
    #[serde(default)]
    pub sealed: String,
    /// The description given with this version.
    #[serde(default)]
    pub description: Option<String>,
    /// `text` or another data type named at put.
    pub data_type: String,
    /// Standard or Advanced.
    pub tier: ParameterTier,
    /// When it was put (epoch seconds).
    pub modified: f64,
    /// Who put it (an ARN).
    pub user: String,
}

impl StoredParameter {
    /// The current version.
    pub fn current(&self) -> &ParameterVersion {
        // Never empty: a parameter is created with its first version and versions only go
        // when it is deleted or beyond the 100 kept.
        &self.versions[self.versions.len() - 1]
    }

    /// The version `version`, when still kept.
    fn version(&self, version: i64) -> Option<&ParameterVersion> {
        self.versions.iter().find(|v| v.version == version)
    }
}

impl ParameterVersion {
    /// The value a reader gets: a SecureString's only when it asked for decryption.
    fn value_for(&self, decrypt: bool) -> String {
        if self.kind == ParameterType::SecureString && !decrypt {
            self.sealed.clone()
        } else {
            self.value.clone()
        }
    }
}

/// A random stand-in for a KMS ciphertext of `len` bytes: AWS's blobs start `AQICAH`.
fn sealed_stand_in(len: usize) -> String {
    let mut bytes = vec![1, 2, 2, 0, 0x78];
    while bytes.len() < len + 120 {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `arn:aws:ssm:<region>:<account>:parameter/<name>`, the name's leading `/` not doubled.
pub fn parameter_arn(partition: &Partition, name: &str) -> String {
    format!(
        "arn:aws:ssm:{}:{}:parameter/{}",
        partition.region,
        partition.account,
        name.strip_prefix('/').unwrap_or(name)
    )
}

/// The ARN of the parameter a Name member names (a name or an ARN, with or without a
/// `:version`): what a call on it is authorised on.
pub fn parameter_arn_of(partition: &Partition, name_or_arn: &str) -> String {
    parameter_arn(partition, &selector(name_or_arn).names[0])
}

/// Checks a name against Parameter Store's rules: letters, digits, `_.-`; a hierarchical
/// name begins with `/`, has no empty level and at most 15 levels; no `aws`/`ssm` prefix.
pub(crate) fn check_name(name: &str) -> Result<(), ParameterError> {
    let invalid = || {
        ParameterError::Invalid(format!(
            "Parameter name {name:?} is not valid: it can't be prefixed with \"aws\" or \"ssm\" (case-insensitive); if formed as a path, it must begin with / and consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"
        ))
    };
    if name.is_empty() || name.len() > 2048 {
        return Err(invalid());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-/".contains(c);
    if !name.chars().all(allowed) {
        return Err(invalid());
    }
    let levels: Vec<&str> = match name.strip_prefix('/') {
        Some(path) => path.split('/').collect(),
        None if name.contains('/') => {
            return Err(ParameterError::Invalid(format!(
                "Parameter name {name:?} must be a fully qualified name: a name with / begins with /"
            )));
        }
        None => vec![name],
    };
    if levels.iter().any(|l| l.is_empty()) {
        return Err(invalid());
    }
    let first = levels[0].to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(invalid());
    }
    if levels.len() > MAX_LEVELS {
        return Err(ParameterError::HierarchyTooDeep(name.to_string()));
    }
    Ok(())
}

/// What a Name member asks for: a parameter, and a version of it or the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    /// The candidate names, in the order they are tried (an ARN of a one-level name may
    /// stand for `name` or `/name`).
    pub names: Vec<String>,
    /// The version after `:`, if any.
    pub version: Option<String>,
}

/// Reads a Name member: a name or a parameter ARN, optionally with `:version`.
pub(crate) fn selector(name_or_arn: &str) -> Selector {
    let (path, from_arn) = match name_or_arn.split_once(":parameter/") {
        Some((prefix, path)) if prefix.starts_with("arn:") => (path, true),
        _ => (name_or_arn, false),
    };
    // Names hold no `:`, so one splits off the selector.
    let (path, version) = match path.rsplit_once(':') {
        Some((path, version)) => (path, Some(version.to_string())),
        None => (path, None),
    };
    let names = match (from_arn, path.contains('/')) {
        (false, _) => vec![path.to_string()],
        (true, true) => vec![format!("/{path}")],
        (true, false) => vec![path.to_string(), format!("/{path}")],
    };
    Selector { names, version }
}

/// The parameter a Name member names and the version it selects; an ARN of another region
/// or account names none here.
pub(crate) fn find<'s>(
    state: &'s State,
    partition: &Partition,
    name_or_arn: &str,
) -> Result<(&'s StoredParameter, &'s ParameterVersion), ParameterError> {
    let not_found = || ParameterError::NotFound(name_or_arn.to_string());
    if name_or_arn.starts_with("arn:") && !name_or_arn.starts_with(&parameter_arn(partition, "")) {
        return Err(not_found());
    }
    let selector = selector(name_or_arn);
    let parameter = selector
        .names
        .iter()
        .find_map(|n| state.parameters.get(n))
        .ok_or_else(not_found)?;
    let version = match &selector.version {
        None => parameter.current(),
        Some(v) => v
            .parse()
            .ok()
            .and_then(|v| parameter.version(v))
            .ok_or_else(|| ParameterError::VersionNotFound {
                name: parameter.name.clone(),
                version: v.clone(),
            })?,
    };
    Ok((parameter, version))
}

/// The parameter a tag call names (ResourceType Parameter, ResourceId its name or ARN).
pub(crate) fn tagged<'s>(
    state: &'s State,
    partition: &Partition,
    kind: ResourceTypeForTagging,
    id: &str,
) -> Result<&'s StoredParameter, ParameterError> {
    if kind != ResourceTypeForTagging::Parameter {
        return Err(ParameterError::InvalidResourceType(kind.to_string()));
    }
    find(state, partition, id)
        .map(|(parameter, _)| parameter)
        .map_err(|_| ParameterError::InvalidResourceId(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_parameter_store_rules() {
        for good in ["db-url", "/app/prod/db.url", "/a", "A_b.c-d"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in ["a/b", "/a//b", "/a/", "aws-x", "/SSM/x", "a b", "a:b", ""] {
            assert!(
                matches!(check_name(bad), Err(ParameterError::Invalid(_))),
                "{bad}"
            );
        }
        let deep = "/l".repeat(16);
        assert_eq!(
            check_name(&deep),
            Err(ParameterError::HierarchyTooDeep(deep.clone()))
        );
        assert_eq!(check_name(&"/l".repeat(15)), Ok(()));
    }

    #[test]
    fn arns_do_not_double_the_leading_slash() {
        let p = Partition {
            region: "eu-west-1".into(),
            account: "123456789012".into(),
        };
        assert_eq!(
            parameter_arn(&p, "/a/b"),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b"
        );
        assert_eq!(
            parameter_arn(&p, "name"),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/name"
        );
    }

    #[test]
    fn selectors_read_names_arns_and_versions() {
        let s = selector("/a/b:3");
        assert_eq!(
            (s.names, s.version),
            (vec!["/a/b".into()], Some("3".into()))
        );
        let s = selector("arn:aws:ssm:r:1:parameter/a/b");
        assert_eq!((s.names, s.version), (vec!["/a/b".into()], None));
        let s = selector("arn:aws:ssm:r:1:parameter/x:2");
        assert_eq!(s.names, ["x", "/x"]);
        assert_eq!(s.version.as_deref(), Some("2"));
    }

    #[test]
    fn the_stand_in_does_not_hold_the_value() {
        let a = sealed_stand_in(5);
        assert!(a.starts_with("AQICAH"), "{a}");
        assert_ne!(a, sealed_stand_in(5), "random each time");
    }
}
