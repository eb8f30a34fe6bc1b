//! JSON patterns, `{ $.a.b op value }`, joined by `&&`, `||` and parentheses.
//!
//! A selector that reaches an array or an object never matches, whatever the test (so
//! `NOT EXISTS` fails on it too: it exists). `null` only matches `IS NULL`; a boolean compares
//! as the text `true`/`false` and matches `IS TRUE`/`IS FALSE`. A message that is not a JSON
//! object matches nothing.

use super::compare::Comparison;
use super::expr::{self, Cursor, Expr};
use super::invalid;
use super::lexer::{self, Token};
use super::selector::Selector;
use crate::LogsError;
use serde_json::Value;

/// A parsed JSON pattern.
#[derive(Debug, Clone)]
pub(super) struct JsonPattern {
    expr: Expr<Condition>,
}

/// One test of one selector.
#[derive(Debug, Clone)]
struct Condition {
    selector: Selector,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    Compare(Comparison),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

impl JsonPattern {
    /// Parses the text between the braces.
    pub(super) fn parse(body: &str) -> Result<Self, LogsError> {
        let tokens = lexer::lex(body)?;
        if tokens.is_empty() {
            return Err(invalid(
                "'{ }' is empty: write a condition such as '{ $.level = \"ERROR\" }'",
            ));
        }
        let expr = expr::parse(&mut Cursor::new(&tokens), &mut condition)?;
        Ok(Self { expr })
    }

    /// Whether `message`, parsed as JSON, satisfies the pattern.
    pub(super) fn matches(&self, message: &str) -> bool {
        // Cheap refusal before parsing: only an object can have `$.` properties.
        if !message.trim_start().starts_with('{') {
            return false;
        }
        let Ok(root) = serde_json::from_str::<Value>(message) else {
            return false;
        };
        self.expr.eval(&|c: &Condition| c.holds(&root))
    }
}

impl Condition {
    fn holds(&self, root: &Value) -> bool {
        let value = self.selector.resolve(root);
        match (&self.test, value) {
            (Test::NotExists, None) => true,
            (_, None | Some(Value::Array(_) | Value::Object(_))) => false,
            (Test::IsNull, Some(v)) => v.is_null(),
            (Test::IsTrue, Some(v)) => v == &Value::Bool(true),
            (Test::IsFalse, Some(v)) => v == &Value::Bool(false),
            (Test::NotExists, Some(_)) => false,
            (Test::Compare(c), Some(Value::String(s))) => c.test_text(s),
            (Test::Compare(c), Some(Value::Number(n))) => c.test_number(n),
            (Test::Compare(c), Some(Value::Bool(b))) => {
                c.test_text(if *b { "true" } else { "false" })
            }
            (Test::Compare(_), Some(Value::Null)) => false,
        }
    }
}

/// Parses `$.selector op value`, `$.selector IS NULL|TRUE|FALSE` or `$.selector NOT EXISTS`.
fn condition(cursor: &mut Cursor<'_, '_>) -> Result<Condition, LogsError> {
    let selector = match cursor.expect("a property selector ('$.name')")? {
        Token::Word(word) if word.starts_with('$') => Selector::parse(word)?,
        token => {
            return Err(invalid(format!(
                "expected a property selector ('$.name') but found {}",
                token.describe()
            )));
        }
    };
    let test = match cursor.expect("an operator after the selector")? {
        Token::Op(op) => {
            let op = *op;
            match cursor.expect("a value after the operator")? {
                Token::Quoted(value) => Test::Compare(Comparison::new(op, value, true)?),
                Token::Word(value) => Test::Compare(Comparison::new(op, value, false)?),
                Token::Regex(source) => Test::Compare(Comparison::regex(op, source)?),
                token => {
                    return Err(invalid(format!(
                        "expected a value after '{}' but found {}",
                        op.symbol(),
                        token.describe()
                    )));
                }
            }
        }
        Token::Word(word) if word.eq_ignore_ascii_case("IS") => {
            match cursor.expect("NULL, TRUE or FALSE after IS")? {
                Token::Word(w) if w.eq_ignore_ascii_case("NULL") => Test::IsNull,
                Token::Word(w) if w.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
                Token::Word(w) if w.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
                Token::Word(w) if w.eq_ignore_ascii_case("NOT") => {
                    return Err(invalid(
                        "'IS NOT' is not supported (CloudWatch refuses it too)",
                    ));
                }
                token => {
                    return Err(invalid(format!(
                        "expected NULL, TRUE or FALSE after IS but found {}",
                        token.describe()
                    )));
                }
            }
        }
        Token::Word(word) if word.eq_ignore_ascii_case("NOT") => {
            match cursor.expect("EXISTS after NOT")? {
                Token::Word(w) if w.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                token => {
                    return Err(invalid(format!(
                        "expected EXISTS after NOT but found {}",
                        token.describe()
                    )));
                }
            }
        }
        Token::Word(word) if word.eq_ignore_ascii_case("EXISTS") => {
            return Err(invalid(
                "'EXISTS' is not supported (CloudWatch refuses it too); use '= \"*\"'",
            ));
        }
        token => {
            return Err(invalid(format!(
                "expected an operator (= != < > <= >=), IS or NOT EXISTS but found {}",
                token.describe()
            )));
        }
    };
    Ok(Condition { selector, test })
}
