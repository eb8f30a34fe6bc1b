//! One server of the comparison, with a client signing as a read-only IAM user, and the
//! signed load: an open loop at a fixed rate and a closed loop of concurrent clients.

use super::{AuthOptions, CLUSTER};
use crate::bench::percentiles;
use crate::server::{self, Running, ServerOptions};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    CreateClusterRequest, CreateClusterResponse, DescribeClustersRequest, DescribeClustersResponse,
};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Read","Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"},
  {"Sid":"NoWrites","Effect":"Deny","Action":["ecs:Delete*","ecs:Update*"],"Resource":"*"}]}"#;

/// One server of the comparison, with a client signing as a read-only IAM user.
pub(super) struct Side {
    pub(super) running: Running,
    pub(super) ecs: EcsClient,
    stop: watch::Sender<bool>,
    data: std::path::PathBuf,
}

impl Side {
    /// A server that verifies signatures or not, with a rate limit per key (0: none, and then
    /// no limit on anonymous requests either).
    pub(super) async fn start(label: &str, verify: bool, rate_limit: u32) -> anyhow::Result<Self> {
        let data =
            std::env::temp_dir().join(format!("berth-bench-auth-{}-{label}", std::process::id()));
        let (stop, shutdown) = watch::channel(false);
        let running = server::start(
            &ServerOptions {
                verify,
                rate_limit,
                ..crate::bench::server_options(data.clone())
            },
            shutdown,
        )
        .await?;
        let control = &running.control;
        let fail = |e: berth_control::error::ControlError| anyhow::anyhow!("{e}");
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

    pub(super) async fn stop(self) {
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
pub(super) async fn open_loop(
    ecs: &EcsClient,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<(Vec<f64>, f64)> {
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
pub(super) async fn closed_loop(
    ecs: &EcsClient,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
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
pub(super) struct Round {
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) achieved: f64,
    pub(super) max_per_s: f64,
}

pub(super) async fn measure(side: &Side, opts: &AuthOptions) -> anyhow::Result<Round> {
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
