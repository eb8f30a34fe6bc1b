//! Whether an instance's facts satisfy an expression.

use super::syntax::{Node, Operator, Subject};
use super::{Expr, Facts};

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
