//! Wake-ups from the store's change feed: a commit that changes a task or an instance wakes
//! that instance's agent stream ([`assignments`](crate::assignments)), and one that may concern
//! a service wakes the service controller.
//!
//! The feed names the records a commit changed; what they mean (the instance a task is on,
//! whether it belongs to a service) is read from memory. Both consumers are level-triggered and
//! read memory when woken, so each event waits until memory holds its commit (`mutate`
//! publishes the revision it has applied): none is woken to read a state older than what woke
//! it. A follower that fell behind the feed wakes everything. A task told to stop has its role
//! sessions revoked here, so whatever stopped it (StopTask, a service, its agent) ends them.

use crate::ControlPlane;
use berth_store::{Committed, Event, Table, Watcher};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Whom one commit wakes.
#[derive(Default)]
struct Wakes {
    instances: BTreeSet<String>,
    services: bool,
    /// Stopping tasks whose role sessions are still live: they end now.
    revoke: BTreeSet<String>,
}

impl ControlPlane {
    /// Starts following the feed, once: from the first agent subscription or the start of the
    /// service controller, whichever comes first (before either, nobody is listening).
    pub(crate) fn follow_commits(self: &Arc<Self>) {
        self.following.call_once(|| {
            // Watching before the task starts, so no commit after this call is missed.
            let feed = self.store.watch();
            tokio::spawn(Arc::clone(self).wake_from(feed));
        });
    }

    async fn wake_from(self: Arc<Self>, mut feed: Watcher) {
        let mut applied = self.applied.subscribe();
        while let Some(event) = feed.next().await {
            let wakes = match event {
                Event::Commit(commit) => {
                    let concerns = |(table, _): &(Table, String)| {
                        matches!(
                            table,
                            Table::Tasks | Table::ContainerInstances | Table::Services
                        )
                    };
                    // The audit log's commits, for one, concern nobody.
                    if !commit.changed.iter().any(concerns) {
                        continue;
                    }
                    // Only `mutate` writes these tables, and it publishes each revision once
                    // memory holds it.
                    if applied.wait_for(|r| *r >= commit.revision).await.is_err() {
                        return;
                    }
                    self.wakes(&commit)
                }
                Event::Missed => Wakes {
                    instances: self.read().instances.keys().cloned().collect(),
                    services: true,
                    revoke: BTreeSet::new(),
                },
            };
            for arn in &wakes.instances {
                self.agents.wake(arn);
            }
            if wakes.services {
                self.services_woken.notify_one();
            }
            for task_id in &wakes.revoke {
                if let Err(e) = self.revoke_role_sessions(task_id) {
                    tracing::warn!(task = %task_id, error = %e, "a stopping task's role sessions live on");
                }
            }
        }
    }

    /// The instances whose tasks or records `commit` changed, and whether it changed a service,
    /// an instance or a service's task.
    fn wakes(&self, commit: &Committed) -> Wakes {
        let state = self.read();
        let mut wakes = Wakes::default();
        for (table, key) in &commit.changed {
            match table {
                // A task forgotten since (past its retention) has nothing left to send.
                Table::Tasks => {
                    if let Some(task) = state.tasks.get(key) {
                        wakes.instances.extend(task.container_instance_arn.clone());
                        wakes.services |= task
                            .group
                            .as_deref()
                            .is_some_and(|g| g.starts_with("service:"));
                        // A task told to stop: the credentials its containers hold stop
                        // working at once, whatever stopped it.
                        let id = key.rsplit('/').next().unwrap_or_default();
                        let live = |s: &crate::roles::RoleSession| {
                            s.name == id && s.source == crate::roles::trust::ECS_TASKS
                        };
                        if crate::status::TaskStatus::Stopped.is(&task.desired_status)
                            && state.roles.sessions.values().any(live)
                        {
                            wakes.revoke.insert(id.to_string());
                        }
                    }
                }
                Table::ContainerInstances => {
                    wakes.instances.insert(key.clone());
                    wakes.services = true;
                }
                Table::Services | Table::TaskProtection => wakes.services = true,
                _ => {}
            }
        }
        wakes
    }
}
