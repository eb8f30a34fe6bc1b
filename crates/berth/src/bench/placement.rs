//! The placement benchmark. Pure: a simulated cluster in memory, placements in RunTask-sized
//! batches of 10 with spread on the availability zone, binpack on memory and one memberOf
//! constraint, at 1,000, 10,000 and 100,000 instances. Then end to end through the API
//! ([`super::api_placement`]) with the same constraint and strategies.

use super::{ZONES, percentiles, summary};
use berth_scheduler::query::{Facts, parse};
use berth_scheduler::ranking::{Resource, SpreadField};
use berth_scheduler::{Constraint, Demand, InstanceView, Overlay, Pipeline, Request, Strategy};
use std::collections::BTreeMap;
use std::time::Instant;

const BATCH: usize = 10;

fn cluster(n: usize) -> Vec<InstanceView> {
    (0..n)
        .map(|i| InstanceView {
            arn: format!("arn:aws:ecs:us-east-1:000000000000:container-instance/bench/{i:08}"),
            active: true,
            remaining_cpu: 16_384,
            remaining_memory: 65_536,
            facts: Facts {
                ec2_instance_id: format!("i-{i:017x}"),
                agent_connected: true,
                attributes: BTreeMap::from([
                    (
                        "ecs.availability-zone".to_string(),
                        ZONES[i % 3].to_string(),
                    ),
                    (
                        "role".to_string(),
                        if i % 10 == 0 { "batch" } else { "web" }.to_string(),
                    ),
                ]),
                ..Facts::default()
            },
            ..InstanceView::default()
        })
        .collect()
}

fn request() -> anyhow::Result<Request> {
    Ok(Request {
        demand: Demand {
            cpu: 1,
            memory: 8,
            ..Demand::default()
        },
        group: "service:web".into(),
        constraints: vec![Constraint::MemberOf(parse("attribute:role == web")?)],
        strategies: vec![
            Strategy::Spread(SpreadField::Attribute("ecs.availability-zone".into())),
            Strategy::Binpack(Resource::Memory),
        ],
        ..Request::default()
    })
}

/// Peak resident memory of this process, in MiB.
fn peak_mib() -> f64 {
    super::status_mib("VmHWM:").unwrap_or(f64::NAN)
}

struct Run {
    per_second: f64,
    p50_us: f64,
    p99_us: f64,
    peak_mib: f64,
}

fn run_one(instances: usize, placements: usize) -> anyhow::Result<Run> {
    let mut views = cluster(instances);
    let request = request()?;
    let mut pipeline = Pipeline::new(42);
    let mut latencies = Vec::with_capacity(placements / BATCH + 1);
    let mut placed = 0usize;
    let start = Instant::now();
    while placed < placements {
        let t = Instant::now();
        // As in the control plane: plan on an overlay of the snapshot, then commit the plan.
        let mut plan = Overlay::new(&views);
        let batch = pipeline.place(&mut plan, &request, BATCH);
        for (i, view) in plan.into_changed() {
            views[i] = view;
        }
        let ok = batch.iter().filter(|p| p.is_ok()).count();
        latencies.push(t.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
        anyhow::ensure!(
            ok == BATCH,
            "the simulated cluster ran out of room after {placed} placements"
        );
        placed += ok;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (p50_us, p99_us) = percentiles(&latencies);
    Ok(Run {
        per_second: placed as f64 / elapsed,
        p50_us,
        p99_us,
        peak_mib: peak_mib(),
    })
}

/// Runs the benchmark.
pub async fn run(placements: usize, api: super::ApiOptions) -> anyhow::Result<()> {
    let mut headline = None;
    for instances in [1_000, 10_000, 100_000] {
        say!("placing {placements} tasks on {instances} simulated instances ...");
        let r = run_one(instances, placements)?;
        say!(
            "  {instances:>7} instances: {:>9.0} placements/s, decision p50 {:.1} µs, p99 {:.1} µs, peak memory {:.0} MiB",
            r.per_second,
            r.p50_us,
            r.p99_us,
            r.peak_mib
        );
        if instances == 10_000 {
            headline = Some(r);
        }
    }
    let r = headline.ok_or_else(|| anyhow::anyhow!("the 10,000-instance run did not happen"))?;
    let e2e = super::api_placement::run(api.instances, api.tasks, api.clients).await?;
    say!(
        "  end to end: {:.0} tasks placed/s on {} simulated instances, RunTask p50 {:.1} ms, p99 {:.1} ms",
        e2e.per_second,
        api.instances,
        e2e.call_p50_ms,
        e2e.call_p99_ms
    );
    summary(&[
        ("api_placements_per_s", e2e.per_second, "placements/s"),
        ("api_run_task_p50", e2e.call_p50_ms, "ms"),
        ("api_run_task_p99", e2e.call_p99_ms, "ms"),
        ("placements_per_s", r.per_second, "placements/s"),
        ("decision_p50", r.p50_us, "us"),
        ("decision_p99", r.p99_us, "us"),
        ("peak_memory", r.peak_mib, "MiB"),
    ]);
    Ok(())
}
