//! Why an EC2 networking call was refused: a variant per EC2 error code, each message as EC2
//! words it where that is known, else one that names the thing and what to do.

/// An EC2 networking refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// `InvalidVpcID.NotFound`.
    #[error("The vpc ID '{0}' does not exist")]
    VpcNotFound(String),
    /// `InvalidSubnetID.NotFound`.
    #[error("The subnet ID '{0}' does not exist")]
    SubnetNotFound(String),
    /// `InvalidGroup.NotFound`.
    #[error("The security group '{0}' does not exist")]
    GroupNotFound(String),
    /// `InvalidNetworkInterfaceID.NotFound`.
    #[error("The networkInterface ID '{0}' does not exist")]
    NetworkInterfaceNotFound(String),
    /// `InvalidID` (a tag call's resource id that is no resource of Berth's).
    #[error("The ID '{0}' is not valid: Berth tags vpc-, subnet- and sg- resources")]
    InvalidId(String),
    /// `InvalidVpcID.Malformed`, `InvalidSubnetID.Malformed`, `InvalidGroupId.Malformed`,
    /// `InvalidNetworkInterfaceID.Malformed`.
    #[error("Invalid id: \"{id}\" (expecting \"{prefix}-...\")")]
    Malformed {
        /// The id as given.
        id: String,
        /// `vpc`, `subnet` or `sg`.
        prefix: &'static str,
    },
    /// `InvalidGroup.Duplicate`.
    #[error("The security group '{name}' already exists for VPC '{vpc}'")]
    GroupDuplicate {
        /// GroupName.
        name: String,
        /// The VPC.
        vpc: String,
    },
    /// `InvalidPermission.Duplicate`.
    #[error("the specified rule \"{0}\" already exists")]
    PermissionDuplicate(String),
    /// `InvalidPermission.NotFound`.
    #[error("The specified rule does not exist in this security group: {0}")]
    PermissionNotFound(String),
    /// `DependencyViolation`.
    #[error("{0}")]
    DependencyViolation(String),
    /// `CannotDelete` (a VPC's default security group).
    #[error("the specified group: \"{0}\" name: \"default\" cannot be deleted by a user")]
    CannotDelete(String),
    /// `InvalidVpc.Range`.
    #[error("{0}")]
    VpcRange(String),
    /// `InvalidSubnet.Range`.
    #[error("{0}")]
    SubnetRange(String),
    /// `InvalidSubnet.Conflict`.
    #[error("The CIDR '{cidr}' conflicts with another subnet ({other})")]
    SubnetConflict {
        /// The CIDR asked for.
        cidr: String,
        /// The subnet it overlaps.
        other: String,
    },
    /// `InvalidParameterValue`.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `MissingParameter`.
    #[error("{0}")]
    MissingParameter(String),
    /// `InvalidFilter` or an unknown filter name (`InvalidParameterValue` in EC2).
    #[error("The filter '{0}' is invalid")]
    InvalidFilter(String),
    /// `VpcLimitExceeded`.
    #[error("The maximum number of VPCs has been reached ({0}): delete one you no longer use")]
    VpcLimit(usize),
    /// `SecurityGroupLimitExceeded`.
    #[error(
        "The maximum number of security groups for VPC '{0}' has been reached ({1}): delete one you no longer use"
    )]
    GroupLimit(String, usize),
    /// `RulesPerSecurityGroupLimitExceeded`.
    #[error("The maximum number of rules per security group has been reached ({0})")]
    RuleLimit(usize),
    /// `TagLimitExceeded`.
    #[error("The maximum number of tags for resource '{0}' has been reached (50)")]
    TagLimit(String),
}
