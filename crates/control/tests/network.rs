//! EC2 networking through the control plane: the defaults of a new account, VPCs, subnets,
//! security groups and their rules, tags and filters, and the refusals EC2 answers with.

use berth_control::ControlPlane;
use berth_control::error::ControlError;
use berth_control::network::cidr::Cidr;
use berth_control::network::error::NetworkError;
use berth_control::network::filters::Filter;
use berth_control::network::records::Tags;
use berth_control::network::rules::{Peer, RuleSpec};
use berth_control::network::security_groups::{Direction, GroupRef};
use berth_store::{MemStore, Store};
use berth_types::arn::Partition;
use std::sync::Arc;

fn open(store: Arc<dyn Store>) -> ControlPlane {
    let partition = Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let clock = berth_test_kit::control::plane().1;
    let cp = ControlPlane::open(partition, store, clock).expect("opens");
    cp.network_defaults().expect("defaults");
    cp
}

fn plane() -> ControlPlane {
    open(Arc::new(MemStore::default()))
}

fn host_in(cp: &ControlPlane, zone: &str) {
    berth_test_kit::control::instance_in_zone(cp, "default", zone);
}

fn network_error<T: std::fmt::Debug>(r: Result<T, ControlError>) -> NetworkError {
    match r {
        Err(ControlError::Network(e)) => e,
        other => panic!("expected a network error, got {other:?}"),
    }
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter {
        name: name.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn tcp(port: i32, cidr: Option<&str>, group: Option<&str>) -> RuleSpec {
    RuleSpec {
        protocol: "tcp".into(),
        from_port: Some(port),
        to_port: Some(port),
        cidr: cidr.map(str::to_string),
        group_id: group.map(str::to_string),
        ..RuleSpec::default()
    }
}

fn by_id(id: &str) -> GroupRef {
    GroupRef {
        id: Some(id.into()),
        name: None,
    }
}

#[test]
fn a_new_account_has_a_default_vpc_and_a_default_subnet_per_zone() {
    let cp = plane();
    let vpcs = cp.describe_vpcs(&[], &[]).unwrap();
    assert_eq!(vpcs.len(), 1);
    let vpc = &vpcs[0];
    assert!(vpc.is_default);
    assert_eq!(vpc.cidr.to_string(), "172.31.0.0/16");
    let groups = cp.describe_security_groups(&[], &[], &[]).unwrap();
    assert_eq!(groups.len(), 1);
    let default = &groups[0];
    assert_eq!(
        (default.name.as_str(), &default.id),
        ("default", &vpc.default_group)
    );
    assert_eq!(default.ingress[0].peer, Peer::Group(default.id.clone()));
    assert_eq!(default.ingress[0].protocol, "-1");
    assert_eq!(
        default.egress[0].peer.clone(),
        Peer::Cidr(Cidr::parse("0.0.0.0/0", false).unwrap())
    );
    assert!(
        cp.describe_subnets(&[], &[]).unwrap().is_empty(),
        "no zone yet"
    );

    host_in(&cp, "us-east-1a");
    host_in(&cp, "us-east-1a");
    host_in(&cp, "us-east-1b");
    let subnets = cp.describe_subnets(&[], &[]).unwrap();
    let mut blocks: Vec<(String, String)> = subnets
        .iter()
        .map(|s| (s.availability_zone.clone(), s.cidr.to_string()))
        .collect();
    blocks.sort();
    assert_eq!(
        blocks,
        [
            ("us-east-1a".to_string(), "172.31.0.0/20".to_string()),
            ("us-east-1b".to_string(), "172.31.16.0/20".to_string())
        ]
    );
    assert!(
        subnets
            .iter()
            .all(|s| s.default_for_az && s.available_addresses() == 4091)
    );
    let zones = cp.availability_zones(&[]).unwrap();
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["us-east-1a", "us-east-1b"]);
    assert_eq!(zones[1].id, "us-east-1-az2");
    let b = cp
        .availability_zones(&[filter("zone-id", &["*az2"])])
        .unwrap();
    assert_eq!(b, [zones[1].clone()]);
}

#[test]
fn the_defaults_are_made_once_and_everything_survives_a_restart() {
    let store: Arc<dyn Store> = Arc::new(MemStore::default());
    let cp = open(store.clone());
    let vpc = cp.describe_vpcs(&[], &[]).unwrap().remove(0);
    let mine = cp
        .create_vpc("10.1.0.0/16", Tags::from([("Name".into(), "mine".into())]))
        .unwrap();
    cp.delete_vpc(&vpc.id).unwrap();
    drop(cp);
    let again = open(store);
    let vpcs = again.describe_vpcs(&[], &[]).unwrap();
    assert_eq!(vpcs.len(), 1, "a deleted default VPC does not come back");
    assert_eq!(vpcs[0], mine);
}

#[test]
fn vpc_blocks_are_checked_and_may_not_overlap() {
    let cp = plane();
    let range = |cidr| {
        matches!(
            network_error(cp.create_vpc(cidr, Tags::new())),
            NetworkError::VpcRange(_)
        )
    };
    assert!(range("10.0.0.0/8"), "wider than a /16");
    assert!(range("10.0.0.0/29"), "narrower than a /28");
    assert!(range("10.0.0.1/16"), "not a network address");
    assert!(range("nonsense"));
    assert!(range("172.31.128.0/20"), "overlaps the default VPC");
    let vpc = cp.create_vpc("10.0.0.0/16", Tags::new()).unwrap();
    assert_ne!(
        vpc.vni,
        cp.describe_vpcs(&[], &[filter("is-default", &["true"])])
            .unwrap()[0]
            .vni
    );
    assert_eq!(
        network_error(cp.describe_vpcs(&["vpc-0123456789abcdef0".into()], &[])),
        NetworkError::VpcNotFound("vpc-0123456789abcdef0".into())
    );
    assert!(matches!(
        network_error(cp.describe_vpcs(&["subnet-12345678".into()], &[])),
        NetworkError::Malformed { .. }
    ));
    assert_eq!(
        network_error(cp.describe_vpcs(&[], &[filter("colour", &["x"])])),
        NetworkError::InvalidFilter("colour".into())
    );
    let found = cp
        .describe_vpcs(&[], &[filter("cidr", &["10.0.*"])])
        .unwrap();
    assert_eq!(found, [vpc]);
}

#[test]
fn subnets_lie_inside_their_vpc_without_overlapping_in_a_known_zone() {
    let cp = plane();
    host_in(&cp, "local-a");
    let vpc = cp.create_vpc("10.0.0.0/16", Tags::new()).unwrap();
    let subnet = cp
        .create_subnet(&vpc.id, "10.0.1.0/24", None, Tags::new())
        .unwrap();
    assert_eq!(subnet.availability_zone, "local-a");
    assert!(!subnet.default_for_az);
    assert_eq!(subnet.available_addresses(), 251);
    assert!(matches!(
        network_error(cp.create_subnet(&vpc.id, "10.0.1.128/25", None, Tags::new())),
        NetworkError::SubnetConflict { .. }
    ));
    assert!(matches!(
        network_error(cp.create_subnet(&vpc.id, "10.1.0.0/24", None, Tags::new())),
        NetworkError::SubnetRange(_)
    ));
    let unknown =
        network_error(cp.create_subnet(&vpc.id, "10.0.2.0/24", Some("mars-1a"), Tags::new()));
    assert!(unknown.to_string().contains("local-a"), "{unknown}");
    assert_eq!(
        network_error(cp.delete_vpc(&vpc.id)),
        NetworkError::DependencyViolation(format!(
            "The vpc '{}' has dependencies and cannot be deleted.",
            vpc.id
        ))
    );
    let by_vpc = cp
        .describe_subnets(&[], &[filter("vpc-id", &[&vpc.id])])
        .unwrap();
    assert_eq!(by_vpc, std::slice::from_ref(&subnet));
    cp.delete_subnet(&subnet.id).unwrap();
    cp.delete_vpc(&vpc.id).unwrap();
    assert!(matches!(
        network_error(cp.delete_subnet(&subnet.id)),
        NetworkError::SubnetNotFound(_)
    ));
}

#[test]
fn security_groups_rules_are_unique_and_revoked_one_by_one() {
    let cp = plane();
    let web = cp
        .create_security_group(None, "web", "web tier", Tags::new())
        .unwrap();
    assert_eq!(web.egress.len(), 1, "a new group may reach anywhere");
    assert!(web.ingress.is_empty());
    assert!(matches!(
        network_error(cp.create_security_group(None, "web", "again", Tags::new())),
        NetworkError::GroupDuplicate { .. }
    ));
    assert!(matches!(
        network_error(cp.create_security_group(None, "sg-x", "d", Tags::new())),
        NetworkError::InvalidParameterValue(_)
    ));
    let app = cp
        .create_security_group(None, "app", "app tier", Tags::new())
        .unwrap();
    let (after, added) = cp
        .authorize(
            &by_id(&app.id),
            Direction::Ingress,
            vec![
                tcp(8080, None, Some(&web.id)),
                tcp(8080, Some("10.0.0.0/16"), None),
            ],
        )
        .unwrap();
    assert_eq!((after.ingress.len(), added.len()), (2, 2));
    let duplicate = network_error(cp.authorize(
        &by_id(&app.id),
        Direction::Ingress,
        vec![tcp(8080, Some("10.0.0.0/16"), None)],
    ));
    assert_eq!(
        duplicate.to_string(),
        "the specified rule \"peer: 10.0.0.0/16, TCP, from port: 8080, to port: 8080, ALLOW\" already exists"
    );
    let found = cp
        .describe_security_groups(&[], &[], &[filter("ip-permission.group-id", &[&web.id])])
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, app.id);
    assert!(matches!(
        network_error(cp.delete_security_group(&by_id(&web.id))),
        NetworkError::DependencyViolation(_)
    ));
    cp.revoke(
        &by_id(&app.id),
        Direction::Ingress,
        vec![tcp(8080, None, Some(&web.id))],
    )
    .unwrap();
    assert!(matches!(
        network_error(cp.revoke(
            &by_id(&app.id),
            Direction::Ingress,
            vec![tcp(8080, None, Some(&web.id))]
        )),
        NetworkError::PermissionNotFound(_)
    ));
    cp.delete_security_group(&by_id(&web.id)).unwrap();
    let default = cp.describe_vpcs(&[], &[]).unwrap()[0].default_group.clone();
    assert_eq!(
        network_error(cp.delete_security_group(&by_id(&default))),
        NetworkError::CannotDelete(default)
    );
    let by_name = GroupRef {
        id: None,
        name: Some("app".into()),
    };
    cp.delete_security_group(&by_name).unwrap();
}

#[test]
fn tags_go_on_every_kind_of_resource_and_filter_describes() {
    let cp = plane();
    let vpc = cp.create_vpc("10.9.0.0/16", Tags::new()).unwrap();
    let group = cp
        .create_security_group(Some(&vpc.id), "db", "db", Tags::new())
        .unwrap();
    let tags = Tags::from([("team".into(), "blue".into()), ("Name".into(), "x".into())]);
    cp.create_tags(&[vpc.id.clone(), group.id.clone()], &tags)
        .unwrap();
    let blue = cp.describe_tags(&[filter("key", &["team"])]).unwrap();
    assert_eq!(blue.len(), 2);
    let described = cp
        .describe_vpcs(&[], &[filter("tag:team", &["bl*"])])
        .unwrap();
    assert_eq!(described.len(), 1);
    cp.delete_tags(
        std::slice::from_ref(&vpc.id),
        &[("team".into(), Some("red".into()))],
    )
    .unwrap();
    assert_eq!(
        cp.describe_tags(&[filter("resource-id", &[&vpc.id])])
            .unwrap()
            .len(),
        2,
        "a value that differs keeps the tag"
    );
    cp.delete_tags(std::slice::from_ref(&vpc.id), &[("team".into(), None)])
        .unwrap();
    assert_eq!(
        cp.describe_tags(&[filter("resource-id", &[&vpc.id])])
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        network_error(cp.create_tags(&["i-123".into()], &tags)),
        NetworkError::InvalidId(_)
    ));
    let reserved = Tags::from([("aws:x".into(), "y".into())]);
    assert!(matches!(
        network_error(cp.create_tags(std::slice::from_ref(&vpc.id), &reserved)),
        NetworkError::InvalidParameterValue(_)
    ));
}
