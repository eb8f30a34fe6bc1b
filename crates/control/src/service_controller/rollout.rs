//! The rolling deployment of a REPLICA service: older deployments' tasks, and tasks on
//! instances that drain, are stopped as far as `minimumHealthyPercent` allows; the PRIMARY
//! deployment is scaled in, or out as far as `maximumPercent` allows.

use super::pass::{Pass, Starts};
use crate::status::{InstanceStatus, TaskStatus};
use berth_scheduler::ranking::SpreadField;
use berth_scheduler::{Request, Strategy};
use berth_types::ecs::{HealthStatus, Task};
use std::collections::HashMap;

/// Whether a task counts towards the floor of RUNNING tasks: RUNNING, and not failing its
/// health checks (those are replaced whatever the floor).
fn counts_running(task: &Task) -> bool {
    TaskStatus::Running.is(&task.last_status) && task.health_status != Some(HealthStatus::Unhealthy)
}

/// The spread bucket of a task's instance (its id, or the attribute's value).
fn bucket(view: Option<&berth_scheduler::InstanceView>, field: &SpreadField) -> String {
    match (view, field) {
        (Some(v), SpreadField::Instance) => v.arn.clone(),
        (Some(v), SpreadField::Attribute(name)) => {
            v.facts.attributes.get(name).cloned().unwrap_or_default()
        }
        (None, _) => String::new(),
    }
}

impl<'s> Pass<'s> {
    fn percents(&self) -> (i32, i32) {
        let c = self.service.deployment_configuration.as_ref();
        (
            c.and_then(|c| c.minimum_healthy_percent).unwrap_or(100),
            c.and_then(|c| c.maximum_percent).unwrap_or(200),
        )
    }

    /// Whether a task's instance still takes service tasks (ACTIVE); tasks on DRAINING or
    /// deregistered instances are replaced elsewhere, as ECS does.
    fn on_active_instance(&self, task: &Task) -> bool {
        task.container_instance_arn
            .as_deref()
            .and_then(|a| self.state.instances.get(a))
            .is_some_and(|i| InstanceStatus::Active.is(&i.status))
    }

    /// Stops older deployments' tasks, and tasks on draining instances, as far as
    /// `minimumHealthyPercent` allows. The floor holds twice over, as ECS keeps it: after each
    /// stop, at least that many of the tasks left are healthy *and* at least that many are
    /// RUNNING, so a task that has only just started (not yet counted healthy) is not stopped
    /// before its replacement is healthy either.
    pub(super) fn drain_old(&mut self, primary_failed: bool) {
        let desired = self.service.desired_count.unwrap_or_default();
        let (min, _) = self.percents();
        let floor = (f64::from(desired.max(0)) * f64::from(min.max(0)) / 100.0).ceil() as usize;
        let primary = self.primary_id();
        let remaining = self.remaining(None);
        let mut healthy = remaining.iter().filter(|t| self.is_healthy(t)).count();
        let mut running = remaining.iter().filter(|t| counts_running(t)).count();
        // Protected tasks stay until their protection ends: the deployment waits for them.
        let old: Vec<&Task> = remaining
            .into_iter()
            .filter(|t| {
                t.started_by.as_deref() != Some(primary.as_str()) || !self.on_active_instance(t)
            })
            .filter(|t| !self.is_protected(t))
            .collect();
        // Tasks that are not RUNNING (or fail their health checks) cost nothing against the
        // floor; then the ones not yet healthy, then the healthy ones.
        let (free, mut held): (Vec<&Task>, Vec<&Task>) =
            old.into_iter().partition(|t| !counts_running(t));
        held.sort_by_key(|t| self.is_healthy(t));
        let reason = |t: &Task| {
            if t.started_by.as_deref() == Some(primary.as_str()) {
                "Container instance is draining".to_string()
            } else {
                format!("Scaling activity initiated by (deployment {primary})")
            }
        };
        for t in free {
            self.stop(t, reason(t));
        }
        if primary_failed {
            return;
        }
        for t in held {
            let was_healthy = usize::from(self.is_healthy(t));
            if running <= floor || healthy - was_healthy < floor {
                break;
            }
            running -= 1;
            healthy -= was_healthy;
            self.stop(t, reason(t));
        }
    }

    /// The `n` tasks to stop when scaling in, chosen one at a time: tasks not yet healthy
    /// first, then as the strategies say (spread: from the fullest bucket, keeping the
    /// balance; binpack: from the instance with the most of the resource left, freeing the
    /// most), then the newest.
    fn scale_in(
        &self,
        mut candidates: Vec<&'s Task>,
        n: usize,
        request: &Request,
    ) -> Vec<&'s Task> {
        let views = self.state.cluster_views(&self.cluster);
        let view = |t: &Task| {
            let views = views?;
            Some(&views.all()[views.position(t.container_instance_arn.as_deref()?)?])
        };
        let mut chosen = Vec::with_capacity(n);
        while chosen.len() < n && !candidates.is_empty() {
            // Bucket counts of the tasks still kept, per spread strategy.
            let mut buckets: HashMap<(usize, String), i64> = HashMap::new();
            for t in &candidates {
                for (k, s) in request.strategies.iter().enumerate() {
                    if let Strategy::Spread(field) = s {
                        *buckets.entry((k, bucket(view(t), field))).or_default() += 1;
                    }
                }
            }
            let score = |t: &Task| -> Vec<i64> {
                let mut key = vec![i64::from(self.is_healthy(t))];
                for (k, s) in request.strategies.iter().enumerate() {
                    key.push(match s {
                        Strategy::Spread(field) => -buckets[&(k, bucket(view(t), field))],
                        Strategy::Binpack(resource) => {
                            -view(t).map_or(i64::MAX, |v| match resource {
                                berth_scheduler::ranking::Resource::Cpu => v.remaining_cpu,
                                berth_scheduler::ranking::Resource::Memory => v.remaining_memory,
                            })
                        }
                        Strategy::Random => 0,
                    });
                }
                key.push(-(t.created_at.unwrap_or_default() * 1000.0) as i64);
                key
            };
            let at = (0..candidates.len())
                .min_by_key(|&i| score(candidates[i]))
                .unwrap_or(0);
            chosen.push(candidates.swap_remove(at));
        }
        chosen
    }

    /// Scales the PRIMARY deployment to the desired count, within `maximumPercent`; with
    /// `hold_launches` (a failed deployment, a throttled one) it only scales in.
    pub(super) fn scale_primary(&mut self, hold_launches: bool, request: &Request) {
        let desired = self.service.desired_count.unwrap_or_default().max(0) as usize;
        let primary = self.primary_id();
        let mine: Vec<&Task> = self
            .remaining(Some(&primary))
            .into_iter()
            .filter(|t| self.on_active_instance(t))
            .collect();
        if mine.len() > desired {
            let n = mine.len() - desired;
            // Protected tasks are never chosen; scaling in waits for their protection to end.
            let candidates = mine.into_iter().filter(|t| !self.is_protected(t)).collect();
            for t in self.scale_in(candidates, n, request) {
                let reason = format!("Scaling activity initiated by (deployment {primary})");
                self.stop(t, reason);
            }
            return;
        }
        if hold_launches {
            return;
        }
        let (_, max) = self.percents();
        let max_total = (desired * max.max(0) as usize) / 100;
        let total = self.remaining(None).len();
        let wanted = (desired - mine.len()).min(max_total.saturating_sub(total));
        if wanted > 0 {
            self.starts = Starts::Placed {
                count: wanted,
                request: request.clone(),
            };
        }
    }
}
