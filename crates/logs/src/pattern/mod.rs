//! CloudWatch Logs filter patterns: parsed once per FilterLogEvents call, matched per event.
//!
//! Four kinds, told apart by the first character of the trimmed pattern:
//!
//! - `{ ... }`: a JSON pattern (`json.rs`): `$.a.b[0]` selectors compared with
//!   `= != < > <= >=`, `IS NULL|TRUE|FALSE`, `NOT EXISTS`, joined by `&&`, `||` and
//!   parentheses (`()` > `&&` > `||`). A message that is not a JSON object never matches.
//! - `[ ... ]`: a space-delimited pattern (`delimited.rs`): one name per message field, `...`
//!   for any number of fields, per-field conditions joined by `&&` / `||`.
//! - `%...%`: a regular expression (`regex.rs`), found anywhere in the message. CloudWatch's
//!   subset (no parentheses, ASCII only); also usable as a value in the other two kinds
//!   (`{ $.level = %WARN|ERROR% }`, `[w1 = %^[45]%, ...]`), at most two per pattern.
//! - anything else: terms (`terms.rs`): `A B` all, `?A ?B` any, `"a phrase"`, `-A` excluded.
//!   Blank, `""` and `" "` match everything.
//!
//! Work is bounded: patterns up to 1024 characters, parentheses nested up to 16 deep, `*`,
//! `...` and regular expressions matched without backtracking.
//!
//! What the docs confirm and what is assumed (sources: the CloudWatch Logs user guide's
//! "Filter pattern syntax" page as archived in awsdocs/amazon-cloudwatch-logs-user-guide, its
//! current regex section, and a later copy of its unstructured-events section):
//!
//! - Confirmed: case-sensitive; the `ERROR`, `ERROR ARGUMENTS`, `?ERROR ?ARGUMENTS`,
//!   `"INTERNAL SERVER ERROR"`, `ERROR -ARGUMENTS` and `" "` examples; `?` terms are ignored
//!   when combined with other terms (`?ERROR ?ARGUMENTS REQUEST` matches every `REQUEST`);
//!   the JSON examples (strings with `*`, numbers with scientific notation, arrays, `IS`,
//!   `NOT EXISTS`, `IS NOT`/`EXISTS` unsupported, selectors on arrays/objects never match,
//!   precedence); the space-delimited examples (`[]` and `""` group a field, `...`, `4*`,
//!   `*.html*`, `||` between tests of the same field; a test of another field inside one field
//!   is refused by CloudWatch, per awsdocs issue #21); regex: `%AUTHORIZED%` is found in
//!   `UNAUTHORIZED`, the operators `^ $ ? [ ] { } | \ * + .`, no parentheses, no multi-byte
//!   characters, at most two in a JSON or space-delimited pattern.
//! - Inferred: without `...`, a message with more fields than the pattern gives the rest to the
//!   last field; the docs' `[w1=ERROR, w2]` ("the first word is ERROR", with a note that the
//!   blank `w2` is required) only makes sense that way.
//! - Assumed: a term matches where it stands as a whole word, i.e. not touching a letter or digit
//!   on a side where the term itself starts/ends with one (`ERROR` matches `[ERROR 400]` but not
//!   `ERRORS`); the docs only say terms are "words" and `" "` matching everything argues for
//!   words over substrings. `_` counts as a separator. `!=` on a missing JSON field does not
//!   match; `null` only matches `IS NULL`. Numeric strings compare as numbers. Runs of spaces
//!   separate one pair of fields. In regexes, `.` is any character but a newline, `\d \w \s`
//!   (and capitals) are the usual classes, and other printable ASCII (a space included) is
//!   accepted literally though the docs list fewer symbols.

mod compare;
mod delimited;
mod expr;
mod fields;
mod glob;
mod json;
mod lexer;
mod regex;
mod regex_atoms;
mod selector;
mod terms;
#[cfg(test)]
mod tests;

use crate::LogsError;

/// The longest pattern accepted, in characters (CloudWatch's own limit).
const MAX_PATTERN_CHARS: usize = 1024;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub(crate) struct FilterPattern {
    kind: Kind,
}

/// The three syntaxes, plus the pattern that matches everything.
#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms(terms::Terms),
    Json(json::JsonPattern),
    Delimited(delimited::Delimited),
    Regex(regex::Regex),
}

impl FilterPattern {
    /// Parses `text` as CloudWatch does; a pattern it cannot parse is InvalidParameter.
    pub(crate) fn parse(text: &str) -> Result<Self, LogsError> {
        if text.chars().count() > MAX_PATTERN_CHARS {
            return Err(invalid(format!(
                "the filter pattern is longer than {MAX_PATTERN_CHARS} characters"
            )));
        }
        let text = text.trim();
        let kind = if text.is_empty() {
            Kind::All
        } else if let Some(body) = text.strip_prefix('{') {
            let body = body
                .strip_suffix('}')
                .ok_or_else(|| invalid("unbalanced braces: a JSON pattern must end with '}'"))?;
            Kind::Json(json::JsonPattern::parse(body)?)
        } else if let Some(body) = text.strip_prefix('[') {
            let body = body.strip_suffix(']').ok_or_else(|| {
                invalid("unbalanced brackets: a space-delimited pattern must end with ']'")
            })?;
            Kind::Delimited(delimited::Delimited::parse(body)?)
        } else if let Some(source) = text
            .strip_prefix('%')
            .and_then(|rest| rest.strip_suffix('%'))
        {
            Kind::Regex(regex::Regex::new(source)?)
        } else {
            match terms::Terms::parse(text)? {
                Some(terms) => Kind::Terms(terms),
                None => Kind::All,
            }
        };
        Ok(Self { kind })
    }

    /// Whether `message` matches.
    pub(crate) fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(terms) => terms.matches(message),
            Kind::Json(json) => json.matches(message),
            Kind::Delimited(delimited) => delimited.matches(message),
            Kind::Regex(regex) => regex.is_match(message),
        }
    }
}

/// An InvalidParameter naming what is wrong with the pattern.
fn invalid(message: impl std::fmt::Display) -> LogsError {
    LogsError::InvalidParameter(format!("invalid filter pattern: {message}"))
}
