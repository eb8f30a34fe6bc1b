//! JSON patterns: the docs' selectors, numbers and compound expressions.

use super::{JSON_EVENT, USERS_EVENT, check, parse};

#[test]
fn documented_json_examples() {
    let others = r#"{"eventType": "CreateTrail", "sourceIPAddress": "123.123.0.1", "arrayKey": [], "SomeObject": {"a": 1}, "SomeOtherObject": 1}"#;
    let messages = [JSON_EVENT, others, "UpdateTrail", "", "[1, 2]", "{not json"];
    let table: &[(&str, &[&str])] = &[
        ("{ $.eventType = \"UpdateTrail\" }", &[JSON_EVENT]),
        ("{$.eventType=UpdateTrail}", &[JSON_EVENT]),
        ("{ $.eventType = \"Update*\" }", &[JSON_EVENT]),
        ("{ $.eventType = \"*Trail\" }", &[JSON_EVENT, others]),
        ("{ $.eventType != \"UpdateTrail\" }", &[others]),
        ("{ $.sourceIPAddress != 123.123.* }", &[JSON_EVENT]),
        ("{ $.arrayKey[0] = \"value\" }", &[JSON_EVENT]),
        ("{ $.arrayKey[1] = \"another value\" }", &[JSON_EVENT]),
        ("{ $.arrayKey[2] = \"*\" }", &[]),
        ("{ $.objectList[1].id = 2 }", &[JSON_EVENT]),
        ("{ $.objectList[1].id = 2.0e0 }", &[JSON_EVENT]),
        ("{ $.objectList[0].id != 2 }", &[JSON_EVENT]),
        ("{ $.objectList[0].name = a }", &[JSON_EVENT]),
        ("{ $.SomeObject IS NULL }", &[JSON_EVENT]),
        ("{ $.SomeOtherObject NOT EXISTS }", &[JSON_EVENT]),
        (
            "{ $.eventType = \"*\" && $.sourceIPAddress != 123.123.* }",
            &[JSON_EVENT],
        ),
        ("{ $.eventType = \"*\" }", &[JSON_EVENT, others]),
        // A selector reaching an array or an object never matches.
        ("{ $.arrayKey = \"*\" }", &[]),
        ("{ $.objectList != 1 }", &[]),
        ("{ $.SomeObject NOT EXISTS }", &[]),
        ("{ $.SomeObject = \"*\" }", &[]),
    ];
    for (pattern, expected) in table {
        check(pattern, &messages, expected);
    }
}

#[test]
fn documented_json_numbers() {
    let event = r#"{"bandwidth": 80, "latency": 40, "refreshRate": 60, "responseTime": 5, "errorCode": 400, "number": [0.001, 1000], "flag": true, "off": false}"#;
    let matching = [
        "{ $.bandwidth > 75 }",
        "{ $.latency < 50 }",
        "{ $.refreshRate >= 60 }",
        "{ $.responseTime <= 5 }",
        "{ $.errorCode = 400}",
        "{ $.errorCode != 500 }",
        "{ $.errorCode = 4* }",
        "{ $.number[0] = 1e-3 }",
        "{ $.number[1] = 1e+3 }",
        "{ $.number[0] != 1e+3 }",
        "{ $.bandwidth > -1.5E1 }",
        "{ $.flag IS TRUE }",
        "{ $.off IS FALSE }",
        "{ $.flag = true }",
        "{ $.latency = * }",
    ];
    for pattern in matching {
        assert!(parse(pattern).matches(event), "{pattern} should match");
    }
    let failing = [
        "{ $.bandwidth < 75 }",
        "{ $.latency > 50 }",
        "{ $.errorCode != 400 }",
        "{ $.errorCode = \"4\" }",
        "{ $.flag IS FALSE }",
        "{ $.off IS TRUE }",
        "{ $.flag IS NULL }",
        "{ $.missing IS NULL }",
        "{ $.missing != 1 }",
        "{ $.number < 5 }",
    ];
    for pattern in failing {
        assert!(!parse(pattern).matches(event), "{pattern} should not match");
    }
}

#[test]
fn documented_json_compound_expressions() {
    let table: &[(&str, bool)] = &[
        (
            "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
            true,
        ),
        (
            "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
            true,
        ),
        (
            "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }",
            false,
        ),
        (
            "{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
            false,
        ),
        ("{ $.coordinates[1][2] = 6 }", true),
        ("{ $.coordinates[1] = 6 }", false),
        ("{ ((($.actions[0] = GET))) }", true),
    ];
    for (pattern, expected) in table {
        assert_eq!(parse(pattern).matches(USERS_EVENT), *expected, "{pattern}");
    }
}
