//! What the operator forbids on this host, as the ECS agent's `ECS_DISABLE_PRIVILEGED` and
//! friends do: privileged containers (and what reaches the host as they do: host devices, the
//! host's PID or IPC namespace), the host network, added Linux capabilities and host paths
//! outside an allowed list. A task that asks for any of them is refused before anything is
//! pulled or created, with a `CannotStartContainerError` that names the option to change.

use berth_types::ecs::{ContainerDefinition, IpcMode, NetworkMode, PidMode, TaskDefinition};
use std::path::{Component, Path, PathBuf};

/// The host's rules. The default allows everything, as Berth always has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Refuse containers with `privileged: true` or `linuxParameters.devices`, and tasks with
    /// `pidMode` or `ipcMode` `host`.
    pub deny_privileged: bool,
    /// Refuse tasks with `networkMode: host`.
    pub deny_host_network: bool,
    /// Refuse containers with `linuxParameters.capabilities.add`.
    pub deny_added_capabilities: bool,
    /// When not empty, refuse volumes whose `host.sourcePath` is not under one of these.
    pub allowed_host_paths: Vec<PathBuf>,
}

impl HostPolicy {
    /// Why the task cannot run here, as its `stoppedReason`, or `Ok` when it may.
    pub(crate) fn check_task(&self, td: &TaskDefinition) -> Result<(), String> {
        if self.deny_host_network && td.network_mode == Some(NetworkMode::Host) {
            return Err(refusal(
                "the task asks for the host network mode",
                "--deny-host-network",
            ));
        }
        // The host's processes and shared memory are the host's, as under privileged mode.
        let host_pid = td.pid_mode == Some(PidMode::Host);
        if self.deny_privileged && (host_pid || td.ipc_mode == Some(IpcMode::Host)) {
            let namespace = if host_pid { "pidMode" } else { "ipcMode" };
            return Err(refusal(
                &format!("the task asks for {namespace} host"),
                "--deny-privileged",
            ));
        }
        if self.allowed_host_paths.is_empty() {
            return Ok(());
        }
        for volume in td.volumes.iter().flatten() {
            let Some(source) = volume.host.as_ref().and_then(|h| h.source_path.as_deref()) else {
                continue;
            };
            // No sourcePath (or an empty one) is a Docker-managed volume, not a host path.
            if !source.is_empty() && !self.allows_host_path(Path::new(source)) {
                return Err(refusal(
                    &format!(
                        "volume {} asks for host path {source} outside {}",
                        volume.name.as_deref().unwrap_or_default(),
                        self.allowed_host_paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "--allowed-host-path",
                ));
            }
        }
        Ok(())
    }

    /// Why this container cannot run here, as the task's `stoppedReason`, or `Ok` when it may.
    pub(crate) fn check_container(&self, def: &ContainerDefinition) -> Result<(), String> {
        let name = def.name.as_deref().unwrap_or_default();
        if self.deny_privileged && def.privileged == Some(true) {
            return Err(refusal(
                &format!("container {name} asks for privileged mode"),
                "--deny-privileged",
            ));
        }
        // A host device reaches the host as privileged mode does.
        let devices = def
            .linux_parameters
            .as_ref()
            .and_then(|l| l.devices.as_ref())
            .filter(|d| !d.is_empty());
        if let (true, Some(devices)) = (self.deny_privileged, devices) {
            return Err(refusal(
                &format!(
                    "container {name} asks for the host devices {}",
                    devices
                        .iter()
                        .map(|d| d.host_path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "--deny-privileged",
            ));
        }
        let added = def
            .linux_parameters
            .as_ref()
            .and_then(|l| l.capabilities.as_ref())
            .and_then(|c| c.add.as_ref())
            .filter(|add| !add.is_empty());
        if let (true, Some(added)) = (self.deny_added_capabilities, added) {
            return Err(refusal(
                &format!(
                    "container {name} adds the capabilities {}",
                    added.join(", ")
                ),
                "--deny-added-capabilities",
            ));
        }
        Ok(())
    }

    /// Whether `source` is one of the allowed paths or below one, compared component by
    /// component after resolving `.` and `..`, so `/srv/../etc` is not under `/srv` and
    /// `/srvx` is not either. A relative path is never allowed: it is under nothing.
    fn allows_host_path(&self, source: &Path) -> bool {
        let Some(source) = normalize(source) else {
            return false;
        };
        self.allowed_host_paths
            .iter()
            .filter_map(|allowed| normalize(allowed))
            .any(|allowed| source.starts_with(allowed))
    }
}

/// The stoppedReason for a refused task: ECS's start-up error, what was asked, the option.
fn refusal(what: &str, option: &str) -> String {
    format!("CannotStartContainerError: {what}, which this host forbids (berth agent {option})")
}

/// An absolute path with `.` and `..` resolved lexically, or None for a relative one. `..` at
/// the root stays there, as the kernel has it. Symbolic links are not followed: the operator
/// owns the allowed directories and what links inside them.
fn normalize(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{
        Device, HostVolumeProperties, KernelCapabilities, LinuxParameters, Volume,
    };

    fn everything_denied(allowed: &[&str]) -> HostPolicy {
        HostPolicy {
            deny_privileged: true,
            deny_host_network: true,
            deny_added_capabilities: true,
            allowed_host_paths: allowed.iter().map(PathBuf::from).collect(),
        }
    }

    fn container(name: &str) -> ContainerDefinition {
        ContainerDefinition {
            name: Some(name.into()),
            image: Some("busybox".into()),
            ..ContainerDefinition::default()
        }
    }

    fn privileged() -> ContainerDefinition {
        ContainerDefinition {
            privileged: Some(true),
            ..container("web")
        }
    }

    fn adding(capabilities: &[&str]) -> ContainerDefinition {
        ContainerDefinition {
            linux_parameters: Some(LinuxParameters {
                capabilities: Some(KernelCapabilities {
                    add: Some(capabilities.iter().map(|c| c.to_string()).collect()),
                    drop: Some(vec!["ALL".into()]),
                }),
                ..LinuxParameters::default()
            }),
            ..container("web")
        }
    }

    fn with_host_path(source: Option<&str>) -> TaskDefinition {
        TaskDefinition {
            volumes: Some(vec![Volume {
                name: Some("data".into()),
                host: Some(HostVolumeProperties {
                    source_path: source.map(str::to_string),
                }),
                ..Volume::default()
            }]),
            ..TaskDefinition::default()
        }
    }

    fn host_network() -> TaskDefinition {
        TaskDefinition {
            network_mode: Some(NetworkMode::Host),
            ..TaskDefinition::default()
        }
    }

    #[test]
    fn the_default_allows_everything() {
        let policy = HostPolicy::default();
        assert_eq!(policy.check_task(&host_network()), Ok(()));
        assert_eq!(policy.check_task(&with_host_path(Some("/etc"))), Ok(()));
        assert_eq!(policy.check_container(&privileged()), Ok(()));
        assert_eq!(policy.check_container(&adding(&["SYS_ADMIN"])), Ok(()));
    }

    #[test]
    fn refusals_name_what_was_asked_and_the_option() {
        let policy = everything_denied(&["/srv"]);
        assert_eq!(
            policy.check_container(&privileged()),
            Err("CannotStartContainerError: container web asks for privileged mode, which this host forbids (berth agent --deny-privileged)".into())
        );
        assert_eq!(
            policy.check_task(&host_network()),
            Err("CannotStartContainerError: the task asks for the host network mode, which this host forbids (berth agent --deny-host-network)".into())
        );
        assert_eq!(
            policy.check_container(&adding(&["SYS_ADMIN", "NET_ADMIN"])),
            Err("CannotStartContainerError: container web adds the capabilities SYS_ADMIN, NET_ADMIN, which this host forbids (berth agent --deny-added-capabilities)".into())
        );
        assert_eq!(
            policy.check_task(&with_host_path(Some("/etc"))),
            Err("CannotStartContainerError: volume data asks for host path /etc outside /srv, which this host forbids (berth agent --allowed-host-path)".into())
        );
        let with_device = ContainerDefinition {
            linux_parameters: Some(LinuxParameters {
                devices: Some(vec![Device {
                    host_path: "/dev/fuse".into(),
                    ..Device::default()
                }]),
                ..LinuxParameters::default()
            }),
            ..container("web")
        };
        assert_eq!(
            policy.check_container(&with_device),
            Err("CannotStartContainerError: container web asks for the host devices /dev/fuse, which this host forbids (berth agent --deny-privileged)".into())
        );
        let host_ipc = TaskDefinition {
            ipc_mode: Some(IpcMode::Host),
            ..TaskDefinition::default()
        };
        assert_eq!(
            policy.check_task(&host_ipc),
            Err("CannotStartContainerError: the task asks for ipcMode host, which this host forbids (berth agent --deny-privileged)".into())
        );
        let task_pid = TaskDefinition {
            pid_mode: Some(PidMode::Task),
            ..TaskDefinition::default()
        };
        assert_eq!(policy.check_task(&task_pid), Ok(()));
    }

    #[test]
    fn what_is_not_asked_for_passes_a_strict_host() {
        let policy = everything_denied(&["/srv"]);
        let bridge = TaskDefinition {
            network_mode: Some(NetworkMode::Bridge),
            ..TaskDefinition::default()
        };
        assert_eq!(policy.check_task(&bridge), Ok(()));
        assert_eq!(policy.check_task(&TaskDefinition::default()), Ok(()));
        assert_eq!(policy.check_container(&container("web")), Ok(()));
        let unprivileged = ContainerDefinition {
            privileged: Some(false),
            ..container("web")
        };
        assert_eq!(policy.check_container(&unprivileged), Ok(()));
        // Dropping capabilities is always fine; only adding is refused.
        assert_eq!(policy.check_container(&adding(&[])), Ok(()));
        // A host volume without a sourcePath is one Docker manages.
        assert_eq!(policy.check_task(&with_host_path(None)), Ok(()));
        assert_eq!(policy.check_task(&with_host_path(Some(""))), Ok(()));
    }

    #[test]
    fn host_paths_are_compared_by_normalized_components() {
        let policy = everything_denied(&["/srv/data/", "/var/lib/../cache"]);
        for allowed in [
            "/srv/data",
            "/srv/data/",
            "/srv/data/app/logs",
            "/srv/./data//app",
            "/srv/data/app/../other",
            "/var/cache/x",
            "/../srv/data",
        ] {
            assert_eq!(
                policy.check_task(&with_host_path(Some(allowed))),
                Ok(()),
                "{allowed}"
            );
        }
        for refused in [
            "/srv",
            "/srv/database",
            "/srv/data/../secrets",
            "/srv/data/app/../../..",
            "/srv/data/../../etc/shadow",
            "/var/lib/cache",
            "srv/data",
            "./srv/data",
            "/",
        ] {
            assert!(
                policy.check_task(&with_host_path(Some(refused))).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_relative_allowed_path_allows_nothing() {
        let policy = HostPolicy {
            allowed_host_paths: vec![PathBuf::from("srv")],
            ..HostPolicy::default()
        };
        assert!(policy.check_task(&with_host_path(Some("/srv"))).is_err());
    }
}
