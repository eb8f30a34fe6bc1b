//! The cross-field rules RegisterTaskDefinition keeps, as ECS does: containers within the task's
//! cpu and memory, `linuxParameters` in their ranges ([`linux`]), what `awsvpc` forbids, and
//! what a FARGATE-compatible definition needs (a valid cpu/memory pair, `awsvpc`, none of the
//! host features Fargate lacks). The messages start as ECS's do, so what users search for finds
//! the same answers; each ends with the fix.

use crate::error::ControlError;
use berth_types::ecs::{
    Compatibility, ContainerDefinition, NetworkMode, PidMode, RegisterTaskDefinitionRequest,
    ResourceType,
};

mod linux;

/// The memory sizes (MiB) Fargate offers with a task cpu, as (first, last, step).
fn fargate_memory(cpu: i64) -> Option<(i64, i64, i64)> {
    Some(match cpu {
        256 => (512, 2048, 512),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122_880, 8192),
        _ => return None,
    })
}

/// Whether Fargate offers `memory` MiB with `cpu` units. 256 CPU takes 512, 1024 or 2048 MiB
/// (not 1536): the range's step is 512 only to reach 1024 from 512.
fn fargate_pair(cpu: i64, memory: i64) -> bool {
    match fargate_memory(cpu) {
        Some((_, _, _)) if cpu == 256 => [512, 1024, 2048].contains(&memory),
        Some((first, last, step)) => {
            (first..=last).contains(&memory) && (memory - first) % step == 0
        }
        None => false,
    }
}

/// What Fargate offers, for the message that refuses a pair.
fn fargate_offers(cpu: i64) -> String {
    match fargate_memory(cpu) {
        Some(_) if cpu == 256 => "with 256 CPU: 512, 1024 or 2048 MiB".into(),
        Some((first, last, step)) => {
            format!("with {cpu} CPU: {first} to {last} MiB in steps of {step}")
        }
        None => "cpu is one of 256, 512, 1024, 2048, 4096, 8192 or 16384".into(),
    }
}

/// Checks the rules that tie fields together; `cpu` and `memory` are the task's, normalised.
pub(crate) fn check(
    req: &RegisterTaskDefinitionRequest,
    cpu: Option<i64>,
    memory: Option<i64>,
    containers: &[ContainerDefinition],
) -> Result<(), ControlError> {
    for c in containers {
        within_task(c, cpu, memory)?;
        secret_names(c)?;
        needs_execution_role(req, c)?;
        linux::check(c)?;
        known_volumes(req, c)?;
        if req.network_mode == Some(NetworkMode::Awsvpc) {
            awsvpc(c)?;
        }
    }
    if let Some(storage) = &req.ephemeral_storage
        && !(21..=200).contains(&storage.size_in_gi_b)
    {
        return Err(ControlError::client(format!(
            "ephemeralStorage.sizeInGiB is {}, but must be between 21 and 200 (the default is 20 GiB: leave it out for that)",
            storage.size_in_gi_b
        )));
    }
    let fargate = req
        .requires_compatibilities
        .as_ref()
        .is_some_and(|r| r.contains(&Compatibility::Fargate));
    if fargate {
        fargate_task(req, cpu, memory)?;
        for c in containers {
            fargate_container(c)?;
        }
    }
    Ok(())
}

/// A container's cpu and memory must fit in the task's.
fn within_task(
    c: &ContainerDefinition,
    cpu: Option<i64>,
    memory: Option<i64>,
) -> Result<(), ControlError> {
    let name = c.name.as_deref().unwrap_or_default();
    let over = |setting: &str, value: i64, task: i64| {
        Err(ControlError::client(format!(
            "The '{setting}' setting for container '{name}' is greater than for the task: {value} is more than the task's {task}; raise the task's {} or lower the container's",
            if setting == "cpu" { "cpu" } else { "memory" }
        )))
    };
    if let Some(task) = memory {
        for (setting, value) in [
            ("memory", c.memory),
            ("memoryReservation", c.memory_reservation),
        ] {
            if let Some(v) = value.map(i64::from)
                && v > task
            {
                return over(setting, v, task);
            }
        }
    }
    if let (Some(task), Some(v)) = (cpu, c.cpu.map(i64::from))
        && v > task
    {
        return over("cpu", v, task);
    }
    Ok(())
}

/// A secret's name is the variable it becomes: it may not be a variable of `environment` too,
/// nor another secret's.
fn secret_names(c: &ContainerDefinition) -> Result<(), ControlError> {
    let mut names: std::collections::HashSet<&str> = c
        .environment
        .iter()
        .flatten()
        .filter_map(|kv| kv.name.as_deref())
        .collect();
    for secret in c.secrets.iter().flatten() {
        if !names.insert(&secret.name) {
            return Err(ControlError::client(format!(
                "The secret name must be unique and not shared with any new or existing environment variables set on the container, such as '{}'.",
                secret.name
            )));
        }
    }
    Ok(())
}

/// Secrets and private registry credentials are read as the execution role, so a definition
/// that has them must name one (ECS's messages, word for word).
fn needs_execution_role(
    req: &RegisterTaskDefinitionRequest,
    c: &ContainerDefinition,
) -> Result<(), ControlError> {
    if req
        .execution_role_arn
        .as_deref()
        .is_some_and(|r| !r.is_empty())
    {
        return Ok(());
    }
    let log_secrets = c
        .log_configuration
        .as_ref()
        .and_then(|l| l.secret_options.as_ref());
    // ⚠ ECS's message for secretOptions is assumed to be the one for secrets.
    if c.secrets.as_ref().is_some_and(|s| !s.is_empty())
        || log_secrets.is_some_and(|s| !s.is_empty())
    {
        return Err(ControlError::client(
            "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.",
        ));
    }
    if c.repository_credentials.is_some() {
        return Err(ControlError::client(
            "Private repository authentication requires that the task definition specify a value for executionRoleArn.",
        ));
    }
    Ok(())
}

/// A mount point's `sourceVolume` must be one of the task's `volumes`.
fn known_volumes(
    req: &RegisterTaskDefinitionRequest,
    c: &ContainerDefinition,
) -> Result<(), ControlError> {
    let declared = |name: &str| {
        req.volumes
            .iter()
            .flatten()
            .any(|v| v.name.as_deref() == Some(name))
    };
    for mount in c.mount_points.iter().flatten() {
        let source = mount.source_volume.as_deref().unwrap_or_default();
        if !declared(source) {
            return Err(ControlError::client(format!(
                "Unknown volume '{source}'. (container '{}' mounts it: add it to the task's volumes, or fix mountPoints.sourceVolume)",
                c.name.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// What a container of an `awsvpc` task may not set.
fn awsvpc(c: &ContainerDefinition) -> Result<(), ControlError> {
    let name = c.name.as_deref().unwrap_or_default();
    if c.hostname.is_some() {
        return Err(ControlError::client(format!(
            "hostname is not supported on container when networkMode=awsvpc. (container '{name}': the task's network interface names the host; remove hostname)"
        )));
    }
    if c.links.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(ControlError::client(format!(
            "links are not supported when networkMode=awsvpc. (container '{name}': containers of the task reach each other on localhost; remove links)"
        )));
    }
    Ok(())
}

/// The task-level rules of a FARGATE-compatible definition.
fn fargate_task(
    req: &RegisterTaskDefinitionRequest,
    cpu: Option<i64>,
    memory: Option<i64>,
) -> Result<(), ControlError> {
    let Some(cpu) = cpu else {
        return Err(ControlError::client(
            "Fargate requires that 'cpu' be defined at the task level. (e.g. \"cpu\": \"256\")",
        ));
    };
    let Some(memory) = memory else {
        return Err(ControlError::client(
            "Fargate requires that 'memory' be defined at the task level. (e.g. \"memory\": \"512\")",
        ));
    };
    if !fargate_pair(cpu, memory) {
        return Err(ControlError::client(format!(
            "No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. See the Amazon ECS documentation for the valid values. (Fargate offers, {})",
            fargate_offers(cpu)
        )));
    }
    let windows = req
        .runtime_platform
        .as_ref()
        .and_then(|p| p.operating_system_family)
        .is_some_and(|f| f.as_str().starts_with("WINDOWS"));
    if windows && cpu < 1024 {
        return Err(ControlError::client(format!(
            "Fargate Windows tasks need at least 1 vCPU: cpu is {cpu}; use 1024 or more"
        )));
    }
    if req.network_mode != Some(NetworkMode::Awsvpc) {
        return Err(ControlError::client(
            "Fargate only supports network mode ‘awsvpc’. (set \"networkMode\": \"awsvpc\")",
        ));
    }
    if req.ipc_mode.is_some() {
        return Err(ControlError::client(
            "Tasks using the Fargate launch type do not support ipcMode. (remove ipcMode)",
        ));
    }
    if req.pid_mode == Some(PidMode::Host) {
        return Err(ControlError::client(
            "Tasks using the Fargate launch type do not support pidMode 'host'. (use \"task\" or remove pidMode)",
        ));
    }
    if req
        .placement_constraints
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(ControlError::client(
            "Fargate does not support task placement constraints. (remove placementConstraints)",
        ));
    }
    for v in req.volumes.as_deref().unwrap_or_default() {
        let volume = v.name.as_deref().unwrap_or_default();
        if v.host.as_ref().is_some_and(|h| h.source_path.is_some()) {
            return Err(ControlError::client(format!(
                "host.sourcePath should not be set for volumes in Fargate. (volume '{volume}': use a scratch volume, without host, or EFS)"
            )));
        }
        if v.docker_volume_configuration.is_some() {
            return Err(ControlError::client(format!(
                "dockerVolumeConfiguration is not supported for volumes in Fargate. (volume '{volume}': use a scratch volume or EFS)"
            )));
        }
    }
    Ok(())
}

/// The container settings Fargate does not offer.
fn fargate_container(c: &ContainerDefinition) -> Result<(), ControlError> {
    let name = c.name.as_deref().unwrap_or_default();
    let linux = c.linux_parameters.as_ref();
    let added = linux
        .and_then(|l| l.capabilities.as_ref())
        .and_then(|k| k.add.as_deref())
        .unwrap_or_default();
    let refused = [
        ("privileged", c.privileged == Some(true)),
        ("links", c.links.as_ref().is_some_and(|l| !l.is_empty())),
        (
            "dnsServers",
            c.dns_servers.as_ref().is_some_and(|l| !l.is_empty()),
        ),
        (
            "dnsSearchDomains",
            c.dns_search_domains.as_ref().is_some_and(|l| !l.is_empty()),
        ),
        (
            "extraHosts",
            c.extra_hosts.as_ref().is_some_and(|l| !l.is_empty()),
        ),
        (
            "dockerSecurityOptions",
            c.docker_security_options
                .as_ref()
                .is_some_and(|l| !l.is_empty()),
        ),
        ("disableNetworking", c.disable_networking.is_some()),
        (
            "linuxParameters.devices",
            linux
                .and_then(|l| l.devices.as_ref())
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "linuxParameters.sharedMemorySize",
            linux.is_some_and(|l| l.shared_memory_size.is_some()),
        ),
        (
            "linuxParameters.maxSwap",
            linux.is_some_and(|l| l.max_swap.is_some()),
        ),
        (
            "linuxParameters.swappiness",
            linux.is_some_and(|l| l.swappiness.is_some()),
        ),
        (
            "linuxParameters.capabilities.add (other than SYS_PTRACE)",
            added.iter().any(|cap| cap != "SYS_PTRACE"),
        ),
        (
            "resourceRequirements of type GPU",
            c.resource_requirements
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|r| r.r#type == ResourceType::Gpu),
        ),
    ];
    match refused.iter().find(|(_, set)| *set) {
        Some((setting, _)) => Err(ControlError::client(format!(
            "{setting} is not supported on Fargate (container '{name}'): remove it, or register the task definition without FARGATE in requiresCompatibilities"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{HostVolumeProperties, Volume};

    fn fargate(cpu: i64, memory: i64) -> Result<(), ControlError> {
        let req = RegisterTaskDefinitionRequest {
            family: "f".into(),
            network_mode: Some(NetworkMode::Awsvpc),
            requires_compatibilities: Some(vec![Compatibility::Fargate]),
            ..Default::default()
        };
        check(&req, Some(cpu), Some(memory), &[])
    }

    #[test]
    fn fargate_pairs_as_documented() {
        for (cpu, memory) in [
            (256, 512),
            (256, 2048),
            (512, 4096),
            (1024, 2048),
            (4096, 30720),
            (8192, 20480),
            (16384, 122_880),
        ] {
            assert!(fargate(cpu, memory).is_ok(), "{cpu}/{memory}");
        }
        for (cpu, memory) in [
            (256, 8192),
            (256, 1536),
            (256, 256),
            (512, 512),
            (4096, 31744),
            (8192, 18432),
            (16384, 36864),
            (128, 512),
            (3072, 8192),
        ] {
            let refused = fargate(cpu, memory).expect_err("refused");
            assert!(
                refused
                    .to_string()
                    .starts_with("No Fargate configuration exists"),
                "{cpu}/{memory}: {}",
                refused
            );
        }
    }

    #[test]
    fn fargate_needs_awsvpc_and_no_host_features() {
        let base = RegisterTaskDefinitionRequest {
            family: "f".into(),
            network_mode: Some(NetworkMode::Awsvpc),
            requires_compatibilities: Some(vec![Compatibility::Fargate]),
            ..Default::default()
        };
        let bridge = RegisterTaskDefinitionRequest {
            network_mode: Some(NetworkMode::Bridge),
            ..base.clone()
        };
        let message = |req: &RegisterTaskDefinitionRequest, c: &[ContainerDefinition]| {
            check(req, Some(256), Some(512), c)
                .expect_err("refused")
                .to_string()
        };
        assert!(message(&bridge, &[]).starts_with("Fargate only supports network mode"));
        let host_pid = RegisterTaskDefinitionRequest {
            pid_mode: Some(PidMode::Host),
            ..base.clone()
        };
        assert!(message(&host_pid, &[]).contains("pidMode"));
        let host_path = RegisterTaskDefinitionRequest {
            volumes: Some(vec![Volume {
                name: Some("v".into()),
                host: Some(HostVolumeProperties {
                    source_path: Some("/data".into()),
                }),
                ..Default::default()
            }]),
            ..base.clone()
        };
        assert!(message(&host_path, &[]).starts_with("host.sourcePath"));
        let privileged = ContainerDefinition {
            name: Some("web".into()),
            privileged: Some(true),
            ..Default::default()
        };
        assert!(
            message(&base, &[privileged]).starts_with("privileged is not supported on Fargate")
        );
        let no_cpu = check(&base, None, Some(512), &[]).expect_err("refused");
        assert!(
            no_cpu
                .to_string()
                .starts_with("Fargate requires that 'cpu'")
        );
    }

    #[test]
    fn containers_fit_in_the_task() {
        let req = RegisterTaskDefinitionRequest {
            family: "f".into(),
            ..Default::default()
        };
        let worker = ContainerDefinition {
            name: Some("worker".into()),
            memory: Some(1024),
            ..Default::default()
        };
        let refused =
            check(&req, None, Some(512), std::slice::from_ref(&worker)).expect_err("refused");
        assert!(
            refused.to_string().starts_with(
                "The 'memory' setting for container 'worker' is greater than for the task"
            ),
            "{}",
            refused
        );
        assert!(check(&req, None, Some(1024), &[worker]).is_ok());
        let hostname = ContainerDefinition {
            name: Some("web".into()),
            hostname: Some("web".into()),
            ..Default::default()
        };
        let awsvpc = RegisterTaskDefinitionRequest {
            network_mode: Some(NetworkMode::Awsvpc),
            ..req
        };
        assert!(check(&awsvpc, None, None, &[hostname]).is_err());
    }

    #[test]
    fn a_secret_may_not_share_its_name() {
        let req = RegisterTaskDefinitionRequest {
            family: "f".into(),
            execution_role_arn: Some("arn:aws:iam::1:role/exec".into()),
            ..Default::default()
        };
        let secret = |name: &str| berth_types::ecs::Secret {
            name: name.into(),
            value_from: "/db/password".into(),
        };
        let mut app = ContainerDefinition {
            name: Some("app".into()),
            environment: Some(vec![berth_types::ecs::KeyValuePair {
                name: Some("DB_PASSWORD".into()),
                value: Some("x".into()),
            }]),
            secrets: Some(vec![secret("DB_PASSWORD")]),
            ..Default::default()
        };
        let refused = check(&req, None, None, std::slice::from_ref(&app)).expect_err("refused");
        assert!(
            refused.to_string().ends_with("such as 'DB_PASSWORD'."),
            "{refused}"
        );
        app.environment = None;
        app.secrets = Some(vec![secret("A"), secret("A")]);
        assert!(check(&req, None, None, std::slice::from_ref(&app)).is_err());
        app.secrets = Some(vec![secret("A"), secret("B")]);
        assert!(check(&req, None, None, &[app]).is_ok());
    }

    #[test]
    fn secrets_and_registry_credentials_need_an_execution_role() {
        let req = RegisterTaskDefinitionRequest {
            family: "f".into(),
            ..Default::default()
        };
        let with_secret = ContainerDefinition {
            name: Some("app".into()),
            secrets: Some(vec![berth_types::ecs::Secret {
                name: "A".into(),
                value_from: "/a".into(),
            }]),
            ..Default::default()
        };
        let refused = check(&req, None, None, &[with_secret]).expect_err("refused");
        assert!(
            refused.to_string().contains("'executionRoleArn'"),
            "{refused}"
        );
        let with_login = ContainerDefinition {
            name: Some("app".into()),
            repository_credentials: Some(berth_types::ecs::RepositoryCredentials {
                credentials_parameter: "arn:aws:secretsmanager:r:1:secret:login".into(),
            }),
            ..Default::default()
        };
        let refused = check(&req, None, None, std::slice::from_ref(&with_login));
        assert!(
            refused
                .expect_err("refused")
                .to_string()
                .starts_with("Private repository authentication requires")
        );
        let with_role = RegisterTaskDefinitionRequest {
            execution_role_arn: Some("exec".into()),
            ..req
        };
        assert!(check(&with_role, None, None, &[with_login]).is_ok());
    }

    #[test]
    fn a_mount_point_needs_a_declared_volume() {
        let app = ContainerDefinition {
            name: Some("app".into()),
            mount_points: Some(vec![berth_types::ecs::MountPoint {
                source_volume: Some("data".into()),
                container_path: Some("/data".into()),
                read_only: None,
            }]),
            ..Default::default()
        };
        let mut req = RegisterTaskDefinitionRequest {
            family: "f".into(),
            ..Default::default()
        };
        let refused = check(&req, None, None, std::slice::from_ref(&app)).expect_err("refused");
        assert!(
            refused.to_string().starts_with("Unknown volume 'data'."),
            "{refused}"
        );
        req.volumes = Some(vec![Volume {
            name: Some("data".into()),
            ..Volume::default()
        }]);
        assert!(check(&req, None, None, &[app]).is_ok());
    }
}
