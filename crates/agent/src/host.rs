//! What this host offers: cpu units and memory read from the machine, and the attributes ECS
//! agents register.

use berth_types::ecs::{Attribute, Resource};

/// Ports the ECS agent reserves on every host (ssh, Docker, the agent's own).
pub(crate) const RESERVED_PORTS: [&str; 5] = ["22", "2375", "2376", "51678", "51679"];

/// CPU units: 1024 per core.
pub(crate) fn cpu_units() -> i32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as i32 * 1024)
        .unwrap_or(1024)
}

/// Total memory in MiB, from `/proc/meminfo`.
pub(crate) fn memory_mib() -> i32 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<i64>().ok())
        })
        .map(|kb| (kb / 1024) as i32)
        .unwrap_or(1024)
}

/// ECS's name for this machine's architecture.
pub(crate) fn cpu_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

/// The resources registered with the control plane.
pub(crate) fn total_resources(cpu: i32, memory: i32) -> Vec<Resource> {
    let integer = |name: &str, v: i32| Resource {
        name: Some(name.into()),
        r#type: Some("INTEGER".into()),
        integer_value: Some(v),
        ..Resource::default()
    };
    let ports = |name: &str, v: Vec<String>| Resource {
        name: Some(name.into()),
        r#type: Some("STRINGSET".into()),
        string_set_value: Some(v),
        ..Resource::default()
    };
    vec![
        integer("CPU", cpu),
        integer("MEMORY", memory),
        ports(
            "PORTS",
            RESERVED_PORTS.iter().map(|p| p.to_string()).collect(),
        ),
        ports("PORTS_UDP", vec![]),
    ]
}

/// What the host can do that not every host can.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Capabilities {
    /// Mount shared file systems (`efsVolumeConfiguration` volumes need it, as on ECS).
    pub shared_volumes: bool,
    /// Hold a task's containers to the task's cpu and memory ([`crate::task_cgroup`]).
    pub task_limits: bool,
}

/// The built-in attributes, those of the host's `capabilities`, and the operator's own.
pub(crate) fn attributes(
    availability_zone: &str,
    custom: &[(String, String)],
    capabilities: Capabilities,
) -> Vec<Attribute> {
    let attribute = |name: &str, value: &str| Attribute {
        name: name.into(),
        value: Some(value.into()),
        ..Attribute::default()
    };
    let mut out = vec![
        attribute("ecs.os-type", "linux"),
        attribute("ecs.os-family", "LINUX"),
        attribute("ecs.cpu-architecture", cpu_architecture()),
        attribute("ecs.availability-zone", availability_zone),
        attribute("ecs.capability.external", "true"),
        attribute(
            "com.amazonaws.ecs.capability.docker-remote-api.1.41",
            "true",
        ),
        attribute(
            "com.amazonaws.ecs.capability.logging-driver.json-file",
            "true",
        ),
        attribute(
            "com.amazonaws.ecs.capability.container-health-check",
            "true",
        ),
        attribute("ecs.capability.container-ordering", "true"),
    ];
    if capabilities.task_limits {
        out.push(attribute(
            "com.amazonaws.ecs.capability.task-cpu-mem-limit",
            "true",
        ));
    }
    if capabilities.shared_volumes {
        out.push(attribute("ecs.capability.efs", "true"));
        out.push(attribute("ecs.capability.efsAuth", "true"));
    }
    for (name, value) in custom {
        out.retain(|a| a.name != *name);
        out.push(attribute(name, value));
    }
    out
}
