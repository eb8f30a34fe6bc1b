//! Security group rules: each stored as one protocol, one port range and one peer (an IPv4
//! block or a security group), so two rules are duplicates exactly when these three agree, as
//! EC2 decides `InvalidPermission.Duplicate`. What a call writes (an `IpPermission` with many
//! ranges and groups) is split into such rules by the API; DescribeSecurityGroups groups them
//! back by protocol and ports.

use super::cidr::Cidr;
use super::error::NetworkError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One rule of a security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `sgr-` and 17 hex digits.
    pub id: String,
    /// `-1` (every protocol), `tcp`, `udp`, `icmp`, or another protocol's number.
    pub protocol: String,
    /// The first port (tcp, udp) or the ICMP type; none for every protocol.
    pub from_port: Option<i32>,
    /// The last port (tcp, udp) or the ICMP code; none for every protocol.
    pub to_port: Option<i32>,
    /// Whom the rule lets in (ingress) or out to (egress).
    pub peer: Peer,
    /// What the rule is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Peer {
    /// Addresses in an IPv4 block.
    Cidr(Cidr),
    /// The members of a security group, by id.
    Group(String),
}

/// A rule as a call writes it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct RuleSpec {
    /// IpProtocol as written.
    pub protocol: String,
    /// FromPort.
    pub from_port: Option<i32>,
    /// ToPort.
    pub to_port: Option<i32>,
    /// CidrIp, as written.
    pub cidr: Option<String>,
    /// GroupId of a UserIdGroupPair.
    pub group_id: Option<String>,
    /// GroupName of a UserIdGroupPair (looked up in the rule's own VPC).
    pub group_name: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A rule's protocol and ports, checked and in the form EC2 answers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    /// As [`Rule::protocol`].
    pub protocol: String,
    /// As [`Rule::from_port`].
    pub from_port: Option<i32>,
    /// As [`Rule::to_port`].
    pub to_port: Option<i32>,
}

/// The longest rule description EC2 takes.
const DESCRIPTION: usize = 255;

impl Ports {
    /// Checks a protocol and port range as EC2 does: names or numbers (`6` is `tcp`), both
    /// ports for tcp and udp within 0–65535 and in order, ICMP type and code from -1 to 255,
    /// no ports for every protocol.
    pub fn check(
        protocol: &str,
        from: Option<i32>,
        to: Option<i32>,
    ) -> Result<Ports, NetworkError> {
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "-1" | "all" => "-1".to_string(),
            "tcp" | "6" => "tcp".into(),
            "udp" | "17" => "udp".into(),
            "icmp" | "1" => "icmp".into(),
            other => match other.parse::<u8>() {
                Ok(n) => n.to_string(),
                Err(_) => {
                    return Err(NetworkError::InvalidParameterValue(format!(
                        "Invalid value '{protocol}' for IP protocol. Unknown protocol: use tcp, udp, icmp, -1 (every protocol) or a protocol number from 0 to 255"
                    )));
                }
            },
        };
        let ports = match protocol.as_str() {
            "tcp" | "udp" => {
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(NetworkError::InvalidParameterValue(
                        "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange".into(),
                    ));
                };
                if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
                    return Err(NetworkError::InvalidParameterValue(format!(
                        "Invalid TCP/UDP port range: from port {from} to port {to}: ports are 0-65535 and the first is not above the last"
                    )));
                }
                (Some(from), Some(to))
            }
            "icmp" => {
                let (from, to) = (from.unwrap_or(-1), to.unwrap_or(-1));
                if !(-1..=255).contains(&from) || !(-1..=255).contains(&to) {
                    return Err(NetworkError::InvalidParameterValue(format!(
                        "Invalid ICMP type {from} or code {to}: each is -1 (any) or 0-255"
                    )));
                }
                (Some(from), Some(to))
            }
            _ => (None, None),
        };
        Ok(Ports {
            protocol,
            from_port: ports.0,
            to_port: ports.1,
        })
    }
}

impl Rule {
    /// A rule from its checked parts.
    pub fn new(
        ports: Ports,
        peer: Peer,
        description: Option<String>,
    ) -> Result<Rule, NetworkError> {
        if let Some(d) = &description
            && d.chars().count() > DESCRIPTION
        {
            return Err(NetworkError::InvalidParameterValue(format!(
                "Invalid rule description: it is {} characters; at most {DESCRIPTION}",
                d.chars().count()
            )));
        }
        Ok(Rule {
            id: super::new_id("sgr"),
            protocol: ports.protocol,
            from_port: ports.from_port,
            to_port: ports.to_port,
            peer,
            description,
        })
    }

    /// Whether `other` is the same rule (its description and id aside).
    pub fn same(&self, other: &Rule) -> bool {
        self.protocol == other.protocol
            && self.from_port == other.from_port
            && self.to_port == other.to_port
            && self.peer == other.peer
    }
}

impl fmt::Display for Rule {
    /// As EC2 names a rule in its errors: `peer: 10.0.0.0/16, TCP, from port: 80, to port: 80,
    /// ALLOW`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = match &self.peer {
            Peer::Cidr(c) => c.to_string(),
            Peer::Group(g) => g.clone(),
        };
        let protocol = match self.protocol.as_str() {
            "-1" => "ALL".to_string(),
            p => p.to_ascii_uppercase(),
        };
        write!(f, "peer: {peer}, {protocol}")?;
        if let (Some(from), Some(to)) = (self.from_port, self.to_port) {
            write!(f, ", from port: {from}, to port: {to}")?;
        }
        write!(f, ", ALLOW")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_are_named_as_ec2_answers_them() {
        let p = Ports::check("6", Some(80), Some(80)).unwrap();
        assert_eq!((p.protocol.as_str(), p.from_port), ("tcp", Some(80)));
        let all = Ports::check("-1", Some(1), Some(2)).unwrap();
        assert_eq!((all.from_port, all.to_port), (None, None));
        assert_eq!(
            Ports::check("icmp", None, None).unwrap().from_port,
            Some(-1)
        );
        assert_eq!(Ports::check("47", None, None).unwrap().protocol, "47");
        assert!(Ports::check("tcp", Some(80), None).is_err());
        assert!(Ports::check("tcp", Some(90), Some(80)).is_err());
        assert!(Ports::check("udp", Some(0), Some(65536)).is_err());
        assert!(Ports::check("sctp", None, None).is_err());
    }

    #[test]
    fn a_rule_is_the_same_whatever_its_description_and_says_so() {
        let cidr = Peer::Cidr(Cidr::parse("10.0.0.0/16", false).unwrap());
        let ports = || Ports::check("tcp", Some(8080), Some(8080)).unwrap();
        let a = Rule::new(ports(), cidr.clone(), None).unwrap();
        let b = Rule::new(ports(), cidr, Some("web".into())).unwrap();
        assert!(a.same(&b));
        assert_ne!(a.id, b.id);
        assert_eq!(
            a.to_string(),
            "peer: 10.0.0.0/16, TCP, from port: 8080, to port: 8080, ALLOW"
        );
    }
}
