//! What a task needs from its host: cpu units, MiB, and host ports.
//!
//! ECS rules: task-level cpu/memory win when set; otherwise the containers' sum, where a
//! container's memory is its hard limit or, failing that, its reservation. Host ports are the
//! static `hostPort`s of bridge mode, and every `containerPort` in host mode; dynamic ports
//! (`hostPort` 0 or absent in bridge mode) reserve nothing, nor do awsvpc tasks' ports, which
//! are on the task's own address.

pub(crate) use berth_scheduler::Demand;
use berth_types::ecs::{
    NetworkMode, ResourceType, TaskDefinition, TaskOverride, TransportProtocol,
};
use berth_types::units::{parse_cpu, parse_memory};

/// The demand of a task definition run with `overrides`.
pub(crate) fn of(td: &TaskDefinition, overrides: Option<&TaskOverride>) -> Demand {
    let containers = td.container_definitions.as_deref().unwrap_or_default();
    let container_override = |name: &Option<String>| {
        overrides
            .and_then(|o| o.container_overrides.as_ref())
            .and_then(|list| list.iter().find(|c| c.name == *name))
    };
    let task_cpu = overrides
        .and_then(|o| o.cpu.as_deref())
        .or(td.cpu.as_deref())
        .and_then(parse_cpu);
    let task_memory = overrides
        .and_then(|o| o.memory.as_deref())
        .or(td.memory.as_deref())
        .and_then(parse_memory);
    let mut demand = Demand {
        cpu: i64::from(task_cpu.unwrap_or_default()),
        memory: i64::from(task_memory.unwrap_or_default()),
        ..Demand::default()
    };
    let host_mode = td.network_mode == Some(NetworkMode::Host);
    let own_address = td.network_mode == Some(NetworkMode::Awsvpc);
    for c in containers {
        let o = container_override(&c.name);
        let requirements = o
            .and_then(|o| o.resource_requirements.as_ref())
            .or(c.resource_requirements.as_ref());
        for r in requirements.into_iter().flatten() {
            if r.r#type == ResourceType::Gpu {
                demand.gpu += r.value.parse::<i64>().unwrap_or(0);
            }
        }
        if task_cpu.is_none() {
            let cpu = o.and_then(|o| o.cpu).or(c.cpu).unwrap_or_default();
            demand.cpu += i64::from(cpu.max(0));
        }
        if task_memory.is_none() {
            let hard = o.and_then(|o| o.memory).or(c.memory);
            let soft = o
                .and_then(|o| o.memory_reservation)
                .or(c.memory_reservation);
            demand.memory += i64::from(hard.or(soft).unwrap_or_default().max(0));
        }
        let host_ports = if own_address {
            &[][..]
        } else {
            c.port_mappings.as_deref().unwrap_or_default()
        };
        for pm in host_ports {
            let port = if host_mode {
                pm.host_port.or(pm.container_port)
            } else {
                pm.host_port
            };
            let Some(port) = port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0) else {
                continue;
            };
            match pm.protocol {
                Some(TransportProtocol::Udp) => demand.udp_ports.insert(port),
                _ => demand.tcp_ports.insert(port),
            };
        }
    }
    demand
}
