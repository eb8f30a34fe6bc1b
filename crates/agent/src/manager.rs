//! The tasks of this host: one runner per task, fed by assignments and checked against the
//! control plane's manifest.

use crate::runner::{self, RunnerCtx};
use crate::stream::Host;
use berth_types::protocol::{AssignedTask, ManifestEntry};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// How many finished task ARNs are remembered, so a late duplicate assignment never restarts one.
const FINISHED_MEMORY: usize = 10_000;

/// Grace for containers the control plane no longer knows about.
const ORPHAN_STOP_TIMEOUT: i32 = 10;

#[derive(Default)]
struct Tasks {
    running: HashMap<String, watch::Sender<String>>,
    finished: HashSet<String>,
    finished_order: VecDeque<String>,
}

/// Owns the runners.
pub struct Manager {
    ctx: Arc<RunnerCtx>,
    tasks: Mutex<Tasks>,
}

impl Manager {
    /// A manager with no tasks yet.
    pub fn new(ctx: RunnerCtx) -> Arc<Self> {
        Arc::new(Self {
            ctx: Arc::new(ctx),
            tasks: Mutex::new(Tasks::default()),
        })
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of tasks with a runner.
    pub fn active(&self) -> usize {
        self.tasks().running.len()
    }

    fn finish(&self, arn: &str) {
        let mut tasks = self.tasks();
        tasks.running.remove(arn);
        tasks.finished.insert(arn.to_string());
        tasks.finished_order.push_back(arn.to_string());
        while tasks.finished_order.len() > FINISHED_MEMORY {
            if let Some(old) = tasks.finished_order.pop_front() {
                tasks.finished.remove(&old);
            }
        }
    }
}

impl Host for Manager {
    fn health(&self) -> &crate::health::HealthBoard {
        &self.ctx.health
    }

    /// New tasks get a runner, known ones their new desired status.
    fn apply(self: &Arc<Self>, assigned: Vec<AssignedTask>) {
        let mut tasks = self.tasks();
        for a in assigned {
            let arn = a.task.task_arn.clone().unwrap_or_default();
            let desired = a.task.desired_status.clone().unwrap_or_default();
            if tasks.finished.contains(&arn) {
                continue;
            }
            if let Some(tx) = tasks.running.get(&arn) {
                tx.send_replace(desired);
                continue;
            }
            // A task already desired STOPPED still gets a runner: it may have containers left
            // from before a restart, and it must report STOPPED.
            let (tx, rx) = watch::channel(desired);
            tasks.running.insert(arn.clone(), tx);
            let manager = Arc::clone(self);
            tokio::spawn(async move {
                runner::run(&manager.ctx, a, rx).await;
                manager.finish(&arn);
            });
        }
    }

    /// Runners of tasks the control plane no longer lists are stopped, and containers that
    /// belong to no listed task are removed.
    async fn reconcile(self: &Arc<Self>, manifest: &[ManifestEntry]) {
        let listed: HashSet<&str> = manifest.iter().map(|e| e.task_arn.as_str()).collect();
        {
            let tasks = self.tasks();
            for (arn, tx) in &tasks.running {
                if !listed.contains(arn.as_str()) {
                    tx.send_replace("STOPPED".into());
                }
            }
        }
        let local = match self.ctx.docker.list(&self.ctx.instance_arn, None).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list containers to reconcile");
                return;
            }
        };
        for c in local {
            let has_runner = self.tasks().running.contains_key(&c.task_arn);
            if listed.contains(c.task_arn.as_str()) || has_runner {
                continue;
            }
            tracing::info!(task = %c.task_arn, container = %c.id, "removing a container of a task the control plane does not list");
            if c.running {
                let _ = self.ctx.docker.stop(&c.id, ORPHAN_STOP_TIMEOUT).await;
            }
            let _ = self.ctx.docker.remove(&c.id).await;
        }
    }
}
