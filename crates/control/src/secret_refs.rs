//! What an ECS container's `secrets[].valueFrom` names, and its value, for the agent to put
//! in the container's environment.
//!
//! `valueFrom` is an SSM parameter's name (`/a/b` or `name`, optionally `:version`) or ARN,
//! or a Secrets Manager secret's ARN (full, or without its random suffix) optionally followed
//! by `:json-key:version-stage:version-id`, each part of which may be empty. [`SecretRef::parse`]
//! reads it and says what reading it asks of the caller's policies (`ssm:GetParameters` on
//! the parameter's ARN, `secretsmanager:GetSecretValue` on the secret's);
//! [`ControlPlane::resolve_secret`] answers its value, SecureStrings decrypted.
//!
//! A [`SecretRefError`] reads as what ECS puts after `ResourceInitializationError: unable to
//! pull secrets or registry auth: ` in a stopped task's reason, so scripts that match ECS's
//! wording match Berth's.

use crate::ControlPlane;
use crate::error::{ParameterError, SecretError};
use crate::parameters::{self, parameter_arn};
use crate::secrets;
use berth_types::arn::Partition;

/// A parsed `valueFrom`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An SSM parameter.
    Parameter {
        /// The name or ARN as given, with its `:version` if any: what GetParameters reads.
        name: String,
        /// The parameter's ARN (without a version), authorised on.
        arn: String,
    },
    /// A Secrets Manager secret, or one key of its JSON.
    Secret {
        /// The secret's ARN, without the json key, stage and version parts.
        arn: String,
        /// The key of the secret's JSON object whose value is wanted; the whole value if None.
        json_key: Option<String>,
        /// The staging label of the version wanted (AWSCURRENT if neither it nor an id is).
        version_stage: Option<String>,
        /// The id of the version wanted.
        version_id: Option<String>,
    },
}

/// Why a `valueFrom` cannot be read. Its text is what ECS writes after
/// `ResourceInitializationError: unable to pull secrets or registry auth: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    /// The `valueFrom` names neither a parameter nor a secret this server holds.
    #[error("execution resource retrieval failed: invalid valueFrom {value_from:?}: {reason}")]
    Invalid {
        /// The `valueFrom` as given.
        value_from: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No such parameter (or version of it).
    #[error(
        "execution resource retrieval failed: unable to retrieve secrets from ssm: invalid ssm parameters: {0}"
    )]
    ParameterNotFound(String),
    /// Secrets Manager refused the read: its exception and message.
    #[error(
        "execution resource retrieval failed: unable to retrieve secret from asm: failed to fetch secret {arn} from secrets manager: {code}: {message}"
    )]
    SecretFetch {
        /// The secret's ARN as given.
        arn: String,
        /// The exception, as GetSecretValue names it.
        code: &'static str,
        /// Its message.
        message: String,
    },
    /// The secret's value is not a JSON object, so a key of it cannot be read.
    #[error(
        "execution resource retrieval failed: unable to retrieve secret from asm: retrieved secret from Secrets Manager is not a JSON object, so json key {0} cannot be read from it"
    )]
    NotJson(String),
    /// The secret's JSON object has no such key.
    #[error(
        "execution resource retrieval failed: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key {0}"
    )]
    JsonKeyMissing(String),
    /// The secret holds a SecretBinary: only strings go into an environment.
    #[error(
        "execution resource retrieval failed: unable to retrieve secret from asm: secret {0} holds a SecretBinary: only a SecretString can be put in a container's environment"
    )]
    Binary(String),
    /// The caller's policies do not allow the read ([`SecretRef::action`] on
    /// [`SecretRef::resource`]).
    #[error(
        "execution resource retrieval failed: unable to retrieve {from}: AccessDeniedException: User: {principal} is not authorized to perform: {action} on resource: {resource}"
    )]
    AccessDenied {
        /// `secrets from ssm` or `secret from asm`, as ECS says it.
        from: &'static str,
        /// The caller's ARN.
        principal: String,
        /// The action refused.
        action: &'static str,
        /// The resource it was refused on.
        resource: String,
    },
}

/// The parts a secret's ARN has: `arn:aws:secretsmanager:<region>:<account>:secret:<name>`.
const SECRET_ARN_PARTS: usize = 7;

impl SecretRef {
    /// Reads a `valueFrom` of a server of `region` and `account`.
    pub fn parse(value_from: &str, region: &str, account: &str) -> Result<Self, SecretRefError> {
        let invalid = |reason: &str| SecretRefError::Invalid {
            value_from: value_from.to_string(),
            reason: reason.to_string(),
        };
        let partition = Partition {
            region: region.to_string(),
            account: account.to_string(),
        };
        if !value_from.starts_with("arn:") {
            let name = parameters::selector(value_from);
            parameters::check_name(&name.names[0]).map_err(|e| invalid(&e.to_string()))?;
            return Ok(SecretRef::Parameter {
                name: value_from.to_string(),
                arn: parameter_arn(&partition, &name.names[0]),
            });
        }
        let parts: Vec<&str> = value_from.split(':').collect();
        if parts.len() < 6 || parts[3] != region || parts[4] != account {
            return Err(invalid(&format!(
                "it is not an ARN of this server's region {region} and account {account}"
            )));
        }
        match parts[2] {
            "ssm" if parts[5].starts_with("parameter/") => {
                let name = parameters::selector(value_from);
                Ok(SecretRef::Parameter {
                    name: value_from.to_string(),
                    arn: parameter_arn(&partition, &name.names[0]),
                })
            }
            "secretsmanager" if parts[5] == "secret" && parts.len() >= SECRET_ARN_PARTS => {
                if parts.len() > SECRET_ARN_PARTS + 3 {
                    return Err(invalid(
                        "a secret's ARN takes at most :json-key:version-stage:version-id after it",
                    ));
                }
                let part = |i: usize| {
                    parts
                        .get(i)
                        .filter(|p| !p.is_empty())
                        .map(|p| p.to_string())
                };
                Ok(SecretRef::Secret {
                    arn: parts[..SECRET_ARN_PARTS].join(":"),
                    json_key: part(SECRET_ARN_PARTS),
                    version_stage: part(SECRET_ARN_PARTS + 1),
                    version_id: part(SECRET_ARN_PARTS + 2),
                })
            }
            _ => Err(invalid(
                "name an SSM parameter (its name or ARN) or a Secrets Manager secret (its ARN)",
            )),
        }
    }

    /// The IAM action reading it is authorised as.
    pub fn action(&self) -> &'static str {
        match self {
            SecretRef::Parameter { .. } => "ssm:GetParameters",
            SecretRef::Secret { .. } => "secretsmanager:GetSecretValue",
        }
    }

    /// The ARN reading it is authorised on.
    pub fn resource(&self) -> &str {
        match self {
            SecretRef::Parameter { arn, .. } | SecretRef::Secret { arn, .. } => arn,
        }
    }

    /// The refusal to give when the caller's policies do not allow reading it.
    pub fn access_denied(&self, principal: &str) -> SecretRefError {
        SecretRefError::AccessDenied {
            from: match self {
                SecretRef::Parameter { .. } => "secrets from ssm",
                SecretRef::Secret { .. } => "secret from asm",
            },
            principal: principal.to_string(),
            action: self.action(),
            resource: self.resource().to_string(),
        }
    }
}

/// A JSON value as it goes into an environment: a string as it is, anything else as JSON.
fn as_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl ControlPlane {
    /// The value a `valueFrom` names (a SecureString decrypted), or why it cannot be read.
    /// Authorisation is the caller's: see [`SecretRef::action`] and [`SecretRef::resource`].
    pub fn resolve_secret(&self, secret: &SecretRef) -> Result<String, SecretRefError> {
        let state = self.read();
        match secret {
            SecretRef::Parameter { name, .. } => parameters::find(&state, &self.partition, name)
                .map(|(_, version)| version.value.clone())
                .map_err(|e| match e {
                    ParameterError::NotFound(_) | ParameterError::VersionNotFound { .. } => {
                        SecretRefError::ParameterNotFound(name.clone())
                    }
                    other => SecretRefError::Invalid {
                        value_from: name.clone(),
                        reason: other.to_string(),
                    },
                }),
            SecretRef::Secret {
                arn,
                json_key,
                version_stage,
                version_id,
            } => {
                let fetch_failed = |e: SecretError| SecretRefError::SecretFetch {
                    arn: arn.clone(),
                    code: match e {
                        SecretError::MarkedForDeletion => "InvalidRequestException",
                        _ => "ResourceNotFoundException",
                    },
                    message: e.to_string(),
                };
                let found = secrets::find_live(&state, arn, self.now()).map_err(fetch_failed)?;
                let version = found
                    .version(version_id.as_deref(), version_stage.as_deref())
                    .map_err(fetch_failed)?;
                let text = version
                    .string
                    .clone()
                    .ok_or_else(|| SecretRefError::Binary(arn.clone()))?;
                let Some(key) = json_key else {
                    return Ok(text);
                };
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&text)
                        .map_err(|_| SecretRefError::NotJson(key.clone()))?;
                object
                    .get(key)
                    .map(as_text)
                    .ok_or_else(|| SecretRefError::JsonKeyMissing(key.clone()))
            }
        }
    }
}
