//! The agent's side of the `awslogs` log driver: an awslogs container runs on the engine's
//! json-file driver, and the agent reads its output back and ships it to Berth's CloudWatch
//! Logs API, resuming where the server's stored cursor says after any crash.
//!
//! - [`options`]: the awslogs options, checked as Docker checks them; stream names;
//! - [`driver`]: the engine's log configuration, and what Berth refuses (secretOptions, ...);
//! - [`firelens`]: a task's log router, its generated configuration, and the apps' `fluentd`
//!   driver aimed at it;
//! - [`sink`]: the CloudWatch calls as a trait, and the stream's creation before a start;
//!   `cloudwatch.rs` implements it over the agent's signed client;
//! - [`shipper`]: reading, batching, uploading one container's output, through
//!   [`events`] (lines → events), [`batch`] (PutLogEvents' limits), [`outbox`] (blocking or
//!   dropping) and [`cursor`] (where shipping got to);
//! - [`engine_time`]: the engine's RFC 3339 timestamps.

pub mod batch;
mod cloudwatch;
pub mod cursor;
pub mod driver;
pub mod engine_time;
pub mod events;
pub mod firelens;
#[cfg(test)]
pub mod memory;
pub mod options;
pub mod outbox;
pub mod shipper;
pub mod sink;
