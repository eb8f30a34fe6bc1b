//! ECR's repository operations: CreateRepository, DescribeRepositories, DeleteRepository,
//! PutImageTagMutability and PutImageScanningConfiguration.

use super::{Ecr, page, repository_arn, tags};
use crate::registry::now;
use crate::{RegistryError, Repository};
use berth_types::ecr::{
    CreateRepositoryRequest, CreateRepositoryResponse, DeleteRepositoryRequest,
    DeleteRepositoryResponse, DescribeRepositoriesRequest, DescribeRepositoriesResponse,
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    PutImageScanningConfigurationRequest, PutImageScanningConfigurationResponse,
    PutImageTagMutabilityRequest, PutImageTagMutabilityResponse,
};

impl Ecr<'_> {
    /// CreateRepository. Encryption is always AES-256 (KMS is refused); tags are checked.
    pub fn create_repository(
        &self,
        input: CreateRepositoryRequest,
    ) -> Result<CreateRepositoryResponse, RegistryError> {
        if let Some(e) = &input.encryption_configuration
            && e.encryption_type != EncryptionType::Aes256
        {
            return Err(RegistryError::InvalidParameter(format!(
                "encryptionType {} needs KMS, which Berth does not have: omit encryptionConfiguration or use AES256 (every blob is encrypted at rest with AES-256)",
                e.encryption_type.as_str()
            )));
        }
        let mut repository_tags = vec![];
        tags::merge(
            &mut repository_tags,
            tags::checked(&input.tags.unwrap_or_default())?,
        )?;
        let repository = Repository {
            name: input.repository_name,
            created_at: now(),
            tag_mutability: mutability(input.image_tag_mutability.unwrap_or_default())?.into(),
            scan_on_push: input
                .image_scanning_configuration
                .and_then(|c| c.scan_on_push)
                .unwrap_or(false),
            tags: repository_tags,
        };
        let created = self.registry.create_repository(repository)?;
        Ok(CreateRepositoryResponse {
            repository: Some(self.wire_repository(&created)),
        })
    }

    /// DescribeRepositories: the named repositories, or all of them, a page at a time.
    pub fn describe_repositories(
        &self,
        input: DescribeRepositoriesRequest,
    ) -> Result<DescribeRepositoriesResponse, RegistryError> {
        let repositories = match &input.repository_names {
            Some(names) => names
                .iter()
                .map(|n| self.registry.repository(n))
                .collect::<Result<Vec<_>, _>>()?,
            None => self.registry.repositories()?,
        };
        let (shown, next_token) =
            page(repositories, input.max_results, input.next_token.as_deref())?;
        Ok(DescribeRepositoriesResponse {
            repositories: Some(shown.iter().map(|r| self.wire_repository(r)).collect()),
            next_token,
        })
    }

    /// DeleteRepository; one holding images only with `force`.
    pub fn delete_repository(
        &self,
        input: DeleteRepositoryRequest,
    ) -> Result<DeleteRepositoryResponse, RegistryError> {
        let deleted = self
            .registry
            .delete_repository(&input.repository_name, input.force.unwrap_or(false))?;
        Ok(DeleteRepositoryResponse {
            repository: Some(self.wire_repository(&deleted)),
        })
    }

    /// PutImageTagMutability: MUTABLE or IMMUTABLE.
    pub fn put_image_tag_mutability(
        &self,
        input: PutImageTagMutabilityRequest,
    ) -> Result<PutImageTagMutabilityResponse, RegistryError> {
        let value = mutability(input.image_tag_mutability)?;
        self.registry
            .update_repository(&input.repository_name, |r| {
                r.tag_mutability = value.into();
                Ok(())
            })?;
        Ok(PutImageTagMutabilityResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            image_tag_mutability: ImageTagMutability::from_wire(value),
            image_tag_mutability_exclusion_filters: None,
        })
    }

    /// PutImageScanningConfiguration: recorded (Berth does not scan).
    pub fn put_image_scanning_configuration(
        &self,
        input: PutImageScanningConfigurationRequest,
    ) -> Result<PutImageScanningConfigurationResponse, RegistryError> {
        let on = input
            .image_scanning_configuration
            .scan_on_push
            .unwrap_or(false);
        self.registry
            .update_repository(&input.repository_name, |r| {
                r.scan_on_push = on;
                Ok(())
            })?;
        Ok(PutImageScanningConfigurationResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            image_scanning_configuration: Some(ImageScanningConfiguration {
                scan_on_push: Some(on),
            }),
        })
    }

    /// A stored repository as ECR describes it.
    fn wire_repository(&self, r: &Repository) -> berth_types::ecr::Repository {
        berth_types::ecr::Repository {
            repository_arn: Some(repository_arn(&self.context.partition, &r.name)),
            registry_id: self.account(),
            repository_name: Some(r.name.clone()),
            repository_uri: Some(format!("{}/{}", self.context.host, r.name)),
            created_at: Some(r.created_at),
            image_tag_mutability: ImageTagMutability::from_wire(&r.tag_mutability),
            image_tag_mutability_exclusion_filters: None,
            image_scanning_configuration: Some(ImageScanningConfiguration {
                scan_on_push: Some(r.scan_on_push),
            }),
            encryption_configuration: Some(EncryptionConfiguration {
                encryption_type: EncryptionType::Aes256,
                kms_key: None,
            }),
        }
    }
}

/// The stored form of a tag mutability setting; the `_WITH_EXCLUSION` ones are refused.
fn mutability(setting: ImageTagMutability) -> Result<&'static str, RegistryError> {
    match setting {
        ImageTagMutability::Immutable | ImageTagMutability::Mutable => Ok(setting.as_str()),
        other => Err(RegistryError::UnsupportedFeature(format!(
            "imageTagMutability {} is not supported by Berth: use MUTABLE or IMMUTABLE",
            other.as_str()
        ))),
    }
}
