//! One container of a running task: its definition, what the engine knows of it, and the
//! state change it reports.

use crate::logs::options::AwsLogsOptions;
use berth_types::ecs::{ContainerDefinition, ContainerStateChange, NetworkBinding};
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
pub(super) struct Slot {
    pub(super) def: ContainerDefinition,
    pub(super) name: String,
    pub(super) id: Option<String>,
    /// The engine's name for the container (a `tag` may name the log stream after it).
    pub(super) engine_name: String,
    pub(super) exit_code: Option<i32>,
    pub(super) reason: Option<String>,
    pub(super) bindings: Vec<NetworkBinding>,
    /// The manifest digest of its image, when the image came from a registry.
    pub(super) image_digest: Option<String>,
    /// The awslogs options, when the container logs there (checked in `refusal`).
    pub(super) awslogs: Option<AwsLogsOptions>,
    /// The shipping of its output.
    pub(super) shipper: Option<JoinHandle<()>>,
    /// The task role credentials endpoint in its network namespace.
    pub(super) credentials_endpoint: Option<JoinHandle<()>>,
}

impl Slot {
    pub(super) fn essential(&self) -> bool {
        self.def.essential.unwrap_or(true)
    }

    pub(super) fn change(&self) -> ContainerStateChange {
        ContainerStateChange {
            container_name: Some(self.name.clone()),
            runtime_id: self.id.clone(),
            exit_code: self.exit_code,
            reason: self.reason.clone(),
            network_bindings: Some(
                self.bindings
                    .iter()
                    .filter(|b| {
                        self.def.firelens_configuration.is_none()
                            || !crate::logs::firelens::engine::is_forward_binding(b)
                    })
                    .cloned()
                    .collect(),
            ),
            status: Some(
                match (self.id.is_some(), self.exit_code.is_some()) {
                    (_, true) => "STOPPED",
                    (true, false) => "RUNNING",
                    (false, false) => "PENDING",
                }
                .into(),
            ),
            image_digest: self.image_digest.clone(),
        }
    }
}
