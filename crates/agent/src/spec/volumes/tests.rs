//! The mapping of volumes, mount points and `volumesFrom`, and what it refuses.

use super::*;
use berth_types::ecs::{HostVolumeProperties, MountPoint, VolumeFrom};

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
    let sources = binds(&[("data", "ecs-app-1-data-ab"), ("conf", "/srv/conf")]);
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

fn binds(pairs: &[(&str, &str)]) -> HashMap<String, Source> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Source::Bind(v.to_string())))
        .collect()
}

#[test]
fn a_mount_the_agent_made_is_bound_strictly_and_read_only_when_it_must_be() {
    let def = ContainerDefinition {
        mount_points: Some(vec![
            mount("shared", "/data", None),
            mount("ro", "/ro", Some(true)),
        ]),
        ..container("app")
    };
    let strict = |path: &str, read_only| Source::Mount {
        path: path.into(),
        read_only,
    };
    let sources = HashMap::from([
        ("shared".to_string(), strict("/state/fs/t/0", true)),
        ("ro".to_string(), strict("/state/fs/t/1", false)),
    ]);
    let mut body = ContainerCreateBody::default();
    apply(&mut body, &def, &sources, &HashMap::new()).expect("applied");
    let host = body.host_config.expect("host config");
    assert_eq!(host.binds, None);
    let mounts: Vec<_> = host
        .mounts
        .expect("mounts")
        .into_iter()
        .map(|m| (m.typ, m.source, m.target, m.read_only))
        .collect();
    let bind = |src: &str, dst: &str| {
        (
            Some(MountType::BIND),
            Some(src.to_string()),
            Some(dst.to_string()),
            Some(true),
        )
    };
    assert_eq!(
        mounts,
        [bind("/state/fs/t/0", "/data"), bind("/state/fs/t/1", "/ro")]
    );
}

#[test]
fn what_cannot_be_mounted_is_refused_in_the_ecs_agents_words() {
    let no_path = ContainerDefinition {
        mount_points: Some(vec![mount("data", "", None)]),
        ..container("app")
    };
    let sources = binds(&[("data", "v")]);
    let mut body = ContainerCreateBody::default();
    assert_eq!(
        apply(&mut body, &no_path, &sources, &HashMap::new()),
        Err("Unable to resolve volume mounts; invalid path: app data; v -> ".into())
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
