//! The launch throttle: a service whose tasks keep stopping before they ever reach RUNNING
//! (an image that cannot be pulled, a container that cannot be created) is given new tasks
//! ever more slowly, and says so in the event deploy tools watch for, as ECS does
//! ("Amazon ECS service throttle logic": the interval grows to at most 27 minutes, tasks that
//! failed after reaching RUNNING do not count, a new deployment starts afresh).

use super::pass::Pass;
use crate::services::subject;
use crate::status::TaskStatus;
use berth_types::ecs::{Task, TaskStopCode};

/// Failed starts in a row a deployment may have before launches slow down: this many, or a
/// whole round of its desired count if that is more (a few failures among the first hundred
/// tasks of a large service, on a busy host, are not a pattern).
const FREE_FAILURES: usize = 3;
/// The wait after the first round of failures beyond the free ones; it doubles with each round.
const FIRST_DELAY_SECONDS: f64 = 10.0;
/// The longest wait between launches, as ECS documents.
const MAX_DELAY_SECONDS: f64 = 27.0 * 60.0;

/// Whether a task stopped before it ever ran, for a reason of its own (not a stop asked for).
fn failed_to_start(task: &Task) -> bool {
    TaskStatus::Stopped.is(&task.last_status)
        && task.started_at.is_none()
        && matches!(
            task.stop_code,
            Some(TaskStopCode::TaskFailedToStart | TaskStopCode::EssentialContainerExited)
        )
}

/// How long to wait, after the newest failure, before launching again, given `streak` failed
/// starts in a row of a deployment that wants `desired` tasks. Rounds are counted in
/// deployments' worth of tasks, so a large service is not throttled harder for being large.
pub(super) fn delay(streak: usize, desired: usize) -> Option<f64> {
    let beyond = streak.checked_sub(FREE_FAILURES.max(desired))?;
    let rounds = (beyond / desired.max(1)).min(16) as i32;
    Some((FIRST_DELAY_SECONDS * 2f64.powi(rounds)).min(MAX_DELAY_SECONDS))
}

impl Pass<'_> {
    /// The PRIMARY deployment's failed starts since its last task that reached RUNNING,
    /// and when the newest of them stopped.
    fn failure_streak(&self) -> (usize, f64) {
        let primary = self.primary_id();
        let mut mine: Vec<&Task> = self
            .state
            .tasks_of_service(&self.service)
            .filter(|t| t.started_by.as_deref() == Some(primary.as_str()))
            .collect();
        mine.sort_by(|a, b| {
            b.created_at
                .unwrap_or(0.0)
                .total_cmp(&a.created_at.unwrap_or(0.0))
        });
        let mut streak = 0;
        let mut newest = 0.0f64;
        for t in mine {
            if t.started_at.is_some() {
                break;
            }
            if failed_to_start(t) {
                streak += 1;
                newest = newest.max(t.stopped_at.unwrap_or(0.0));
            }
        }
        (streak, newest)
    }

    /// Whether launches wait for now; when they start to, the service says it cannot
    /// consistently start tasks.
    pub(super) fn launches_throttled(&mut self) -> bool {
        let desired = self.service.desired_count.unwrap_or_default().max(0) as usize;
        let (streak, newest) = self.failure_streak();
        let Some(wait) = delay(streak, desired) else {
            return false;
        };
        let name = subject(&self.service);
        self.event_once(format!(
            "{name} is unable to consistently start tasks successfully."
        ));
        self.now < newest + wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_per_round_up_to_27_minutes() {
        assert_eq!(delay(2, 1), None);
        assert_eq!(delay(3, 1), Some(10.0));
        assert_eq!(delay(4, 1), Some(20.0));
        assert_eq!(delay(6, 1), Some(80.0));
        assert_eq!(delay(100, 1), Some(MAX_DELAY_SECONDS));
        // A service of ten is throttled once ten failed, then by rounds of ten.
        assert_eq!(delay(9, 10), None);
        assert_eq!(delay(10, 10), Some(10.0));
        assert_eq!(delay(20, 10), Some(20.0));
    }
}
