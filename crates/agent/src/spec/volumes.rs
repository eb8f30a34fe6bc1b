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
use bollard::models::ContainerCreateBody;
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
}

/// The volume's name in the task definition.
pub(crate) fn name(volume: &Volume) -> &str {
    volume.name.as_deref().unwrap_or_default()
}

/// How the engine provides `volume` (one [`check`] accepted).
pub(crate) fn kind(volume: &Volume) -> Kind {
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

/// Why the task's volumes cannot be applied here, if they cannot: shared file systems are not
/// supported yet, and what the ECS agent refuses is refused with its words.
pub(crate) fn check(td: &TaskDefinition) -> Result<(), String> {
    for volume in td.volumes.iter().flatten() {
        let unsupported = [
            (
                "efsVolumeConfiguration",
                volume.efs_volume_configuration.is_some(),
            ),
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
/// task definition volume to the engine's source (a host path or a volume name) and
/// `engine_names` a container of the task to its engine name.
pub(crate) fn apply(
    body: &mut ContainerCreateBody,
    def: &ContainerDefinition,
    sources: &HashMap<String, String>,
    engine_names: &HashMap<String, String>,
) -> Result<(), String> {
    let container = def.name.as_deref().unwrap_or_default();
    let mut binds = vec![];
    for mount in def.mount_points.iter().flatten() {
        let volume = mount.source_volume.as_deref().unwrap_or_default();
        let source = sources
            .get(volume)
            .ok_or_else(|| format!("Invalid volume referenced: {volume}"))?;
        let path = mount.container_path.as_deref().unwrap_or_default();
        if source.is_empty() || path.is_empty() {
            return Err(format!(
                "Unable to resolve volume mounts; invalid path: {container} {volume}; {source} -> {path}"
            ));
        }
        binds.push(with_mode(format!("{source}:{path}"), mount.read_only));
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
mod tests {
    use super::*;
    use berth_types::ecs::{EFSVolumeConfiguration, HostVolumeProperties, MountPoint, VolumeFrom};

    fn volume(name: &str) -> Volume {
        Volume {
            name: Some(name.into()),
            ..Volume::default()
        }
    }

    fn host(name: &str, path: &str) -> Volume {
        Volume {
            host: Some(HostVolumeProperties {
                source_path: Some(path.into()),
            }),
            ..volume(name)
        }
    }

    fn docker(name: &str, scope: Scope, autoprovision: Option<bool>) -> Volume {
        Volume {
            docker_volume_configuration: Some(DockerVolumeConfiguration {
                scope: Some(scope),
                autoprovision,
                driver_opts: Some(BTreeMap::from([("type".into(), "tmpfs".into())])),
                labels: Some(BTreeMap::from([("team".into(), "a".into())])),
                ..DockerVolumeConfiguration::default()
            }),
            ..volume(name)
        }
    }

    fn mount(volume: &str, path: &str, read_only: Option<bool>) -> MountPoint {
        MountPoint {
            source_volume: Some(volume.into()),
            container_path: Some(path.into()),
            read_only,
        }
    }

    fn from(container: &str, read_only: Option<bool>) -> VolumeFrom {
        VolumeFrom {
            source_container: Some(container.into()),
            read_only,
        }
    }

    fn container(name: &str) -> ContainerDefinition {
        ContainerDefinition {
            name: Some(name.into()),
            ..ContainerDefinition::default()
        }
    }

    fn td(volumes: Vec<Volume>, defs: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition {
            volumes: Some(volumes),
            container_definitions: Some(defs),
            ..TaskDefinition::default()
        }
    }

    fn strings(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_kind_of_volume() {
        assert_eq!(kind(&host("h", "/srv")), Kind::Host("/srv".into()));
        let scratch = Kind::Task {
            spec: VolumeSpec {
                driver: "local".into(),
                ..VolumeSpec::default()
            },
            scratch: true,
        };
        assert_eq!(kind(&volume("s")), scratch);
        // An empty host (or source path) is Docker's to manage: scratch space.
        assert_eq!(kind(&host("s", "")), scratch);
        let configured = VolumeSpec {
            driver: "local".into(),
            driver_opts: strings(&[("type", "tmpfs")]),
            labels: strings(&[("team", "a")]),
            ..VolumeSpec::default()
        };
        assert_eq!(
            kind(&docker("t", Scope::Task, None)),
            Kind::Task {
                spec: configured.clone(),
                scratch: false
            }
        );
        assert_eq!(
            kind(&docker("sh", Scope::Shared, Some(true))),
            Kind::Shared {
                spec: VolumeSpec {
                    name: "sh".into(),
                    ..configured
                },
                autoprovision: true
            }
        );
    }

    #[test]
    fn mount_points_and_volumes_from_become_binds() {
        let def = ContainerDefinition {
            mount_points: Some(vec![
                mount("data", "/data", None),
                mount("conf", "/etc/app", Some(true)),
            ]),
            volumes_from: Some(vec![from("writer", Some(true)), from("other", Some(false))]),
            ..container("app")
        };
        let sources = strings(&[("data", "ecs-app-1-data-ab"), ("conf", "/srv/conf")]);
        let names = strings(&[
            ("writer", "ecs-app-1-writer-1"),
            ("other", "ecs-app-1-other-2"),
        ]);
        let mut body = ContainerCreateBody::default();
        apply(&mut body, &def, &sources, &names).expect("applied");
        let host = body.host_config.expect("host config");
        assert_eq!(
            host.binds.expect("binds"),
            ["ecs-app-1-data-ab:/data", "/srv/conf:/etc/app:ro"]
        );
        assert_eq!(
            host.volumes_from.expect("volumes from"),
            ["ecs-app-1-writer-1:ro", "ecs-app-1-other-2"]
        );
        // Nothing to mount leaves the body alone.
        let mut plain = ContainerCreateBody::default();
        apply(&mut plain, &container("app"), &sources, &names).expect("applied");
        assert_eq!(plain.host_config.unwrap_or_default().binds, None);
    }

    #[test]
    fn what_cannot_be_mounted_is_refused_in_the_ecs_agents_words() {
        let no_path = ContainerDefinition {
            mount_points: Some(vec![mount("data", "", None)]),
            ..container("app")
        };
        let sources = strings(&[("data", "v")]);
        let mut body = ContainerCreateBody::default();
        assert_eq!(
            apply(&mut body, &no_path, &sources, &HashMap::new()),
            Err("Unable to resolve volume mounts; invalid path: app data; v -> ".into())
        );
        let efs = Volume {
            efs_volume_configuration: Some(EFSVolumeConfiguration::default()),
            ..volume("data")
        };
        assert_eq!(
            check(&td(vec![efs], vec![])),
            Err(
                "efsVolumeConfiguration (volume 'data') is not supported by this Berth agent yet"
                    .into()
            )
        );
        assert_eq!(
            check(&td(vec![docker("t", Scope::Task, Some(true))], vec![])),
            Err("volume [t] : task scoped volume could not be autoprovisioned".into())
        );
        let unknown_volume = ContainerDefinition {
            mount_points: Some(vec![mount("nope", "/x", None)]),
            ..container("app")
        };
        assert_eq!(
            check(&td(vec![], vec![unknown_volume])),
            Err("Invalid volume referenced: nope".into())
        );
        let unknown_source = ContainerDefinition {
            volumes_from: Some(vec![from("ghost", None)]),
            ..container("app")
        };
        assert_eq!(
            check(&td(vec![], vec![unknown_source])),
            Err("could not find volume source container with name ghost".into())
        );
        assert_eq!(
            check(&td(
                vec![
                    host("h", "/srv"),
                    volume("s"),
                    docker("sh", Scope::Shared, Some(true))
                ],
                vec![]
            )),
            Ok(())
        );
    }

    #[test]
    fn a_shared_volume_must_match_its_labels_and_options() {
        let wanted = VolumeSpec {
            name: "sh".into(),
            driver: "local".into(),
            driver_opts: strings(&[("type", "tmpfs")]),
            labels: strings(&[("team", "a")]),
        };
        let mut existing = wanted.clone();
        existing
            .labels
            .insert(crate::spec::LABEL_INSTANCE.into(), "arn:i".into());
        assert_eq!(mismatch(&existing, &wanted), None);
        existing.labels.insert("team".into(), "b".into());
        assert_eq!(
            mismatch(&existing, &wanted).as_deref(),
            Some(
                "intialize volume: non-autoprovisioned volume does not match existing volume labels: existing: map[team:b], expected: map[team:a]"
            )
        );
        existing.labels = wanted.labels.clone();
        existing.driver_opts.clear();
        assert_eq!(
            mismatch(&existing, &wanted).as_deref(),
            Some(
                "initialize volume: non-autoprovisioned volume does not match existing volume options: existing: map[], expected: map[type:tmpfs]"
            )
        );
    }

    #[test]
    fn volumes_from_waits_for_its_source() {
        let mut defs = vec![
            ContainerDefinition {
                volumes_from: Some(vec![from("writer", None)]),
                ..container("reader")
            },
            container("writer"),
        ];
        add_source_dependencies(&mut defs);
        let deps = defs[0].depends_on.clone().expect("depends on");
        assert_eq!(deps[0].container_name, "writer");
        assert_eq!(deps[0].condition, ContainerCondition::Start);
        assert_eq!(defs[1].depends_on, None);
    }
}
