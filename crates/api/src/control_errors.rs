//! The wire error for each control-plane refusal or failure: the one table from
//! [`ControlError`] (and its IAM part, [`IdentityError`]) to the codes ECS, IAM and STS
//! answer with. The control plane says what went wrong; only this table says how it is told.

use berth_control::error::{ControlError, IdentityError};
use berth_types::{ApiError, ErrorCode};

/// The wire error for a control-plane error: its code, its message, and for a conflict the
/// resources the client token is already bound to.
pub fn refused(e: ControlError) -> ApiError {
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
        E::TooManyAccessKeys(_) | E::PolicyTooLarge(_) => C::LimitExceeded,
        E::MalformedPolicy(_) => C::MalformedPolicyDocument,
        E::JoinTokenInvalid(_) => C::UnrecognizedClientException,
        E::NoAgentKey(_) => C::ResourceNotFoundException,
    }
}
