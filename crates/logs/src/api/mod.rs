//! The CloudWatch Logs operations Berth answers, over the generated wire shapes.
//!
//! Each file answers a family of operations: [`groups`], [`streams`], [`put`] (PutLogEvents),
//! [`get`] (GetLogEvents), [`filter`] (FilterLogEvents), [`retention`] and [`tags`];
//! [`tokens`] makes and reads their paging tokens and [`limits`] checks the shared bounds.

mod filter;
mod get;
mod groups;
mod limits;
mod put;
mod retention;
mod streams;
mod tags;
mod tokens;

use crate::{Context, Logs};

/// The logs service as one caller sees it, in one region and account.
pub struct LogsApi<'a> {
    logs: &'a Logs,
    context: &'a Context,
}

impl<'a> LogsApi<'a> {
    pub(crate) fn new(logs: &'a Logs, context: &'a Context) -> Self {
        Self { logs, context }
    }
}
