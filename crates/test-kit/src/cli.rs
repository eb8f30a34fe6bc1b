//! The AWS CLI (`aws`, v1 from PyPI) pointed at Berth: the services the SDK clients of this kit
//! do not cover (IAM, STS, SSM, Secrets Manager), as a user would call them.

use crate::process::Exports;
use std::process::Command;

/// Temporary credentials to call with instead of the root key.
pub struct Session {
    /// `ASIA...`.
    pub access_key: String,
    /// The secret.
    pub secret_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub token: String,
}

impl Session {
    /// The credentials of the ECS credentials endpoint's JSON answer.
    pub fn from_endpoint(body: &serde_json::Value) -> Self {
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_string();
        Self {
            access_key: field("AccessKeyId"),
            secret_key: field("SecretAccessKey"),
            token: field("Token"),
        }
    }
}

/// `aws ARGS --output json` as the root (or `session`): the parsed output, or the error text.
pub fn aws(
    e: &Exports,
    session: Option<&Session>,
    args: &[&str],
) -> Result<serde_json::Value, String> {
    let mut command = Command::new("aws");
    command
        .args(args)
        .args(["--output", "json"])
        .env("AWS_ENDPOINT_URL", &e.endpoint)
        .env("AWS_DEFAULT_REGION", &e.region)
        .env("AWS_ACCESS_KEY_ID", &e.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &e.secret_key)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    if let Some(s) = session {
        command
            .env("AWS_ACCESS_KEY_ID", &s.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s.secret_key)
            .env("AWS_SESSION_TOKEN", &s.token);
    }
    let out = command
        .output()
        .map_err(|e| format!("cannot run aws: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&text).map_err(|err| format!("not JSON ({err}): {text}"))
}

/// [`aws`] as the root, which must succeed.
pub fn aws_ok(e: &Exports, args: &[&str]) -> serde_json::Value {
    aws(e, None, args).unwrap_or_else(|err| panic!("aws {}: {err}", args.join(" ")))
}
