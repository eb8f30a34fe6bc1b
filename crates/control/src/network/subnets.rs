//! CreateSubnet, DeleteSubnet, DescribeSubnets and the availability zones subnets are made in.

use super::cidr::{Cidr, RESERVED_PER_SUBNET};
use super::error::NetworkError;
use super::filters::{self, Filter, Filterable};
use super::records::{NO_TAGS, NetworkChange, Subnet, Tags};
use super::vpcs::PREFIXES;
use super::{new_id, well_formed, zone_id, zones};
use crate::error::ControlError;
use crate::{Change, ControlPlane};

/// The most subnets a VPC may have, as EC2's default quota.
const MAX_SUBNETS: usize = 200;

impl Filterable for Subnet {
    const FILTERS: &'static [&'static str] = &[
        "subnet-id",
        "vpc-id",
        "cidr-block",
        "cidr",
        "cidrBlock",
        "availability-zone",
        "availability-zone-id",
        "availabilityZone",
        "default-for-az",
        "defaultForAz",
        "state",
    ];

    fn values(&self, name: &str) -> Vec<String> {
        let value = match name {
            "subnet-id" => self.id.clone(),
            "vpc-id" => self.vpc_id.clone(),
            "cidr-block" | "cidr" | "cidrBlock" => self.cidr.to_string(),
            "availability-zone" | "availabilityZone" => self.availability_zone.clone(),
            "availability-zone-id" => zone_id(&self.availability_zone),
            "default-for-az" | "defaultForAz" => self.default_for_az.to_string(),
            "state" => "available".into(),
            _ => return vec![],
        };
        vec![value]
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }
}

/// An availability zone: where hosts register and subnets are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Its name (the hosts' `ecs.availability-zone`).
    pub name: String,
    /// Its id ([`zone_id`]).
    pub id: String,
}

impl Filterable for Zone {
    const FILTERS: &'static [&'static str] = &["zone-name", "zone-id", "state", "zone-type"];

    fn values(&self, name: &str) -> Vec<String> {
        let value = match name {
            "zone-name" => self.name.clone(),
            "zone-id" => self.id.clone(),
            "state" => "available".into(),
            "zone-type" => "availability-zone".into(),
            _ => return vec![],
        };
        vec![value]
    }

    fn tags(&self) -> &Tags {
        &NO_TAGS
    }
}

impl Subnet {
    /// The addresses left for tasks: the block less the five EC2 reserves.
    pub fn available_addresses(&self) -> u64 {
        self.cidr.size().saturating_sub(RESERVED_PER_SUBNET)
    }
}

impl ControlPlane {
    /// CreateSubnet: a block of the VPC's, overlapping none of its other subnets, in a zone
    /// Berth has (a registered host's), by default the first.
    pub fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: &str,
        zone: Option<&str>,
        tags: Tags,
    ) -> Result<Subnet, ControlError> {
        well_formed(vpc_id, "vpc")?;
        super::tags::check(&tags)?;
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let vpc = network
                .vpcs
                .get(vpc_id)
                .ok_or_else(|| NetworkError::VpcNotFound(vpc_id.to_string()))?;
            let range = || NetworkError::SubnetRange(format!("The CIDR '{cidr}' is invalid."));
            let block = Cidr::parse(cidr, false).ok_or_else(range)?;
            if !PREFIXES.contains(&block.prefix()) || !vpc.cidr.contains(block) {
                return Err(NetworkError::SubnetRange(format!(
                    "The CIDR '{cidr}' is invalid: a subnet's block is a /16 to a /28 inside its VPC's ({})",
                    vpc.cidr
                ))
                .into());
            }
            if let Some(other) = network.subnets_of(vpc_id).find(|s| s.cidr.overlaps(block)) {
                return Err(NetworkError::SubnetConflict {
                    cidr: cidr.to_string(),
                    other: format!("{} {}", other.id, other.cidr),
                }
                .into());
            }
            if network.subnets_of(vpc_id).count() >= MAX_SUBNETS {
                return Err(NetworkError::InvalidParameterValue(format!(
                    "VPC {vpc_id} has {MAX_SUBNETS} subnets, the most it may have: delete one you no longer use"
                ))
                .into());
            }
            let known = zones(state);
            let zone = match zone {
                Some(z) if known.iter().any(|k| k == z) => z.to_string(),
                Some(z) => {
                    return Err(NetworkError::InvalidParameterValue(format!(
                        "Value ({z}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}. A zone is added by a host that registers in it (berth agent --availability-zone {z}).",
                        known.join(", ")
                    ))
                    .into());
                }
                None => known.first().cloned().ok_or_else(|| {
                    NetworkError::InvalidParameterValue(
                        "No availability zone is known yet: register a host (berth agent --availability-zone NAME) or name the zone once one is".into(),
                    )
                })?,
            };
            let subnet = Subnet {
                id: new_id("subnet"),
                vpc_id: vpc_id.to_string(),
                cidr: block,
                availability_zone: zone,
                default_for_az: false,
                tags,
            };
            let changes = vec![Change::Network(NetworkChange::Subnet(subnet.clone()))];
            Ok((changes, subnet))
        })
    }

    /// DeleteSubnet.
    pub fn delete_subnet(&self, id: &str) -> Result<(), ControlError> {
        well_formed(id, "subnet")?;
        self.mutate(|state, _ctx| {
            if !state.network.subnets.contains_key(id) {
                return Err(NetworkError::SubnetNotFound(id.to_string()).into());
            }
            if let Some(eni) = super::enis::live(state).find(|e| e.subnet_id == id) {
                return Err(NetworkError::DependencyViolation(format!(
                    "The subnet '{id}' has dependencies and cannot be deleted: task {} holds {} ({}); stop it first",
                    eni.task_arn, eni.id, eni.address
                ))
                .into());
            }
            let changes = vec![Change::Network(NetworkChange::RemoveSubnet(id.to_string()))];
            Ok((changes, ()))
        })
    }

    /// DescribeSubnets: those named (each must exist), else all, that pass the filters.
    pub fn describe_subnets(
        &self,
        ids: &[String],
        filters: &[Filter],
    ) -> Result<Vec<Subnet>, ControlError> {
        filters::check::<Subnet>(filters)?;
        let state = self.read();
        let subnets = &state.network.subnets;
        for id in ids {
            well_formed(id, "subnet")?;
            if !subnets.contains_key(id) {
                return Err(NetworkError::SubnetNotFound(id.clone()).into());
            }
        }
        Ok(subnets
            .values()
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .filter(|s| filters::matches(*s, filters))
            .cloned()
            .collect())
    }

    /// DescribeAvailabilityZones: the zones of the registered hosts and of the subnets that
    /// pass the filters.
    pub fn availability_zones(&self, filters: &[Filter]) -> Result<Vec<Zone>, ControlError> {
        filters::check::<Zone>(filters)?;
        Ok(zones(&self.read())
            .into_iter()
            .map(|name| Zone {
                id: zone_id(&name),
                name,
            })
            .filter(|z| filters::matches(z, filters))
            .collect())
    }
}
