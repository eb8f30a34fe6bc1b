//! The account's root access key and the agents' join token: created at first start, kept in
//! the data directory with mode 0600, printed by `berth up` so the AWS CLI and SDKs can sign
//! with the key and hosts can join with the token.

use anyhow::Context;
use berth_control::identity::random;
use serde_json::json;
use std::path::Path;

/// The root key pair and the token agents join with.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub join_token: String,
}

const FILE: &str = "credentials.json";

/// Loads the root key, creating it on first start.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Credentials> {
    let path = data_dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is corrupt: delete it to create a new key",
                path.display()
            )
        })?;
        if let (Some(id), Some(secret), Some(token)) = (
            v["accessKeyId"].as_str(),
            v["secretAccessKey"].as_str(),
            v["joinToken"].as_str(),
        ) {
            return Ok(Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
                join_token: token.to_string(),
            });
        }
    }
    let creds = Credentials {
        access_key_id: format!("AKIA{}", random(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
        secret_access_key: random(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ),
        join_token: format!(
            "bjt-{}",
            random(32, b"abcdefghijklmnopqrstuvwxyz0123456789")
        ),
    };
    let body = json!({
        "accessKeyId": creds.access_key_id,
        "secretAccessKey": creds.secret_access_key,
        "joinToken": creds.join_token,
    });
    write_private(&path, &serde_json::to_vec_pretty(&body)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(creds)
}

/// Writes `bytes` to `path` readable by its owner only, whole or not at all (temporary file,
/// fsync, rename).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
