//! Trading the join token for credentials of the agent's own (`BerthAgent.Join`), kept in the
//! state directory with mode 0600 so a restarted agent signs with the same key and stays the
//! same instance.

use crate::{AgentConfig, AgentCredentials, AgentError};
use serde::{Deserialize, Serialize};

const FILE: &str = "agent-credentials.json";

#[derive(Serialize, Deserialize)]
struct Saved {
    endpoint: String,
    cluster: String,
    #[serde(rename = "accessKeyId")]
    access_key: String,
    #[serde(rename = "secretAccessKey")]
    secret_key: String,
}

fn save(config: &AgentConfig, saved: &Saved) -> Result<(), AgentError> {
    let path = config.state_dir.join(FILE);
    std::fs::create_dir_all(&config.state_dir)
        .and_then(|()| {
            berth_files::write_private(&path, &serde_json::to_vec_pretty(saved).unwrap_or_default())
        })
        .map_err(|e| {
            AgentError::Registration(format!(
                "cannot write {}: {e} (choose a writable --state-dir)",
                path.display()
            ))
        })
}

/// The key pair the agent signs with: given, saved from an earlier join, or bought now.
pub(crate) async fn credentials(
    config: &AgentConfig,
    trust: &crate::trust::Trust,
) -> Result<(String, String), AgentError> {
    let token = match &config.credentials {
        AgentCredentials::Keys {
            access_key,
            secret_key,
        } => {
            return Ok((access_key.clone(), secret_key.clone()));
        }
        AgentCredentials::JoinToken(token) => token,
    };
    if let Ok(text) = std::fs::read_to_string(config.state_dir.join(FILE))
        && let Ok(saved) = serde_json::from_str::<Saved>(&text)
        && saved.endpoint == config.endpoint
        && saved.cluster == config.cluster
    {
        return Ok((saved.access_key, saved.secret_key));
    }
    let answer = trust
        .http(None)
        .post(format!("{}/", config.endpoint.trim_end_matches('/')))
        .header("x-amz-target", "BerthAgent.Join")
        .header("content-type", "application/x-amz-json-1.1")
        .body(serde_json::json!({ "joinToken": token, "cluster": config.cluster }).to_string())
        .send()
        .await
        .map_err(|e| {
            AgentError::Registration(format!(
                "cannot reach {}: {}",
                config.endpoint,
                crate::client::no_answer(&e)
            ))
        })?;
    let ok = answer.status().is_success();
    let bytes = answer.bytes().await.unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if !ok {
        return Err(AgentError::Registration(format!(
            "the control plane refused the join token: {}",
            v["message"].as_str().unwrap_or("no reason given")
        )));
    }
    let field = |k: &str| v[k].as_str().map(str::to_string);
    let (Some(access_key), Some(secret_key)) = (field("accessKeyId"), field("secretAccessKey"))
    else {
        return Err(AgentError::Registration(
            "the control plane answered the join without credentials".into(),
        ));
    };
    save(
        config,
        &Saved {
            endpoint: config.endpoint.clone(),
            cluster: config.cluster.clone(),
            access_key: access_key.clone(),
            secret_key: secret_key.clone(),
        },
    )?;
    tracing::info!(cluster = %config.cluster, "joined with the join token");
    Ok((access_key, secret_key))
}
