//! Patterns refused with InvalidParameter.

use super::FilterPattern;
use crate::LogsError;

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
