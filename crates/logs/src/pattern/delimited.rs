//! Space-delimited patterns: `[ip, user, ts, request = *.html*, status_code = 4*, bytes]`.
//!
//! Each name stands for one field of the message ([`fields`](super::fields)); `...` stands for
//! any number of fields. Without a `...`, a message with fewer fields never matches, and one with
//! more gives the rest of its text to the pattern's last field: that is why the docs insist on
//! the blank `w2` in `[w1=ERROR, w2]` ("the first word is ERROR"). A field may carry a condition,
//! `name op value`, several joined by `&&` / `||` (and parentheses), each testing that same field
//! (`status_code = 404 || status_code = 410`): CloudWatch refuses a test of another field there,
//! and so does Berth. The name in a later test may differ in letter case (the docs' own example
//! is `[w1=ERROR || W1=WARNING, w2]`).

use super::compare::Comparison;
use super::expr::{self, Cursor, Expr};
use super::fields::{self, MessageField};
use super::glob::match_segments;
use super::invalid;
use super::lexer::{self, Token};
use crate::LogsError;

/// A parsed space-delimited pattern: runs of fields between `...`s.
#[derive(Debug, Clone)]
pub(super) struct Delimited {
    segments: Vec<Vec<Field>>,
    open_start: bool,
    open_end: bool,
}

/// One named field and what it must satisfy, if anything.
#[derive(Debug, Clone)]
struct Field {
    condition: Option<Expr<Comparison>>,
}

impl Delimited {
    /// Parses the text between the brackets.
    pub(super) fn parse(body: &str) -> Result<Self, LogsError> {
        let tokens = lexer::lex(body)?;
        if tokens.is_empty() {
            return Err(invalid(
                "'[ ]' is empty: name the message's fields, e.g. '[level = ERROR, ...]'",
            ));
        }
        let mut segments = vec![Vec::new()];
        let mut slots = 0;
        for slot in tokens.split(|t| *t == Token::Comma) {
            slots += 1;
            match slot {
                [] => return Err(invalid(format!("field {slots} is empty (a stray ',')"))),
                [Token::Word("...")] => {
                    if segments.last().is_some_and(|s| !s.is_empty()) {
                        segments.push(Vec::new());
                    }
                }
                _ => {
                    let field = Field::parse(slot)?;
                    if let Some(last) = segments.last_mut() {
                        last.push(field);
                    }
                }
            }
        }
        let open_start = tokens.first() == Some(&Token::Word("..."));
        let open_end = tokens.last() == Some(&Token::Word("..."));
        segments.retain(|s| !s.is_empty());
        Ok(Self {
            segments,
            open_start,
            open_end,
        })
    }

    /// Whether `message`'s fields fit the pattern.
    pub(super) fn matches(&self, message: &str) -> bool {
        let fields = fields::split(message);
        if let ([exact], false, false) = (&self.segments[..], self.open_start, self.open_end) {
            return Self::matches_exact(exact, &fields);
        }
        match_segments(
            &self.segments,
            self.open_start,
            self.open_end,
            &fields,
            |field: &Field, text: &MessageField<'_>| field.accepts(text.value),
        )
    }

    /// Without `...`: field by field, the last pattern field taking the rest of the message.
    fn matches_exact(pattern: &[Field], fields: &[MessageField<'_>]) -> bool {
        let (Some((last, init)), Some(at)) = (pattern.split_last(), fields.get(pattern.len() - 1))
        else {
            return false;
        };
        let last_text = if fields.len() == pattern.len() {
            at.value
        } else {
            at.rest
        };
        init.iter()
            .zip(fields)
            .all(|(field, text)| field.accepts(text.value))
            && last.accepts(last_text)
    }
}

impl Field {
    fn parse(slot: &[Token<'_>]) -> Result<Self, LogsError> {
        let name = match slot.first() {
            Some(Token::Word(name)) if *name != "..." => *name,
            Some(token) => {
                return Err(invalid(format!(
                    "a field starts with its name, not {}",
                    token.describe()
                )));
            }
            None => return Err(invalid("a field is empty")),
        };
        if slot.len() == 1 {
            return Ok(Self { condition: None });
        }
        let condition = expr::parse(&mut Cursor::new(slot), &mut |c: &mut Cursor<'_, '_>| {
            comparison(c, name)
        })?;
        Ok(Self {
            condition: Some(condition),
        })
    }

    fn accepts(&self, text: &str) -> bool {
        self.condition
            .as_ref()
            .is_none_or(|c| c.eval(&|cmp: &Comparison| cmp.test_text(text)))
    }
}

/// Parses `name op value` where `name` must be the field's own.
fn comparison(cursor: &mut Cursor<'_, '_>, field: &str) -> Result<Comparison, LogsError> {
    match cursor.expect("the field's name")? {
        Token::Word(name) if name.eq_ignore_ascii_case(field) => {}
        Token::Word(name) => {
            return Err(invalid(format!(
                "the condition of field '{field}' tests '{name}': \
                 a field's condition may only test that field"
            )));
        }
        token => {
            return Err(invalid(format!(
                "expected the field name '{field}' but found {}",
                token.describe()
            )));
        }
    }
    let op = match cursor.expect("an operator after the field name")? {
        Token::Op(op) => *op,
        token => {
            return Err(invalid(format!(
                "expected an operator (= != < > <= >=) after '{field}' but found {}",
                token.describe()
            )));
        }
    };
    match cursor.expect("a value after the operator")? {
        Token::Quoted(value) => Comparison::new(op, value, true),
        Token::Word(value) => Comparison::new(op, value, false),
        Token::Regex(source) => Comparison::regex(op, source),
        token => Err(invalid(format!(
            "expected a value after '{}' but found {}",
            op.symbol(),
            token.describe()
        ))),
    }
}
