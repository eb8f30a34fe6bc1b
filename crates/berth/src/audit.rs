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
        let field = |name: &str| printable(e[name].as_str().unwrap_or_default());
        println!(
            "{}  {}  {}  {}  {}",
            berth_api::sigv4::amz_date(time),
            field("principal"),
            field("action"),
            field("resource"),
            field("outcome")
        );
    }
    Ok(())
}

/// `text` with its control characters escaped: events hold what callers sent, and a newline
/// would forge a line, an escape sequence would reach the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\\' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("ecs:RunTask"), "ecs:RunTask");
        assert_eq!(
            printable("a\nFAKE\u{1b}[31m\u{9b}x\\"),
            "a\\nFAKE\\u{1b}[31m\\u{9b}x\\\\"
        );
    }
}
