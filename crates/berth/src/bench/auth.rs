//! What signature verification and policy evaluation cost: a cheap call (DescribeClusters of
//! one cluster) by an IAM user whose read-only policy is evaluated on every call, beside the
//! same calls to a server that verifies nothing (every request acts as the root).
//!
//! Each round runs both servers in turn: first an open loop at a fixed rate (latency as a
//! client sees it, at the load the issue names), then a closed loop of concurrent clients
//! (the most calls a second). The client signs in both, so only the server's work differs.

use super::percentiles;
use crate::server::{self, Running, ServerOptions};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    CreateClusterRequest, CreateClusterResponse, DescribeClustersRequest, DescribeClustersResponse,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const CLUSTER: &str = "bench-auth";
const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Read","Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"},
  {"Sid":"NoWrites","Effect":"Deny","Action":["ecs:Delete*","ecs:Update*"],"Resource":"*"}]}"#;

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
}

/// One server of the comparison, with a client signing as a read-only IAM user.
struct Side {
    running: Running,
    ecs: EcsClient,
    stop: watch::Sender<bool>,
    data: std::path::PathBuf,
}

impl Side {
    async fn start(label: &str, verify: bool) -> anyhow::Result<Self> {
        let data =
            std::env::temp_dir().join(format!("berth-bench-auth-{}-{label}", std::process::id()));
        let (stop, shutdown) = watch::channel(false);
        let running = server::start(
            &ServerOptions {
                verify,
                ..super::server_options(data.clone())
            },
            shutdown,
        )
        .await?;
        let control = &running.control;
        let fail = |e: berth_types::ApiError| anyhow::anyhow!("{e}");
        control.create_user("reader").map_err(fail)?;
        control
            .put_user_policy("reader", "read-only", READ_ONLY, berth_api::policy::check)
            .map_err(fail)?;
        let key = control.create_access_key("reader").map_err(fail)?;
        let ecs = EcsClient::new(&running.endpoint(), &key.id, &key.secret, &running.region);
        let root = running.root_client();
        let _: CreateClusterResponse = root
            .call(
                "CreateCluster",
                &CreateClusterRequest {
                    cluster_name: Some(CLUSTER.into()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(Self {
            running,
            ecs,
            stop,
            data,
        })
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.running.served.await;
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

async fn describe(ecs: &EcsClient) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let answer: DescribeClustersResponse = ecs
        .call(
            "DescribeClusters",
            &DescribeClustersRequest {
                clusters: Some(vec![CLUSTER.into()]),
                ..Default::default()
            },
        )
        .await?;
    anyhow::ensure!(
        answer.clusters.unwrap_or_default().len() == 1,
        "DescribeClusters did not find the cluster"
    );
    Ok(started.elapsed())
}

/// Calls at `rate` a second for `seconds`, each started on schedule whatever the others do:
/// latencies (ms) and the rate achieved.
async fn open_loop(ecs: &EcsClient, rate: u32, seconds: u64) -> anyhow::Result<(Vec<f64>, f64)> {
    let total = rate as u64 * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut calls = Vec::with_capacity(total as usize);
    for _ in 0..total {
        ticks.tick().await;
        let ecs = ecs.clone();
        calls.push(tokio::spawn(async move { describe(&ecs).await }));
    }
    let mut latencies = Vec::with_capacity(calls.len());
    for call in calls {
        latencies.push(call.await??.as_secs_f64() * 1e3);
    }
    let achieved = latencies.len() as f64 / started.elapsed().as_secs_f64();
    Ok((latencies, achieved))
}

/// `clients` loops calling back to back for `seconds`: calls a second.
async fn closed_loop(ecs: &EcsClient, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut loops = Vec::new();
    for _ in 0..clients {
        let ecs = ecs.clone();
        loops.push(tokio::spawn(async move {
            let mut calls = 0u64;
            while Instant::now() < until {
                describe(&ecs).await?;
                calls += 1;
            }
            anyhow::Ok(calls)
        }));
    }
    let mut calls = 0;
    for l in loops {
        calls += l.await??;
    }
    Ok(calls as f64 / started.elapsed().as_secs_f64())
}

/// One side's figures in one round.
#[derive(Default)]
struct Round {
    p50_ms: f64,
    p99_ms: f64,
    achieved: f64,
    max_per_s: f64,
}

async fn measure(side: &Side, opts: &AuthOptions) -> anyhow::Result<Round> {
    // Warm the connections and the caches.
    closed_loop(&side.ecs, opts.clients, 1).await?;
    let (latencies, achieved) = open_loop(&side.ecs, opts.rate, opts.seconds).await?;
    let (p50_ms, p99_ms) = percentiles(&latencies);
    let max_per_s = closed_loop(&side.ecs, opts.clients, opts.seconds.min(5)).await?;
    Ok(Round {
        p50_ms,
        p99_ms,
        achieved,
        max_per_s,
    })
}

/// Server-side cost of verifying and authorising one signed DescribeClusters, in µs, timed in
/// this process on the request the client sends (no network, no scheduling noise).
fn auth_cost_us(side: &Side) -> anyhow::Result<f64> {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
    let body = serde_json::to_vec(&DescribeClustersRequest {
        clusters: Some(vec![CLUSTER.into()]),
        ..Default::default()
    })?;
    let url = format!("{}/", side.ecs.endpoint());
    let target = format!("{}.DescribeClusters", berth_types::ecs::TARGET_PREFIX);
    let unsigned = [
        ("x-amz-target", target.as_str()),
        ("content-type", berth_api::wire::CONTENT_TYPE),
    ];
    let mut headers = HeaderMap::new();
    let host = side.running.addr.to_string();
    let signed = side.ecs.sign("POST", &url, &unsigned, &body)?;
    let all = unsigned
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .chain([("host".to_string(), host)])
        .chain(signed);
    for (name, value) in all {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes())?,
            HeaderValue::from_str(&value)?,
        );
    }
    let app = berth_api::AppState {
        control: Arc::clone(&side.running.control),
        registry: Arc::clone(&side.running.registry),
        root: berth_api::auth::RootKey {
            id: side.running.credentials.access_key_id.clone(),
            secret: side.running.credentials.secret_access_key.clone(),
        },
        limiter: Arc::new(berth_api::throttle::Limiter::new(0)),
        shutdown: watch::channel(false).1,
        secure: false,
        verify: true,
        registry_listener: None,
    };
    let (method, uri) = (Method::POST, Uri::from_static("/"));
    let once = || -> anyhow::Result<()> {
        let (_, principal) = app
            .authenticate(&method, &uri, &headers, &body)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ask = berth_api::ecs::ask(app.control.partition(), "DescribeClusters", &body);
        app.authorize(
            &principal,
            ask,
            &body,
            berth_types::ErrorCode::AccessDeniedException,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    };
    once()?;
    const CALLS: u32 = 20_000;
    let started = Instant::now();
    for _ in 0..CALLS {
        once()?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    percentiles(&values.collect::<Vec<_>>()).0
}

/// Runs the comparison and prints the figures.
pub async fn run(opts: AuthOptions) -> anyhow::Result<()> {
    let off = Side::start("unverified", false).await?;
    let on = Side::start("verified", true).await?;
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
        println!(
            "round {round}/{}: at {} calls/s p50 {:.3} ms verified vs {:.3} ms unverified; max {:.0}/s vs {:.0}/s",
            opts.rounds, opts.rate, with.p50_ms, without.p50_ms, with.max_per_s, without.max_per_s
        );
        rounds.push((with, without));
    }
    let cost_us = auth_cost_us(&on)?;
    off.stop().await;
    on.stop().await;
    let of = |pick: fn(&(Round, Round)) -> f64| median(rounds.iter().map(pick));
    let p50_on = of(|r| r.0.p50_ms);
    let p50_off = of(|r| r.1.p50_ms);
    let max_on = of(|r| r.0.max_per_s);
    let max_off = of(|r| r.1.max_per_s);
    super::summary(&[
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
    ]);
    Ok(())
}
