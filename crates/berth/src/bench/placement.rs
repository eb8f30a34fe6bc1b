//! The placement benchmark. Pure: a simulated cluster in memory, tasks with spread on the
//! availability zone, binpack on memory and one memberOf constraint, at 1,000, 10,000 and
//! 100,000 instances: in RunTask-sized batches of 10, in batches of 1 (a RunTask of one task, a
//! service controller's start: a per-batch cost shows only there), in batches of 10 on a
//! cluster 99% full (the sampling walk), and a batch refused by a full cluster (its time and
//! how many instances its `failures[]` names). Then end to end through the API
//! ([`super::api_placement`]) with the same constraint and strategies.

use super::{ZONES, percentiles, summary};
use berth_scheduler::query::{Facts, parse};
use berth_scheduler::ranking::{Resource, SpreadField};
use berth_scheduler::spread::SpreadCache;
use berth_scheduler::{Constraint, Demand, InstanceView, Overlay, Pipeline, Request, Strategy};
use std::collections::BTreeMap;
use std::time::Instant;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// Refused batches timed per cluster size: each walks the whole cluster.
const REFUSALS: usize = 5;

/// How much room the simulated instances have.
#[derive(Clone, Copy)]
enum Fill {
    /// Every instance is empty.
    Empty,
    /// One instance in a hundred has room (all of them `web`, over the three zones).
    NearlyFull,
    /// No instance has room.
    Full,
}

fn cluster(n: usize, fill: Fill) -> Vec<InstanceView> {
    (0..n)
        .map(|i| {
            let room = match fill {
                Fill::Empty => true,
                Fill::NearlyFull => i % 100 == 1,
                Fill::Full => false,
            };
            InstanceView {
                arn: format!("arn:aws:ecs:us-east-1:000000000000:container-instance/bench/{i:08}"),
                active: true,
                remaining_cpu: 16_384,
                remaining_memory: if room { 65_536 } else { 0 },
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
            }
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

/// A simulated cluster as the control plane keeps one: views, and spread counts beside them.
struct Cluster {
    views: Vec<InstanceView>,
    spread: SpreadCache,
}

impl Cluster {
    fn new(instances: usize, fill: Fill) -> Self {
        Self {
            views: cluster(instances, fill),
            spread: SpreadCache::default(),
        }
    }

    /// Places one batch as the control plane does: plan on an overlay of the snapshot, then
    /// commit the plan's views (and their spread counts). Returns how many were placed, and how
    /// many instances a refusal names.
    fn batch(
        &mut self,
        pipeline: &mut Pipeline,
        request: &Request,
        count: usize,
    ) -> (usize, usize) {
        let mut plan = Overlay::cached(&self.views, &self.spread);
        let batch = pipeline.place(&mut plan, request, count);
        for (i, view) in plan.into_changed() {
            self.spread.replace(Some(&self.views[i]), Some(&view));
            self.views[i] = view;
        }
        let named = batch
            .iter()
            .find_map(|p| p.as_ref().err())
            .map_or(0, |r| r.per_instance.len());
        (batch.iter().filter(|p| p.is_ok()).count(), named)
    }
}

struct Run {
    per_second: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Places `placements` tasks in batches of `batch`; latencies are per decision.
fn run_one(instances: usize, fill: Fill, batch: usize, placements: usize) -> anyhow::Result<Run> {
    let mut cluster = Cluster::new(instances, fill);
    let request = request()?;
    let mut pipeline = Pipeline::new(42);
    let mut latencies = Vec::with_capacity(placements / batch + 1);
    let mut placed = 0usize;
    let start = Instant::now();
    while placed < placements {
        let t = Instant::now();
        let (ok, _) = cluster.batch(&mut pipeline, &request, batch);
        latencies.push(t.elapsed().as_secs_f64() * 1e6 / batch as f64);
        anyhow::ensure!(
            ok == batch,
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
    })
}

/// A batch of 10 refused by a full cluster: p50 milliseconds, and how many instances the
/// refusal names (the `failures[]` RunTask answers).
fn refused(instances: usize) -> anyhow::Result<(f64, usize)> {
    let mut cluster = Cluster::new(instances, Fill::Full);
    let request = request()?;
    let mut pipeline = Pipeline::new(42);
    let mut times = Vec::with_capacity(REFUSALS);
    let mut named = 0;
    for _ in 0..REFUSALS {
        let t = Instant::now();
        let (ok, n) = cluster.batch(&mut pipeline, &request, 10);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(ok == 0, "a full cluster took {ok} tasks");
        named = n;
    }
    Ok((percentiles(&times).0, named))
}

/// Runs the benchmark.
pub async fn run(placements: usize, api: super::ApiOptions) -> anyhow::Result<()> {
    let mut rows = Vec::with_capacity(SIZES.len());
    for instances in SIZES {
        say!("placing {placements} tasks on {instances} simulated instances, four ways ...");
        let tens = run_one(instances, Fill::Empty, 10, placements)?;
        let ones = run_one(instances, Fill::Empty, 1, placements)?;
        let nearly_full = run_one(instances, Fill::NearlyFull, 10, placements)?;
        let (refused_ms, named) = refused(instances)?;
        say!(
            "  {instances:>7} instances: {:>9.0} placements/s, decision p50 {:.1} µs, p99 {:.1} µs, peak memory {:.0} MiB",
            tens.per_second,
            tens.p50_us,
            tens.p99_us,
            peak_mib()
        );
        rows.push((instances, tens, ones, nearly_full, refused_ms, named));
    }
    say!("µs per decision, p50 / p99:");
    say!("  instances | batches of 10 | batches of 1  | 99% full, 10  | refused batch | failures");
    for (instances, tens, ones, full, refused_ms, named) in &rows {
        say!(
            "  {instances:>9} | {:>5.1} / {:>5.1} | {:>5.1} / {:>5.1} | {:>5.1} / {:>5.1} | {refused_ms:>9.2} ms | {named:>8}",
            tens.p50_us,
            tens.p99_us,
            ones.p50_us,
            ones.p99_us,
            full.p50_us,
            full.p99_us
        );
    }
    let [small, headline, large] = &rows[..] else {
        anyhow::bail!("a cluster size was not run");
    };
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
        ("placements_per_s", headline.1.per_second, "placements/s"),
        ("decision_p50", headline.1.p50_us, "us"),
        ("decision_p99", headline.1.p99_us, "us"),
        ("decision_p50_1k_batch_1", small.2.p50_us, "us"),
        ("decision_p50_100k_batch_1", large.2.p50_us, "us"),
        (
            "decision_100k_over_1k_batch_1",
            large.2.p50_us / small.2.p50_us,
            "x",
        ),
        (
            "decision_100k_over_1k_batch_10",
            large.1.p50_us / small.1.p50_us,
            "x",
        ),
        ("refused_batch_100k", large.4, "ms"),
        ("peak_memory", peak_mib(), "MiB"),
    ]);
    Ok(())
}
