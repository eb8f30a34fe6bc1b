//! Berth's own log on stderr: task state changes and image pulls at the default level, as text
//! (coloured only on a terminal, so a redirected log holds no escape codes) or as JSON lines
//! for log collectors. `BERTH_LOG` takes `tracing`'s filter syntax, e.g. `debug` or
//! `warn,berth_agent=debug`.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text an event.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// What is logged without `BERTH_LOG`: what an operator wants to see (tasks starting and
/// stopping, pulls, agents connecting), not every request.
const DEFAULT_FILTER: &str = "info";

/// Installs the subscriber for the whole process.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("BERTH_LOG").unwrap_or_else(|_| DEFAULT_FILTER.into());
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => log.json().init(),
    }
}
