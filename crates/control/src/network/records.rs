//! The records of VPCs, subnets and security groups, each carrying its tags; the one durable
//! change ([`NetworkChange`]) that alters them and how each is stored and applied, so `change`
//! and `state` only delegate here.

use super::cidr::Cidr;
use super::rules::Rule;
use berth_store::{Op, Store, StoreError, Table, load};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

/// Tags of an EC2 resource: key → value.
pub type Tags = BTreeMap<String, String>;

/// No tags: what records that cannot carry any answer to `tag:` filters.
pub(crate) static NO_TAGS: Tags = Tags::new();

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    /// `vpc-` and 17 hex digits.
    pub id: String,
    /// Its IPv4 block.
    pub cidr: Cidr,
    /// Whether it is the account's default VPC.
    pub is_default: bool,
    /// A number no other VPC of the account has, naming its network on every host (and,
    /// across hosts, its overlay segment).
    pub vni: u32,
    /// The id of its default security group.
    pub default_group: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// A subnet: a block of its VPC's addresses in one availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// `subnet-` and 17 hex digits.
    pub id: String,
    /// The VPC it is in.
    pub vpc_id: String,
    /// Its IPv4 block, inside the VPC's.
    pub cidr: Cidr,
    /// The availability zone its addresses are given in.
    pub availability_zone: String,
    /// Whether it is the default subnet of its zone (in the default VPC).
    pub default_for_az: bool,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// A security group of a VPC and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    /// `sg-` and 17 hex digits.
    pub id: String,
    /// The VPC it belongs to.
    pub vpc_id: String,
    /// Unique in the VPC; `default` for the VPC's default group.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who may connect to its members.
    pub ingress: Vec<Rule>,
    /// Where its members may connect.
    pub egress: Vec<Rule>,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// An awsvpc task's elastic network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eni {
    /// `eni-` and 17 hex digits.
    pub id: String,
    /// The task attachment's id (a UUID), as `attachments[].id` shows it.
    pub attachment_id: String,
    /// The subnet the address is from.
    pub subnet_id: String,
    /// The subnet's VPC.
    pub vpc_id: String,
    /// The task's address.
    pub address: Ipv4Addr,
    /// `02:42:` and the address's four bytes (see `enis::mac_of`).
    pub mac: String,
    /// The security groups, by id.
    pub groups: Vec<String>,
    /// The task it belongs to.
    pub task_arn: String,
    /// `ip-10-0-1-4.ec2.internal`.
    pub private_dns_name: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// A durable change to the network records.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkChange {
    /// Create or replace a VPC.
    Vpc(Vpc),
    /// Forget a VPC, by id.
    RemoveVpc(String),
    /// Create or replace a subnet.
    Subnet(Subnet),
    /// Forget a subnet, by id.
    RemoveSubnet(String),
    /// Create or replace a security group.
    Group(SecurityGroup),
    /// Forget a security group, by id.
    RemoveGroup(String),
    /// Create or replace a task's network interface.
    Eni(Eni),
    /// Forget a network interface (its task is forgotten), by id.
    RemoveEni(String),
    /// The defaults of a new account (the default VPC) were made: they are not made again,
    /// even when the default VPC is later deleted, as in AWS.
    DefaultsMade,
}

/// The key in the `Meta` table that says the defaults were made.
const DEFAULTS_MADE: &str = "network/defaults";

/// VPCs, subnets and security groups, in memory.
#[derive(Debug, Default)]
pub struct NetworkState {
    /// VPCs by id.
    pub vpcs: BTreeMap<String, Vpc>,
    /// Subnets by id.
    pub subnets: BTreeMap<String, Subnet>,
    /// Security groups by id.
    pub groups: BTreeMap<String, SecurityGroup>,
    /// Network interfaces by id.
    pub enis: BTreeMap<String, Eni>,
    /// The interface of each task, by task ARN.
    eni_of_task: HashMap<String, String>,
    /// Whether the default VPC was made once.
    pub defaults_made: bool,
}

impl NetworkChange {
    /// The store operation that makes this change durable.
    pub(crate) fn to_op(&self) -> Op {
        match self {
            NetworkChange::Vpc(v) => Op::put(Table::Vpcs, &v.id, v),
            NetworkChange::RemoveVpc(id) => Op::delete(Table::Vpcs, id),
            NetworkChange::Subnet(s) => Op::put(Table::Subnets, &s.id, s),
            NetworkChange::RemoveSubnet(id) => Op::delete(Table::Subnets, id),
            NetworkChange::Group(g) => Op::put(Table::SecurityGroups, &g.id, g),
            NetworkChange::RemoveGroup(id) => Op::delete(Table::SecurityGroups, id),
            NetworkChange::Eni(e) => Op::put(Table::NetworkInterfaces, &e.id, e),
            NetworkChange::RemoveEni(id) => Op::delete(Table::NetworkInterfaces, id),
            // An i32, as every record of `Meta` is.
            NetworkChange::DefaultsMade => Op::put(Table::Meta, DEFAULTS_MADE, &1),
        }
    }
}

impl NetworkState {
    /// Reads the tables.
    pub(crate) fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut state = NetworkState::default();
        for (_, v) in load::<Vpc>(store, Table::Vpcs)? {
            state.apply(NetworkChange::Vpc(v));
        }
        for (_, s) in load::<Subnet>(store, Table::Subnets)? {
            state.apply(NetworkChange::Subnet(s));
        }
        for (_, g) in load::<SecurityGroup>(store, Table::SecurityGroups)? {
            state.apply(NetworkChange::Group(g));
        }
        for (_, e) in load::<Eni>(store, Table::NetworkInterfaces)? {
            state.apply(NetworkChange::Eni(e));
        }
        state.defaults_made = store.get(Table::Meta, DEFAULTS_MADE)?.is_some();
        Ok(state)
    }

    /// Applies a change that is durable.
    pub(crate) fn apply(&mut self, change: NetworkChange) {
        match change {
            NetworkChange::Vpc(v) => {
                self.vpcs.insert(v.id.clone(), v);
            }
            NetworkChange::RemoveVpc(id) => {
                self.vpcs.remove(&id);
            }
            NetworkChange::Subnet(s) => {
                self.subnets.insert(s.id.clone(), s);
            }
            NetworkChange::RemoveSubnet(id) => {
                self.subnets.remove(&id);
            }
            NetworkChange::Group(g) => {
                self.groups.insert(g.id.clone(), g);
            }
            NetworkChange::RemoveGroup(id) => {
                self.groups.remove(&id);
            }
            NetworkChange::Eni(e) => {
                self.eni_of_task.insert(e.task_arn.clone(), e.id.clone());
                self.enis.insert(e.id.clone(), e);
            }
            NetworkChange::RemoveEni(id) => {
                if let Some(e) = self.enis.remove(&id) {
                    self.eni_of_task.remove(&e.task_arn);
                }
            }
            NetworkChange::DefaultsMade => self.defaults_made = true,
        }
    }

    /// The default VPC, if there is one.
    pub fn default_vpc(&self) -> Option<&Vpc> {
        self.vpcs.values().find(|v| v.is_default)
    }

    /// The subnets of a VPC.
    pub fn subnets_of<'a>(&'a self, vpc_id: &'a str) -> impl Iterator<Item = &'a Subnet> + 'a {
        self.subnets.values().filter(move |s| s.vpc_id == vpc_id)
    }

    /// The security groups of a VPC.
    pub fn groups_of<'a>(
        &'a self,
        vpc_id: &'a str,
    ) -> impl Iterator<Item = &'a SecurityGroup> + 'a {
        self.groups.values().filter(move |g| g.vpc_id == vpc_id)
    }

    /// The network interface of a task, if it has one.
    pub fn eni_of(&self, task_arn: &str) -> Option<&Eni> {
        self.enis.get(self.eni_of_task.get(task_arn)?)
    }

    /// The highest VNI any VPC has, so a new one gets the next.
    pub(crate) fn next_vni(&self) -> u32 {
        self.vpcs.values().map(|v| v.vni).max().unwrap_or(0) + 1
    }
}
