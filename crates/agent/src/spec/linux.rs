//! The Linux options of a container, as the ECS agent hands them to Docker on Linux:
//! `linuxParameters` (capabilities, init, `/dev/shm`, tmpfs mounts, devices, swap), `ulimits`,
//! `systemControls`, `dockerSecurityOptions` and `dnsSearchDomains` go on the container's host
//! config ([`apply`]); the task's `pidMode` and `ipcMode` ([`namespaces`]) and the container's
//! `links` ([`links`]) name other containers of the task, so the runner adds them when it
//! creates the container. What cannot be honoured is refused by [`check`] before anything is
//! pulled or created, with a reason that names the field.
//!
//! `ephemeralStorage` is not applied, on purpose: ECS honours it on Fargate only and ignores it
//! for tasks on EC2 instances, whose containers write to the instance's own disk; Berth runs
//! tasks as EC2 does (the control plane still checks its range at registration).

use super::MIB;
use berth_types::ecs::{
    ContainerCondition, ContainerDefinition, ContainerDependency, Device, DeviceCgroupPermission,
    IpcMode, NetworkMode, PidMode, Task, TaskDefinition, Tmpfs,
};
use bollard::models::{DeviceMapping, HostConfig, ResourcesUlimits};

/// The swappiness ECS gives a container that sets `maxSwap` without `swappiness`.
const DEFAULT_SWAPPINESS: i64 = 60;

/// Sets the container's own Linux options on its host config. `host.memory` must already hold
/// the container's memory limit: swap is counted on top of it.
pub(super) fn apply(def: &ContainerDefinition, host: &mut HostConfig) {
    host.ulimits = def.ulimits.as_ref().map(|limits| {
        limits
            .iter()
            .map(|u| ResourcesUlimits {
                name: Some(u.name.as_str().into()),
                soft: Some(u.soft_limit.into()),
                hard: Some(u.hard_limit.into()),
            })
            .collect()
    });
    host.sysctls = def.system_controls.as_ref().map(|controls| {
        controls
            .iter()
            // One without a namespace is refused by `check`.
            .filter_map(|c| Some((c.namespace.clone()?, c.value.clone().unwrap_or_default())))
            .collect()
    });
    host.security_opt = def.docker_security_options.clone();
    host.dns_search = def.dns_search_domains.clone();
    let Some(linux) = &def.linux_parameters else {
        return;
    };
    if let Some(capabilities) = &linux.capabilities {
        // Docker takes the names as ECS does, with or without `CAP_`, and `ALL`.
        host.cap_add = capabilities.add.clone();
        host.cap_drop = capabilities.drop.clone();
    }
    host.init = linux.init_process_enabled;
    host.shm_size = linux.shared_memory_size.map(|m| i64::from(m) * MIB);
    host.tmpfs = linux.tmpfs.as_ref().map(|mounts| {
        mounts
            .iter()
            .map(|t| (t.container_path.clone(), tmpfs_options(t)))
            .collect()
    });
    host.devices = linux
        .devices
        .as_ref()
        .map(|devices| devices.iter().map(device).collect());
    // A negative maxSwap, as an absent one, leaves the engine's default (swap up to the memory
    // limit again); ECS ignores swappiness without maxSwap. Without a memory limit `check` has
    // refused the task already.
    if let (Some(max_swap), Some(memory)) = (linux.max_swap.filter(|s| *s >= 0), host.memory) {
        host.memory_swap = Some(memory + i64::from(max_swap) * MIB);
        host.memory_swappiness = Some(linux.swappiness.map_or(DEFAULT_SWAPPINESS, i64::from));
    }
}

/// Docker's tmpfs options: the size, then the mount options as ECS has them.
fn tmpfs_options(t: &Tmpfs) -> String {
    std::iter::once(format!("size={}m", t.size))
        .chain(t.mount_options.iter().flatten().cloned())
        .collect::<Vec<_>>()
        .join(",")
}

/// A host device; without a containerPath it keeps its host path, and without permissions the
/// container may read, write and mknod it (ECS's default, as `docker run --device`'s).
fn device(d: &Device) -> DeviceMapping {
    let permissions = match d.permissions.as_deref() {
        None | Some([]) => "rwm".to_string(),
        Some(list) => list
            .iter()
            .map(|p| match p {
                DeviceCgroupPermission::Read => 'r',
                DeviceCgroupPermission::Write => 'w',
                DeviceCgroupPermission::Mknod => 'm',
            })
            .collect(),
    };
    DeviceMapping {
        path_on_host: Some(d.host_path.clone()),
        path_in_container: Some(d.container_path.clone().unwrap_or(d.host_path.clone())),
        cgroup_permissions: Some(permissions),
    }
}

/// Why container `def` of `task` (of `td`) cannot run as defined, or `Ok`.
pub(crate) fn check(
    task: &Task,
    td: &TaskDefinition,
    def: &ContainerDefinition,
) -> Result<(), String> {
    let name = def.name.as_deref().unwrap_or_default();
    let memory = super::override_for(task, name)
        .and_then(|o| o.memory)
        .or(def.memory);
    let max_swap = def.linux_parameters.as_ref().and_then(|l| l.max_swap);
    if max_swap.is_some_and(|s| s >= 0) && memory.is_none() {
        // Docker refuses a swap limit without a memory limit: say which field to set.
        return Err(format!(
            "CannotCreateContainerError: container {name} sets linuxParameters.maxSwap without a memory limit: set memory on the container"
        ));
    }
    if def
        .system_controls
        .iter()
        .flatten()
        .any(|c| c.namespace.is_none())
    {
        return Err(format!(
            "CannotCreateContainerError: container {name} has a systemControls entry without a namespace"
        ));
    }
    let links = def.links.as_deref().unwrap_or_default();
    let bridged = !matches!(
        td.network_mode,
        Some(NetworkMode::Host) | Some(NetworkMode::None)
    );
    if !links.is_empty() && !bridged {
        return Err(format!(
            "CannotCreateContainerError: container {name} sets links, which only the bridge network mode supports"
        ));
    }
    let defs = td.container_definitions.as_deref().unwrap_or_default();
    for target in links.iter().map(|link| link_target(link)) {
        if target == name || !defs.iter().any(|d| d.name.as_deref() == Some(target)) {
            return Err(format!(
                "CannotCreateContainerError: container {name} links to {target}, which is not another container of the task"
            ));
        }
    }
    Ok(())
}

/// The container a link (`name` or `name:alias`) names.
fn link_target(link: &str) -> &str {
    link.split_once(':').map_or(link, |(target, _)| target)
}

/// Makes every container start after the containers it links to, as the ECS agent does: Docker
/// links only to a running container.
pub(crate) fn add_link_dependencies(defs: &mut [ContainerDefinition]) {
    for def in defs.iter_mut() {
        let targets: Vec<String> = def
            .links
            .iter()
            .flatten()
            .map(|link| link_target(link).to_string())
            .collect();
        for target in targets {
            start_after(def, &target);
        }
    }
}

/// Makes `def` wait until container `target` has started, unless it waits for it already.
pub(crate) fn start_after(def: &mut ContainerDefinition, target: &str) {
    let deps = def.depends_on.get_or_insert_with(Vec::new);
    if !deps.iter().any(|d| d.container_name == target) {
        deps.push(ContainerDependency {
            container_name: target.to_string(),
            condition: ContainerCondition::Start,
        });
    }
}

/// The Docker links of `def`: each `name[:alias]` with container `name`'s engine name, which
/// `engine_name` gives for a started container of the task. The alias defaults to the name.
pub(crate) fn links(
    def: &ContainerDefinition,
    engine_name: impl Fn(&str) -> Option<String>,
) -> Option<Vec<String>> {
    let links = def.links.as_ref().filter(|l| !l.is_empty())?;
    Some(
        links
            .iter()
            .filter_map(|link| {
                let (target, alias) = link.split_once(':').unwrap_or((link, link));
                Some(format!("{}:{alias}", engine_name(target)?))
            })
            .collect(),
    )
}

/// The PID and IPC namespaces of a container of `td`. `holder` is the engine id of the task's
/// running container that holds the task's namespaces (the first one started, standing in for
/// the ECS agent's pause container), or None when this container is the first.
pub(crate) fn namespaces(td: &TaskDefinition, holder: Option<&str>, host: &mut HostConfig) {
    let joined = holder.map(|id| format!("container:{id}"));
    host.pid_mode = match td.pid_mode {
        Some(PidMode::Host) => Some("host".into()),
        Some(PidMode::Task) => joined.clone(),
        None => None,
    };
    host.ipc_mode = match td.ipc_mode {
        Some(IpcMode::Host) => Some("host".into()),
        Some(IpcMode::None) => Some("none".into()),
        // Docker lets others join a container's IPC namespace only when it is shareable.
        Some(IpcMode::Task) => joined.or(Some("shareable".into())),
        None => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{
        ContainerOverride, KernelCapabilities, LinuxParameters, SystemControl, TaskOverride,
        Ulimit, UlimitName,
    };

    fn linux(parameters: LinuxParameters) -> ContainerDefinition {
        ContainerDefinition {
            name: Some("app".into()),
            linux_parameters: Some(parameters),
            ..ContainerDefinition::default()
        }
    }

    fn applied(def: &ContainerDefinition, memory: Option<i64>) -> HostConfig {
        let mut host = HostConfig {
            memory,
            ..HostConfig::default()
        };
        apply(def, &mut host);
        host
    }

    #[test]
    fn maps_linux_parameters_as_the_ecs_agent_does() {
        let def = ContainerDefinition {
            ulimits: Some(vec![Ulimit {
                name: UlimitName::Nofile,
                soft_limit: 1024,
                hard_limit: 2048,
            }]),
            system_controls: Some(vec![SystemControl {
                namespace: Some("net.ipv4.ip_unprivileged_port_start".into()),
                value: Some("80".into()),
            }]),
            docker_security_options: Some(vec!["no-new-privileges".into()]),
            dns_search_domains: Some(vec!["example.com".into()]),
            ..linux(LinuxParameters {
                capabilities: Some(KernelCapabilities {
                    add: Some(vec!["SYS_ADMIN".into()]),
                    drop: Some(vec!["NET_RAW".into()]),
                }),
                init_process_enabled: Some(true),
                shared_memory_size: Some(128),
                tmpfs: Some(vec![Tmpfs {
                    container_path: "/scratch".into(),
                    size: 64,
                    mount_options: Some(vec!["noexec".into(), "nosuid".into()]),
                }]),
                devices: Some(vec![
                    Device {
                        host_path: "/dev/null".into(),
                        container_path: Some("/dev/nothing".into()),
                        permissions: Some(vec![DeviceCgroupPermission::Read]),
                    },
                    Device {
                        host_path: "/dev/zero".into(),
                        ..Device::default()
                    },
                ]),
                max_swap: Some(32),
                swappiness: Some(10),
            })
        };
        let host = applied(&def, Some(64 * MIB));
        assert_eq!(host.cap_add, Some(vec!["SYS_ADMIN".to_string()]));
        assert_eq!(host.cap_drop, Some(vec!["NET_RAW".to_string()]));
        assert_eq!(host.init, Some(true));
        assert_eq!(host.shm_size, Some(128 * MIB));
        let tmpfs = host.tmpfs.expect("tmpfs");
        assert_eq!(tmpfs["/scratch"], "size=64m,noexec,nosuid");
        let devices = host.devices.expect("devices");
        assert_eq!(
            devices[0].path_in_container.as_deref(),
            Some("/dev/nothing")
        );
        assert_eq!(devices[0].cgroup_permissions.as_deref(), Some("r"));
        assert_eq!(devices[1].path_in_container.as_deref(), Some("/dev/zero"));
        assert_eq!(devices[1].cgroup_permissions.as_deref(), Some("rwm"));
        assert_eq!(host.memory_swap, Some(96 * MIB));
        assert_eq!(host.memory_swappiness, Some(10));
        let ulimit = &host.ulimits.expect("ulimits")[0];
        assert_eq!(
            (ulimit.name.as_deref(), ulimit.soft, ulimit.hard),
            (Some("nofile"), Some(1024), Some(2048))
        );
        assert_eq!(
            host.sysctls.expect("sysctls")["net.ipv4.ip_unprivileged_port_start"],
            "80"
        );
        assert_eq!(host.security_opt, Some(vec!["no-new-privileges".into()]));
        assert_eq!(host.dns_search, Some(vec!["example.com".into()]));
    }

    #[test]
    fn swap_follows_ecs() {
        let swap = |max_swap, swappiness| {
            let host = applied(
                &linux(LinuxParameters {
                    max_swap,
                    swappiness,
                    ..LinuxParameters::default()
                }),
                Some(64 * MIB),
            );
            (host.memory_swap, host.memory_swappiness)
        };
        // No swap at all: the swap limit is the memory limit.
        assert_eq!(swap(Some(0), None), (Some(64 * MIB), Some(60)));
        // Absent or negative: the engine's default; swappiness alone is ignored, as in ECS.
        assert_eq!(swap(None, Some(10)), (None, None));
        assert_eq!(swap(Some(-1), Some(10)), (None, None));
        let nothing = applied(&ContainerDefinition::default(), None);
        assert_eq!(nothing, HostConfig::default());
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_by_name() {
        let task = Task::default();
        let td = |network_mode, defs: &[ContainerDefinition]| TaskDefinition {
            network_mode,
            container_definitions: Some(defs.to_vec()),
            ..TaskDefinition::default()
        };
        let swapping = linux(LinuxParameters {
            max_swap: Some(0),
            ..LinuxParameters::default()
        });
        let refused = check(&task, &td(None, &[]), &swapping).expect_err("no memory");
        assert!(refused.contains("linuxParameters.maxSwap"), "{refused}");
        let with_memory = ContainerDefinition {
            memory: Some(64),
            ..swapping.clone()
        };
        assert_eq!(check(&task, &td(None, &[]), &with_memory), Ok(()));
        // An override's memory counts.
        let overridden = Task {
            overrides: Some(TaskOverride {
                container_overrides: Some(vec![ContainerOverride {
                    name: Some("app".into()),
                    memory: Some(64),
                    ..ContainerOverride::default()
                }]),
                ..TaskOverride::default()
            }),
            ..Task::default()
        };
        assert_eq!(check(&overridden, &td(None, &[]), &swapping), Ok(()));

        let db = ContainerDefinition {
            name: Some("db".into()),
            ..ContainerDefinition::default()
        };
        let web = ContainerDefinition {
            name: Some("web".into()),
            links: Some(vec!["db:database".into()]),
            ..ContainerDefinition::default()
        };
        let both = [db.clone(), web.clone()];
        assert_eq!(check(&task, &td(None, &both), &web), Ok(()));
        let host = check(&task, &td(Some(NetworkMode::Host), &both), &web);
        assert!(host.expect_err("host").contains("sets links"));
        let alone = check(&task, &td(None, std::slice::from_ref(&web)), &web);
        assert!(alone.expect_err("no db").contains("links to db"));
        let nameless = ContainerDefinition {
            system_controls: Some(vec![SystemControl::default()]),
            ..db
        };
        let refused = check(&task, &td(None, &[]), &nameless).expect_err("no namespace");
        assert!(refused.contains("systemControls"), "{refused}");
    }

    #[test]
    fn links_name_started_containers_and_wait_for_them() {
        let mut defs = vec![
            ContainerDefinition {
                name: Some("web".into()),
                links: Some(vec!["db:database".into(), "cache".into()]),
                ..ContainerDefinition::default()
            },
            ContainerDefinition {
                name: Some("db".into()),
                ..ContainerDefinition::default()
            },
        ];
        add_link_dependencies(&mut defs);
        add_link_dependencies(&mut defs);
        let deps = defs[0].depends_on.as_deref().expect("dependencies");
        let waits: Vec<_> = deps
            .iter()
            .map(|d| (d.container_name.as_str(), d.condition))
            .collect();
        assert_eq!(
            waits,
            [
                ("db", ContainerCondition::Start),
                ("cache", ContainerCondition::Start)
            ]
        );
        let engine = |name: &str| Some(format!("ecs-f-1-{name}-x"));
        assert_eq!(
            links(&defs[0], engine),
            Some(vec![
                "ecs-f-1-db-x:database".to_string(),
                "ecs-f-1-cache-x:cache".to_string()
            ])
        );
        assert_eq!(links(&defs[1], engine), None);
    }

    #[test]
    fn task_namespaces_join_the_first_container() {
        let modes = |pid_mode, ipc_mode, holder| {
            let td = TaskDefinition {
                pid_mode,
                ipc_mode,
                ..TaskDefinition::default()
            };
            let mut host = HostConfig::default();
            namespaces(&td, holder, &mut host);
            (host.pid_mode, host.ipc_mode)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            modes(Some(PidMode::Task), Some(IpcMode::Task), None),
            (None, some("shareable"))
        );
        assert_eq!(
            modes(Some(PidMode::Task), Some(IpcMode::Task), Some("abc")),
            (some("container:abc"), some("container:abc"))
        );
        assert_eq!(
            modes(Some(PidMode::Host), Some(IpcMode::None), Some("abc")),
            (some("host"), some("none"))
        );
        assert_eq!(modes(None, Some(IpcMode::Host), None), (None, some("host")));
        assert_eq!(modes(None, None, Some("abc")), (None, None));
    }
}
