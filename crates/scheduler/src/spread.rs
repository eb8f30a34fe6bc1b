//! Where a task group runs, counted per value of an attribute: what `spread(attribute:<name>)`
//! ranks by. Counting walks every instance, so whoever owns a cluster's views keeps a
//! [`SpreadCache`] beside them: each (group, attribute) is counted by one walk the first time a
//! placement asks, then kept true by [`SpreadCache::replace`] as views change, so a batch no
//! longer pays O(instances). A batch's own reservations are added on top in a [`Tally`], never
//! written into the shared counts.

use crate::{InstanceView, Views};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// Tasks of one group per attribute value; instances without the attribute share the bucket
/// `""`. Buckets with no task are absent.
pub type Buckets = HashMap<String, u64>;

/// The bucket of `instance` when spreading on the attribute `name`.
pub(crate) fn bucket<'a>(instance: &'a InstanceView, name: &str) -> &'a str {
    instance
        .facts
        .attributes
        .get(name)
        .map(String::as_str)
        .unwrap_or("")
}

/// How many tasks of `group` run on `instance`.
pub(crate) fn tasks_of(instance: &InstanceView, group: &str) -> u64 {
    u64::from(instance.facts.groups.get(group).copied().unwrap_or(0))
}

/// Counts `group` per value of `attribute` by walking every instance.
pub fn count<V: Views + ?Sized>(instances: &V, group: &str, attribute: &str) -> Buckets {
    let mut counts = Buckets::new();
    for instance in (0..instances.len()).map(|i| instances.get(i)) {
        add(
            &mut counts,
            bucket(instance, attribute),
            tasks_of(instance, group),
        );
    }
    counts
}

fn add(counts: &mut Buckets, bucket: &str, n: u64) {
    if n == 0 {
        return;
    }
    match counts.get_mut(bucket) {
        Some(c) => *c += n,
        None => {
            counts.insert(bucket.to_string(), n);
        }
    }
}

fn subtract(counts: &mut Buckets, bucket: &str, n: u64) {
    if let Some(c) = counts.get_mut(bucket) {
        *c = c.saturating_sub(n);
        if *c == 0 {
            counts.remove(bucket);
        }
    }
}

/// Spread counts of one cluster's views, by group then attribute. Planners share the views
/// read-only, so the first use of a (group, attribute) fills the cache behind a mutex; changes
/// to the views come with exclusive access and update it without locking.
#[derive(Debug, Default)]
pub struct SpreadCache {
    groups: Mutex<HashMap<String, HashMap<String, Arc<Buckets>>>>,
}

impl SpreadCache {
    /// The counts of `group` per value of `attribute` over `views`, which must be the views
    /// this cache has been told about through [`SpreadCache::replace`].
    pub fn counts(&self, views: &[InstanceView], group: &str, attribute: &str) -> Arc<Buckets> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(counts) = groups.get(group).and_then(|g| g.get(attribute)) {
            return Arc::clone(counts);
        }
        let counts = Arc::new(count(views, group, attribute));
        groups
            .entry(group.to_string())
            .or_default()
            .insert(attribute.to_string(), Arc::clone(&counts));
        counts
    }

    /// Takes one view's change into the counts: `old` is the view being replaced or removed
    /// (None when it is new), `new` the view taking its place (None when it is removed). Only
    /// the groups on either view can change, so this costs what the instance runs, not the
    /// cluster. A group whose counts become empty is forgotten (its next use walks again), so
    /// the cache holds only groups that run.
    pub fn replace(&mut self, old: Option<&InstanceView>, new: Option<&InstanceView>) {
        let cached = self
            .groups
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if cached.is_empty() {
            return;
        }
        let touched: BTreeSet<&str> = old
            .into_iter()
            .chain(new)
            .flat_map(|v| v.facts.groups.keys().map(String::as_str))
            .filter(|g| cached.contains_key(*g))
            .collect();
        for group in touched {
            let Some(attributes) = cached.get_mut(group) else {
                continue;
            };
            for (attribute, counts) in attributes.iter_mut() {
                // Nothing else holds the counts while the views change: no copy is made.
                let counts = Arc::make_mut(counts);
                if let Some(old) = old {
                    subtract(counts, bucket(old, attribute), tasks_of(old, group));
                }
                if let Some(new) = new {
                    add(counts, bucket(new, attribute), tasks_of(new, group));
                }
            }
            attributes.retain(|_, counts| !counts.is_empty());
            if attributes.is_empty() {
                cached.remove(group);
            }
        }
    }
}

/// One batch's counts of a group per bucket: the cluster's, shared, and the batch's own
/// placements on top.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    base: Arc<Buckets>,
    added: Buckets,
}

impl Tally {
    /// A tally starting from `base`.
    pub fn new(base: Arc<Buckets>) -> Self {
        Self {
            base,
            added: Buckets::new(),
        }
    }

    /// Counts `n` more tasks in `bucket`.
    pub fn add(&mut self, bucket: &str, n: u64) {
        add(&mut self.added, bucket, n);
    }

    /// The tasks counted in `bucket`.
    pub fn get(&self, bucket: &str) -> u64 {
        self.base.get(bucket).copied().unwrap_or(0) + self.added.get(bucket).copied().unwrap_or(0)
    }
}
