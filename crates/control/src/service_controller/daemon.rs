//! A DAEMON service follows its instances instead of a count: one task on every ACTIVE
//! instance that satisfies the constraints; tasks on instances that drain or leave are
//! stopped and not replaced.

use super::pass::{Pass, Starts};
use crate::services::subject;
use berth_scheduler::{Request, feasibility};
use berth_types::arn;
use berth_types::ecs::Task;
use std::collections::HashMap;

impl<'s> Pass<'s> {
    /// Stops what runs where it should not, and plans a task for every eligible instance
    /// without one; the desired count becomes the number of eligible instances.
    pub(super) fn follow_instances(&mut self, request: &Request) {
        let primary = self.primary_id();
        let mut on: HashMap<String, Vec<&'s Task>> = HashMap::new();
        for t in self.remaining(None) {
            on.entry(t.container_instance_arn.clone().unwrap_or_default())
                .or_default()
                .push(t);
        }
        let mut eligible = 0;
        let mut wanted_on = vec![];
        for view in self.state.views(&self.cluster) {
            // A daemon ignores its own group's count when checking room on an instance.
            let fits = feasibility::check(view, request);
            let member = request.constraints.iter().all(|c| match c {
                berth_scheduler::Constraint::MemberOf(e) => e.matches(&view.facts),
                berth_scheduler::Constraint::DistinctInstance => true,
            });
            if !view.active || !member {
                continue;
            }
            eligible += 1;
            let here = on.remove(&view.arn).unwrap_or_default();
            let current = here
                .iter()
                .any(|t| t.started_by.as_deref() == Some(primary.as_str()));
            for t in here
                .iter()
                .filter(|t| t.started_by.as_deref() != Some(primary.as_str()))
            {
                self.stop(
                    t,
                    format!("Scaling activity initiated by (deployment {primary})"),
                );
            }
            if !current && here.is_empty() {
                match fits {
                    Ok(()) => wanted_on.push(view.arn.clone()),
                    Err(m) => {
                        let name = subject(&self.service);
                        self.event_once(format!(
                            "{name} was unable to place a task on container instance {} because it has {}.",
                            arn::resource_id(&view.arn),
                            m.reason()
                        ));
                    }
                }
            }
        }
        // What is left runs on instances that drained, left or no longer qualify.
        for t in on.into_values().flatten() {
            self.stop(
                t,
                "Container instance is no longer eligible for this daemon".into(),
            );
        }
        self.service.desired_count = Some(eligible);
        if let Some(d) = self.deployments().first_mut() {
            d.desired_count = Some(eligible);
        }
        self.starts = Starts::On(wanted_on);
    }
}
