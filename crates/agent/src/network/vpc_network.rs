//! One Docker bridge network per VPC on this host: `berth-<vpc id>`, whose subnet is the VPC's
//! whole IPv4 block (each task's address is given explicitly, so the VPC's subnets need no
//! network of their own), its gateway the block's first address + 1 (the address AWS gives the
//! VPC's router), its bridge `bv` and the id's first 13 hex digits (an interface name has at
//! most 15 characters; the VPC's id, unlike its VNI, is unique across Berth servers that share
//! an engine). Docker refuses two networks whose pools overlap on one
//! engine, so a VPC whose block overlaps another network of the engine cannot have tasks here:
//! the task stops with a reason naming that network, before anything is created.

use crate::runtime::{ContainerRuntime, NetworkSpec};
use crate::spec::LABEL_INSTANCE;
use berth_types::protocol::TaskNetwork;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Label: the VPC a network is for.
pub(crate) const LABEL_VPC: &str = "berth.vpc";
/// The bridge driver's option naming the host's interface.
const BRIDGE_NAME: &str = "com.docker.network.bridge.name";

/// The engine's name for the network of `vpc_id`.
pub(super) fn name(vpc_id: &str) -> String {
    format!("berth-{vpc_id}")
}

/// The host's interface of the VPC's network: `bv` and up to 13 characters of the id.
fn bridge(vpc_id: &str) -> String {
    let id = vpc_id.strip_prefix("vpc-").unwrap_or(vpc_id);
    format!("bv{}", id.chars().take(13).collect::<String>())
}

/// An IPv4 block: its first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    base: u32,
    len: u32,
}

impl Block {
    /// `10.0.0.0/16`; host bits set are refused, as EC2 refuses them.
    fn parse(cidr: &str) -> Option<Self> {
        let (address, len) = cidr.split_once('/')?;
        let base = u32::from(address.parse::<Ipv4Addr>().ok()?);
        let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
        (base & !Self::mask(len) == 0).then_some(Self { base, len })
    }

    fn mask(len: u32) -> u32 {
        u32::MAX.checked_shl(32 - len).unwrap_or(0)
    }

    /// Whether the two share an address: the shorter prefix contains the other's base.
    fn overlaps(self, other: Self) -> bool {
        let mask = Self::mask(self.len.min(other.len));
        self.base & mask == other.base & mask
    }
}

/// Whether IPv4 blocks `a` and `b` (`10.0.0.0/16`) share an address; not when either is
/// not a block.
pub(crate) fn overlap(a: &str, b: &str) -> bool {
    Block::parse(a)
        .zip(Block::parse(b))
        .is_some_and(|(a, b)| a.overlaps(b))
}

/// What the network of `network`'s VPC is, created by container instance `instance_arn`.
pub(crate) fn spec(instance_arn: &str, network: &TaskNetwork) -> Result<NetworkSpec, String> {
    let block = Block::parse(&network.vpc_cidr)
        .filter(|b| b.len <= 30)
        .ok_or_else(|| {
            format!(
                "ResourceInitializationError: VPC {} has no usable IPv4 block: {:?}",
                network.vpc_id, network.vpc_cidr
            )
        })?;
    Ok(NetworkSpec {
        name: name(&network.vpc_id),
        subnets: vec![network.vpc_cidr.clone()],
        gateway: Some(Ipv4Addr::from(block.base + 1).to_string()),
        options: HashMap::from([(BRIDGE_NAME.to_string(), bridge(&network.vpc_id))]),
        labels: HashMap::from([
            (LABEL_VPC.to_string(), network.vpc_id.clone()),
            (LABEL_INSTANCE.to_string(), instance_arn.to_string()),
        ]),
    })
}

/// Why the network `wanted` cannot be made beside the engine's `existing` networks, if so;
/// `Ok(true)` when it exists already as wanted.
fn fits(wanted: &NetworkSpec, existing: &[NetworkSpec], vpc: &TaskNetwork) -> Result<bool, String> {
    let refused = |why: String| {
        format!(
            "ResourceInitializationError: VPC {} ({}) cannot have a network on this host: {why}",
            vpc.vpc_id, vpc.vpc_cidr
        )
    };
    if let Some(same) = existing.iter().find(|n| n.name == wanted.name) {
        return if same.subnets == wanted.subnets {
            Ok(true)
        } else {
            Err(refused(format!(
                "Docker network {} exists with subnets {:?}",
                same.name, same.subnets
            )))
        };
    }
    for other in existing {
        let clash = other.subnets.iter().find(|s| overlap(&vpc.vpc_cidr, s));
        if let Some(subnet) = clash {
            return Err(refused(format!(
                "Docker network {} holds {subnet}, which overlaps it (an engine cannot hold overlapping address pools)",
                other.name
            )));
        }
    }
    Ok(false)
}

/// Makes sure the network of `network`'s VPC exists on the engine; returns its name.
pub(super) async fn ensure<R: ContainerRuntime>(
    runtime: &R,
    instance_arn: &str,
    network: &TaskNetwork,
) -> Result<String, String> {
    let wanted = spec(instance_arn, network)?;
    let existing = runtime.list_networks().await?;
    if !fits(&wanted, &existing, network)? {
        tracing::info!(network = %wanted.name, subnet = %network.vpc_cidr, "creating a VPC's network");
        if let Err(e) = runtime.create_network(&wanted).await {
            // Another agent on this engine may have made it meanwhile: as good, if it fits.
            let existing = runtime.list_networks().await?;
            if !fits(&wanted, &existing, network)? {
                return Err(format!("ResourceInitializationError: {e}"));
            }
        }
    }
    Ok(wanted.name)
}

/// Whether network `spec` is one container instance `instance_arn` made for a VPC.
pub(super) fn made_by(spec: &NetworkSpec, instance_arn: &str) -> bool {
    spec.labels.contains_key(LABEL_VPC)
        && spec.labels.get(LABEL_INSTANCE).map(String::as_str) == Some(instance_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(id: &str, cidr: &str) -> TaskNetwork {
        crate::test_kit::interface(id, cidr, 7, "10.0.1.4")
    }

    fn network(name: &str, subnet: &str) -> NetworkSpec {
        NetworkSpec {
            name: name.into(),
            subnets: vec![subnet.into()],
            ..NetworkSpec::default()
        }
    }

    #[test]
    fn blocks_overlap_when_one_contains_the_others_base() {
        let block = |s| Block::parse(s).expect(s);
        assert!(block("10.0.0.0/16").overlaps(block("10.0.5.0/24")));
        assert!(block("10.0.5.0/24").overlaps(block("10.0.0.0/8")));
        assert!(!block("10.0.0.0/16").overlaps(block("10.1.0.0/16")));
        assert!(block("0.0.0.0/0").overlaps(block("192.168.1.0/24")));
        assert_eq!(Block::parse("10.0.0.1/16"), None, "host bits set");
        assert_eq!(Block::parse("10.0.0.0/33"), None);
        assert_eq!(Block::parse("10.0.0.0"), None);
    }

    #[test]
    fn a_vpcs_network_and_its_bridge_are_named_after_it() {
        let spec = spec("arn:i", &vpc("vpc-1", "10.0.0.0/16")).expect("valid");
        assert_eq!(spec.name, "berth-vpc-1");
        assert_eq!(spec.subnets, ["10.0.0.0/16"]);
        assert_eq!(spec.gateway.as_deref(), Some("10.0.0.1"));
        assert_eq!(spec.options[BRIDGE_NAME], "bv1");
        assert_eq!(bridge("vpc-0123456789abcdef0"), "bv0123456789abc");
        assert_eq!(spec.labels[LABEL_VPC], "vpc-1");
        assert!(made_by(&spec, "arn:i") && !made_by(&spec, "arn:other"));
        let bad = spec_error(&vpc("vpc-1", "10.0.0.0/31"));
        assert!(bad.contains("vpc-1 has no usable IPv4 block"), "{bad}");
    }

    fn spec_error(network: &TaskNetwork) -> String {
        spec("arn:i", network).expect_err("refused")
    }

    #[test]
    fn an_overlapping_network_is_named_in_the_refusal() {
        let ours = vpc("vpc-1", "172.17.0.0/16");
        let wanted = spec("arn:i", &ours).expect("valid");
        let engine = [network("host", "none"), network("bridge", "172.17.0.0/16")];
        let refused = fits(&wanted, &engine, &ours).expect_err("clash");
        assert_eq!(
            refused,
            "ResourceInitializationError: VPC vpc-1 (172.17.0.0/16) cannot have a network on this host: Docker network bridge holds 172.17.0.0/16, which overlaps it (an engine cannot hold overlapping address pools)"
        );
        let apart = vpc("vpc-2", "10.0.0.0/16");
        let wanted = spec("arn:i", &apart).expect("valid");
        assert_eq!(fits(&wanted, &engine, &apart), Ok(false));
        let with_ours = [engine[1].clone(), wanted.clone()];
        assert_eq!(fits(&wanted, &with_ours, &apart), Ok(true), "reused");
        let moved = [network("berth-vpc-2", "10.9.0.0/16")];
        let refused = fits(&wanted, &moved, &apart).expect_err("another block");
        assert!(
            refused.ends_with("Docker network berth-vpc-2 exists with subnets [\"10.9.0.0/16\"]"),
            "{refused}"
        );
    }
}
