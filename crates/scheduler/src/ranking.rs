//! The ranking stage: placement strategies, applied in order, each breaking the ties the one
//! before it left; what is still tied after the last goes to the lowest index (stable input
//! order), so a plan depends only on its inputs and the seed.

use crate::spread::{self, Tally};
use crate::{InstanceView, Request, Views};
use std::sync::Arc;

/// A resource `binpack` packs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU units.
    Cpu,
    /// Memory.
    Memory,
}

/// What `spread` balances over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadField {
    /// `instanceId` (or `host`): one bucket per instance.
    Instance,
    /// `attribute:<name>`: one bucket per value (instances without it share one).
    Attribute(String),
}

/// A placement strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// The instance with the least of the resource left.
    Binpack(Resource),
    /// The bucket with the fewest tasks of the group.
    Spread(SpreadField),
    /// Any instance, at random.
    Random,
}

/// A small deterministic generator (xorshift64*), so a seed fixes every random choice.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Tasks of the request's group per bucket, for each `spread(attribute:<name>)` of the request:
/// the cluster's counts when the views keep them ([`Views::spread_counts`]), else counted once
/// per batch over every instance (balance is about where the group runs, not only where it
/// could go); kept up to date as the batch places tasks. `spread(instanceId)` needs no count:
/// an instance's bucket is itself, and its view already counts the group's tasks on it.
pub(crate) struct SpreadCounts {
    attributes: Vec<(String, Tally)>,
}

impl SpreadCounts {
    /// The request's group per bucket, for each spread attribute of the request.
    pub(crate) fn new<V: Views + ?Sized>(instances: &V, request: &Request) -> Self {
        let attributes = request
            .strategies
            .iter()
            .filter_map(|s| match s {
                Strategy::Spread(SpreadField::Attribute(name)) => Some(name),
                _ => None,
            })
            .map(|name| {
                let tally = instances
                    .spread_counts(&request.group, name)
                    .unwrap_or_else(|| {
                        Tally::new(Arc::new(spread::count(instances, &request.group, name)))
                    });
                (name.clone(), tally)
            })
            .collect();
        Self { attributes }
    }

    /// Counts one more task of the group on `instance`.
    pub(crate) fn add(&mut self, instance: &InstanceView) {
        for (name, tally) in &mut self.attributes {
            tally.add(spread::bucket(instance, name), 1);
        }
    }

    fn count(&self, field: &SpreadField, instance: &InstanceView, group: &str) -> i64 {
        let n = match field {
            SpreadField::Instance => spread::tasks_of(instance, group),
            SpreadField::Attribute(name) => self
                .attributes
                .iter()
                .find(|(a, _)| a == name)
                .map_or(0, |(_, tally)| tally.get(spread::bucket(instance, name))),
        };
        n as i64
    }
}

/// The best of the `feasible` instances, or None when there are none.
pub(crate) fn best<V: Views + ?Sized>(
    instances: &V,
    feasible: &[usize],
    request: &Request,
    rng: &mut Rng,
    spread: &SpreadCounts,
) -> Option<usize> {
    let mut tied: Vec<usize> = feasible.to_vec();
    for strategy in &request.strategies {
        if tied.len() <= 1 {
            break;
        }
        let score: Vec<(usize, i64)> = match strategy {
            Strategy::Binpack(resource) => tied
                .iter()
                .map(|&i| {
                    let left = match resource {
                        Resource::Cpu => instances.get(i).remaining_cpu,
                        Resource::Memory => instances.get(i).remaining_memory,
                    };
                    (i, left)
                })
                .collect(),
            Strategy::Spread(field) => tied
                .iter()
                .map(|&i| (i, spread.count(field, instances.get(i), &request.group)))
                .collect(),
            Strategy::Random => {
                let pick = tied[(rng.next_u64() % tied.len() as u64) as usize];
                return Some(pick);
            }
        };
        let min = score.iter().map(|(_, s)| *s).min()?;
        tied = score
            .into_iter()
            .filter(|(_, s)| *s == min)
            .map(|(i, _)| i)
            .collect();
    }
    tied.first().copied()
}
