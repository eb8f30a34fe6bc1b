//! The EC2 operations Berth answers: VPCs, subnets, security groups and their rules, network
//! interfaces, availability zones and tags, over the control plane's network records
//! (`berth_control::network`). Requests arrive decoded in EC2's dialect of the Query protocol
//! and are answered with [`encode_ec2`]; what Berth cannot honour of a request (IPv6, dedicated
//! tenancy, prefix lists, peering) is refused, naming it.

use super::ec2_shapes::{self as shapes, filters, invalid, specs, tag_map, tags_for};
use super::xml::encode_ec2;
use crate::auth::Principal;
use crate::control_errors::refused;
use berth_control::ControlPlane;
use berth_control::network::security_groups::{Direction, GroupRef};
use berth_types::ec2::*;
use berth_types::paginate::{Size, page};
use berth_types::{ApiError, ErrorCode};

/// EC2's Describe calls: up to 1,000 items a page, as many unless asked.
const PAGE: Size = Size {
    default: 1000,
    most: 1000,
};

/// One page of a Describe call's items, refused as EC2 refuses a bad token.
fn paged<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<String>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    page(items, max_results, next_token.as_deref(), PAGE).map_err(|e| invalid(e.to_string()))
}

/// Whether the request only asks whether it would be allowed.
fn dry_run(request: &Request) -> bool {
    let flag = match request {
        Request::AuthorizeSecurityGroupEgress(r) => r.dry_run,
        Request::AuthorizeSecurityGroupIngress(r) => r.dry_run,
        Request::CreateSecurityGroup(r) => r.dry_run,
        Request::CreateSubnet(r) => r.dry_run,
        Request::CreateTags(r) => r.dry_run,
        Request::CreateVpc(r) => r.dry_run,
        Request::DeleteSecurityGroup(r) => r.dry_run,
        Request::DeleteSubnet(r) => r.dry_run,
        Request::DeleteTags(r) => r.dry_run,
        Request::DeleteVpc(r) => r.dry_run,
        Request::DescribeAvailabilityZones(r) => r.dry_run,
        Request::DescribeNetworkInterfaces(r) => r.dry_run,
        Request::DescribeSecurityGroups(r) => r.dry_run,
        Request::DescribeSubnets(r) => r.dry_run,
        Request::DescribeTags(r) => r.dry_run,
        Request::DescribeVpcs(r) => r.dry_run,
        Request::RevokeSecurityGroupEgress(r) => r.dry_run,
        Request::RevokeSecurityGroupIngress(r) => r.dry_run,
    };
    flag == Some(true)
}

/// Answers one EC2 request (already authorised): the members of its output, empty for an
/// operation without one.
pub(crate) fn call(
    control: &ControlPlane,
    _principal: &Principal,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    if dry_run(&request) {
        return Err(ApiError::new(
            ErrorCode::DryRunOperation,
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
    let partition = control.partition();
    match request {
        Request::CreateVpc(r) => {
            if r.instance_tenancy.is_some_and(|t| t != Tenancy::Default) {
                return Err(invalid(
                    "InstanceTenancy: Berth's VPCs have default tenancy only; leave it out",
                ));
            }
            if r.vpc_encryption_control.is_some() {
                return Err(invalid(
                    "VpcEncryptionControl is not supported by Berth: leave it out",
                ));
            }
            let cidr = r.cidr_block.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingParameter,
                    "The request must contain the parameter CidrBlock (Berth's VPCs are IPv4)",
                )
            })?;
            let tags = tags_for(r.tag_specifications, ResourceType::Vpc)?;
            let vpc = control.create_vpc(&cidr, tags).map_err(refused)?;
            encode_ec2(&CreateVpcResult {
                vpc: Some(shapes::vpc(&vpc, partition)),
            })
        }
        Request::DeleteVpc(r) => {
            control.delete_vpc(&r.vpc_id).map_err(refused)?;
            Ok(vec![])
        }
        Request::DescribeVpcs(r) => {
            let vpcs = control
                .describe_vpcs(&r.vpc_ids.unwrap_or_default(), &filters(r.filters)?)
                .map_err(refused)?;
            let (vpcs, next_token) = paged(vpcs, r.max_results, r.next_token)?;
            encode_ec2(&DescribeVpcsResult {
                vpcs: Some(vpcs.iter().map(|v| shapes::vpc(v, partition)).collect()),
                next_token,
            })
        }
        Request::CreateSubnet(r) => {
            if r.outpost_arn.is_some() {
                return Err(invalid("OutpostArn: Berth has no Outposts; leave it out"));
            }
            let cidr = r.cidr_block.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingParameter,
                    "The request must contain the parameter CidrBlock (Berth's subnets are IPv4)",
                )
            })?;
            let zone = match (r.availability_zone, r.availability_zone_id) {
                (Some(name), _) => Some(name),
                (None, Some(id)) => Some(zone_named(control, &id)?),
                (None, None) => None,
            };
            let tags = tags_for(r.tag_specifications, ResourceType::Subnet)?;
            let subnet = control
                .create_subnet(&r.vpc_id, &cidr, zone.as_deref(), tags)
                .map_err(refused)?;
            encode_ec2(&CreateSubnetResult {
                subnet: Some(shapes::subnet(&subnet, partition)),
            })
        }
        Request::DeleteSubnet(r) => {
            control.delete_subnet(&r.subnet_id).map_err(refused)?;
            Ok(vec![])
        }
        Request::DescribeSubnets(r) => {
            let subnets = control
                .describe_subnets(&r.subnet_ids.unwrap_or_default(), &filters(r.filters)?)
                .map_err(refused)?;
            let (subnets, next_token) = paged(subnets, r.max_results, r.next_token)?;
            encode_ec2(&DescribeSubnetsResult {
                subnets: Some(
                    subnets
                        .iter()
                        .map(|s| shapes::subnet(s, partition))
                        .collect(),
                ),
                next_token,
            })
        }
        Request::CreateSecurityGroup(r) => {
            let tags = tags_for(r.tag_specifications, ResourceType::SecurityGroup)?;
            let group = control
                .create_security_group(r.vpc_id.as_deref(), &r.group_name, &r.description, tags)
                .map_err(refused)?;
            encode_ec2(&CreateSecurityGroupResult {
                group_id: Some(group.id.clone()),
                security_group_arn: Some(shapes::group_arn(&group.id, partition)),
                tags: shapes::group(&group, partition).tags,
            })
        }
        Request::DeleteSecurityGroup(r) => {
            let group = GroupRef {
                id: r.group_id,
                name: r.group_name,
            };
            let id = control.delete_security_group(&group).map_err(refused)?;
            encode_ec2(&DeleteSecurityGroupResult {
                r#return: Some(true),
                group_id: Some(id),
            })
        }
        Request::DescribeSecurityGroups(r) => {
            let groups = control
                .describe_security_groups(
                    &r.group_ids.unwrap_or_default(),
                    &r.group_names.unwrap_or_default(),
                    &filters(r.filters)?,
                )
                .map_err(refused)?;
            let (groups, next_token) = paged(groups, r.max_results, r.next_token)?;
            encode_ec2(&DescribeSecurityGroupsResult {
                security_groups: Some(groups.iter().map(|g| shapes::group(g, partition)).collect()),
                next_token,
            })
        }
        Request::AuthorizeSecurityGroupIngress(r) => {
            no_tags_on_rules(&r.tag_specifications)?;
            no_source_by_name(&r.source_security_group_name)?;
            let group = GroupRef {
                id: r.group_id,
                name: r.group_name,
            };
            let legacy = legacy(r.ip_protocol, r.from_port, r.to_port);
            authorize(
                control,
                &group,
                Direction::Ingress,
                specs(r.ip_permissions, legacy, r.cidr_ip)?,
            )
        }
        Request::AuthorizeSecurityGroupEgress(r) => {
            no_tags_on_rules(&r.tag_specifications)?;
            no_source_by_name(&r.source_security_group_name)?;
            let group = GroupRef {
                id: Some(r.group_id),
                name: None,
            };
            let legacy = legacy(r.ip_protocol, r.from_port, r.to_port);
            authorize(
                control,
                &group,
                Direction::Egress,
                specs(r.ip_permissions, legacy, r.cidr_ip)?,
            )
        }
        Request::RevokeSecurityGroupIngress(r) => {
            no_rule_ids(&r.security_group_rule_ids)?;
            no_source_by_name(&r.source_security_group_name)?;
            let group = GroupRef {
                id: r.group_id,
                name: r.group_name,
            };
            let legacy = legacy(r.ip_protocol, r.from_port, r.to_port);
            control
                .revoke(
                    &group,
                    Direction::Ingress,
                    specs(r.ip_permissions, legacy, r.cidr_ip)?,
                )
                .map_err(refused)?;
            encode_ec2(&RevokeSecurityGroupIngressResult {
                r#return: Some(true),
                ..RevokeSecurityGroupIngressResult::default()
            })
        }
        Request::RevokeSecurityGroupEgress(r) => {
            no_rule_ids(&r.security_group_rule_ids)?;
            no_source_by_name(&r.source_security_group_name)?;
            let group = GroupRef {
                id: Some(r.group_id),
                name: None,
            };
            let legacy = legacy(r.ip_protocol, r.from_port, r.to_port);
            control
                .revoke(
                    &group,
                    Direction::Egress,
                    specs(r.ip_permissions, legacy, r.cidr_ip)?,
                )
                .map_err(refused)?;
            encode_ec2(&RevokeSecurityGroupEgressResult {
                r#return: Some(true),
                ..RevokeSecurityGroupEgressResult::default()
            })
        }
        Request::DescribeNetworkInterfaces(r) => {
            let enis = control
                .describe_network_interfaces(
                    &r.network_interface_ids.unwrap_or_default(),
                    &filters(r.filters)?,
                )
                .map_err(refused)?;
            let (enis, next_token) = paged(enis, r.max_results, r.next_token)?;
            let subnets = control.describe_subnets(&[], &[]).map_err(refused)?;
            let groups = control
                .describe_security_groups(&[], &[], &[])
                .map_err(refused)?;
            let interfaces = enis
                .iter()
                .map(|e| {
                    let zone = subnets
                        .iter()
                        .find(|s| s.id == e.subnet_id)
                        .map(|s| s.availability_zone.clone());
                    let named = e
                        .groups
                        .iter()
                        .map(|id| {
                            let name = groups.iter().find(|g| &g.id == id).map(|g| g.name.clone());
                            (id.clone(), name.unwrap_or_default())
                        })
                        .collect();
                    shapes::interface(e, zone, named, partition)
                })
                .collect();
            encode_ec2(&DescribeNetworkInterfacesResult {
                network_interfaces: Some(interfaces),
                next_token,
            })
        }
        Request::DescribeAvailabilityZones(r) => {
            let mut zones = control
                .availability_zones(&filters(r.filters)?)
                .map_err(refused)?;
            let names = r.zone_names.unwrap_or_default();
            let ids = r.zone_ids.unwrap_or_default();
            for wanted in names.iter().chain(&ids) {
                if !zones.iter().any(|z| &z.name == wanted || &z.id == wanted) {
                    return Err(invalid(format!(
                        "Invalid availability zone: [{wanted}]. Berth's zones are those its hosts registered in"
                    )));
                }
            }
            if !names.is_empty() || !ids.is_empty() {
                zones.retain(|z| names.contains(&z.name) || ids.contains(&z.id));
            }
            encode_ec2(&DescribeAvailabilityZonesResult {
                availability_zones: Some(
                    zones
                        .into_iter()
                        .map(|z| AvailabilityZone {
                            zone_name: Some(z.name.clone()),
                            zone_id: Some(z.id),
                            region_name: Some(partition.region.clone()),
                            state: Some(AvailabilityZoneState::Available),
                            opt_in_status: Some(AvailabilityZoneOptInStatus::OptInNotRequired),
                            zone_type: Some("availability-zone".into()),
                            group_name: Some(partition.region.clone()),
                            network_border_group: Some(partition.region.clone()),
                            messages: Some(vec![]),
                            ..AvailabilityZone::default()
                        })
                        .collect(),
                ),
            })
        }
        Request::CreateTags(r) => {
            control
                .create_tags(&r.resources, &tag_map(r.tags)?)
                .map_err(refused)?;
            Ok(vec![])
        }
        Request::DeleteTags(r) => {
            let gone: Vec<(String, Option<String>)> = r
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key.unwrap_or_default(), t.value))
                .collect();
            control.delete_tags(&r.resources, &gone).map_err(refused)?;
            Ok(vec![])
        }
        Request::DescribeTags(r) => {
            let tags = control
                .describe_tags(&filters(r.filters)?)
                .map_err(refused)?;
            let (tags, next_token) = paged(tags, r.max_results, r.next_token)?;
            encode_ec2(&DescribeTagsResult {
                tags: Some(
                    tags.into_iter()
                        .map(|t| TagDescription {
                            resource_id: Some(t.resource_id),
                            resource_type: Some(match t.resource_type {
                                "vpc" => ResourceType::Vpc,
                                "subnet" => ResourceType::Subnet,
                                _ => ResourceType::SecurityGroup,
                            }),
                            key: Some(t.key),
                            value: Some(t.value),
                        })
                        .collect(),
                ),
                next_token,
            })
        }
    }
}

/// The zone whose id is `id`.
fn zone_named(control: &ControlPlane, id: &str) -> Result<String, ApiError> {
    let zones = control.availability_zones(&[]).map_err(refused)?;
    zones
        .into_iter()
        .find(|z| z.id == id)
        .map(|z| z.name)
        .ok_or_else(|| invalid(format!("Invalid availability zone id: [{id}]")))
}

/// The top-level IpProtocol/FromPort/ToPort of the older form of the rule calls.
fn legacy(protocol: Option<String>, from: Option<i32>, to: Option<i32>) -> IpPermission {
    IpPermission {
        ip_protocol: protocol,
        from_port: from,
        to_port: to,
        ..IpPermission::default()
    }
}

/// Adds rules and answers them as EC2 does.
fn authorize(
    control: &ControlPlane,
    group: &GroupRef,
    direction: Direction,
    specs: Vec<berth_control::network::rules::RuleSpec>,
) -> Result<Vec<u8>, ApiError> {
    let (group, added) = control
        .authorize(group, direction, specs)
        .map_err(refused)?;
    let partition = control.partition();
    let egress = direction == Direction::Egress;
    let rules = Some(
        added
            .iter()
            .map(|r| shapes::rule(r, &group, egress, partition))
            .collect(),
    );
    if egress {
        encode_ec2(&AuthorizeSecurityGroupEgressResult {
            r#return: Some(true),
            security_group_rules: rules,
        })
    } else {
        encode_ec2(&AuthorizeSecurityGroupIngressResult {
            r#return: Some(true),
            security_group_rules: rules,
        })
    }
}

fn no_tags_on_rules(specs: &Option<Vec<TagSpecification>>) -> Result<(), ApiError> {
    match specs {
        Some(s) if !s.is_empty() => Err(invalid(
            "TagSpecifications on security group rules are not supported by Berth: leave them out",
        )),
        _ => Ok(()),
    }
}

fn no_source_by_name(name: &Option<String>) -> Result<(), ApiError> {
    match name {
        Some(_) => Err(invalid(
            "SourceSecurityGroupName: name the source group in IpPermissions.N.Groups.N.GroupId",
        )),
        None => Ok(()),
    }
}

fn no_rule_ids(ids: &Option<Vec<String>>) -> Result<(), ApiError> {
    match ids {
        Some(ids) if !ids.is_empty() => Err(invalid(
            "SecurityGroupRuleIds are not supported by Berth: revoke by IpPermissions",
        )),
        _ => Ok(()),
    }
}
