//! Berth's CloudWatch Logs: what the `Logs_20140328` API answers and where the events live.
//!
//! - [`Logs`] holds the log groups, their streams and events under one directory, in a store
//!   made for logs rather than rows in the state database: each stream is a run of append-only
//!   segment files of compressed batches with a time index, a batch is fsynced before
//!   PutLogEvents answers (so an acknowledged write survives kill -9), a torn tail is cut off
//!   when its stream is first opened, and retention drops whole segments. Memory stays
//!   bounded however many streams exist: only recently used streams are held open
//!   ([`Options`] sets how many, and the segment size).
//! - [`LogsApi`] answers the CloudWatch Logs operations Berth supports, taking and giving the
//!   generated wire shapes (`berth_types::logs`); the API crate maps each request to one of its
//!   methods and each [`LogsError`] to the wire's exception in one table.
//! - `pattern`: CloudWatch filter patterns (terms, quoted phrases, `?` alternatives, `-`
//!   exclusions, JSON selectors, space-delimited fields), parsed once and matched per event.
//! - [`names`]: log group and stream names, and their ARNs.

#![warn(unreachable_pub)]

mod api;
mod error;
pub mod names;
mod pattern;
mod store;

pub use api::LogsApi;
pub use error::LogsError;
pub use names::Context;
pub use store::{Logs, Options};

/// The wall clock, in milliseconds since the epoch: a trait so that tests can hold time still.
pub trait Clock: Send + Sync {
    /// Now, in milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}
