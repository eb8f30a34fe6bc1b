//! What each agent is told to run, and the wake-ups that tell it.
//!
//! Level-triggered: a commit that changes a task wakes its instance's stream (from the store's
//! change feed, see `wakeups`), and the stream then sends every task whose desired status
//! differs from what it last sent on that connection. A missed wake-up is repaired by the next
//! one, and a new connection starts from nothing sent, so a reconnecting agent receives
//! everything it should run.

use crate::ControlPlane;
use crate::error::ControlError;
use crate::status::InstanceStatus;
use berth_types::ecs::LogDriver;
use berth_types::protocol::{AssignedTask, ManifestEntry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// One wake-up channel per container instance.
#[derive(Default)]
pub(crate) struct AgentHub {
    channels: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl AgentHub {
    fn sender(&self, instance_arn: &str) -> watch::Sender<u64> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(instance_arn.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    /// Wakes the stream of an instance, if one is listening.
    pub(crate) fn wake(&self, instance_arn: &str) {
        self.sender(instance_arn).send_modify(|v| *v += 1);
    }
}

/// What one agent connection has been sent: task ARN → desired status.
pub type Sent = HashMap<String, String>;

impl ControlPlane {
    /// Subscribes to wake-ups for an instance; refused when it is not registered.
    pub fn subscribe_agent(
        self: &Arc<Self>,
        instance_arn: &str,
    ) -> Result<watch::Receiver<u64>, ControlError> {
        self.check_agent_instance(instance_arn)?;
        self.follow_commits();
        Ok(self.agents.sender(instance_arn).subscribe())
    }

    /// Ok while the instance is registered (ACTIVE or DRAINING).
    pub fn check_agent_instance(&self, instance_arn: &str) -> Result<(), ControlError> {
        let state = self.read();
        match state.instances.get(instance_arn) {
            Some(i) if !InstanceStatus::Inactive.is(&i.status) => Ok(()),
            Some(_) => Err(ControlError::invalid(format!(
                "container instance {instance_arn} is deregistered: register the host again"
            ))),
            None => Err(ControlError::invalid(format!(
                "container instance {instance_arn} is not registered: call RegisterContainerInstance first"
            ))),
        }
    }

    /// The tasks this connection has not yet been told about in their current desired status.
    pub fn pending_assignments(&self, instance_arn: &str, sent: &mut Sent) -> Vec<AssignedTask> {
        let state = self.read();
        let mut out = vec![];
        let mut live = std::collections::HashSet::new();
        for task in state.tasks_on(instance_arn) {
            let arn = task.task_arn.clone().unwrap_or_default();
            let desired = task.desired_status.clone().unwrap_or_default();
            live.insert(arn.clone());
            if sent.get(&arn) == Some(&desired) {
                continue;
            }
            let Some(td) = state.definition_of(task) else {
                continue;
            };
            let network = crate::network::enis::task_network(&state, &arn);
            sent.insert(arn, desired);
            out.push(AssignedTask {
                task: task.clone(),
                task_definition: td.clone(),
                shared_volumes: vec![],
                network,
            });
        }
        sent.retain(|arn, _| live.contains(arn));
        drop(state);
        // Resolved once the state is let go: it reads the task roles' policies.
        for assigned in &mut out {
            let (task, td) = (&assigned.task, &assigned.task_definition);
            let task_role = crate::task_identity::task_role(task, td);
            assigned.shared_volumes = self.shared_volumes(td, task_role.as_deref());
        }
        out
    }

    /// Every task the instance should have, for the agent to reconcile against.
    pub fn manifest(&self, instance_arn: &str) -> Vec<ManifestEntry> {
        self.read()
            .tasks_on(instance_arn)
            .map(|t| ManifestEntry {
                task_arn: t.task_arn.clone().unwrap_or_default(),
                desired_status: t.desired_status.clone().unwrap_or_default(),
            })
            .collect()
    }
}

impl ControlPlane {
    /// Whether a task not yet stopped on `instance` has an image in repository `name` of a
    /// registry: what the instance's agent may pull.
    pub fn runs_image_from(&self, instance: &str, name: &str) -> bool {
        let state = self.read();
        state.tasks_on(instance).any(|task| {
            state.definition_of(task).is_some_and(|td| {
                td.container_definitions
                    .iter()
                    .flatten()
                    .filter_map(|c| c.image.as_deref())
                    .any(|image| {
                        berth_types::image::reference(image).is_some_and(|(_, repo)| repo == name)
                    })
            })
        })
    }

    /// Whether a task placed on `instance` sends its containers' output to log group `group`
    /// (`awslogs-group`): what the instance's agent may write. Tasks not yet stopped are
    /// indexed; the output a task left as it stopped may still be on its way, so stopped tasks
    /// still held are looked through after them.
    pub fn logs_to_group(&self, instance: &str, group: &str) -> bool {
        let state = self.read();
        let logs_there = |task: &berth_types::ecs::Task| {
            state.definition_of(task).is_some_and(|td| {
                td.container_definitions
                    .iter()
                    .flatten()
                    .filter_map(|c| c.log_configuration.as_ref())
                    .any(|l| {
                        l.log_driver == LogDriver::Awslogs
                            && l.options
                                .as_ref()
                                .and_then(|o| o.get("awslogs-group"))
                                .is_some_and(|g| g == group)
                    })
            })
        };
        state.tasks_on(instance).any(logs_there)
            || state.tasks.values().any(|task| {
                task.container_instance_arn.as_deref() == Some(instance) && logs_there(task)
            })
    }
}
