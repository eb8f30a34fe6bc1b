//! The IAM policy language and its evaluation, as IAM documents them: statements with `Effect`,
//! `Action`/`NotAction`, `Resource`/`NotResource` (with `*` and `?` wildcards) and `Condition`
//! (StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals,
//! ArnLike, ArnNotEquals, ArnNotLike, Bool). An explicit Deny beats an Allow, which beats the
//! implicit deny. Pure: the caller passes the documents and the request's facts.

use serde_json::Value;
use std::collections::BTreeMap;

/// What a request asks, as policies see it.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// `service:Operation`, e.g. `ecs:RunTask`.
    pub action: String,
    /// The resource ARN, or `*`.
    pub resource: String,
    /// Condition keys (lower case) and their values, e.g. `ecs:cluster`.
    pub keys: BTreeMap<String, String>,
    /// Whether agents make this call (what an agent's key may do at all).
    pub agent_facing: bool,
    /// The container instance or task an agent-facing call is about, as the caller named it
    /// (an agent may only speak of its own).
    pub subject: Option<String>,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some statement allows it and none denies it.
    Allow,
    /// A statement denies it.
    ExplicitDeny,
    /// Nothing allows it.
    ImplicitDeny,
}

/// `*` (any run) and `?` (any one character) wildcard matching.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        // Actions and ARNs are ASCII: match bytes, without copying either.
        let same = |p: &u8, t: &u8| {
            if ignore_case {
                p.eq_ignore_ascii_case(t)
            } else {
                p == t
            }
        };
        return matches(pattern.as_bytes(), text.as_bytes(), same);
    }
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    matches(&p, &t, |a, b| a == b)
}

/// The wildcard matcher over bytes or chars: `*` and `?` in `p` are wildcards, any other
/// symbol must be `same` as the text's.
fn matches<T: Copy + Into<u32>>(p: &[T], t: &[T], same: impl Fn(&T, &T) -> bool) -> bool {
    let (star, one) = (u32::from('*'), u32::from('?'));
    let (mut pi, mut ti) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi].into() == one || same(&p[pi], &t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi].into() == star {
            back = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = back {
            pi = sp + 1;
            ti = st + 1;
            back = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| (*c).into() == star)
}

/// A string or a list of strings, as policy elements take them.
pub(crate) fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        Value::Bool(b) => Some(vec![b.to_string()]),
        _ => None,
    }
}

const OPERATORS: [&str; 10] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
];

pub(crate) fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => vec![],
    }
}

/// Checks that `document` is policy JSON this evaluator understands; the reason when not.
pub fn check(document: &str) -> Result<(), String> {
    let v: Value =
        serde_json::from_str(document).map_err(|e| format!("The policy is not valid JSON: {e}"))?;
    if !v.is_object() {
        return Err("The policy must be a JSON object with a Statement".into());
    }
    if let Some(version) = v.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(format!(
            "Version {version} is not valid: use \"2012-10-17\""
        ));
    }
    let list = statements(&v);
    if list.is_empty() {
        return Err("Syntax errors in policy: Statement is missing or empty".into());
    }
    for s in list {
        match s["Effect"].as_str() {
            Some("Allow" | "Deny") => {}
            _ => return Err("Each statement needs an Effect of Allow or Deny".into()),
        }
        let one_of = |a: &str, b: &str| match (s.get(a), s.get(b)) {
            (Some(x), None) | (None, Some(x)) => strings(x)
                .map(|_| ())
                .ok_or_else(|| format!("{a}/{b} must be a string or a list of strings")),
            _ => Err(format!("Each statement needs exactly one of {a} and {b}")),
        };
        one_of("Action", "NotAction")?;
        one_of("Resource", "NotResource")?;
        if let Some(c) = s.get("Condition") {
            let Some(ops) = c.as_object() else {
                return Err("Condition must be an object".into());
            };
            for (op, keys) in ops {
                if !OPERATORS.contains(&op.as_str()) {
                    return Err(format!(
                        "Condition operator {op} is not supported: use one of {}",
                        OPERATORS.join(", ")
                    ));
                }
                let ok = keys
                    .as_object()
                    .is_some_and(|k| k.values().all(|v| strings(v).is_some()));
                if !ok {
                    return Err(format!("Condition {op} must map keys to strings"));
                }
            }
        }
    }
    Ok(())
}

fn condition_holds(op: &str, wanted: &[String], actual: Option<&String>) -> bool {
    let negated = op.contains("Not");
    let Some(actual) = actual else {
        // A key the request lacks fails a positive test and passes a negated one.
        return negated;
    };
    let any = wanted.iter().any(|w| match op {
        "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => w == actual,
        "StringEqualsIgnoreCase" => w.eq_ignore_ascii_case(actual),
        "Bool" => w.eq_ignore_ascii_case(actual),
        _ => wildcard(w, actual, false),
    });
    any != negated
}

pub(crate) fn statement_applies(s: &Value, ask: &Ask) -> bool {
    let listed = |key: &str| s.get(key).and_then(strings);
    let action_hit = |list: Vec<String>| list.iter().any(|a| wildcard(a, &ask.action, true));
    let actions = match (listed("Action"), listed("NotAction")) {
        (Some(a), _) => action_hit(a),
        (None, Some(n)) => !action_hit(n),
        _ => false,
    };
    let resource_hit = |list: Vec<String>| list.iter().any(|r| wildcard(r, &ask.resource, false));
    let resources = match (listed("Resource"), listed("NotResource")) {
        (Some(r), _) => resource_hit(r),
        (None, Some(n)) => !resource_hit(n),
        _ => false,
    };
    let conditions = s
        .get("Condition")
        .and_then(Value::as_object)
        .is_none_or(|ops| {
            ops.iter().all(|(op, keys)| {
                keys.as_object().is_some_and(|keys| {
                    keys.iter().all(|(k, v)| {
                        let wanted = strings(v).unwrap_or_default();
                        condition_holds(op, &wanted, ask.keys.get(&k.to_ascii_lowercase()))
                    })
                })
            })
        });
    actions && resources && conditions
}

/// Evaluates `ask` against every statement of `documents`.
pub fn evaluate(documents: &[String], ask: &Ask) -> Decision {
    let mut allowed = false;
    for doc in documents {
        let Ok(v) = serde_json::from_str::<Value>(doc) else {
            continue;
        };
        for s in statements(&v) {
            if !statement_applies(s, ask) {
                continue;
            }
            match s["Effect"].as_str() {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// How a resource policy statement's `Principal` names a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Named {
    /// Not at all.
    No,
    /// By its ARN, or as everyone (`*`, `{"AWS": "*"}`).
    Directly,
    /// As its account (the account's root ARN or its id): as in IAM, that delegates to the
    /// account, whose identity policies must then allow the call; it grants nothing alone.
    ByAccount,
}

pub(crate) fn principal_named(s: &Value, arn: &str) -> Named {
    let listed = match &s["Principal"] {
        Value::String(p) => vec![p.clone()],
        Value::Object(o) => o.get("AWS").and_then(strings).unwrap_or_default(),
        _ => vec![],
    };
    let account = arn.split(':').nth(4).unwrap_or_default();
    let root = format!("arn:aws:iam::{account}:root");
    if listed.iter().any(|p| p == "*" || p == arn) {
        Named::Directly
    } else if listed.iter().any(|p| *p == root || p == account) {
        Named::ByAccount
    } else {
        Named::No
    }
}

/// A resource policy's statement with the `Resource` it may leave out: the resource the policy
/// is on, whatever its ARN.
pub(crate) fn on_this_resource(s: &Value) -> Value {
    let mut s = s.clone();
    if s.get("Resource").is_none() && s.get("NotResource").is_none() {
        s["Resource"] = "*".into();
    }
    s
}

/// A resource policy document whose statements all have their `Resource` ([`on_this_resource`]),
/// as the identity policy checker reads it.
pub(crate) fn on_this_resource_all(document: &Value) -> Value {
    let mut out = document.clone();
    if let Some(o) = out.as_object_mut()
        && o.contains_key("Statement")
    {
        let list = statements(document).into_iter().map(on_this_resource);
        o.insert("Statement".into(), Value::Array(list.collect()));
    }
    out
}

/// Checks a resource policy (a repository policy): statements need a Principal and an
/// Action; Resource may be left out (it is the resource the policy is on).
pub fn check_resource(document: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(document)
        .map_err(|e| format!("Invalid repository policy provided: {e}"))?;
    for s in statements(&v) {
        if s.get("Principal").is_none() {
            return Err(
                "Invalid repository policy provided: each statement needs a Principal".into(),
            );
        }
    }
    let with_resource = on_this_resource_all(&v);
    check(&with_resource.to_string())
        .map_err(|e| format!("Invalid repository policy provided: {e}"))
}

/// Evaluates a resource policy for the principal `arn`: explicit deny, allow or implicit deny.
pub fn evaluate_resource(document: &str, arn: &str, ask: &Ask) -> Decision {
    let Ok(v) = serde_json::from_str::<Value>(document) else {
        return Decision::ImplicitDeny;
    };
    let mut allowed = false;
    for s in statements(&v) {
        let named = principal_named(s, arn);
        if named == Named::No {
            continue;
        }
        let s = on_this_resource(s);
        if !statement_applies(&s, ask) {
            continue;
        }
        match s["Effect"].as_str() {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") if named == Named::Directly => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_policies_name_their_principals() {
        let doc = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/ci"},"Action":"ecr:*"},
            {"Effect":"Deny","Principal":"*","Action":"ecr:BatchDeleteImage"}]}"#;
        assert!(check_resource(doc).is_ok());
        assert!(check_resource(r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#).is_err());
        let ask = |action: &str| Ask {
            action: action.into(),
            resource: "arn:aws:ecr:us-east-1:000000000000:repository/app".into(),
            ..Ask::default()
        };
        let ci = "arn:aws:iam::000000000000:user/ci";
        let other = "arn:aws:iam::000000000000:user/other";
        assert_eq!(
            evaluate_resource(doc, ci, &ask("ecr:PutImage")),
            Decision::Allow
        );
        assert_eq!(
            evaluate_resource(doc, other, &ask("ecr:PutImage")),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate_resource(doc, ci, &ask("ecr:BatchDeleteImage")),
            Decision::ExplicitDeny
        );
        // The account as principal delegates to identity policies: it allows nobody alone,
        // but its denies apply to every principal of the account.
        for account in ["arn:aws:iam::000000000000:root", "000000000000"] {
            let doc = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{account}"}},"Action":"ecr:*"}},
                {{"Effect":"Deny","Principal":{{"AWS":"{account}"}},"Action":"ecr:DeleteRepository"}}]}}"#
            );
            assert_eq!(
                evaluate_resource(&doc, other, &ask("ecr:PutImage")),
                Decision::ImplicitDeny
            );
            assert_eq!(
                evaluate_resource(&doc, other, &ask("ecr:DeleteRepository")),
                Decision::ExplicitDeny
            );
        }
    }

    #[test]
    fn wildcards_match_as_iam_documents() {
        assert!(wildcard("ecs:Describe*", "ecs:DescribeTasks", true));
        assert!(wildcard("ecs:*", "ECS:RunTask", true));
        assert!(!wildcard("ecs:Describe*", "ecs:RunTask", true));
        assert!(wildcard(
            "arn:aws:ecs:*:*:cluster/a?",
            "arn:aws:ecs:us-east-1:1:cluster/ab",
            false
        ));
        assert!(!wildcard(
            "arn:aws:ecs:*:*:cluster/a?",
            "arn:aws:ecs:us-east-1:1:cluster/abc",
            false
        ));
        assert!(wildcard("*", "", false));
    }

    fn ask(action: &str, resource: &str, cluster: Option<&str>) -> Ask {
        let mut keys = BTreeMap::from([("aws:securetransport".to_string(), "false".to_string())]);
        if let Some(c) = cluster {
            keys.insert("ecs:cluster".into(), c.into());
        }
        Ask {
            action: action.into(),
            resource: resource.into(),
            keys,
            ..Ask::default()
        }
    }

    const A: &str = "arn:aws:ecs:us-east-1:000000000000:cluster/a";
    const B: &str = "arn:aws:ecs:us-east-1:000000000000:cluster/b";

    #[test]
    fn the_policy_matrix_decides_as_iam_does() {
        let read_only = r#"{"Statement":{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}}"#;
        let run_on_a = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"ecs:RunTask","Resource":"*","Condition":{{"ArnEquals":{{"ecs:cluster":"{A}"}}}}}}]}}"#
        );
        let all_but_delete = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":"ecs:Delete*","Resource":"*"}]}"#;
        let not_action = r#"{"Statement":{"Effect":"Allow","NotAction":"ecs:RunTask","NotResource":"arn:aws:ecs:*:*:cluster/b"}}"#;
        let like = r#"{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringLike":{"ecs:cluster":"*cluster/a*"},"Bool":{"aws:SecureTransport":"false"}}}}"#;
        let cases: Vec<(&str, Ask, Decision)> = vec![
            (
                read_only,
                ask("ecs:DescribeTasks", "*", Some(A)),
                Decision::Allow,
            ),
            (
                read_only,
                ask("ecs:RunTask", "*", Some(A)),
                Decision::ImplicitDeny,
            ),
            (&run_on_a, ask("ecs:RunTask", "*", Some(A)), Decision::Allow),
            (
                &run_on_a,
                ask("ecs:RunTask", "*", Some(B)),
                Decision::ImplicitDeny,
            ),
            (
                &run_on_a,
                ask("ecs:RunTask", "*", None),
                Decision::ImplicitDeny,
            ),
            (
                all_but_delete,
                ask("ecs:CreateCluster", A, Some(A)),
                Decision::Allow,
            ),
            (
                all_but_delete,
                ask("ecs:DeleteCluster", A, Some(A)),
                Decision::ExplicitDeny,
            ),
            (not_action, ask("ecs:StopTask", A, Some(A)), Decision::Allow),
            (
                not_action,
                ask("ecs:RunTask", A, Some(A)),
                Decision::ImplicitDeny,
            ),
            (
                not_action,
                ask("ecs:StopTask", B, Some(B)),
                Decision::ImplicitDeny,
            ),
            (like, ask("ecs:ListTasks", A, Some(A)), Decision::Allow),
            (
                like,
                ask("ecs:ListTasks", B, Some(B)),
                Decision::ImplicitDeny,
            ),
        ];
        for (doc, ask, want) in cases {
            assert_eq!(check(doc), Ok(()), "{doc}");
            assert_eq!(evaluate(&[doc.to_string()], &ask), want, "{doc} {ask:?}");
        }
        // A deny in one document beats an allow in another.
        let docs = [read_only.to_string(), all_but_delete.to_string()];
        assert_eq!(
            evaluate(&docs, &ask("ecs:DeleteService", "*", Some(A))),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn malformed_documents_say_why() {
        for (doc, says) in [
            ("{", "not valid JSON"),
            (r#"{"Statement":[]}"#, "Statement"),
            (
                r#"{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}"#,
                "Effect",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "Action",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"1"}}}}"#,
                "NumericLessThan",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
                "Version",
            ),
        ] {
            let why = check(doc).expect_err(doc);
            assert!(why.contains(says), "{doc}: {why}");
        }
    }
}
