//! Berth's placement: pure functions that choose container instances for tasks. No I/O, no
//! async: the control plane hands in a view of the instances and applies the result.
//!
//! [`Pipeline`] runs three stages for each task:
//! 1. **feasibility** ([`feasibility`]): checks that rule an instance out, cheapest first;
//! 2. **ranking** ([`ranking`]): the placement strategies, in the order the request gives them,
//!    each breaking the ties the one before it left;
//! 3. **choice**: the best-ranked instance; its view is updated so the next task of the same
//!    batch sees the resources and the group count it took.
//!
//! Every instance that is ruled out says why ([`Misfit`]), so a task that cannot be placed
//! reports reasons with counts. [`query`] is the cluster query language of `memberOf`;
//! [`spread`] counts where a group runs, kept incrementally by the owner of the views so a
//! placement costs the same at 1,000 instances as at 100,000.

#![warn(unreachable_pub)]

pub mod feasibility;
pub mod query;
pub mod ranking;
pub mod spread;
mod views;

pub use feasibility::{Constraint, Misfit};
pub use ranking::{Rng, Strategy};
pub use views::{Overlay, Views};

use query::Facts;
use std::collections::{BTreeMap, BTreeSet};

/// What one task needs from an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// CPU units.
    pub cpu: i64,
    /// MiB.
    pub memory: i64,
    /// GPUs.
    pub gpu: i64,
    /// Host TCP ports that must be free.
    pub tcp_ports: BTreeSet<u16>,
    /// Host UDP ports that must be free.
    pub udp_ports: BTreeSet<u16>,
}

/// What the scheduler may know of an instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceView {
    /// The container instance ARN.
    pub arn: String,
    /// Status is ACTIVE.
    pub active: bool,
    /// CPU units not yet taken.
    pub remaining_cpu: i64,
    /// MiB not yet taken.
    pub remaining_memory: i64,
    /// GPUs not yet taken.
    pub remaining_gpu: i64,
    /// TCP ports reserved or in use.
    pub used_tcp: BTreeSet<u16>,
    /// UDP ports reserved or in use.
    pub used_udp: BTreeSet<u16>,
    /// What the query language and the strategies may ask (attributes, task groups, ...);
    /// `facts.agent_connected` is checked first of all.
    pub facts: Facts,
}

impl InstanceView {
    /// Takes a placed task's resources and group membership, so the next placement of a batch
    /// sees them.
    pub fn reserve(&mut self, demand: &Demand, group: &str) {
        self.remaining_cpu -= demand.cpu;
        self.remaining_memory -= demand.memory;
        self.remaining_gpu -= demand.gpu;
        self.used_tcp.extend(&demand.tcp_ports);
        self.used_udp.extend(&demand.udp_ports);
        *self.facts.groups.entry(group.to_string()).or_default() += 1;
    }
}

/// One placement request: a task's needs, its group, constraints and strategies.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Resources and ports.
    pub demand: Demand,
    /// The task group (`family:<family>` or `service:<name>` by default).
    pub group: String,
    /// `requiresAttributes` of the task definition: name and, optionally, value.
    pub requires_attributes: Vec<(String, Option<String>)>,
    /// Placement constraints, from the task definition and the call.
    pub constraints: Vec<Constraint>,
    /// Placement strategies, applied in order.
    pub strategies: Vec<Strategy>,
}

/// Why a task could not be placed: each reason with the number of instances it ruled out, and
/// the first instances by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    /// The first [`Refusal::LISTED`] instances (in view order) and the first check each failed:
    /// a refusal on 100,000 instances names 100 of them, not every one.
    pub per_instance: Vec<(String, Misfit)>,
    /// How many instances each reason ruled out, over the whole cluster.
    pub ruled_out: BTreeMap<Misfit, usize>,
}

impl Refusal {
    /// Most instances [`Refusal::per_instance`] names.
    pub const LISTED: usize = 100;

    /// Why each instance of `instances` cannot take the task: called when none can.
    fn of<V: Views + ?Sized>(instances: &V, request: &Request) -> Self {
        let mut refusal = Refusal::default();
        for inst in (0..instances.len()).map(|i| instances.get(i)) {
            if let Err(m) = feasibility::check(inst, request) {
                *refusal.ruled_out.entry(m).or_default() += 1;
                if refusal.per_instance.len() < Self::LISTED {
                    refusal.per_instance.push((inst.arn.clone(), m));
                }
            }
        }
        refusal
    }

    /// How many instances were ruled out.
    pub fn instances(&self) -> usize {
        self.ruled_out.values().sum()
    }

    /// Reasons with their counts, most common first.
    pub fn counts(&self) -> Vec<(Misfit, usize)> {
        let mut v: Vec<(Misfit, usize)> = self.ruled_out.iter().map(|(m, n)| (*m, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// `RESOURCE:MEMORY on 37 instances, MemberOf placement constraint unsatisfied on 12`.
    pub fn summary(&self) -> String {
        if self.ruled_out.is_empty() {
            return "no container instances in the cluster".into();
        }
        self.counts()
            .iter()
            .map(|(m, n)| {
                let noun = if *n == 1 { "instance" } else { "instances" };
                format!("{} on {n} {noun}", m.reason())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How many feasible instances the ranking stage looks at per task. Below this many instances
/// the pipeline is exact; above it, it ranks a sample spread evenly over the whole cluster.
/// The cost in balance: binpack picks the tightest of the sample rather than of the cluster,
/// and spread picks the emptiest bucket seen in the sample, which with a few buckets (zones)
/// is the emptiest of the cluster all but always.
pub(crate) const SAMPLE: usize = 64;

/// After this many instances visited, the sample stops at the first feasible one: on a nearly
/// full cluster, finding [`SAMPLE`] feasible would visit O(instances / feasible share). The
/// walk goes on over the whole cluster only while nothing feasible is found, so a task is never
/// refused while an instance has room.
pub(crate) const VISIT: usize = 4096;

/// The placement pipeline.
pub struct Pipeline {
    rng: Rng,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Pipeline {
    /// A pipeline whose random choices follow `seed`: the same seed and inputs give the same plan.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
        }
    }

    /// Up to [`SAMPLE`] feasible instances, visited from a random start with a stride coprime
    /// to the cluster size, so the sample covers the cluster rather than one stretch of it;
    /// fewer once [`VISIT`] instances have been visited and one is feasible.
    fn sample<V: Views + ?Sized>(&mut self, instances: &V, request: &Request) -> Vec<usize> {
        let n = instances.len();
        if n == 0 {
            return vec![];
        }
        let start = (self.rng.next_u64() % n as u64) as usize;
        let stride = [7919, 104_729, 1_299_709, 1]
            .into_iter()
            .find(|p| gcd(*p, n) == 1)
            .unwrap_or(1);
        let mut feasible = Vec::with_capacity(SAMPLE.min(n));
        for k in 0..n {
            let i = (start + k * stride) % n;
            if feasibility::check(instances.get(i), request).is_ok() {
                feasible.push(i);
                if feasible.len() == SAMPLE {
                    break;
                }
            }
            if k + 1 >= VISIT && !feasible.is_empty() {
                break;
            }
        }
        // Ranking ties go to the lowest index, so the sample is kept in index order.
        feasible.sort_unstable();
        feasible
    }

    /// Places `count` tasks of one request; each is an instance index or the refusal. Placed
    /// tasks are reserved on `instances`, so the views stay true for the next call.
    pub fn place<V: Views + ?Sized>(
        &mut self,
        instances: &mut V,
        request: &Request,
        count: usize,
    ) -> Vec<Result<usize, Refusal>> {
        let mut out = Vec::with_capacity(count);
        let mut spread = ranking::SpreadCounts::new(instances, request);
        for _ in 0..count {
            // Feasibility before ranking: ranking only ever orders instances that can take the
            // task.
            let feasible = self.sample(instances, request);
            match ranking::best(instances, &feasible, request, &mut self.rng, &spread) {
                Some(i) => {
                    instances.reserve(i, &request.demand, &request.group);
                    spread.add(instances.get(i));
                    out.push(Ok(i));
                }
                None => {
                    // Nothing fits now, and nothing later in this batch will: say why, once.
                    out.resize(count, Err(Refusal::of(instances, request)));
                    break;
                }
            }
        }
        out
    }
}
