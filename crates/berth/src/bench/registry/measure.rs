//! The workload: one big image pushed and pulled, many small ones by concurrent clients, then
//! manifest GETs for a while.

use super::RegistryOptions;
use super::client::Target;
use crate::bench::percentiles;
use sha2::{Digest as _, Sha256};
use std::time::{Duration, Instant};

/// What one registry measured.
pub(super) struct Figures {
    pub(super) big_push_mb_s: f64,
    pub(super) big_pull_mb_s: f64,
    pub(super) small_push_per_s: f64,
    pub(super) small_pull_per_s: f64,
    pub(super) manifest_gets_per_s: f64,
    pub(super) manifest_p50_ms: f64,
}

/// `clients` loops over `0..count`, each item by one loop.
async fn fan_out<F, Fut>(count: usize, clients: usize, work: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let mut loops = vec![];
    for c in 0..clients {
        let work = work.clone();
        loops.push(tokio::spawn(async move {
            let mut i = c;
            while i < count {
                work(i).await?;
                i += clients;
            }
            anyhow::Ok(())
        }));
    }
    for l in loops {
        l.await??;
    }
    Ok(started.elapsed())
}

pub(super) async fn measure(
    target: &Target,
    opts: &RegistryOptions,
    name: &str,
) -> anyhow::Result<Figures> {
    let mb = 1024.0 * 1024.0;
    // Incompressible, so nothing on the way can shortcut it.
    let big: Vec<u8> = {
        let mut out = Vec::with_capacity(opts.big_mb << 20);
        let mut block = Sha256::digest(b"berth").to_vec();
        while out.len() < opts.big_mb << 20 {
            block = Sha256::digest(&block).to_vec();
            out.extend_from_slice(&block);
        }
        out
    };
    let started = Instant::now();
    target.push_image("bench/big", "v1", big).await?;
    let big_push = opts.big_mb as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let pulled = target.pull_image("bench/big", "v1").await?;
    let big_pull = pulled as f64 / mb / started.elapsed().as_secs_f64();
    say!(
        "{name}: {} MB image push {big_push:.0} MB/s, pull {big_pull:.0} MB/s",
        opts.big_mb
    );

    let t = target.clone();
    let took = fan_out(opts.small, opts.clients, move |i| {
        let t = t.clone();
        async move {
            let layer = format!("small layer {i} {}", "x".repeat(1000)).into_bytes();
            t.push_image("bench/small", &format!("t{i}"), layer).await
        }
    })
    .await?;
    let small_push = opts.small as f64 / took.as_secs_f64();
    let t = target.clone();
    let took = fan_out(opts.small, opts.clients, move |i| {
        let t = t.clone();
        async move {
            t.pull_image("bench/small", &format!("t{i}"))
                .await
                .map(|_| ())
        }
    })
    .await?;
    let small_pull = opts.small as f64 / took.as_secs_f64();
    say!(
        "{name}: {} small images push {small_push:.0}/s, pull {small_pull:.0}/s",
        opts.small
    );

    let until = Instant::now() + Duration::from_secs(opts.seconds);
    let started = Instant::now();
    let mut loops = vec![];
    for c in 0..opts.clients {
        let t = target.clone();
        let small = opts.small.max(1);
        loops.push(tokio::spawn(async move {
            let mut latencies = vec![];
            let mut i = c;
            while Instant::now() < until {
                let at = Instant::now();
                t.manifest("bench/small", &format!("t{}", i % small))
                    .await?;
                latencies.push(at.elapsed().as_secs_f64() * 1e3);
                i += 7;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = vec![];
    for l in loops {
        latencies.extend(l.await??);
    }
    let gets = latencies.len() as f64 / started.elapsed().as_secs_f64();
    let (p50, _) = percentiles(&latencies);
    say!("{name}: manifest GETs {gets:.0}/s (p50 {p50:.2} ms)");
    Ok(Figures {
        big_push_mb_s: big_push,
        big_pull_mb_s: big_pull,
        small_push_per_s: small_push,
        small_pull_per_s: small_pull,
        manifest_gets_per_s: gets,
        manifest_p50_ms: p50,
    })
}
