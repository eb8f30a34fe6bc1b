//! The EC2 shapes Berth's network records are answered as, and the requests' parts read into
//! what the control plane takes: filters, tag specifications, and `IpPermissions` split into one
//! rule per peer (and grouped back by protocol and ports when described).

use berth_control::network::filters::Filter;
use berth_control::network::records::Eni;
use berth_control::network::records::{SecurityGroup, Subnet, Tags, Vpc};
use berth_control::network::rules::{Peer, Rule, RuleSpec};
use berth_control::network::zone_id;
use berth_types::arn::Partition;
use berth_types::ec2;
use berth_types::{ApiError, ErrorCode};

/// An `InvalidParameterValue` refusal.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValue, message)
}

/// A request's filters, each with its name.
pub(crate) fn filters(given: Option<Vec<ec2::Filter>>) -> Result<Vec<Filter>, ApiError> {
    given
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let name = f.name.filter(|n| !n.is_empty()).ok_or_else(|| {
                invalid(format!(
                    "Filter.{} has no Name: give the filter's name",
                    i + 1
                ))
            })?;
            Ok(Filter {
                name,
                values: f.values.unwrap_or_default(),
            })
        })
        .collect()
}

/// Tags as a map, each with a key.
pub(crate) fn tag_map(tags: Vec<ec2::Tag>) -> Result<Tags, ApiError> {
    tags.into_iter()
        .map(|t| match t.key {
            Some(key) => Ok((key, t.value.unwrap_or_default())),
            None => Err(ApiError::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter Tag.N.Key",
            )),
        })
        .collect()
}

/// The tags a create call's `TagSpecifications` give a resource of `kind`; a specification for
/// another kind of resource is refused, as EC2 does.
pub(crate) fn tags_for(
    specs: Option<Vec<ec2::TagSpecification>>,
    kind: ec2::ResourceType,
) -> Result<Tags, ApiError> {
    let mut tags = Tags::new();
    for spec in specs.unwrap_or_default() {
        if spec.resource_type != Some(kind) {
            return Err(invalid(format!(
                "'{}' is not a valid taggable resource type for this operation: use '{}'",
                serde_plain(&spec.resource_type),
                serde_plain(&Some(kind))
            )));
        }
        tags.extend(tag_map(spec.tags.unwrap_or_default())?);
    }
    Ok(tags)
}

/// An enum value as it is written on the wire.
fn serde_plain(value: &Option<ec2::ResourceType>) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Tags as EC2 answers them: absent when there are none.
fn tag_set(tags: &Tags) -> Option<Vec<ec2::Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| ec2::Tag {
                key: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect()
    })
}

/// A VPC as DescribeVpcs answers it.
pub(crate) fn vpc(v: &Vpc, partition: &Partition) -> ec2::Vpc {
    ec2::Vpc {
        vpc_id: Some(v.id.clone()),
        owner_id: Some(partition.account.clone()),
        instance_tenancy: Some(ec2::Tenancy::Default),
        cidr_block: Some(v.cidr.to_string()),
        cidr_block_association_set: Some(vec![ec2::VpcCidrBlockAssociation {
            association_id: Some(format!("vpc-cidr-assoc-{}", &v.id[4..])),
            cidr_block: Some(v.cidr.to_string()),
            cidr_block_state: Some(ec2::VpcCidrBlockState {
                state: Some(ec2::VpcCidrBlockStateCode::Associated),
                status_message: None,
            }),
        }]),
        is_default: Some(v.is_default),
        state: Some(ec2::VpcState::Available),
        dhcp_options_id: Some("default".into()),
        tags: tag_set(&v.tags),
        ..ec2::Vpc::default()
    }
}

/// A subnet as DescribeSubnets answers it.
pub(crate) fn subnet(s: &Subnet, partition: &Partition) -> ec2::Subnet {
    ec2::Subnet {
        subnet_id: Some(s.id.clone()),
        subnet_arn: Some(format!(
            "arn:aws:ec2:{}:{}:subnet/{}",
            partition.region, partition.account, s.id
        )),
        vpc_id: Some(s.vpc_id.clone()),
        owner_id: Some(partition.account.clone()),
        cidr_block: Some(s.cidr.to_string()),
        availability_zone: Some(s.availability_zone.clone()),
        availability_zone_id: Some(zone_id(&s.availability_zone)),
        available_ip_address_count: Some(
            i32::try_from(s.available_addresses()).unwrap_or(i32::MAX),
        ),
        default_for_az: Some(s.default_for_az),
        // Default subnets give public addresses in AWS; Berth gives none, but answers as AWS
        // so scripts that branch on it behave the same.
        map_public_ip_on_launch: Some(s.default_for_az),
        map_customer_owned_ip_on_launch: Some(false),
        state: Some(ec2::SubnetState::Available),
        tags: tag_set(&s.tags),
        ..ec2::Subnet::default()
    }
}

/// A security group as DescribeSecurityGroups answers it.
pub(crate) fn group(g: &SecurityGroup, partition: &Partition) -> ec2::SecurityGroup {
    ec2::SecurityGroup {
        group_id: Some(g.id.clone()),
        group_name: Some(g.name.clone()),
        description: Some(g.description.clone()),
        vpc_id: Some(g.vpc_id.clone()),
        owner_id: Some(partition.account.clone()),
        security_group_arn: Some(group_arn(&g.id, partition)),
        ip_permissions: Some(permissions(&g.ingress, partition)),
        ip_permissions_egress: Some(permissions(&g.egress, partition)),
        tags: tag_set(&g.tags),
    }
}

/// `arn:aws:ec2:<region>:<account>:security-group/<id>`.
pub(crate) fn group_arn(id: &str, partition: &Partition) -> String {
    format!(
        "arn:aws:ec2:{}:{}:security-group/{id}",
        partition.region, partition.account
    )
}

/// Rules grouped back into `IpPermissions`: one per protocol and port range, in the order
/// each first appears, with its ranges and groups.
fn permissions(rules: &[Rule], partition: &Partition) -> Vec<ec2::IpPermission> {
    let mut out: Vec<ec2::IpPermission> = vec![];
    for rule in rules {
        let same = |p: &ec2::IpPermission| {
            p.ip_protocol.as_deref() == Some(rule.protocol.as_str())
                && p.from_port == rule.from_port
                && p.to_port == rule.to_port
        };
        let at = match out.iter().position(same) {
            Some(at) => at,
            None => {
                out.push(ec2::IpPermission {
                    ip_protocol: Some(rule.protocol.clone()),
                    from_port: rule.from_port,
                    to_port: rule.to_port,
                    ip_ranges: Some(vec![]),
                    user_id_group_pairs: Some(vec![]),
                    ipv6_ranges: Some(vec![]),
                    prefix_list_ids: Some(vec![]),
                });
                out.len() - 1
            }
        };
        let permission = &mut out[at];
        match &rule.peer {
            Peer::Cidr(cidr) => permission
                .ip_ranges
                .get_or_insert_default()
                .push(ec2::IpRange {
                    cidr_ip: Some(cidr.to_string()),
                    description: rule.description.clone(),
                }),
            Peer::Group(id) => {
                permission
                    .user_id_group_pairs
                    .get_or_insert_default()
                    .push(ec2::UserIdGroupPair {
                        group_id: Some(id.clone()),
                        user_id: Some(partition.account.clone()),
                        description: rule.description.clone(),
                        ..ec2::UserIdGroupPair::default()
                    })
            }
        }
    }
    out
}

/// A rule as AuthorizeSecurityGroup* answers it.
pub(crate) fn rule(
    r: &Rule,
    g: &SecurityGroup,
    egress: bool,
    partition: &Partition,
) -> ec2::SecurityGroupRule {
    let (cidr, group) = match &r.peer {
        Peer::Cidr(c) => (Some(c.to_string()), None),
        Peer::Group(id) => (
            None,
            Some(ec2::ReferencedSecurityGroup {
                group_id: Some(id.clone()),
                user_id: Some(partition.account.clone()),
                ..ec2::ReferencedSecurityGroup::default()
            }),
        ),
    };
    ec2::SecurityGroupRule {
        security_group_rule_id: Some(r.id.clone()),
        group_id: Some(g.id.clone()),
        group_owner_id: Some(partition.account.clone()),
        is_egress: Some(egress),
        ip_protocol: Some(r.protocol.clone()),
        from_port: Some(r.from_port.unwrap_or(-1)),
        to_port: Some(r.to_port.unwrap_or(-1)),
        cidr_ipv4: cidr,
        referenced_group_info: group,
        description: r.description.clone(),
        security_group_rule_arn: Some(format!(
            "arn:aws:ec2:{}:{}:security-group-rule/{}",
            partition.region, partition.account, r.id
        )),
        ..ec2::SecurityGroupRule::default()
    }
}

/// The rules a call's `IpPermissions` (or its older top-level `IpProtocol`/`FromPort`/
/// `ToPort`/`CidrIp`) stand for: one per range and per group. IPv6 ranges and prefix lists
/// are refused, naming them: Berth's VPCs are IPv4 only.
pub(crate) fn specs(
    permissions: Option<Vec<ec2::IpPermission>>,
    legacy: ec2::IpPermission,
    legacy_cidr: Option<String>,
) -> Result<Vec<RuleSpec>, ApiError> {
    let mut permissions = permissions.unwrap_or_default();
    if legacy.ip_protocol.is_some() || legacy_cidr.is_some() {
        let mut legacy = legacy;
        legacy.ip_ranges = legacy_cidr.map(|c| {
            vec![ec2::IpRange {
                cidr_ip: Some(c),
                description: None,
            }]
        });
        permissions.push(legacy);
    }
    if permissions.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingParameter,
            "No permissions given: pass IpPermissions (protocol, ports, and IpRanges or UserIdGroupPairs)",
        ));
    }
    let mut specs = vec![];
    for (i, p) in permissions.into_iter().enumerate() {
        let at = i + 1;
        if !p.ipv6_ranges.unwrap_or_default().is_empty() {
            return Err(invalid(format!(
                "IpPermissions.{at}.Ipv6Ranges: Berth's VPCs are IPv4 only; use IpRanges"
            )));
        }
        if !p.prefix_list_ids.unwrap_or_default().is_empty() {
            return Err(invalid(format!(
                "IpPermissions.{at}.PrefixListIds: Berth has no prefix lists; use IpRanges"
            )));
        }
        let protocol = p.ip_protocol.ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingParameter,
                format!("IpPermissions.{at}.IpProtocol is required: tcp, udp, icmp or -1"),
            )
        })?;
        let base = RuleSpec {
            protocol,
            from_port: p.from_port,
            to_port: p.to_port,
            ..RuleSpec::default()
        };
        let ranges = p.ip_ranges.unwrap_or_default();
        let pairs = p.user_id_group_pairs.unwrap_or_default();
        if ranges.is_empty() && pairs.is_empty() {
            return Err(ApiError::new(
                ErrorCode::MissingParameter,
                format!("IpPermissions.{at} names no peer: give IpRanges or UserIdGroupPairs"),
            ));
        }
        for range in ranges {
            specs.push(RuleSpec {
                cidr: Some(range.cidr_ip.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::MissingParameter,
                        format!("IpPermissions.{at}.IpRanges.N.CidrIp is required"),
                    )
                })?),
                description: range.description,
                ..base.clone()
            });
        }
        for pair in pairs {
            if pair.vpc_peering_connection_id.is_some() {
                return Err(invalid(format!(
                    "IpPermissions.{at}.Groups.N.VpcPeeringConnectionId: Berth has no VPC peering"
                )));
            }
            specs.push(RuleSpec {
                group_id: pair.group_id,
                group_name: pair.group_name,
                description: pair.description,
                ..base.clone()
            });
        }
    }
    Ok(specs)
}

/// A task's network interface as DescribeNetworkInterfaces answers it; `zone` is its subnet's,
/// `groups` its security groups' ids and names.
pub(crate) fn interface(
    e: &Eni,
    zone: Option<String>,
    groups: Vec<(String, String)>,
    partition: &Partition,
) -> ec2::NetworkInterface {
    let address = e.address.to_string();
    ec2::NetworkInterface {
        network_interface_id: Some(e.id.clone()),
        subnet_id: Some(e.subnet_id.clone()),
        vpc_id: Some(e.vpc_id.clone()),
        availability_zone: zone,
        description: Some(format!(
            "arn:aws:ecs:{}:{}:attachment/{}",
            partition.region, partition.account, e.attachment_id
        )),
        groups: Some(
            groups
                .into_iter()
                .map(|(id, name)| ec2::GroupIdentifier {
                    group_id: Some(id),
                    group_name: Some(name),
                })
                .collect(),
        ),
        interface_type: Some(ec2::NetworkInterfaceType::Interface),
        mac_address: Some(e.mac.clone()),
        owner_id: Some(partition.account.clone()),
        private_dns_name: Some(e.private_dns_name.clone()),
        private_ip_address: Some(address.clone()),
        private_ip_addresses: Some(vec![ec2::NetworkInterfacePrivateIpAddress {
            primary: Some(true),
            private_dns_name: Some(e.private_dns_name.clone()),
            private_ip_address: Some(address),
            association: None,
        }]),
        requester_id: Some(partition.account.clone()),
        requester_managed: Some(true),
        source_dest_check: Some(true),
        status: Some(ec2::NetworkInterfaceStatus::InUse),
        attachment: Some(ec2::NetworkInterfaceAttachment {
            attachment_id: Some(format!("eni-attach-{}", &e.id[4..])),
            delete_on_termination: Some(false),
            device_index: Some(1),
            network_card_index: Some(0),
            status: Some(ec2::AttachmentStatus::Attached),
            ..ec2::NetworkInterfaceAttachment::default()
        }),
        tag_set: tag_set(&e.tags),
        ipv6_addresses: Some(vec![]),
        ..ec2::NetworkInterface::default()
    }
}
