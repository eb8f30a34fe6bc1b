//! CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups and the calls that
//! authorize and revoke their ingress and egress rules.

use super::cidr::Cidr;
use super::error::NetworkError;
use super::filters::{self, Filter, Filterable};
use super::records::{NetworkChange, NetworkState, SecurityGroup, Tags};
use super::rules::{Peer, Ports, Rule, RuleSpec};
use super::vpcs::{anywhere, every_protocol};
use super::{new_id, well_formed};
use crate::error::ControlError;
use crate::{Change, ControlPlane};

/// The most security groups a VPC may have, and rules in each direction of one, as EC2's
/// default quotas.
const MAX_GROUPS: usize = 2500;
const MAX_RULES: usize = 60;
/// The longest group name and description.
const MAX_TEXT: usize = 255;

/// Which rules a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Who may connect to the group's members.
    Ingress,
    /// Where they may connect.
    Egress,
}

/// How a call names a security group: by id, or by name (in the default VPC, as EC2 reads a
/// bare name).
#[derive(Debug, Clone, Default)]
pub struct GroupRef {
    /// GroupId.
    pub id: Option<String>,
    /// GroupName.
    pub name: Option<String>,
}

impl Filterable for SecurityGroup {
    const FILTERS: &'static [&'static str] = &[
        "group-id",
        "group-name",
        "vpc-id",
        "description",
        "ip-permission.protocol",
        "ip-permission.from-port",
        "ip-permission.to-port",
        "ip-permission.cidr",
        "ip-permission.group-id",
        "egress.ip-permission.protocol",
        "egress.ip-permission.from-port",
        "egress.ip-permission.to-port",
        "egress.ip-permission.cidr",
        "egress.ip-permission.group-id",
    ];

    fn values(&self, name: &str) -> Vec<String> {
        let (rules, field) = match name.strip_prefix("egress.ip-permission.") {
            Some(field) => (&self.egress, field),
            None => match name.strip_prefix("ip-permission.") {
                Some(field) => (&self.ingress, field),
                None => {
                    return match name {
                        "group-id" => vec![self.id.clone()],
                        "group-name" => vec![self.name.clone()],
                        "vpc-id" => vec![self.vpc_id.clone()],
                        "description" => vec![self.description.clone()],
                        _ => vec![],
                    };
                }
            },
        };
        let text = |port: Option<i32>| port.map(|p| p.to_string());
        rules
            .iter()
            .filter_map(|r| match (field, &r.peer) {
                ("protocol", _) => Some(r.protocol.clone()),
                ("from-port", _) => text(r.from_port),
                ("to-port", _) => text(r.to_port),
                ("cidr", Peer::Cidr(c)) => Some(c.to_string()),
                ("group-id", Peer::Group(g)) => Some(g.clone()),
                _ => None,
            })
            .collect()
    }

    fn tags(&self) -> &Tags {
        &self.tags
    }
}

/// Checks a group name or description: 1–255 characters of the set EC2 allows in a VPC.
fn check_text(what: &str, text: &str) -> Result<(), NetworkError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c);
    if text.is_empty() || text.chars().count() > MAX_TEXT || !text.chars().all(allowed) {
        return Err(NetworkError::InvalidParameterValue(format!(
            "Invalid {what} '{text}': 1 to {MAX_TEXT} characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{{}}!$*"
        )));
    }
    Ok(())
}

/// The group a call names: by id, or by name in the default VPC.
fn find<'s>(
    network: &'s NetworkState,
    group: &GroupRef,
) -> Result<&'s SecurityGroup, NetworkError> {
    match (&group.id, &group.name) {
        (Some(id), _) => {
            well_formed(id, "sg")?;
            network
                .groups
                .get(id)
                .ok_or_else(|| NetworkError::GroupNotFound(id.clone()))
        }
        (None, Some(name)) => {
            let vpc = network.default_vpc().ok_or_else(|| {
                NetworkError::InvalidParameterValue(format!(
                    "security group '{name}' is named without an id and there is no default VPC: give GroupId"
                ))
            })?;
            network
                .groups_of(&vpc.id)
                .find(|g| &g.name == name)
                .ok_or_else(|| {
                    NetworkError::GroupNotFound(format!("{name}' in default VPC '{}", vpc.id))
                })
        }
        (None, None) => Err(NetworkError::MissingParameter(
            "The request must contain the parameter groupName or groupId".into(),
        )),
    }
}

/// The rule a spec stands for, its peer checked against the group's VPC.
fn rule(network: &NetworkState, vpc_id: &str, spec: RuleSpec) -> Result<Rule, NetworkError> {
    let ports = Ports::check(&spec.protocol, spec.from_port, spec.to_port)?;
    let peer = match (spec.cidr, spec.group_id, spec.group_name) {
        (Some(cidr), None, None) => Peer::Cidr(Cidr::parse(&cidr, true).ok_or_else(|| {
            NetworkError::InvalidParameterValue(format!(
                "CIDR block {cidr} is malformed: write an IPv4 block such as 10.0.0.0/16"
            ))
        })?),
        (None, id, name) if id.is_some() || name.is_some() => {
            let peer = match id {
                Some(id) => {
                    well_formed(&id, "sg")?;
                    network
                        .groups
                        .get(&id)
                        .ok_or(NetworkError::GroupNotFound(id))?
                }
                None => {
                    let name = name.unwrap_or_default();
                    network
                        .groups_of(vpc_id)
                        .find(|g| g.name == name)
                        .ok_or_else(|| NetworkError::GroupNotFound(name.clone()))?
                }
            };
            if peer.vpc_id != vpc_id {
                return Err(NetworkError::InvalidParameterValue(format!(
                    "security group {} is in VPC {}, not {vpc_id}: Berth's rules may only name groups of their own VPC",
                    peer.id, peer.vpc_id
                )));
            }
            Peer::Group(peer.id.clone())
        }
        _ => {
            return Err(NetworkError::MissingParameter(
                "each rule names exactly one peer: an IPv4 range (IpRanges) or a security group (UserIdGroupPairs)".into(),
            ));
        }
    };
    Rule::new(ports, peer, spec.description)
}

impl ControlPlane {
    /// CreateSecurityGroup: in `vpc_id`, else the default VPC; new groups let their members
    /// reach anywhere and nothing in, as in EC2.
    pub fn create_security_group(
        &self,
        vpc_id: Option<&str>,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> Result<SecurityGroup, ControlError> {
        check_text("group name", name)?;
        check_text("group description", description)?;
        if name.starts_with("sg-") {
            return Err(NetworkError::InvalidParameterValue(format!(
                "Group names may not be in the format sg-*: '{name}'"
            ))
            .into());
        }
        super::tags::check(&tags)?;
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let vpc = match vpc_id {
                Some(id) => {
                    well_formed(id, "vpc")?;
                    network
                        .vpcs
                        .get(id)
                        .ok_or_else(|| NetworkError::VpcNotFound(id.into()))?
                }
                None => network.default_vpc().ok_or_else(|| {
                    NetworkError::MissingParameter(
                        "No default VPC for this user: give VpcId".into(),
                    )
                })?,
            };
            if network.groups_of(&vpc.id).any(|g| g.name == name) {
                return Err(NetworkError::GroupDuplicate {
                    name: name.into(),
                    vpc: vpc.id.clone(),
                }
                .into());
            }
            if network.groups_of(&vpc.id).count() >= MAX_GROUPS {
                return Err(NetworkError::GroupLimit(vpc.id.clone(), MAX_GROUPS).into());
            }
            let group = SecurityGroup {
                id: new_id("sg"),
                vpc_id: vpc.id.clone(),
                name: name.into(),
                description: description.into(),
                ingress: vec![],
                egress: vec![every_protocol(Peer::Cidr(anywhere()))],
                tags,
            };
            Ok((
                vec![Change::Network(NetworkChange::Group(group.clone()))],
                group,
            ))
        })
    }

    /// DeleteSecurityGroup: not a VPC's default group, nor one another group's rules name.
    /// Answers the id of the group deleted.
    pub fn delete_security_group(&self, group: &GroupRef) -> Result<String, ControlError> {
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let found = find(network, group)?;
            if network.vpcs.get(&found.vpc_id).is_some_and(|v| v.default_group == found.id) {
                return Err(NetworkError::CannotDelete(found.id.clone()).into());
            }
            let names_it = |g: &SecurityGroup| {
                g.id != found.id
                    && g.ingress.iter().chain(&g.egress).any(|r| r.peer == Peer::Group(found.id.clone()))
            };
            if let Some(eni) = super::enis::live(state).find(|e| e.groups.contains(&found.id)) {
                return Err(NetworkError::DependencyViolation(format!(
                    "resource {} has a dependent object: network interface {} of task {}; stop the task first",
                    found.id, eni.id, eni.task_arn
                ))
                .into());
            }
            if let Some(user) = network.groups.values().find(|g| names_it(g)) {
                return Err(NetworkError::DependencyViolation(format!(
                    "resource {} has a dependent object: the rules of {} name it; revoke them first",
                    found.id, user.id
                ))
                .into());
            }
            Ok((vec![Change::Network(NetworkChange::RemoveGroup(found.id.clone()))], found.id.clone()))
        })
    }

    /// AuthorizeSecurityGroupIngress/Egress: adds the rules, none of which may exist already.
    /// Answers the rules added.
    pub fn authorize(
        &self,
        group: &GroupRef,
        direction: Direction,
        specs: Vec<RuleSpec>,
    ) -> Result<(SecurityGroup, Vec<Rule>), ControlError> {
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let mut changed = find(network, group)?.clone();
            let mut added: Vec<Rule> = vec![];
            for spec in specs {
                let new = rule(network, &changed.vpc_id, spec)?;
                let rules = match direction {
                    Direction::Ingress => &changed.ingress,
                    Direction::Egress => &changed.egress,
                };
                if rules.iter().chain(&added).any(|r| r.same(&new)) {
                    return Err(NetworkError::PermissionDuplicate(new.to_string()).into());
                }
                added.push(new);
            }
            let rules = match direction {
                Direction::Ingress => &mut changed.ingress,
                Direction::Egress => &mut changed.egress,
            };
            rules.extend(added.iter().cloned());
            if rules.len() > MAX_RULES {
                return Err(NetworkError::RuleLimit(MAX_RULES).into());
            }
            let changes = vec![Change::Network(NetworkChange::Group(changed.clone()))];
            Ok((changes, (changed, added)))
        })
    }

    /// RevokeSecurityGroupIngress/Egress: removes the rules, each of which must exist.
    pub fn revoke(
        &self,
        group: &GroupRef,
        direction: Direction,
        specs: Vec<RuleSpec>,
    ) -> Result<(), ControlError> {
        self.mutate(|state, _ctx| {
            let network = &state.network;
            let mut changed = find(network, group)?.clone();
            let vpc_id = changed.vpc_id.clone();
            let rules = match direction {
                Direction::Ingress => &mut changed.ingress,
                Direction::Egress => &mut changed.egress,
            };
            for spec in specs {
                let gone = rule(network, &vpc_id, spec)?;
                let before = rules.len();
                rules.retain(|r| !r.same(&gone));
                if rules.len() == before {
                    return Err(NetworkError::PermissionNotFound(gone.to_string()).into());
                }
            }
            Ok((vec![Change::Network(NetworkChange::Group(changed))], ()))
        })
    }

    /// DescribeSecurityGroups: those named by id or name (each must exist), else all, that
    /// pass the filters.
    pub fn describe_security_groups(
        &self,
        ids: &[String],
        names: &[String],
        filters: &[Filter],
    ) -> Result<Vec<SecurityGroup>, ControlError> {
        filters::check::<SecurityGroup>(filters)?;
        let state = self.read();
        let network = &state.network;
        let mut wanted = vec![];
        for id in ids {
            let by_id = GroupRef {
                id: Some(id.clone()),
                name: None,
            };
            wanted.push(find(network, &by_id)?.id.clone());
        }
        for name in names {
            let by_name = GroupRef {
                id: None,
                name: Some(name.clone()),
            };
            wanted.push(find(network, &by_name)?.id.clone());
        }
        Ok(network
            .groups
            .values()
            .filter(|g| wanted.is_empty() || wanted.contains(&g.id))
            .filter(|g| filters::matches(*g, filters))
            .cloned()
            .collect())
    }
}
