//! Properties over arbitrary input: no panics, and no backtracking blow-ups.

use super::{FilterPattern, parse};
use proptest::prelude::*;

#[test]
fn wildcards_do_not_backtrack() {
    // Exponential for a backtracking matcher; linear passes finish at once.
    let pattern = format!("{{ $.a = \"{}b\" }}", "*a".repeat(200));
    let message = format!("{{\"a\": \"{}\"}}", "a".repeat(100_000));
    assert!(!parse(&pattern).matches(&message));
    let fields = format!("[{} b = 1]", "..., a, ".repeat(50));
    assert!(!parse(&fields).matches(&"a ".repeat(10_000)));
    let regex = format!("%{}b%", "a*".repeat(200));
    assert!(!parse(&regex).matches(&"a".repeat(100_000)));
}

proptest! {
    #[test]
    fn parse_and_match_never_panic(pattern in ".{0,80}", message in ".{0,200}") {
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            let _ = parsed.matches(&message);
        }
    }

    #[test]
    fn pattern_shaped_input_never_panics(
        pattern in r#"[\[\]{}()$.a-c0-9 ,="!<>&|*?%\-]{0,60}"#,
        message in r#"[\[\]{}":,a-c0-9 .\-]{0,120}"#,
    ) {
        for text in [pattern.clone(), format!("{{{pattern}}}"), format!("[{pattern}]")] {
            if let Ok(parsed) = FilterPattern::parse(&text) {
                let _ = parsed.matches(&message);
                let _ = parsed.matches(r#"{"a": [1, {"b": null}], "c": "x"}"#);
            }
        }
    }
}

/// `*` (any run of characters) by plain backtracking: the reference the linear matchers must
/// agree with, on inputs small enough for it.
fn naive_glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| naive_glob(rest, &text[skip..])),
        Some((c, rest)) => text.first() == Some(c) && naive_glob(rest, &text[1..]),
    }
}

/// The regex subset over a tiny alphabet (characters, `.`, `? * +`, `|`, `^`, `$`), by
/// backtracking.
fn naive_regex(source: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    source.split('|').any(|branch| {
        let (start, branch) = branch
            .strip_prefix('^')
            .map_or((false, branch), |b| (true, b));
        let (end, branch) = branch
            .strip_suffix('$')
            .map_or((false, branch), |b| (true, b));
        let mut atoms = Vec::new();
        let mut chars = branch.chars().peekable();
        while let Some(c) = chars.next() {
            let quantifier = chars.next_if(|q| "?*+".contains(*q)).unwrap_or(' ');
            if quantifier != ' ' {
                chars.next_if_eq(&'?');
            }
            atoms.push((c, quantifier));
        }
        let last = if start { 0 } else { text.len() };
        (0..=last).any(|at| backtrack(&atoms, &text, at, end))
    })
}

fn backtrack(atoms: &[(char, char)], text: &[char], at: usize, end: bool) -> bool {
    let Some((&(c, quantifier), rest)) = atoms.split_first() else {
        return !end || at == text.len();
    };
    let one = text.get(at).is_some_and(|&t| c == '.' || t == c);
    match quantifier {
        '?' => backtrack(rest, text, at, end) || (one && backtrack(rest, text, at + 1, end)),
        '*' => backtrack(rest, text, at, end) || (one && backtrack(atoms, text, at + 1, end)),
        '+' => {
            // One, then as for `*`.
            let star: Vec<(char, char)> = [(c, '*')].iter().chain(rest).copied().collect();
            one && backtrack(&star, text, at + 1, end)
        }
        _ => one && backtrack(rest, text, at + 1, end),
    }
}

proptest! {
    #[test]
    fn glob_agrees_with_backtracking(pattern in "[ab*]{0,8}", text in "[ab]{0,12}") {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(
            crate::pattern::glob::Glob::new(&pattern).matches(&text),
            naive_glob(&p, &t)
        );
    }

    #[test]
    fn ellipses_agree_with_backtracking(pattern in "[ab.]{0,8}", text in "[ab]{0,12}") {
        // Each character is a field; '.' stands for `...`.
        let segments: Vec<Vec<char>> = pattern
            .split('.')
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().collect())
            .collect();
        let t: Vec<char> = text.chars().collect();
        let reference: Vec<char> = pattern.chars().map(|c| if c == '.' { '*' } else { c }).collect();
        prop_assert_eq!(
            crate::pattern::glob::match_segments(
                &segments,
                pattern.starts_with('.'),
                pattern.ends_with('.'),
                &t,
                |p: &char, t: &char| p == t,
            ),
            naive_glob(&reference, &t)
        );
    }

    #[test]
    fn regex_agrees_with_backtracking(source in "[ab.*+?|^$]{1,8}", text in "[ab]{0,10}") {
        if let Ok(regex) = crate::pattern::regex::Regex::new(&source) {
            prop_assert_eq!(regex.is_match(&text), naive_regex(&source, &text), "{}", source);
        }
    }
}
