//! The listings: a repository's tags (`.../tags/list`) and the repositories (`_catalog`), each
//! a page of at most `n` names after `last`, with a `Link` to the next page.

use super::errors::Answer;
use super::{blocking, json};
use crate::AppState;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use std::collections::HashMap;

/// `GET .../tags/list`.
pub(super) async fn tags(app: &AppState, name: &str, query: &HashMap<String, String>) -> Answer {
    let registry = app.registry.clone();
    let n = name.to_string();
    let tags = blocking(move || registry.tags(&n)).await?;
    let (page, link) = paginate(tags, query, &format!("/v2/{name}/tags/list"));
    let mut r = json(&serde_json::json!({"name": name, "tags": page}));
    add_link(&mut r, link);
    Ok(r)
}

/// `GET /v2/_catalog`.
pub(super) async fn catalog(app: &AppState, query: &HashMap<String, String>) -> Answer {
    let registry = app.registry.clone();
    let names: Vec<String> = blocking(move || {
        Ok(registry
            .repositories()?
            .into_iter()
            .map(|r| r.name)
            .collect())
    })
    .await?;
    let (page, link) = paginate(names, query, "/v2/_catalog");
    let mut r = json(&serde_json::json!({ "repositories": page }));
    add_link(&mut r, link);
    Ok(r)
}

/// A page of `items` after `last`, at most `n`, and the `Link` to the next page.
fn paginate(
    items: Vec<String>,
    query: &HashMap<String, String>,
    path: &str,
) -> (Vec<String>, Option<String>) {
    let after: Vec<String> = match query.get("last") {
        Some(last) => items.into_iter().filter(|i| i > last).collect(),
        None => items,
    };
    let Some(n) = query.get("n").and_then(|n| n.parse::<usize>().ok()) else {
        return (after, None);
    };
    let more = after.len() > n;
    let page: Vec<String> = after.into_iter().take(n).collect();
    let link = match (more, page.last()) {
        (true, Some(last)) => Some(format!("<{path}?n={n}&last={last}>; rel=\"next\"")),
        _ => None,
    };
    (page, link)
}

fn add_link(r: &mut Response, link: Option<String>) {
    if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LINK, v);
    }
}
