//! The atoms of a regular expression (a character, `.`, a class, an escape) and the
//! quantifier after each, as [`regex`](super::regex) reads them.

use crate::LogsError;
use std::iter::Peekable;
use std::str::Chars;

/// The largest count a `{n,m}` quantifier may give: more would expand beyond any pattern
/// CloudWatch accepts.
const MAX_COUNT: usize = 1024;

/// What one position of the text must be.
#[derive(Debug, Clone)]
pub(super) enum Atom {
    Char(char),
    Dot,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

/// One member of a class: a range (`a-z`, or one character) or a shorthand (`\d`, `\W`...),
/// `false` meaning its complement.
#[derive(Debug, Clone)]
pub(super) enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

impl Atom {
    /// Whether `c` is what the atom wants.
    pub(super) fn matches(&self, c: char) -> bool {
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
pub(super) fn escape(c: Option<char>, bad: &impl Fn(&str) -> LogsError) -> Result<Atom, LogsError> {
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
pub(super) fn class(
    chars: &mut Peekable<Chars<'_>>,
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
pub(super) fn quantifier(
    chars: &mut Peekable<Chars<'_>>,
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
                    .filter(|n| *n <= MAX_COUNT)
                    .ok_or_else(|| bad(&format!("'{{{body}}}' needs counts up to {MAX_COUNT}")))
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
