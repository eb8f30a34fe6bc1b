//! The network interfaces of awsvpc tasks: a task's `networkConfiguration` checked against
//! the subnets and security groups it names, and, when the task is placed, an interface in
//! one of those subnets in the host's zone with the lowest free address (EC2 keeps the first
//! four and the last of every subnet), a MAC and a host name. The address is the task's while
//! it is not STOPPED: the interface record stays until the task is forgotten, but a stopped
//! task's address is free again at once.

use super::error::NetworkError;
use super::filters::{self, Filter, Filterable};
use super::records::{Eni, NetworkChange, NetworkState, Subnet, Tags};
use super::{new_id, well_formed};
use crate::error::ControlError;
use crate::status::TaskStatus;
use crate::{Change, ControlPlane, State};
use berth_types::ecs::{
    AssignPublicIp, Attachment, Failure, KeyValuePair, LaunchType, NetworkConfiguration,
    NetworkInterface, NetworkMode, PlacementConstraint, PlacementConstraintType, Task,
    TaskDefinition,
};
use berth_types::protocol::TaskNetwork;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// The most subnets and security groups one awsvpc configuration may name, as in ECS.
const MAX_SUBNETS: usize = 16;
const MAX_GROUPS: usize = 5;

/// A task's `awsvpcConfiguration`, checked: where its interface may come from.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkPlan {
    /// The VPC of every subnet and group.
    pub vpc_id: String,
    /// The subnets, in the order given.
    pub subnets: Vec<String>,
    /// The security groups (the VPC's default one when none was given).
    pub groups: Vec<String>,
}

impl NetworkPlan {
    /// Checks a task's network configuration against its definition's network mode and the
    /// subnets and groups it names, with the messages ECS answers.
    pub(crate) fn check(
        network: &NetworkState,
        td: &TaskDefinition,
        config: Option<&NetworkConfiguration>,
        launch_type: Option<LaunchType>,
    ) -> Result<Option<NetworkPlan>, ControlError> {
        let awsvpc = td.network_mode == Some(NetworkMode::Awsvpc);
        let config = config.and_then(|c| c.awsvpc_configuration.as_ref());
        let config = match (awsvpc, config) {
            (false, None) => return Ok(None),
            (false, Some(_)) => {
                return Err(ControlError::invalid(
                    "Network Configuration is not valid for the given networkMode of this task definition.",
                ));
            }
            (true, None) => {
                return Err(ControlError::invalid(
                    "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
                ));
            }
            (true, Some(c)) => c,
        };
        if config.subnets.is_empty() {
            return Err(ControlError::invalid("subnets can not be empty."));
        }
        if config.subnets.len() > MAX_SUBNETS {
            return Err(ControlError::invalid(format!(
                "subnets can have at most {MAX_SUBNETS} items."
            )));
        }
        let groups = config.security_groups.clone().unwrap_or_default();
        if groups.len() > MAX_GROUPS {
            return Err(ControlError::invalid(format!(
                "securityGroups can have at most {MAX_GROUPS} items."
            )));
        }
        if config.assign_public_ip == Some(AssignPublicIp::Enabled)
            && launch_type != Some(LaunchType::Fargate)
        {
            return Err(ControlError::invalid(
                "Assign public IP is not supported for this launch type.",
            ));
        }
        let lookup = |what: &str, id: &str, e: NetworkError| {
            ControlError::invalid(format!(
                "Error retrieving {what} information for [{id}]: {e}"
            ))
        };
        let mut vpcs = BTreeSet::new();
        for id in &config.subnets {
            well_formed(id, "subnet").map_err(|e| lookup("subnet", id, e))?;
            let subnet = network
                .subnets
                .get(id)
                .ok_or_else(|| lookup("subnet", id, NetworkError::SubnetNotFound(id.clone())))?;
            vpcs.insert(subnet.vpc_id.clone());
        }
        for id in &groups {
            well_formed(id, "sg").map_err(|e| lookup("security group", id, e))?;
            let group = network.groups.get(id).ok_or_else(|| {
                lookup(
                    "security group",
                    id,
                    NetworkError::GroupNotFound(id.clone()),
                )
            })?;
            vpcs.insert(group.vpc_id.clone());
        }
        let mut vpcs = vpcs.into_iter();
        let vpc_id = vpcs.next().unwrap_or_default();
        if let Some(other) = vpcs.next() {
            return Err(ControlError::invalid(format!(
                "Security groups and subnets must belong to the same VPC: the configuration names {vpc_id} and {other}"
            )));
        }
        let groups = if groups.is_empty() {
            let vpc = network
                .vpcs
                .get(&vpc_id)
                .ok_or_else(|| NetworkError::VpcNotFound(vpc_id.clone()))?;
            vec![vpc.default_group.clone()]
        } else {
            groups
        };
        Ok(Some(NetworkPlan {
            vpc_id,
            subnets: config.subnets.clone(),
            groups,
        }))
    }

    /// The placement constraint that keeps the task on hosts in its subnets' zones.
    pub(crate) fn zones_expression(&self, network: &NetworkState) -> String {
        let zones: BTreeSet<&str> = self
            .subnets
            .iter()
            .filter_map(|id| network.subnets.get(id))
            .map(|s| s.availability_zone.as_str())
            .collect();
        let zones: Vec<&str> = zones.into_iter().collect();
        format!("attribute:ecs.availability-zone in [{}]", zones.join(", "))
    }
}

/// The addresses of `subnet` held by tasks that are not STOPPED.
fn taken(state: &State, subnet: &str) -> BTreeSet<Ipv4Addr> {
    live(state)
        .filter(|e| e.subnet_id == subnet)
        .map(|e| e.address)
        .collect()
}

/// The lowest free address of `subnet`, past the four EC2 keeps and before the broadcast.
fn free_address(subnet: &Subnet, taken: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let last = subnet.cidr.size().checked_sub(1)?;
    (4..last)
        .filter_map(|n| subnet.cidr.address(n))
        .find(|a| !taken.contains(a))
}

/// The MAC of an address: `02:42:` and its four bytes, the one Docker gives a container on a
/// bridge network and keeps when asked for it (Docker 20.10 ignores a MAC it is given, newer
/// engines honour it), so what DescribeTasks shows is what the task has.
fn mac_of(address: Ipv4Addr) -> String {
    let [a, b, c, d] = address.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

/// Gives a placed awsvpc task its interface: in the first of its subnets in the task's zone
/// with a free address, none of those held by `batch` (the interfaces of the same call).
/// Fills the task's attachment and its containers' `networkInterfaces`, and answers the
/// interface to store, or why there is none.
pub(crate) fn attach(
    state: &State,
    plan: &NetworkPlan,
    task: &mut Task,
    batch: &[Eni],
) -> Result<Eni, String> {
    let zone = task.availability_zone.clone().unwrap_or_default();
    let subnets = plan
        .subnets
        .iter()
        .filter_map(|id| state.network.subnets.get(id))
        .filter(|s| s.availability_zone == zone);
    for subnet in subnets {
        let mut taken = taken(state, &subnet.id);
        taken.extend(
            batch
                .iter()
                .filter(|e| e.subnet_id == subnet.id)
                .map(|e| e.address),
        );
        let Some(address) = free_address(subnet, &taken) else {
            continue;
        };
        let eni = Eni {
            id: new_id("eni"),
            attachment_id: uuid::Uuid::new_v4().to_string(),
            subnet_id: subnet.id.clone(),
            vpc_id: plan.vpc_id.clone(),
            address,
            mac: mac_of(address),
            groups: plan.groups.clone(),
            task_arn: task.task_arn.clone().unwrap_or_default(),
            private_dns_name: format!("ip-{}.ec2.internal", address.to_string().replace('.', "-")),
            tags: Tags::new(),
        };
        show(task, &eni);
        return Ok(eni);
    }
    Err(format!(
        "no subnet of the task's ({}) in zone {zone} has a free address",
        plan.subnets.join(", ")
    ))
}

/// The task's attachment and its containers' interfaces, as DescribeTasks shows an awsvpc
/// task's.
fn show(task: &mut Task, eni: &Eni) {
    let detail = |name: &str, value: &str| KeyValuePair {
        name: Some(name.into()),
        value: Some(value.into()),
    };
    let address = eni.address.to_string();
    task.attachments = Some(vec![Attachment {
        id: Some(eni.attachment_id.clone()),
        r#type: Some("ElasticNetworkInterface".into()),
        status: Some("ATTACHED".into()),
        details: Some(vec![
            detail("subnetId", &eni.subnet_id),
            detail("networkInterfaceId", &eni.id),
            detail("macAddress", &eni.mac),
            detail("privateDnsName", &eni.private_dns_name),
            detail("privateIPv4Address", &address),
        ]),
    }]);
    for c in task.containers.iter_mut().flatten() {
        c.network_interfaces = Some(vec![NetworkInterface {
            attachment_id: Some(eni.attachment_id.clone()),
            private_ipv4_address: Some(address.clone()),
            ..NetworkInterface::default()
        }]);
    }
}

/// A stopped task's interface attachment is DELETED, as ECS shows it once DEPROVISIONING is
/// over; its address is free from then on.
pub(crate) fn detach(task: &mut Task) {
    for a in task.attachments.iter_mut().flatten() {
        if a.r#type.as_deref() == Some("ElasticNetworkInterface") {
            a.status = Some("DELETED".into());
        }
    }
}

/// The interface records of tasks being forgotten.
pub(crate) fn forgotten<'a>(
    state: &State,
    task_arns: impl IntoIterator<Item = &'a String>,
) -> Vec<Change> {
    task_arns
        .into_iter()
        .filter_map(|arn| state.network.eni_of(arn))
        .map(|e| Change::Network(NetworkChange::RemoveEni(e.id.clone())))
        .collect()
}

/// Gives each task just placed for an awsvpc launch its interface (`plan` is none for other
/// network modes): answers the tasks that got one, the interfaces to store, and a failure for
/// each task that could not get one (it is not started).
pub(crate) fn give_interfaces(
    state: &State,
    plan: Option<&NetworkPlan>,
    tasks: Vec<Task>,
) -> (Vec<Task>, Vec<Change>, Vec<Failure>) {
    let Some(plan) = plan else {
        return (tasks, vec![], vec![]);
    };
    let (mut started, mut enis, mut failures) = (vec![], vec![], vec![]);
    for mut task in tasks {
        match attach(state, plan, &mut task, &enis) {
            Ok(eni) => {
                enis.push(eni);
                started.push(task);
            }
            Err(detail) => failures.push(Failure {
                arn: task.container_instance_arn.clone(),
                reason: Some("RESOURCE:ENI".into()),
                detail: Some(detail),
            }),
        }
    }
    let changes = enis
        .into_iter()
        .map(|e| Change::Network(NetworkChange::Eni(e)))
        .collect();
    (started, changes, failures)
}

/// The placement constraints given, and for an awsvpc task one that keeps it in its subnets'
/// zones.
pub(crate) fn with_zones(
    given: Option<&[PlacementConstraint]>,
    network: Option<&NetworkPlan>,
    state: &State,
) -> Vec<PlacementConstraint> {
    let mut constraints = given.unwrap_or_default().to_vec();
    constraints.extend(network.map(|plan| PlacementConstraint {
        r#type: Some(PlacementConstraintType::MemberOf),
        expression: Some(plan.zones_expression(&state.network)),
    }));
    constraints
}

/// The interfaces of tasks that are not STOPPED: those that hold their address.
pub(crate) fn live(state: &State) -> impl Iterator<Item = &Eni> {
    state.network.enis.values().filter(|e| {
        state
            .tasks
            .get(&e.task_arn)
            .is_some_and(|t| !TaskStatus::Stopped.is(&t.last_status))
    })
}

impl Filterable for Eni {
    const FILTERS: &'static [&'static str] = &[
        "network-interface-id",
        "subnet-id",
        "vpc-id",
        "group-id",
        "private-ip-address",
        "addresses.private-ip-address",
        "mac-address",
        "private-dns-name",
        "status",
        "interface-type",
        "requester-managed",
        "attachment.attachment-id",
    ];

    fn values(&self, name: &str) -> Vec<String> {
        let value = match name {
            "network-interface-id" => self.id.clone(),
            "subnet-id" => self.subnet_id.clone(),
            "vpc-id" => self.vpc_id.clone(),
            "group-id" => return self.groups.clone(),
            "private-ip-address" | "addresses.private-ip-address" => self.address.to_string(),
            "mac-address" => self.mac.clone(),
            "private-dns-name" => self.private_dns_name.clone(),
            "status" => "in-use".into(),
            "interface-type" => "interface".into(),
            "requester-managed" => "true".into(),
            "attachment.attachment-id" => self.attachment_id.clone(),
            _ => return vec![],
        };
        vec![value]
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }
}

impl ControlPlane {
    /// DescribeNetworkInterfaces: the interfaces of the tasks that are not STOPPED, those
    /// named (each must be one of them), that pass the filters.
    pub fn describe_network_interfaces(
        &self,
        ids: &[String],
        filters: &[Filter],
    ) -> Result<Vec<Eni>, ControlError> {
        filters::check::<Eni>(filters)?;
        let state = self.read();
        let live: Vec<&Eni> = live(&state).collect();
        for id in ids {
            well_formed(id, "eni")?;
            if !live.iter().any(|e| &e.id == id) {
                return Err(NetworkError::NetworkInterfaceNotFound(id.clone()).into());
            }
        }
        Ok(live
            .into_iter()
            .filter(|e| ids.is_empty() || ids.contains(&e.id))
            .filter(|e| filters::matches(*e, filters))
            .cloned()
            .collect())
    }
}

/// What the agent needs to give an awsvpc task its interface: the address, the MAC and the
/// name, on its VPC's network.
pub(crate) fn task_network(state: &State, task_arn: &str) -> Option<TaskNetwork> {
    let eni = state.network.eni_of(task_arn)?;
    let vpc = state.network.vpcs.get(&eni.vpc_id)?;
    Some(TaskNetwork {
        interface_id: eni.id.clone(),
        vpc_id: vpc.id.clone(),
        vpc_cidr: vpc.cidr.to_string(),
        vni: vpc.vni,
        subnet_id: eni.subnet_id.clone(),
        ipv4_address: eni.address.to_string(),
        mac_address: eni.mac.clone(),
        private_dns_name: eni.private_dns_name.clone(),
        security_groups: eni.groups.clone(),
    })
}
