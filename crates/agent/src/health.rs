//! The health of every container on this host that has a health check, as Docker last
//! reported it. Runners write it; the assignment stream publishes it to the control plane
//! whenever it changes, and in full on every new connection.

use berth_types::ecs::HealthStatus;
use berth_types::protocol::ContainerHealth;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Shared health of the host's containers.
pub(crate) struct HealthBoard {
    entries: Mutex<BTreeMap<(String, String), HealthStatus>>,
    version: watch::Sender<u64>,
}

impl Default for HealthBoard {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            version: watch::channel(0).0,
        }
    }
}

/// Docker's health word in ECS's terms (`starting` is still UNKNOWN).
pub(crate) fn from_docker(status: &str) -> HealthStatus {
    match status {
        "healthy" => HealthStatus::Healthy,
        "unhealthy" => HealthStatus::Unhealthy,
        _ => HealthStatus::Unknown,
    }
}

impl HealthBoard {
    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), HealthStatus>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a container's health; wakes the publisher when it changed.
    pub(crate) fn set(&self, task_arn: &str, container: &str, status: HealthStatus) {
        let previous = self
            .entries()
            .insert((task_arn.to_string(), container.to_string()), status);
        if previous != Some(status) {
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// Forgets a finished task.
    pub(crate) fn forget_task(&self, task_arn: &str) {
        self.entries().retain(|(task, _), _| task != task_arn);
    }

    /// Everything known now.
    pub(crate) fn snapshot(&self) -> Vec<ContainerHealth> {
        self.entries()
            .iter()
            .map(|((task, container), status)| ContainerHealth {
                task_arn: task.clone(),
                container_name: container.clone(),
                health_status: *status,
            })
            .collect()
    }

    /// Wakes on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_wake_and_snapshots_list() {
        let board = HealthBoard::default();
        let mut rx = board.subscribe();
        board.set("t", "web", HealthStatus::Unknown);
        assert!(rx.has_changed().expect("open"));
        rx.mark_unchanged();
        board.set("t", "web", HealthStatus::Unknown);
        assert!(!rx.has_changed().expect("open"), "no change, no wake-up");
        board.set("t", "web", from_docker("healthy"));
        assert_eq!(board.snapshot()[0].health_status, HealthStatus::Healthy);
        board.forget_task("t");
        assert!(board.snapshot().is_empty());
    }
}
