//! awsvpc tasks under `berth up` with real containers, driven by the official ECS SDK and the
//! AWS CLI for EC2: two tasks both serving port 80 on one host, each at its own address from
//! its subnet; a task's containers reach each other on localhost; DescribeTasks shows the
//! interface as ECS does; a stopped task's address comes back to the pool.

use aws_sdk_ecs::types::{AwsVpcConfiguration, NetworkConfiguration, NetworkMode, Task};
use berth_test_kit::cli::aws;
use berth_test_kit::docker::{docker_exec, task_containers};
use berth_test_kit::ecs::{
    self as kit, eventually, register_definition, stop_and_wait, wait_status,
};
use berth_test_kit::up::Berth;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// A VPC block no other test of this binary uses, and no Docker network of this engine holds.
const VPC_CIDR: &str = "10.231.0.0/16";

/// `berth up`, stopped first when dropped, then the Docker network of the test's VPC removed
/// (the agent removes it with the VPC's last task; this is for a test that fails half-way).
struct Up {
    berth: Option<Berth>,
    vpc: String,
}

impl Drop for Up {
    fn drop(&mut self) {
        drop(self.berth.take());
        let _ = Command::new("docker")
            .args(["network", "rm", &format!("berth-{}", self.vpc)])
            .output();
    }
}

fn detail(task: &Task, name: &str) -> String {
    task.attachments()[0]
        .details()
        .iter()
        .find(|d| d.name() == Some(name))
        .and_then(|d| d.value())
        .unwrap_or_default()
        .to_string()
}

/// What `GET /` on `address:80` answers, from the host.
fn get(address: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect_timeout(
        &format!("{address}:80")
            .parse()
            .map_err(|e| format!("{e}"))?,
        Duration::from_secs(2),
    )
    .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn awsvpc_tasks_serve_port_80_at_their_own_addresses() {
    let (berth, ecs) = Berth::ready("vpc").await;
    let e = berth.exports.clone();
    let cluster = berth.cluster.clone();
    let vpc = aws(&e, None, &["ec2", "create-vpc", "--cidr-block", VPC_CIDR]).expect("create-vpc")
        ["Vpc"]["VpcId"]
        .as_str()
        .expect("a VPC id")
        .to_string();
    let _up = Up {
        berth: Some(berth),
        vpc: vpc.clone(),
    };
    let subnet = aws(
        &e,
        None,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.231.1.0/24",
        ],
    )
    .expect("create-subnet")["Subnet"]["SubnetId"]
        .as_str()
        .expect("a subnet id")
        .to_string();
    // Each task serves its own host name (the interface's private DNS name) on port 80; its
    // second container reads it over localhost.
    let web = kit::container(
        "web",
        &[
            "sh",
            "-c",
            "hostname > /www/index.html && exec httpd -f -p 80 -h /www",
        ],
    )
    .memory(32)
    .port_mappings(
        aws_sdk_ecs::types::PortMapping::builder()
            .container_port(80)
            .build(),
    )
    .build();
    let side = kit::container("side", &["sleep", "600"])
        .memory(16)
        .essential(false)
        .build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("vpc")
            .network_mode(NetworkMode::Awsvpc)
            .container_definitions(web)
            .container_definitions(side),
    )
    .await;
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets(&subnet)
                .build()
                .expect("a configuration"),
        )
        .build();
    let run = ecs
        .run_task()
        .cluster(&cluster)
        .task_definition(&td)
        .count(2)
        .network_configuration(network.clone())
        .send()
        .await
        .expect("RunTask");
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    let mut addresses = vec![];
    for task in run.tasks() {
        let arn = task.task_arn().expect("an ARN");
        let task = wait_status(&ecs, &cluster, arn, "RUNNING").await;
        let attachment = &task.attachments()[0];
        assert_eq!(attachment.r#type(), Some("ElasticNetworkInterface"));
        assert_eq!(attachment.status(), Some("ATTACHED"));
        let address = detail(&task, "privateIPv4Address");
        let name = detail(&task, "privateDnsName");
        assert_eq!(
            name,
            format!("ip-{}.ec2.internal", address.replace('.', "-"))
        );
        assert_eq!(
            task.containers()[0].network_interfaces()[0].private_ipv4_address(),
            Some(address.as_str())
        );
        assert!(
            task.containers()[0].network_bindings().is_empty(),
            "no host port"
        );
        let page = eventually("the task's own page", Duration::from_secs(20), || {
            let address = address.clone();
            async move { get(&address).ok() }
        })
        .await;
        assert!(page.contains(&name), "{address} answers as {name}: {page}");
        let side = task_containers(arn)
            .into_iter()
            .find(|id| berth_test_kit::docker::docker_inspect(id, "{{.Name}}").contains("side"))
            .expect("the side container");
        let local = docker_exec(
            &side,
            "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 80",
        )
        .expect("localhost between the task's containers");
        assert!(local.contains(&name), "{local}");
        addresses.push(address);
    }
    addresses.sort();
    assert_eq!(addresses, ["10.231.1.4", "10.231.1.5"]);

    let first = run.tasks()[0].task_arn().expect("an ARN");
    let stopped = stop_and_wait(&ecs, &cluster, first).await;
    assert_eq!(stopped.attachments()[0].status(), Some("DELETED"));
    let interfaces = aws(&e, None, &["ec2", "describe-network-interfaces"])
        .expect("describe-network-interfaces")["NetworkInterfaces"]
        .as_array()
        .map(Vec::len);
    assert_eq!(interfaces, Some(1), "the stopped task's interface is gone");
    let again = ecs
        .run_task()
        .cluster(&cluster)
        .task_definition(&td)
        .network_configuration(network)
        .send()
        .await
        .expect("RunTask");
    let freed = detail(&stopped, "privateIPv4Address");
    assert_eq!(
        detail(&again.tasks()[0], "privateIPv4Address"),
        freed,
        "the address came back"
    );
    for task in run.tasks().iter().skip(1).chain(again.tasks()) {
        stop_and_wait(&ecs, &cluster, task.task_arn().expect("an ARN")).await;
    }
}
