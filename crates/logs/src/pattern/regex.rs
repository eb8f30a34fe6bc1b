//! The regular expressions of filter patterns, `%...%`: CloudWatch's subset, which has no
//! parentheses, so an expression is `branch|branch|...` and a branch a run of atoms (a
//! character, `.`, a class `[a-z]`/`[^0-9]`, an escape `\.` `\d` `\w` `\s`) each with at most
//! one quantifier (`?` `*` `+` `{n}` `{n,}` `{n,m}`), optionally anchored by `^` and `$`.
//!
//! Matching searches (`%AUTHORIZED%` is found in `UNAUTHORIZED`) by simulating the branch as an
//! automaton over every position at once: time is text length times branch length, never
//! exponential. Like CloudWatch, parentheses and non-ASCII characters are refused; a `?` after
//! a quantifier (lazy) is accepted and changes nothing, since only whether it matches counts.

use super::invalid;
use crate::LogsError;

/// How many steps a whole expression may expand to (`a{1000}` is 1000 steps).
const MAX_STEPS: usize = 1024;

/// A compiled expression.
#[derive(Debug, Clone)]
pub(super) struct Regex {
    branches: Vec<Branch>,
}

#[derive(Debug, Clone)]
struct Branch {
    anchored_start: bool,
    anchored_end: bool,
    steps: Vec<Step>,
}

/// One atom and how often it may repeat at this point.
#[derive(Debug, Clone)]
struct Step {
    atom: Atom,
    repeat: Repeat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Once,
    Optional,
    Any,
}

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Dot,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

impl Regex {
    /// Compiles the text between the `%`s.
    pub(super) fn new(source: &str) -> Result<Self, LogsError> {
        let bad = |why: &str| invalid(format!("bad regular expression %{source}%: {why}"));
        if source.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(c) = source
            .chars()
            .find(|c| !c.is_ascii() || c.is_ascii_control())
        {
            return Err(bad(&format!(
                "{c:?} is not allowed (multi-byte and control characters are not supported)"
            )));
        }
        if source.contains(['(', ')']) {
            return Err(bad("parentheses are not supported"));
        }
        if source.contains('%') {
            return Err(bad(
                "'%' ends a regular expression; it cannot appear inside one",
            ));
        }
        let mut total = 0;
        let branches = split_branches(source)
            .into_iter()
            .map(|text| {
                let branch = Branch::parse(text, &bad)?;
                total += branch.steps.len();
                if total > MAX_STEPS {
                    return Err(bad(&format!("it expands to more than {MAX_STEPS} steps")));
                }
                Ok(branch)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { branches })
    }

    /// Whether the expression matches somewhere in `text`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        self.branches.iter().any(|b| b.is_match(text))
    }
}

/// Splits at each `|` that is neither escaped nor inside a class.
fn split_branches(source: &str) -> Vec<&str> {
    let mut branches = Vec::new();
    let (mut start, mut in_class, mut escaped) = (0, false, false);
    for (i, c) in source.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '|' if !in_class => {
                branches.push(&source[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    branches.push(&source[start..]);
    branches
}

impl Branch {
    fn parse(text: &str, bad: &impl Fn(&str) -> LogsError) -> Result<Self, LogsError> {
        let (anchored_start, text) = match text.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (anchored_end, text) = match text.strip_suffix('$') {
            Some(rest) if !rest.ends_with('\\') || rest.ends_with("\\\\") => (true, rest),
            _ => (false, text),
        };
        let mut chars = text.chars().peekable();
        let mut steps = Vec::new();
        while let Some(c) = chars.next() {
            let atom = match c {
                '.' => Atom::Dot,
                '[' => class(&mut chars, bad)?,
                '\\' => escape(chars.next(), bad)?,
                '^' | '$' => return Err(bad(&format!("'{c}' only anchors a branch's ends"))),
                '?' | '*' | '+' | '{' => return Err(bad(&format!("'{c}' follows nothing"))),
                ']' | '}' => return Err(bad(&format!("unbalanced '{c}'"))),
                c => Atom::Char(c),
            };
            let (min, max) = quantifier(&mut chars, bad)?;
            if chars.next_if_eq(&'?').is_some() && chars.peek().is_some_and(|c| "?*+{".contains(*c))
            {
                return Err(bad("a quantifier is repeated"));
            }
            if steps.len() + max.unwrap_or(min + 1) > MAX_STEPS {
                return Err(bad(&format!("it expands to more than {MAX_STEPS} steps")));
            }
            let step = |repeat| Step {
                atom: atom.clone(),
                repeat,
            };
            steps.extend((0..min).map(|_| step(Repeat::Once)));
            match max {
                Some(max) => steps.extend((min..max).map(|_| step(Repeat::Optional))),
                None => steps.push(step(Repeat::Any)),
            }
        }
        Ok(Self {
            anchored_start,
            anchored_end,
            steps,
        })
    }

    /// Simulates the steps as an automaton: `live[i]` says some start reached step `i`.
    fn is_match(&self, text: &str) -> bool {
        let n = self.steps.len();
        let mut live = vec![false; n + 1];
        let mut next = vec![false; n + 1];
        live[0] = true;
        self.close(&mut live);
        let mut chars = text.chars().peekable();
        loop {
            if live[n] && (!self.anchored_end || chars.peek().is_none()) {
                return true;
            }
            let Some(c) = chars.next() else {
                return false;
            };
            next.fill(false);
            for (i, step) in self.steps.iter().enumerate() {
                if live[i] && step.atom.matches(c) {
                    let to = if step.repeat == Repeat::Any { i } else { i + 1 };
                    next[to] = true;
                }
            }
            // Unanchored: a match may also start after this character.
            next[0] |= !self.anchored_start;
            self.close(&mut next);
            std::mem::swap(&mut live, &mut next);
            if !live.contains(&true) {
                return false;
            }
        }
    }

    /// Adds the steps reachable by skipping optional ones.
    fn close(&self, live: &mut [bool]) {
        for (i, step) in self.steps.iter().enumerate() {
            if live[i] && step.repeat != Repeat::Once {
                live[i + 1] = true;
            }
        }
    }
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(want) => c == *want,
            Atom::Dot => c != '\n',
            Atom::Class { negated, items } => items.iter().any(|item| item.matches(c)) != *negated,
        }
    }
}

impl ClassItem {
    fn matches(&self, c: char) -> bool {
        match *self {
            ClassItem::Range(low, high) => (low..=high).contains(&c),
            ClassItem::Digit(want) => c.is_ascii_digit() == want,
            ClassItem::Word(want) => (c.is_ascii_alphanumeric() || c == '_') == want,
            ClassItem::Space(want) => c.is_whitespace() == want,
        }
    }
}

/// An escape after `\`: a class shorthand or a literal character.
fn escape(c: Option<char>, bad: &impl Fn(&str) -> LogsError) -> Result<Atom, LogsError> {
    let item = |item| Atom::Class {
        negated: false,
        items: vec![item],
    };
    Ok(match c.ok_or_else(|| bad("it ends with '\\'"))? {
        'd' => item(ClassItem::Digit(true)),
        'D' => item(ClassItem::Digit(false)),
        'w' => item(ClassItem::Word(true)),
        'W' => item(ClassItem::Word(false)),
        's' => item(ClassItem::Space(true)),
        'S' => item(ClassItem::Space(false)),
        't' => Atom::Char('\t'),
        'n' => Atom::Char('\n'),
        c if c.is_ascii_alphanumeric() => {
            return Err(bad(&format!("'\\{c}' is not a supported escape")));
        }
        c => Atom::Char(c),
    })
}

/// The rest of a class after `[`.
fn class(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    bad: &impl Fn(&str) -> LogsError,
) -> Result<Atom, LogsError> {
    let negated = chars.next_if_eq(&'^').is_some();
    let mut items = Vec::new();
    loop {
        let c = chars.next().ok_or_else(|| bad("a '[' is never closed"))?;
        let low = match c {
            ']' if !items.is_empty() => return Ok(Atom::Class { negated, items }),
            ']' => return Err(bad("'[]' is an empty class")),
            '\\' => match escape(chars.next(), bad)? {
                Atom::Char(c) => c,
                Atom::Class { items: more, .. } => {
                    items.extend(more);
                    continue;
                }
                Atom::Dot => return Err(bad("unexpected escape in a class")),
            },
            c => c,
        };
        let mut ahead = chars.clone();
        let high = match (ahead.next(), ahead.next()) {
            (Some('-'), Some(high)) if high != ']' && high != '\\' => {
                chars.next();
                chars.next();
                high
            }
            _ => low,
        };
        if high < low {
            return Err(bad(&format!("the range {low}-{high} is backwards")));
        }
        items.push(ClassItem::Range(low, high));
    }
}

/// An optional quantifier: how many times (at least, at most) the atom before it repeats.
fn quantifier(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    bad: &impl Fn(&str) -> LogsError,
) -> Result<(usize, Option<usize>), LogsError> {
    Ok(match chars.peek() {
        Some('?') => {
            chars.next();
            (0, Some(1))
        }
        Some('*') => {
            chars.next();
            (0, None)
        }
        Some('+') => {
            chars.next();
            (1, None)
        }
        Some('{') => {
            chars.next();
            let mut body = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) if c.is_ascii_digit() || c == ',' => body.push(c),
                    _ => return Err(bad("'{' takes '{n}', '{n,}' or '{n,m}'")),
                }
            }
            let number = |s: &str| {
                s.parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_STEPS)
                    .ok_or_else(|| bad(&format!("'{{{body}}}' needs counts up to {MAX_STEPS}")))
            };
            match body.split_once(',') {
                None => {
                    let n = number(&body)?;
                    (n, Some(n))
                }
                Some((min, "")) => (number(min)?, None),
                Some((min, max)) => {
                    let (min, max) = (number(min)?, number(max)?);
                    if max < min {
                        return Err(bad(&format!("'{{{body}}}' counts backwards")));
                    }
                    (min, Some(max))
                }
            }
        }
        _ => (1, Some(1)),
    })
}
