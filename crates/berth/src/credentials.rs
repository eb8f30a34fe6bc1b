//! The account's root access key: created at first start, kept in the data directory with mode
//! 0600, printed by `berth up` so the AWS CLI and SDKs can sign with it.

use anyhow::Context;
use rand::Rng;
use serde_json::json;
use std::path::Path;

/// An access key pair.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

const FILE: &str = "credentials.json";

fn random(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

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
        if let (Some(id), Some(secret)) = (v["accessKeyId"].as_str(), v["secretAccessKey"].as_str())
        {
            return Ok(Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
            });
        }
    }
    let creds = Credentials {
        access_key_id: format!("AKIA{}", random(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
        secret_access_key: random(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ),
    };
    let body = json!({
        "accessKeyId": creds.access_key_id,
        "secretAccessKey": creds.secret_access_key,
    });
    write_private(&path, &serde_json::to_vec_pretty(&body)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(creds)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
