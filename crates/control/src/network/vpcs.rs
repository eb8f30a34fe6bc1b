//! CreateVpc, DeleteVpc, DescribeVpcs, and the defaults of a new account: a default VPC
//! (172.31.0.0/16) whose default security group lets its members reach each other, and a
//! default subnet in each availability zone a host registers in.

use super::cidr::Cidr;
use super::error::NetworkError;
use super::filters::{self, Filter, Filterable};
use super::records::{NetworkChange, NetworkState, SecurityGroup, Subnet, Tags, Vpc};
use super::rules::{Peer, Rule};
use super::{new_id, well_formed, zones};
use crate::error::ControlError;
use crate::{Change, ControlPlane};

/// The default VPC's block, as in every AWS account.
pub const DEFAULT_VPC_CIDR: &str = "172.31.0.0/16";
/// The prefix of default subnets: /20s of the default VPC, one per zone.
const DEFAULT_SUBNET_PREFIX: u8 = 20;
/// The most VPCs an account may have in Berth (each is a Docker network on every host that
/// runs one of its tasks).
const MAX_VPCS: usize = 100;
/// The narrowest and widest blocks a VPC or subnet may have, as in EC2.
pub(crate) const PREFIXES: std::ops::RangeInclusive<u8> = 16..=28;

impl Filterable for Vpc {
    const FILTERS: &'static [&'static str] = &[
        "vpc-id",
        "cidr",
        "cidr-block-association.cidr-block",
        "is-default",
        "state",
        "dhcp-options-id",
    ];

    fn values(&self, name: &str) -> Vec<String> {
        let value = match name {
            "vpc-id" => self.id.clone(),
            "cidr" | "cidr-block-association.cidr-block" => self.cidr.to_string(),
            "is-default" => self.is_default.to_string(),
            "state" => "available".into(),
            "dhcp-options-id" => "default".into(),
            _ => return vec![],
        };
        vec![value]
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }
}

/// A VPC and its default security group (members may reach each other; they may reach
/// anywhere).
fn new_vpc(state: &NetworkState, cidr: Cidr, is_default: bool, tags: Tags) -> (Vpc, SecurityGroup) {
    let vpc = Vpc {
        id: new_id("vpc"),
        cidr,
        is_default,
        vni: state.next_vni(),
        default_group: new_id("sg"),
        tags,
    };
    let group = SecurityGroup {
        id: vpc.default_group.clone(),
        vpc_id: vpc.id.clone(),
        name: "default".into(),
        description: "default VPC security group".into(),
        ingress: vec![every_protocol(Peer::Group(vpc.default_group.clone()))],
        egress: vec![every_protocol(Peer::Cidr(anywhere()))],
        tags: Tags::new(),
    };
    (vpc, group)
}

/// The rule that lets every protocol through to or from `peer`.
pub(crate) fn every_protocol(peer: Peer) -> Rule {
    Rule {
        id: new_id("sgr"),
        protocol: "-1".into(),
        from_port: None,
        to_port: None,
        peer,
        description: None,
    }
}

/// 0.0.0.0/0.
pub(crate) fn anywhere() -> Cidr {
    Cidr::parse("0.0.0.0/0", false).unwrap_or_else(|| unreachable!("a valid block"))
}

/// The default subnets zones without one get: for each zone in `zones` that the default VPC
/// has no default subnet in, the next free /20 of the default VPC.
pub(crate) fn default_subnets(state: &NetworkState, zones: &[String]) -> Vec<Change> {
    let Some(vpc) = state.default_vpc() else {
        return vec![];
    };
    let mut taken: Vec<Cidr> = state.subnets_of(&vpc.id).map(|s| s.cidr).collect();
    let mut changes = vec![];
    for zone in zones {
        let has = state
            .subnets_of(&vpc.id)
            .any(|s| s.default_for_az && &s.availability_zone == zone);
        if has {
            continue;
        }
        let free = (0..)
            .map_while(|n| vpc.cidr.nth_block(DEFAULT_SUBNET_PREFIX, n))
            .find(|block| !taken.iter().any(|t| t.overlaps(*block)));
        let Some(cidr) = free else {
            tracing::warn!(
                zone,
                vpc = vpc.id,
                "no free /20 left in the default VPC for the zone's default subnet"
            );
            continue;
        };
        taken.push(cidr);
        changes.push(Change::Network(NetworkChange::Subnet(Subnet {
            id: new_id("subnet"),
            vpc_id: vpc.id.clone(),
            cidr,
            availability_zone: zone.clone(),
            default_for_az: true,
            tags: Tags::new(),
        })));
    }
    changes
}

/// Checks a VPC block: a /16 to /28 that overlaps no other VPC's.
fn check_vpc_block(state: &NetworkState, text: &str) -> Result<Cidr, NetworkError> {
    let invalid = || NetworkError::VpcRange(format!("The CIDR '{text}' is invalid."));
    let cidr = Cidr::parse(text, false).ok_or_else(invalid)?;
    if !PREFIXES.contains(&cidr.prefix()) {
        return Err(NetworkError::VpcRange(format!(
            "The CIDR '{text}' is invalid: a VPC's block is a /16 to a /28"
        )));
    }
    if let Some(other) = state.vpcs.values().find(|v| v.cidr.overlaps(cidr)) {
        return Err(NetworkError::VpcRange(format!(
            "The CIDR '{text}' overlaps VPC {} ({}): Berth's VPCs may not overlap, since one host's networks cannot; choose another block",
            other.id, other.cidr
        )));
    }
    Ok(cidr)
}

impl ControlPlane {
    /// Makes the defaults of a new account once: the default VPC and its default security
    /// group; and a default subnet for every zone of the registered hosts that has none.
    pub fn network_defaults(&self) -> Result<(), ControlError> {
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let mut changes = vec![];
            let mut made = NetworkState::default();
            if !network.defaults_made {
                let cidr = Cidr::parse(DEFAULT_VPC_CIDR, false)
                    .unwrap_or_else(|| unreachable!("a valid block"));
                let (vpc, group) = new_vpc(network, cidr, true, Tags::new());
                made.apply(NetworkChange::Vpc(vpc.clone()));
                changes.push(Change::Network(NetworkChange::Vpc(vpc)));
                changes.push(Change::Network(NetworkChange::Group(group)));
                changes.push(Change::Network(NetworkChange::DefaultsMade));
            }
            let base = if made.vpcs.is_empty() { network } else { &made };
            changes.extend(default_subnets(base, &zones(state)));
            Ok((changes, ()))
        })
    }

    /// CreateVpc: a VPC of `cidr`, with its default security group.
    pub fn create_vpc(&self, cidr: &str, tags: Tags) -> Result<Vpc, ControlError> {
        super::tags::check(&tags)?;
        self.mutate(|state, _ctx| {
            let network = &state.network;
            if network.vpcs.len() >= MAX_VPCS {
                return Err(NetworkError::VpcLimit(MAX_VPCS).into());
            }
            let cidr = check_vpc_block(network, cidr)?;
            let (vpc, group) = new_vpc(network, cidr, false, tags);
            let changes = vec![
                Change::Network(NetworkChange::Vpc(vpc.clone())),
                Change::Network(NetworkChange::Group(group)),
            ];
            Ok((changes, vpc))
        })
    }

    /// DeleteVpc: refused while it has subnets or security groups other than its default one,
    /// which goes with it.
    pub fn delete_vpc(&self, id: &str) -> Result<(), ControlError> {
        well_formed(id, "vpc")?;
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let vpc = network
                .vpcs
                .get(id)
                .ok_or_else(|| NetworkError::VpcNotFound(id.to_string()))?;
            let busy = network.subnets_of(id).next().is_some()
                || network.groups_of(id).any(|g| g.id != vpc.default_group);
            if busy {
                return Err(NetworkError::DependencyViolation(format!(
                    "The vpc '{id}' has dependencies and cannot be deleted."
                ))
                .into());
            }
            let changes = vec![
                Change::Network(NetworkChange::RemoveGroup(vpc.default_group.clone())),
                Change::Network(NetworkChange::RemoveVpc(id.to_string())),
            ];
            Ok((changes, ()))
        })
    }

    /// DescribeVpcs: those named (each must exist), else all, that pass the filters.
    pub fn describe_vpcs(
        &self,
        ids: &[String],
        filters: &[Filter],
    ) -> Result<Vec<Vpc>, ControlError> {
        filters::check::<Vpc>(filters)?;
        let state = self.read();
        let vpcs = &state.network.vpcs;
        for id in ids {
            well_formed(id, "vpc")?;
            if !vpcs.contains_key(id) {
                return Err(NetworkError::VpcNotFound(id.clone()).into());
            }
        }
        Ok(vpcs
            .values()
            .filter(|v| ids.is_empty() || ids.contains(&v.id))
            .filter(|v| filters::matches(*v, filters))
            .cloned()
            .collect())
    }
}
