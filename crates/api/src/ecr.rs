//! The ECR API (awsJson1.1, `AmazonEC2ContainerRegistry_V20150921.<Op>`, signing name `ecr`):
//! each typed request mapped to the registry's ECR method that answers it
//! (`berth_registry::ecr`), the one mapping of registry refusals to ECR's exceptions, the
//! token `docker login` uses, and what each call asks of the caller's policies.

use crate::wire::encode;
use crate::{AppState, auth, policy::Ask};
use base64::Engine;
use berth_registry::RegistryError;
use berth_registry::ecr::{Context, Ecr, repository_arn, repository_of};
use berth_types::ecr::{Operation, Request};
use berth_types::request::Members;
use berth_types::{ApiError, ErrorCode};
use serde_json::json;

/// The table of operations answered by a registry ECR method of the same input and output:
/// it makes [`TABLE`] and `table`, which answers them and gives back any other request.
macro_rules! operations {
    ($($op:ident => $method:ident),* $(,)?) => {
        /// The operations the table answers.
        const TABLE: &[Operation] = &[$(Operation::$op),*];

        // The request handed back is the caller's own, moved back to it, never copied.
        #[allow(clippy::result_large_err)]
        fn table(ecr: &Ecr<'_>, request: Request) -> Result<Result<Vec<u8>, ApiError>, Request> {
            match request {
                $(Request::$op(input) => Ok(ecr.$method(input).map_err(refused).and_then(|out| encode(&out))),)*
                other => Err(other),
            }
        }
    };
}

operations!(
    CreateRepository => create_repository,
    DescribeRepositories => describe_repositories,
    DeleteRepository => delete_repository,
    PutImageTagMutability => put_image_tag_mutability,
    PutImageScanningConfiguration => put_image_scanning_configuration,
    ListImages => list_images,
    DescribeImages => describe_images,
    BatchGetImage => batch_get_image,
    BatchDeleteImage => batch_delete_image,
    GetRepositoryPolicy => get_repository_policy,
    DeleteRepositoryPolicy => delete_repository_policy,
    PutLifecyclePolicy => put_lifecycle_policy,
    GetLifecyclePolicy => get_lifecycle_policy,
    DeleteLifecyclePolicy => delete_lifecycle_policy,
    StartLifecyclePolicyPreview => start_lifecycle_policy_preview,
    GetLifecyclePolicyPreview => get_lifecycle_policy_preview,
    BatchCheckLayerAvailability => batch_check_layer_availability,
    InitiateLayerUpload => initiate_layer_upload,
    UploadLayerPart => upload_layer_part,
    CompleteLayerUpload => complete_layer_upload,
    GetDownloadUrlForLayer => get_download_url_for_layer,
    PutImage => put_image,
    TagResource => tag_resource,
    UntagResource => untag_resource,
    ListTagsForResource => list_tags_for_resource,
);

/// Whether Berth answers an ECR operation (the others are refused with
/// UnsupportedFeatureException, whatever their input).
pub(crate) fn supports(operation: Operation) -> bool {
    TABLE.contains(&operation)
        || matches!(
            operation,
            Operation::GetAuthorizationToken | Operation::SetRepositoryPolicy
        )
}

/// Answers one ECR request. `api_host` is the `host:port` the client reached the API at; the
/// registry is there or at its own listener's port.
pub(crate) fn call(
    app: &AppState,
    signer_key: &str,
    request: Request,
    api_host: &str,
) -> Result<Vec<u8>, ApiError> {
    let (scheme, host) = app.registry_location(api_host);
    let context = Context {
        partition: app.control.partition().clone(),
        scheme,
        host,
    };
    let ecr = app.registry.ecr(&context);
    let request = match table(&ecr, request) {
        Ok(answer) => return answer,
        Err(other) => other,
    };
    match request {
        Request::GetAuthorizationToken(_) => {
            let secret = auth::secret_of(&app.root, &app.control, signer_key)
                .ok_or_else(|| ApiError::server("the signing key vanished"))?;
            let expires = now() as i64 + auth::REGISTRY_TOKEN_SECONDS;
            let token = auth::registry_token(signer_key, &secret, expires);
            encode(&json!({"authorizationData": [{
                "authorizationToken": base64::engine::general_purpose::STANDARD
                    .encode(format!("AWS:{token}")),
                "expiresAt": expires,
                "proxyEndpoint": format!("{scheme}://{}", context.host),
            }]}))
        }
        // The policy language is the API layer's: checked here, stored by the registry.
        Request::SetRepositoryPolicy(input) => {
            crate::policy::check_resource(&input.policy_text).map_err(ApiError::invalid)?;
            ecr.set_repository_policy(input)
                .map_err(refused)
                .and_then(|out| encode(&out))
        }
        other => Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            format!(
                "ECR operation {} is not supported by Berth yet",
                other.operation().name()
            ),
        )),
    }
}

/// The ECR exception for a registry refusal: the one place registry errors become ECR's.
pub(crate) fn refused(e: RegistryError) -> ApiError {
    use ErrorCode as C;
    use RegistryError as E;
    let code = match &e {
        E::NameUnknown(_) | E::PushNameUnknown(_) | E::RepositoryNotFound(_) => {
            C::RepositoryNotFoundException
        }
        E::NameExists(_) => C::RepositoryAlreadyExistsException,
        E::NameNotEmpty(_) => C::RepositoryNotEmptyException,
        E::ManifestUnknown(_) | E::ImageNotFound(_) => C::ImageNotFoundException,
        E::TagImmutable(_) => C::ImageTagAlreadyExistsException,
        E::ManifestBlobUnknown(_) | E::BlobUnknown(_) | E::LayersNotFound(_) => {
            C::LayersNotFoundException
        }
        E::LifecyclePreviewNotFound(_) => C::LifecyclePolicyPreviewNotFoundException,
        E::LifecyclePolicyNotFound(_) => C::LifecyclePolicyNotFoundException,
        E::RepositoryPolicyNotFound(_) => C::RepositoryPolicyNotFoundException,
        E::LimitExceeded(_) => C::TooManyTagsException,
        E::InvalidTagParameter(_) => C::InvalidTagParameterException,
        E::UnsupportedFeature(_) => C::UnsupportedFeatureException,
        E::ImageAlreadyExists(_) => C::ImageAlreadyExistsException,
        E::ImageDigestDoesNotMatch(_) => C::ImageDigestDoesNotMatchException,
        E::LayerAlreadyExists(_) => C::LayerAlreadyExistsException,
        E::UploadNotFound(_) => C::UploadNotFoundException,
        E::InvalidLayerPart(_) => C::InvalidLayerPartException,
        E::EmptyUpload(_) => C::EmptyUploadException,
        E::InvalidLayer(_) => C::InvalidLayerException,
        E::Storage(_) => C::ServerException,
        E::InvalidParameter(_)
        | E::BlobUploadUnknown(_)
        | E::BlobUploadInvalid(_)
        | E::RangeInvalid(_)
        | E::DigestInvalid(_)
        | E::ManifestInvalid(_)
        | E::ManifestTooLarge(_)
        | E::NameInvalid(_)
        | E::TagInvalid(_)
        | E::LifecyclePolicyInvalid(_)
        | E::Unsupported(_) => C::InvalidParameterException,
    };
    let message = match &e {
        E::NameUnknown(name) | E::PushNameUnknown(name) => format!(
            "The repository with name '{name}' does not exist in the registry: create it with CreateRepository"
        ),
        E::NameExists(name) => {
            format!("The repository with name '{name}' already exists in the registry")
        }
        other => other.to_string(),
    };
    ApiError::new(code, message)
}

/// The repository an ECR call names: `repositoryName`, or the repository of a tag
/// operation's `resourceArn`.
fn named_repository(app: &AppState, members: &dyn Members) -> Option<String> {
    match (members.text("repositoryName"), members.text("resourceArn")) {
        (Some(name), _) => Some(name.to_string()),
        (None, Some(resource)) => repository_of(app.control.partition(), resource).ok(),
        _ => None,
    }
}

/// The policy of the repository an ECR call names, which authorisation also consults.
pub(crate) fn repository_policy(
    app: &AppState,
    request: &Request,
) -> Result<Option<String>, ApiError> {
    match named_repository(app, request.members()) {
        Some(name) => app
            .registry
            .repository_policy(&name)
            .map_err(|e| ApiError::server(format!("cannot read the repository's policy: {e}"))),
        None => Ok(None),
    }
}

/// What an ECR call asks of the caller's policies: `ecr:<Operation>` on the repository it
/// names (`*` for registry-wide calls).
pub(crate) fn ask(app: &AppState, request: &Request) -> Ask {
    let operation = request.operation();
    let resource = match named_repository(app, request.members()) {
        Some(name) if operation != Operation::DescribeRepositories => {
            repository_arn(app.control.partition(), &name)
        }
        _ => "*".into(),
    };
    let catalogued = crate::catalogue::Operation::Ecr(operation);
    Ask {
        action: catalogued.action(),
        resource,
        agent_facing: catalogued.is_agent_facing(),
        ..Ask::default()
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
