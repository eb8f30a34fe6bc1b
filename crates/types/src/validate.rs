//! Limits from the service model, checked on every request before it touches state.

/// A value outside the model's limits: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Violation {
    /// Path of the offending field, e.g. `containerDefinitions[2].name`.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub problem: String,
}

/// Checks a wire value against the model's `min`/`max` limits (generated for every structure).
pub trait Validate {
    /// Checks this value; `path` prefixes the field names in the error.
    fn validate(&self, path: &str) -> Result<(), Violation>;
}

/// Checks a string or list length against the model's bounds.
pub(crate) fn check_len(
    len: usize,
    min: Option<f64>,
    max: Option<f64>,
    field: &str,
) -> Result<(), Violation> {
    if let Some(min) = min
        && (len as f64) < min
    {
        return Err(Violation {
            field: field.to_string(),
            problem: format!("has length {len}, but must have at least {min}"),
        });
    }
    if let Some(max) = max
        && (len as f64) > max
    {
        return Err(Violation {
            field: field.to_string(),
            problem: format!("has length {len}, but may have at most {max}"),
        });
    }
    Ok(())
}

/// Checks a number against the model's bounds.
pub(crate) fn check_range(
    value: f64,
    min: Option<f64>,
    max: Option<f64>,
    field: &str,
) -> Result<(), Violation> {
    let below = min.is_some_and(|m| value < m);
    let above = max.is_some_and(|m| value > m);
    if below || above {
        let lo = min.map_or("-inf".to_string(), |m| m.to_string());
        let hi = max.map_or("inf".to_string(), |m| m.to_string());
        return Err(Violation {
            field: field.to_string(),
            problem: format!("is {value}, but must be between {lo} and {hi}"),
        });
    }
    Ok(())
}
