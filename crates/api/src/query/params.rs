//! A form body's parameters: flat (`Action=CreateUser&Tags.member.1.Key=k`, as
//! `application/x-www-form-urlencoded` has them) and as the tree their dotted names make, which
//! [`super::codec`] reads into a shape. A form is bounded: at most [`MAX_PARAMS`] parameters of
//! at most [`MAX_DEPTH`] dotted parts, so no body builds a tree too wide or too deep to walk.

use crate::sigv4;
use berth_types::{ApiError, ErrorCode};
use std::collections::{BTreeMap, btree_map};

/// The most parameters a form may have (IAM's largest inputs, with 50 tags, have about 100).
pub const MAX_PARAMS: usize = 1000;
/// The most dotted parts of a parameter's name (`Tags.member.1.Key` has 4).
pub const MAX_DEPTH: usize = 16;

/// The parameters of a form body (`Action=CreateUser&UserName=...`): `+` is a space, `%XX`
/// escapes are decoded, and a repeated key keeps its last value.
pub fn form(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body).replace('+', " ");
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decoded(k), decoded(v))
        })
        .collect()
}

fn decoded(s: &str) -> String {
    String::from_utf8_lossy(&sigv4::percent_decode(s)).into_owned()
}

/// The `Action` parameter (the last one, as in [`form`]): which operation a body is for, read
/// without decoding the rest of it.
pub fn action(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .rev()
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find(|(k, _)| decoded(&k.replace('+', " ")) == "Action")
        .map(|(_, v)| decoded(&v.replace('+', " ")))
}

/// A node of the tree and its parameter name.
pub(crate) type Named<'de> = (String, &'de Node);

/// A form as a tree: `A.B=1&A.C=2` is `{A: {B: 1, C: 2}}`.
#[derive(Debug, PartialEq)]
pub(crate) enum Node {
    Text(String),
    Fields(BTreeMap<String, Node>),
}

/// The tree of a form's parameters, within the bounds; a form out of them is refused with
/// `code` (the dialect's word for an invalid parameter).
pub(crate) fn tree(params: BTreeMap<String, String>, code: ErrorCode) -> Result<Node, ApiError> {
    let invalid = |message: String| ApiError::new(code, message);
    if params.len() > MAX_PARAMS {
        return Err(invalid(format!(
            "the request has {} parameters, more than the {MAX_PARAMS} Berth reads: send fewer",
            params.len()
        )));
    }
    let mut root = BTreeMap::new();
    for (key, value) in params {
        let parts: Vec<&str> = key.split('.').collect();
        if parts.len() > MAX_DEPTH {
            return Err(invalid(format!(
                "parameter {key} has {} dotted parts, more than the {MAX_DEPTH} Berth reads",
                parts.len()
            )));
        }
        let conflict = || {
            invalid(format!(
                "parameter {key} is both a value and a structure: send one or the other"
            ))
        };
        let (last, path) = parts.split_last().unwrap_or((&"", &[]));
        let mut fields = &mut root;
        for part in path {
            let node = fields
                .entry(part.to_string())
                .or_insert_with(|| Node::Fields(BTreeMap::new()));
            fields = match node {
                Node::Fields(f) => f,
                Node::Text(_) => return Err(conflict()),
            };
        }
        match fields.entry(last.to_string()) {
            btree_map::Entry::Vacant(slot) => {
                slot.insert(Node::Text(value));
            }
            btree_map::Entry::Occupied(_) => return Err(conflict()),
        }
    }
    Ok(Node::Fields(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of the ValidationError a form gets.
    fn refusal(body: &str) -> String {
        let e = tree(form(body.as_bytes()), ErrorCode::ValidationError).expect_err("refused");
        assert_eq!(e.code, ErrorCode::ValidationError, "{e:?}");
        e.message
    }

    #[test]
    fn dotted_names_make_a_tree() {
        let text = |s: &str| Node::Text(s.into());
        let root = tree(form(b"A.B=1&A.C.D=%2B+2&E="), ErrorCode::ValidationError).expect("a tree");
        let c = Node::Fields([("D".into(), text("+ 2"))].into());
        let a = Node::Fields([("B".into(), text("1")), ("C".into(), c)].into());
        assert_eq!(
            root,
            Node::Fields([("A".into(), a), ("E".into(), text(""))].into())
        );
    }

    #[test]
    fn forms_are_bounded() {
        let wide: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("P{i}=v")).collect();
        assert!(refusal(&wide.join("&")).contains("parameters"));
        let deep = format!("UserName=a&{}=v", vec!["P"; MAX_DEPTH + 1].join("."));
        assert!(refusal(&deep).contains("dotted parts"));
        assert!(refusal("UserName=a&Path=%2F&Path.x=1").contains("both a value and a structure"));
    }

    #[test]
    fn the_action_is_read_alone() {
        assert_eq!(
            action(b"Version=1&Action=Get%55ser").as_deref(),
            Some("GetUser")
        );
        assert_eq!(action(b"Action=A&Action=B").as_deref(), Some("B"));
        assert_eq!(action(b"Action=A&Action").as_deref(), Some(""));
        assert_eq!(action(b"UserName=Action"), None);
    }
}
