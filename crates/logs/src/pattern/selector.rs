//! JSON property selectors: `$.eventType`, `$.arrayKey[0]`, `$.objectList[1].id`,
//! `$.coordinates[0][1]`. Names are letters, digits, `-` and `_`, as the docs allow.

use super::invalid;
use crate::LogsError;
use serde_json::Value;

/// One step down into a JSON value.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// A parsed selector.
#[derive(Debug, Clone)]
pub(super) struct Selector {
    steps: Vec<Step>,
}

impl Selector {
    /// Parses `text`, which must start with `$`.
    pub(super) fn parse(text: &str) -> Result<Self, LogsError> {
        let bad = |why: &str| invalid(format!("bad property selector '{text}': {why}"));
        let mut rest = text
            .strip_prefix('$')
            .ok_or_else(|| bad("a selector starts with '$.'"))?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let len = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(after.len());
                if len == 0 {
                    return Err(bad("'.' must be followed by a property name"));
                }
                steps.push(Step::Key(after[..len].to_owned()));
                rest = &after[len..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let (index, after) = after
                    .split_once(']')
                    .ok_or_else(|| bad("unbalanced brackets"))?;
                let index = index
                    .parse::<usize>()
                    .map_err(|_| bad("an array index is a non-negative integer"))?;
                steps.push(Step::Index(index));
                rest = after;
            } else {
                return Err(bad("expected '.name' or '[index]'"));
            }
        }
        if steps.is_empty() {
            return Err(bad("'$' alone selects nothing; name a property ('$.name')"));
        }
        Ok(Self { steps })
    }

    /// The value the selector reaches in `root`, if any.
    pub(super) fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.steps.iter().try_fold(root, |value, step| match step {
            Step::Key(key) => value.as_object()?.get(key),
            Step::Index(index) => value.as_array()?.get(*index),
        })
    }
}
