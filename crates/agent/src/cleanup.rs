//! When a stopped task's containers leave the host. As ECS's agent keeps them for
//! `ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION` (3 hours), Berth keeps them for the agent's
//! `--task-cleanup-wait`, so `docker logs` works on a stopped task's containers. A periodic
//! sweep ([`crate::manager::Manager::sweep`]) removes them once the wait is up, judging by the
//! engine's finish time, so containers left behind across an agent restart go too.

use std::time::{Duration, SystemTime};

/// ECS's default wait.
#[cfg(test)]
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(3 * 3600);

/// How often the sweep runs: a tenth of the wait, within 5 seconds and a minute (with no wait
/// the runner removes containers itself; the sweep only finds leftovers).
pub(crate) fn sweep_period(wait: Duration) -> Duration {
    (wait / 10).clamp(Duration::from_secs(5), Duration::from_secs(60))
}

/// Whether a container that stopped at `finished_at` (`None`: it never ran) may go at `now`.
pub(crate) fn due(finished_at: Option<SystemTime>, wait: Duration, now: SystemTime) -> bool {
    finished_at.is_none_or(|at| now.duration_since(at).unwrap_or_default() >= wait)
}

/// `3h`, `10m`, `30s`, `0s`, `1h30m`, `500ms` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?} (expected e.g. 3h, 10m, 30s or 0s)");
    let s = s.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = s.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3h"), Ok(DEFAULT_WAIT));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn due_once_the_wait_is_up() {
        let now = SystemTime::now();
        let wait = Duration::from_secs(60);
        assert!(due(None, wait, now), "never ran");
        assert!(!due(Some(now - Duration::from_secs(59)), wait, now));
        assert!(due(Some(now - Duration::from_secs(60)), wait, now));
        assert!(due(Some(now), Duration::ZERO, now));
        assert_eq!(sweep_period(DEFAULT_WAIT), Duration::from_secs(60));
        assert_eq!(sweep_period(Duration::ZERO), Duration::from_secs(5));
    }
}
