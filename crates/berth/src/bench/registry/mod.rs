//! `berth bench registry`: push and pull through the OCI Distribution API, Berth beside
//! Debian's `docker-registry` (the Distribution registry) on the same disk, with the same
//! client (this module's, over HTTP/1.1 on loopback), in one run.
//!
//! Berth checks a Basic-auth token and a policy on every request; the baseline runs without
//! auth (its htpasswd auth hashes bcrypt on every request, which would flatter Berth).
//!
//! `client` is the registry client both are measured with, `distribution` the baseline's
//! process, `measure` the workload.

mod client;
mod distribution;
mod measure;

use crate::server;
use client::Target;
use distribution::{Distribution, Scratch};
use measure::{Figures, measure};
use tokio::sync::watch;

/// How big and how many.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryOptions {
    /// MB of the single-layer image.
    #[arg(long, default_value_t = 200)]
    pub big_mb: usize,
    /// Small images pushed and pulled.
    #[arg(long, default_value_t = 1_000)]
    pub small: usize,
    /// Concurrent clients for small images and manifest GETs.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds of manifest GETs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

/// Each figure of the summary: its name, how to read it, its unit, and whether the summary
/// also gives Berth's ratio to the baseline.
type Figure = (&'static str, fn(&Figures) -> f64, &'static str, bool);

const FIGURES: [Figure; 6] = [
    ("big_push", |f| f.big_push_mb_s, "MB/s", true),
    ("big_pull", |f| f.big_pull_mb_s, "MB/s", true),
    ("small_push", |f| f.small_push_per_s, "images/s", true),
    ("small_pull", |f| f.small_pull_per_s, "images/s", true),
    ("manifest_gets", |f| f.manifest_gets_per_s, "/s", true),
    ("manifest_p50", |f| f.manifest_p50_ms, "ms", false),
];

/// Runs both registries and prints the figures.
pub async fn run(opts: RegistryOptions) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("berth-bench-registry-{}", std::process::id()));
    let _cleanup = Scratch(data.clone());
    let (stop, shutdown) = watch::channel(false);
    let running =
        server::start(&crate::bench::server_options(data.join("berth")), shutdown).await?;
    let ecr = running.root_client();
    for repo in ["bench/big", "bench/small"] {
        let _: serde_json::Value = ecr
            .call_target(
                berth_types::ecr::TARGET_PREFIX,
                "CreateRepository",
                &serde_json::json!({ "repositoryName": repo }),
            )
            .await?;
    }
    let token: serde_json::Value = ecr
        .call_target(
            berth_types::ecr::TARGET_PREFIX,
            "GetAuthorizationToken",
            &serde_json::json!({}),
        )
        .await?;
    let token = token["authorizationData"][0]["authorizationToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let berth = Target {
        http: reqwest::Client::new(),
        base: running.endpoint(),
        auth: Some(format!("Basic {token}")),
    };
    let (distribution, baseline) = Distribution::start(&data).await?;
    let b = measure(&berth, &opts, "berth").await?;
    let d = measure(&baseline, &opts, "distribution").await?;
    drop(distribution);
    let _ = stop.send(true);
    let _ = running.served.await;
    let mut rows: Vec<(String, f64, &str)> = vec![];
    for (name, figure, unit, _) in FIGURES {
        rows.push((format!("berth_{name}"), figure(&b), unit));
        rows.push((format!("distribution_{name}"), figure(&d), unit));
    }
    for (name, figure, _, ratio) in FIGURES {
        if ratio {
            rows.push((format!("ratio_{name}"), figure(&b) / figure(&d), "x"));
        }
    }
    let rows: Vec<(&str, f64, &str)> = rows.iter().map(|(n, v, u)| (n.as_str(), *v, *u)).collect();
    crate::bench::summary(&rows);
    Ok(())
}
