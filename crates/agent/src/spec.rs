//! How an ECS container definition becomes a Docker container: the create body, with the labels
//! the ECS agent sets, resources, environment, ports and health check. Pure, so it is tested
//! without Docker.

use berth_types::ecs::{
    ContainerDefinition, ContainerOverride, NetworkMode, Task, TaskDefinition, TransportProtocol,
};
use bollard::models::{ContainerCreateBody, HealthConfig, HostConfig, PortBinding};
use std::collections::HashMap;

pub(crate) mod linux;
pub(crate) mod unsupported;
pub(crate) mod volumes;

/// Label: the cluster name.
pub(crate) const LABEL_CLUSTER: &str = "com.amazonaws.ecs.cluster";
/// Label: the task ARN.
pub(crate) const LABEL_TASK_ARN: &str = "com.amazonaws.ecs.task-arn";
/// Label: the container's name in the task definition.
pub(crate) const LABEL_CONTAINER_NAME: &str = "com.amazonaws.ecs.container-name";
/// Label: the task definition family.
pub(crate) const LABEL_FAMILY: &str = "com.amazonaws.ecs.task-definition-family";
/// Label: the container instance that runs the container, so that agents sharing one Docker
/// engine (several hosts simulated on one machine) never reconcile each other's containers.
pub(crate) const LABEL_INSTANCE: &str = "berth.container-instance-arn";
/// Label: the task definition revision.
pub(crate) const LABEL_VERSION: &str = "com.amazonaws.ecs.task-definition-version";

/// The smallest cpu share Docker accepts; ECS agents use it for `cpu: 0`.
const MIN_CPU_SHARES: i64 = 2;
const MIB: i64 = 1024 * 1024;
const SECOND_NS: i64 = 1_000_000_000;

/// The override for one container, if the task has one.
pub(crate) fn override_for<'a>(task: &'a Task, name: &str) -> Option<&'a ContainerOverride> {
    task.overrides
        .as_ref()
        .and_then(|o| o.container_overrides.as_ref())
        .and_then(|list| list.iter().find(|c| c.name.as_deref() == Some(name)))
}

/// The Docker name: `ecs-<family>-<revision>-<container>-<suffix>`, as the ECS agent names them.
pub(crate) fn docker_name(td: &TaskDefinition, container: &str, suffix: &str) -> String {
    format!(
        "ecs-{}-{}-{container}-{suffix}",
        td.family.as_deref().unwrap_or_default(),
        td.revision.unwrap_or_default()
    )
}

/// The Docker network mode for the task's network mode: an awsvpc task's containers join the
/// namespace of its pause container `pause`.
fn network_mode(td: &TaskDefinition, pause: Option<&str>) -> String {
    match (&td.network_mode, pause) {
        (Some(NetworkMode::Host), _) => "host".into(),
        (Some(NetworkMode::None), _) => "none".into(),
        (Some(NetworkMode::Awsvpc), Some(pause)) => format!("container:{pause}"),
        _ => "bridge".into(),
    }
}

fn port_key(container_port: i32, protocol: Option<TransportProtocol>) -> String {
    let proto = protocol.unwrap_or(TransportProtocol::Tcp);
    format!("{container_port}/{proto}")
}

/// Builds the create body of one container of a task; `pause` is the container holding an
/// awsvpc task's network namespace.
pub(crate) fn create_body(
    cluster: &str,
    instance_arn: &str,
    task: &Task,
    td: &TaskDefinition,
    def: &ContainerDefinition,
    pause: Option<&str>,
) -> ContainerCreateBody {
    let name = def.name.as_deref().unwrap_or_default();
    let o = override_for(task, name);
    let mut labels: HashMap<String, String> = def
        .docker_labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    labels.insert(LABEL_CLUSTER.into(), cluster.into());
    labels.insert(LABEL_INSTANCE.into(), instance_arn.into());
    labels.insert(
        LABEL_TASK_ARN.into(),
        task.task_arn.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_CONTAINER_NAME.into(), name.into());
    labels.insert(LABEL_FAMILY.into(), td.family.clone().unwrap_or_default());
    labels.insert(
        LABEL_VERSION.into(),
        td.revision.unwrap_or_default().to_string(),
    );

    let mut env: Vec<(String, String)> = def
        .environment
        .iter()
        .flatten()
        .map(|kv| {
            (
                kv.name.clone().unwrap_or_default(),
                kv.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    for kv in o.and_then(|o| o.environment.as_ref()).into_iter().flatten() {
        let key = kv.name.clone().unwrap_or_default();
        env.retain(|(k, _)| *k != key);
        env.push((key, kv.value.clone().unwrap_or_default()));
    }

    let mode = network_mode(td, pause);
    // The engine refuses exposed ports on a container that joins another's namespace: the
    // task's address answers on the container's ports as they are.
    let joined = mode.starts_with("container:");
    let mut exposed = vec![];
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for pm in def.port_mappings.iter().flatten() {
        let Some(container_port) = pm.container_port else {
            continue;
        };
        let key = port_key(container_port, pm.protocol);
        if !joined {
            exposed.push(key.clone());
        }
        if mode == "bridge" {
            let host_port = pm.host_port.filter(|p| *p > 0).map(|p| p.to_string());
            bindings
                .entry(key)
                .or_default()
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: None,
                    host_port: Some(host_port.unwrap_or_default()),
                });
        }
    }

    let cpu = o.and_then(|o| o.cpu).or(def.cpu).unwrap_or(0);
    let memory = o.and_then(|o| o.memory).or(def.memory);
    let reservation = o
        .and_then(|o| o.memory_reservation)
        .or(def.memory_reservation);
    let mut host_config = HostConfig {
        cpu_shares: Some(i64::from(cpu).max(MIN_CPU_SHARES)),
        memory: memory.map(|m| i64::from(m) * MIB),
        memory_reservation: reservation.map(|m| i64::from(m) * MIB),
        network_mode: Some(mode),
        log_config: crate::logs::driver::engine_config(def),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        privileged: def.privileged,
        readonly_rootfs: def.readonly_root_filesystem,
        dns: def.dns_servers.clone(),
        extra_hosts: def.extra_hosts.as_ref().map(|hosts| {
            hosts
                .iter()
                .map(|h| format!("{}:{}", h.hostname, h.ip_address))
                .collect()
        }),
        ..HostConfig::default()
    };
    linux::apply(def, &mut host_config);

    let healthcheck = def.health_check.as_ref().map(|hc| HealthConfig {
        test: Some(hc.command.clone()),
        interval: Some(i64::from(hc.interval.unwrap_or(30)) * SECOND_NS),
        timeout: Some(i64::from(hc.timeout.unwrap_or(5)) * SECOND_NS),
        retries: Some(i64::from(hc.retries.unwrap_or(3))),
        start_period: Some(i64::from(hc.start_period.unwrap_or(0)) * SECOND_NS),
        start_interval: None,
    });

    ContainerCreateBody {
        image: def.image.clone(),
        cmd: o.and_then(|o| o.command.clone()).or(def.command.clone()),
        entrypoint: def.entry_point.clone(),
        env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: def.working_directory.clone(),
        user: def.user.clone(),
        hostname: def.hostname.clone(),
        labels: Some(labels),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        healthcheck,
        network_disabled: def.disable_networking,
        tty: def.pseudo_terminal,
        open_stdin: def.interactive,
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{HealthCheck, KeyValuePair, PortMapping, TaskOverride};

    fn kv(k: &str, v: &str) -> KeyValuePair {
        KeyValuePair {
            name: Some(k.into()),
            value: Some(v.into()),
        }
    }

    #[test]
    fn maps_an_ecs_container() {
        let def = ContainerDefinition {
            name: Some("web".into()),
            image: Some("busybox".into()),
            memory: Some(64),
            memory_reservation: Some(32),
            environment: Some(vec![kv("A", "1"), kv("B", "2")]),
            command: Some(vec!["httpd".into()]),
            port_mappings: Some(vec![
                PortMapping {
                    container_port: Some(80),
                    host_port: Some(0),
                    ..PortMapping::default()
                },
                PortMapping {
                    container_port: Some(53),
                    host_port: Some(5353),
                    protocol: Some(TransportProtocol::Udp),
                    ..PortMapping::default()
                },
            ]),
            health_check: Some(HealthCheck {
                command: vec!["CMD-SHELL".into(), "true".into()],
                interval: Some(5),
                ..HealthCheck::default()
            }),
            ..ContainerDefinition::default()
        };
        let td = TaskDefinition {
            family: Some("web".into()),
            revision: Some(3),
            ..TaskDefinition::default()
        };
        let task = Task {
            task_arn: Some("arn:aws:ecs:r:1:task/c/t".into()),
            overrides: Some(TaskOverride {
                container_overrides: Some(vec![ContainerOverride {
                    name: Some("web".into()),
                    environment: Some(vec![kv("B", "3")]),
                    command: Some(vec!["sleep".into(), "1".into()]),
                    ..ContainerOverride::default()
                }]),
                ..TaskOverride::default()
            }),
            ..Task::default()
        };
        let body = create_body("c", "arn:i", &task, &td, &def, None);
        let labels = body.labels.expect("labels");
        assert_eq!(labels[LABEL_VERSION], "3");
        assert_eq!(labels[LABEL_TASK_ARN], "arn:aws:ecs:r:1:task/c/t");
        assert_eq!(body.env.expect("env"), ["A=1", "B=3"]);
        assert_eq!(body.cmd.expect("cmd"), ["sleep", "1"]);
        let host = body.host_config.expect("host config");
        assert_eq!(host.cpu_shares, Some(2));
        assert_eq!(host.memory, Some(64 * MIB));
        let ports = host.port_bindings.expect("ports");
        assert_eq!(
            ports["80/tcp"].as_ref().expect("80")[0]
                .host_port
                .as_deref(),
            Some("")
        );
        assert_eq!(
            ports["53/udp"].as_ref().expect("53")[0]
                .host_port
                .as_deref(),
            Some("5353")
        );
        assert_eq!(body.healthcheck.expect("hc").interval, Some(5 * SECOND_NS));
        assert_eq!(docker_name(&td, "web", "ab"), "ecs-web-3-web-ab");
    }

    #[test]
    fn an_awsvpc_container_joins_the_pause_and_publishes_nothing() {
        let def = ContainerDefinition {
            name: Some("web".into()),
            image: Some("busybox".into()),
            port_mappings: Some(vec![PortMapping {
                container_port: Some(80),
                host_port: Some(80),
                ..PortMapping::default()
            }]),
            ..ContainerDefinition::default()
        };
        let td = TaskDefinition {
            network_mode: Some(NetworkMode::Awsvpc),
            ..TaskDefinition::default()
        };
        let body = create_body("c", "arn:i", &Task::default(), &td, &def, Some("p1"));
        let host = body.host_config.expect("host config");
        assert_eq!(host.network_mode.as_deref(), Some("container:p1"));
        assert_eq!(host.port_bindings, None);
        assert_eq!(body.exposed_ports, None);
    }
}
