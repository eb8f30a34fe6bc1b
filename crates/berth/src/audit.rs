//! `berth audit`: the newest audit events, one a line under a header, oldest first. The
//! filters travel in the `ListAuditEvents` request, so the server sends only what is shown.

use crate::table::Table;
use berth_agent::client::EcsClient;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What `berth audit` shows.
#[derive(clap::Args)]
pub struct AuditOptions {
    /// How many events (at least 1): the newest that pass the filters.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max: u32,
    /// Only events whose principal's ARN contains this text, e.g. user/alice or :root.
    #[arg(long, value_name = "TEXT")]
    principal: Option<String>,
    /// Only events whose action contains this text, e.g. ecs:RunTask, or Create for every
    /// creation.
    #[arg(long, value_name = "TEXT")]
    action: Option<String>,
    /// Only events whose resource contains this text, e.g. service/default/web, a task's id or
    /// a task definition's family.
    #[arg(long, value_name = "TEXT")]
    resource: Option<String>,
    /// Only events at or after this time: RFC 3339 (2026-05-01T12:00:00Z) or how long ago
    /// (10m, 1h, 90s).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<f64>,
    /// Only events at or before this time, written as for --since.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<f64>,
    /// Also show agents' routine reports (task state changes, log shipping, task credentials
    /// that succeeded), which are most of the log and hidden without it.
    #[arg(long)]
    include_agents: bool,
}

/// Fetches and prints the events `options` asks for.
pub async fn print(client: &EcsClient, options: AuditOptions) -> anyhow::Result<()> {
    let request = json!({
        "maxResults": options.max,
        "principal": options.principal,
        "action": options.action,
        "resource": options.resource,
        "since": options.since,
        "until": options.until,
        "hideAgentReports": !options.include_agents,
    });
    let answer: Value = client
        .call_target("BerthAudit", "ListAuditEvents", &request)
        .await?;
    let events = answer["events"].as_array().cloned().unwrap_or_default();
    if events.is_empty() {
        say!(
            "no audit events to show: mutating calls (create, run, stop, delete, ...) appear here"
        );
        if !options.include_agents {
            say!("agents' routine reports are hidden: --include-agents shows them");
        }
        return Ok(());
    }
    let mut table = Table::new(&["TIME", "PRINCIPAL", "ACTION", "RESOURCE", "OUTCOME"]);
    for e in events {
        let field = |name: &str| printable(e[name].as_str().unwrap_or_default());
        table.row(vec![
            berth_api::sigv4::iso8601(e["time"].as_f64().unwrap_or_default()),
            field("principal"),
            field("action"),
            field("resource"),
            field("outcome"),
        ]);
    }
    table.print("");
    Ok(())
}

/// `--since` and `--until`: an RFC 3339 time, or a duration before now; seconds since the
/// epoch, as the server keeps times.
fn parse_time(text: &str) -> Result<f64, String> {
    if let Some(ns) = berth_agent::logs::engine_time::parse_ns(text) {
        return Ok(ns as f64 / 1e9);
    }
    let ago = berth_agent::cleanup::parse_duration(text).map_err(|_| {
        format!(
            "{text:?} is neither an RFC 3339 time (2026-05-01T12:00:00Z) nor a duration (10m, 1h)"
        )
    })?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Ok(now.saturating_sub(ago).as_secs_f64())
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
    use super::{parse_time, printable};

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("ecs:RunTask"), "ecs:RunTask");
        assert_eq!(
            printable("a\nFAKE\u{1b}[31m\u{9b}x\\"),
            "a\\nFAKE\\u{1b}[31m\\u{9b}x\\\\"
        );
    }

    #[test]
    fn times_are_rfc_3339_or_a_duration_ago() {
        let close = |text: &str, epoch: f64| {
            let parsed = parse_time(text).expect("an RFC 3339 time");
            assert!((parsed - epoch).abs() < 1e-3, "{text}: {parsed}");
        };
        close("2015-08-30T12:36:00Z", 1_440_938_160.0);
        close("2015-08-30T14:36:00.5+02:00", 1_440_938_160.5);
        let ten_minutes_ago = parse_time("10m").expect("a duration");
        let now = parse_time("0s").expect("now");
        assert!((now - ten_minutes_ago - 600.0).abs() < 5.0);
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }
}
