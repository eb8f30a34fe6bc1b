//! The wire error for each control-plane refusal or failure: the one table from
//! [`ControlError`] (and its IAM part, [`IdentityError`]) to the codes ECS, IAM and STS
//! answer with. The control plane says what went wrong; only this table says how it is told.

use berth_control::error::{ControlError, IdentityError, ParameterError, SecretError};
use berth_control::network::error::NetworkError;
use berth_types::{ApiError, ErrorCode};

/// The wire error for a control-plane error: its code, its message, and for a conflict the
/// resources the client token is already bound to.
pub(crate) fn refused(e: ControlError) -> ApiError {
    use ControlError as E;
    use ErrorCode as C;
    let code = match &e {
        E::Invalid(_) | E::Page(_) => C::InvalidParameterException,
        E::Client(_) => C::ClientException,
        E::Unsupported(_) => C::UnsupportedFeatureException,
        E::AccessDenied(_) => C::AccessDeniedException,
        E::ClusterNotFound(_) => C::ClusterNotFoundException,
        E::ClusterContainsContainerInstances(_) => C::ClusterContainsContainerInstancesException,
        E::ClusterContainsServices(_) => C::ClusterContainsServicesException,
        E::ClusterContainsTasks { .. } => C::ClusterContainsTasksException,
        E::ServiceNotFound(_) => C::ServiceNotFoundException,
        E::ServiceNotActive(_) => C::ServiceNotActiveException,
        E::ResourceNotFound(_) => C::ResourceNotFoundException,
        E::TargetNotFound { .. } => C::TargetNotFoundException,
        E::AttributeLimitExceeded(_) => C::AttributeLimitExceededException,
        E::Conflict { .. } => C::ConflictException,
        E::Identity(i) => identity_code(i),
        E::Parameter(p) => parameter_code(p),
        E::Secret(s) => secret_code(s),
        E::Network(n) => network_code(n),
        E::Load(_) | E::Commit(_) | E::AuditRead(_) | E::AuditPrune(_) => C::ServerException,
    };
    let message = e.to_string();
    let resource_ids = match e {
        E::Conflict { resource_ids, .. } => Some(resource_ids),
        _ => None,
    };
    ApiError {
        code,
        message,
        resource_ids,
    }
}

/// IAM's code for a refusal of its users, keys and policies (and the agents' credentials).
fn identity_code(e: &IdentityError) -> ErrorCode {
    use ErrorCode as C;
    use IdentityError as E;
    match e {
        E::InvalidName { .. } | E::InvalidStatus(_) => C::ValidationError,
        E::NoSuchUser(_) | E::NoSuchPolicy(_) | E::NoSuchAccessKey { .. } => C::NoSuchEntity,
        E::UserExists(_) => C::EntityAlreadyExists,
        E::UserInUse(_) => C::DeleteConflict,
        E::TooManyAccessKeys { .. } | E::PolicyTooLarge { .. } | E::QuotaExceeded(_) => {
            C::LimitExceeded
        }
        E::MalformedPolicy(_) => C::MalformedPolicyDocument,
        E::JoinTokenInvalid(_) => C::UnrecognizedClientException,
        E::NoAgentKey(_) => C::ResourceNotFoundException,
        E::InvalidValue(_) => C::ValidationError,
        E::NoSuchRole(_)
        | E::NoSuchRolePolicy { .. }
        | E::NoSuchManagedPolicy(_)
        | E::NotAttached { .. } => C::NoSuchEntity,
        E::RoleExists(_) | E::PolicyExists(_) => C::EntityAlreadyExists,
        E::RoleInUse(_) | E::PolicyInUse(_) => C::DeleteConflict,
        E::AssumeDenied(_) => C::AccessDenied,
    }
}

/// SSM's code for a refusal of Parameter Store.
fn parameter_code(e: &ParameterError) -> ErrorCode {
    use ErrorCode as C;
    use ParameterError as E;
    match e {
        E::NotFound(_) => C::ParameterNotFound,
        E::VersionNotFound { .. } => C::ParameterVersionNotFound,
        E::AlreadyExists(_) => C::ParameterAlreadyExists,
        E::Invalid(_) => C::ValidationException,
        E::HierarchyTooDeep(_) => C::HierarchyLevelLimitExceededException,
        E::InvalidResourceId(_) => C::InvalidResourceId,
        E::InvalidResourceType(_) => C::InvalidResourceType,
        E::TooManyTags(_) => C::TooManyTagsError,
        E::InvalidFilterKey(_) => C::InvalidFilterKey,
        E::InvalidFilterOption(_) => C::InvalidFilterOption,
        E::InvalidFilterValue(_) => C::InvalidFilterValue,
    }
}

/// Secrets Manager's code for a refusal of its secrets.
fn secret_code(e: &SecretError) -> ErrorCode {
    use ErrorCode as C;
    use SecretError as E;
    match e {
        E::NotFound | E::VersionNotFound(_) => C::ResourceNotFoundException,
        E::Exists(_) | E::VersionExists => C::ResourceExistsException,
        E::MarkedForDeletion | E::NameScheduledForDeletion | E::InvalidRequest(_) => {
            C::InvalidRequestException
        }
        E::InvalidParameter(_) => C::InvalidParameterException,
    }
}

/// EC2's code for a refusal of its networking calls.
fn network_code(e: &NetworkError) -> ErrorCode {
    use ErrorCode as C;
    use NetworkError as E;
    match e {
        E::VpcNotFound(_) => C::InvalidVpcIdNotFound,
        E::SubnetNotFound(_) => C::InvalidSubnetIdNotFound,
        E::GroupNotFound(_) => C::InvalidGroupNotFound,
        E::NetworkInterfaceNotFound(_) => C::InvalidNetworkInterfaceIdNotFound,
        E::InvalidId(_) => C::InvalidId,
        E::Malformed { prefix: "vpc", .. } => C::InvalidVpcIdMalformed,
        E::Malformed {
            prefix: "subnet", ..
        } => C::InvalidSubnetIdMalformed,
        E::Malformed { prefix: "eni", .. } => C::InvalidParameterValue,
        E::Malformed { .. } => C::InvalidGroupIdMalformed,
        E::GroupDuplicate { .. } => C::InvalidGroupDuplicate,
        E::PermissionDuplicate(_) => C::InvalidPermissionDuplicate,
        E::PermissionNotFound(_) => C::InvalidPermissionNotFound,
        E::DependencyViolation(_) => C::DependencyViolation,
        E::CannotDelete(_) => C::CannotDelete,
        E::VpcRange(_) => C::InvalidVpcRange,
        E::SubnetRange(_) => C::InvalidSubnetRange,
        E::SubnetConflict { .. } => C::InvalidSubnetConflict,
        E::InvalidParameterValue(_) | E::InvalidFilter(_) => C::InvalidParameterValue,
        E::MissingParameter(_) => C::MissingParameter,
        E::VpcLimit(_) => C::VpcLimitExceeded,
        E::GroupLimit(..) => C::SecurityGroupLimitExceeded,
        E::RuleLimit(_) => C::RulesPerSecurityGroupLimitExceeded,
        E::TagLimit(_) => C::TagLimitExceeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_cluster_is_answered_as_before() {
        assert_eq!(
            refused(ControlError::ClusterNotFound("prod".into())),
            ApiError::cluster_not_found("prod")
        );
    }

    #[test]
    fn a_conflict_names_the_resources_its_token_is_bound_to() {
        let e = refused(ControlError::Conflict {
            token: "t1".into(),
            resource_ids: vec!["arn:task/1".into()],
        });
        assert_eq!(e.code, ErrorCode::ConflictException);
        assert!(e.message.starts_with("clientToken t1 was already used"));
        assert_eq!(e.resource_ids, Some(vec!["arn:task/1".to_string()]));
        let other = refused(ControlError::invalid("no"));
        assert_eq!(other.resource_ids, None);
    }

    #[test]
    fn identity_refusals_keep_iam_codes() {
        let e = refused(IdentityError::NoSuchUser("bob".into()).into());
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        assert_eq!(e.message, "The user with name bob cannot be found.");
        let e = refused(
            IdentityError::TooManyAccessKeys {
                user: "bob".into(),
                most: 2,
            }
            .into(),
        );
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(
            e.message,
            "Cannot exceed quota for AccessKeysPerUser: 2; delete one of bob's keys first"
        );
    }
}
