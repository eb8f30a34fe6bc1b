//! The parsed form of an expression: and/or/not nodes over comparisons of a subject.

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operator {
    /// `==`, `equals`.
    Eq,
    /// `!=`, `not_equals`.
    Ne,
    /// `>`, `greater_than`.
    Gt,
    /// `>=`, `greater_than_equal`.
    Ge,
    /// `<`, `less_than`.
    Lt,
    /// `<=`, `less_than_equal`.
    Le,
    /// `exists`.
    Exists,
    /// `!exists`, `not_exists`.
    NotExists,
    /// `in`.
    In,
    /// `!in`, `not_in`.
    NotIn,
    /// `=~`, `matches`.
    Matches,
    /// `!~`, `not_matches`.
    NotMatches,
}

/// What a comparison is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Subject {
    /// `agentConnected`.
    AgentConnected,
    /// `agentVersion`.
    AgentVersion,
    /// `attribute:<name>`.
    Attribute(String),
    /// `ec2InstanceId`.
    Ec2InstanceId,
    /// `registeredAt`.
    RegisteredAt,
    /// `runningTasksCount`.
    RunningTasksCount,
    /// `task:group`.
    TaskGroup,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Every one holds: `a and b and c` is one node, not a chain, so long chains stay flat.
    All(Vec<Node>),
    /// Some one holds.
    Any(Vec<Node>),
    /// It does not hold.
    Not(Box<Node>),
    /// One comparison, boxed to keep the node small: the parser moves nodes through every
    /// level of its recursion.
    Compare(Box<Comparison>),
}

#[derive(Debug, Clone)]
pub(super) struct Comparison {
    pub(super) subject: Subject,
    pub(super) op: Operator,
    /// The argument(s); empty for `exists`.
    pub(super) values: Vec<String>,
    /// `=~` patterns, compiled once.
    pub(super) pattern: Option<regex::Regex>,
}
