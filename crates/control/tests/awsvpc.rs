//! awsvpc tasks through the control plane: the network configuration checked with ECS's
//! messages, an interface per task with the lowest free address of a subnet in the host's zone,
//! the attachment DescribeTasks shows, the address free again once the task is STOPPED, the
//! records kept across a restart, and what may not be deleted while a task holds it.

use berth_control::ControlPlane;
use berth_control::error::ControlError;
use berth_control::network::records::Tags;
use berth_store::{MemStore, Store};
use berth_test_kit::control::{instance_in_zone, report};
use berth_types::arn::Partition;
use berth_types::ecs::*;
use std::sync::Arc;

fn open(store: Arc<dyn Store>) -> ControlPlane {
    let partition = Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let cp =
        ControlPlane::open(partition, store, berth_test_kit::control::plane().1).expect("opens");
    cp.network_defaults().expect("defaults");
    cp
}

fn definition(cp: &ControlPlane, mode: NetworkMode) {
    cp.register_task_definition(RegisterTaskDefinitionRequest {
        family: "web".into(),
        network_mode: Some(mode),
        container_definitions: vec![ContainerDefinition {
            name: Some("web".into()),
            image: Some("busybox".into()),
            memory: Some(64),
            port_mappings: Some(vec![PortMapping {
                container_port: Some(80),
                ..PortMapping::default()
            }]),
            ..ContainerDefinition::default()
        }],
        ..RegisterTaskDefinitionRequest::default()
    })
    .expect("registers");
}

fn awsvpc(subnets: &[&str], groups: &[&str]) -> NetworkConfiguration {
    NetworkConfiguration {
        awsvpc_configuration: Some(AwsVpcConfiguration {
            subnets: subnets.iter().map(|s| s.to_string()).collect(),
            security_groups: (!groups.is_empty())
                .then(|| groups.iter().map(|g| g.to_string()).collect()),
            ..AwsVpcConfiguration::default()
        }),
    }
}

fn run(
    cp: &ControlPlane,
    cluster: &str,
    count: i32,
    network: Option<NetworkConfiguration>,
) -> Result<RunTaskResponse, ControlError> {
    cp.run_task(RunTaskRequest {
        cluster: Some(cluster.into()),
        task_definition: "web".into(),
        count: Some(count),
        network_configuration: network,
        ..RunTaskRequest::default()
    })
}

fn detail<'t>(task: &'t Task, name: &str) -> &'t str {
    task.attachments.as_deref().unwrap_or_default()[0]
        .details
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|d| d.name.as_deref() == Some(name))
        .and_then(|d| d.value.as_deref())
        .unwrap_or_default()
}

fn message<T: std::fmt::Debug>(r: Result<T, ControlError>) -> String {
    r.expect_err("refused").to_string()
}

fn default_subnet(cp: &ControlPlane) -> String {
    cp.describe_subnets(&[], &[]).unwrap()[0].id.clone()
}

#[test]
fn each_task_gets_its_own_address_and_gives_it_back_when_stopped() {
    let store: Arc<dyn Store> = Arc::new(MemStore::default());
    let cp = open(store.clone());
    let host = instance_in_zone(&cp, "default", "local-a");
    definition(&cp, NetworkMode::Awsvpc);
    let subnet = default_subnet(&cp);
    let tasks = run(&cp, "default", 2, Some(awsvpc(&[&subnet], &[])))
        .unwrap()
        .tasks
        .unwrap();
    let addresses: Vec<&str> = tasks
        .iter()
        .map(|t| detail(t, "privateIPv4Address"))
        .collect();
    assert_eq!(
        addresses,
        ["172.31.0.4", "172.31.0.5"],
        "the lowest free, past the reserved four"
    );
    let task = &tasks[0];
    let attachment = &task.attachments.as_deref().unwrap()[0];
    assert_eq!(
        attachment.r#type.as_deref(),
        Some("ElasticNetworkInterface")
    );
    assert_eq!(attachment.status.as_deref(), Some("ATTACHED"));
    assert_eq!(detail(task, "subnetId"), subnet);
    assert!(detail(task, "networkInterfaceId").starts_with("eni-"));
    assert_eq!(detail(task, "macAddress"), "02:42:ac:1f:00:04");
    assert_eq!(detail(task, "privateDnsName"), "ip-172-31-0-4.ec2.internal");
    let interfaces = task.containers.as_deref().unwrap()[0]
        .network_interfaces
        .as_deref()
        .unwrap();
    assert_eq!(interfaces[0].attachment_id, attachment.id);
    assert_eq!(
        interfaces[0].private_ipv4_address.as_deref(),
        Some("172.31.0.4")
    );
    let enis = cp.describe_network_interfaces(&[], &[]).unwrap();
    assert_eq!(enis.len(), 2);
    let default_group = cp.describe_vpcs(&[], &[]).unwrap()[0].default_group.clone();
    assert_eq!(
        enis[0].groups,
        [default_group],
        "no groups given: the VPC's default one"
    );

    // Held across a restart.
    drop(cp);
    let cp = open(store);
    cp.set_agent_connected(&host, true);
    assert_eq!(cp.describe_network_interfaces(&[], &[]).unwrap().len(), 2);
    let first = task.task_arn.clone().unwrap();
    report(&cp, &first, "STOPPED", Some("done"));
    let stopped = cp
        .describe_tasks(DescribeTasksRequest {
            tasks: vec![first.clone()],
            ..DescribeTasksRequest::default()
        })
        .unwrap()
        .tasks
        .unwrap()
        .remove(0);
    assert_eq!(
        stopped.attachments.as_deref().unwrap()[0].status.as_deref(),
        Some("DELETED")
    );
    assert_eq!(cp.describe_network_interfaces(&[], &[]).unwrap().len(), 1);
    let again = run(&cp, "default", 1, Some(awsvpc(&[&subnet], &[])))
        .unwrap()
        .tasks
        .unwrap();
    assert_eq!(
        detail(&again[0], "privateIPv4Address"),
        "172.31.0.4",
        "the address came back"
    );
}

#[test]
fn the_network_configuration_is_checked_as_ecs_checks_it() {
    let cp = open(Arc::new(MemStore::default()));
    instance_in_zone(&cp, "default", "local-a");
    definition(&cp, NetworkMode::Awsvpc);
    let subnet = default_subnet(&cp);
    assert!(message(run(&cp, "default", 1, None)).contains(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    ));
    assert!(
        message(run(&cp, "default", 1, Some(awsvpc(&[], &[]))))
            .contains("subnets can not be empty.")
    );
    let missing = message(run(
        &cp,
        "default",
        1,
        Some(awsvpc(&["subnet-0123456789abcdef0"], &[])),
    ));
    assert!(
        missing.contains("The subnet ID 'subnet-0123456789abcdef0' does not exist"),
        "{missing}"
    );
    let other = cp.create_vpc("10.5.0.0/16", Tags::new()).unwrap();
    let other_group = other.default_group.clone();
    let mixed = message(run(
        &cp,
        "default",
        1,
        Some(awsvpc(&[&subnet], &[&other_group])),
    ));
    assert!(mixed.contains("same VPC"), "{mixed}");
    definition(&cp, NetworkMode::Bridge);
    assert!(
        message(run(&cp, "default", 1, Some(awsvpc(&[&subnet], &[]))))
            .contains("Network Configuration is not valid for the given networkMode")
    );
}

#[test]
fn tasks_go_only_to_hosts_in_their_subnets_zones_and_hold_what_they_use() {
    let cp = open(Arc::new(MemStore::default()));
    instance_in_zone(&cp, "default", "zone-a");
    cp.create_cluster(
        CreateClusterRequest {
            cluster_name: Some("other".into()),
            ..CreateClusterRequest::default()
        },
        "arn:aws:iam::000000000000:root",
    )
    .unwrap();
    instance_in_zone(&cp, "other", "zone-b");
    definition(&cp, NetworkMode::Awsvpc);
    let subnets = cp.describe_subnets(&[], &[]).unwrap();
    let in_b = subnets
        .iter()
        .find(|s| s.availability_zone == "zone-b")
        .unwrap()
        .id
        .clone();
    let refused = run(&cp, "default", 1, Some(awsvpc(&[&in_b], &[]))).unwrap();
    assert!(
        refused.tasks.unwrap().is_empty(),
        "no host of cluster default is in zone-b"
    );
    assert!(!refused.failures.unwrap().is_empty());
    let placed = run(&cp, "other", 1, Some(awsvpc(&[&in_b], &[])))
        .unwrap()
        .tasks
        .unwrap();
    assert_eq!(placed[0].availability_zone.as_deref(), Some("zone-b"));
    let vpc = cp.describe_vpcs(&[], &[]).unwrap()[0].clone();
    assert!(message(cp.delete_subnet(&in_b)).contains("has dependencies"));
    let group = berth_control::network::security_groups::GroupRef {
        id: Some(vpc.default_group.clone()),
        name: None,
    };
    assert!(cp.delete_security_group(&group).is_err());
    cp.submit_task_state_change(SubmitTaskStateChangeRequest {
        cluster: Some("other".into()),
        task: placed[0].task_arn.clone(),
        status: Some("STOPPED".into()),
        ..SubmitTaskStateChangeRequest::default()
    })
    .unwrap();
    cp.delete_subnet(&in_b).expect("free once the task stopped");
}

#[test]
fn a_subnet_with_no_free_address_fails_the_task_and_says_why() {
    let cp = open(Arc::new(MemStore::default()));
    instance_in_zone(&cp, "default", "local-a");
    definition(&cp, NetworkMode::Awsvpc);
    let vpc = cp.create_vpc("10.7.0.0/16", Tags::new()).unwrap();
    // A /28 has 16 addresses, 11 for tasks.
    let small = cp
        .create_subnet(&vpc.id, "10.7.0.0/28", None, Tags::new())
        .unwrap();
    let answer = run(&cp, "default", 10, Some(awsvpc(&[&small.id], &[]))).unwrap();
    assert_eq!(answer.tasks.unwrap().len(), 10);
    let answer = run(&cp, "default", 2, Some(awsvpc(&[&small.id], &[]))).unwrap();
    assert_eq!(answer.tasks.unwrap().len(), 1);
    let failure = &answer.failures.unwrap()[0];
    assert_eq!(failure.reason.as_deref(), Some("RESOURCE:ENI"));
    assert!(failure.detail.as_deref().unwrap().contains("free address"));
}
