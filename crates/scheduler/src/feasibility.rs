//! The feasibility stage: the checks that rule an instance out, cheapest first, so that a
//! disconnected or draining instance costs no set arithmetic and no expression evaluation.

use crate::query::Expr;
use crate::{InstanceView, Request};

/// A placement constraint.
#[derive(Debug, Clone)]
pub enum Constraint {
    /// `memberOf` with a cluster query expression.
    MemberOf(Expr),
    /// `distinctInstance`: at most one task of the group per instance.
    DistinctInstance,
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
    /// Not enough GPUs.
    Gpu,
    /// A TCP host port is taken.
    PortsTcp,
    /// A UDP host port is taken.
    PortsUdp,
    /// An attribute the task definition requires is missing.
    Attribute,
    /// A `memberOf` expression does not match.
    MemberOf,
    /// The group already has a task on the instance.
    DistinctInstance,
}

impl Misfit {
    /// The reason string of `failures[]`.
    pub fn reason(self) -> &'static str {
        match self {
            Misfit::Inactive => "INACTIVE",
            Misfit::Agent => "AGENT",
            Misfit::Cpu => "RESOURCE:CPU",
            Misfit::Memory => "RESOURCE:MEMORY",
            Misfit::Gpu => "RESOURCE:GPU",
            Misfit::PortsTcp => "RESOURCE:PORTS_TCP",
            Misfit::PortsUdp => "RESOURCE:PORTS_UDP",
            Misfit::Attribute => "ATTRIBUTE",
            Misfit::MemberOf => "MemberOf placement constraint unsatisfied",
            Misfit::DistinctInstance => "DistinctInstance placement constraint unsatisfied",
        }
    }
}

/// The first check an instance fails for this request.
pub fn check(instance: &InstanceView, request: &Request) -> Result<(), Misfit> {
    let demand = &request.demand;
    if !instance.active {
        return Err(Misfit::Inactive);
    }
    if !instance.facts.agent_connected {
        return Err(Misfit::Agent);
    }
    if instance.remaining_cpu < demand.cpu {
        return Err(Misfit::Cpu);
    }
    if instance.remaining_memory < demand.memory {
        return Err(Misfit::Memory);
    }
    if instance.remaining_gpu < demand.gpu {
        return Err(Misfit::Gpu);
    }
    if !instance.used_tcp.is_disjoint(&demand.tcp_ports) {
        return Err(Misfit::PortsTcp);
    }
    if !instance.used_udp.is_disjoint(&demand.udp_ports) {
        return Err(Misfit::PortsUdp);
    }
    for (name, value) in &request.requires_attributes {
        let has = instance.facts.attributes.get(name);
        if has.is_none() || (value.is_some() && has != value.as_ref()) {
            return Err(Misfit::Attribute);
        }
    }
    for constraint in &request.constraints {
        match constraint {
            Constraint::DistinctInstance => {
                if instance
                    .facts
                    .groups
                    .get(&request.group)
                    .copied()
                    .unwrap_or(0)
                    > 0
                {
                    return Err(Misfit::DistinctInstance);
                }
            }
            Constraint::MemberOf(expr) => {
                if !expr.matches(&instance.facts) {
                    return Err(Misfit::MemberOf);
                }
            }
        }
    }
    Ok(())
}
