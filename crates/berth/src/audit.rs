//! `berth audit`: the newest audit events, one a line, oldest first.

use berth_agent::client::EcsClient;
use serde_json::{Value, json};

/// Fetches and prints up to `max` events.
pub async fn print(client: &EcsClient, max: u32) -> anyhow::Result<()> {
    let answer: Value = client
        .call_target(
            "BerthAudit",
            "ListAuditEvents",
            &json!({ "maxResults": max }),
        )
        .await?;
    let events = answer["events"].as_array().cloned().unwrap_or_default();
    if events.is_empty() {
        println!(
            "no audit events yet: mutating calls (create, run, stop, delete, ...) appear here"
        );
    }
    for e in events {
        let time = e["time"].as_f64().unwrap_or_default() as i64;
        println!(
            "{}  {}  {}  {}  {}",
            berth_api::sigv4::amz_date(time),
            e["principal"].as_str().unwrap_or_default(),
            e["action"].as_str().unwrap_or_default(),
            e["resource"].as_str().unwrap_or_default(),
            e["outcome"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}
