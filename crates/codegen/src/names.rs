//! Rust names for the model's names, and `///` lines from its documentation.

use serde_json::Value;
use std::fmt::Write;

/// The Rust type of a shape: its name, capitalised (IAM names some shapes `statusType`).
pub(crate) fn type_name(shape: &str) -> String {
    let mut chars = shape.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `containerInstanceArn` → `container_instance_arn`; keywords get `r#`.
pub(crate) fn field_name(member: &str) -> String {
    let mut s = String::new();
    let chars: Vec<char> = member.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(*c);
        }
    }
    match s.as_str() {
        "type" | "match" | "ref" | "in" | "as" | "fn" | "impl" | "self" | "struct" | "enum"
        | "mod" | "use" | "where" | "loop" | "move" | "box" | "static" | "const" | "let"
        | "mut" | "crate" | "super" | "async" | "await" | "dyn" | "final" | "override"
        | "yield" | "try" | "gen" | "return" | "for" | "if" | "else" | "while" | "break"
        | "continue" | "pub" | "trait" | "unsafe" | "extern" | "true" | "false" => format!("r#{s}"),
        _ => s,
    }
}

/// `DELETE_IN_PROGRESS` → `DeleteInProgress`, `memberOf` → `MemberOf`, `CMD-SHELL` → `CmdShell`.
pub(crate) fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for word in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let all_upper = word.chars().all(|c| !c.is_ascii_lowercase());
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if all_upper {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// First sentence of the model's HTML documentation, as a `///` line.
pub(crate) fn doc(out: &mut String, spec: &Value, indent: &str) {
    let Some(html) = spec.get("documentation").and_then(Value::as_str) else {
        return;
    };
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = match text.find(". ") {
        Some(i) => &text[..=i],
        None => text.as_str(),
    };
    if !sentence.is_empty() {
        let _ = writeln!(
            out,
            "{indent}/// {}",
            sentence.replace('[', "\\[").replace(']', "\\]")
        );
    }
}
