//! The bounds several operations share: page sizes and fields Berth does not do.

use crate::LogsError;
use crate::names::violation;

/// The page size asked for in `limit` (field `field`), `default` when absent.
pub(crate) fn page_limit(limit: Option<i32>, max: i32, default: i32) -> Result<usize, LogsError> {
    match limit {
        None => Ok(default as usize),
        Some(n) if n < 1 => Err(violation(
            &n.to_string(),
            "limit",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(violation(
            &n.to_string(),
            "limit",
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

/// Refuses an input member Berth does not do, naming it, rather than ignoring it.
pub(crate) fn unsupported(field: &str, why: &str) -> LogsError {
    LogsError::Unsupported(format!("{field} is not supported by Berth: {why}"))
}

/// `unmask` asks to see data masked by a data protection policy; Berth has none to unmask.
pub(crate) fn refuse_unmask(unmask: Option<bool>) -> Result<(), LogsError> {
    match unmask {
        Some(true) => Err(unsupported(
            "unmask",
            "Berth has no data protection policies, so nothing is masked",
        )),
        _ => Ok(()),
    }
}
