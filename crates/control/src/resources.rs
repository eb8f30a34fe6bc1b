//! An instance's resources as ECS lists them (`CPU`, `MEMORY`, `PORTS`, ...): a named value
//! read out of the list, and one made for Describe. A leaf module, shared by the instance
//! calls and the scheduler's views.

use berth_types::ecs::Resource;

/// The integer value of the resource `name`; 0 when absent.
pub(crate) fn resource_value(resources: &[Resource], name: &str) -> i64 {
    resources
        .iter()
        .find(|r| r.name.as_deref() == Some(name))
        .map(|r| {
            r.integer_value
                .map(i64::from)
                .or(r.long_value)
                .or(r.double_value.map(|d| d as i64))
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// The string set of the resource `name`; empty when absent.
pub(crate) fn resource_set(resources: &[Resource], name: &str) -> Vec<String> {
    resources
        .iter()
        .find(|r| r.name.as_deref() == Some(name))
        .and_then(|r| r.string_set_value.clone())
        .unwrap_or_default()
}

/// An INTEGER resource.
pub(crate) fn int_resource(name: &str, value: i64) -> Resource {
    Resource {
        name: Some(name.into()),
        r#type: Some("INTEGER".into()),
        integer_value: Some(value as i32),
        double_value: Some(0.0),
        long_value: Some(0),
        ..Resource::default()
    }
}

/// A STRINGSET resource.
pub(crate) fn set_resource(name: &str, values: Vec<String>) -> Resource {
    Resource {
        name: Some(name.into()),
        r#type: Some("STRINGSET".into()),
        string_set_value: Some(values),
        double_value: Some(0.0),
        long_value: Some(0),
        integer_value: Some(0),
    }
}
