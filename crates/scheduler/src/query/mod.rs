//! The ECS cluster query language, used by `memberOf` constraints and by
//! `ListContainerInstances --filter`.
//!
//! `subject operator [argument]`, joined with `&&`/`and`, `||`/`or`, negated with `!`/`not`,
//! grouped with parentheses. Subjects: `agentConnected`, `agentVersion`, `attribute:<name>`,
//! `ec2InstanceId`, `registeredAt`, `runningTasksCount`, `task:group`. Every operator has a
//! symbol and a word form (`==`/`equals`, `=~`/`matches`, `!in`/`not_in`, ...). Arguments may be
//! bare or quoted, and `in` takes a list `[a, b]`. A parse error names the character position.
//!
//! Expressions come from API callers, so nothing here recurses as deep as they like: an
//! expression is at most [`MAX_EXPRESSION_CHARS`] long, parentheses and negations nest at most
//! [`MAX_NESTING`] deep, and chains of `and`/`or` are kept flat, so the parser, the evaluator and
//! the drop of an [`Expr`] all recurse at most a small, fixed number of times.

mod evaluate;
mod lexer;
mod parser;
mod syntax;

pub use evaluate::parse_date;
pub use parser::parse;

use std::collections::BTreeMap;

/// The longest expression, in characters: ECS's limit for `memberOf` expressions and for the
/// `filter` of ListContainerInstances.
pub const MAX_EXPRESSION_CHARS: usize = 2000;

/// How deeply parentheses and negations (`!`, `not`) may nest. Real expressions nest a few
/// levels; the cap bounds the parser's recursion (one level per parenthesis or negation).
pub const MAX_NESTING: usize = 32;

/// A parse error: what is wrong, at which character (0-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expression at position {position}: {message}")]
pub struct QueryError {
    /// Character offset of the offending token.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// What an expression can ask about an instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// `ec2InstanceId`.
    pub ec2_instance_id: String,
    /// `agentConnected`.
    pub agent_connected: bool,
    /// `agentVersion`, e.g. `1.14.5`.
    pub agent_version: String,
    /// `registeredAt`, epoch seconds.
    pub registered_at: f64,
    /// `runningTasksCount`.
    pub running_tasks_count: i64,
    /// `attribute:<name>` values.
    pub attributes: BTreeMap<String, String>,
    /// `task:group`: the groups of the tasks on the instance, with their counts.
    pub groups: BTreeMap<String, u32>,
}

/// A parsed expression. Only [`parse`] makes one, so its depth stays within [`MAX_NESTING`]
/// and evaluating or dropping it cannot exhaust the stack.
#[derive(Debug, Clone)]
pub struct Expr(syntax::Node);
