//! Berth's placement: pure functions that choose a container instance for a task. No I/O, no
//! async: the control plane hands in a read-only view of the instances and applies the result.
//!
//! This first version is a two-stage pipeline: feasibility checks, cheapest first (agent
//! connected and ACTIVE, cpu, memory, TCP ports, UDP ports), then the choice (the first instance
//! that passes). Every instance that fails says why, with the reason strings ECS uses in
//! `failures[]` (`AGENT`, `RESOURCE:CPU`, `RESOURCE:MEMORY`, `RESOURCE:PORTS_TCP`, ...).

pub mod query;

use std::collections::BTreeSet;

/// What one task needs from an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// CPU units.
    pub cpu: i64,
    /// MiB.
    pub memory: i64,
    /// Host TCP ports that must be free.
    pub tcp_ports: BTreeSet<u16>,
    /// Host UDP ports that must be free.
    pub udp_ports: BTreeSet<u16>,
}

/// What the scheduler may know of an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceView {
    /// The container instance ARN.
    pub arn: String,
    /// Status is ACTIVE.
    pub active: bool,
    /// Its agent holds a stream to the control plane.
    pub agent_connected: bool,
    /// CPU units not yet taken.
    pub remaining_cpu: i64,
    /// MiB not yet taken.
    pub remaining_memory: i64,
    /// TCP ports reserved or in use.
    pub used_tcp: BTreeSet<u16>,
    /// UDP ports reserved or in use.
    pub used_udp: BTreeSet<u16>,
}

/// Why an instance cannot take a task, as ECS words it in `failures[].reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Misfit {
    /// The instance is not ACTIVE (DRAINING, INACTIVE, ...).
    Inactive,
    /// The instance's agent is not connected.
    Agent,
    /// Not enough CPU.
    Cpu,
    /// Not enough memory.
    Memory,
    /// A TCP host port is taken.
    PortsTcp,
    /// A UDP host port is taken.
    PortsUdp,
}

impl Misfit {
    /// The reason string of `failures[]`.
    pub fn reason(self) -> &'static str {
        match self {
            Misfit::Inactive => "INACTIVE",
            Misfit::Agent => "AGENT",
            Misfit::Cpu => "RESOURCE:CPU",
            Misfit::Memory => "RESOURCE:MEMORY",
            Misfit::PortsTcp => "RESOURCE:PORTS_TCP",
            Misfit::PortsUdp => "RESOURCE:PORTS_UDP",
        }
    }
}

/// The feasibility stage: the first check an instance fails, cheapest checks first so that a
/// disconnected or draining instance costs no set arithmetic.
pub fn check(instance: &InstanceView, demand: &Demand) -> Result<(), Misfit> {
    if !instance.active {
        return Err(Misfit::Inactive);
    }
    if !instance.agent_connected {
        return Err(Misfit::Agent);
    }
    if instance.remaining_cpu < demand.cpu {
        return Err(Misfit::Cpu);
    }
    if instance.remaining_memory < demand.memory {
        return Err(Misfit::Memory);
    }
    if !instance.used_tcp.is_disjoint(&demand.tcp_ports) {
        return Err(Misfit::PortsTcp);
    }
    if !instance.used_udp.is_disjoint(&demand.udp_ports) {
        return Err(Misfit::PortsUdp);
    }
    Ok(())
}

/// The outcome of placing one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Index into the instances given.
    Placed(usize),
    /// No instance fits; each instance with the reason it was refused.
    Unplaced(Vec<(String, Misfit)>),
}

/// Places one task on the first instance that fits.
pub fn place(instances: &[InstanceView], demand: &Demand) -> Placement {
    let mut misfits = Vec::new();
    for (i, instance) in instances.iter().enumerate() {
        match check(instance, demand) {
            Ok(()) => return Placement::Placed(i),
            Err(m) => misfits.push((instance.arn.clone(), m)),
        }
    }
    Placement::Unplaced(misfits)
}

/// Takes a placed task's resources off the instance, so the next placement in a batch sees them.
pub fn reserve(instance: &mut InstanceView, demand: &Demand) {
    instance.remaining_cpu -= demand.cpu;
    instance.remaining_memory -= demand.memory;
    instance.used_tcp.extend(&demand.tcp_ports);
    instance.used_udp.extend(&demand.udp_ports);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(arn: &str, cpu: i64, memory: i64) -> InstanceView {
        InstanceView {
            arn: arn.into(),
            active: true,
            agent_connected: true,
            remaining_cpu: cpu,
            remaining_memory: memory,
            ..Default::default()
        }
    }

    #[test]
    fn first_fit_with_reasons() {
        let mut a = instance("a", 100, 100);
        a.used_tcp.insert(80);
        let b = instance("b", 2048, 50);
        let mut c = instance("c", 2048, 4096);
        c.agent_connected = false;
        let d = instance("d", 2048, 4096);
        let demand = Demand {
            cpu: 256,
            memory: 128,
            tcp_ports: [80].into(),
            ..Default::default()
        };
        assert_eq!(
            place(&[a.clone(), b.clone(), c.clone()], &demand),
            Placement::Unplaced(vec![
                ("a".into(), Misfit::Cpu),
                ("b".into(), Misfit::Memory),
                ("c".into(), Misfit::Agent)
            ])
        );
        assert_eq!(place(&[a, b, c, d], &demand), Placement::Placed(3));
    }

    #[test]
    fn reserve_blocks_the_next_task() {
        let mut d = instance("d", 512, 512);
        let demand = Demand {
            cpu: 300,
            memory: 10,
            tcp_ports: [8080].into(),
            ..Default::default()
        };
        reserve(&mut d, &demand);
        assert_eq!(check(&d, &demand), Err(Misfit::Cpu));
        let demand = Demand {
            tcp_ports: [8080].into(),
            ..Default::default()
        };
        assert_eq!(check(&d, &demand), Err(Misfit::PortsTcp));
    }
}
