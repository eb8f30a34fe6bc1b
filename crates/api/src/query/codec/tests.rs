//! The codec's tests: awsQuery forms as IAM's clients send them, and EC2's as botocore does.

use super::*;
use berth_types::Violation;
use berth_types::iam::{
    CreateUserRequest, ListUsersRequest, StatusType, Tag, UpdateAccessKeyRequest,
};

/// A body decoded as awsQuery.
fn query<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    decode(body, Dialect::Query)
}

/// The message of the ValidationError a body gets as a `T`.
fn refusal<T: DeserializeOwned + Validate + fmt::Debug>(body: &str) -> String {
    let e = query::<T>(body.as_bytes()).expect_err("refused");
    assert_eq!(e.code, ErrorCode::ValidationError, "{e:?}");
    e.message
}

#[test]
fn scalars_nested_structures_and_lists() {
    let body = "Action=CreateUser&Version=2010-05-08&UserName=a%2Bb+c&Path=%2Fteam%2F\
        &Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=";
    let input: CreateUserRequest = query(body.as_bytes()).expect("decodes");
    let tag = |k: &str, v: &str| Tag {
        key: k.into(),
        value: v.into(),
    };
    assert_eq!(
        input,
        CreateUserRequest {
            path: Some("/team/".into()),
            user_name: "a+b c".into(),
            permissions_boundary: None,
            tags: Some(vec![tag("k1", ""), tag("k2", "v2")]),
        }
    );
    let empty: CreateUserRequest = query(b"UserName=a&Tags=").expect("decodes");
    assert_eq!(empty.tags, Some(vec![]));
    let listed: ListUsersRequest = query(b"MaxItems=10").expect("decodes");
    assert_eq!(listed.max_items, Some(10));
    let status: UpdateAccessKeyRequest =
        query(b"AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Inactive").expect("decodes");
    assert_eq!(status.status, StatusType::Inactive);
}

#[test]
fn maps_are_entries_of_keys_and_values() {
    #[derive(Debug, serde::Deserialize)]
    struct Shape {
        #[serde(rename = "Attributes")]
        attributes: BTreeMap<String, bool>,
    }
    impl Validate for Shape {
        fn validate(&self, _path: &str) -> Result<(), Violation> {
            Ok(())
        }
    }
    let body = "Attributes.entry.2.key=b&Attributes.entry.2.value=false\
        &Attributes.entry.1.key=a&Attributes.entry.1.value=true";
    let shape: Shape = query(body.as_bytes()).expect("decodes");
    assert_eq!(
        shape.attributes,
        [("a".into(), true), ("b".into(), false)].into()
    );
    assert!(refusal::<Shape>("Attributes.entry.1.key=a").contains("'Attributes.entry.1'"));
    assert!(
        refusal::<Shape>("Attributes.entry.1.key=a&Attributes.entry.1.value=yes")
            .contains("Value 'yes' at 'Attributes.entry.1.value'")
    );
}

#[test]
fn what_does_not_fit_is_refused_naming_the_parameter() {
    assert_eq!(
        refusal::<CreateUserRequest>("Action=CreateUser"),
        "1 validation error detected: Value null at 'UserName' failed to satisfy constraint: Member must not be null"
    );
    assert!(
        refusal::<CreateUserRequest>("UserName=a&Tags.member.1.Key=k")
            .contains("Value null at 'Tags.member.1.Value'")
    );
    assert!(refusal::<UpdateAccessKeyRequest>("AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Gone")
        .contains("Value 'Gone' at 'Status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"));
    assert!(refusal::<ListUsersRequest>("MaxItems=ten").contains("Value 'ten' at 'MaxItems'"));
    assert!(refusal::<ListUsersRequest>("MaxItems=5000").contains("MaxItems"));
    assert!(refusal::<CreateUserRequest>("UserName=").contains("UserName"));
    for index in ["0", "01", "x"] {
        let body = format!("UserName=a&Tags.member.{index}.Key=k&Tags.member.{index}.Value=v");
        assert!(
            refusal::<CreateUserRequest>(&body).contains("numbered from 1"),
            "{index}"
        );
    }
    assert!(refusal::<CreateUserRequest>("UserName=a&Tags.item.1.Key=k").contains("a list"));
    assert!(refusal::<CreateUserRequest>("UserName.First=a").contains("'UserName'"));
    assert!(refusal::<CreateUserRequest>("UserName=a&Tags.member.1=k").contains("structure"));
}

proptest::proptest! {
    /// Any form, however it mixes the awsQuery forms, is decoded or refused with a
    /// ValidationError; never a panic.
    #[test]
    fn any_form_is_decoded_or_refused(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "UserName", "Tags", "Path", ".member", ".entry", ".1", ".2", ".0", ".Key",
                ".Value", ".key", ".value", "=", "&", "a", "%2F", "%FF", "+", ".",
            ]),
            0..40,
        )
    ) {
        if let Err(e) = query::<CreateUserRequest>(parts.concat().as_bytes()) {
            proptest::prop_assert_eq!(e.code, ErrorCode::ValidationError);
        }
    }
}

#[test]
fn times_are_iso_8601() {
    assert_eq!(from_iso8601("2015-08-30T12:36:00Z"), Some(1_440_938_160.0));
    assert_eq!(
        from_iso8601("2015-08-30T12:36:00.250Z"),
        Some(1_440_938_160.0)
    );
    assert_eq!(from_iso8601("yesterday"), None);
}

/// A body decoded as EC2's.
fn ec2<T: DeserializeOwned + Validate>(body: &str) -> Result<T, ApiError> {
    decode(body.as_bytes(), Dialect::Ec2)
}

/// The refusal a body gets as EC2's `T`: its code and message.
fn ec2_refusal<T: DeserializeOwned + Validate + fmt::Debug>(body: &str) -> (ErrorCode, String) {
    let e = ec2::<T>(body).expect_err("refused");
    (e.code, e.message)
}

/// The bodies botocore 1.43.11 sends (docs/design/awsvpc.md, section 6): lists flattened as
/// `Name.N`, members named by their capitalised locationName.
#[test]
fn ec2_forms_as_botocore_sends_them() {
    use berth_types::ec2::{
        AuthorizeSecurityGroupIngressRequest, CreateSecurityGroupRequest, CreateTagsRequest,
        DescribeSubnetsRequest, DescribeVpcsRequest, Filter, IpPermission, IpRange, ResourceType,
        Tag, TagSpecification, UserIdGroupPair,
    };
    let text = |s: &str| Some(s.to_string());
    let subnets: DescribeSubnetsRequest = ec2("Action=DescribeSubnets&Version=2016-11-15\
        &Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2&SubnetId.1=subnet-a")
    .expect("decodes");
    assert_eq!(
        subnets.filters,
        Some(vec![Filter {
            name: text("vpc-id"),
            values: Some(vec!["vpc-1".into(), "vpc-2".into()]),
        }])
    );
    assert_eq!(subnets.subnet_ids, Some(vec!["subnet-a".into()]));
    let ingress: AuthorizeSecurityGroupIngressRequest = ec2(
        "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1\
        &IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=8080&IpPermissions.1.ToPort=8080\
        &IpPermissions.1.Groups.1.GroupId=sg-2&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F16\
        &IpPermissions.1.IpRanges.1.Description=d",
    )
    .expect("decodes");
    assert_eq!(ingress.group_id, text("sg-1"));
    assert_eq!(
        ingress.ip_permissions,
        Some(vec![IpPermission {
            ip_protocol: text("tcp"),
            from_port: Some(8080),
            to_port: Some(8080),
            user_id_group_pairs: Some(vec![UserIdGroupPair {
                group_id: text("sg-2"),
                ..UserIdGroupPair::default()
            }]),
            ip_ranges: Some(vec![IpRange {
                cidr_ip: text("10.0.0.0/16"),
                description: text("d"),
            }]),
            ..IpPermission::default()
        }])
    );
    let group: CreateSecurityGroupRequest = ec2(
        "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=web&GroupDescription=web+tier\
        &VpcId=vpc-1&TagSpecification.1.ResourceType=security-group\
        &TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v",
    )
    .expect("decodes");
    let tag = |k: &str, v: &str| Tag {
        key: text(k),
        value: text(v),
    };
    assert_eq!(
        group,
        CreateSecurityGroupRequest {
            description: "web tier".into(),
            group_name: "web".into(),
            vpc_id: text("vpc-1"),
            tag_specifications: Some(vec![TagSpecification {
                resource_type: Some(ResourceType::SecurityGroup),
                tags: Some(vec![tag("k", "v")]),
            }]),
            dry_run: None,
        }
    );
    let tags: CreateTagsRequest =
        ec2("Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-1&Tag.1.Key=Name&Tag.1.Value=x")
            .expect("decodes");
    assert_eq!(tags.resources, vec!["vpc-1".to_string()]);
    assert_eq!(tags.tags, vec![tag("Name", "x")]);
    // An empty list is not sent at all.
    let vpcs: DescribeVpcsRequest =
        ec2("Action=DescribeVpcs&Version=2016-11-15&DryRun=false").expect("decodes");
    assert_eq!(
        vpcs,
        DescribeVpcsRequest {
            dry_run: Some(false),
            ..DescribeVpcsRequest::default()
        }
    );
}

#[test]
fn ec2_refusals_name_the_parameter_as_sent() {
    use berth_types::ec2::{CreateSecurityGroupRequest, DescribeSubnetsRequest};
    assert_eq!(
        ec2_refusal::<CreateSecurityGroupRequest>("GroupName=web"),
        (
            ErrorCode::MissingParameter,
            "The request must contain the parameter GroupDescription".into()
        )
    );
    let (code, message) = ec2_refusal::<DescribeSubnetsRequest>("Filter.1.Name.x=vpc-id");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(message.contains("Filter.1.Name is invalid"), "{message}");
    let (code, message) = ec2_refusal::<DescribeSubnetsRequest>("MaxResults=ten");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(
        message.contains("Value (ten) for parameter MaxResults"),
        "{message}"
    );
    let (code, message) = ec2_refusal::<DescribeSubnetsRequest>("MaxResults=2000");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(
        message.contains("parameter MaxResults is invalid"),
        "{message}"
    );
    // awsQuery's list form is not EC2's.
    let (code, message) = ec2_refusal::<DescribeSubnetsRequest>("SubnetId.member.1=subnet-a");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(message.contains("SubnetId.member"), "{message}");
    let wide: Vec<String> = (0..=super::super::params::MAX_PARAMS)
        .map(|i| format!("SubnetId.{}=s", i + 1))
        .collect();
    let (code, _) = ec2_refusal::<DescribeSubnetsRequest>(&wide.join("&"));
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    let (code, message) =
        ec2_refusal::<DescribeSubnetsRequest>("Filter.1.Name=a&Filter.1.Value.x=b");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(message.contains("Filter.1.Value.x"), "{message}");
}
