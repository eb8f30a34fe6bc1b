//! The account's root access key and the key that seals secrets at rest: created at first
//! start, kept in the data directory with mode 0600. `berth up` prints the root key so the AWS
//! CLI and SDKs can sign with it.
//!
//! A file that exists but cannot be read or parsed is an error, never a reason to make a new
//! one: a new root key would lock out every script, a new sealing key would make every stored
//! secret unreadable.

use anyhow::Context;
use berth_control::identity::random;
use serde_json::json;
use std::path::Path;

/// The root key pair, and the token agents join with.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The join token good for every cluster. Earlier versions kept it in the credentials
    /// file, and it is read from there once; it lives in the (sealed) state now.
    pub join_token: String,
}

const FILE: &str = "credentials.json";
/// The file of the key that seals the secret tables of `state.redb`.
const SEALING_KEY_FILE: &str = "sealing.key";

/// The contents of `path`, or None when it does not exist; any other failure is an error.
fn read_existing(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot read {}: fix its permissions (Berth never replaces an existing key)",
                path.display()
            )
        }),
    }
}

/// Loads the root key, creating it on first start.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Credentials> {
    let path = data_dir.join(FILE);
    if let Some(text) = read_existing(&path)? {
        let corrupt = || {
            format!(
                "{} is corrupt: restore it from a backup, or delete it to create a new root key",
                path.display()
            )
        };
        let v: serde_json::Value = serde_json::from_str(&text).with_context(corrupt)?;
        let (Some(id), Some(secret)) = (v["accessKeyId"].as_str(), v["secretAccessKey"].as_str())
        else {
            anyhow::bail!("{}", corrupt());
        };
        return Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            join_token: v["joinToken"].as_str().unwrap_or_default().to_string(),
        });
    }
    let creds = Credentials {
        access_key_id: format!("AKIA{}", random(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
        secret_access_key: random(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ),
        join_token: String::new(),
    };
    let body = json!({
        "accessKeyId": creds.access_key_id,
        "secretAccessKey": creds.secret_access_key,
    });
    berth_files::write_private(&path, &serde_json::to_vec_pretty(&body)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(creds)
}

/// The 256-bit key that seals the secrets in the state, created on first start.
pub fn sealing_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(SEALING_KEY_FILE);
    let text = match read_existing(&path)? {
        Some(text) => text,
        None => {
            // Hex digits of UUID v4 bytes' low nibbles, which are all random.
            let fresh = random(64, b"0123456789abcdef");
            berth_files::write_private(&path, fresh.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            fresh
        }
    };
    let bytes = hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    bytes.with_context(|| {
        format!(
            "{} is corrupt (64 hex digits expected): restore it from a backup; without it the secrets in state.redb cannot be read",
            path.display()
        )
    })
}

/// Makes `path` readable by its owner only (directories: and enterable).
pub fn make_private(path: &Path, dir: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if dir { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot make {} private (mode {mode:o})", path.display()))
}
