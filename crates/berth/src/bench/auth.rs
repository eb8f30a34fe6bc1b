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

use super::percentiles;
use crate::server::{self, Running, ServerOptions};
use berth_agent::client::EcsClient;
use berth_types::ecs::{
    CreateClusterRequest, CreateClusterResponse, DescribeClustersRequest, DescribeClustersResponse,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    /// Anonymous clients of the flood.
    #[arg(long, default_value_t = 100)]
    pub flood_clients: usize,
    /// Seconds the flood lasts; the signed open loop runs in its middle, so it must be longer
    /// than `--seconds`.
    #[arg(long, default_value_t = 10)]
    pub flood_seconds: u64,
}

/// One server of the comparison, with a client signing as a read-only IAM user.
struct Side {
    running: Running,
    ecs: EcsClient,
    stop: watch::Sender<bool>,
    data: std::path::PathBuf,
}

impl Side {
    /// A server that verifies signatures or not, with a rate limit per key (0: none, and then
    /// no limit on anonymous requests either).
    async fn start(label: &str, verify: bool, rate_limit: u32) -> anyhow::Result<Self> {
        let data =
            std::env::temp_dir().join(format!("berth-bench-auth-{}-{label}", std::process::id()));
        let (stop, shutdown) = watch::channel(false);
        let running = server::start(
            &ServerOptions {
                verify,
                rate_limit,
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
        // The request decoded once, as the server does, and its ask.
        let operation = berth_types::ecs::Operation::DescribeClusters;
        let request = berth_types::ecs::Request::decode(operation, &body, &berth_api::wire::Json)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ask = berth_api::ecs::ask(app.control.partition(), &request);
        app.authorize(
            &principal,
            ask,
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

/// The request every anonymous client sends: RunTask, a call that changes state, so that an
/// anonymous request the per-address limit lets through costs the server an audit event.
fn anonymous_request(addr: SocketAddr, content_length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: {}.RunTask\r\ncontent-type: {}\r\ncontent-length: {content_length}\r\n\r\n",
        berth_types::ecs::TARGET_PREFIX,
        berth_api::wire::CONTENT_TYPE,
    )
}

/// A small RunTask body.
const ANONYMOUS_BODY: &str = r#"{"cluster":"bench-auth","taskDefinition":"web:1","count":10}"#;

/// What one anonymous client saw.
#[derive(Default)]
struct Anonymous {
    /// Requests answered (with any status).
    answered: u64,
    /// Of those, the ones answered ThrottlingException.
    throttled: u64,
    /// Requests that got no answer (refused or dropped connections, timeouts).
    failed: u64,
}

impl Anonymous {
    fn count(&mut self, answer: Option<&[u8]>) {
        match answer {
            Some(a) if a.starts_with(b"HTTP/1.1 ") => {
                self.answered += 1;
                let throttled = a.windows(19).any(|w| w == b"ThrottlingException");
                self.throttled += u64::from(throttled);
            }
            _ => self.failed += 1,
        }
    }

    fn add(&mut self, other: Anonymous) {
        self.answered += other.answered;
        self.throttled += other.throttled;
        self.failed += other.failed;
    }
}

/// How long an anonymous client waits for an answer before it counts the request as failed.
const ANONYMOUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends `request` on `stream` and reads the whole answer into `buf`; None when the
/// connection fails or closes first, or the answer is late.
async fn exchange(
    stream: &mut tokio::net::TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Option<()> {
    buf.clear();
    let exchanged = async {
        stream.write_all(request).await.ok()?;
        let mut chunk = [0u8; 4096];
        while !whole_response(buf) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        Some(())
    };
    tokio::time::timeout(ANONYMOUS_TIMEOUT, exchanged)
        .await
        .ok()?
}

/// Whether `response` holds its headers and the body they announce.
fn whole_response(response: &[u8]) -> bool {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    response.len() >= end + 4 + length
}

/// A TCP connection to `server` from the loopback address `local`.
async fn connect(local: IpAddr, server: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(server).await
}

/// One keep-alive connection sending unsigned RunTasks with small bodies back to back until
/// `until`; it reconnects when the server closes it.
async fn small_bodies(local: IpAddr, server: SocketAddr, until: Instant) -> Anonymous {
    let request = anonymous_request(server, ANONYMOUS_BODY.len()) + ANONYMOUS_BODY;
    let mut seen = Anonymous::default();
    let mut buf = Vec::new();
    let mut connection = None;
    while Instant::now() < until {
        if connection.is_none() {
            connection = connect(local, server).await.ok();
        }
        let answered = match connection.as_mut() {
            Some(stream) => exchange(stream, request.as_bytes(), &mut buf).await,
            None => None,
        };
        seen.count(answered.map(|()| buf.as_slice()));
        if answered.is_none() {
            connection = None;
        }
    }
    seen
}

/// New connections, each declaring a body of a GiB and sending none, until `until`: the server
/// must answer from the headers alone, without waiting for (or buffering) the body.
async fn declared_bodies(local: IpAddr, server: SocketAddr, until: Instant) -> Anonymous {
    let request = anonymous_request(server, 1 << 30);
    let mut seen = Anonymous::default();
    let mut buf = Vec::new();
    while Instant::now() < until {
        let answered = match connect(local, server).await {
            Ok(mut stream) => exchange(&mut stream, request.as_bytes(), &mut buf).await,
            Err(_) => None,
        };
        seen.count(answered.map(|()| buf.as_slice()));
    }
    seen
}

/// `clients` anonymous clients hammering `server` for `lasting`, each from a loopback address
/// of its own (127.1.0.1, 127.1.0.2, ...), so that the limit per address does not simply cut
/// them all at once; every fourth declares a large body and sends none. They run on a thread
/// and a runtime of their own, so the server's workers do not also run the clients.
async fn flood(server: SocketAddr, clients: usize, lasting: Duration) -> anyhow::Result<Anonymous> {
    let flooding = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let until = Instant::now() + lasting;
            let tasks: Vec<_> = (0..clients)
                .map(|i| {
                    let first = u32::from(Ipv4Addr::new(127, 1, 0, 1));
                    let local = IpAddr::V4(Ipv4Addr::from(first + i as u32));
                    if i % 4 == 3 {
                        tokio::spawn(declared_bodies(local, server, until))
                    } else {
                        tokio::spawn(small_bodies(local, server, until))
                    }
                })
                .collect();
            let mut seen = Anonymous::default();
            for task in tasks {
                seen.add(task.await?);
            }
            anyhow::Ok(seen)
        })
    });
    flooding.await?
}

/// This process's resident memory (the server runs in it), in MiB.
fn rss_mib() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kib / 1024.0)
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
struct Flooded {
    quiet_p50_ms: f64,
    quiet_p99_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    anonymous: Anonymous,
    anonymous_per_s: f64,
    rss_before: f64,
    rss_max: f64,
    rss_after: f64,
}

/// Runs the signed open loop on a fresh server, quiet, then in the middle of a flood.
async fn under_flood(opts: &AuthOptions) -> anyhow::Result<Flooded> {
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
        println!(
            "round {round}/{}: at {} calls/s p50 {:.3} ms verified vs {:.3} ms unverified; max {:.0}/s vs {:.0}/s",
            opts.rounds, opts.rate, with.p50_ms, without.p50_ms, with.max_per_s, without.max_per_s
        );
        rounds.push((with, without));
    }
    let cost_us = auth_cost_us(&on)?;
    off.stop().await;
    on.stop().await;
    let flood = under_flood(&opts).await?;
    println!(
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
