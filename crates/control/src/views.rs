//! The scheduler's views of each cluster's container instances, kept in memory and refreshed
//! one instance at a time as changes are applied ([`crate::State::apply`]), so a placement
//! neither rebuilds the cluster's views nor reads the store: it plans on
//! [`crate::State::views`] directly. A view is computed from the instance's record and the
//! [`Usage`] of its tasks, both handed in, so this module needs nothing of the state.
//! Each cluster's spread counts are kept beside its views ([`SpreadCache`]), updated by the
//! same `put` and `remove`, so ranking by spread costs a batch nothing per instance.

use crate::resources::{resource_set, resource_value};
use crate::status::InstanceStatus;
use berth_scheduler::query::Facts;
use berth_scheduler::spread::SpreadCache;
use berth_scheduler::{InstanceView, Overlay};
use berth_types::ecs::ContainerInstance;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Resources and task counts of one container instance, derived from its tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU units taken by tasks not yet STOPPED.
    pub cpu: i64,
    /// MiB taken.
    pub memory: i64,
    /// GPUs taken.
    pub gpu: i64,
    /// Host TCP ports taken.
    pub tcp: BTreeSet<u16>,
    /// Host UDP ports taken.
    pub udp: BTreeSet<u16>,
    /// Tasks whose lastStatus is RUNNING.
    pub running: i32,
    /// Tasks placed here and not yet RUNNING.
    pub pending: i32,
    /// Tasks not yet STOPPED per task group.
    pub groups: BTreeMap<String, u32>,
}

/// The views of one cluster's registered (not INACTIVE) instances.
#[derive(Debug, Default)]
pub(crate) struct ClusterViews {
    views: Vec<InstanceView>,
    index: HashMap<String, usize>,
    spread: SpreadCache,
}

impl ClusterViews {
    /// Every view, in no particular order.
    pub(crate) fn all(&self) -> &[InstanceView] {
        &self.views
    }

    /// Where an instance's view sits in [`ClusterViews::all`].
    pub(crate) fn position(&self, arn: &str) -> Option<usize> {
        self.index.get(arn).copied()
    }

    /// A plan's overlay of these views, reading their spread counts.
    pub(crate) fn overlay(&self) -> Overlay<'_> {
        Overlay::cached(&self.views, &self.spread)
    }

    /// Adds or replaces a view.
    pub(crate) fn put(&mut self, view: InstanceView) {
        match self.index.get(&view.arn) {
            Some(&i) => {
                self.spread.replace(Some(&self.views[i]), Some(&view));
                self.views[i] = view;
            }
            None => {
                self.spread.replace(None, Some(&view));
                self.index.insert(view.arn.clone(), self.views.len());
                self.views.push(view);
            }
        }
    }

    /// Drops a view; the last one takes its place.
    pub(crate) fn remove(&mut self, arn: &str) {
        let Some(i) = self.index.remove(arn) else {
            return;
        };
        self.spread.replace(Some(&self.views[i]), None);
        self.views.swap_remove(i);
        if let Some(moved) = self.views.get(i) {
            self.index.insert(moved.arn.clone(), i);
        }
    }
}

/// What the query language and the strategies may know of an instance, given what its tasks
/// use (None when nothing was ever placed on it) and whether its agent is connected.
pub(crate) fn facts(instance: &ContainerInstance, usage: Option<&Usage>, connected: bool) -> Facts {
    Facts {
        ec2_instance_id: instance.ec2_instance_id.clone().unwrap_or_default(),
        agent_connected: connected,
        agent_version: instance
            .version_info
            .as_ref()
            .and_then(|v| v.agent_version.clone())
            .unwrap_or_default(),
        registered_at: instance.registered_at.unwrap_or_default(),
        running_tasks_count: usage.map_or(0, |u| i64::from(u.running)),
        attributes: instance
            .attributes
            .iter()
            .flatten()
            .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
            .collect(),
        groups: usage.map(|u| u.groups.clone()).unwrap_or_default(),
    }
}

/// The view of an instance computed from its record, what its tasks use and its [`facts`].
pub(crate) fn view(
    instance: &ContainerInstance,
    usage: Option<&Usage>,
    facts: Facts,
) -> InstanceView {
    let arn = instance.container_instance_arn.clone().unwrap_or_default();
    let registered = instance.registered_resources.as_deref().unwrap_or_default();
    let none = Usage::default();
    let usage = usage.unwrap_or(&none);
    let ports = |name: &str| {
        resource_set(registered, name)
            .iter()
            .filter_map(|p| p.parse::<u16>().ok())
            .collect::<BTreeSet<u16>>()
    };
    let mut used_tcp = ports("PORTS");
    used_tcp.extend(&usage.tcp);
    let mut used_udp = ports("PORTS_UDP");
    used_udp.extend(&usage.udp);
    InstanceView {
        active: InstanceStatus::Active.is(&instance.status),
        remaining_cpu: resource_value(registered, "CPU") - usage.cpu,
        remaining_memory: resource_value(registered, "MEMORY") - usage.memory,
        remaining_gpu: resource_set(registered, "GPU").len() as i64 - usage.gpu,
        used_tcp,
        used_udp,
        facts,
        arn,
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterViews;
    use berth_scheduler::InstanceView;
    use berth_scheduler::query::Facts;
    use berth_scheduler::spread;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const GROUPS: [&str; 3] = ["service:a", "service:b", "family:c"];
    const ATTRIBUTES: [&str; 2] = ["zone", "rack"];

    /// One change to a cluster's views, or a placement asking for spread counts.
    #[derive(Debug, Clone)]
    enum Step {
        Put(Box<InstanceView>),
        Remove(usize),
        Count(usize, usize),
    }

    fn view(i: usize, zone: usize, rack: Option<usize>, tasks: [u32; 3]) -> InstanceView {
        let mut attributes = BTreeMap::from([("zone".to_string(), format!("z{zone}"))]);
        if let Some(rack) = rack {
            attributes.insert("rack".to_string(), format!("r{rack}"));
        }
        InstanceView {
            arn: format!("i-{i}"),
            facts: Facts {
                attributes,
                groups: GROUPS
                    .iter()
                    .zip(tasks)
                    .map(|(g, n)| (g.to_string(), n))
                    .collect(),
                ..Facts::default()
            },
            ..InstanceView::default()
        }
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        let put = (
            0..10usize,
            0..3usize,
            prop::option::of(0..2usize),
            prop::array::uniform3(0..3u32),
        )
            .prop_map(|(i, zone, rack, tasks)| Step::Put(Box::new(view(i, zone, rack, tasks))));
        prop_oneof![
            3 => put,
            1 => (0..10usize).prop_map(Step::Remove),
            2 => (0..GROUPS.len(), 0..ATTRIBUTES.len()).prop_map(|(g, a)| Step::Count(g, a)),
        ]
    }

    proptest! {
        /// The counts a placement reads are what the walk of every view (the scheduler's count
        /// without a cache) finds, whatever put and remove did since they were first counted.
        #[test]
        fn cached_spread_counts_are_what_a_walk_counts(
            steps in prop::collection::vec(step(), 1..60)
        ) {
            let mut cluster = ClusterViews::default();
            for step in steps {
                match step {
                    Step::Put(view) => cluster.put(*view),
                    Step::Remove(i) => cluster.remove(&format!("i-{i}")),
                    Step::Count(g, a) => {
                        let (group, attribute) = (GROUPS[g], ATTRIBUTES[a]);
                        let cached = cluster.spread.counts(cluster.all(), group, attribute);
                        prop_assert_eq!(&*cached, &spread::count(cluster.all(), group, attribute));
                    }
                }
            }
            for group in GROUPS {
                for attribute in ATTRIBUTES {
                    let cached = cluster.spread.counts(cluster.all(), group, attribute);
                    prop_assert_eq!(&*cached, &spread::count(cluster.all(), group, attribute));
                }
            }
        }
    }
}
