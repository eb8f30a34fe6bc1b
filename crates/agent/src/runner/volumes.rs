//! The runner's part in a task's volumes ([`crate::spec::volumes`]): before a container is
//! created, the Docker volumes of the task exist (the task's own created, a shared one found or
//! autoprovisioned), its shared file systems are mounted (GlusterFS by
//! [`crate::shared_fs`], NFS as a volume of the task's own), and its create body gets its
//! mounts. The task's own volumes carry its ARN as a label: the runner removes them with the
//! task's containers, an agent that restarts finds them again, and the cleanup sweep removes
//! those of tasks whose containers are gone.

use super::Runner;
use crate::runtime::{ContainerRuntime, VolumeSpec};
use crate::spec::volumes::{self, Kind, LABEL_VOLUME, Source};
use crate::spec::{LABEL_INSTANCE, LABEL_TASK_ARN};
use berth_types::protocol::{SharedSource, SharedVolume};
use bollard::models::ContainerCreateBody;
use std::collections::HashMap;

impl<R: ContainerRuntime> Runner<'_, R> {
    /// Makes sure the task's Docker volumes exist, then adds container `index`'s mounts to its
    /// create body.
    pub(super) async fn mount_volumes(
        &mut self,
        index: usize,
        body: &mut ContainerCreateBody,
    ) -> Result<(), String> {
        self.prepare_volumes().await?;
        let td = &self.assigned.task_definition;
        let mut sources = self.volumes.clone();
        for volume in td.volumes.iter().flatten() {
            if let Kind::Host(path) = volumes::kind(volume) {
                sources.insert(volumes::name(volume).to_string(), Source::Bind(path));
            }
        }
        let engine_names: HashMap<String, String> = self
            .slots
            .iter()
            .filter(|s| s.id.is_some())
            .map(|s| (s.name.clone(), s.engine_name.clone()))
            .collect();
        volumes::apply(body, &self.slots[index].def, &sources, &engine_names)
    }

    /// Creates or finds the task's Docker volumes that are not known yet, as the ECS agent does
    /// before the task's containers: the scratch volumes some container mounts, every other
    /// task-scoped one, and the shared ones; and mounts its shared file systems.
    async fn prepare_volumes(&mut self) -> Result<(), String> {
        let td = &self.assigned.task_definition;
        let runtime = &self.ctx.runtime;
        for (index, volume) in td.volumes.iter().flatten().enumerate() {
            let name = volumes::name(volume);
            if self.volumes.contains_key(name) {
                continue;
            }
            let engine_name = match volumes::kind(volume) {
                Kind::Host(_) => continue,
                Kind::Task { scratch: true, .. } if !volumes::mounted(td, name) => continue,
                Kind::Task { spec, .. } => self.create_task_volume(name, spec).await?,
                Kind::FileSystem => {
                    let source = self.file_system(index, name).await?;
                    self.volumes.insert(name.to_string(), source);
                    continue;
                }
                Kind::Shared {
                    spec,
                    autoprovision,
                } => {
                    match runtime.inspect_volume(&spec.name).await? {
                        Some(existing) if autoprovision => {
                            if let Some(reason) = volumes::mismatch(&existing, &spec) {
                                return Err(reason);
                            }
                        }
                        Some(_) => {}
                        None if autoprovision => {
                            let mut labeled = spec.clone();
                            labeled
                                .labels
                                .insert(LABEL_INSTANCE.to_string(), self.ctx.instance_arn.clone());
                            runtime.create_volume(&labeled).await?;
                        }
                        None => {
                            return Err(format!(
                                "initialize volume: volume detection failed, volume '{name}' does not exist and autoprovision is set to false: no such volume"
                            ));
                        }
                    }
                    spec.name
                }
            };
            self.volumes
                .insert(name.to_string(), Source::Bind(engine_name));
        }
        Ok(())
    }

    /// Creates a Docker volume the task owns, labelled so that it goes with the task.
    async fn create_task_volume(&self, name: &str, mut spec: VolumeSpec) -> Result<String, String> {
        let td = &self.assigned.task_definition;
        spec.name = crate::spec::docker_name(td, name, &super::uuid_suffix());
        spec.labels.extend([
            (LABEL_INSTANCE.to_string(), self.ctx.instance_arn.clone()),
            (LABEL_TASK_ARN.to_string(), self.task_arn.clone()),
            (LABEL_VOLUME.to_string(), name.to_string()),
        ]);
        self.ctx.runtime.create_volume(&spec).await?;
        Ok(spec.name)
    }

    /// Shared file system volume `name` (the `index`th of the definition), as the control
    /// plane resolved it: mounted with its FUSE client (GlusterFS), or an NFS volume of the
    /// task's own that the kernel mounts.
    async fn file_system(&self, index: usize, name: &str) -> Result<Source, String> {
        let shared = self.assigned.shared_volumes.iter().find(|s| s.name == name);
        let Some(SharedVolume {
            file_system_id,
            source: Some(source),
            read_only,
            ..
        }) = shared
        else {
            return Err(format!("shared volume '{name}' has no source"));
        };
        match source {
            SharedSource::Nfs {
                server,
                path,
                options,
            } => {
                let mut o = format!("addr={server}");
                for option in options.split(',').filter(|o| !o.is_empty()) {
                    o.push(',');
                    o.push_str(option);
                }
                if *read_only {
                    o.push_str(",ro");
                }
                let spec = VolumeSpec {
                    name: String::new(),
                    driver: "local".into(),
                    driver_opts: HashMap::from([
                        ("type".to_string(), "nfs".to_string()),
                        ("o".to_string(), o),
                        ("device".to_string(), format!(":{path}")),
                    ]),
                    labels: HashMap::new(),
                };
                let volume = self.create_task_volume(name, spec).await.map_err(|e| {
                    format!("ResourceInitializationError: failed to mount shared volume '{name}' ({file_system_id}): nfs {server}:{path}: {e}")
                })?;
                Ok(Source::Bind(volume))
            }
            SharedSource::Glusterfs { .. } => {
                let mounts = &self.ctx.shared_fs;
                let point = mounts
                    .mount(&self.task_arn, index, name, file_system_id, source)
                    .await?;
                Ok(Source::Mount {
                    path: point.display().to_string(),
                    read_only: *read_only,
                })
            }
        }
    }

    /// Why the task's shared file system volumes cannot be mounted anywhere, if so: checked
    /// before anything is pulled or created.
    pub(super) fn unresolved(&self) -> Result<(), String> {
        let td = &self.assigned.task_definition;
        for volume in td.volumes.iter().flatten() {
            if volumes::kind(volume) != Kind::FileSystem {
                continue;
            }
            let name = volumes::name(volume);
            let shared = self.assigned.shared_volumes.iter().find(|s| s.name == name);
            match shared {
                Some(SharedVolume {
                    source: Some(_), ..
                }) => {}
                Some(SharedVolume { error: Some(e), .. }) => return Err(e.clone()),
                _ => {
                    return Err(format!(
                        "ResourceInitializationError: shared volume '{name}' was not resolved by the control plane: upgrade the Berth server to the agent's version"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the task has shared file systems mounted by the agent.
    pub(super) fn has_mounts(&self) -> bool {
        self.volumes
            .values()
            .any(|s| matches!(s, Source::Mount { .. }))
    }

    /// Why the task must stop, if a shared file system mount went away under it: its FUSE
    /// client died, so every access in the containers fails (`Transport endpoint is not
    /// connected`) and only new containers on a new mount recover.
    pub(super) fn lost_mount(&self) -> Option<String> {
        self.volumes.iter().find_map(|(name, source)| {
            let Source::Mount { path, .. } = source else {
                return None;
            };
            let error = std::fs::metadata(path).err()?;
            let shared = self
                .assigned
                .shared_volumes
                .iter()
                .find(|s| s.name == *name);
            let id = shared
                .map(|s| s.file_system_id.as_str())
                .unwrap_or_default();
            Some(format!(
                "Shared volume '{name}' ({id}) lost its connection: {error}"
            ))
        })
    }

    /// Takes over the volumes this task created and the shared file systems mounted for it
    /// before the agent restarted (so they are watched as before).
    pub(super) async fn adopt_volumes(&mut self) {
        for volume in self.own_volumes().await {
            if let Some(name) = volume.labels.get(LABEL_VOLUME) {
                self.volumes.insert(name.clone(), Source::Bind(volume.name));
            }
        }
        let td = &self.assigned.task_definition;
        for (index, volume) in td.volumes.iter().flatten().enumerate() {
            let name = volumes::name(volume);
            let Some(point) = self.ctx.shared_fs.mounted(&self.task_arn, index) else {
                continue;
            };
            let shared = self.assigned.shared_volumes.iter().find(|s| s.name == name);
            let source = Source::Mount {
                path: point.display().to_string(),
                read_only: shared.is_some_and(|s| s.read_only),
            };
            self.volumes.insert(name.to_string(), source);
        }
    }

    /// Removes the task's own volumes, once its containers are removed.
    pub(super) async fn remove_volumes(&self) {
        for volume in self.own_volumes().await {
            if let Err(e) = self.ctx.runtime.remove_volume(&volume.name).await {
                tracing::warn!(volume = %volume.name, error = %e, "volume remove failed");
            }
        }
    }

    async fn own_volumes(&self) -> Vec<VolumeSpec> {
        let listed = self.ctx.runtime.list_volumes(&self.ctx.instance_arn).await;
        listed
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.labels.get(LABEL_TASK_ARN) == Some(&self.task_arn))
            .collect()
    }
}

/// Removes the volumes of tasks that have no container left on the engine and are not `busy`
/// (running, or to run): what a task leaves when the sweep removed its containers, or when the
/// agent stopped before its runner could.
pub(crate) async fn sweep<R: ContainerRuntime>(
    runtime: &R,
    instance_arn: &str,
    busy: impl Fn(&str) -> bool,
) {
    let (Ok(volumes), Ok(containers)) = (
        runtime.list_volumes(instance_arn).await,
        runtime.list(instance_arn, None).await,
    ) else {
        return;
    };
    for volume in volumes {
        let Some(task) = volume.labels.get(LABEL_TASK_ARN) else {
            continue;
        };
        if busy(task) || containers.iter().any(|c| &c.task_arn == task) {
            continue;
        }
        tracing::info!(%task, volume = %volume.name, "removing a stopped task's volume");
        if let Err(e) = runtime.remove_volume(&volume.name).await {
            tracing::warn!(volume = %volume.name, error = %e, "volume remove failed");
        }
    }
}

#[cfg(test)]
mod tests;
