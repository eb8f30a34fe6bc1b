//! ECR lifecycle policies: rules that expire images by count or by age, evaluated as ECR
//! documents it — rules in `rulePriority` order, each image claimed by the first rule whose tag
//! selection it matches (claimed images are out of reach of later rules, expired or not), and
//! `tagStatus: any` only in the last rule.

use crate::{Image, RegistryError};
use serde::Deserialize;

/// A parsed lifecycle policy.
#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    rule_priority: i64,
    selection: Selection,
    action: Action,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selection {
    tag_status: String,
    #[serde(default)]
    tag_prefix_list: Vec<String>,
    #[serde(default)]
    tag_pattern_list: Vec<String>,
    count_type: String,
    #[serde(default)]
    count_unit: Option<String>,
    count_number: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct Action {
    #[serde(rename = "type")]
    kind: String,
}

fn invalid(why: String) -> RegistryError {
    RegistryError::LifecyclePolicyInvalid(why)
}

/// The most `*` wildcards ECR allows in one `tagPatternList` pattern.
const MAX_WILDCARDS: usize = 4;

/// Whether `tag` matches `pattern` of `tagPatternList`, where `*` stands for any run of
/// characters (none included).
///
/// Greedy, and on a mismatch the last `*` passed takes one more character and the rest is
/// tried again from there: earlier stars never need to take back what they took (whatever the
/// later pattern matched after them, the last star can absorb), so this is O(pattern × tag)
/// where trying every split at every `*` would be exponential in their number. Bytes are
/// compared, which for UTF-8 matches only whole characters.
fn pattern(pattern: &str, tag: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), tag.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // After the last `*` passed: where the pattern resumes, and where in the tag it was tried.
    let mut retry: Option<(usize, usize)> = None;
    while ti < t.len() {
        if p.get(pi) == Some(&b'*') {
            pi += 1;
            retry = Some((pi, ti));
        } else if p.get(pi) == Some(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((after_star, tried)) = retry {
            pi = after_star;
            ti = tried + 1;
            retry = Some((after_star, ti));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl Policy {
    /// Parses and checks a `lifecyclePolicyText`.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let policy: Policy = serde_json::from_str(text)
            .map_err(|e| invalid(format!("the lifecycle policy is not valid: {e}")))?;
        if policy.rules.is_empty() {
            return Err(invalid("a lifecycle policy needs at least one rule".into()));
        }
        let mut priorities: Vec<i64> = policy.rules.iter().map(|r| r.rule_priority).collect();
        priorities.sort();
        if priorities.windows(2).any(|w| w[0] == w[1]) || priorities[0] < 1 {
            return Err(invalid(
                "rulePriority values must be unique positive integers".into(),
            ));
        }
        let last = priorities[priorities.len() - 1];
        for rule in &policy.rules {
            let s = &rule.selection;
            let p = rule.rule_priority;
            if rule.action.kind != "expire" {
                return Err(invalid(format!("rule {p}: action type must be expire")));
            }
            match s.tag_status.as_str() {
                "tagged" if s.tag_prefix_list.is_empty() == s.tag_pattern_list.is_empty() => {
                    return Err(invalid(format!(
                        "rule {p}: tagStatus tagged needs exactly one of tagPrefixList and tagPatternList"
                    )));
                }
                "any" if p != last => {
                    return Err(invalid(format!(
                        "rule {p}: a rule with tagStatus any must have the highest rulePriority"
                    )));
                }
                "tagged" | "untagged" | "any" => {}
                other => {
                    return Err(invalid(format!(
                        "rule {p}: tagStatus {other:?} must be tagged, untagged or any"
                    )));
                }
            }
            match (s.count_type.as_str(), s.count_unit.as_deref()) {
                ("imageCountMoreThan", None) | ("sinceImagePushed", Some("days")) => {}
                (t, u) => {
                    return Err(invalid(format!(
                        "rule {p}: countType {t:?} with countUnit {u:?}: use imageCountMoreThan without a unit, or sinceImagePushed with days"
                    )));
                }
            }
            if s.count_number < 1 {
                return Err(invalid(format!("rule {p}: countNumber must be at least 1")));
            }
            if let Some(wild) = s
                .tag_pattern_list
                .iter()
                .find(|t| t.matches('*').count() > MAX_WILDCARDS)
            {
                return Err(invalid(format!(
                    "rule {p}: tagPatternList pattern {wild:?} has {} wildcards (*): the limit is {MAX_WILDCARDS} per pattern",
                    wild.matches('*').count()
                )));
            }
        }
        Ok(policy)
    }

    /// The images the policy expires at `now` (seconds since the epoch), each with the
    /// priority of the rule that expires it.
    pub fn expired(&self, images: &[Image], now: f64) -> Vec<(Image, i64)> {
        let mut rules = self.rules.clone();
        rules.sort_by_key(|r| r.rule_priority);
        let mut claimed = vec![false; images.len()];
        let mut out = vec![];
        for rule in &rules {
            let s = &rule.selection;
            let mut matched: Vec<usize> = (0..images.len())
                .filter(|&i| !claimed[i])
                .filter(|&i| {
                    let tags = &images[i].tags;
                    match s.tag_status.as_str() {
                        "untagged" => tags.is_empty(),
                        "tagged" => {
                            // Every prefix (or pattern) must match one of the image's tags.
                            let by_prefix = s
                                .tag_prefix_list
                                .iter()
                                .all(|p| tags.iter().any(|t| t.starts_with(p.as_str())));
                            let by_pattern = s
                                .tag_pattern_list
                                .iter()
                                .all(|p| tags.iter().any(|t| pattern(p, t)));
                            !tags.is_empty() && by_prefix && by_pattern
                        }
                        _ => true,
                    }
                })
                .collect();
            // Newest first: the count keeps the newest.
            matched.sort_by(|&a, &b| images[b].pushed_at.total_cmp(&images[a].pushed_at));
            for (rank, &i) in matched.iter().enumerate() {
                claimed[i] = true;
                let expire = match s.count_type.as_str() {
                    "imageCountMoreThan" => rank as i64 >= s.count_number,
                    _ => now - images[i].pushed_at > s.count_number as f64 * 86_400.0,
                };
                if expire {
                    out.push((images[i].clone(), rule.rule_priority));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(digest: &str, pushed_at: f64, tags: &[&str]) -> Image {
        Image {
            digest: digest.into(),
            media_type: String::new(),
            manifest_size: 0,
            size: 0,
            pushed_at,
            last_pulled_at: None,
            subject: None,
            artifact_type: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn all_but_the_newest_two_expire() {
        let policy = Policy::parse(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#).expect("valid");
        let images: Vec<Image> = (0..5)
            .map(|i| image(&format!("d{i}"), i as f64, &[]))
            .collect();
        let expired: Vec<String> = policy
            .expired(&images, 10.0)
            .into_iter()
            .map(|(i, _)| i.digest)
            .collect();
        assert_eq!(expired, ["d2", "d1", "d0"]);
    }

    #[test]
    fn a_claimed_image_is_out_of_reach_of_later_rules() {
        let policy = Policy::parse(r#"{"rules":[
            {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#).expect("valid");
        let day = 86_400.0;
        let images = vec![
            image("old-prod", 0.0, &["prod-1"]),
            image("new-prod", day, &["prod-2"]),
            image("old-dev", 0.0, &["dev"]),
            image("new-dev", 5.0 * day, &["dev-2"]),
        ];
        let expired: Vec<(String, i64)> = policy
            .expired(&images, 5.5 * day)
            .into_iter()
            .map(|(i, p)| (i.digest, p))
            .collect();
        // new-prod is older than a day but rule 1 claimed it and keeps it.
        assert_eq!(
            expired,
            [("old-prod".to_string(), 1), ("old-dev".to_string(), 2)]
        );
    }

    #[test]
    fn bad_policies_say_why() {
        for (text, says) in [
            (r#"{"rules":[]}"#, "at least one rule"),
            (
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
                "highest rulePriority",
            ),
            (
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
                "tagPrefixList",
            ),
            (
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countNumber":1},"action":{"type":"expire"}}]}"#,
                "days",
            ),
            (
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["v*","a*b*c*d*e*f"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
                r#"pattern "a*b*c*d*e*f" has 5 wildcards (*): the limit is 4 per pattern"#,
            ),
        ] {
            let e = Policy::parse(text).expect_err(text).to_string();
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    #[test]
    fn four_wildcards_are_allowed() {
        Policy::parse(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#)
            .expect("ECR's own example of a valid tagPatternList");
    }

    #[test]
    fn patterns_match_with_wildcards() {
        for (p, t, matches) in [
            ("prod*", "prod-1", true),
            ("prod*", "prod", true),
            ("*-rc*", "v1-rc2", true),
            ("prod*", "dev", false),
            ("exact", "exact", true),
            ("exact", "exact-not", false),
            ("exact", "exac", false),
            ("*", "", true),
            ("**", "anything", true),
            ("*x", "", false),
            ("ab*", "a", false),
            // The first place `-rc` fits is not the one that lets the rest match.
            ("v*-rc*9", "v1-rc2-rc9", true),
            ("*a*b", "xaxab", true),
            ("*a*b", "xaxabx", false),
            ("é*ü", "éaaü", true),
            ("*é", "aé", true),
        ] {
            assert_eq!(pattern(p, t), matches, "{p:?} against {t:?}");
        }
    }

    #[test]
    fn wildcards_that_cannot_match_fail_quickly() {
        // Trying every split at every star (as before) would take months here.
        let tag = "a".repeat(10_000);
        assert!(!pattern("a*a*a*a*b", &tag));
        assert!(pattern("a*a*a*a*a", &tag));
    }
}
