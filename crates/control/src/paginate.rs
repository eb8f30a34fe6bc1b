//! `maxResults` / `nextToken` for the List operations.
//!
//! The token is the position of the next item, so it stays valid while the list only grows at
//! its end and is rejected with a clear message when it is not a token Berth handed out.

use berth_types::ApiError;

/// One page of `items` and the token of the next page, if any.
pub fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
    default_max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max_results {
        None => default_max,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "maxResults is {n}, but must be between 1 and 100"
            )));
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("berth-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "nextToken {t:?} is not valid: pass the nextToken of the previous page unchanged"
                ))
            })?,
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

    #[test]
    fn pages_through() {
        let items: Vec<i32> = (0..5).collect();
        let (p, t) = page(items.clone(), Some(2), None, 100).expect("page");
        assert_eq!((p, t.as_deref()), (vec![0, 1], Some("berth-2")));
        let (p, t) = page(items.clone(), Some(2), Some("berth-4"), 100).expect("page");
        assert_eq!((p, t), (vec![4], None));
        assert!(page(items.clone(), Some(0), None, 100).is_err());
        assert!(page(items, None, Some("bogus"), 100).is_err());
    }
}
