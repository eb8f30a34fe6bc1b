//! PutParameter, DeleteParameter, DeleteParameters and the tag calls on parameters.

use super::{
    ADVANCED_VALUE, MAX_VERSIONS, ParameterVersion, STANDARD_VALUE, StoredParameter, check_name,
    find, sealed_stand_in, tagged,
};
use crate::error::{ControlError, ParameterError};
use crate::{Change, ControlPlane};
use berth_types::ssm::{
    AddTagsToResourceRequest, AddTagsToResourceResult, DeleteParameterRequest,
    DeleteParameterResult, DeleteParametersRequest, DeleteParametersResult, ParameterTier,
    PutParameterRequest, PutParameterResult, RemoveTagsFromResourceRequest,
    RemoveTagsFromResourceResult, ResourceTypeForTagging, Tag,
};

/// The most tags a parameter may carry.
const MAX_TAGS: usize = 50;

/// The tier a value is stored in: the one asked for, Advanced once it was (AWS never moves a
/// parameter back), the smallest it fits in for Intelligent-Tiering, else Standard.
fn tier(
    asked: Option<ParameterTier>,
    before: Option<ParameterTier>,
    len: usize,
) -> Result<ParameterTier, ParameterError> {
    let tier = match asked.or(before) {
        Some(ParameterTier::Advanced) => ParameterTier::Advanced,
        Some(ParameterTier::Standard) if before == Some(ParameterTier::Advanced) => {
            return Err(ParameterError::Invalid(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.".into(),
            ));
        }
        Some(ParameterTier::IntelligentTiering) if len > STANDARD_VALUE => ParameterTier::Advanced,
        _ => ParameterTier::Standard,
    };
    let most = match tier {
        ParameterTier::Advanced => ADVANCED_VALUE,
        _ => STANDARD_VALUE,
    };
    if len > most {
        return Err(ParameterError::Invalid(format!(
            "the value is {len} characters: a {tier} parameter holds at most {most} (Advanced: {ADVANCED_VALUE})"
        )));
    }
    Ok(tier)
}

/// Refuses what Berth does not implement of PutParameter, saying so.
fn refuse_unsupported(input: &PutParameterRequest) -> Result<(), ParameterError> {
    let unsupported = |what: &str| {
        Err(ParameterError::Invalid(format!(
            "{what} is not supported by Berth's Parameter Store: leave it out"
        )))
    };
    if input.allowed_pattern.is_some() {
        return unsupported("AllowedPattern");
    }
    if input.policies.is_some() {
        return unsupported("Policies");
    }
    match input.data_type.as_deref() {
        None | Some("text") => Ok(()),
        Some(other) => unsupported(&format!("DataType {other:?} (only text is)")),
    }
}

/// Adds `new` to `tags`, a new value replacing an old one of the same key.
fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>, name: &str) -> Result<(), ParameterError> {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(old) => old.value = tag.value,
            None => tags.push(tag),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ParameterError::TooManyTags(name.to_string()));
    }
    Ok(())
}

impl ControlPlane {
    /// PutParameter: creates a parameter at version 1, or with `Overwrite` adds a version.
    pub fn put_parameter(
        &self,
        input: PutParameterRequest,
        caller: &str,
    ) -> Result<PutParameterResult, ControlError> {
        check_name(&input.name)?;
        refuse_unsupported(&input)?;
        if input.value.is_empty() {
            return Err(ParameterError::Invalid(
                "Value is empty: a parameter's value has at least one character".into(),
            )
            .into());
        }
        let overwrite = input.overwrite.unwrap_or(false);
        if overwrite && input.tags.is_some() {
            return Err(ParameterError::Invalid(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.".into(),
            )
            .into());
        }
        self.mutate(|state, ctx| {
            let existing = state.parameters.get(&input.name);
            if existing.is_some() && !overwrite {
                return Err(ParameterError::AlreadyExists(input.name.clone()).into());
            }
            let before = existing.map(StoredParameter::current);
            let kind = input.r#type.or(before.map(|v| v.kind)).ok_or_else(|| {
                ParameterError::Invalid(
                    "A parameter type is required when you create a parameter.".into(),
                )
            })?;
            let tier = tier(input.tier, before.map(|v| v.tier), input.value.len())?;
            let version = ParameterVersion {
                version: before.map_or(1, |v| v.version + 1),
                kind,
                sealed: sealed_stand_in(input.value.len()),
                value: input.value.clone(),
                description: input
                    .description
                    .clone()
                    .or_else(|| before.and_then(|v| v.description.clone())),
                data_type: "text".into(),
                tier,
                modified: ctx.now,
                user: caller.to_string(),
            };
            let answer = PutParameterResult {
                version: Some(version.version),
                tier: Some(tier),
            };
            let mut parameter = existing.cloned().unwrap_or_else(|| StoredParameter {
                name: input.name.clone(),
                tags: vec![],
                versions: vec![],
            });
            merge_tags(
                &mut parameter.tags,
                input.tags.clone().unwrap_or_default(),
                &input.name,
            )?;
            parameter.versions.push(version);
            let excess = parameter.versions.len().saturating_sub(MAX_VERSIONS);
            parameter.versions.drain(..excess);
            Ok((vec![Change::Parameter(parameter)], answer))
        })
    }

    /// DeleteParameter: the parameter and all its versions.
    pub fn delete_parameter(
        &self,
        input: DeleteParameterRequest,
    ) -> Result<DeleteParameterResult, ControlError> {
        self.mutate(|state, ctx| {
            let (parameter, _) = find(state, ctx.partition, &input.name)?;
            let change = Change::RemoveParameter(parameter.name.clone());
            Ok((vec![change], DeleteParameterResult {}))
        })
    }

    /// DeleteParameters: those that exist go, the others are named in `InvalidParameters`.
    pub fn delete_parameters(
        &self,
        input: DeleteParametersRequest,
    ) -> Result<DeleteParametersResult, ControlError> {
        self.mutate(|state, ctx| {
            let (mut changes, mut deleted, mut invalid) = (vec![], vec![], vec![]);
            for name in &input.names {
                match find(state, ctx.partition, name) {
                    Ok((parameter, _)) => {
                        changes.push(Change::RemoveParameter(parameter.name.clone()));
                        deleted.push(name.clone());
                    }
                    Err(_) => invalid.push(name.clone()),
                }
            }
            let answer = DeleteParametersResult {
                deleted_parameters: Some(deleted),
                invalid_parameters: Some(invalid),
            };
            Ok((changes, answer))
        })
    }

    /// AddTagsToResource on a parameter: new keys added, existing ones given the new value.
    pub fn add_tags_to_parameter(
        &self,
        input: AddTagsToResourceRequest,
    ) -> Result<AddTagsToResourceResult, ControlError> {
        self.retag(input.resource_type, &input.resource_id, |parameter| {
            let name = parameter.name.clone();
            merge_tags(&mut parameter.tags, input.tags, &name)
        })?;
        Ok(AddTagsToResourceResult {})
    }

    /// RemoveTagsFromResource on a parameter: keys it does not carry are ignored.
    pub fn remove_tags_from_parameter(
        &self,
        input: RemoveTagsFromResourceRequest,
    ) -> Result<RemoveTagsFromResourceResult, ControlError> {
        self.retag(input.resource_type, &input.resource_id, |parameter| {
            parameter.tags.retain(|t| !input.tag_keys.contains(&t.key));
            Ok(())
        })?;
        Ok(RemoveTagsFromResourceResult {})
    }

    /// Changes the tags of the parameter a tag call names.
    fn retag(
        &self,
        kind: ResourceTypeForTagging,
        id: &str,
        change: impl FnOnce(&mut StoredParameter) -> Result<(), ParameterError>,
    ) -> Result<(), ControlError> {
        self.mutate(|state, ctx| {
            let mut parameter = tagged(state, ctx.partition, kind, id)?.clone();
            change(&mut parameter)?;
            Ok((vec![Change::Parameter(parameter)], ()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_fits_the_value() {
        use ParameterTier::{Advanced, IntelligentTiering, Standard};
        assert_eq!(tier(None, None, 10), Ok(Standard));
        assert!(tier(None, None, 5000).is_err(), "Standard unless asked");
        assert_eq!(tier(Some(IntelligentTiering), None, 5000), Ok(Advanced));
        assert_eq!(tier(None, Some(Advanced), 10), Ok(Advanced));
        assert!(tier(Some(Standard), None, 5000).is_err());
        assert!(tier(Some(Standard), Some(Advanced), 10).is_err());
        assert!(tier(Some(Advanced), None, 9000).is_err());
    }
}
