//! EC2 networking: VPCs, their subnets and security groups, and the tags on them, as the EC2
//! API shows them (`aws ec2 describe-subnets`, `create-security-group`, ...). These are what an
//! awsvpc task's `networkConfiguration` names; the records live in the store's `Vpcs`,
//! `Subnets` and `SecurityGroups` tables, each carrying its own tags.
//!
//! - [`records`]: the records, their durable change and their state;
//! - [`cidr`]: IPv4 blocks; [`rules`]: security group rules; [`filters`]: Describe filters;
//! - [`vpcs`]: VPCs and the defaults of a new account (a default VPC, its default security
//!   group, a default subnet per availability zone of the registered hosts);
//! - [`subnets`], [`security_groups`], [`tags`]: the calls on each.
//!
//! Where Berth departs from EC2 it says so: VPC blocks may not overlap (one host's Docker
//! networks cannot), and a rule may only name security groups of its own VPC.

pub mod cidr;
pub mod enis;
pub mod error;
pub mod filters;
pub mod records;
pub mod rules;
pub mod security_groups;
pub mod subnets;
pub mod tags;
pub mod vpcs;

use crate::State;
use berth_types::ecs::ContainerInstance;
use error::NetworkError;

/// A new EC2 id: `prefix-` and 17 lower-case hex digits, as EC2's long ids are.
pub(crate) fn new_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &hex[..17])
}

/// Checks that `id` has the form of a `prefix` id (`vpc-…`), as EC2 refuses malformed ids
/// before looking them up.
pub(crate) fn well_formed(id: &str, prefix: &'static str) -> Result<(), NetworkError> {
    let hex = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or_default();
    let ok = matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(NetworkError::Malformed {
            id: id.to_string(),
            prefix,
        })
    }
}

/// The availability zones Berth has: those of the registered container instances (their
/// `ecs.availability-zone` attribute) and of the subnets made, sorted.
pub(crate) fn zones(state: &State) -> Vec<String> {
    let hosts = state.instances.values().filter_map(zone_of);
    let subnets = state
        .network
        .subnets
        .values()
        .map(|s| s.availability_zone.clone());
    let mut zones: Vec<String> = hosts.chain(subnets).collect();
    zones.sort();
    zones.dedup();
    zones
}

/// The zone a container instance registered in (its `ecs.availability-zone` attribute).
pub(crate) fn zone_of(instance: &ContainerInstance) -> Option<String> {
    instance
        .attributes
        .as_deref()?
        .iter()
        .find(|a| a.name == "ecs.availability-zone")?
        .value
        .clone()
}

/// A zone's id, derived from its name so it is stable without a record: the trailing letter
/// becomes `-az<N>` (`us-east-1b` → `us-east-1-az2`, `local-a` → `local-az1`).
pub fn zone_id(zone: &str) -> String {
    match zone.chars().last() {
        Some(c) if c.is_ascii_lowercase() && zone.len() > 1 => {
            let stem = zone[..zone.len() - 1].trim_end_matches('-');
            format!("{stem}-az{}", c as u32 - 'a' as u32 + 1)
        }
        _ => format!("{zone}-az1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_ec2_s_form() {
        let id = new_id("vpc");
        assert_eq!(id.len(), 21);
        assert!(well_formed(&id, "vpc").is_ok());
        assert!(well_formed("vpc-1234abcd", "vpc").is_ok());
        assert!(well_formed("subnet-1234abcd", "vpc").is_err());
        assert!(well_formed("vpc-xyz", "vpc").is_err());
    }

    #[test]
    fn zone_ids_follow_the_letter() {
        assert_eq!(zone_id("us-east-1b"), "us-east-1-az2");
        assert_eq!(zone_id("local-a"), "local-az1");
        assert_eq!(zone_id("zone9"), "zone9-az1");
    }
}
