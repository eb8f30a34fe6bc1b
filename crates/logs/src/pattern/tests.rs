//! Filter pattern tests: the CloudWatch documentation's examples as tables of messages that
//! must and must not match, the refusals, and properties over arbitrary input.

use super::FilterPattern;
use crate::LogsError;
use proptest::prelude::*;

/// The unstructured events the docs' term examples run against.
const EVENTS: &[&str] = &[
    "[INFO 200] SUCCESSFUL REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 400] BAD REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[SUCCESS 200] AUTHORIZED REQUEST",
    "[INFO] REQUEST FAILED",
    "[WARN] UNAUTHORIZED REQUEST",
    "[WARNING 404] PAGE NOT FOUND",
    "[DEBUG 500] DEBUGGING INTERNAL INVALID",
];

/// The docs' JSON event, on one line as the docs ask.
const JSON_EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null}"#;

/// The docs' compound-expression JSON event.
const USERS_EVENT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"}, "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}], "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

/// Apache access log lines as in the docs.
const ACCESS_404: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
const ACCESS_200: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
const ACCESS_410: &str =
    r#"10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET /gone.html HTTP/1.1" 410 512"#;

fn parse(pattern: &str) -> FilterPattern {
    match FilterPattern::parse(pattern) {
        Ok(p) => p,
        Err(e) => panic!("{pattern:?} should parse: {e}"),
    }
}

/// Checks that `pattern` matches exactly the messages in `expected` among `messages`.
fn check(pattern: &str, messages: &[&str], expected: &[&str]) {
    let parsed = parse(pattern);
    for message in messages {
        assert_eq!(
            parsed.matches(message),
            expected.contains(message),
            "pattern {pattern:?} against {message:?}"
        );
    }
}

#[test]
fn documented_term_examples() {
    let table: &[(&str, &[&str])] = &[
        (
            "ERROR",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[ERROR 400] BAD REQUEST",
                "[ERROR 419] MISSING ARGUMENTS",
                "[ERROR 420] INVALID ARGUMENTS",
                "[ERROR 500] INTERNAL SERVER ERROR",
            ],
        ),
        (
            "ERROR ARGUMENTS",
            &[
                "[ERROR 419] MISSING ARGUMENTS",
                "[ERROR 420] INVALID ARGUMENTS",
            ],
        ),
        (
            "?ERROR ?ARGUMENTS",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[ERROR 400] BAD REQUEST",
                "[ERROR 419] MISSING ARGUMENTS",
                "[ERROR 420] INVALID ARGUMENTS",
                "[ERROR 500] INTERNAL SERVER ERROR",
            ],
        ),
        // `?` terms mixed with others are ignored: every REQUEST matches.
        (
            "?ERROR ?ARGUMENTS REQUEST",
            &[
                "[INFO 200] SUCCESSFUL REQUEST",
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[ERROR 400] BAD REQUEST",
                "[SUCCESS 200] AUTHORIZED REQUEST",
                "[INFO] REQUEST FAILED",
                "[WARN] UNAUTHORIZED REQUEST",
            ],
        ),
        (
            "\"INTERNAL SERVER ERROR\"",
            &["[ERROR 500] INTERNAL SERVER ERROR"],
        ),
        (
            "ERROR -ARGUMENTS",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[ERROR 400] BAD REQUEST",
                "[ERROR 500] INTERNAL SERVER ERROR",
            ],
        ),
        ("\" \"", EVENTS),
        ("\"\"", EVENTS),
        ("", EVENTS),
        ("   ", EVENTS),
        // Case-sensitive.
        ("error", &[]),
        // Whole words: AUTHORIZED is not found inside UNAUTHORIZED.
        ("AUTHORIZED", &["[SUCCESS 200] AUTHORIZED REQUEST"]),
        (
            "-REQUEST",
            &[
                "[ERROR 419] MISSING ARGUMENTS",
                "[ERROR 420] INVALID ARGUMENTS",
                "[ERROR 500] INTERNAL SERVER ERROR",
                "[WARNING 404] PAGE NOT FOUND",
                "[DEBUG 500] DEBUGGING INTERNAL INVALID",
            ],
        ),
        ("\"[WARN]\"", &["[WARN] UNAUTHORIZED REQUEST"]),
        ("-\"BAD REQUEST\" ERROR 40*", &[]),
    ];
    for (pattern, expected) in table {
        check(pattern, EVENTS, expected);
    }
}

#[test]
fn terms_match_whole_words() {
    let p = parse("ERROR");
    assert!(p.matches("ERROR"));
    assert!(p.matches("ERROR: disk full"));
    assert!(p.matches("level=ERROR,"));
    assert!(!p.matches("ERRORS"));
    assert!(!p.matches("NOERROR"));
    assert!(parse("\"a-a\"").matches("xa-a-a"));
    assert!(parse("\"#Cloud\"").matches("#Cloud watch"));
    assert!(!parse("\"#cloud\"").matches("#Cloud watch"));
    assert!(parse("Cloud watch").matches("Cloud logs watch"));
    assert!(!parse("\"Cloud watch\"").matches("Cloud logs watch"));
    assert!(parse("\"ünïcode wörds\"").matches("some ünïcode wörds here"));
}

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

#[test]
fn documented_space_delimited_examples() {
    let messages = [
        ACCESS_404,
        ACCESS_200,
        ACCESS_410,
        "ERROR something failed",
        "WARNING disk",
        "ERROR",
        "",
    ];
    let table: &[(&str, &[&str])] = &[
        (
            "[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes]",
            &[ACCESS_404, ACCESS_410],
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404, bytes]",
            &[ACCESS_404],
        ),
        (
            "[..., request =*.html*, status_code = 4*, bytes]",
            &[ACCESS_404, ACCESS_410],
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            &[ACCESS_404, ACCESS_410],
        ),
        (
            "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
            &[ACCESS_404, ACCESS_200],
        ),
        (
            "[ip, ident, user, ts, request, status_code = 200, bytes]",
            &[ACCESS_200],
        ),
        ("[ip=127.0.0.1, ...]", &[ACCESS_404, ACCESS_200]),
        ("[..., size < 1000]", &[ACCESS_410]),
        (
            "[ip, user, username, timestamp = \"10/Oct/2000:13:55:36 -0700\", ...]",
            &[ACCESS_410],
        ),
        (
            "[..., request = \"GET /apache_pb.gif HTTP/1.0\", ...]",
            &[ACCESS_200],
        ),
        // The last field takes the rest: "the first word is ERROR".
        ("[w1=ERROR, w2]", &["ERROR something failed"]),
        ("[w1=ERROR, w2, w3]", &["ERROR something failed"]),
        (
            "[w1=ERROR, w2 = \"something failed\"]",
            &["ERROR something failed"],
        ),
        ("[w1=ERROR, w2, w3, w4]", &[]),
        ("[w1=ERROR]", &["ERROR"]),
        ("[w1=ERROR, ...]", &["ERROR something failed", "ERROR"]),
        (
            "[w1=ERROR || W1=WARNING, w2]",
            &["ERROR something failed", "WARNING disk"],
        ),
        (
            "[w1!=ERROR && w1!=WARNING, ...]",
            &[ACCESS_404, ACCESS_200, ACCESS_410],
        ),
        (
            "[...]",
            &[
                ACCESS_404,
                ACCESS_200,
                ACCESS_410,
                "ERROR something failed",
                "WARNING disk",
                "ERROR",
                "",
            ],
        ),
        ("[..., status = 404, ...]", &[ACCESS_404]),
        ("[a, ..., b = 1534]", &[ACCESS_404, ACCESS_200]),
        (
            "[ip, ident, user, rest]",
            &[ACCESS_404, ACCESS_200, ACCESS_410],
        ),
        (
            "[ip, ident, user, rest = \"[10/Oct*\"]",
            &[ACCESS_404, ACCESS_200, ACCESS_410],
        ),
    ];
    for (pattern, expected) in table {
        check(pattern, &messages, expected);
    }
}

#[test]
fn bad_patterns_are_invalid_parameters() {
    let long = "a".repeat(1025);
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(40), ")".repeat(40));
    let bad = [
        "\"unbalanced",
        "ERROR \"unbalanced",
        "{ $.a = \"x }",
        "{ $.a = 1",
        "$.a = 1 }",
        "[a, b",
        "a, b]",
        "{ }",
        "[ ]",
        "{ $.a == 1 }",
        "{ $.a => 1 }",
        "{ $.a = }",
        "{ $.a 1 }",
        "{ a = 1 }",
        "{ $ = 1 }",
        "{ $.a[x] = 1 }",
        "{ $.a[0 = 1 }",
        "{ $.a. = 1 }",
        "{ $.a > abc }",
        "{ $.a < \"x\" }",
        "{ $.a = 1 & $.b = 2 }",
        "{ $.a = 1 | $.b = 2 }",
        "{ $.a ! 1 }",
        "{ ($.a = 1 }",
        "{ $.a = 1) }",
        "{ $.a = 1 $.b = 2 }",
        "{ $.a IS NOT NULL }",
        "{ $.a EXISTS }",
        "{ $.a IS MAYBE }",
        "{ $.a NOT THERE }",
        "[a, , b]",
        "[a,]",
        "[a = ]",
        "[a = 1 && b = 2]",
        "[status_code = 4* && bytes > 1000]",
        "[a > x]",
        "[\"quoted\", b]",
        "[(a = 1), b]",
        "?",
        "ERROR ?",
        "- ERROR",
        "??ERROR",
        "\"a\"b",
        "ab\"c",
        "ERROR}",
        "ERROR %4[0-9]{2}%",
        "%ERROR",
        "%%",
        "%(ERROR)%",
        "%a**%",
        "%+a%",
        "%[a%",
        "%[]%",
        "%[z-a]%",
        "%a{2,1}%",
        "%a{5000}%",
        "%a{x}%",
        "%ü%",
        "%\\q%",
        "%a\\%",
        "%a^b%",
        "{ $.a < %1% }",
        "{ $.a = %a(b)% }",
        "{ $.a = %a }",
        "{ $.a = %a% || $.b = %b% || $.c = %c% }",
        "[a = %a%, b = %b%, c = %c%]",
        "[%a%, ...]",
        long.as_str(),
        deep.as_str(),
    ];
    for pattern in bad {
        match FilterPattern::parse(pattern) {
            Err(LogsError::InvalidParameter(message)) => {
                assert!(message.starts_with("invalid filter pattern"), "{message}");
            }
            Err(other) => panic!("{pattern:?}: wrong error {other:?}"),
            Ok(parsed) => panic!("{pattern:?} should be refused, got {parsed:?}"),
        }
    }
}

#[test]
fn documented_regex_examples() {
    let table: &[(&str, &[&str])] = &[
        (
            "%AUTHORIZED%",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[SUCCESS 200] AUTHORIZED REQUEST",
                "[WARN] UNAUTHORIZED REQUEST",
            ],
        ),
        (
            "%^\\[INFO%",
            &["[INFO 200] SUCCESSFUL REQUEST", "[INFO] REQUEST FAILED"],
        ),
        ("%FAILED$%", &["[INFO] REQUEST FAILED"]),
        ("%^\\[INFO\\] REQUEST FAILED$%", &["[INFO] REQUEST FAILED"]),
        (
            "%ERROR 4[0-9]{2}%",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[ERROR 400] BAD REQUEST",
                "[ERROR 419] MISSING ARGUMENTS",
                "[ERROR 420] INVALID ARGUMENTS",
            ],
        ),
        ("%ERROR 4[^0-1]\\d%", &["[ERROR 420] INVALID ARGUMENTS"]),
        (
            "%WARN|DEBUG%",
            &[
                "[WARN] UNAUTHORIZED REQUEST",
                "[WARNING 404] PAGE NOT FOUND",
                "[DEBUG 500] DEBUGGING INTERNAL INVALID",
            ],
        ),
        (
            "%^\\[WARN\\]|INVALID$%",
            &[
                "[WARN] UNAUTHORIZED REQUEST",
                "[DEBUG 500] DEBUGGING INTERNAL INVALID",
            ],
        ),
        (
            "%[A-Z]{11}%",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[WARN] UNAUTHORIZED REQUEST",
            ],
        ),
        (
            "%50+%",
            &[
                "[ERROR 500] INTERNAL SERVER ERROR",
                "[DEBUG 500] DEBUGGING INTERNAL INVALID",
            ],
        ),
        (
            "%S.C.*S%",
            &[
                "[INFO 200] SUCCESSFUL REQUEST",
                "[SUCCESS 200] AUTHORIZED REQUEST",
            ],
        ),
        ("%^[^\\[]%", &[]),
    ];
    for (pattern, expected) in table {
        check(pattern, EVENTS, expected);
    }
    assert!(parse("%colou?r%").matches("color"));
    assert!(parse("%colou?r%").matches("colour"));
    assert!(!parse("%colou?r%").matches("colouur"));
    assert!(parse("%gray|grey%").matches("a grey cat"));
    assert!(parse("%10\\.10\\.0\\.1%").matches("from 10.10.0.1:80"));
    assert!(!parse("%10\\.10\\.0\\.1%").matches("from 10a10.0.1"));
    assert!(parse("%a{2}b{1,}c{0,1}$%").matches("xaab"));
    assert!(!parse("%^a{2}b%").matches("aaab"));
    assert!(parse("%\\s\\w+\\S%").matches(" ab_"));
    assert!(parse("%^$%").matches(""));
    assert!(!parse("%^$%").matches("x"));
    assert!(parse("%a*?b%").matches("b"));
}

#[test]
fn regex_values_in_json_and_delimited_patterns() {
    let event = r#"{"level": "WARNING", "code": 404}"#;
    assert!(parse("{ $.level = %WARN|ERROR% }").matches(event));
    assert!(parse("{ $.level != %^ERROR% && $.code = %^4% }").matches(event));
    assert!(!parse("{ $.code = %^5% }").matches(event));
    let delimited = parse("[ip, ..., status = %^4[0-9]{2}$%, bytes]");
    assert!(delimited.matches(ACCESS_404));
    assert!(!delimited.matches(ACCESS_200));
    assert!(parse("[..., request = %HTTP/1\\.1%, status, bytes]").matches(ACCESS_410));
}

#[test]
fn wildcards_do_not_backtrack() {
    // Exponential for a backtracking matcher; linear passes finish at once.
    let pattern = format!("{{ $.a = \"{}b\" }}", "*a".repeat(200));
    let message = format!("{{\"a\": \"{}\"}}", "a".repeat(100_000));
    assert!(!parse(&pattern).matches(&message));
    let fields = format!("[{} b = 1]", "..., a, ".repeat(50));
    assert!(!parse(&fields).matches(&"a ".repeat(10_000)));
    let regex = format!("%{}b%", "a*".repeat(200));
    assert!(!parse(&regex).matches(&"a".repeat(100_000)));
}

#[test]
fn message_fields_group_brackets_and_quotes() {
    let values = |m| -> Vec<&str> { super::fields::split(m).iter().map(|f| f.value).collect() };
    assert_eq!(
        values(ACCESS_200),
        [
            "127.0.0.1",
            "-",
            "frank",
            "10/Oct/2000:13:25:15 -0700",
            "GET /apache_pb.gif HTTP/1.0",
            "200",
            "1534"
        ]
    );
    assert_eq!(values("  a   [b c  "), ["a", "b c"]);
    assert_eq!(values("\"\" x"), ["", "x"]);
    let rests: Vec<&str> = super::fields::split("a  \"b c\"  d ")
        .iter()
        .map(|f| f.rest)
        .collect();
    assert_eq!(rests, ["a  \"b c\"  d", "\"b c\"  d", "d"]);
}

proptest! {
    #[test]
    fn parse_and_match_never_panic(pattern in ".{0,80}", message in ".{0,200}") {
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            let _ = parsed.matches(&message);
        }
    }

    #[test]
    fn pattern_shaped_input_never_panics(
        pattern in r#"[\[\]{}()$.a-c0-9 ,="!<>&|*?%\-]{0,60}"#,
        message in r#"[\[\]{}":,a-c0-9 .\-]{0,120}"#,
    ) {
        for text in [pattern.clone(), format!("{{{pattern}}}"), format!("[{pattern}]")] {
            if let Ok(parsed) = FilterPattern::parse(&text) {
                let _ = parsed.matches(&message);
                let _ = parsed.matches(r#"{"a": [1, {"b": null}], "c": "x"}"#);
            }
        }
    }
}
