//! The audit log: every mutating call, allowed or not, with its time, principal, action,
//! resource and outcome. Events are queued and written to the store in batches (every
//! [`FLUSH`] or [`BATCH`] events, whichever comes first), so auditing costs the calls it
//! records no extra fsync; a crash can lose at most the last batch.

use crate::ControlPlane;
use crate::error::ControlError;
use berth_store::{Op, Table, load};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How often queued events are written.
pub(crate) const FLUSH: Duration = Duration::from_millis(200);
/// Queued events that trigger a write before the timer.
pub const BATCH: usize = 1000;

/// One audited call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the log.
    pub sequence: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// The caller's ARN, or `anonymous` when the signature did not verify.
    pub principal: String,
    /// `ecs:RunTask`, `iam:CreateUser`, ...
    pub action: String,
    /// The resource the call was authorised on.
    pub resource: String,
    /// `Success`, or the error code the call was answered with.
    pub outcome: String,
    /// The request id of the answer.
    #[serde(rename = "requestId")]
    pub request_id: String,
}

/// The actions agents call over and over while tasks run (state reports, log shipping, task
/// credentials): the bulk of the log, hidden on request ([`AuditFilter::hide_agent_reports`]).
/// An agent's registration, a cluster it creates and anything it was refused are not routine.
const AGENT_REPORTS: &[&str] = &[
    "ecs:SubmitTaskStateChange",
    "ecs:SubmitContainerStateChange",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "berth:GetTaskCredentials",
    "berth:GetTaskExecutionCredentials",
    "berth:GetTaskSecrets",
];

impl AuditEvent {
    /// Whether it is an agent's routine report (one of `AGENT_REPORTS`) that succeeded.
    pub fn is_agent_report(&self) -> bool {
        self.outcome == "Success"
            && AGENT_REPORTS.contains(&self.action.as_str())
            && crate::identity::is_agent_principal(&self.principal)
    }
}

/// Which events a reader wants; the default keeps them all. Texts match anywhere in their
/// field, case-sensitively: `user/alice`, `RunTask`, `service/default/web`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Text the principal's ARN contains.
    pub principal: Option<String>,
    /// Text the action contains.
    pub action: Option<String>,
    /// Text the resource contains.
    pub resource: Option<String>,
    /// Only events at or after this time (seconds since the epoch).
    pub since: Option<f64>,
    /// Only events at or before this time.
    pub until: Option<f64>,
    /// Leave out agents' routine reports ([`AuditEvent::is_agent_report`]).
    pub hide_agent_reports: bool,
}

impl AuditFilter {
    /// Whether `event` passes every condition set.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        let contains = |wanted: &Option<String>, field: &str| {
            wanted.as_deref().is_none_or(|w| field.contains(w))
        };
        contains(&self.principal, &event.principal)
            && contains(&self.action, &event.action)
            && contains(&self.resource, &event.resource)
            && self.since.is_none_or(|t| event.time >= t)
            && self.until.is_none_or(|t| event.time <= t)
            && !(self.hide_agent_reports && event.is_agent_report())
    }
}

/// The queue between the calls and the store.
#[derive(Default)]
pub(crate) struct AuditLog {
    queue: std::sync::Mutex<(u64, Vec<AuditEvent>)>,
}

fn key(sequence: u64) -> String {
    format!("{sequence:020}")
}

impl ControlPlane {
    /// Queues an event; its sequence number is assigned here.
    pub fn audit(&self, mut event: AuditEvent) {
        let mut queue = self.audit.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.0 == 0 {
            // Continue after what the store already holds.
            queue.0 = self
                .store
                .scan(Table::Audit)
                .ok()
                .and_then(|rows| rows.last().and_then(|(k, _)| k.parse().ok()))
                .unwrap_or(0);
        }
        queue.0 += 1;
        event.sequence = queue.0;
        queue.1.push(event);
        let full = queue.1.len() >= BATCH;
        drop(queue);
        if full {
            self.flush_audit();
        }
    }

    /// Writes the queued events in one commit.
    pub fn flush_audit(&self) {
        let events =
            std::mem::take(&mut self.audit.queue.lock().unwrap_or_else(|p| p.into_inner()).1);
        if events.is_empty() {
            return;
        }
        let ops: Vec<Op> = events
            .iter()
            .map(|e| Op::put(Table::Audit, key(e.sequence), e))
            .collect();
        if let Err(e) = self.store.commit(&ops) {
            tracing::error!(error = %e, events = events.len(), "audit events could not be stored");
        }
    }

    /// Writes queued events every [`FLUSH`] until the process ends.
    pub async fn run_audit_writer(self: Arc<Self>) {
        loop {
            tokio::time::sleep(FLUSH).await;
            let control = Arc::clone(&self);
            tokio::task::block_in_place(|| control.flush_audit());
        }
    }

    /// Forgets all but the newest `keep` events: the log's retention. Returns how many went.
    pub fn prune_audit(&self, keep: usize) -> Result<usize, ControlError> {
        let stored = self
            .store
            .scan(Table::Audit)
            .map_err(ControlError::AuditRead)?;
        let excess = stored.len().saturating_sub(keep);
        let ops: Vec<Op> = stored
            .into_iter()
            .take(excess)
            .map(|(k, _)| Op::delete(Table::Audit, k))
            .collect();
        if !ops.is_empty() {
            self.store.commit(&ops).map_err(ControlError::AuditPrune)?;
        }
        Ok(excess)
    }

    /// The newest `limit` events that `filter` keeps, oldest first, after flushing the queue.
    pub fn audit_events(
        &self,
        limit: usize,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>, ControlError> {
        self.flush_audit();
        let events = load::<AuditEvent>(self.store.as_ref(), Table::Audit)
            .map_err(ControlError::AuditRead)?;
        let mut newest: Vec<AuditEvent> = events
            .into_iter()
            .rev()
            .map(|(_, e)| e)
            .filter(|e| filter.matches(e))
            .take(limit)
            .collect();
        newest.reverse();
        Ok(newest)
    }
}
