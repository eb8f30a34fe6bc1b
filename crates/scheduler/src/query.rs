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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
}

const SYMBOLS: [&str; 11] = [
    "&&", "||", "==", "!=", ">=", "<=", "=~", "!~", ">", "<", "!",
];

fn lex(input: &str) -> Result<Vec<(usize, Token)>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let simple = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenList),
            ']' => Some(Token::CloseList),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(t) = simple {
            out.push((start, t));
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == c)
                .map(|p| i + 1 + p)
                .ok_or_else(|| QueryError {
                    position: start,
                    message: format!("the quote {c} is never closed"),
                })?;
            out.push((start, Token::Quoted(chars[i + 1..end].iter().collect())));
            i = end + 1;
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| {
            let s: Vec<char> = s.chars().collect();
            chars[i..].starts_with(&s)
        }) {
            out.push((start, Token::Op(sym)));
            i += sym.chars().count();
            continue;
        }
        if "=&|~".contains(c) {
            return Err(QueryError {
                position: start,
                message: format!("unexpected character {c:?}"),
            });
        }
        while i < chars.len() && !chars[i].is_whitespace() && !"()[],'\"=!<>&|~".contains(chars[i])
        {
            i += 1;
        }
        out.push((start, Token::Word(chars[start..i].iter().collect())));
    }
    Ok(out)
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
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
enum Subject {
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

/// A parsed expression. Only [`parse`] makes one, so its depth stays within [`MAX_NESTING`]
/// and evaluating or dropping it cannot exhaust the stack.
#[derive(Debug, Clone)]
pub struct Expr(Node);

#[derive(Debug, Clone)]
enum Node {
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
struct Comparison {
    subject: Subject,
    op: Operator,
    /// The argument(s); empty for `exists`.
    values: Vec<String>,
    /// `=~` patterns, compiled once.
    pattern: Option<regex::Regex>,
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    /// Parentheses and negations open around the current token.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError {
            position: self.position(),
            message: message.into(),
        })
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t
    }

    fn is_word(&self, words: &[&str]) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if words.contains(&w.as_str()))
    }

    /// `a or b or ...`, as one node.
    fn or(&mut self) -> Result<Node, QueryError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Op("||")) || self.is_word(&["or"]) {
            self.next();
            terms.push(self.and()?);
        }
        Ok(flat(terms, Node::Any))
    }

    /// `a and b and ...`, as one node.
    fn and(&mut self) -> Result<Node, QueryError> {
        let mut terms = vec![self.unary()?];
        while self.peek() == Some(&Token::Op("&&")) || self.is_word(&["and"]) {
            self.next();
            terms.push(self.unary()?);
        }
        Ok(flat(terms, Node::All))
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        let negated = self.peek() == Some(&Token::Op("!")) || self.is_word(&["not"]);
        let grouped = self.peek() == Some(&Token::Open);
        if !negated && !grouped {
            return self.comparison();
        }
        // Checked before recursing, so no input can take the parser deeper than this.
        if self.depth == MAX_NESTING {
            return self.error(format!(
                "parentheses and negations nest more than {MAX_NESTING} levels deep"
            ));
        }
        self.next();
        self.depth += 1;
        let node = if negated {
            self.unary().map(|inner| Node::Not(Box::new(inner)))
        } else {
            self.or().and_then(|inner| {
                if self.next() == Some(Token::Close) {
                    Ok(inner)
                } else {
                    self.at -= 1;
                    self.error("expected ) to close the parenthesis")
                }
            })
        };
        self.depth -= 1;
        node
    }

    fn subject(&mut self) -> Result<Subject, QueryError> {
        let Some(Token::Word(word)) = self.peek().cloned() else {
            return self.error("expected a subject such as attribute:ecs.instance-type");
        };
        let subject = match word.as_str() {
            "agentConnected" => Subject::AgentConnected,
            "agentVersion" => Subject::AgentVersion,
            "ec2InstanceId" => Subject::Ec2InstanceId,
            "registeredAt" => Subject::RegisteredAt,
            "runningTasksCount" => Subject::RunningTasksCount,
            "task:group" => Subject::TaskGroup,
            w => match w.strip_prefix("attribute:") {
                Some(name) if !name.is_empty() => Subject::Attribute(name.to_string()),
                _ => {
                    return self.error(format!(
                        "unknown subject {w:?}: use agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group"
                    ));
                }
            },
        };
        self.next();
        Ok(subject)
    }

    fn operator(&mut self) -> Result<Operator, QueryError> {
        let op = match self.peek().cloned() {
            Some(Token::Op("==")) => Operator::Eq,
            Some(Token::Op("!=")) => Operator::Ne,
            Some(Token::Op(">")) => Operator::Gt,
            Some(Token::Op(">=")) => Operator::Ge,
            Some(Token::Op("<")) => Operator::Lt,
            Some(Token::Op("<=")) => Operator::Le,
            Some(Token::Op("=~")) => Operator::Matches,
            Some(Token::Op("!~")) => Operator::NotMatches,
            Some(Token::Op("!")) => {
                self.next();
                return match self.peek() {
                    Some(Token::Word(w)) if w == "exists" => {
                        self.next();
                        Ok(Operator::NotExists)
                    }
                    Some(Token::Word(w)) if w == "in" => {
                        self.next();
                        Ok(Operator::NotIn)
                    }
                    _ => self.error("expected exists or in after !"),
                };
            }
            Some(Token::Word(w)) => match w.as_str() {
                "equals" => Operator::Eq,
                "not_equals" => Operator::Ne,
                "greater_than" => Operator::Gt,
                "greater_than_equal" => Operator::Ge,
                "less_than" => Operator::Lt,
                "less_than_equal" => Operator::Le,
                "exists" => Operator::Exists,
                "not_exists" => Operator::NotExists,
                "in" => Operator::In,
                "not_in" => Operator::NotIn,
                "matches" => Operator::Matches,
                "not_matches" => Operator::NotMatches,
                _ => return self.error(format!("unknown operator {w:?}")),
            },
            _ => return self.error("expected an operator such as == or in"),
        };
        self.next();
        Ok(op)
    }

    fn value(&mut self) -> Result<String, QueryError> {
        match self.next() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => Ok(w),
            _ => {
                self.at -= 1;
                self.error("expected a value")
            }
        }
    }

    fn comparison(&mut self) -> Result<Node, QueryError> {
        let subject = self.subject()?;
        let op = self.operator()?;
        let value_at = self.position();
        let values = match op {
            Operator::Exists | Operator::NotExists => vec![],
            Operator::In | Operator::NotIn => {
                if self.next() != Some(Token::OpenList) {
                    self.at -= 1;
                    return self.error("expected [ to open the list of in");
                }
                let mut list = vec![self.value()?];
                loop {
                    match self.next() {
                        Some(Token::Comma) => list.push(self.value()?),
                        Some(Token::CloseList) => break,
                        _ => {
                            self.at -= 1;
                            return self.error("expected , or ] in the list");
                        }
                    }
                }
                list
            }
            _ => vec![self.value()?],
        };
        let pattern = match op {
            Operator::Matches | Operator::NotMatches => {
                let p =
                    regex::Regex::new(&format!("^(?:{})$", values[0])).map_err(|e| QueryError {
                        position: value_at,
                        message: format!("invalid regular expression {:?}: {e}", values[0]),
                    })?;
                Some(p)
            }
            _ => None,
        };
        if subject == Subject::RegisteredAt
            && !values.is_empty()
            && values.iter().any(|v| parse_date(v).is_none())
        {
            return Err(QueryError {
                position: value_at,
                message: format!(
                    "registeredAt needs a date such as 2018-06-18 or 2018-06-18T22:28:28+00:00, not {:?}",
                    values[0]
                ),
            });
        }
        Ok(Node::Compare(Box::new(Comparison {
            subject,
            op,
            values,
            pattern,
        })))
    }
}

/// One term as itself, several as `group` of them.
fn flat(mut terms: Vec<Node>, group: fn(Vec<Node>) -> Node) -> Node {
    if terms.len() == 1 {
        terms.remove(0)
    } else {
        group(terms)
    }
}

/// Parses an expression of at most [`MAX_EXPRESSION_CHARS`] characters whose parentheses and
/// negations nest at most [`MAX_NESTING`] deep.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    if input.chars().nth(MAX_EXPRESSION_CHARS).is_some() {
        return Err(QueryError {
            position: MAX_EXPRESSION_CHARS,
            message: format!("the expression is over {MAX_EXPRESSION_CHARS} characters"),
        });
    }
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Err(QueryError {
            position: 0,
            message: "the expression is empty".into(),
        });
    }
    let mut p = Parser {
        tokens,
        at: 0,
        end: input.chars().count(),
        depth: 0,
    };
    let root = p.or()?;
    if p.at < p.tokens.len() {
        return p.error("unexpected text after the expression: join conditions with and/or");
    }
    Ok(Expr(root))
}

/// Parses `2018-06-18`, `2018-06-18T22:28:28Z` or `...+00:00` into epoch seconds.
pub fn parse_date(s: &str) -> Option<f64> {
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let mut parts = off[1..].split(':').map(|p| p.parse::<i64>().ok());
        let (h, mi) = (parts.next()??, parts.next().unwrap_or(Some(0))?);
        (c, sign * (h * 3600 + mi * 60))
    } else {
        (time, 0)
    };
    let mut t = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (t.next()??, t.next()??, t.next().unwrap_or(Some(0))?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64)
}

fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> {
        s.trim_start_matches('v')
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

fn ordered(op: Operator, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Operator::Eq => ord == Equal,
        Operator::Ne => ord != Equal,
        Operator::Gt => ord == Greater,
        Operator::Ge => ord != Less,
        Operator::Lt => ord == Less,
        Operator::Le => ord != Greater,
        _ => false,
    }
}

impl Expr {
    /// Whether an instance with these facts matches.
    pub fn matches(&self, facts: &Facts) -> bool {
        self.0.matches(facts)
    }
}

impl Node {
    /// Recurses once per level of the tree: at most two per level of nesting (a group's `or`
    /// and `and`), which [`parse`] caps at [`MAX_NESTING`].
    fn matches(&self, facts: &Facts) -> bool {
        match self {
            Node::All(terms) => terms.iter().all(|t| t.matches(facts)),
            Node::Any(terms) => terms.iter().any(|t| t.matches(facts)),
            Node::Not(inner) => !inner.matches(facts),
            Node::Compare(c) => compare(facts, &c.subject, c.op, &c.values, c.pattern.as_ref()),
        }
    }
}

fn compare(
    facts: &Facts,
    subject: &Subject,
    op: Operator,
    values: &[String],
    pattern: Option<&regex::Regex>,
) -> bool {
    use Operator::*;
    // task:group is a set: a comparison holds when some task's group satisfies it.
    if *subject == Subject::TaskGroup {
        let any = |f: &dyn Fn(&str) -> bool| facts.groups.keys().any(|g| f(g));
        return match op {
            Exists => !facts.groups.is_empty(),
            NotExists => facts.groups.is_empty(),
            Eq => facts.groups.contains_key(&values[0]),
            Ne => !facts.groups.contains_key(&values[0]),
            In => values.iter().any(|v| facts.groups.contains_key(v)),
            NotIn => !values.iter().any(|v| facts.groups.contains_key(v)),
            Matches => pattern.is_some_and(|p| any(&|g| p.is_match(g))),
            NotMatches => !pattern.is_some_and(|p| any(&|g| p.is_match(g))),
            Gt | Ge | Lt | Le => any(&|g| ordered(op, g.cmp(values[0].as_str()))),
        };
    }
    let value: Option<String> = match subject {
        Subject::AgentConnected => Some(facts.agent_connected.to_string()),
        Subject::AgentVersion => Some(facts.agent_version.clone()),
        Subject::Attribute(name) => facts.attributes.get(name).cloned(),
        Subject::Ec2InstanceId => Some(facts.ec2_instance_id.clone()),
        Subject::RegisteredAt => Some(facts.registered_at.to_string()),
        Subject::RunningTasksCount => Some(facts.running_tasks_count.to_string()),
        Subject::TaskGroup => None,
    };
    match op {
        Exists => return value.is_some(),
        NotExists => return value.is_none(),
        Ne | NotIn | NotMatches => {
            let positive = match op {
                Ne => Eq,
                NotIn => In,
                _ => Matches,
            };
            return !compare(facts, subject, positive, values, pattern);
        }
        _ => {}
    }
    let Some(value) = value else { return false };
    match op {
        In => values.contains(&value),
        Matches => pattern.is_some_and(|p| p.is_match(&value)),
        _ => {
            let arg = &values[0];
            let ord = match subject {
                Subject::AgentVersion => compare_versions(&value, arg),
                Subject::RegisteredAt => facts
                    .registered_at
                    .total_cmp(&parse_date(arg).unwrap_or(f64::NAN)),
                _ => match (value.parse::<f64>(), arg.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a.total_cmp(&b),
                    _ => value.as_str().cmp(arg.as_str()),
                },
            };
            ordered(op, ord)
        }
    }
}
