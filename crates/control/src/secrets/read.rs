//! GetSecretValue, DescribeSecret and ListSecrets: reads from memory. Only GetSecretValue
//! answers a value; the others say which versions carry which labels.

use super::{StoredSecret, find, find_live};
use crate::ControlPlane;
use crate::error::{ControlError, SecretError};
use crate::paginate::{Size, page};
use berth_types::secretsmanager::{
    DescribeSecretRequest, DescribeSecretResponse, Filter, FilterNameStringType,
    GetSecretValueRequest, GetSecretValueResponse, ListSecretsRequest, ListSecretsResponse,
    SecretListEntry, SortOrderType,
};

/// Whether a secret passes one ListSecrets filter: a value matches the start of the field
/// (`!` in front negates it), as the model says AWS matches them.
fn passes(secret: &StoredSecret, filter: &Filter) -> Result<bool, SecretError> {
    let key = filter.key.unwrap_or(FilterNameStringType::All);
    let fields: Vec<&str> = match key {
        FilterNameStringType::Name => vec![&secret.name],
        FilterNameStringType::Description => secret.description.as_deref().into_iter().collect(),
        FilterNameStringType::TagKey => secret
            .tags
            .iter()
            .filter_map(|t| t.key.as_deref())
            .collect(),
        FilterNameStringType::TagValue => secret
            .tags
            .iter()
            .filter_map(|t| t.value.as_deref())
            .collect(),
        FilterNameStringType::All => std::iter::once(secret.name.as_str())
            .chain(secret.description.as_deref())
            .chain(secret.tags.iter().filter_map(|t| t.key.as_deref()))
            .chain(secret.tags.iter().filter_map(|t| t.value.as_deref()))
            .collect(),
        other => {
            return Err(SecretError::InvalidParameter(format!(
                "the filter key {other} is not supported by Berth: use name, description, tag-key, tag-value or all"
            )));
        }
    };
    // Descriptions and `all` match whatever the case, the others as written.
    let fold = matches!(
        key,
        FilterNameStringType::Description | FilterNameStringType::All
    );
    let norm = |s: &str| {
        if fold {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let fields: Vec<String> = fields.into_iter().map(norm).collect();
    let values = filter.values.clone().unwrap_or_default();
    Ok(values
        .iter()
        .map(|v| norm(v))
        .any(|value| match value.strip_prefix('!') {
            Some(negated) => !fields.iter().any(|f| f.starts_with(negated)),
            None => fields.iter().any(|f| f.starts_with(value.as_str())),
        }))
}

impl ControlPlane {
    /// GetSecretValue: the AWSCURRENT version, or the one a VersionId or VersionStage
    /// selects; refused while the secret is scheduled for deletion.
    pub fn get_secret_value(
        &self,
        input: GetSecretValueRequest,
    ) -> Result<GetSecretValueResponse, ControlError> {
        let state = self.read();
        let secret = find_live(&state, &input.secret_id, self.now())?;
        let version =
            secret.version(input.version_id.as_deref(), input.version_stage.as_deref())?;
        Ok(GetSecretValueResponse {
            arn: Some(secret.arn.clone()),
            name: Some(secret.name.clone()),
            version_id: Some(version.id.clone()),
            secret_binary: version.binary.clone(),
            secret_string: version.string.clone(),
            version_stages: Some(version.stages.clone()),
            created_date: Some(version.created),
        })
    }

    /// DescribeSecret: everything but the values, a secret scheduled for deletion too.
    pub fn describe_secret(
        &self,
        input: DescribeSecretRequest,
    ) -> Result<DescribeSecretResponse, ControlError> {
        let state = self.read();
        let secret = find(&state, &input.secret_id, self.now())?;
        Ok(DescribeSecretResponse {
            arn: Some(secret.arn.clone()),
            name: Some(secret.name.clone()),
            description: secret.description.clone(),
            kms_key_id: secret.kms_key_id.clone(),
            last_changed_date: Some(secret.changed),
            deleted_date: secret.deleted,
            tags: Some(secret.tags.clone()),
            version_ids_to_stages: Some(secret.stages()),
            created_date: Some(secret.created),
            ..DescribeSecretResponse::default()
        })
    }

    /// ListSecrets: the secrets (not those scheduled for deletion unless asked), newest first
    /// unless `SortOrder` is `asc`, filtered, a hundred a page.
    pub fn list_secrets(
        &self,
        input: ListSecretsRequest,
    ) -> Result<ListSecretsResponse, ControlError> {
        let state = self.read();
        let now = self.now();
        let planned = input.include_planned_deletion.unwrap_or(false);
        let filters = input.filters.clone().unwrap_or_default();
        let mut found = vec![];
        for secret in state.secrets.values() {
            if secret.is_gone(now) || (secret.is_scheduled_for_deletion() && !planned) {
                continue;
            }
            if !filters.iter().try_fold(true, |all, f| {
                Ok::<_, SecretError>(all && passes(secret, f)?)
            })? {
                continue;
            }
            found.push(secret);
        }
        found.sort_by(|a, b| a.created.total_cmp(&b.created).then(a.name.cmp(&b.name)));
        if input.sort_order != Some(SortOrderType::Asc) {
            found.reverse();
        }
        let entries = found
            .into_iter()
            .map(|secret| SecretListEntry {
                arn: Some(secret.arn.clone()),
                name: Some(secret.name.clone()),
                description: secret.description.clone(),
                kms_key_id: secret.kms_key_id.clone(),
                last_changed_date: Some(secret.changed),
                deleted_date: secret.deleted,
                tags: Some(secret.tags.clone()),
                secret_versions_to_stages: Some(secret.stages()),
                created_date: Some(secret.created),
                ..SecretListEntry::default()
            })
            .collect();
        let size = Size {
            default: 100,
            most: 100,
        };
        let (secret_list, next_token) = page(
            entries,
            input.max_results,
            input.next_token.as_deref(),
            size,
        )?;
        Ok(ListSecretsResponse {
            secret_list: Some(secret_list),
            next_token,
        })
    }
}
