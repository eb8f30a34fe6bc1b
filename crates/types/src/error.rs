//! Wire error codes and the one table that maps them to HTTP status codes.

use serde::Serialize;

/// Every error code Berth answers with. The names are the model's exception shapes (or the
/// common AWS errors the models leave out), exactly as they appear in `__type`; EC2's codes
/// have dots (`InvalidVpcID.NotFound`), so [`ErrorCode::as_str`] is their name on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Access denied by policy.
    AccessDeniedException,
    /// A generic client-side problem.
    ClientException,
    /// DeleteCluster on a cluster that still has container instances.
    ClusterContainsContainerInstancesException,
    /// DeleteCluster on a cluster that still has services.
    ClusterContainsServicesException,
    /// DeleteCluster on a cluster that still has tasks.
    ClusterContainsTasksException,
    /// The named cluster does not exist.
    ClusterNotFoundException,
    /// RunTask reused a client token with other parameters.
    ConflictException,
    /// A parameter is malformed or out of range.
    InvalidParameterException,
    /// A limit such as the revisions per family was reached.
    LimitExceededException,
    /// The named resource does not exist.
    ResourceNotFoundException,
    /// The named resource is in use.
    ResourceInUseException,
    /// The target of an attribute does not exist.
    TargetNotFoundException,
    /// Too many attributes on a resource.
    AttributeLimitExceededException,
    /// The operation exists in the model but Berth does not implement it.
    UnsupportedFeatureException,
    /// The body is not valid JSON or does not fit the operation's input shape.
    SerializationException,
    /// The `X-Amz-Target` names no operation of the service.
    UnknownOperationException,
    /// The request carries no signature.
    MissingAuthenticationTokenException,
    /// The `Authorization` header is malformed.
    IncompleteSignatureException,
    /// Something failed on Berth's side.
    ServerException,
    /// The access key was not issued by this server.
    UnrecognizedClientException,
    /// Too many requests from one key; the SDKs retry it.
    ThrottlingException,
    /// IAM: the user, key or policy does not exist.
    NoSuchEntity,
    /// IAM: a user of that name exists.
    EntityAlreadyExists,
    /// IAM: the user still has keys or policies.
    DeleteConflict,
    /// IAM: too many of something (two access keys per user).
    LimitExceeded,
    /// IAM and STS: a parameter is not valid.
    ValidationError,
    /// IAM: the policy document is not valid policy JSON.
    MalformedPolicyDocument,
    /// IAM and STS: denied by policy.
    AccessDenied,
    /// The signature does not match, or it expired.
    InvalidSignatureException,
    /// The service does not exist.
    ServiceNotFoundException,
    /// The service is being deleted or was.
    ServiceNotActiveException,
    /// ECR: the repository does not exist.
    RepositoryNotFoundException,
    /// ECR: a repository of that name exists.
    RepositoryAlreadyExistsException,
    /// ECR: the repository still holds images.
    RepositoryNotEmptyException,
    /// ECR: the image does not exist.
    ImageNotFoundException,
    /// ECR: the tag is taken in an immutable repository.
    ImageTagAlreadyExistsException,
    /// ECR: a layer is not in the registry.
    LayersNotFoundException,
    /// ECR: an uploaded layer does not match its digest.
    InvalidLayerException,
    /// ECR: the layer upload does not exist.
    UploadNotFoundException,
    /// ECR: a layer part does not continue the upload.
    InvalidLayerPartException,
    /// ECR: the manifest's digest is not the one given.
    ImageDigestDoesNotMatchException,
    /// ECR: the repository has no policy.
    RepositoryPolicyNotFoundException,
    /// ECR: the repository has no lifecycle policy.
    LifecyclePolicyNotFoundException,
    /// ECR: the layer is already stored.
    LayerAlreadyExistsException,
    /// ECR: the upload holds no data.
    EmptyUploadException,
    /// ECR: the image (digest and tag) is already stored.
    ImageAlreadyExistsException,
    /// ECR: the repository has no lifecycle policy preview.
    LifecyclePolicyPreviewNotFoundException,
    /// ECR: a tag key or value breaks the tag rules.
    InvalidTagParameterException,
    /// ECR: a repository would carry more than 50 tags.
    TooManyTagsException,
    /// The client did not send its request in time (408; the SDKs retry it).
    RequestTimeoutException,
    /// CloudWatch Logs: the log group or stream already exists.
    ResourceAlreadyExistsException,
    /// CloudWatch Logs: the service cannot answer now (the SDKs retry it).
    ServiceUnavailableException,
    /// SSM: the parameter does not exist.
    ParameterNotFound,
    /// SSM: the parameter has no such version.
    ParameterVersionNotFound,
    /// SSM: PutParameter without Overwrite on an existing parameter.
    ParameterAlreadyExists,
    /// SSM: a name of more than 15 levels.
    HierarchyLevelLimitExceededException,
    /// SSM: the resource of a tag call does not exist.
    InvalidResourceId,
    /// SSM: a tag call on a resource type Berth does not tag.
    InvalidResourceType,
    /// SSM: a parameter would carry more than 50 tags.
    TooManyTagsError,
    /// SSM: a filter key not answered.
    InvalidFilterKey,
    /// SSM: a filter option the key does not take.
    InvalidFilterOption,
    /// SSM: a filter value not acceptable.
    InvalidFilterValue,
    /// SSM: a NextToken Berth did not hand out.
    InvalidNextToken,
    /// SSM: a name, value or option not acceptable.
    ValidationException,
    /// SSM: something failed on Berth's side.
    InternalServerError,
    /// Secrets Manager: a secret of that name, or a version of that id, exists.
    ResourceExistsException,
    /// Secrets Manager: not valid in the secret's state (scheduled for deletion).
    InvalidRequestException,
    /// Secrets Manager: a NextToken Berth did not hand out.
    InvalidNextTokenException,
    /// Secrets Manager: something failed on Berth's side.
    InternalServiceError,
    /// IAM and STS: the access key or session token is not valid.
    InvalidClientTokenId,
    /// IAM and STS: the session token expired.
    ExpiredToken,
    /// The JSON APIs: the session token expired.
    ExpiredTokenException,
    /// EC2: the VPC does not exist.
    InvalidVpcIdNotFound,
    /// EC2: a VPC id that is not of the form `vpc-…`.
    InvalidVpcIdMalformed,
    /// EC2: the subnet does not exist.
    InvalidSubnetIdNotFound,
    /// EC2: a subnet id that is not of the form `subnet-…`.
    InvalidSubnetIdMalformed,
    /// EC2: the security group does not exist.
    InvalidGroupNotFound,
    /// EC2: a security group id that is not of the form `sg-…`.
    InvalidGroupIdMalformed,
    /// EC2: a security group of that name exists in the VPC.
    InvalidGroupDuplicate,
    /// EC2: the security group already has the rule.
    InvalidPermissionDuplicate,
    /// EC2: the security group has no such rule.
    InvalidPermissionNotFound,
    /// EC2: a rule that is not well formed (protocol, ports, CIDR).
    InvalidPermissionMalformed,
    /// EC2: the network interface does not exist.
    InvalidNetworkInterfaceIdNotFound,
    /// EC2: the resource is still used (a VPC with subnets, a group referenced).
    DependencyViolation,
    /// EC2: the resource may not be deleted (a VPC's default security group).
    CannotDelete,
    /// EC2: a parameter's value is not valid.
    InvalidParameterValue,
    /// EC2: parameters that may not be given together.
    InvalidParameterCombination,
    /// EC2: a required parameter is missing.
    MissingParameter,
    /// EC2: a VPC's CIDR block is not a valid size.
    InvalidVpcRange,
    /// EC2: a subnet's CIDR block is not within its VPC's, or not a valid size.
    InvalidSubnetRange,
    /// EC2: a subnet's CIDR block overlaps another subnet's.
    InvalidSubnetConflict,
    /// EC2: a resource id of no known kind (CreateTags, DeleteTags).
    InvalidId,
    /// EC2: a filter name the operation does not take.
    InvalidFilter,
    /// EC2: denied by policy (403).
    UnauthorizedOperation,
    /// EC2: the request's signature or key is not valid (401).
    AuthFailure,
    /// EC2: the request would have succeeded, but DryRun is set (412).
    DryRunOperation,
    /// EC2: too many VPCs.
    VpcLimitExceeded,
    /// EC2: too many rules in a security group.
    RulesPerSecurityGroupLimitExceeded,
    /// EC2: too many security groups.
    SecurityGroupLimitExceeded,
    /// EC2: a resource would carry more than 50 tags.
    TagLimitExceeded,
}

impl ErrorCode {
    /// The `__type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDeniedException => "AccessDeniedException",
            Self::ClientException => "ClientException",
            Self::ClusterContainsContainerInstancesException => {
                "ClusterContainsContainerInstancesException"
            }
            Self::ClusterContainsServicesException => "ClusterContainsServicesException",
            Self::ClusterContainsTasksException => "ClusterContainsTasksException",
            Self::ClusterNotFoundException => "ClusterNotFoundException",
            Self::ConflictException => "ConflictException",
            Self::InvalidParameterException => "InvalidParameterException",
            Self::LimitExceededException => "LimitExceededException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ResourceInUseException => "ResourceInUseException",
            Self::TargetNotFoundException => "TargetNotFoundException",
            Self::AttributeLimitExceededException => "AttributeLimitExceededException",
            Self::UnsupportedFeatureException => "UnsupportedFeatureException",
            Self::SerializationException => "SerializationException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            Self::IncompleteSignatureException => "IncompleteSignatureException",
            Self::ServerException => "ServerException",
            Self::UnrecognizedClientException => "UnrecognizedClientException",
            Self::ThrottlingException => "ThrottlingException",
            Self::NoSuchEntity => "NoSuchEntity",
            Self::EntityAlreadyExists => "EntityAlreadyExists",
            Self::DeleteConflict => "DeleteConflict",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::ExpiredToken => "ExpiredToken",
            Self::ExpiredTokenException => "ExpiredTokenException",
            Self::LimitExceeded => "LimitExceeded",
            Self::ValidationError => "ValidationError",
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
            Self::AccessDenied => "AccessDenied",
            Self::InvalidSignatureException => "InvalidSignatureException",
            Self::ServiceNotFoundException => "ServiceNotFoundException",
            Self::ServiceNotActiveException => "ServiceNotActiveException",
            Self::RepositoryNotFoundException => "RepositoryNotFoundException",
            Self::RepositoryAlreadyExistsException => "RepositoryAlreadyExistsException",
            Self::RepositoryNotEmptyException => "RepositoryNotEmptyException",
            Self::ImageNotFoundException => "ImageNotFoundException",
            Self::ImageTagAlreadyExistsException => "ImageTagAlreadyExistsException",
            Self::LayersNotFoundException => "LayersNotFoundException",
            Self::InvalidLayerException => "InvalidLayerException",
            Self::UploadNotFoundException => "UploadNotFoundException",
            Self::InvalidLayerPartException => "InvalidLayerPartException",
            Self::ImageDigestDoesNotMatchException => "ImageDigestDoesNotMatchException",
            Self::RepositoryPolicyNotFoundException => "RepositoryPolicyNotFoundException",
            Self::LifecyclePolicyNotFoundException => "LifecyclePolicyNotFoundException",
            Self::ImageAlreadyExistsException => "ImageAlreadyExistsException",
            Self::EmptyUploadException => "EmptyUploadException",
            Self::LayerAlreadyExistsException => "LayerAlreadyExistsException",
            Self::LifecyclePolicyPreviewNotFoundException => {
                "LifecyclePolicyPreviewNotFoundException"
            }
            Self::InvalidTagParameterException => "InvalidTagParameterException",
            Self::TooManyTagsException => "TooManyTagsException",
            Self::RequestTimeoutException => "RequestTimeoutException",
            Self::ResourceAlreadyExistsException => "ResourceAlreadyExistsException",
            Self::ServiceUnavailableException => "ServiceUnavailableException",
            Self::ParameterNotFound => "ParameterNotFound",
            Self::ParameterVersionNotFound => "ParameterVersionNotFound",
            Self::ParameterAlreadyExists => "ParameterAlreadyExists",
            Self::HierarchyLevelLimitExceededException => "HierarchyLevelLimitExceededException",
            Self::InvalidResourceId => "InvalidResourceId",
            Self::InvalidResourceType => "InvalidResourceType",
            Self::TooManyTagsError => "TooManyTagsError",
            Self::InvalidFilterKey => "InvalidFilterKey",
            Self::InvalidFilterOption => "InvalidFilterOption",
            Self::InvalidFilterValue => "InvalidFilterValue",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::ValidationException => "ValidationException",
            Self::InternalServerError => "InternalServerError",
            Self::ResourceExistsException => "ResourceExistsException",
            Self::InvalidRequestException => "InvalidRequestException",
            Self::InvalidNextTokenException => "InvalidNextTokenException",
            Self::InternalServiceError => "InternalServiceError",
            Self::InvalidVpcIdNotFound => "InvalidVpcID.NotFound",
            Self::InvalidVpcIdMalformed => "InvalidVpcID.Malformed",
            Self::InvalidSubnetIdNotFound => "InvalidSubnetID.NotFound",
            Self::InvalidSubnetIdMalformed => "InvalidSubnetID.Malformed",
            Self::InvalidGroupNotFound => "InvalidGroup.NotFound",
            Self::InvalidGroupIdMalformed => "InvalidGroupId.Malformed",
            Self::InvalidGroupDuplicate => "InvalidGroup.Duplicate",
            Self::InvalidPermissionDuplicate => "InvalidPermission.Duplicate",
            Self::InvalidPermissionNotFound => "InvalidPermission.NotFound",
            Self::InvalidPermissionMalformed => "InvalidPermission.Malformed",
            Self::InvalidNetworkInterfaceIdNotFound => "InvalidNetworkInterfaceID.NotFound",
            Self::DependencyViolation => "DependencyViolation",
            Self::CannotDelete => "CannotDelete",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidParameterCombination => "InvalidParameterCombination",
            Self::MissingParameter => "MissingParameter",
            Self::InvalidVpcRange => "InvalidVpc.Range",
            Self::InvalidSubnetRange => "InvalidSubnet.Range",
            Self::InvalidSubnetConflict => "InvalidSubnet.Conflict",
            Self::InvalidId => "InvalidID",
            Self::InvalidFilter => "InvalidFilter",
            Self::UnauthorizedOperation => "UnauthorizedOperation",
            Self::AuthFailure => "AuthFailure",
            Self::DryRunOperation => "DryRunOperation",
            Self::VpcLimitExceeded => "VpcLimitExceeded",
            Self::RulesPerSecurityGroupLimitExceeded => "RulesPerSecurityGroupLimitExceeded",
            Self::SecurityGroupLimitExceeded => "SecurityGroupLimitExceeded",
            Self::TagLimitExceeded => "TagLimitExceeded",
        }
    }

    /// The HTTP status: 500 for our faults, 400 for the client's (as the SDKs expect).
    pub fn http_status(self) -> u16 {
        match self {
            Self::ServerException
            | Self::ServiceUnavailableException
            | Self::InternalServerError
            | Self::InternalServiceError => 500,
            Self::AuthFailure => 401,
            Self::MissingAuthenticationTokenException
            | Self::AccessDenied
            | Self::InvalidClientTokenId
            | Self::UnauthorizedOperation => 403,
            Self::NoSuchEntity => 404,
            Self::RequestTimeoutException => 408,
            Self::DryRunOperation => 412,
            Self::EntityAlreadyExists | Self::DeleteConflict | Self::LimitExceeded => 409,
            _ => 400,
        }
    }
}

/// An error as the API answers it: `{"__type": code, "message": ...}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The wire code.
    pub code: ErrorCode,
    /// What is wrong and how to fix it.
    pub message: String,
    /// ConflictException only: the resources already bound to the client token.
    pub resource_ids: Option<Vec<String>>,
}

/// The JSON body of an error response.
#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    /// The error code.
    #[serde(rename = "__type")]
    pub code: &'a str,
    /// The message.
    pub message: &'a str,
    /// ConflictException's `resourceIds`.
    #[serde(rename = "resourceIds", skip_serializing_if = "Option::is_none")]
    pub resource_ids: Option<&'a [String]>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            resource_ids: None,
        }
    }

    /// InvalidParameterException.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }

    /// ClientException.
    pub fn client(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ClientException, message)
    }

    /// ServerException.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServerException, message)
    }

    /// ClusterNotFoundException for the named cluster.
    pub fn cluster_not_found(cluster: &str) -> Self {
        Self::new(
            ErrorCode::ClusterNotFoundException,
            format!(
                "cluster {cluster} not found: create it with CreateCluster or name an existing one"
            ),
        )
    }

    /// The response body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody {
            code: self.code.as_str(),
            message: &self.message,
            resource_ids: self.resource_ids.as_deref(),
        })
        .unwrap_or_default()
    }
}

impl From<crate::validate::Violation> for ApiError {
    fn from(v: crate::validate::Violation) -> Self {
        Self::invalid(v.to_string())
    }
}
