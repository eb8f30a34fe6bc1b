//! The tasks of this host: one runner per task, fed by assignments and checked against the
//! control plane's manifest; and the sweep that removes stopped tasks' containers once the
//! cleanup wait is up.

use crate::runner::{self, RunnerCtx};
use crate::runtime::ContainerRuntime;
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
    /// The tasks the control plane last listed as to run here; `None` until it has listed
    /// them once (the sweep waits until then: a task's runner may not exist yet).
    to_run: Option<HashSet<String>>,
}

/// Owns the runners of tasks on the engine `R`.
pub(crate) struct Manager<R> {
    ctx: Arc<RunnerCtx<R>>,
    tasks: Mutex<Tasks>,
}

impl<R: ContainerRuntime> Manager<R> {
    /// A manager with no tasks yet.
    pub(crate) fn new(ctx: RunnerCtx<R>) -> Arc<Self> {
        Arc::new(Self {
            ctx: Arc::new(ctx),
            tasks: Mutex::new(Tasks::default()),
        })
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of tasks with a runner.
    #[cfg(test)]
    pub(crate) fn active(&self) -> usize {
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

impl<R: ContainerRuntime> Host for Manager<R> {
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
            let mut tasks = self.tasks();
            let to_run = manifest
                .iter()
                .filter(|e| e.desired_status != "STOPPED")
                .map(|e| e.task_arn.clone());
            tasks.to_run = Some(to_run.collect());
            for (arn, tx) in &tasks.running {
                if !listed.contains(arn.as_str()) {
                    tx.send_replace("STOPPED".into());
                }
            }
        }
        let local = match self.ctx.runtime.list(&self.ctx.instance_arn, None).await {
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
            if c.container_name == crate::network::pause::PAUSE_CONTAINER {
                // It ignores SIGTERM, and holds an address the control plane may give again.
                tracing::info!(task = %c.task_arn, container = %c.id, "removing the pause container of a task the control plane does not list");
                let _ = self.ctx.runtime.remove(&c.id).await;
                continue;
            }
            if c.running {
                tracing::info!(task = %c.task_arn, container = %c.id, "stopping a container of a task the control plane does not list");
                let _ = self.ctx.runtime.stop(&c.id, ORPHAN_STOP_TIMEOUT).await;
            }
            // Otherwise the sweep removes it once the cleanup wait is up.
            if self.ctx.cleanup_wait.is_zero() {
                let _ = self.ctx.runtime.remove(&c.id).await;
            }
        }
    }
}

impl<R: ContainerRuntime> Manager<R> {
    /// Removes the stopped containers of tasks without a runner whose cleanup wait is up. A
    /// task the control plane still wants running is left alone (after a restart its runner,
    /// which adopts what is there, may not exist yet), and nothing is swept before the control
    /// plane's first manifest says which tasks those are.
    pub(crate) async fn sweep(&self) {
        let Some(to_run) = self.tasks().to_run.clone() else {
            return;
        };
        let local = match self.ctx.runtime.list(&self.ctx.instance_arn, None).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list containers to clean up");
                return;
            }
        };
        let now = std::time::SystemTime::now();
        for c in local {
            if c.running
                || to_run.contains(&c.task_arn)
                || self.tasks().running.contains_key(&c.task_arn)
            {
                continue;
            }
            let Ok(inspected) = self.ctx.runtime.inspect(&c.id).await else {
                continue;
            };
            let wait = self.ctx.cleanup_wait;
            if !inspected.running && crate::cleanup::due(inspected.finished_at, wait, now) {
                tracing::info!(task = %c.task_arn, container = %c.id, "removing a stopped task's container");
                if let Err(e) = self.ctx.runtime.remove(&c.id).await {
                    tracing::warn!(container = %c.id, error = %e, "remove failed");
                }
            }
        }
        let busy = |arn: &str| to_run.contains(arn) || self.tasks().running.contains_key(arn);
        self.ctx.shared_fs.sweep(&busy).await;
        runner::volumes::sweep(&self.ctx.runtime, &self.ctx.instance_arn, busy).await;
        let networks = &self.ctx.networks;
        networks
            .sweep(&self.ctx.runtime, &self.ctx.instance_arn)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::pause::PAUSE_CONTAINER;
    use crate::runtime::fake::{Call, FakeRuntime};
    use crate::test_kit::{INSTANCE, Reports, TASK, container, ctx, task};
    use std::time::Duration;

    fn manager(fake: &FakeRuntime) -> (Arc<Manager<FakeRuntime>>, Reports) {
        let (ctx, reports) = ctx(fake.clone());
        (Manager::new(ctx), reports)
    }

    #[tokio::test]
    async fn a_restarted_agent_adopts_and_never_creates_twice() {
        let fake = FakeRuntime::default();
        // What the agent left running before it restarted.
        fake.existing(INSTANCE, TASK, "web");
        let (manager, mut reports) = manager(&fake);
        let assigned = task(TASK, vec![container("web")]);
        manager.apply(vec![assigned.clone()]);
        // The stream sends the task again, as after a reconnect.
        manager.apply(vec![assigned.clone()]);
        reports.next("RUNNING").await;
        assert_eq!(manager.active(), 1);
        let mut stopping = assigned;
        stopping.task.desired_status = Some("STOPPED".into());
        manager.apply(vec![stopping]);
        reports.next("STOPPED").await;
        // 30 s: ECS's default grace, as web sets no stopTimeout.
        assert_eq!(
            fake.calls(),
            [Call::Stop("web".into(), 30), Call::Remove("web".into())]
        );
    }

    #[tokio::test]
    async fn stopped_containers_stay_until_the_cleanup_wait_is_up() {
        let fake = FakeRuntime::default();
        let (mut ctx, mut reports) = ctx(fake.clone());
        ctx.cleanup_wait = Duration::from_secs(600);
        let manager = Manager::new(ctx);
        let mut assigned = task(TASK, vec![container("web")]);
        manager.apply(vec![assigned.clone()]);
        reports.next("RUNNING").await;
        assigned.task.desired_status = Some("STOPPED".into());
        manager.apply(vec![assigned]);
        reports.next("STOPPED").await;
        // A container of another stopped task, left from before a restart, long done.
        fake.existing(
            INSTANCE,
            "arn:aws:ecs:us-east-1:000000000000:task/default/old",
            "old",
        );
        fake.exit("old", 0);
        fake.finished_ago("old", Duration::from_secs(601));
        while manager.active() > 0 {
            tokio::task::yield_now().await;
        }
        manager.sweep().await;
        assert!(
            !fake.calls().iter().any(|c| matches!(c, Call::Remove(_))),
            "nothing is swept before the first manifest"
        );
        // A task still to run keeps even its long-stopped containers: its runner adopts them.
        fake.existing(
            INSTANCE,
            "arn:aws:ecs:us-east-1:000000000000:task/default/on",
            "on",
        );
        fake.exit("on", 0);
        fake.finished_ago("on", Duration::from_secs(601));
        let on = ManifestEntry {
            task_arn: "arn:aws:ecs:us-east-1:000000000000:task/default/on".into(),
            desired_status: "RUNNING".into(),
        };
        manager.reconcile(&[on]).await;
        manager.sweep().await;
        let removed: Vec<_> = fake
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Remove(_)))
            .collect();
        assert_eq!(
            removed,
            [Call::Remove("old".into())],
            "web stopped just now; on is still to run"
        );
        fake.finished_ago("web", Duration::from_secs(600));
        manager.sweep().await;
        assert!(fake.calls().contains(&Call::Remove("web".into())));
    }

    #[tokio::test]
    async fn the_pause_of_an_unlisted_task_is_removed_at_once() {
        let fake = FakeRuntime::default();
        let gone = "arn:aws:ecs:us-east-1:000000000000:task/default/gone";
        fake.existing(INSTANCE, gone, PAUSE_CONTAINER);
        let (manager, _reports) = manager(&fake);
        manager.reconcile(&[]).await;
        assert_eq!(fake.calls(), [Call::Remove(PAUSE_CONTAINER.into())]);
    }

    #[tokio::test]
    async fn reconcile_removes_only_containers_of_unlisted_tasks() {
        let fake = FakeRuntime::default();
        fake.existing(
            INSTANCE,
            "arn:aws:ecs:us-east-1:000000000000:task/default/gone",
            "old",
        );
        fake.existing(INSTANCE, TASK, "web");
        fake.existing("another-instance", "another-task", "theirs");
        let (manager, _reports) = manager(&fake);
        let listed = ManifestEntry {
            task_arn: TASK.into(),
            desired_status: "RUNNING".into(),
        };
        manager.reconcile(&[listed]).await;
        assert_eq!(
            fake.calls(),
            [
                Call::Stop("old".into(), ORPHAN_STOP_TIMEOUT),
                Call::Remove("old".into()),
            ]
        );
    }
}
