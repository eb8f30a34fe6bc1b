//! Filter pattern tests: the CloudWatch documentation's examples as tables of messages that
//! must and must not match, the refusals, and properties over arbitrary input. The messages the
//! docs use live here, shared by the files below.

mod delimited;
mod json;
mod properties;
mod refusals;
mod regex;
mod terms;

use super::FilterPattern;

/// The unstructured events the docs' term examples run against.
pub(super) const EVENTS: &[&str] = &[
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
pub(super) const JSON_EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null}"#;

/// The docs' compound-expression JSON event.
pub(super) const USERS_EVENT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"}, "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}], "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

/// Apache access log lines as in the docs.
pub(super) const ACCESS_404: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
pub(super) const ACCESS_200: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
pub(super) const ACCESS_410: &str =
    r#"10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET /gone.html HTTP/1.1" 410 512"#;

pub(super) fn parse(pattern: &str) -> FilterPattern {
    match FilterPattern::parse(pattern) {
        Ok(p) => p,
        Err(e) => panic!("{pattern:?} should parse: {e}"),
    }
}

/// Checks that `pattern` matches exactly the messages in `expected` among `messages`.
pub(super) fn check(pattern: &str, messages: &[&str], expected: &[&str]) {
    let parsed = parse(pattern);
    for message in messages {
        assert_eq!(
            parsed.matches(message),
            expected.contains(message),
            "pattern {pattern:?} against {message:?}"
        );
    }
}
