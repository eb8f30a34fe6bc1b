//! Task definition `volumes` and a container's `mountPoints` and `volumesFrom`, as the ECS agent
//! applies them on Linux. A `host.sourcePath` volume is a bind mount of that path. A volume with
//! neither a source path nor a `dockerVolumeConfiguration` is the task's scratch space: a `local`
//! Docker volume the task owns. A `dockerVolumeConfiguration` volume is the task's too (scope
//! `task`, the default), or, with scope `shared`, the engine's volume of exactly that name, which
//! outlives the task. Mount points become `HostConfig.Binds` (`source:path[:ro]`, as the ECS
//! agent writes them) and `volumesFrom` `HostConfig.VolumesFrom` (`<engine name>[:ro]`). The
//! error texts are the ECS agent's. Pure, so it is tested without Docker.

use crate::runtime::VolumeSpec;
use berth_types::ecs::{
    ContainerCondition, ContainerDefinition, ContainerDependency, DockerVolumeConfiguration, Scope,
    TaskDefinition, Volume,
};
use bollard::models::{ContainerCreateBody, Mount, MountType};
use std::collections::{BTreeMap, HashMap};

/// Label: on a volume the task owns, its name in the task definition (the engine's name has a
/// random suffix), so an agent that restarts finds it again.
pub(crate) const LABEL_VOLUME: &str = "berth.volume-name";

/// The driver of a volume whose definition names none, and of scratch volumes.
const LOCAL_DRIVER: &str = "local";

/// How the engine provides one task definition volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bind mount of this host path.
    Host(String),
    /// A volume the task owns: created before its first container starts and removed with the
    /// task's containers. `scratch` is one without a `dockerVolumeConfiguration`, created only
    /// when a container mounts it, as the ECS agent does. `spec.name` is left empty: the
    /// runner names it.
    Task { spec: VolumeSpec, scratch: bool },
    /// The engine's volume named as the task definition volume, kept after the task.
    Shared {
        spec: VolumeSpec,
        autoprovision: bool,
    },
    /// A shared file system (`efsVolumeConfiguration`), as the control plane resolved it in the
    /// assignment.
    FileSystem,
}

/// Where a mount point's data comes from on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A host path or an engine volume name, as `HostConfig.Binds` takes them.
    Bind(String),
    /// A mount the agent made and checked: bound as a `HostConfig.Mounts` bind, which fails
    /// when the path is gone instead of creating an empty directory there. `read_only` when
    /// the volume may not be written whatever the mount point says.
    Mount { path: String, read_only: bool },
}

/// The volume's name in the task definition.
pub(crate) fn name(volume: &Volume) -> &str {
    volume.name.as_deref().unwrap_or_default()
}

/// How the engine provides `volume` (one [`check`] accepted).
pub(crate) fn kind(volume: &Volume) -> Kind {
    if volume.efs_volume_configuration.is_some() {
        return Kind::FileSystem;
    }
    let source = volume.host.as_ref().and_then(|h| h.source_path.as_deref());
    if let Some(source) = source.filter(|s| !s.is_empty()) {
        return Kind::Host(source.to_string());
    }
    let Some(config) = &volume.docker_volume_configuration else {
        return Kind::Task {
            spec: spec_of(&DockerVolumeConfiguration::default()),
            scratch: true,
        };
    };
    let spec = spec_of(config);
    match config.scope.unwrap_or_default() {
        Scope::Task => Kind::Task {
            spec,
            scratch: false,
        },
        Scope::Shared => Kind::Shared {
            spec: VolumeSpec {
                name: name(volume).to_string(),
                ..spec
            },
            autoprovision: config.autoprovision.unwrap_or(false),
        },
    }
}

fn spec_of(config: &DockerVolumeConfiguration) -> VolumeSpec {
    VolumeSpec {
        name: String::new(),
        driver: config
            .driver
            .clone()
            .unwrap_or_else(|| LOCAL_DRIVER.to_string()),
        driver_opts: config
            .driver_opts
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        labels: config
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }
}

/// Why the task's volumes cannot be applied here, if they cannot: file systems Berth has no
/// engine for, and what the ECS agent refuses, with its words.
pub(crate) fn check(td: &TaskDefinition) -> Result<(), String> {
    for volume in td.volumes.iter().flatten() {
        let unsupported = [
            (
                "fsxWindowsFileServerVolumeConfiguration",
                volume
                    .fsx_windows_file_server_volume_configuration
                    .is_some(),
            ),
            (
                "s3filesVolumeConfiguration",
                volume.s3files_volume_configuration.is_some(),
            ),
            (
                "configuredAtLaunch",
                volume.configured_at_launch == Some(true),
            ),
        ];
        if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(format!(
                "{field} (volume '{}') is not supported by this Berth agent yet",
                name(volume)
            ));
        }
        let config = volume.docker_volume_configuration.as_ref();
        let task_scope = config.is_some_and(|c| c.scope.unwrap_or_default() == Scope::Task);
        if task_scope && config.and_then(|c| c.autoprovision) == Some(true) {
            return Err(format!(
                "volume [{}] : task scoped volume could not be autoprovisioned",
                name(volume)
            ));
        }
    }
    let defs = td.container_definitions.as_deref().unwrap_or_default();
    for def in defs {
        for mount in def.mount_points.iter().flatten() {
            let source = mount.source_volume.as_deref().unwrap_or_default();
            if !td.volumes.iter().flatten().any(|v| name(v) == source) {
                return Err(format!("Invalid volume referenced: {source}"));
            }
        }
        for from in def.volumes_from.iter().flatten() {
            let source = from.source_container.as_deref().unwrap_or_default();
            if !defs.iter().any(|d| d.name.as_deref() == Some(source)) {
                return Err(format!(
                    "could not find volume source container with name {source}"
                ));
            }
        }
    }
    Ok(())
}

/// Whether some container of the task mounts volume `name`.
pub(crate) fn mounted(td: &TaskDefinition, name: &str) -> bool {
    td.container_definitions
        .iter()
        .flatten()
        .flat_map(|d| d.mount_points.iter().flatten())
        .any(|m| m.source_volume.as_deref() == Some(name))
}

/// A container with `volumesFrom` waits until its source containers exist, as the ECS agent
/// orders them (here a container is created as it starts).
pub(crate) fn add_source_dependencies(defs: &mut [ContainerDefinition]) {
    for def in defs {
        let sources: Vec<String> = def
            .volumes_from
            .iter()
            .flatten()
            .filter_map(|f| f.source_container.clone())
            .collect();
        for source in sources {
            def.depends_on
                .get_or_insert_with(Vec::new)
                .push(ContainerDependency {
                    container_name: source,
                    condition: ContainerCondition::Start,
                });
        }
    }
}

/// Why an existing shared volume does not fit its definition, if it does not: the ECS agent
/// compares the labels and the driver options (not the driver). Berth's own labels on it are
/// not the definition's and are left out.
pub(crate) fn mismatch(existing: &VolumeSpec, wanted: &VolumeSpec) -> Option<String> {
    let labels: HashMap<String, String> = existing
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != crate::spec::LABEL_INSTANCE)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if labels != wanted.labels {
        return Some(format!(
            "intialize volume: non-autoprovisioned volume does not match existing volume labels: existing: {}, expected: {}",
            go_map(&labels),
            go_map(&wanted.labels)
        ));
    }
    if existing.driver_opts != wanted.driver_opts {
        return Some(format!(
            "initialize volume: non-autoprovisioned volume does not match existing volume options: existing: {}, expected: {}",
            go_map(&existing.driver_opts),
            go_map(&wanted.driver_opts)
        ));
    }
    None
}

/// A map as Go's `%v` prints it (`map[a:1 b:2]`), as the ECS agent's messages show them.
fn go_map(map: &HashMap<String, String>) -> String {
    let sorted: BTreeMap<_, _> = map.iter().collect();
    let pairs: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", pairs.join(" "))
}

/// Adds container `def`'s mount points and `volumesFrom` to its create body. `sources` maps a
/// task definition volume to where its data is and `engine_names` a container of the task to
/// its engine name.
pub(crate) fn apply(
    body: &mut ContainerCreateBody,
    def: &ContainerDefinition,
    sources: &HashMap<String, Source>,
    engine_names: &HashMap<String, String>,
) -> Result<(), String> {
    let container = def.name.as_deref().unwrap_or_default();
    let mut binds = vec![];
    let mut mounts = vec![];
    for mount in def.mount_points.iter().flatten() {
        let volume = mount.source_volume.as_deref().unwrap_or_default();
        let source = sources
            .get(volume)
            .ok_or_else(|| format!("Invalid volume referenced: {volume}"))?;
        let path = mount.container_path.as_deref().unwrap_or_default();
        let (Source::Bind(host) | Source::Mount { path: host, .. }) = source;
        if host.is_empty() || path.is_empty() {
            return Err(format!(
                "Unable to resolve volume mounts; invalid path: {container} {volume}; {host} -> {path}"
            ));
        }
        match source {
            Source::Bind(host) => {
                binds.push(with_mode(format!("{host}:{path}"), mount.read_only));
            }
            Source::Mount {
                path: host,
                read_only,
            } => mounts.push(Mount {
                typ: Some(MountType::BIND),
                source: Some(host.clone()),
                target: Some(path.to_string()),
                read_only: Some(*read_only || mount.read_only == Some(true)),
                ..Mount::default()
            }),
        }
    }
    let mut volumes_from = vec![];
    for from in def.volumes_from.iter().flatten() {
        let source = from.source_container.as_deref().unwrap_or_default();
        let engine_name = engine_names
            .get(source)
            .ok_or_else(|| format!("Volume target not available: {source}"))?;
        volumes_from.push(with_mode(engine_name.clone(), from.read_only));
    }
    let host = body.host_config.get_or_insert_default();
    if !binds.is_empty() {
        host.binds.get_or_insert_default().extend(binds);
    }
    if !mounts.is_empty() {
        host.mounts.get_or_insert_default().extend(mounts);
    }
    if !volumes_from.is_empty() {
        host.volumes_from = Some(volumes_from);
    }
    Ok(())
}

fn with_mode(mount: String, read_only: Option<bool>) -> String {
    if read_only == Some(true) {
        format!("{mount}:ro")
    } else {
        mount
    }
}

#[cfg(test)]
mod tests;
