//! `*` wildcards, matched in linear passes: a star never backtracks, so a hostile pattern such
//! as `*a*a*a*b` costs one scan per literal piece rather than an exponential search.
//!
//! The same greedy rule serves text (`*` = any characters) and message fields (`...` = any
//! fields): the first piece is anchored at the start unless the pattern opens with a wildcard,
//! the last at the end unless it closes with one, and each middle piece takes its leftmost
//! place after the previous one. Leftmost is always safe: it leaves the most room for the rest.

/// A text pattern with `*` wildcards, split once at parse time.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    pieces: Vec<String>,
    open_start: bool,
    open_end: bool,
}

impl Glob {
    /// Compiles `pattern`; every `*` is a wildcard.
    pub(super) fn new(pattern: &str) -> Self {
        Self {
            pieces: pattern
                .split('*')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            open_start: pattern.starts_with('*'),
            open_end: pattern.ends_with('*'),
        }
    }

    /// Whether `text` matches the whole pattern.
    pub(super) fn matches(&self, text: &str) -> bool {
        let Some((last, middle)) = self.pieces.split_last() else {
            // Only stars (matches anything) or the empty pattern (only the empty text).
            return self.open_start || text.is_empty();
        };
        if middle.is_empty() && !self.open_start && !self.open_end {
            return text == last;
        }
        let mut rest = text;
        let mut middle = middle;
        if !self.open_start {
            // With a single piece, that piece is both first and last: keep it for the end.
            let first = middle.first().unwrap_or(last);
            let Some(after) = rest.strip_prefix(first.as_str()) else {
                return false;
            };
            if middle.is_empty() {
                return self.open_end;
            }
            rest = after;
            middle = &middle[1..];
        }
        for piece in middle {
            match rest.find(piece.as_str()) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        if self.open_end {
            rest.contains(last.as_str())
        } else {
            rest.ends_with(last.as_str())
        }
    }
}

/// Whether `items` match `segments` separated (and optionally opened/closed) by wildcards that
/// stand for any number of items; `eq` tests one item against one pattern element.
pub(super) fn match_segments<P, T>(
    segments: &[Vec<P>],
    open_start: bool,
    open_end: bool,
    items: &[T],
    eq: impl Fn(&P, &T) -> bool,
) -> bool {
    let window = |seg: &[P], at: usize| {
        items
            .get(at..at + seg.len())
            .is_some_and(|w| seg.iter().zip(w).all(|(p, t)| eq(p, t)))
    };
    let Some((last, middle)) = segments.split_last() else {
        return open_start || items.is_empty();
    };
    let mut at = 0;
    let mut middle = middle;
    if !open_start {
        let first = middle.first().unwrap_or(last);
        if !window(first, 0) {
            return false;
        }
        if middle.is_empty() {
            return if open_end {
                true
            } else {
                items.len() == first.len()
            };
        }
        at = first.len();
        middle = &middle[1..];
    }
    for seg in middle {
        match (at..=items.len().saturating_sub(seg.len())).find(|&i| window(seg, i)) {
            Some(i) => at = i + seg.len(),
            None => return false,
        }
    }
    if open_end {
        (at..=items.len().saturating_sub(last.len())).any(|i| window(last, i))
    } else {
        items.len() >= at + last.len() && window(last, items.len() - last.len())
    }
}
