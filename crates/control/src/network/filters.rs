//! EC2's `Filter.N.Name` / `Filter.N.Value.M` on Describe calls: a record is answered when
//! every filter matches one of its values (filters are ANDed, values ORed), values may carry
//! the wildcards `*` and `?`, and `tag:<key>` and `tag-key` look at the record's tags. A filter
//! name the resource does not have is refused, records or not.

use super::error::NetworkError;
use super::records::Tags;

/// One filter of a Describe call.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Its name (`vpc-id`, `tag:Name`, ...).
    pub name: String,
    /// The values, any of which matches.
    pub values: Vec<String>,
}

/// The most filters a call may carry, and values per filter.
const MAX_FILTERS: usize = 50;
const MAX_VALUES: usize = 200;
/// The longest filter value: as long as the longest tag value.
const MAX_VALUE_LEN: usize = 256;

/// A record Describe calls filter.
pub trait Filterable {
    /// The filter names this kind of record answers to, besides `tag:<key>` and `tag-key`.
    const FILTERS: &'static [&'static str];

    /// The record's values under filter `name` (one of [`Filterable::FILTERS`]).
    fn values(&self, name: &str) -> Vec<String>;

    /// The record's tags.
    fn tags(&self) -> &Tags;
}

/// Checks the filters of a call on records of kind `R`: known names, bounded sizes.
pub fn check<R: Filterable>(filters: &[Filter]) -> Result<(), NetworkError> {
    if filters.len() > MAX_FILTERS {
        return Err(NetworkError::InvalidParameterValue(format!(
            "{} filters were given: at most {MAX_FILTERS}",
            filters.len()
        )));
    }
    for f in filters {
        let known = R::FILTERS.contains(&f.name.as_str())
            || f.name == "tag-key"
            || f.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(NetworkError::InvalidFilter(f.name.clone()));
        }
        if f.values.len() > MAX_VALUES || f.values.iter().any(|v| v.len() > MAX_VALUE_LEN) {
            return Err(NetworkError::InvalidParameterValue(format!(
                "filter {} has {} values: at most {MAX_VALUES}, each at most {MAX_VALUE_LEN} characters",
                f.name,
                f.values.len()
            )));
        }
    }
    Ok(())
}

/// Whether `record` passes every filter (checked with [`check`]).
pub fn matches<R: Filterable>(record: &R, filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        let have: Vec<String> = if f.name == "tag-key" {
            record.tags().keys().cloned().collect()
        } else if let Some(key) = f.name.strip_prefix("tag:") {
            record.tags().get(key).cloned().into_iter().collect()
        } else {
            record.values(&f.name)
        };
        f.values
            .iter()
            .any(|want| have.iter().any(|h| wildcard(want, h)))
    })
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` any one. The
/// walk backtracks to the last `*` only, so it takes at most len(pattern) × len(text) steps,
/// and [`check`] bounds the pattern.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(Tags);
    impl Filterable for Thing {
        const FILTERS: &'static [&'static str] = &["colour"];
        fn values(&self, _name: &str) -> Vec<String> {
            vec!["blue".into()]
        }
        fn tags(&self) -> &Tags {
            &self.0
        }
    }

    fn filter(name: &str, values: &[&str]) -> Filter {
        Filter {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("web-*", "web-1"));
        assert!(wildcard("w?b*", "web"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("web", "web-1"));
        assert!(wildcard("*a*b", "xxaxxb"));
        assert!(!wildcard("*a*b", "xxaxxbc"));
    }

    #[test]
    fn filters_and_across_or_within_and_look_at_tags() {
        let thing = Thing(Tags::from([("Name".into(), "front".into())]));
        assert!(matches(&thing, &[filter("colour", &["red", "blue"])]));
        assert!(!matches(
            &thing,
            &[filter("colour", &["blue"]), filter("tag:Name", &["back"])]
        ));
        assert!(matches(&thing, &[filter("tag:Name", &["fr*"])]));
        assert!(matches(&thing, &[filter("tag-key", &["Name"])]));
        assert!(check::<Thing>(&[filter("size", &["1"])]).is_err());
        assert!(check::<Thing>(&[filter("tag:", &["1"])]).is_err());
        assert!(check::<Thing>(&[filter("tag:Name", &["1"])]).is_ok());
    }
}
