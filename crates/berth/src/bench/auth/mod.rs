//! What signature verification and policy evaluation cost: a cheap call (DescribeClusters of
//! one cluster) by an IAM user whose read-only policy is evaluated on every call, beside the
//! same calls to a server that verifies nothing (every request acts as the root).
//!
//! Each round runs both servers in turn: first an open loop at a fixed rate (latency as a
//! client sees it, at the load the issue names), then a closed loop of concurrent clients
//! (the most calls a second). The client signs in both, so only the server's work differs.
//!
//! Then the same open loop on a third server, quiet and again while anonymous clients flood
//! it with unsigned requests: what the flood adds to the signed calls' latency, how many
//! anonymous requests the server answers, and whether its memory stays flat.
//!
//! `side` is one server and its signed load, `cost` the server's own work per call timed in
//! process, `anonymous` the flood's clients, `flood` the run under the flood.

mod anonymous;
mod cost;
mod flood;
mod side;

use crate::bench::percentiles;
use side::{Round, Side, measure};

/// The cluster every signed call describes.
const CLUSTER: &str = "bench-auth";

/// How hard to push.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthOptions {
    /// Calls a second of the open loop.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Seconds of each open loop.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent clients of the closed loop.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Rounds (each runs both servers); figures are medians over rounds.
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
    /// Anonymous clients of the flood.
    #[arg(long, default_value_t = 100)]
    pub flood_clients: usize,
    /// Seconds the flood lasts; the signed open loop runs in its middle, so it must be longer
    /// than `--seconds`.
    #[arg(long, default_value_t = 10)]
    pub flood_seconds: u64,
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    percentiles(&values.collect::<Vec<_>>()).0
}

/// Runs the comparison and prints the figures.
pub async fn run(opts: AuthOptions) -> anyhow::Result<()> {
    let off = Side::start("unverified", false, 0).await?;
    let on = Side::start("verified", true, 0).await?;
    let mut rounds: Vec<(Round, Round)> = Vec::new();
    for round in 1..=opts.rounds {
        // Each side goes first in every other round, so neither gains from the order.
        let (with, without) = if round % 2 == 0 {
            let with = measure(&on, &opts).await?;
            (with, measure(&off, &opts).await?)
        } else {
            let without = measure(&off, &opts).await?;
            (measure(&on, &opts).await?, without)
        };
        say!(
            "round {round}/{}: at {} calls/s p50 {:.3} ms verified vs {:.3} ms unverified; max {:.0}/s vs {:.0}/s",
            opts.rounds,
            opts.rate,
            with.p50_ms,
            without.p50_ms,
            with.max_per_s,
            without.max_per_s
        );
        rounds.push((with, without));
    }
    let cost_us = cost::auth_cost_us(&on)?;
    off.stop().await;
    on.stop().await;
    let flood = flood::under_flood(&opts).await?;
    say!(
        "flood: {} anonymous clients for {} s, signed p50 {:.3} ms quiet vs {:.3} ms flooded, p99 {:.3} ms vs {:.3} ms ({:.2}x, target 2x); anonymous answered {:.0}/s ({} requests, {} throttled, {} unanswered); RSS {:.1} MiB before, {:.1} max, {:.1} after",
        opts.flood_clients,
        opts.flood_seconds,
        flood.quiet_p50_ms,
        flood.p50_ms,
        flood.quiet_p99_ms,
        flood.p99_ms,
        flood.p99_ms / flood.quiet_p99_ms,
        flood.anonymous_per_s,
        flood.anonymous.answered,
        flood.anonymous.throttled,
        flood.anonymous.failed,
        flood.rss_before,
        flood.rss_max,
        flood.rss_after,
    );
    let of = |pick: fn(&(Round, Round)) -> f64| median(rounds.iter().map(pick));
    let p50_on = of(|r| r.0.p50_ms);
    let p50_off = of(|r| r.1.p50_ms);
    let max_on = of(|r| r.0.max_per_s);
    let max_off = of(|r| r.1.max_per_s);
    crate::bench::summary(&[
        (
            "describe_rate_achieved_verified",
            of(|r| r.0.achieved),
            "calls/s",
        ),
        (
            "describe_rate_achieved_unverified",
            of(|r| r.1.achieved),
            "calls/s",
        ),
        ("describe_p50_verified", p50_on * 1e3, "µs"),
        ("describe_p50_unverified", p50_off * 1e3, "µs"),
        ("describe_p99_verified", of(|r| r.0.p99_ms) * 1e3, "µs"),
        ("describe_p99_unverified", of(|r| r.1.p99_ms) * 1e3, "µs"),
        (
            "verification_latency_overhead",
            (p50_on / p50_off - 1.0) * 100.0,
            "%",
        ),
        ("describe_max_verified", max_on, "calls/s"),
        ("describe_max_unverified", max_off, "calls/s"),
        (
            "verification_throughput_cost",
            (1.0 - max_on / max_off) * 100.0,
            "%",
        ),
        ("verify_and_authorize_per_call", cost_us, "µs"),
        (
            "verify_and_authorize_share_of_p50",
            cost_us / (p50_off * 1e3) * 100.0,
            "%",
        ),
        ("quiet_signed_p99_ms", flood.quiet_p99_ms, "ms"),
        ("flood_signed_p50_ms", flood.p50_ms, "ms"),
        ("flood_signed_p99_ms", flood.p99_ms, "ms"),
        ("flood_p99_ratio", flood.p99_ms / flood.quiet_p99_ms, "x"),
        ("flood_anonymous_per_s", flood.anonymous_per_s, "requests/s"),
        ("flood_rss_mb_before", flood.rss_before, "MiB"),
        ("flood_rss_mb_max", flood.rss_max, "MiB"),
        ("flood_rss_mb_after", flood.rss_after, "MiB"),
    ]);
    Ok(())
}
