//! Boolean expressions over conditions, `&&` binding tighter than `||`, with parentheses; shared
//! by JSON patterns and the conditions of space-delimited fields.

use super::invalid;
use super::lexer::Token;
use crate::LogsError;

/// How deep parentheses may nest: deeper is refused rather than risking the stack.
const MAX_DEPTH: usize = 16;

/// An expression whose leaves are conditions `L`.
#[derive(Debug, Clone)]
pub(super) enum Expr<L> {
    Leaf(L),
    All(Vec<Expr<L>>),
    Any(Vec<Expr<L>>),
}

impl<L> Expr<L> {
    /// Evaluates the expression, `test` deciding each leaf; stops as soon as the result is known.
    pub(super) fn eval(&self, test: &impl Fn(&L) -> bool) -> bool {
        match self {
            Expr::Leaf(leaf) => test(leaf),
            Expr::All(all) => all.iter().all(|e| e.eval(test)),
            Expr::Any(any) => any.iter().any(|e| e.eval(test)),
        }
    }
}

/// A position in a token list.
pub(super) struct Cursor<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    /// A cursor at the first of `tokens`.
    pub(super) fn new(tokens: &'t [Token<'a>]) -> Self {
        Self { tokens, at: 0 }
    }

    /// The next token, without taking it.
    pub(super) fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.at)
    }

    /// Takes the next token.
    pub(super) fn next(&mut self) -> Option<&'t Token<'a>> {
        let token = self.tokens.get(self.at);
        self.at += usize::from(token.is_some());
        token
    }

    /// Takes the next token, which must exist; `what` names what was expected.
    pub(super) fn expect(&mut self, what: &str) -> Result<&'t Token<'a>, LogsError> {
        self.next()
            .ok_or_else(|| invalid(format!("the pattern ends where {what} was expected")))
    }
}

/// Parses a whole expression from `cursor` to the end of its tokens; `leaf` parses one
/// condition.
pub(super) fn parse<L>(
    cursor: &mut Cursor<'_, '_>,
    leaf: &mut impl FnMut(&mut Cursor<'_, '_>) -> Result<L, LogsError>,
) -> Result<Expr<L>, LogsError> {
    let expr = or(cursor, 0, leaf)?;
    match cursor.next() {
        None => Ok(expr),
        Some(Token::RParen) => Err(invalid("unbalanced parentheses: unexpected ')'")),
        Some(token) => Err(invalid(format!(
            "unexpected {} (join conditions with '&&' or '||')",
            token.describe()
        ))),
    }
}

fn or<L>(
    cursor: &mut Cursor<'_, '_>,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor<'_, '_>) -> Result<L, LogsError>,
) -> Result<Expr<L>, LogsError> {
    let mut any = vec![and(cursor, depth, leaf)?];
    while cursor.peek() == Some(&Token::Or) {
        cursor.next();
        any.push(and(cursor, depth, leaf)?);
    }
    Ok(single_or(any, Expr::Any))
}

fn and<L>(
    cursor: &mut Cursor<'_, '_>,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor<'_, '_>) -> Result<L, LogsError>,
) -> Result<Expr<L>, LogsError> {
    let mut all = vec![primary(cursor, depth, leaf)?];
    while cursor.peek() == Some(&Token::And) {
        cursor.next();
        all.push(primary(cursor, depth, leaf)?);
    }
    Ok(single_or(all, Expr::All))
}

fn primary<L>(
    cursor: &mut Cursor<'_, '_>,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor<'_, '_>) -> Result<L, LogsError>,
) -> Result<Expr<L>, LogsError> {
    if cursor.peek() != Some(&Token::LParen) {
        return leaf(cursor).map(Expr::Leaf);
    }
    cursor.next();
    if depth >= MAX_DEPTH {
        return Err(invalid(format!(
            "parentheses nest deeper than {MAX_DEPTH} levels"
        )));
    }
    let inner = or(cursor, depth + 1, leaf)?;
    match cursor.next() {
        Some(Token::RParen) => Ok(inner),
        None => Err(invalid("unbalanced parentheses: a '(' is never closed")),
        Some(token) => Err(invalid(format!(
            "expected ')' but found {}",
            token.describe()
        ))),
    }
}

/// One expression stays itself; several are joined by `join`.
fn single_or<L>(mut list: Vec<Expr<L>>, join: fn(Vec<Expr<L>>) -> Expr<L>) -> Expr<L> {
    match list.pop() {
        Some(only) if list.is_empty() => only,
        Some(last) => {
            list.push(last);
            join(list)
        }
        None => join(list),
    }
}
