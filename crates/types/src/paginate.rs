//! `maxResults` / `nextToken` pagination, the one paginator of every List and Describe call
//! that pages (ECS's lists in the control plane, ECR's in the registry).
//!
//! The token is the position of the next item, so it stays valid while the list only grows at
//! its end and is rejected with a clear message when it is not a token Berth handed out.
//! Clients treat it as opaque.

use crate::ApiError;
use std::fmt;

/// Why a page cannot be given: answered InvalidParameterException.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// `maxResults` is out of range.
    MaxResults {
        /// What the caller asked for.
        given: i32,
        /// The largest accepted.
        most: usize,
    },
    /// The `nextToken` is not one Berth handed out.
    Token(String),
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::MaxResults { given, most } => {
                write!(f, "maxResults is {given}, but must be between 1 and {most}")
            }
            PageError::Token(t) => write!(
                f,
                "nextToken {t:?} is not valid: pass the nextToken of the previous page unchanged"
            ),
        }
    }
}

impl std::error::Error for PageError {}

impl From<PageError> for ApiError {
    fn from(e: PageError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

/// How many items a page holds: when `maxResults` is absent, and at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Items on a page when the caller does not say.
    pub default: usize,
    /// The largest `maxResults` accepted.
    pub most: usize,
}

/// ECS's lists: `default` items a page unless asked, at most 100.
pub const fn ecs(default: usize) -> Size {
    Size { default, most: 100 }
}

/// ECR's lists: up to 1,000 items a page, as many unless asked.
pub const ECR: Size = Size {
    default: 1000,
    most: 1000,
};

/// One page of an ECS list that holds up to 100 items a page unless asked (most of them).
pub fn ecs_page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), PageError> {
    page(items, max_results, next_token, ecs(100))
}

/// One page of `items` and the token of the next page, if any.
pub fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
    size: Size,
) -> Result<(Vec<T>, Option<String>), PageError> {
    let max = match max_results {
        None => size.default,
        Some(n) if n >= 1 && n as usize <= size.most => n as usize,
        Some(given) => {
            return Err(PageError::MaxResults {
                given,
                most: size.most,
            });
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("berth-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| PageError::Token(t.to_string()))?,
    };
    let total = items.len();
    let end = start.saturating_add(max).min(total);
    let next = (end < total).then(|| format!("berth-{end}"));
    let page = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn pages_through() {
        let items: Vec<i32> = (0..5).collect();
        let (p, t) = page(items.clone(), Some(2), None, ecs(100)).expect("page");
        assert_eq!((p, t.as_deref()), (vec![0, 1], Some("berth-2")));
        let (p, t) = page(items.clone(), Some(2), Some("berth-2"), ecs(100)).expect("page");
        assert_eq!((p, t.as_deref()), (vec![2, 3], Some("berth-4")));
        let (p, t) = page(items.clone(), Some(2), Some("berth-4"), ecs(100)).expect("page");
        assert_eq!((p, t), (vec![4], None));
    }

    #[test]
    fn the_default_and_the_most_come_from_the_size() {
        let items: Vec<i32> = (0..150).collect();
        let (p, t) = page(items.clone(), None, None, ecs(10)).expect("page");
        assert_eq!((p.len(), t.as_deref()), (10, Some("berth-10")));
        let (p, t) = page(items.clone(), None, None, ECR).expect("page");
        assert_eq!((p.len(), t), (150, None));
        assert!(page(items.clone(), Some(101), None, ecs(100)).is_err());
        assert!(page(items, Some(1000), None, ECR).is_ok());
    }

    #[test]
    fn refuses_what_it_did_not_hand_out() {
        let items: Vec<i32> = (0..5).collect();
        for (max, token) in [(Some(0), None), (Some(-1), None), (None, Some("bogus"))] {
            let e = page(items.clone(), max, token, ecs(100)).expect_err("refused");
            assert_eq!(ApiError::from(e).code, ErrorCode::InvalidParameterException);
        }
        // An empty token starts again; one past the end is an empty last page.
        assert_eq!(
            page(items.clone(), None, Some(""), ECR)
                .expect("page")
                .0
                .len(),
            5
        );
        assert_eq!(
            page(items, None, Some("berth-9"), ECR).expect("page"),
            (vec![], None)
        );
    }
}
