//! One comparison, `op value`, as both JSON and space-delimited patterns write it: equality of
//! text with `*` wildcards or a `%regex%` (found anywhere in the text), or of numbers; order
//! only between numbers.

use super::glob::Glob;
use super::invalid;
use super::lexer::Op;
use super::regex::Regex;
use crate::LogsError;
use serde_json::Number;

/// `op value`, with the value prepared once for every message.
#[derive(Debug, Clone)]
pub(super) struct Comparison {
    op: Op,
    text: TextMatch,
    /// The value as a number, when it is written as one and not quoted: then `=` compares
    /// numerically (`1e3` equals `1000`) with values that are numbers.
    number: Option<f64>,
}

/// How text is tested for equality.
#[derive(Debug, Clone)]
enum TextMatch {
    Glob(Glob),
    Regex(Regex),
}

impl Comparison {
    /// `op` applied to `value` as written; `quoted` says it was in double quotes.
    pub(super) fn new(op: Op, value: &str, quoted: bool) -> Result<Self, LogsError> {
        let number = parse_number(value);
        if op.is_order() && number.is_none() {
            return Err(invalid(format!(
                "'{}' needs a number, not '{value}'",
                op.symbol()
            )));
        }
        Ok(Self {
            op,
            text: TextMatch::Glob(Glob::new(value)),
            number: if quoted && !op.is_order() {
                None
            } else {
                number
            },
        })
    }

    /// `op` applied to `%source%`; only `=` and `!=` take a regular expression.
    pub(super) fn regex(op: Op, source: &str) -> Result<Self, LogsError> {
        if op.is_order() {
            return Err(invalid(format!(
                "'{}' needs a number, not the regular expression %{source}%",
                op.symbol()
            )));
        }
        Ok(Self {
            op,
            text: TextMatch::Regex(Regex::new(source)?),
            number: None,
        })
    }

    /// Tests a text value (a delimited field, a JSON string, `true`/`false`). Text that reads
    /// as a number is compared as one when the pattern's value is a number.
    pub(super) fn test_text(&self, text: &str) -> bool {
        match (self.number, parse_number(text)) {
            (Some(want), Some(have)) => self.order(have, want),
            _ if self.op.is_order() => false,
            _ => (self.op == Op::Ne) != self.text_matches(text),
        }
    }

    /// Tests a JSON number: as a number against a number, else as its text (`4*`).
    pub(super) fn test_number(&self, value: &Number) -> bool {
        match (self.number, value.as_f64()) {
            (Some(want), Some(have)) => self.order(have, want),
            (Some(_), None) => false,
            (None, _) => (self.op == Op::Ne) != self.text_matches(&value.to_string()),
        }
    }

    fn text_matches(&self, text: &str) -> bool {
        match &self.text {
            TextMatch::Glob(glob) => glob.matches(text),
            TextMatch::Regex(regex) => regex.is_match(text),
        }
    }

    fn order(&self, have: f64, want: f64) -> bool {
        match self.op {
            Op::Eq => have == want,
            Op::Ne => have != want,
            Op::Lt => have < want,
            Op::Le => have <= want,
            Op::Gt => have > want,
            Op::Ge => have >= want,
        }
    }
}

/// A decimal number with optional sign, fraction and exponent (`-1.5e+3`); not `inf` or `NaN`,
/// which Rust's parser would take.
pub(super) fn parse_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}
