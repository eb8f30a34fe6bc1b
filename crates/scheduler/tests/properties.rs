//! Properties of the placement pipeline over random clusters and requests.

use berth_scheduler::query::{Facts, parse};
use berth_scheduler::ranking::{Resource, SpreadField};
use berth_scheduler::{
    Constraint, Demand, InstanceView, Overlay, Pipeline, Request, Strategy as Rank, Views,
    feasibility,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const ZONES: [&str; 3] = ["a", "b", "c"];

fn instance() -> impl proptest::strategy::Strategy<Value = InstanceView> {
    (
        0..4096i64,
        0..4096i64,
        0..3usize,
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.9),
        prop::collection::btree_set(8000..8004u16, 0..2),
    )
        .prop_map(
            |(cpu, memory, zone, active, connected, used_tcp)| InstanceView {
                arn: String::new(),
                active,
                remaining_cpu: cpu,
                remaining_memory: memory,
                remaining_gpu: 0,
                used_tcp,
                used_udp: BTreeSet::new(),
                facts: Facts {
                    agent_connected: connected,
                    attributes: BTreeMap::from([("zone".to_string(), ZONES[zone].to_string())]),
                    ..Facts::default()
                },
            },
        )
}

fn cluster() -> impl proptest::strategy::Strategy<Value = Vec<InstanceView>> {
    prop::collection::vec(instance(), 0..25).prop_map(|mut v| {
        for (i, inst) in v.iter_mut().enumerate() {
            inst.arn = format!("i-{i}");
            inst.facts.ec2_instance_id = inst.arn.clone();
        }
        v
    })
}

fn request() -> impl proptest::strategy::Strategy<Value = Request> {
    (
        0..1024i64,
        0..1024i64,
        prop::option::of(8000..8004u16),
        prop::option::of(0..3usize),
        any::<bool>(),
        prop::collection::vec(0..4usize, 0..3),
    )
        .prop_map(|(cpu, memory, port, member_zone, distinct, strategies)| {
            let mut constraints = vec![];
            if let Some(z) = member_zone {
                let expr = parse(&format!("attribute:zone != {}", ZONES[z])).expect("parses");
                constraints.push(Constraint::MemberOf(expr));
            }
            if distinct {
                constraints.push(Constraint::DistinctInstance);
            }
            Request {
                demand: Demand {
                    cpu,
                    memory,
                    tcp_ports: port.into_iter().collect(),
                    ..Demand::default()
                },
                group: "family:web".into(),
                constraints,
                strategies: strategies
                    .into_iter()
                    .map(|s| match s {
                        0 => Rank::Binpack(Resource::Cpu),
                        1 => Rank::Binpack(Resource::Memory),
                        2 => Rank::Spread(SpreadField::Attribute("zone".into())),
                        _ => Rank::Random,
                    })
                    .collect(),
                ..Request::default()
            }
        })
}

proptest! {
    #[test]
    fn nothing_is_overcommitted_and_every_constraint_holds(
        instances in cluster(), req in request(), count in 1..20usize, seed in any::<u64>()
    ) {
        let before = instances.clone();
        let mut views = instances;
        let placed = Pipeline::new(seed).place(views.as_mut_slice(), &req, count);
        let mut per_instance: BTreeMap<usize, usize> = BTreeMap::new();
        for i in placed.iter().flatten() {
            *per_instance.entry(*i).or_default() += 1;
            let original = &before[*i];
            prop_assert!(original.active && original.facts.agent_connected);
            for c in &req.constraints {
                if let Constraint::MemberOf(e) = c {
                    prop_assert!(e.matches(&original.facts));
                }
            }
        }
        for (i, n) in &per_instance {
            let (b, after) = (&before[*i], &views[*i]);
            prop_assert!(after.remaining_cpu >= 0 && after.remaining_memory >= 0);
            prop_assert_eq!(b.remaining_cpu - after.remaining_cpu, req.demand.cpu * *n as i64);
            if !req.demand.tcp_ports.is_empty() {
                prop_assert_eq!(*n, 1, "a static port is taken once per instance");
                prop_assert!(b.used_tcp.is_disjoint(&req.demand.tcp_ports));
            }
            if req.constraints.iter().any(|c| matches!(c, Constraint::DistinctInstance)) {
                prop_assert_eq!(*n, 1, "distinctInstance");
            }
        }
        // Once one task is refused, the rest are too: nothing fits better later in a batch.
        if let Some(first) = placed.iter().position(|p| p.is_err()) {
            prop_assert!(placed[first..].iter().all(|p| p.is_err()));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan(instances in cluster(), req in request(), seed in any::<u64>()) {
        let plan = |mut v: Vec<InstanceView>| -> Vec<Option<usize>> {
            Pipeline::new(seed).place(v.as_mut_slice(), &req, 8).into_iter().map(|p| p.ok()).collect()
        };
        prop_assert_eq!(plan(instances.clone()), plan(instances));
    }

    #[test]
    fn an_overlay_plans_as_a_copy_would_and_leaves_the_snapshot_alone(
        instances in cluster(), req in request(), seed in any::<u64>()
    ) {
        let mut copy = instances.clone();
        let on_copy = Pipeline::new(seed).place(copy.as_mut_slice(), &req, 8);
        let mut overlay = Overlay::new(&instances);
        let on_overlay = Pipeline::new(seed).place(&mut overlay, &req, 8);
        prop_assert_eq!(on_copy, on_overlay);
        for (i, view) in copy.iter().enumerate() {
            prop_assert_eq!(view, overlay.get(i));
        }
        let changed = overlay.into_changed();
        for (i, view) in instances.iter().enumerate() {
            if !changed.contains_key(&i) {
                prop_assert_eq!(view, &copy[i]);
            }
        }
    }

    #[test]
    fn binpack_takes_the_tightest_fit(instances in cluster(), req in request()) {
        let req = Request { strategies: vec![Rank::Binpack(Resource::Memory)], ..req };
        let mut views = instances;
        let feasible: Vec<i64> = views
            .iter()
            .filter(|v| feasibility::check(v, &req).is_ok())
            .map(|v| v.remaining_memory)
            .collect();
        let before = views.clone();
        if let Some(Ok(i)) = Pipeline::new(1).place(views.as_mut_slice(), &req, 1).pop() {
            prop_assert_eq!(Some(before[i].remaining_memory), feasible.into_iter().min());
        }
    }

    #[test]
    fn spread_keeps_zones_within_one(per_zone in 1..6usize, count in 1..40usize) {
        let mut views: Vec<InstanceView> = (0..per_zone * 3)
            .map(|i| InstanceView {
                arn: format!("i-{i}"),
                active: true,
                remaining_cpu: 1 << 20,
                remaining_memory: 1 << 20,
                facts: Facts {
                    agent_connected: true,
                    attributes: BTreeMap::from([("zone".to_string(), ZONES[i % 3].to_string())]),
                    ..Facts::default()
                },
                ..InstanceView::default()
            })
            .collect();
        let req = Request {
            demand: Demand { cpu: 1, memory: 1, ..Demand::default() },
            group: "service:web".into(),
            strategies: vec![Rank::Spread(SpreadField::Attribute("zone".into()))],
            ..Request::default()
        };
        let placed = Pipeline::new(7).place(views.as_mut_slice(), &req, count);
        let mut zones = [0usize; 3];
        for i in placed.into_iter().flatten() {
            zones[i % 3] += 1;
        }
        let (min, max) = (zones.iter().min().copied().unwrap_or(0), zones.iter().max().copied().unwrap_or(0));
        prop_assert!(max - min <= 1, "zones {zones:?}");
    }
}
