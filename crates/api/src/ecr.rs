//! The ECR API (awsJson1.1, `AmazonEC2ContainerRegistry_V20150921.<Op>`, signing name `ecr`)
//! over Berth's registry: repositories, images, and the token `docker login` uses.

use crate::ecr_answers::{failure, find, image_id, page, with_next};
use crate::wire::encode;
use crate::{AppState, auth, ecr_tags, policy::Ask};
use base64::Engine;
use berth_registry::digest::Digest;
use berth_registry::{Image, Registry, RegistryError, Repository};
use berth_types::ecr::*;
use berth_types::request::Members;
use berth_types::{ApiError, ErrorCode};
use serde_json::{Value, json};

/// The repository ARN of `name` in this server's account and region.
fn arn(app: &AppState, name: &str) -> String {
    let p = app.control.partition();
    format!("arn:aws:ecr:{}:{}:repository/{name}", p.region, p.account)
}

/// The repository an ECR call names: `repositoryName`, or the repository of a tag
/// operation's `resourceArn`.
fn named_repository(app: &AppState, members: &dyn Members) -> Option<String> {
    match (members.text("repositoryName"), members.text("resourceArn")) {
        (Some(name), _) => Some(name.to_string()),
        (None, Some(resource)) => ecr_tags::repository_of(&arn(app, ""), resource).ok(),
        _ => None,
    }
}

/// The policy of the repository an ECR call names, which authorisation also consults.
pub fn repository_policy(app: &AppState, request: &Request) -> Result<Option<String>, ApiError> {
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
pub fn ask(app: &AppState, request: &Request) -> Ask {
    let operation = request.operation();
    let resource = match named_repository(app, request.members()) {
        Some(name) if operation != Operation::DescribeRepositories => arn(app, &name),
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

/// An ECR exception for a registry refusal.
fn refused(e: RegistryError) -> ApiError {
    let code = match &e {
        RegistryError::NameUnknown(_) => ErrorCode::RepositoryNotFoundException,
        RegistryError::NameExists(_) => ErrorCode::RepositoryAlreadyExistsException,
        RegistryError::NameNotEmpty(_) => ErrorCode::RepositoryNotEmptyException,
        RegistryError::ManifestUnknown(_) => ErrorCode::ImageNotFoundException,
        RegistryError::TagImmutable(_) => ErrorCode::ImageTagAlreadyExistsException,
        RegistryError::ManifestBlobUnknown(_) | RegistryError::BlobUnknown(_) => {
            ErrorCode::LayersNotFoundException
        }
        RegistryError::LifecyclePreviewNotFound(_) => {
            ErrorCode::LifecyclePolicyPreviewNotFoundException
        }
        RegistryError::LifecyclePolicyNotFound(_) => ErrorCode::LifecyclePolicyNotFoundException,
        RegistryError::Storage(_) => ErrorCode::ServerException,
        _ => ErrorCode::InvalidParameterException,
    };
    let message = match &e {
        RegistryError::NameUnknown(name) => format!(
            "The repository with name '{name}' does not exist in the registry: create it with CreateRepository"
        ),
        RegistryError::NameExists(name) => {
            format!("The repository with name '{name}' already exists in the registry")
        }
        other => other.to_string(),
    };
    ApiError::new(code, message)
}

fn repository_json(app: &AppState, host: &str, r: &Repository) -> Value {
    json!({
        "repositoryArn": arn(app, &r.name),
        "registryId": app.control.partition().account,
        "repositoryName": r.name,
        "repositoryUri": format!("{host}/{}", r.name),
        "createdAt": r.created_at,
        "imageTagMutability": r.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": r.scan_on_push},
        "encryptionConfiguration": {"encryptionType": "AES256"},
    })
}

/// Whether Berth answers an ECR operation (the others are refused with
/// UnsupportedFeatureException, whatever their input).
pub fn supports(operation: Operation) -> bool {
    use Operation as O;
    matches!(
        operation,
        O::GetAuthorizationToken
            | O::CreateRepository
            | O::DescribeRepositories
            | O::DeleteRepository
            | O::PutImageTagMutability
            | O::ListImages
            | O::DescribeImages
            | O::BatchGetImage
            | O::BatchDeleteImage
            | O::SetRepositoryPolicy
            | O::GetRepositoryPolicy
            | O::DeleteRepositoryPolicy
            | O::PutLifecyclePolicy
            | O::GetLifecyclePolicy
            | O::DeleteLifecyclePolicy
            | O::StartLifecyclePolicyPreview
            | O::GetLifecyclePolicyPreview
            | O::PutImageScanningConfiguration
            | O::BatchCheckLayerAvailability
            | O::InitiateLayerUpload
            | O::UploadLayerPart
            | O::CompleteLayerUpload
            | O::GetDownloadUrlForLayer
            | O::PutImage
            | O::TagResource
            | O::UntagResource
            | O::ListTagsForResource
    )
}

/// Answers one ECR request. `api_host` is the `host:port` the client reached the API at; the
/// registry is there or at its own listener's port.
pub fn call(
    app: &AppState,
    signer_key: &str,
    request: Request,
    api_host: &str,
) -> Result<Vec<u8>, ApiError> {
    let (scheme, host) = app.registry_location(api_host);
    let host = host.as_str();
    let registry: &Registry = &app.registry;
    let account = app.control.partition().account.clone();
    let operation = request.operation();
    let answer = match request {
        Request::GetAuthorizationToken(_) => {
            let secret = auth::secret_of(&app.root, &app.control, signer_key)
                .ok_or_else(|| ApiError::server("the signing key vanished"))?;
            let expires = now() as i64 + auth::REGISTRY_TOKEN_SECONDS;
            let token = auth::registry_token(signer_key, &secret, expires);
            json!({"authorizationData": [{
                "authorizationToken": base64::engine::general_purpose::STANDARD
                    .encode(format!("AWS:{token}")),
                "expiresAt": expires,
                "proxyEndpoint": format!("{scheme}://{host}"),
            }]})
        }
        Request::CreateRepository(input) => {
            if let Some(e) = &input.encryption_configuration
                && e.encryption_type != EncryptionType::Aes256
            {
                return Err(ApiError::invalid(format!(
                    "encryptionType {} needs KMS, which Berth does not have: omit encryptionConfiguration or use AES256 (every blob is encrypted at rest with AES-256)",
                    e.encryption_type.as_str()
                )));
            }
            let mut tags = vec![];
            ecr_tags::merge(
                &mut tags,
                ecr_tags::checked(&input.tags.unwrap_or_default())?,
            )
            .map_err(|e| ApiError::new(ErrorCode::TooManyTagsException, e.to_string()))?;
            let repository = Repository {
                name: input.repository_name,
                created_at: now(),
                tag_mutability: mutability(input.image_tag_mutability.unwrap_or_default())?.into(),
                scan_on_push: input
                    .image_scanning_configuration
                    .and_then(|c| c.scan_on_push)
                    .unwrap_or(false),
                tags,
            };
            let created = registry.create_repository(repository).map_err(refused)?;
            json!({ "repository": repository_json(app, host, &created) })
        }
        Request::DescribeRepositories(input) => {
            let repositories = match input.repository_names {
                Some(names) => names
                    .iter()
                    .map(|n| registry.repository(n))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(refused)?,
                None => registry.repositories().map_err(refused)?,
            };
            let listed: Vec<String> = repositories.iter().map(|r| r.name.clone()).collect();
            let (page, next) = page(&listed, input.next_token.as_deref(), input.max_results)?;
            let shown: Vec<Value> = repositories
                .iter()
                .filter(|r| page.contains(&r.name))
                .map(|r| repository_json(app, host, r))
                .collect();
            with_next(json!({ "repositories": shown }), next)
        }
        Request::DeleteRepository(input) => {
            let deleted = registry
                .delete_repository(&input.repository_name, input.force.unwrap_or(false))
                .map_err(refused)?;
            json!({ "repository": repository_json(app, host, &deleted) })
        }
        Request::PutImageTagMutability(input) => {
            let value = mutability(input.image_tag_mutability)?;
            registry
                .update_repository(&input.repository_name, |r| {
                    r.tag_mutability = value.into();
                    Ok(())
                })
                .map_err(refused)?;
            json!({
                "registryId": account,
                "repositoryName": input.repository_name,
                "imageTagMutability": value,
            })
        }
        Request::ListImages(input) => {
            let images = registry.images(&input.repository_name).map_err(refused)?;
            let status = input.filter.and_then(|f| f.tag_status);
            let mut ids: Vec<Value> = vec![];
            let mut keys: Vec<String> = vec![];
            for image in &images {
                let untagged = image.tags.is_empty();
                let wanted = match status {
                    Some(TagStatus::Tagged) => !untagged,
                    Some(TagStatus::Untagged) => untagged,
                    _ => true,
                };
                if !wanted {
                    continue;
                }
                if untagged {
                    keys.push(image.digest.clone());
                    ids.push(image_id(&image.digest, None));
                }
                for tag in &image.tags {
                    keys.push(format!("{}:{tag}", image.digest));
                    ids.push(image_id(&image.digest, Some(tag)));
                }
            }
            let (page, next) = page(&keys, input.next_token.as_deref(), input.max_results)?;
            let shown: Vec<Value> = keys
                .iter()
                .zip(ids)
                .filter(|(k, _)| page.contains(k))
                .map(|(_, id)| id)
                .collect();
            with_next(json!({ "imageIds": shown }), next)
        }
        Request::DescribeImages(input) => {
            let images = registry.images(&input.repository_name).map_err(refused)?;
            let chosen: Vec<&Image> = match &input.image_ids {
                Some(ids) => ids
                    .iter()
                    .map(|id| {
                        find(&images, id).map_err(|f| {
                            ApiError::new(
                                ErrorCode::ImageNotFoundException,
                                format!(
                                    "The image with imageId {} does not exist within the repository with name '{}' in the registry: {}",
                                    f["imageId"], input.repository_name, f["failureReason"]
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                None => images.iter().collect(),
            };
            let digests: Vec<String> = chosen.iter().map(|i| i.digest.clone()).collect();
            let (page, next) = page(&digests, input.next_token.as_deref(), input.max_results)?;
            let details: Vec<Value> = chosen
                .iter()
                .filter(|i| page.contains(&i.digest))
                .map(|i| {
                    let mut d = json!({
                        "registryId": account,
                        "repositoryName": input.repository_name,
                        "imageDigest": i.digest,
                        "imageSizeInBytes": i.size,
                        "imagePushedAt": i.pushed_at,
                        "imageManifestMediaType": i.media_type,
                    });
                    if !i.tags.is_empty() {
                        d["imageTags"] = json!(i.tags);
                    }
                    if let Some(at) = i.last_pulled_at {
                        d["lastRecordedPullTime"] = json!(at);
                    }
                    if let Some(t) = &i.artifact_type {
                        d["artifactMediaType"] = json!(t);
                    }
                    d
                })
                .collect();
            with_next(json!({ "imageDetails": details }), next)
        }
        Request::BatchGetImage(input) => {
            let images = registry.images(&input.repository_name).map_err(refused)?;
            let (mut found, mut failures) = (vec![], vec![]);
            for id in &input.image_ids {
                match find(&images, id) {
                    Ok(image) => {
                        let (_, bytes) = registry
                            .manifest(&input.repository_name, &image.digest)
                            .map_err(refused)?;
                        found.push(json!({
                            "registryId": account,
                            "repositoryName": input.repository_name,
                            "imageId": image_id(&image.digest, id.image_tag.as_deref()),
                            "imageManifest": String::from_utf8_lossy(&bytes),
                            "imageManifestMediaType": image.media_type,
                        }));
                    }
                    Err(f) => failures.push(f),
                }
            }
            json!({ "images": found, "failures": failures })
        }
        Request::BatchDeleteImage(input) => {
            let (mut deleted, mut failures) = (vec![], vec![]);
            for id in &input.image_ids {
                let images = registry.images(&input.repository_name).map_err(refused)?;
                let image = match find(&images, id) {
                    Ok(i) => i.clone(),
                    Err(f) => {
                        failures.push(f);
                        continue;
                    }
                };
                let name = &input.repository_name;
                let outcome = match (&id.image_tag, &id.image_digest) {
                    // A tag alone removes the tag; the image goes with its last tag.
                    (Some(tag), None) if image.tags.len() > 1 => registry.untag(name, tag),
                    _ => Digest::parse(&image.digest)
                        .and_then(|d| registry.delete_manifest(name, &d)),
                };
                match outcome {
                    Ok(_) => deleted.push(image_id(&image.digest, id.image_tag.as_deref())),
                    Err(e) => failures.push(failure(id, "ImageNotFound", e.to_string())),
                }
            }
            json!({ "imageIds": deleted, "failures": failures })
        }
        Request::SetRepositoryPolicy(input) => {
            crate::policy::check_resource(&input.policy_text).map_err(ApiError::invalid)?;
            registry
                .set_repository_policy(&input.repository_name, &input.policy_text)
                .map_err(refused)?;
            json!({
                "registryId": account,
                "repositoryName": input.repository_name,
                "policyText": input.policy_text,
            })
        }
        Request::GetRepositoryPolicy(GetRepositoryPolicyRequest {
            repository_name: name,
            ..
        })
        | Request::DeleteRepositoryPolicy(DeleteRepositoryPolicyRequest {
            repository_name: name,
            ..
        }) => {
            registry.repository(&name).map_err(refused)?;
            let policy = if operation == Operation::GetRepositoryPolicy {
                registry.repository_policy(&name).map_err(refused)?
            } else {
                registry.delete_repository_policy(&name).map_err(refused)?
            };
            let text = policy.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::RepositoryPolicyNotFoundException,
                    format!("Repository policy does not exist for the repository with name '{name}': set one with SetRepositoryPolicy"),
                )
            })?;
            json!({ "registryId": account, "repositoryName": name, "policyText": text })
        }
        Request::PutLifecyclePolicy(input) => {
            registry
                .put_lifecycle_policy(&input.repository_name, &input.lifecycle_policy_text)
                .map_err(refused)?;
            json!({
                "registryId": account,
                "repositoryName": input.repository_name,
                "lifecyclePolicyText": input.lifecycle_policy_text,
            })
        }
        Request::GetLifecyclePolicy(GetLifecyclePolicyRequest {
            repository_name: name,
            ..
        })
        | Request::DeleteLifecyclePolicy(DeleteLifecyclePolicyRequest {
            repository_name: name,
            ..
        }) => {
            let (text, evaluated) = if operation == Operation::GetLifecyclePolicy {
                registry.lifecycle_policy(&name)
            } else {
                registry.delete_lifecycle_policy(&name)
            }
            .map_err(refused)?;
            let mut v = json!({
                "registryId": account,
                "repositoryName": name,
                "lifecyclePolicyText": text,
            });
            if let Some(at) = evaluated {
                v["lastEvaluatedAt"] = json!(at);
            }
            v
        }
        Request::StartLifecyclePolicyPreview(input) => {
            let (text, _) = registry
                .preview_lifecycle(
                    &input.repository_name,
                    input.lifecycle_policy_text.as_deref(),
                )
                .map_err(refused)?;
            // The preview is computed at once; GetLifecyclePolicyPreview reports it COMPLETE.
            json!({
                "registryId": account,
                "repositoryName": input.repository_name,
                "lifecyclePolicyText": text,
                "status": "IN_PROGRESS",
            })
        }
        Request::GetLifecyclePolicyPreview(GetLifecyclePolicyPreviewRequest {
            repository_name: name,
            ..
        }) => {
            let (text, expired) = registry.lifecycle_preview(&name).map_err(refused)?;
            let results: Vec<Value> = expired
                .iter()
                .map(|(image, priority)| {
                    let mut r = json!({
                        "imageDigest": image.digest,
                        "imagePushedAt": image.pushed_at,
                        "action": {"type": "EXPIRE"},
                        "appliedRulePriority": priority,
                    });
                    if !image.tags.is_empty() {
                        r["imageTags"] = json!(image.tags);
                    }
                    r
                })
                .collect();
            json!({
                "registryId": account,
                "repositoryName": name,
                "lifecyclePolicyText": text,
                "status": "COMPLETE",
                "previewResults": results,
                "summary": {"expiringImageTotalCount": expired.len()},
            })
        }
        Request::PutImageScanningConfiguration(input) => {
            let on = input
                .image_scanning_configuration
                .scan_on_push
                .unwrap_or(false);
            registry
                .update_repository(&input.repository_name, |r| {
                    r.scan_on_push = on;
                    Ok(())
                })
                .map_err(refused)?;
            json!({
                "registryId": account,
                "repositoryName": input.repository_name,
                "imageScanningConfiguration": {"scanOnPush": on},
            })
        }
        other => {
            let base_url = format!("{scheme}://{host}");
            let other = match crate::ecr_layers::call(registry, &account, other, &base_url, refused)
            {
                Ok(answer) => return encode(&answer?),
                Err(other) => other,
            };
            match ecr_tags::call(registry, &arn(app, ""), other, refused) {
                Ok(answer) => answer?,
                Err(other) => {
                    return Err(ApiError::new(
                        ErrorCode::UnsupportedFeatureException,
                        format!(
                            "ECR operation {} is not supported by Berth yet",
                            other.operation().name()
                        ),
                    ));
                }
            }
        }
    };
    encode(&answer)
}

/// The stored form of a tag mutability setting; the `_WITH_EXCLUSION` ones are refused.
fn mutability(setting: ImageTagMutability) -> Result<&'static str, ApiError> {
    match setting {
        ImageTagMutability::Immutable => Ok("IMMUTABLE"),
        ImageTagMutability::Mutable => Ok("MUTABLE"),
        other => Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            format!(
                "imageTagMutability {} is not supported by Berth: use MUTABLE or IMMUTABLE",
                other.as_str()
            ),
        )),
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
