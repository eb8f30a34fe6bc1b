//! The signed open loop on a fresh server, quiet and then in the middle of a flood of
//! anonymous requests, with the process's memory sampled through it.

use super::AuthOptions;
use super::anonymous::{Anonymous, flood};
use super::side::{Side, closed_loop, open_loop};
use crate::bench::percentiles;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// This process's resident memory (the server runs in it), in MiB.
fn rss_mib() -> anyhow::Result<f64> {
    crate::bench::status_mib("VmRSS:")
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))
}

/// The highest [`rss_mib`], sampled every 100 ms until `over` flips to true.
async fn peak_rss(over: watch::Receiver<bool>) -> anyhow::Result<f64> {
    let mut peak: f64 = 0.0;
    while !*over.borrow() {
        peak = peak.max(rss_mib()?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(peak)
}

/// The signed load quiet and under the flood, and the server's memory through it.
pub(super) struct Flooded {
    pub(super) quiet_p50_ms: f64,
    pub(super) quiet_p99_ms: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) anonymous: Anonymous,
    pub(super) anonymous_per_s: f64,
    pub(super) rss_before: f64,
    pub(super) rss_max: f64,
    pub(super) rss_after: f64,
}

/// Runs the signed open loop on a fresh server, quiet, then in the middle of a flood.
pub(super) async fn under_flood(opts: &AuthOptions) -> anyhow::Result<Flooded> {
    anyhow::ensure!(
        opts.flood_seconds > opts.seconds,
        "--flood-seconds must be longer than --seconds: the signed load runs inside the flood"
    );
    // A limit the signed load never reaches, but not 0, which would lift the limit on
    // anonymous requests too.
    let side = Side::start("flood", true, 1_000_000).await?;
    closed_loop(&side.ecs, opts.clients, 1).await?;
    let (quiet, _) = open_loop(&side.ecs, opts.rate, opts.seconds).await?;
    let rss_before = rss_mib()?;

    let (over, sampling) = watch::channel(false);
    let sampler = tokio::spawn(peak_rss(sampling));
    let lasting = Duration::from_secs(opts.flood_seconds);
    let started = Instant::now();
    let flooding = tokio::spawn(flood(side.running.addr, opts.flood_clients, lasting));
    // The signed load runs in the middle of the flood, clear of its start and end.
    tokio::time::sleep((lasting - Duration::from_secs(opts.seconds)) / 2).await;
    let (flooded, _) = open_loop(&side.ecs, opts.rate, opts.seconds).await?;
    let anonymous = flooding.await??;
    let anonymous_per_s = anonymous.answered as f64 / started.elapsed().as_secs_f64();
    let _ = over.send(true);
    let rss_max = sampler.await??;
    // Time for the server to close the flood's connections and settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_mib()?;
    side.stop().await;

    let (quiet_p50_ms, quiet_p99_ms) = percentiles(&quiet);
    let (p50_ms, p99_ms) = percentiles(&flooded);
    Ok(Flooded {
        quiet_p50_ms,
        quiet_p99_ms,
        p50_ms,
        p99_ms,
        anonymous,
        anonymous_per_s,
        rss_before,
        rss_max,
        rss_after,
    })
}
