//! ECR's policy operations: a repository's access policy (Set/Get/DeleteRepositoryPolicy; the
//! caller checks the policy's language before setting it) and its lifecycle policy
//! (Put/Get/DeleteLifecyclePolicy, Start/GetLifecyclePolicyPreview).

use super::Ecr;
use crate::RegistryError;
use berth_types::ecr::{
    DeleteLifecyclePolicyRequest, DeleteLifecyclePolicyResponse, DeleteRepositoryPolicyRequest,
    DeleteRepositoryPolicyResponse, GetLifecyclePolicyPreviewRequest,
    GetLifecyclePolicyPreviewResponse, GetLifecyclePolicyRequest, GetLifecyclePolicyResponse,
    GetRepositoryPolicyRequest, GetRepositoryPolicyResponse, ImageActionType,
    LifecyclePolicyPreviewResult, LifecyclePolicyPreviewStatus, LifecyclePolicyPreviewSummary,
    LifecyclePolicyRuleAction, PutLifecyclePolicyRequest, PutLifecyclePolicyResponse,
    SetRepositoryPolicyRequest, SetRepositoryPolicyResponse, StartLifecyclePolicyPreviewRequest,
    StartLifecyclePolicyPreviewResponse,
};

impl Ecr<'_> {
    /// SetRepositoryPolicy, for a policy the caller has checked.
    pub fn set_repository_policy(
        &self,
        input: SetRepositoryPolicyRequest,
    ) -> Result<SetRepositoryPolicyResponse, RegistryError> {
        self.registry
            .set_repository_policy(&input.repository_name, &input.policy_text)?;
        Ok(SetRepositoryPolicyResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            policy_text: Some(input.policy_text),
        })
    }

    /// GetRepositoryPolicy.
    pub fn get_repository_policy(
        &self,
        input: GetRepositoryPolicyRequest,
    ) -> Result<GetRepositoryPolicyResponse, RegistryError> {
        let name = input.repository_name;
        self.registry.repository(&name)?;
        let text = self.registry.repository_policy(&name)?;
        Ok(GetRepositoryPolicyResponse {
            registry_id: self.account(),
            policy_text: Some(text.ok_or_else(|| no_policy(&name))?),
            repository_name: Some(name),
        })
    }

    /// DeleteRepositoryPolicy: the policy deleted.
    pub fn delete_repository_policy(
        &self,
        input: DeleteRepositoryPolicyRequest,
    ) -> Result<DeleteRepositoryPolicyResponse, RegistryError> {
        let name = input.repository_name;
        self.registry.repository(&name)?;
        let text = self.registry.delete_repository_policy(&name)?;
        Ok(DeleteRepositoryPolicyResponse {
            registry_id: self.account(),
            policy_text: Some(text.ok_or_else(|| no_policy(&name))?),
            repository_name: Some(name),
        })
    }

    /// PutLifecyclePolicy (checked by the registry's lifecycle rules).
    pub fn put_lifecycle_policy(
        &self,
        input: PutLifecyclePolicyRequest,
    ) -> Result<PutLifecyclePolicyResponse, RegistryError> {
        self.registry
            .put_lifecycle_policy(&input.repository_name, &input.lifecycle_policy_text)?;
        Ok(PutLifecyclePolicyResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            lifecycle_policy_text: Some(input.lifecycle_policy_text),
        })
    }

    /// GetLifecyclePolicy, with when it was last evaluated.
    pub fn get_lifecycle_policy(
        &self,
        input: GetLifecyclePolicyRequest,
    ) -> Result<GetLifecyclePolicyResponse, RegistryError> {
        let (text, evaluated) = self.registry.lifecycle_policy(&input.repository_name)?;
        Ok(GetLifecyclePolicyResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            lifecycle_policy_text: Some(text),
            last_evaluated_at: evaluated,
        })
    }

    /// DeleteLifecyclePolicy: the policy deleted.
    pub fn delete_lifecycle_policy(
        &self,
        input: DeleteLifecyclePolicyRequest,
    ) -> Result<DeleteLifecyclePolicyResponse, RegistryError> {
        let (text, evaluated) = self
            .registry
            .delete_lifecycle_policy(&input.repository_name)?;
        Ok(DeleteLifecyclePolicyResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            lifecycle_policy_text: Some(text),
            last_evaluated_at: evaluated,
        })
    }

    /// StartLifecyclePolicyPreview. The preview is computed at once;
    /// GetLifecyclePolicyPreview reports it COMPLETE.
    pub fn start_lifecycle_policy_preview(
        &self,
        input: StartLifecyclePolicyPreviewRequest,
    ) -> Result<StartLifecyclePolicyPreviewResponse, RegistryError> {
        let (text, _) = self.registry.preview_lifecycle(
            &input.repository_name,
            input.lifecycle_policy_text.as_deref(),
        )?;
        Ok(StartLifecyclePolicyPreviewResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            lifecycle_policy_text: Some(text),
            status: Some(LifecyclePolicyPreviewStatus::InProgress),
        })
    }

    /// GetLifecyclePolicyPreview: the images the last preview would expire.
    pub fn get_lifecycle_policy_preview(
        &self,
        input: GetLifecyclePolicyPreviewRequest,
    ) -> Result<GetLifecyclePolicyPreviewResponse, RegistryError> {
        let (text, expired) = self.registry.lifecycle_preview(&input.repository_name)?;
        let count = expired.len() as i32;
        let results = expired
            .into_iter()
            .map(|(image, priority)| LifecyclePolicyPreviewResult {
                image_tags: (!image.tags.is_empty()).then_some(image.tags),
                image_digest: Some(image.digest),
                image_pushed_at: Some(image.pushed_at),
                action: Some(LifecyclePolicyRuleAction {
                    r#type: Some(ImageActionType::Expire),
                    target_storage_class: None,
                }),
                applied_rule_priority: Some(priority as i32),
                storage_class: None,
            })
            .collect();
        Ok(GetLifecyclePolicyPreviewResponse {
            registry_id: self.account(),
            repository_name: Some(input.repository_name),
            lifecycle_policy_text: Some(text),
            status: Some(LifecyclePolicyPreviewStatus::Complete),
            next_token: None,
            preview_results: Some(results),
            summary: Some(LifecyclePolicyPreviewSummary {
                expiring_image_total_count: Some(count),
                transitioning_image_total_counts: None,
            }),
        })
    }
}

/// The refusal of a repository without an access policy.
fn no_policy(name: &str) -> RegistryError {
    RegistryError::RepositoryPolicyNotFound(format!(
        "Repository policy does not exist for the repository with name '{name}': set one with SetRepositoryPolicy"
    ))
}
