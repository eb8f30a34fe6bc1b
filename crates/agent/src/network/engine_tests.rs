//! awsvpc on the real engine, through the runner: two tasks of busybox httpd in one VPC, each
//! answering on port 80 at its own address from the host; a second container of a task that
//! reaches the first over localhost and sees the pause's host name; the task role endpoint in
//! the pause's namespace beside an httpd on port 80; the VPC's network gone once the last task
//! is cleaned up. The VPC's block is one no network of the engine overlaps, its ids are this
//! test process's, and only what carries this test's task ARNs (and its network) is removed.

use crate::docker::Docker;
use crate::network::vpc_network;
use crate::runner::run;
use crate::runtime::ContainerRuntime;
use crate::spec::{LABEL_CONTAINER_NAME, LABEL_TASK_ARN};
use crate::test_kit::{awsvpc, busybox_image, container, ctx, interface};
use berth_types::ecs::{ContainerDefinition, PortMapping, TaskOverride};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a task may take to start or stop here (the image import, a network, containers).
const PATIENCE: Duration = Duration::from_secs(60);

/// Removes what the test made, however it ends: its tasks' containers and its network.
struct Cleanup {
    tasks: Vec<String>,
    network: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for arn in &self.tasks {
            for id in docker(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label={LABEL_TASK_ARN}={arn}"),
            ])
            .lines()
            {
                docker(&["rm", "-f", id]);
            }
        }
        docker(&["network", "rm", &self.network]);
    }
}

/// `docker args`'s standard output (empty when it fails).
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A 10.x.0.0/16 block no network of the engine overlaps.
async fn free_block(engine: &Docker) -> String {
    let networks = engine.list_networks().await.expect("networks");
    let start = std::process::id() % 50;
    (0..50)
        .map(|i| format!("10.{}.0.0/16", 200 + (start + i) % 50))
        .find(|block| {
            let subnets = networks.iter().flat_map(|n| &n.subnets);
            !subnets.into_iter().any(|s| vpc_network::overlap(block, s))
        })
        .expect("a free block in 10.200-249.0.0/16")
}

/// What `ip`:80 answers to `GET /`, once something listens there.
fn get(ip: &str) -> String {
    let began = Instant::now();
    loop {
        let address = format!("{ip}:80").parse().expect("address");
        match std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
            Ok(mut stream) => {
                stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
                let mut answer = String::new();
                stream.read_to_string(&mut answer).expect("read");
                return answer;
            }
            Err(e) if began.elapsed() > Duration::from_secs(20) => panic!("{ip}:80: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// An essential busybox httpd on port 80 serving `page`.
fn web(page: &str) -> ContainerDefinition {
    let script = format!("echo {page} > /www/index.html && exec httpd -f -p 80 -h /www");
    ContainerDefinition {
        image: Some(busybox_image().into()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        port_mappings: Some(vec![PortMapping {
            container_port: Some(80),
            ..PortMapping::default()
        }]),
        ..quick(container("web"))
    }
}

/// `def`, killed a second after SIGTERM: as PID 1 of their namespaces, httpd and sleep ignore
/// it.
fn quick(def: ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        stop_timeout: Some(1),
        ..def
    }
}

/// Runs `script` in the container named `name` of task `arn`; its output.
fn exec_in(arn: &str, name: &str, script: &str) -> String {
    let id = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label={LABEL_TASK_ARN}={arn}"),
        "--filter",
        &format!("label={LABEL_CONTAINER_NAME}={name}"),
    ]);
    docker(&["exec", &id, "sh", "-c", script])
}

#[tokio::test(flavor = "multi_thread")]
async fn two_awsvpc_tasks_answer_on_port_80_at_their_own_addresses() {
    let engine = Docker::connect().await.expect("Docker is running");
    let pid = std::process::id();
    let block = free_block(&engine).await;
    let prefix = block.trim_end_matches(".0.0/16");
    let (vpc, vni) = (format!("vpc-test{pid}"), 900_000 + pid % 100_000);
    let arns: Vec<String> = (1..=2)
        .map(|n| format!("arn:aws:ecs:us-east-1:000000000000:task/default/awsvpc-{pid}-{n}"))
        .collect();
    let _cleanup = Cleanup {
        tasks: arns.clone(),
        network: format!("berth-{vpc}"),
    };
    let ips = [format!("{prefix}.1.4"), format!("{prefix}.1.5")];
    let side = ContainerDefinition {
        image: Some(busybox_image().into()),
        command: Some(vec!["sleep".into(), "3600".into()]),
        ..quick(container("side"))
    };
    let mut first = awsvpc(
        &arns[0],
        vec![web("task1"), side],
        Some(interface(&vpc, &block, vni, &ips[0])),
    );
    first.task.overrides = Some(TaskOverride {
        task_role_arn: Some("arn:aws:iam::000000000000:role/app".into()),
        ..TaskOverride::default()
    });
    let second = awsvpc(
        &arns[1],
        vec![web("task2")],
        Some(interface(&vpc, &block, vni, &ips[1])),
    );
    let (ctx, mut reports) = ctx(engine);
    let ctx = Arc::new(ctx);
    let mut desired = vec![];
    let began = Instant::now();
    for assigned in [first, second] {
        let (tx, rx) = watch::channel("RUNNING".to_string());
        let ctx = ctx.clone();
        tokio::spawn(async move { run(&ctx, assigned, rx).await });
        desired.push(tx);
    }
    for _ in 0..2 {
        let running = reports.next_within("RUNNING", PATIENCE).await;
        assert_eq!(running.reason, None);
    }
    eprintln!("two awsvpc tasks RUNNING in {:?}", began.elapsed());

    let (one, two) = (get(&ips[0]), get(&ips[1]));
    assert!(one.contains(" 200 OK") && one.ends_with("task1\n"), "{one}");
    assert!(two.ends_with("task2\n"), "{two}");
    let local = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 80";
    assert!(exec_in(&arns[0], "side", local).ends_with("task1"));
    let name = format!("ip-{}.ec2.internal", ips[0].replace('.', "-"));
    assert_eq!(exec_in(&arns[0], "side", "hostname"), name);
    // The endpoint answers in the namespace where httpd holds *:80: not for a wrong id.
    let credentials =
        "printf 'GET /v2/credentials/wrong HTTP/1.0\\r\\n\\r\\n' | nc 169.254.170.2 80";
    let refused = exec_in(&arns[0], "side", credentials);
    assert!(refused.contains("InvalidIdInRequest"), "{refused}");

    for tx in &desired {
        tx.send_replace("STOPPED".into());
    }
    for _ in 0..2 {
        reports.next_within("STOPPED", PATIENCE).await;
    }
    for arn in &arns {
        let left = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label={LABEL_TASK_ARN}={arn}"),
        ]);
        assert_eq!(left, "", "{arn}'s containers and pause are removed");
    }
    let network = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name=berth-{vpc}"),
    ]);
    assert_eq!(network, "", "the VPC's network goes with its last task");
}
