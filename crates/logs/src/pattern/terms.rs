//! Term patterns for unstructured messages: `ERROR ARGUMENTS` (all), `?ERROR ?WARN` (any),
//! `"INTERNAL SERVER ERROR"` (a phrase), `ERROR -ARGUMENTS` (exclusion).
//!
//! As the docs say, `?` terms only count in a pattern made of nothing else: mixed with plain or
//! excluded terms they are ignored (`?ERROR ?ARGUMENTS REQUEST` matches every `REQUEST`).
//! A term or phrase matches as whole words: where it begins (ends) with a letter or digit, the
//! character before (after) it in the message must not be one. A blank phrase (`""`, `" "`)
//! matches everything. Unquoted terms may not hold quotes, braces or brackets: those must be
//! quoted.

use super::invalid;
use super::lexer::quoted;
use crate::LogsError;

/// A parsed term pattern.
#[derive(Debug, Clone)]
pub(super) struct Terms {
    required: Vec<String>,
    optional: Vec<String>,
    excluded: Vec<String>,
}

impl Terms {
    /// Parses `text`; `None` when every term is blank, so the pattern matches everything.
    pub(super) fn parse(text: &str) -> Result<Option<Self>, LogsError> {
        let mut terms = Self {
            required: Vec::new(),
            optional: Vec::new(),
            excluded: Vec::new(),
        };
        let mut chars = text.char_indices().peekable();
        while let Some(&(at, c)) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let list = match c {
                '?' => &mut terms.optional,
                '-' => &mut terms.excluded,
                _ => &mut terms.required,
            };
            if matches!(c, '?' | '-') {
                chars.next();
            }
            let term = match chars.peek() {
                Some(&(_, '"')) => {
                    chars.next();
                    let phrase = quoted(&mut chars)?;
                    if chars.peek().is_some_and(|&(_, n)| !n.is_whitespace()) {
                        return Err(invalid(
                            "a quoted phrase must be followed by a space or the end",
                        ));
                    }
                    phrase.trim().to_owned()
                }
                Some(&(start, n)) if !n.is_whitespace() => {
                    let mut end = start;
                    while let Some((i, n)) = chars.next_if(|&(_, n)| !n.is_whitespace()) {
                        end = i + n.len_utf8();
                    }
                    bare(&text[start..end])?.to_owned()
                }
                _ => {
                    return Err(invalid(format!(
                        "'{c}' at position {at} must be followed by a term"
                    )));
                }
            };
            list.push(term);
        }
        // A blank phrase matches everything: it adds nothing to the required terms, and
        // excluding it would exclude everything, which no one means.
        terms.required.retain(|t| !t.is_empty());
        terms.excluded.retain(|t| !t.is_empty());
        if terms.required.is_empty() && terms.excluded.is_empty() && terms.optional.is_empty() {
            return Ok(None);
        }
        Ok(Some(terms))
    }

    /// Whether `message` holds the required terms, none of the excluded ones and, in a pattern
    /// of only `?` terms, at least one of those.
    pub(super) fn matches(&self, message: &str) -> bool {
        if self.required.is_empty() && self.excluded.is_empty() {
            return self.optional.iter().any(|t| contains_words(message, t));
        }
        self.required.iter().all(|t| contains_words(message, t))
            && !self.excluded.iter().any(|t| contains_words(message, t))
    }
}

/// Checks an unquoted term.
fn bare(term: &str) -> Result<&str, LogsError> {
    if term.starts_with('%') {
        return Err(invalid(format!(
            "'{term}': a regular expression (%...%) must be the whole pattern, or a value in a \
             JSON or space-delimited pattern"
        )));
    }
    if let Some(c) = term.chars().find(|c| "\"{}[]".contains(*c)) {
        return Err(invalid(format!(
            "'{c}' in the term '{term}': quote terms that hold non-alphanumeric characters \
             (\"{term}\"), or start the whole pattern with '{{' or '[' for JSON or \
             space-delimited patterns"
        )));
    }
    if term.starts_with(['?', '-']) {
        return Err(invalid(format!(
            "'{term}': a term takes one '?' or '-' prefix, not two"
        )));
    }
    Ok(term)
}

/// Whether `term` occurs in `message` as whole words (see the module docs). Every occurrence is
/// tried, overlapping ones included, so `a-a` is found in `xa-a-a`.
fn contains_words(message: &str, term: &str) -> bool {
    let Some(first) = term.chars().next() else {
        return true;
    };
    let open_start = !first.is_alphanumeric();
    let open_end = !term.chars().next_back().is_some_and(char::is_alphanumeric);
    let mut from = 0;
    while let Some(found) = message.get(from..).and_then(|rest| rest.find(term)) {
        let start = from + found;
        let end = start + term.len();
        let before_ok = open_start
            || !message[..start]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        let after_ok = open_end
            || !message[end..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        if before_ok && after_ok {
            return true;
        }
        from = start + first.len_utf8();
    }
    false
}
