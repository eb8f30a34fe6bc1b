//! `berth bench logs`: one container printing numbered lines as fast as it can, its output
//! shipped by the agent (`awslogs`) and read back through GetLogEvents, beside the engine's own
//! `json-file` logging of the same container read back with `docker logs --follow`. Then the
//! same two at a steady pace, for the print-to-readable latency when the pipeline keeps up.
//! Latency is the reader's clock at the moment a line became readable minus the engine's
//! timestamp of the line (when the engine received it from the container).

use super::{image, percentiles, summary};
use anyhow::Context;
use berth_agent::client::EcsClient;
use berth_agent::logs::engine_time;
use berth_types::ecs::{
    ContainerDefinition, LogConfiguration, LogDriver, RegisterTaskDefinitionRequest,
    RegisterTaskDefinitionResponse,
};
use berth_types::logs::{GetLogEventsRequest, GetLogEventsResponse};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The log group the benchmark's task writes to.
const GROUP: &str = "/berth-bench/logs";
/// How long the reader waits between empty pages.
const POLL: Duration = Duration::from_millis(20);
/// The most a run may take before the benchmark gives up on the rest of the lines.
const PATIENCE: Duration = Duration::from_secs(300);

/// The benchmark's options.
#[derive(Debug, clap::Args)]
pub struct LogsOptions {
    /// Lines the flat-out printer prints (as fast as it can). The engine keeps the newest
    /// 50 MB of an awslogs container's output (json-file, 5 × 10 MB) until it is shipped; the
    /// default (about 30 MB of json-file) fits, a burst well beyond it loses its oldest lines.
    #[arg(long, default_value_t = 400_000)]
    pub lines: u64,
    /// Seconds the paced printer prints for, at about 10,000 lines a second.
    #[arg(long, default_value_t = 30)]
    pub paced_seconds: u64,
}

/// What one run measured.
struct Run {
    lines: u64,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn lines_per_s(&self) -> f64 {
        self.lines as f64 / self.seconds
    }
}

/// The shell command of the flat-out printer and of the paced one (100 lines every 10 ms).
fn commands(opts: &LogsOptions) -> [(String, u64); 2] {
    let paced_rounds = opts.paced_seconds * 100;
    [
        (format!("seq 1 {}", opts.lines), opts.lines),
        (
            format!(
                "i=0; while [ $i -lt {paced_rounds} ]; do seq 1 100; usleep 10000; i=$((i+1)); done"
            ),
            paced_rounds * 100,
        ),
    ]
}

/// Runs the benchmark.
pub async fn run(opts: LogsOptions) -> anyhow::Result<()> {
    image::ensure()?;
    let local = super::LocalBerth::start("benchlogs").await?;
    let mut figures = vec![];
    for (phase, (command, lines)) in ["flat_out", "paced"].into_iter().zip(commands(&opts)) {
        say!("{phase}: {lines} lines through Berth's awslogs shipping");
        let berth = through_berth(&local, &command, lines, phase).await?;
        say!("{phase}: {lines} lines through json-file and `docker logs --follow`");
        let docker =
            tokio::task::spawn_blocking(move || through_json_file(&command, lines)).await??;
        for (side, run) in [("berth", &berth), ("json_file", &docker)] {
            let (p50, p99) = percentiles(&run.latencies_ms);
            say!(
                "  {side}: {} lines readable in {:.1} s ({:.0} lines/s), latency p50 {p50:.0} ms p99 {p99:.0} ms",
                run.lines,
                run.seconds,
                run.lines_per_s()
            );
        }
        figures.push((phase, berth, docker));
    }
    local.stop().await;
    let mut out: Vec<(String, f64, &str)> = vec![];
    for (phase, berth, docker) in &figures {
        let (b50, b99) = percentiles(&berth.latencies_ms);
        let (d50, d99) = percentiles(&docker.latencies_ms);
        out.extend([
            (
                format!("{phase}_berth_lines_per_s"),
                berth.lines_per_s(),
                "lines/s",
            ),
            (
                format!("{phase}_json_file_lines_per_s"),
                docker.lines_per_s(),
                "lines/s",
            ),
            (
                format!("{phase}_ratio_to_json_file"),
                berth.lines_per_s() / docker.lines_per_s(),
                "x",
            ),
            (format!("{phase}_berth_latency_p50"), b50, "ms"),
            (format!("{phase}_berth_latency_p99"), b99, "ms"),
            (format!("{phase}_json_file_latency_p50"), d50, "ms"),
            (format!("{phase}_json_file_latency_p99"), d99, "ms"),
        ]);
        if *phase == "flat_out" {
            let mb = berth.lines as f64 * mean_line_bytes(berth.lines) / 1e6;
            out.push(("flat_out_berth_mb_per_s".into(), mb / berth.seconds, "MB/s"));
        }
    }
    let named: Vec<(&str, f64, &str)> = out.iter().map(|(n, v, u)| (n.as_str(), *v, *u)).collect();
    summary(&named);
    Ok(())
}

/// The mean length of the lines `seq 1 n` prints, with their newlines.
fn mean_line_bytes(n: u64) -> f64 {
    let digits: u64 = (1..=n).map(|i| i.to_string().len() as u64 + 1).sum();
    digits as f64 / n.max(1) as f64
}

/// Runs `command` as a task logging with awslogs and reads its stream until `lines` arrived.
async fn through_berth(
    local: &super::LocalBerth,
    command: &str,
    lines: u64,
    phase: &str,
) -> anyhow::Result<Run> {
    let ecs = &local.ecs;
    let family = format!("bench-logs-{phase}");
    let container = ContainerDefinition {
        name: Some("printer".into()),
        image: Some(image::IMAGE.into()),
        command: Some(vec!["sh".into(), "-c".into(), command.into()]),
        memory: Some(64),
        log_configuration: Some(LogConfiguration {
            log_driver: LogDriver::Awslogs,
            options: Some(
                [
                    ("awslogs-group", GROUP),
                    ("awslogs-region", "us-east-1"),
                    ("awslogs-stream-prefix", "bench"),
                    ("awslogs-create-group", "true"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            secret_options: None,
        }),
        ..ContainerDefinition::default()
    };
    let registered: RegisterTaskDefinitionResponse = ecs
        .call(
            "RegisterTaskDefinition",
            &RegisterTaskDefinitionRequest {
                family: family.clone(),
                container_definitions: vec![container],
                ..RegisterTaskDefinitionRequest::default()
            },
        )
        .await?;
    let td = registered
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .ok_or_else(|| anyhow::anyhow!("no task definition ARN"))?;
    let start = Instant::now();
    let arn = super::run_one_task(ecs, &local.cluster, &td, None).await?;
    let task_id = arn.rsplit('/').next().unwrap_or_default();
    let stream = format!("bench/printer/{task_id}");
    read_stream(ecs, &stream, lines, start).await
}

/// Reads `stream` forward until `lines` events arrived, noting each one's latency.
async fn read_stream(
    ecs: &EcsClient,
    stream: &str,
    lines: u64,
    start: Instant,
) -> anyhow::Result<Run> {
    let mut token: Option<String> = None;
    let mut seen = 0u64;
    let mut latencies_ms = Vec::with_capacity(lines as usize);
    while seen < lines {
        anyhow::ensure!(
            start.elapsed() < PATIENCE,
            "only {seen} of {lines} lines readable after {} s",
            PATIENCE.as_secs()
        );
        let request = GetLogEventsRequest {
            log_group_name: Some(GROUP.into()),
            log_stream_name: stream.into(),
            next_token: token.clone(),
            start_from_head: Some(true),
            ..GetLogEventsRequest::default()
        };
        let page: Result<GetLogEventsResponse, _> = ecs
            .call_target(berth_types::logs::TARGET_PREFIX, "GetLogEvents", &request)
            .await;
        // Until the agent created the stream, there is nothing to read.
        let Ok(page) = page else {
            tokio::time::sleep(POLL).await;
            continue;
        };
        let now = now_millis();
        let events = page.events.unwrap_or_default();
        if events.is_empty() {
            tokio::time::sleep(POLL).await;
        }
        for event in &events {
            latencies_ms.push((now - event.timestamp.unwrap_or(now)) as f64);
        }
        seen += events.len() as u64;
        token = page.next_forward_token;
    }
    Ok(Run {
        lines: seen,
        seconds: start.elapsed().as_secs_f64(),
        latencies_ms,
    })
}

/// Runs `command` in a container of the engine's own json-file logging and reads it back with
/// `docker logs --follow --timestamps` until `lines` arrived.
fn through_json_file(command: &str, lines: u64) -> anyhow::Result<Run> {
    let start = Instant::now();
    let created = Command::new("docker")
        .args([
            "run",
            "-d",
            "--label",
            "berth-bench=baseline",
            "--log-driver",
            "json-file",
            image::IMAGE,
            "sh",
            "-c",
            command,
        ])
        .output()?;
    anyhow::ensure!(
        created.status.success(),
        "docker run failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let id = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let mut latencies_ms = Vec::with_capacity(lines as usize);
    let mut seen = 0u64;
    // The engine may end a follow when the container exits before it has sent the tail
    // (as the agent's shipper also finds): then the rest is read again without following,
    // skipping what was seen.
    for follow in [true, false] {
        let mut args = vec!["logs", "--timestamps"];
        if follow {
            args.push("--follow");
        }
        let mut reader = Command::new("docker")
            .args(&args)
            .arg(&id)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = reader.stdout.take().context("docker logs has no output")?;
        let already = seen;
        for line in std::io::BufReader::new(out).lines().skip(already as usize) {
            let line = line?;
            let now = now_millis();
            let stamp = line.split_once(' ').map(|(t, _)| t).unwrap_or_default();
            if let Some(ns) = engine_time::parse_ns(stamp) {
                latencies_ms.push((now - ns / 1_000_000) as f64);
            }
            seen += 1;
            if seen >= lines || start.elapsed() > PATIENCE {
                break;
            }
        }
        let _ = reader.kill();
        let _ = reader.wait();
        if seen >= lines || start.elapsed() > PATIENCE {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    Ok(Run {
        lines: seen,
        seconds,
        latencies_ms,
    })
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
