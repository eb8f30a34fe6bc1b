//! The runner's part in a container's Linux options ([`crate::spec::linux`]): those that name
//! other containers of the task, its `links` and the task's PID and IPC namespaces, known once
//! those containers have started.

use super::Runner;
use crate::runtime::ContainerRuntime;
use crate::spec::linux;
use bollard::models::ContainerCreateBody;

impl<R: ContainerRuntime> Runner<'_, R> {
    /// Adds container `index`'s links and namespaces to its create body.
    pub(super) fn linux_body(&self, index: usize, body: &mut ContainerCreateBody) {
        let host = body.host_config.get_or_insert_default();
        host.links = linux::links(&self.slots[index].def, |target| {
            self.slots
                .iter()
                .find(|s| s.name == target && s.id.is_some())
                .map(|s| s.engine_name.clone())
        });
        // The first container started holds the task's namespaces while it runs.
        let holder = self
            .slots
            .iter()
            .find(|s| s.id.is_some() && s.exit_code.is_none())
            .and_then(|s| s.id.as_deref());
        linux::namespaces(&self.assigned.task_definition, holder, host);
    }
}
