//! Trust policies (a role's AssumeRolePolicyDocument): who may assume a role. They are resource
//! policies on the role, read by [`crate::policy`]'s statement matching, with two rules of their
//! own: every statement names a `Principal` (AWS principals or services) and none a `Resource`,
//! and a principal named by its ARN is trusted alone while the account named as a whole
//! (`arn:aws:iam::<account>:root` or the account id) only delegates to the account's identity
//! policies, which must then allow `sts:AssumeRole` too — IAM's rule within one account.

use crate::policy::{self, Ask, Named};
use serde_json::Value;

/// Who asks to assume a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assumer {
    /// An AWS principal, by every ARN it goes by: a user's ARN, or an assumed-role session's
    /// ARN and its role's.
    Aws(Vec<String>),
    /// A service principal, e.g. `ecs-tasks.amazonaws.com`.
    Service(String),
}

/// What a trust policy says of an assumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trust {
    /// A statement naming it denies the request.
    Denied,
    /// No statement naming it allows the request.
    NotNamed,
    /// Its account is trusted: its identity policies must allow `sts:AssumeRole` too.
    ByAccount,
    /// It is trusted by name (or as `*`): nothing more is needed.
    Directly,
}

/// The service principal ECS tasks assume their roles as.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

fn listed(principal: &Value, kind: &str) -> Vec<String> {
    principal
        .get(kind)
        .and_then(policy::strings)
        .unwrap_or_default()
}

fn named(s: &Value, assumer: &Assumer) -> Trust {
    match assumer {
        Assumer::Aws(arns) => arns
            .iter()
            .map(|arn| match policy::principal_named(s, arn) {
                Named::Directly => Trust::Directly,
                Named::ByAccount => Trust::ByAccount,
                Named::No => Trust::NotNamed,
            })
            .max()
            .unwrap_or(Trust::NotNamed),
        Assumer::Service(name) if listed(&s["Principal"], "Service").contains(name) => {
            Trust::Directly
        }
        Assumer::Service(_) => Trust::NotNamed,
    }
}

/// What the trust policy `document` says of `assumer` asking `ask` (`sts:AssumeRole` with its
/// condition keys): an explicit deny of a statement naming it wins, else the strongest allow.
pub fn evaluate(document: &str, assumer: &Assumer, ask: &Ask) -> Trust {
    let Ok(v) = serde_json::from_str::<Value>(document) else {
        return Trust::NotNamed;
    };
    let mut best = Trust::NotNamed;
    for s in policy::statements(&v) {
        let named = named(s, assumer);
        if named == Trust::NotNamed || !policy::statement_applies(&policy::on_this_resource(s), ask)
        {
            continue;
        }
        match s["Effect"].as_str() {
            Some("Deny") => return Trust::Denied,
            Some("Allow") => best = best.max(named),
            _ => {}
        }
    }
    best
}

/// Whether `p` is an AWS principal a trust policy may name: `*`, an account id, or the ARN of
/// an account root, user, role or assumed-role session.
fn aws_principal(p: &str) -> bool {
    let account = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if p == "*" || account(p) {
        return true;
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", "aws", "iam", "", acct, what] => {
            account(acct)
                && (*what == "root" || what.starts_with("user/") || what.starts_with("role/"))
        }
        ["arn", "aws", "sts", "", acct, what] => account(acct) && what.starts_with("assumed-role/"),
        _ => false,
    }
}

/// Checks a trust policy: JSON the policy checker accepts, each statement with a `Principal` of
/// AWS principals or services and no `Resource`, and STS actions only. The reason, in IAM's
/// words, when not.
pub fn check(document: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(document)
        .map_err(|_| "This policy contains invalid Json".to_string())?;
    for s in policy::statements(&v) {
        if s.get("Resource").is_some() || s.get("NotResource").is_some() {
            return Err("Has prohibited field Resource".into());
        }
        let kinds = match s.get("Principal") {
            None => return Err("Missing required field Principal".into()),
            Some(Value::String(p)) if p == "*" => None,
            Some(Value::Object(o)) if !o.is_empty() => Some(o),
            Some(p) => return Err(format!("Invalid principal in policy: {p}")),
        };
        let principal = &s["Principal"];
        for kind in kinds.into_iter().flat_map(|o| o.keys()) {
            let valid = |p: &String| match kind.as_str() {
                "AWS" => aws_principal(p),
                "Service" => p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn"),
                "Federated" => !p.is_empty(),
                _ => false,
            };
            let values = listed(principal, kind);
            if values.is_empty() {
                return Err(format!("Invalid principal in policy: \"{kind}\""));
            }
            if let Some(bad) = values.iter().find(|p| !valid(p)) {
                return Err(format!(
                    "Invalid principal in policy: \"{}\":\"{bad}\"",
                    kind.to_ascii_uppercase()
                ));
            }
        }
        let actions = s
            .get("Action")
            .and_then(policy::strings)
            .unwrap_or_default();
        if actions
            .iter()
            .any(|a| !(a == "*" || a.to_ascii_lowercase().starts_with("sts:")))
        {
            return Err("AssumeRole policy may only specify STS AssumeRole actions.".into());
        }
    }
    policy::check(&policy::on_this_resource_all(&v).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const ACCOUNT: &str = "000000000000";

    fn ask(keys: &[(&str, &str)]) -> Ask {
        Ask {
            action: "sts:AssumeRole".into(),
            resource: format!("arn:aws:iam::{ACCOUNT}:role/r"),
            keys: keys
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..Ask::default()
        }
    }

    fn trust(principal: &str, condition: &str) -> String {
        let condition = if condition.is_empty() {
            String::new()
        } else {
            format!(r#","Condition":{condition}"#)
        };
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
        )
    }

    fn user(name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{name}")
    }

    proptest! {
        #[test]
        fn users_are_trusted_by_name_or_through_their_account(
            name in "[a-z][a-z0-9-]{0,12}",
            other in "[a-z][a-z0-9-]{0,12}",
        ) {
            let me = Assumer::Aws(vec![user(&name)]);
            let by_name = trust(&format!(r#"{{"AWS":"{}"}}"#, user(&name)), "");
            prop_assert_eq!(check(&by_name), Ok(()));
            prop_assert_eq!(evaluate(&by_name, &me, &ask(&[])), Trust::Directly);
            let someone_else = trust(&format!(r#"{{"AWS":"{}"}}"#, user(&other)), "");
            let expected = if name == other { Trust::Directly } else { Trust::NotNamed };
            prop_assert_eq!(evaluate(&someone_else, &me, &ask(&[])), expected);
            for account in [format!("arn:aws:iam::{ACCOUNT}:root"), ACCOUNT.to_string()] {
                let by_account = trust(&format!(r#"{{"AWS":"{account}"}}"#), "");
                prop_assert_eq!(check(&by_account), Ok(()));
                prop_assert_eq!(evaluate(&by_account, &me, &ask(&[])), Trust::ByAccount);
            }
            prop_assert_eq!(evaluate(&trust(r#""*""#, ""), &me, &ask(&[])), Trust::Directly);
            // A service principal trusts no user.
            prop_assert_eq!(evaluate(&trust(r#"{"Service":"ecs-tasks.amazonaws.com"}"#, ""), &me, &ask(&[])), Trust::NotNamed);
        }

        #[test]
        fn assumed_role_sessions_are_trusted_by_their_role_or_session_arn(
            role in "[A-Za-z][A-Za-z0-9_]{0,12}",
            session in "[a-z0-9@.-]{2,20}",
        ) {
            let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{role}");
            let session_arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}");
            let me = Assumer::Aws(vec![session_arn.clone(), role_arn.clone()]);
            for named in [&role_arn, &session_arn] {
                let doc = trust(&format!(r#"{{"AWS":"{named}"}}"#), "");
                prop_assert_eq!(check(&doc), Ok(()));
                prop_assert_eq!(evaluate(&doc, &me, &ask(&[])), Trust::Directly);
            }
            let other = trust(&format!(r#"{{"AWS":"arn:aws:iam::{ACCOUNT}:role/x{role}"}}"#), "");
            prop_assert_eq!(evaluate(&other, &me, &ask(&[])), Trust::NotNamed);
        }

        #[test]
        fn conditions_on_principal_arn_source_account_and_external_id_decide(
            name in "[a-z]{1,8}",
            external in "[A-Za-z0-9+=,.@:/-]{2,20}",
            given in "[A-Za-z0-9+=,.@:/-]{2,20}",
            account in "[0-9]{12}",
        ) {
            let me = Assumer::Aws(vec![user(&name)]);
            let ci_only = trust(
                r#"{"AWS":"000000000000"}"#,
                &format!(r#"{{"StringLike":{{"aws:PrincipalArn":"arn:aws:iam::{ACCOUNT}:user/ci-*"}}}}"#),
            );
            prop_assert_eq!(check(&ci_only), Ok(()));
            let asked = ask(&[("aws:principalarn", &user(&name))]);
            prop_assert_eq!(evaluate(&ci_only, &me, &asked), Trust::NotNamed);
            let ci = Assumer::Aws(vec![user(&format!("ci-{name}"))]);
            let asked = ask(&[("aws:principalarn", &user(&format!("ci-{name}")))]);
            prop_assert_eq!(evaluate(&ci_only, &ci, &asked), Trust::ByAccount);

            let with_id = trust(
                &format!(r#"{{"AWS":"{}"}}"#, user(&name)),
                &format!(r#"{{"StringEquals":{{"sts:ExternalId":"{external}"}}}}"#),
            );
            prop_assert_eq!(evaluate(&with_id, &me, &ask(&[])), Trust::NotNamed);
            let expected = if given == external { Trust::Directly } else { Trust::NotNamed };
            prop_assert_eq!(evaluate(&with_id, &me, &ask(&[("sts:externalid", &given)])), expected);

            let tasks = Assumer::Service(ECS_TASKS.into());
            let from_account = trust(
                r#"{"Service":["ecs-tasks.amazonaws.com"]}"#,
                &format!(r#"{{"StringEquals":{{"aws:SourceAccount":"{ACCOUNT}"}}}}"#),
            );
            prop_assert_eq!(check(&from_account), Ok(()));
            let expected = if account == ACCOUNT { Trust::Directly } else { Trust::NotNamed };
            prop_assert_eq!(evaluate(&from_account, &tasks, &ask(&[("aws:sourceaccount", &account)])), expected);
        }

        #[test]
        fn a_deny_naming_the_caller_wins_in_any_order(name in "[a-z]{1,8}", deny_first in any::<bool>()) {
            let arn = user(&name);
            let allow = format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}"#);
            let deny = r#"{"Effect":"Deny","Principal":{"AWS":"000000000000"},"Action":"sts:*"}"#.to_string();
            let list = if deny_first { [deny, allow] } else { [allow, deny] };
            let doc = format!(r#"{{"Statement":[{}]}}"#, list.join(","));
            prop_assert_eq!(check(&doc), Ok(()));
            prop_assert_eq!(evaluate(&doc, &Assumer::Aws(vec![arn]), &ask(&[])), Trust::Denied);
        }
    }
}
