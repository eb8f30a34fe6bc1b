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
use super::regex_atoms::{Atom, class, escape, quantifier};
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
