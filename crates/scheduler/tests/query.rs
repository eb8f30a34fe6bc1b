//! The cluster query language: the ECS documentation's examples with their match sets, and
//! malformed expressions with the positions of their errors.

use berth_scheduler::query::{Facts, parse, parse_date};
use std::collections::BTreeMap;

fn instance(
    id: &str,
    kind: &str,
    zone: &str,
    running: i64,
    version: &str,
    groups: &[&str],
) -> Facts {
    Facts {
        ec2_instance_id: id.into(),
        agent_connected: id != "i-off",
        agent_version: version.into(),
        registered_at: parse_date("2018-06-18T00:00:00Z").expect("date")
            + running as f64 * 86_400.0,
        running_tasks_count: running,
        attributes: BTreeMap::from([
            ("ecs.instance-type".to_string(), kind.to_string()),
            ("ecs.availability-zone".to_string(), zone.to_string()),
        ]),
        groups: groups.iter().map(|g| (g.to_string(), 1)).collect(),
    }
}

fn fleet() -> Vec<Facts> {
    vec![
        instance("i-a", "t2.small", "us-east-1a", 0, "1.14.4", &[]),
        instance(
            "i-b",
            "g2.2xlarge",
            "us-east-1b",
            1,
            "1.14.5",
            &["service:production"],
        ),
        instance(
            "i-c",
            "g2.8xlarge",
            "us-east-1d",
            2,
            "1.20.0",
            &["database"],
        ),
        instance(
            "i-off",
            "m5.large",
            "us-east-1a",
            1,
            "1.9.0",
            &["service:production", "database"],
        ),
    ]
}

#[test]
fn documented_examples_match_what_they_say() {
    let table: &[(&str, &[&str])] = &[
        ("attribute:ecs.instance-type == t2.small", &["i-a"]),
        ("attribute:ecs.instance-type equals t2.small", &["i-a"]),
        (
            "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
            &["i-a", "i-b", "i-off"],
        ),
        (
            "attribute:ecs.availability-zone !in ['us-east-1a', \"us-east-1b\"]",
            &["i-c"],
        ),
        (
            "attribute:ecs.availability-zone not_in [us-east-1a, us-east-1b]",
            &["i-c"],
        ),
        (
            "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d",
            &["i-b"],
        ),
        ("attribute:ecs.instance-type matches g2.*", &["i-b", "i-c"]),
        ("attribute:ecs.instance-type !~ g2.*", &["i-a", "i-off"]),
        ("task:group == service:production", &["i-b", "i-off"]),
        ("not(task:group == database)", &["i-a", "i-b"]),
        ("!(task:group == database)", &["i-a", "i-b"]),
        ("runningTasksCount == 1", &["i-b", "i-off"]),
        (
            "runningTasksCount > 0 && runningTasksCount less_than 2",
            &["i-b", "i-off"],
        ),
        ("agentVersion < 1.14.5", &["i-a", "i-off"]),
        ("agentVersion >= 1.14.5", &["i-b", "i-c"]),
        ("registeredAt < 2018-06-19", &["i-a"]),
        (
            "registeredAt >= 2018-06-19T00:00:00+00:00",
            &["i-b", "i-c", "i-off"],
        ),
        ("ec2InstanceId in ['i-a', 'i-c']", &["i-a", "i-c"]),
        ("agentConnected == false", &["i-off"]),
        (
            "attribute:ecs.instance-type exists",
            &["i-a", "i-b", "i-c", "i-off"],
        ),
        ("attribute:custom !exists", &["i-a", "i-b", "i-c", "i-off"]),
        (
            "attribute:custom not_exists or runningTasksCount == 2",
            &["i-a", "i-b", "i-c", "i-off"],
        ),
        (
            "(attribute:ecs.availability-zone == us-east-1a || runningTasksCount == 2) && agentConnected == true",
            &["i-a", "i-c"],
        ),
        ("task:group exists", &["i-b", "i-c", "i-off"]),
    ];
    let fleet = fleet();
    for (expression, expected) in table {
        let expr = parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
        let matched: Vec<&str> = fleet
            .iter()
            .filter(|f| expr.matches(f))
            .map(|f| f.ec2_instance_id.as_str())
            .collect();
        assert_eq!(matched, *expected, "{expression}");
    }
}

#[test]
fn malformed_expressions_say_where() {
    let table: &[(&str, usize, &str)] = &[
        ("", 0, "empty"),
        ("attribute:x ==", 14, "expected a value"),
        ("color == red", 0, "unknown subject"),
        ("attribute:x is y", 12, "unknown operator"),
        ("attribute:x in a, b", 15, "expected ["),
        ("attribute:x in [a b]", 18, "expected , or ]"),
        ("(attribute:x == a", 17, "expected )"),
        ("attribute:x == a attribute:y == b", 17, "unexpected text"),
        ("attribute:x == 'a", 15, "never closed"),
        ("attribute:x =~ '('", 15, "invalid regular expression"),
        ("registeredAt < yesterday", 15, "registeredAt needs a date"),
        ("attribute:x = a", 12, "unexpected character"),
        ("attribute:x ! a", 14, "expected exists or in"),
    ];
    for (expression, position, message) in table {
        let e = parse(expression).expect_err(expression);
        assert!(e.message.contains(message), "{expression}: {e}");
        assert_eq!(e.position, *position, "{expression}: {e}");
    }
}
