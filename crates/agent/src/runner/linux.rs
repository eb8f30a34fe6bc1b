//! The runner's part in a container's Linux options ([`crate::spec::linux`]): those that name
//! other containers of the task, its `links` and the task's PID and IPC namespaces, known once
//! those containers have started; and the task's cgroup ([`crate::task_cgroup`]).

use super::Runner;
use crate::runtime::ContainerRuntime;
use crate::spec::linux;
use crate::task_cgroup::Limits;
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

    /// Puts container `index` in the task's cgroup, made on the first call, when the task has
    /// a size and the host can hold it to it.
    pub(super) fn task_cgroup(&mut self, body: &mut ContainerCreateBody) -> Result<(), String> {
        let (Some(cgroups), Some(limits)) = (
            &self.ctx.cgroups,
            Limits::of(&self.assigned.task_definition),
        ) else {
            return Ok(());
        };
        let parent = cgroups.create(self.task_id(), limits)?;
        body.host_config.get_or_insert_default().cgroup_parent = Some(parent);
        Ok(())
    }

    /// Removes the task's cgroup, once its containers have stopped.
    pub(super) fn remove_task_cgroup(&self) {
        if let Some(cgroups) = &self.ctx.cgroups
            && Limits::of(&self.assigned.task_definition).is_some()
        {
            cgroups.remove(self.task_id());
        }
    }

    fn task_id(&self) -> &str {
        self.task_arn.rsplit('/').next().unwrap_or_default()
    }
}
