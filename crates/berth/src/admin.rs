//! `berth join-token` and `berth agent-keys`: the credentials hosts join with, managed through
//! the `BerthAgent` API with the caller's own key (the root's, or a user's allowed
//! `berth:RotateJoinToken`, `berth:ListAgentKeys`, `berth:RevokeAgentKey`).

use berth_agent::client::EcsClient;
use serde_json::{Value, json};
use std::path::Path;

/// What `berth join-token` does.
#[derive(clap::Subcommand)]
pub enum JoinTokenAction {
    /// Replace a join token with a new one and print it; the old one joins nothing from now
    /// on (agents that joined with it keep working).
    Rotate {
        /// The cluster whose own token to replace (created on first rotation); without it,
        /// the token good for every cluster.
        #[arg(long)]
        cluster: Option<String>,
    },
}

/// What `berth agent-keys` does.
#[derive(clap::Subcommand)]
pub enum AgentKeysAction {
    /// List the agents' keys: id, cluster, the instance each registered.
    List {
        /// Only the keys of this cluster.
        #[arg(long)]
        cluster: Option<String>,
    },
    /// Revoke an agent's key: its calls are refused and its stream is closed.
    Revoke {
        /// The key's id (AKIA...), as `berth agent-keys list` shows it.
        access_key_id: String,
    },
}

/// The join token an agent starts with: from `file`, else from `BERTH_JOIN_TOKEN`.
pub fn join_token(file: Option<&Path>) -> anyhow::Result<Option<String>> {
    if let Some(file) = file {
        let token = std::fs::read_to_string(file).map_err(|e| {
            anyhow::anyhow!("cannot read the join token from {}: {e}", file.display())
        })?;
        return Ok(Some(token.trim().to_string()));
    }
    Ok(std::env::var("BERTH_JOIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty()))
}

/// Runs `berth join-token ...`.
pub async fn join_token_command(client: &EcsClient, action: JoinTokenAction) -> anyhow::Result<()> {
    let JoinTokenAction::Rotate { cluster } = action;
    let answer: Value = client
        .call_target(
            "BerthAgent",
            "RotateJoinToken",
            &json!({ "cluster": cluster }),
        )
        .await?;
    let token = answer["joinToken"].as_str().unwrap_or_default();
    let cluster_flag = cluster
        .map(|c| format!(" --cluster {c}"))
        .unwrap_or_default();
    say!("{token}");
    say!(
        "# Join a host: BERTH_JOIN_TOKEN={token} berth agent --endpoint {}{cluster_flag}",
        client.endpoint()
    );
    Ok(())
}

/// Runs `berth agent-keys ...`.
pub async fn agent_keys_command(client: &EcsClient, action: AgentKeysAction) -> anyhow::Result<()> {
    match action {
        AgentKeysAction::List { cluster } => {
            let answer: Value = client
                .call_target(
                    "BerthAgent",
                    "ListAgentKeys",
                    &json!({ "cluster": cluster }),
                )
                .await?;
            let keys = answer["agentKeys"].as_array().cloned().unwrap_or_default();
            say!("ACCESS KEY            CLUSTER  CONTAINER INSTANCE");
            for k in keys {
                say!(
                    "{}  {}  {}",
                    k["accessKeyId"].as_str().unwrap_or_default(),
                    k["cluster"].as_str().unwrap_or_default(),
                    k["containerInstanceArn"]
                        .as_str()
                        .unwrap_or("(not registered)")
                );
            }
        }
        AgentKeysAction::Revoke { access_key_id } => {
            let _: Value = client
                .call_target(
                    "BerthAgent",
                    "RevokeAgentKey",
                    &json!({ "accessKeyId": access_key_id }),
                )
                .await?;
            say!("revoked {access_key_id}: its agent can no longer call the API");
        }
    }
    Ok(())
}
