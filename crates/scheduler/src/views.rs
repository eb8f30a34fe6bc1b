//! What a placement sees of the instances: [`Views`] by index. A plan is computed on an
//! [`Overlay`], a shared read-only snapshot plus the plan's own reservations, so planning never
//! copies the cluster and never changes the snapshot other plans read; the applier decides
//! later which reservations become real. An overlay built [`Overlay::cached`] reads the spread
//! counts of the snapshot from its owner's [`SpreadCache`] and adds its own reservations on
//! top, so ranking by spread never walks the cluster.

use crate::spread::{self, SpreadCache, Tally};
use crate::{Demand, InstanceView};
use std::collections::HashMap;

/// Instances by index, as the pipeline reads and reserves them.
pub trait Views {
    /// How many instances there are.
    fn len(&self) -> usize;
    /// True when there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The instance at `i` (`i < len()`), with every reservation made so far.
    fn get(&self, i: usize) -> &InstanceView;
    /// Takes a placed task's resources and group membership on instance `i`.
    fn reserve(&mut self, i: usize, demand: &Demand, group: &str);
    /// Tasks of `group` per value of the attribute `name` over every instance, with every
    /// reservation made so far, when the views keep them; None has the pipeline count them
    /// with a walk.
    fn spread_counts(&self, _group: &str, _name: &str) -> Option<Tally> {
        None
    }
}

impl Views for [InstanceView] {
    fn len(&self) -> usize {
        <[InstanceView]>::len(self)
    }

    fn get(&self, i: usize) -> &InstanceView {
        &self[i]
    }

    fn reserve(&mut self, i: usize, demand: &Demand, group: &str) {
        self[i].reserve(demand, group);
    }
}

/// A snapshot of instance views and the reservations of the placements made on it; only the
/// instances a plan touches are copied.
pub struct Overlay<'a> {
    base: &'a [InstanceView],
    spread: Option<&'a SpreadCache>,
    changed: HashMap<usize, InstanceView>,
}

impl<'a> Overlay<'a> {
    /// An overlay with no reservations yet.
    pub fn new(base: &'a [InstanceView]) -> Self {
        Self {
            base,
            spread: None,
            changed: HashMap::new(),
        }
    }

    /// An overlay with no reservations yet whose spread counts come from `spread`, the cache
    /// kept beside `base`.
    pub fn cached(base: &'a [InstanceView], spread: &'a SpreadCache) -> Self {
        Self {
            spread: Some(spread),
            ..Self::new(base)
        }
    }

    /// The instances the reservations changed, by index, as they are now.
    pub fn into_changed(self) -> HashMap<usize, InstanceView> {
        self.changed
    }
}

impl Views for Overlay<'_> {
    fn len(&self) -> usize {
        self.base.len()
    }

    fn get(&self, i: usize) -> &InstanceView {
        self.changed.get(&i).unwrap_or(&self.base[i])
    }

    fn reserve(&mut self, i: usize, demand: &Demand, group: &str) {
        self.changed
            .entry(i)
            .or_insert_with(|| self.base[i].clone())
            .reserve(demand, group);
    }

    fn spread_counts(&self, group: &str, name: &str) -> Option<Tally> {
        let mut tally = Tally::new(self.spread?.counts(self.base, group, name));
        // Reservations only add tasks, and never change an instance's attributes.
        for (&i, view) in &self.changed {
            let before = &self.base[i];
            let added =
                spread::tasks_of(view, group).saturating_sub(spread::tasks_of(before, group));
            tally.add(spread::bucket(before, name), added);
        }
        Some(tally)
    }
}
