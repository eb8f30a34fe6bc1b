//! Space-delimited patterns: the docs' access-log and `w1` examples, and message fields.

use super::{ACCESS_200, ACCESS_404, ACCESS_410, check};

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
fn message_fields_group_brackets_and_quotes() {
    let values = |m| -> Vec<&str> {
        crate::pattern::fields::split(m)
            .iter()
            .map(|f| f.value)
            .collect()
    };
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
    let rests: Vec<&str> = crate::pattern::fields::split("a  \"b c\"  d ")
        .iter()
        .map(|f| f.rest)
        .collect();
    assert_eq!(rests, ["a  \"b c\"  d", "\"b c\"  d", "d"]);
}
