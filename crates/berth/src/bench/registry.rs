//! `berth bench registry`: push and pull through the OCI Distribution API, Berth beside
//! Debian's `docker-registry` (the Distribution registry) on the same disk, with the same
//! client (this module's, over HTTP/1.1 on loopback), in one run.
//!
//! Berth checks a Basic-auth token and a policy on every request; the baseline runs without
//! auth (its htpasswd auth hashes bcrypt on every request, which would flatter Berth).

use super::percentiles;
use crate::server;
use sha2::{Digest as _, Sha256};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
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

/// One registry under test, as the client sees it.
#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    base: String,
    auth: Option<String>,
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Target {
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let r = self.http.request(method, url);
        match &self.auth {
            Some(a) => r.header("authorization", a),
            None => r,
        }
    }

    /// Pushes a blob monolithically (POST for a session, PUT with the digest).
    async fn push_blob(&self, repo: &str, bytes: Vec<u8>) -> anyhow::Result<(String, usize)> {
        let digest = sha(&bytes);
        let len = bytes.len();
        let r = self
            .request(reqwest::Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 202, "upload start: {}", r.status());
        let location = r.headers()["location"].to_str()?.to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let r = self
            .request(
                reqwest::Method::PUT,
                &format!("{location}{sep}digest={digest}"),
            )
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "upload end: {}", r.status());
        Ok((digest, len))
    }

    /// Pushes an image of one layer: its manifest's digest.
    async fn push_image(&self, repo: &str, tag: &str, layer: Vec<u8>) -> anyhow::Result<()> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        let (config_digest, config_len) = self.push_blob(repo, config.into_bytes()).await?;
        let (layer_digest, layer_len) = self.push_blob(repo, layer).await?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_len},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_len}],
        });
        let r = self
            .request(reqwest::Method::PUT, &format!("/v2/{repo}/manifests/{tag}"))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.to_string())
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "manifest: {}", r.status());
        Ok(())
    }

    async fn manifest(&self, repo: &str, tag: &str) -> anyhow::Result<serde_json::Value> {
        let r = self
            .request(reqwest::Method::GET, &format!("/v2/{repo}/manifests/{tag}"))
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "manifest get: {}", r.status());
        Ok(serde_json::from_slice(&r.bytes().await?)?)
    }

    /// Pulls an image (manifest, config, layers): bytes received.
    async fn pull_image(&self, repo: &str, tag: &str) -> anyhow::Result<u64> {
        let manifest = self.manifest(repo, tag).await?;
        let mut digests = vec![manifest["config"]["digest"].clone()];
        digests.extend(
            manifest["layers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|l| l["digest"].clone()),
        );
        let mut total = 0;
        for d in digests {
            let d = d.as_str().unwrap_or_default();
            let r = self
                .request(reqwest::Method::GET, &format!("/v2/{repo}/blobs/{d}"))
                .send()
                .await?;
            anyhow::ensure!(r.status() == 200, "blob get: {}", r.status());
            let mut r = r;
            while let Some(chunk) = r.chunk().await? {
                total += chunk.len() as u64;
            }
        }
        Ok(total)
    }
}

/// A directory removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Distribution registry, started from Debian's package on a free port.
struct Distribution {
    child: Child,
}

impl Distribution {
    async fn start(base_dir: &std::path::Path) -> anyhow::Result<(Self, Target)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = base_dir.join("distribution");
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("data").display()
            ),
        )?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot start docker-registry ({e}): apt-get install docker-registry"
                )
            })?;
        let target = Target {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            auth: None,
        };
        let started = Instant::now();
        while target
            .request(reqwest::Method::GET, "/v2/")
            .send()
            .await
            .is_err()
        {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok((Self { child }, target))
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one registry measured.
struct Figures {
    big_push_mb_s: f64,
    big_pull_mb_s: f64,
    small_push_per_s: f64,
    small_pull_per_s: f64,
    manifest_gets_per_s: f64,
    manifest_p50_ms: f64,
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

async fn measure(target: &Target, opts: &RegistryOptions, name: &str) -> anyhow::Result<Figures> {
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
    println!(
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
    println!(
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
    println!("{name}: manifest GETs {gets:.0}/s (p50 {p50:.2} ms)");
    Ok(Figures {
        big_push_mb_s: big_push,
        big_pull_mb_s: big_pull,
        small_push_per_s: small_push,
        small_pull_per_s: small_pull,
        manifest_gets_per_s: gets,
        manifest_p50_ms: p50,
    })
}

/// Runs both registries and prints the figures.
pub async fn run(opts: RegistryOptions) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("berth-bench-registry-{}", std::process::id()));
    let _cleanup = Scratch(data.clone());
    let (stop, shutdown) = watch::channel(false);
    let running = server::start(&super::server_options(data.join("berth")), shutdown).await?;
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
    let ratio = |x: f64, y: f64| x / y;
    super::summary(&[
        ("berth_big_push", b.big_push_mb_s, "MB/s"),
        ("distribution_big_push", d.big_push_mb_s, "MB/s"),
        ("berth_big_pull", b.big_pull_mb_s, "MB/s"),
        ("distribution_big_pull", d.big_pull_mb_s, "MB/s"),
        ("berth_small_push", b.small_push_per_s, "images/s"),
        ("distribution_small_push", d.small_push_per_s, "images/s"),
        ("berth_small_pull", b.small_pull_per_s, "images/s"),
        ("distribution_small_pull", d.small_pull_per_s, "images/s"),
        ("berth_manifest_gets", b.manifest_gets_per_s, "/s"),
        ("distribution_manifest_gets", d.manifest_gets_per_s, "/s"),
        ("berth_manifest_p50", b.manifest_p50_ms, "ms"),
        ("distribution_manifest_p50", d.manifest_p50_ms, "ms"),
        (
            "ratio_big_push",
            ratio(b.big_push_mb_s, d.big_push_mb_s),
            "x",
        ),
        (
            "ratio_big_pull",
            ratio(b.big_pull_mb_s, d.big_pull_mb_s),
            "x",
        ),
        (
            "ratio_small_push",
            ratio(b.small_push_per_s, d.small_push_per_s),
            "x",
        ),
        (
            "ratio_small_pull",
            ratio(b.small_pull_per_s, d.small_pull_per_s),
            "x",
        ),
        (
            "ratio_manifest_gets",
            ratio(b.manifest_gets_per_s, d.manifest_gets_per_s),
            "x",
        ),
    ]);
    Ok(())
}
