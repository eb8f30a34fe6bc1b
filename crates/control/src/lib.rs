//! Berth's control plane: the state behind every ECS operation and the rules that move it.
//!
//! All state lives in memory ([`State`]) and is written through the durable store before
//! any caller hears of it: a mutation reads a consistent snapshot, returns the [`Change`]s it wants,
//! the changes are committed to the store, and only then applied to memory. Writers are
//! serialised, so two RunTask calls can never both take the last free port.
//!
//! Modules, one concern each:
//! - `clusters`, [`task_definitions`], `instances`, [`tasks`], `tags`: the operations;
//!   [`task_identity`]: a task's role session and what its secrets name, for its agent;
//!   `task_definition_rules`: the cross-field rules a registration must keep;
//! - `account_settings`: ECS account settings, per principal with the account's defaults;
//! - `exec`: ExecuteCommand, refused with what to do instead;
//! - [`applier`]: placements planned on a snapshot, re-checked and completed under the writer;
//! - `services` and `service_controller`: services, their deployments, and the
//!   level-triggered controller that keeps their tasks running; `service_history`: the
//!   record of every deployment;
//! - [`identity`]: IAM users, their access keys and inline policies; [`roles`]: IAM roles,
//!   managed policies, trust policies and the sessions of assumed roles; [`policy`]: the IAM
//!   policy language and its evaluation;
//! - [`parameters`] and [`secrets`]: SSM Parameter Store and Secrets Manager; [`secret_refs`]:
//!   what a container's `secrets[].valueFrom` names, and its value;
//! - [`audit`]: the log of mutating calls, written in batches;
//! - `lifecycle`: how agent reports move a task through PENDING, RUNNING and STOPPED;
//! - [`assignments`]: what each agent is told to run, and the wake-ups that tell it;
//! - `wakeups`: the store's change feed turned into those wake-ups and the service
//!   controller's;
//! - `change`: the durable changes a mutation makes, and their store operations;
//! - `demand`: what a task needs from a host (cpu, memory, GPUs, ports);
//! - `placement`: constraints and strategies for the scheduler, refusals as `failures[]`;
//! - `views`: the scheduler's in-memory views of each cluster's instances;
//! - [`error`]: every refusal and failure, in the control plane's terms (the API layer picks
//!   their wire codes);
//! - `lookup`, `resources` and `status`: leaf modules the others share, finding tasks,
//!   instances and services by reference, reading an instance's resource lists, and the
//!   status values of tasks, instances, services, clusters and deployments.

#![warn(unreachable_pub)]

mod account_settings;
pub mod applier;
pub mod assignments;
pub mod audit;
mod change;
mod clusters;
mod demand;
pub mod error;
mod exec;
pub mod file_systems;
pub mod identity;
mod instances;
mod lifecycle;
mod lookup;
pub mod network;
pub mod parameters;
mod placement;
pub mod policy;
mod protection;
mod resources;
pub mod roles;
pub mod secret_refs;
pub mod secrets;
mod service_controller;
mod service_history;
mod services;
mod start_task;
mod state;
mod status;
mod tags;
mod task_definition_rules;
pub mod task_definitions;
pub mod task_identity;
pub mod tasks;
mod views;
mod wakeups;

use crate::error::ControlError;
use berth_store::Store;
use berth_types::arn::Partition;
// The one paginator (in `types`, which the registry's ECR lists use too), as `crate::paginate`.
use berth_types::paginate;
pub use change::Change;
pub use state::State;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// The time source, behind a trait so tests can fix it.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> f64;
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    }
}

/// The control plane of one server.
pub struct ControlPlane {
    partition: Partition,
    store: Arc<dyn Store>,
    state: RwLock<State>,
    /// Held for the whole read-commit-apply of a mutation, so writers see each other's results.
    writer: Mutex<()>,
    clock: Arc<dyn Clock>,
    agents: assignments::AgentHub,
    /// Wakes the service controller after a change that may concern a service.
    services_woken: tokio::sync::Notify,
    /// The revision of the last commit `mutate` applied to memory, for wake-ups that must not
    /// read memory before it holds the commit that woke them (`wakeups`).
    applied: tokio::sync::watch::Sender<u64>,
    /// Whether the change feed is followed yet (`wakeups`).
    following: std::sync::Once,
    audit: audit::AuditLog,
    /// The shared file systems `efsVolumeConfiguration` volumes are mapped to.
    file_systems: file_systems::FileSystems,
}

impl ControlPlane {
    /// Loads the state from `store`.
    pub fn open(
        partition: Partition,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ControlError> {
        let state = State::load(store.as_ref()).map_err(ControlError::Load)?;
        Ok(Self {
            partition,
            store,
            state: RwLock::new(state),
            writer: Mutex::new(()),
            clock,
            agents: assignments::AgentHub::default(),
            services_woken: tokio::sync::Notify::new(),
            applied: tokio::sync::watch::Sender::new(0),
            following: std::sync::Once::new(),
            audit: audit::AuditLog::default(),
            file_systems: file_systems::FileSystems::default(),
        })
    }

    /// The region and account in every ARN.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// Now, by the control plane's clock.
    pub fn now(&self) -> f64 {
        self.clock.now()
    }

    /// The partition and the time, for a call that starts now.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            partition: &self.partition,
            now: self.clock.now(),
        }
    }

    /// A consistent read-only view.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        // Changes are applied to memory only after they are durable and applying cannot panic
        // half-way on valid records, so a poisoned lock still guards a consistent state.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one mutation: `plan` reads the state and returns the changes to make and the answer;
    /// the changes are made durable, then applied. Whom they concern hears of them from the
    /// store's change feed (`wakeups`).
    pub fn mutate<R>(
        &self,
        plan: impl FnOnce(&State, &Ctx) -> Result<(Vec<Change>, R), ControlError>,
    ) -> Result<R, ControlError> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let ctx = self.ctx();
        let (changes, answer) = plan(&self.read(), &ctx)?;
        if changes.is_empty() {
            return Ok(answer);
        }
        let ops: Vec<_> = changes.iter().map(Change::to_op).collect();
        let revision = self.store.commit(&ops).map_err(|e| {
            tracing::error!(error = %e, "store commit failed");
            ControlError::Commit(e)
        })?;
        {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            for change in changes {
                state.apply(change);
            }
        }
        self.applied.send_replace(revision);
        Ok(answer)
    }
}

/// The `failures[]` entry for something that does not exist.
pub fn missing(reference: &str) -> berth_types::ecs::Failure {
    berth_types::ecs::Failure {
        arn: Some(reference.to_string()),
        reason: Some("MISSING".into()),
        detail: None,
    }
}

/// What a mutation may know besides the state: the partition and the time of the call.
pub struct Ctx<'a> {
    /// Region and account for ARNs.
    pub partition: &'a Partition,
    /// Seconds since the epoch.
    pub now: f64,
}
