//! [`ControlError`]: every refusal and failure of the control plane, a variant for each case
//! a caller answers differently, in the control plane's terms. Which wire code each one is
//! answered with is the API layer's business (`berth-api`'s `control_errors::refused`, one
//! table), so no operation here decides an HTTP status. The IAM part has codes of its own
//! (IAM's Query protocol), so its refusals are an enum of their own, [`IdentityError`].
//!
//! Each message is the one the caller reads, word for word: clients and scripts match on them.

use crate::network::error::NetworkError;
use berth_store::StoreError;
use berth_types::paginate::PageError;

/// Why the control plane refused a call, or failed it.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A parameter is malformed, out of range or inconsistent with the others.
    #[error("{0}")]
    Invalid(String),
    /// `maxResults` or `nextToken` is not acceptable (a parameter like any other).
    #[error(transparent)]
    Page(#[from] PageError),
    /// The request cannot be answered as asked (ECS's ClientException: e.g. a task definition
    /// that breaks a registration rule, or one that does not exist).
    #[error("{0}")]
    Client(String),
    /// The operation or option exists in ECS but Berth does not implement it.
    #[error("{0}")]
    Unsupported(String),
    /// The caller may not touch what it named (another principal's account settings).
    #[error("{0}")]
    AccessDenied(String),
    /// The named cluster does not exist.
    #[error("cluster {0} not found: create it with CreateCluster or name an existing one")]
    ClusterNotFound(String),
    /// DeleteCluster on a cluster with container instances still registered.
    #[error("cluster {0} still has registered container instances: deregister them first")]
    ClusterContainsContainerInstances(String),
    /// DeleteCluster on a cluster with active services.
    #[error("cluster {0} still has active services: scale them to 0 and delete them first")]
    ClusterContainsServices(String),
    /// DeleteCluster on a cluster with pending or running tasks.
    #[error("cluster {cluster} still has {active} active tasks: stop them first")]
    ClusterContainsTasks {
        /// The cluster's name.
        cluster: String,
        /// Its pending and running tasks.
        active: i32,
    },
    /// The named service does not exist (the message says where it was looked for).
    #[error("{0}")]
    ServiceNotFound(String),
    /// The service is being deleted, or was.
    #[error("Service was not ACTIVE: {0} is being deleted; create a new service")]
    ServiceNotActive(String),
    /// The resource a tag call names does not exist.
    #[error("resource {0} was not found")]
    ResourceNotFound(String),
    /// The container instance an attribute names does not exist.
    #[error("container instance {target} was not found in cluster {cluster}")]
    TargetNotFound {
        /// The instance as named.
        target: String,
        /// The cluster's name.
        cluster: String,
    },
    /// A container instance would carry too many custom attributes.
    #[error("{0}")]
    AttributeLimitExceeded(String),
    /// A RunTask `clientToken` came back with other parameters.
    #[error(
        "clientToken {token} was already used by a RunTask call with other parameters: use a new token, or repeat the original parameters"
    )]
    Conflict {
        /// The token.
        token: String,
        /// The tasks the token's first call started.
        resource_ids: Vec<String>,
    },
    /// An IAM user, key or policy operation refused, or an agent's credentials.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// An SSM Parameter Store operation refused.
    #[error(transparent)]
    Parameter(#[from] ParameterError),
    /// A Secrets Manager operation refused.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An EC2 networking operation refused.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The stored state could not be loaded.
    #[error("{0}")]
    Load(#[source] StoreError),
    /// A mutation could not be made durable, so nothing changed.
    #[error("the change could not be stored: {0}; nothing was changed")]
    Commit(#[source] StoreError),
    /// The audit log could not be read.
    #[error("the audit log cannot be read: {0}")]
    AuditRead(#[source] StoreError),
    /// The audit log could not be pruned.
    #[error("the audit log cannot be pruned: {0}")]
    AuditPrune(#[source] StoreError),
}

impl ControlError {
    /// [`ControlError::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// [`ControlError::Client`].
    pub fn client(message: impl Into<String>) -> Self {
        Self::Client(message.into())
    }
}

/// Why an IAM user, access key or policy operation, or an agent's credentials, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// A user or policy name that IAM would not accept.
    #[error("{what} {name:?} is not valid: use letters, digits and +=,.@_-")]
    InvalidName {
        /// Which name (`UserName`, `PolicyName`).
        what: &'static str,
        /// The name as given.
        name: String,
    },
    /// An access key status other than Active or Inactive.
    #[error("Status {0:?} is not valid: use Active or Inactive")]
    InvalidStatus(String),
    /// No such user.
    #[error("The user with name {0} cannot be found.")]
    NoSuchUser(String),
    /// The user has no policy of that name.
    #[error("The user policy with name {0} cannot be found.")]
    NoSuchPolicy(String),
    /// The user has no access key of that id.
    #[error("The Access Key with id {id} cannot be found for user {user}.")]
    NoSuchAccessKey {
        /// The user's name.
        user: String,
        /// The key's id.
        id: String,
    },
    /// A user of that name exists.
    #[error("User with name {0} already exists.")]
    UserExists(String),
    /// The user still has access keys or policies.
    #[error(
        "Cannot delete entity, must delete access keys and policies first: user {0} still has some"
    )]
    UserInUse(String),
    /// The user holds as many access keys as allowed.
    #[error("Cannot exceed quota for AccessKeysPerUser: {most}; delete one of {user}'s keys first")]
    TooManyAccessKeys {
        /// The user's name.
        user: String,
        /// The most keys a user may hold.
        most: usize,
    },
    /// The policy document is longer than allowed.
    #[error("Maximum policy size of {most} bytes exceeded for user {user}")]
    PolicyTooLarge {
        /// The user's name.
        user: String,
        /// The longest document accepted, in characters.
        most: usize,
    },
    /// The policy document is not policy JSON; why, as the policy checker said.
    #[error("{0}")]
    MalformedPolicy(String),
    /// The join token is not the one of the cluster, nor the one good for every cluster.
    #[error(
        "the join token is not valid for cluster {0}: use the one `berth server` (or `berth up`) printed, or `berth join-token rotate --cluster {0}` for a new one"
    )]
    JoinTokenInvalid(String),
    /// No agent key of that id.
    #[error("no agent key {0}: list them with `berth agent-keys list`")]
    NoAgentKey(String),
    /// A parameter IAM or STS would not accept (a path, a duration, a session name); the message
    /// says which and why.
    #[error("{0}")]
    InvalidValue(String),
    /// A quota of IAM's would be exceeded (policies attached, a policy's size); which, in
    /// IAM's words.
    #[error("{0}")]
    QuotaExceeded(String),
    /// No such role.
    #[error("The role with name {0} cannot be found.")]
    NoSuchRole(String),
    /// A role of that name exists.
    #[error("Role with name {0} already exists.")]
    RoleExists(String),
    /// The role still has inline or attached policies.
    #[error(
        "Cannot delete entity, must delete policies first: role {0} still has inline or attached policies"
    )]
    RoleInUse(String),
    /// The role has no inline policy of that name.
    #[error("The role policy with name {policy} cannot be found.")]
    NoSuchRolePolicy {
        /// The role's name.
        role: String,
        /// The policy's name.
        policy: String,
    },
    /// No managed policy of that ARN (customer or AWS managed).
    #[error("Policy {0} does not exist or is not attachable.")]
    NoSuchManagedPolicy(String),
    /// A customer managed policy of that name exists.
    #[error("A policy called {0} already exists. Duplicate names are not allowed.")]
    PolicyExists(String),
    /// The managed policy is still attached to users or roles.
    #[error(
        "Cannot delete a policy attached to entities: detach {0} from every user and role first"
    )]
    PolicyInUse(String),
    /// The managed policy is not attached to that user or role.
    #[error("Policy {policy} was not found attached to {entity}.")]
    NotAttached {
        /// The policy's ARN.
        policy: String,
        /// `user <name>` or `role <name>`.
        entity: String,
    },
    /// AssumeRole refused: the whole message, naming the caller, action and role.
    #[error("{0}")]
    AssumeDenied(String),
}

/// Why an SSM Parameter Store operation was refused: a variant per SSM exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    /// No parameter of that name (or no such version of it).
    #[error("Parameter {0} not found.")]
    NotFound(String),
    /// The parameter has no such version.
    #[error(
        "Systems Manager could not find version {version} of {name}. Verify the version and try again."
    )]
    VersionNotFound {
        /// The parameter's name.
        name: String,
        /// The version asked for.
        version: String,
    },
    /// PutParameter without `Overwrite` on an existing parameter.
    #[error(
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
    )]
    AlreadyExists(String),
    /// A name, value or option SSM would not accept (ValidationException).
    #[error("{0}")]
    Invalid(String),
    /// A name of more than 15 levels.
    #[error("Parameter name {0} has more than 15 levels: a hierarchy can have at most 15 levels")]
    HierarchyTooDeep(String),
    /// The resource of a tag call does not exist.
    #[error("Parameter {0} not found: check the ResourceId")]
    InvalidResourceId(String),
    /// A tag call on a resource type other than Parameter.
    #[error("ResourceType {0} is not supported by Berth: only Parameter is")]
    InvalidResourceType(String),
    /// A parameter would carry more than 50 tags.
    #[error("a parameter can have at most 50 tags: {0} would have more")]
    TooManyTags(String),
    /// A DescribeParameters filter key Berth does not answer.
    #[error("{0}")]
    InvalidFilterKey(String),
    /// A filter option the key does not take.
    #[error("{0}")]
    InvalidFilterOption(String),
    /// A filter value that is not acceptable.
    #[error("{0}")]
    InvalidFilterValue(String),
}

/// Why a Secrets Manager operation was refused: a variant per case a client tells apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No secret of that name or ARN (or one whose recovery window is over).
    #[error("Secrets Manager can't find the specified secret.")]
    NotFound,
    /// The secret has no version of that id or staging label.
    #[error("Secrets Manager can't find the specified secret value for {0}")]
    VersionNotFound(String),
    /// A secret of that name exists.
    #[error("The operation failed because the secret {0} already exists.")]
    Exists(String),
    /// A ClientRequestToken names an existing version with another value.
    #[error("You can't modify an existing version, you can only create a new version.")]
    VersionExists,
    /// The secret is scheduled for deletion.
    #[error("You can't perform this operation on the secret because it was marked for deletion.")]
    MarkedForDeletion,
    /// CreateSecret with the name of a secret scheduled for deletion.
    #[error(
        "You can't create this secret because a secret with this name is already scheduled for deletion."
    )]
    NameScheduledForDeletion,
    /// A parameter out of range or inconsistent with another (InvalidParameterException).
    #[error("{0}")]
    InvalidParameter(String),
    /// A request not valid in the secret's current state (InvalidRequestException).
    #[error("{0}")]
    InvalidRequest(String),
}
