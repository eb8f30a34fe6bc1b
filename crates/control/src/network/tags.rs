//! CreateTags, DeleteTags and DescribeTags on VPCs, subnets and security groups: one call may
//! name resources of every kind, told apart by their id's prefix.

use super::error::NetworkError;
use super::filters::{self, Filter, Filterable};
use super::records::{NO_TAGS, NetworkChange, NetworkState, SecurityGroup, Subnet, Tags, Vpc};
use crate::error::ControlError;
use crate::{Change, ControlPlane};

/// The most tags a resource may carry, and the longest key and value, as in EC2.
const MAX_TAGS: usize = 50;
const MAX_KEY: usize = 127;
const MAX_VALUE: usize = 255;

/// One tag of one resource, as DescribeTags answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDescription {
    /// The resource's id.
    pub resource_id: String,
    /// `vpc`, `subnet` or `security-group`.
    pub resource_type: &'static str,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl Filterable for TagDescription {
    const FILTERS: &'static [&'static str] = &["resource-id", "resource-type", "key", "value"];

    fn values(&self, name: &str) -> Vec<String> {
        let value = match name {
            "resource-id" => self.resource_id.clone(),
            "resource-type" => self.resource_type.into(),
            "key" => self.key.clone(),
            "value" => self.value.clone(),
            _ => return vec![],
        };
        vec![value]
    }

    fn tags(&self) -> &Tags {
        &NO_TAGS
    }
}

/// Checks tags a call writes: keys 1–127 characters not starting `aws:`, values ≤ 255.
pub(crate) fn check(tags: &Tags) -> Result<(), NetworkError> {
    if tags.len() > MAX_TAGS {
        return Err(NetworkError::InvalidParameterValue(format!(
            "{} tags were given: a resource carries at most {MAX_TAGS}",
            tags.len()
        )));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > MAX_KEY {
            return Err(NetworkError::InvalidParameterValue(format!(
                "Tag key '{key}' must be 1 to {MAX_KEY} characters"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(NetworkError::InvalidParameterValue(format!(
                "Tag keys starting with 'aws:' are reserved for internal use: '{key}'"
            )));
        }
        if value.chars().count() > MAX_VALUE {
            return Err(NetworkError::InvalidParameterValue(format!(
                "Tag value of key '{key}' is {} characters: at most {MAX_VALUE}",
                value.chars().count()
            )));
        }
    }
    Ok(())
}

/// A copy of a tagged resource's record, to change its tags in.
enum Tagged {
    Vpc(Vpc),
    Subnet(Subnet),
    Group(SecurityGroup),
}

impl Tagged {
    /// The resource `id` names, by its prefix.
    fn find(network: &NetworkState, id: &str) -> Result<Tagged, NetworkError> {
        let prefix = id.split_once('-').map(|(p, _)| p).unwrap_or_default();
        let found = match prefix {
            "vpc" => network.vpcs.get(id).cloned().map(Tagged::Vpc),
            "subnet" => network.subnets.get(id).cloned().map(Tagged::Subnet),
            "sg" => network.groups.get(id).cloned().map(Tagged::Group),
            _ => return Err(NetworkError::InvalidId(id.to_string())),
        };
        found.ok_or_else(|| match prefix {
            "vpc" => NetworkError::VpcNotFound(id.into()),
            "subnet" => NetworkError::SubnetNotFound(id.into()),
            _ => NetworkError::GroupNotFound(id.into()),
        })
    }

    fn tags(&mut self) -> &mut Tags {
        match self {
            Tagged::Vpc(v) => &mut v.tags,
            Tagged::Subnet(s) => &mut s.tags,
            Tagged::Group(g) => &mut g.tags,
        }
    }

    /// The change that stores the record as it now is.
    fn stored(self) -> Change {
        Change::Network(match self {
            Tagged::Vpc(v) => NetworkChange::Vpc(v),
            Tagged::Subnet(s) => NetworkChange::Subnet(s),
            Tagged::Group(g) => NetworkChange::Group(g),
        })
    }
}

impl ControlPlane {
    /// CreateTags: adds or replaces the tags on every resource named (all must exist).
    pub fn create_tags(&self, ids: &[String], new: &Tags) -> Result<(), ControlError> {
        check(new)?;
        self.mutate(|state, _ctx| {
            let mut changes = vec![];
            for id in ids {
                let mut record = Tagged::find(&state.network, id)?;
                let tags = record.tags();
                tags.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
                if tags.len() > MAX_TAGS {
                    return Err(NetworkError::TagLimit(id.clone()).into());
                }
                changes.push(record.stored());
            }
            Ok((changes, ()))
        })
    }

    /// DeleteTags: removes the keys given (only where the value matches, when one is given;
    /// every tag when no key is given) from every resource named.
    pub fn delete_tags(
        &self,
        ids: &[String],
        gone: &[(String, Option<String>)],
    ) -> Result<(), ControlError> {
        self.mutate(|state, _ctx| {
            let mut changes = vec![];
            for id in ids {
                let mut record = Tagged::find(&state.network, id)?;
                let tags = record.tags();
                if gone.is_empty() {
                    tags.clear();
                }
                for (key, value) in gone {
                    if value.as_ref().is_none_or(|v| tags.get(key) == Some(v)) {
                        tags.remove(key);
                    }
                }
                changes.push(record.stored());
            }
            Ok((changes, ()))
        })
    }

    /// DescribeTags: every tag of every resource, that passes the filters.
    pub fn describe_tags(&self, filters: &[Filter]) -> Result<Vec<TagDescription>, ControlError> {
        filters::check::<TagDescription>(filters)?;
        let state = self.read();
        let network = &state.network;
        let resources = network
            .vpcs
            .values()
            .map(|v| (&v.id, "vpc", &v.tags))
            .chain(network.subnets.values().map(|s| (&s.id, "subnet", &s.tags)))
            .chain(
                network
                    .groups
                    .values()
                    .map(|g| (&g.id, "security-group", &g.tags)),
            );
        Ok(resources
            .flat_map(|(id, kind, tags)| {
                tags.iter().map(move |(k, v)| TagDescription {
                    resource_id: id.clone(),
                    resource_type: kind,
                    key: k.clone(),
                    value: v.clone(),
                })
            })
            .filter(|t| filters::matches(t, filters))
            .collect())
    }
}
