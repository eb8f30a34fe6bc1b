//! Term patterns: the docs' unstructured examples and whole-word matching.

use super::{EVENTS, check, parse};

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
