//! GetParameter, GetParameters, GetParametersByPath, GetParameterHistory, DescribeParameters
//! and ListTagsForResource on parameters: reads from memory, SecureString values only to a
//! caller who asks for decryption.

use super::{ParameterVersion, StoredParameter, find, parameter_arn, selector, tagged};
use crate::error::{ControlError, ParameterError};
use crate::paginate::{Size, page};
use crate::{ControlPlane, State};
use berth_types::arn::Partition;
use berth_types::ssm::{
    DescribeParametersRequest, DescribeParametersResult, GetParameterHistoryRequest,
    GetParameterHistoryResult, GetParameterRequest, GetParameterResult, GetParametersByPathRequest,
    GetParametersByPathResult, GetParametersRequest, GetParametersResult,
    ListTagsForResourceRequest, ListTagsForResourceResult, Parameter, ParameterHistory,
    ParameterMetadata, ParameterStringFilter, ParameterType, ParametersFilterKey,
};

/// The KMS key SecureStrings are said to be encrypted with: AWS's default for SSM.
const DEFAULT_KEY: &str = "alias/aws/ssm";

/// A parameter's version as GetParameter(s) answers it.
fn answer(
    partition: &Partition,
    parameter: &StoredParameter,
    version: &ParameterVersion,
    selector: Option<String>,
    decrypt: bool,
) -> Parameter {
    Parameter {
        name: Some(parameter.name.clone()),
        r#type: Some(version.kind),
        value: Some(version.value_for(decrypt)),
        version: Some(version.version),
        selector: selector.map(|s| format!(":{s}")),
        last_modified_date: Some(version.modified),
        arn: Some(parameter_arn(partition, &parameter.name)),
        data_type: Some(version.data_type.clone()),
        ..Parameter::default()
    }
}

/// The KMS key a version names: SecureStrings only.
fn key_of(version: &ParameterVersion) -> Option<String> {
    (version.kind == ParameterType::SecureString).then(|| DEFAULT_KEY.to_string())
}

/// A path's parameters: its direct children, or with `recursive` everything below it.
fn under<'s>(
    state: &'s State,
    path: &str,
    recursive: bool,
) -> impl Iterator<Item = &'s StoredParameter> {
    let prefix = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    let root = prefix == "/";
    state.parameters.values().filter(move |p| {
        // A name without `/` sits at the root, as `/name` would.
        let rest = match p.name.strip_prefix(&prefix) {
            Some(rest) => rest,
            None if root && !p.name.starts_with('/') => &p.name,
            None => return false,
        };
        recursive || !rest.contains('/')
    })
}

/// How a parameter is matched by one ParameterFilters entry.
fn matches(
    parameter: &StoredParameter,
    filter: &ParameterStringFilter,
) -> Result<bool, ParameterError> {
    let values = filter.values.clone().unwrap_or_default();
    let option = filter.option.as_deref();
    let name = parameter.name.as_str();
    let bad_option = || {
        ParameterError::InvalidFilterOption(format!(
            "The option {:?} is not valid for key {}",
            option.unwrap_or_default(),
            filter.key
        ))
    };
    Ok(match filter.key.as_str() {
        "Name" => match option.unwrap_or("Equals") {
            "Equals" => values.iter().any(|v| v == name),
            "BeginsWith" => values.iter().any(|v| name.starts_with(v.as_str())),
            "Contains" => values.iter().any(|v| name.contains(v.as_str())),
            _ => return Err(bad_option()),
        },
        "Type" => match option.unwrap_or("Equals") {
            "Equals" => {
                for v in &values {
                    if ParameterType::from_wire(v).is_none() {
                        return Err(ParameterError::InvalidFilterValue(format!(
                            "The filter value {v:?} is not valid for key Type: use String, StringList or SecureString"
                        )));
                    }
                }
                values
                    .iter()
                    .any(|v| v == parameter.current().kind.as_str())
            }
            _ => return Err(bad_option()),
        },
        "Path" => {
            let recursive = match option.unwrap_or("OneLevel") {
                "OneLevel" => false,
                "Recursive" => true,
                _ => return Err(bad_option()),
            };
            values.iter().any(|path| {
                let prefix = format!("{}/", path.trim_end_matches('/'));
                match name.strip_prefix(&prefix) {
                    Some(rest) => recursive || !rest.contains('/'),
                    None => prefix == "/" && !name.starts_with('/'),
                }
            })
        }
        other => {
            return Err(ParameterError::InvalidFilterKey(format!(
                "The filter key {other:?} is not supported by Berth: use Name, Type or Path"
            )));
        }
    })
}

/// The filters of DescribeParameters, the older `Filters` read as ParameterFilters.
fn filters(
    input: &DescribeParametersRequest,
) -> Result<Vec<ParameterStringFilter>, ParameterError> {
    match (&input.filters, &input.parameter_filters) {
        (Some(_), Some(_)) => Err(ParameterError::Invalid(
            "You can use either Filters or ParameterFilters in a single request.".into(),
        )),
        (Some(old), None) => old
            .iter()
            .map(|f| match f.key {
                ParametersFilterKey::Name => Ok(ParameterStringFilter {
                    key: "Name".into(),
                    option: Some("BeginsWith".into()),
                    values: Some(f.values.clone()),
                }),
                ParametersFilterKey::Type => Ok(ParameterStringFilter {
                    key: "Type".into(),
                    option: None,
                    values: Some(f.values.clone()),
                }),
                ParametersFilterKey::KeyId => Err(ParameterError::InvalidFilterKey(
                    "The filter key KeyId is not supported by Berth: use Name or Type".into(),
                )),
            })
            .collect(),
        (None, new) => Ok(new.clone().unwrap_or_default()),
    }
}

impl ControlPlane {
    /// GetParameter: the current version, or the one after `:` in the name.
    pub fn get_parameter(
        &self,
        input: GetParameterRequest,
    ) -> Result<GetParameterResult, ControlError> {
        let state = self.read();
        let (parameter, version) = find(&state, &self.partition, &input.name)?;
        let decrypt = input.with_decryption.unwrap_or(false);
        let selector = selector(&input.name).version;
        Ok(GetParameterResult {
            parameter: Some(answer(
                &self.partition,
                parameter,
                version,
                selector,
                decrypt,
            )),
        })
    }

    /// GetParameters: those found, and the names not found in `InvalidParameters`.
    pub fn get_parameters(
        &self,
        input: GetParametersRequest,
    ) -> Result<GetParametersResult, ControlError> {
        let state = self.read();
        let decrypt = input.with_decryption.unwrap_or(false);
        let (mut found, mut invalid) = (vec![], vec![]);
        for name in &input.names {
            match find(&state, &self.partition, name) {
                Ok((parameter, version)) => {
                    let selector = selector(name).version;
                    found.push(answer(
                        &self.partition,
                        parameter,
                        version,
                        selector,
                        decrypt,
                    ));
                }
                Err(_) => invalid.push(name.clone()),
            }
        }
        Ok(GetParametersResult {
            parameters: Some(found),
            invalid_parameters: Some(invalid),
        })
    }

    /// GetParametersByPath: the parameters one level below `Path`, or all below it with
    /// `Recursive`, ten a page.
    pub fn get_parameters_by_path(
        &self,
        input: GetParametersByPathRequest,
    ) -> Result<GetParametersByPathResult, ControlError> {
        if !input.path.starts_with('/') {
            return Err(ParameterError::Invalid(format!(
                "The parameter doesn't meet the parameter name requirements: Path {:?} must begin with /",
                input.path
            ))
            .into());
        }
        let state = self.read();
        let decrypt = input.with_decryption.unwrap_or(false);
        let filters = input.parameter_filters.clone().unwrap_or_default();
        let mut found = vec![];
        for parameter in under(&state, &input.path, input.recursive.unwrap_or(false)) {
            if filters.iter().try_fold(true, |all, f| {
                Ok::<_, ParameterError>(all && matches(parameter, f)?)
            })? {
                found.push(answer(
                    &self.partition,
                    parameter,
                    parameter.current(),
                    None,
                    decrypt,
                ));
            }
        }
        let size = Size {
            default: 10,
            most: 10,
        };
        let (parameters, next_token) =
            page(found, input.max_results, input.next_token.as_deref(), size)?;
        Ok(GetParametersByPathResult {
            parameters: Some(parameters),
            next_token,
        })
    }

    /// GetParameterHistory: every version kept, oldest first.
    pub fn get_parameter_history(
        &self,
        input: GetParameterHistoryRequest,
    ) -> Result<GetParameterHistoryResult, ControlError> {
        let state = self.read();
        let (parameter, _) = find(&state, &self.partition, &input.name)?;
        let decrypt = input.with_decryption.unwrap_or(false);
        let history = parameter
            .versions
            .iter()
            .map(|v| ParameterHistory {
                name: Some(parameter.name.clone()),
                r#type: Some(v.kind),
                key_id: key_of(v),
                last_modified_date: Some(v.modified),
                last_modified_user: Some(v.user.clone()),
                description: v.description.clone(),
                value: Some(v.value_for(decrypt)),
                version: Some(v.version),
                labels: Some(vec![]),
                tier: Some(v.tier),
                policies: Some(vec![]),
                data_type: Some(v.data_type.clone()),
                ..ParameterHistory::default()
            })
            .collect();
        let size = Size {
            default: 50,
            most: 50,
        };
        let (parameters, next_token) = page(
            history,
            input.max_results,
            input.next_token.as_deref(),
            size,
        )?;
        Ok(GetParameterHistoryResult {
            parameters: Some(parameters),
            next_token,
        })
    }

    /// DescribeParameters: every parameter's metadata (never its value), filtered by name,
    /// type or path.
    pub fn describe_parameters(
        &self,
        input: DescribeParametersRequest,
    ) -> Result<DescribeParametersResult, ControlError> {
        let filters = filters(&input)?;
        let state = self.read();
        let mut found = vec![];
        for parameter in state.parameters.values() {
            if !filters.iter().try_fold(true, |all, f| {
                Ok::<_, ParameterError>(all && matches(parameter, f)?)
            })? {
                continue;
            }
            let v = parameter.current();
            found.push(ParameterMetadata {
                name: Some(parameter.name.clone()),
                arn: Some(parameter_arn(&self.partition, &parameter.name)),
                r#type: Some(v.kind),
                key_id: key_of(v),
                last_modified_date: Some(v.modified),
                last_modified_user: Some(v.user.clone()),
                description: v.description.clone(),
                version: Some(v.version),
                tier: Some(v.tier),
                policies: Some(vec![]),
                data_type: Some(v.data_type.clone()),
                ..ParameterMetadata::default()
            });
        }
        let size = Size {
            default: 10,
            most: 50,
        };
        let (parameters, next_token) =
            page(found, input.max_results, input.next_token.as_deref(), size)?;
        Ok(DescribeParametersResult {
            parameters: Some(parameters),
            next_token,
        })
    }

    /// ListTagsForResource on a parameter.
    pub fn list_tags_of_parameter(
        &self,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResult, ControlError> {
        let state = self.read();
        let parameter = tagged(
            &state,
            &self.partition,
            input.resource_type,
            &input.resource_id,
        )?;
        Ok(ListTagsForResourceResult {
            tag_list: Some(parameter.tags.clone()),
        })
    }
}
