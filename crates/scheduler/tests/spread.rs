//! Spread counts kept in a [`SpreadCache`] place exactly as counting by a walk does, and the
//! sampling walk and refusals stay bounded on large clusters.

use berth_scheduler::query::Facts;
use berth_scheduler::ranking::{Resource, SpreadField};
use berth_scheduler::spread::SpreadCache;
use berth_scheduler::{
    Demand, InstanceView, Misfit, Overlay, Pipeline, Request, Strategy as Rank, Views,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const GROUP: &str = "service:web";

fn instance(i: usize, zone: usize, tasks: u32, memory: i64) -> InstanceView {
    InstanceView {
        arn: format!("i-{i}"),
        active: true,
        remaining_cpu: 1 << 20,
        remaining_memory: memory,
        facts: Facts {
            agent_connected: true,
            attributes: BTreeMap::from([("zone".to_string(), ["a", "b", "c"][zone].to_string())]),
            groups: BTreeMap::from([(GROUP.to_string(), tasks)]),
            ..Facts::default()
        },
        ..InstanceView::default()
    }
}

fn cluster() -> impl proptest::strategy::Strategy<Value = Vec<InstanceView>> {
    prop::collection::vec((0..3usize, 0..4u32, 0..64i64), 1..30).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (zone, tasks, memory))| instance(i, zone, tasks, memory))
            .collect()
    })
}

fn request(strategies: Vec<usize>) -> Request {
    Request {
        demand: Demand {
            cpu: 1,
            memory: 8,
            ..Demand::default()
        },
        group: GROUP.into(),
        strategies: std::iter::once(Rank::Spread(SpreadField::Attribute("zone".into())))
            .chain(strategies.into_iter().map(|s| match s {
                0 => Rank::Binpack(Resource::Memory),
                1 => Rank::Spread(SpreadField::Instance),
                _ => Rank::Random,
            }))
            .collect(),
        ..Request::default()
    }
}

/// Plans a batch on `overlay` after reserving the `pre`-planned instances that fit (as the
/// applier re-checks a plan), and returns what it placed with the changed views.
fn batch(
    mut overlay: Overlay<'_>,
    pipeline: &mut Pipeline,
    request: &Request,
    pre: &[usize],
    count: usize,
) -> (Vec<Option<usize>>, Vec<(usize, InstanceView)>) {
    let n = overlay.len();
    for &i in pre.iter().filter(|&&i| i < n) {
        if berth_scheduler::feasibility::check(overlay.get(i), request).is_ok() {
            overlay.reserve(i, &request.demand, &request.group);
        }
    }
    let placed = pipeline.place(&mut overlay, request, count);
    let mut changed: Vec<_> = overlay.into_changed().into_iter().collect();
    changed.sort_by_key(|(i, _)| *i);
    (placed.into_iter().map(Result::ok).collect(), changed)
}

proptest! {
    #[test]
    fn cached_counts_place_exactly_as_a_walk_does(
        instances in cluster(),
        strategies in prop::collection::vec(0..3usize, 0..3),
        batches in prop::collection::vec((prop::collection::vec(0..30usize, 0..3), 1..6usize), 1..5),
        seed in any::<u64>(),
    ) {
        let request = request(strategies);
        let (mut walked, mut cached) = (instances.clone(), instances);
        let mut cache = SpreadCache::default();
        let (mut by_walk, mut by_cache) = (Pipeline::new(seed), Pipeline::new(seed));
        for (pre, count) in batches {
            let (a, changed_a) = batch(Overlay::new(&walked), &mut by_walk, &request, &pre, count);
            let (b, changed_b) =
                batch(Overlay::cached(&cached, &cache), &mut by_cache, &request, &pre, count);
            prop_assert_eq!(a, b);
            prop_assert_eq!(&changed_a, &changed_b);
            for (i, view) in changed_a {
                walked[i] = view;
            }
            for (i, view) in changed_b {
                cache.replace(Some(&cached[i]), Some(&view));
                cached[i] = view;
            }
        }
    }
}

fn large(n: usize, room_at: usize, room: i64) -> Vec<InstanceView> {
    (0..n)
        .map(|i| instance(i, i % 3, 0, if i == room_at { room } else { 0 }))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn a_task_is_placed_while_one_instance_has_room(room_at in 0..20_000usize, seed in any::<u64>()) {
        let mut views = large(20_000, room_at, 24);
        let placed = Pipeline::new(seed).place(views.as_mut_slice(), &request(vec![0]), 5);
        let expected: Vec<Option<usize>> = vec![Some(room_at), Some(room_at), Some(room_at), None, None];
        prop_assert_eq!(placed.iter().map(|p| p.as_ref().ok().copied()).collect::<Vec<_>>(), expected);
    }
}

#[test]
fn a_refusal_names_the_first_instances_and_counts_them_all() {
    let mut views = large(250, 0, 0);
    views[7].active = false;
    let placed = Pipeline::new(1).place(views.as_mut_slice(), &request(vec![]), 2);
    let Some(Err(refusal)) = placed.first() else {
        panic!("a full cluster took a task: {placed:?}");
    };
    assert_eq!(refusal.per_instance.len(), berth_scheduler::Refusal::LISTED);
    assert_eq!(
        refusal.per_instance[7],
        ("i-7".to_string(), Misfit::Inactive)
    );
    assert_eq!(refusal.instances(), 250);
    assert_eq!(
        refusal.summary(),
        "RESOURCE:MEMORY on 249 instances, INACTIVE on 1 instance"
    );
    assert_eq!(placed[1].as_ref().err(), Some(refusal));
}
