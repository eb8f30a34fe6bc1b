//! Log group and stream names, checked as CloudWatch Logs checks them, and their ARNs.
//!
//! The API crate authorises requests with these ARNs, so they are built in one place.

use crate::LogsError;
use berth_types::arn::Partition;

/// Where the logs service answers: its region and account, which its ARNs carry.
#[derive(Debug, Clone)]
pub struct Context {
    /// The server's region and account.
    pub partition: Partition,
}

/// The pattern CloudWatch states for log group names (and their prefixes).
const GROUP_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// The pattern CloudWatch states for log stream names (and their prefixes).
const STREAM_PATTERN: &str = "[^:*]*";
/// The longest name CloudWatch allows, for groups and streams alike.
const MAX_NAME: usize = 512;

/// CloudWatch's wording for a value that breaks a constraint of the model.
pub(crate) fn violation(value: &str, field: &str, constraint: &str) -> LogsError {
    LogsError::InvalidParameter(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
         constraint: {constraint}"
    ))
}

fn check_length(value: &str, field: &str) -> Result<(), LogsError> {
    if value.is_empty() {
        return Err(violation(
            value,
            field,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.len() > MAX_NAME {
        return Err(violation(
            value,
            field,
            "Member must have length less than or equal to 512",
        ));
    }
    Ok(())
}

fn group_chars_ok(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
}

/// Checks a log group name as CloudWatch does, `field` naming the input member.
pub(crate) fn check_group_name(value: &str, field: &str) -> Result<(), LogsError> {
    check_length(value, field)?;
    if !group_chars_ok(value) {
        return Err(violation(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {GROUP_PATTERN}"),
        ));
    }
    Ok(())
}

/// Checks the name of a log group about to be created: a valid name outside AWS's own space.
pub(crate) fn check_new_group_name(value: &str) -> Result<(), LogsError> {
    check_group_name(value, "logGroupName")?;
    if value
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws/"))
    {
        return Err(LogsError::InvalidParameter(
            "Log groups starting with AWS/ are reserved for AWS.".into(),
        ));
    }
    Ok(())
}

/// Checks a log group name prefix or pattern (the group name's characters, any length ≥ 1).
pub(crate) fn check_group_prefix(value: &str, field: &str) -> Result<(), LogsError> {
    check_group_name(value, field)
}

/// Checks a log stream name (or prefix) as CloudWatch does, `field` naming the input member.
pub(crate) fn check_stream_name(value: &str, field: &str) -> Result<(), LogsError> {
    check_length(value, field)?;
    if value.contains([':', '*']) {
        return Err(violation(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {STREAM_PATTERN}"),
        ));
    }
    Ok(())
}

fn logs_prefix(partition: &Partition) -> String {
    format!("arn:aws:logs:{}:{}:", partition.region, partition.account)
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (the `logGroupArn` form, without `:*`).
pub fn group_arn(partition: &Partition, name: &str) -> String {
    format!("{}log-group:{name}", logs_prefix(partition))
}

/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>`.
pub fn stream_arn(partition: &Partition, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(partition, group))
}

/// The log group named by a log group ARN, with or without the trailing `:*`. An ARN that
/// is not a log group's is InvalidParameter; one of another region or account names no group
/// here, so it is ResourceNotFound.
pub fn group_of_arn(partition: &Partition, arn: &str) -> Result<String, LogsError> {
    let invalid = || LogsError::InvalidParameter(format!("'{arn}' is not a log group ARN."));
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("logs"), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    let name = resource.strip_prefix("log-group:").ok_or_else(invalid)?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    if name.contains(':') {
        // A log stream's ARN, or something else below a group: not a group.
        return Err(invalid());
    }
    check_group_name(name, "resourceArn")?;
    if region != partition.region || account != partition.account {
        return Err(LogsError::ResourceNotFound(
            "The specified log group does not exist.".into(),
        ));
    }
    Ok(name.to_string())
}

/// The log group that a `logGroupName` or `logGroupIdentifier` (a name or an ARN) names:
/// exactly one of the two must be given.
pub(crate) fn resolve_group(
    partition: &Partition,
    name: Option<&str>,
    identifier: Option<&str>,
) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter(
            "LogGroup name and LogGroup identifier are mutually exclusive parameters.".into(),
        )),
        (None, None) => Err(LogsError::InvalidParameter(
            "Either logGroupName or logGroupIdentifier must be specified.".into(),
        )),
        (Some(name), None) => {
            check_group_name(name, "logGroupName")?;
            Ok(name.to_string())
        }
        (None, Some(id)) if id.starts_with("arn:") => group_of_arn(partition, id),
        (None, Some(id)) => {
            check_group_name(id, "logGroupIdentifier")?;
            Ok(id.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition() -> Partition {
        Partition {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    #[test]
    fn group_names() {
        assert!(check_new_group_name("/ecs/web-app_1.#x").is_ok());
        assert!(matches!(
            check_new_group_name("AWS/lambda"),
            Err(LogsError::InvalidParameter(m)) if m.contains("reserved for AWS")
        ));
        assert!(check_new_group_name("aws/x").is_err());
        assert!(check_new_group_name("awsx").is_ok());
        let Err(LogsError::InvalidParameter(m)) = check_new_group_name("bad name") else {
            panic!("a space is refused")
        };
        assert_eq!(
            m,
            "1 validation error detected: Value 'bad name' at 'logGroupName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             [\\.\\-_/#A-Za-z0-9]+"
        );
        assert!(check_new_group_name("").is_err());
        assert!(check_new_group_name(&"a".repeat(512)).is_ok());
        assert!(check_new_group_name(&"a".repeat(513)).is_err());
    }

    #[test]
    fn stream_names() {
        assert!(check_stream_name("ecs/web/abc 1", "logStreamName").is_ok());
        assert!(check_stream_name("a:b", "logStreamName").is_err());
        assert!(check_stream_name("a*", "logStreamName").is_err());
        assert!(check_stream_name("", "logStreamName").is_err());
    }

    #[test]
    fn arns_round_trip() {
        let p = partition();
        let arn = group_arn(&p, "/ecs/web");
        assert_eq!(
            arn,
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"
        );
        assert_eq!(group_of_arn(&p, &arn).unwrap(), "/ecs/web");
        assert_eq!(group_of_arn(&p, &format!("{arn}:*")).unwrap(), "/ecs/web");
        assert_eq!(
            stream_arn(&p, "g", "s"),
            "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s"
        );
        assert!(matches!(
            group_of_arn(&p, &stream_arn(&p, "g", "s")),
            Err(LogsError::InvalidParameter(_))
        ));
        assert!(matches!(
            group_of_arn(&p, "arn:aws:logs:eu-west-1:123456789012:log-group:g"),
            Err(LogsError::ResourceNotFound(_))
        ));
        assert!(matches!(
            group_of_arn(&p, "arn:aws:ecs:us-east-1:123456789012:cluster/x"),
            Err(LogsError::InvalidParameter(_))
        ));
        assert!(group_of_arn(&p, "nonsense").is_err());
    }
}
