//! Regular expressions, standalone and as values.

use super::{ACCESS_200, ACCESS_404, ACCESS_410, EVENTS, check, parse};

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
