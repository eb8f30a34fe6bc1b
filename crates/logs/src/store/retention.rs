//! Retention: whole segments older than their group keeps are deleted now and then.

use super::{Logs, LogsError};

impl Logs {
    /// Drops what the log groups' retention no longer keeps (whole segments); the server calls
    /// it now and then. Returns how many segments went.
    pub fn apply_retention(&self) -> Result<usize, LogsError> {
        let now = self.now();
        let groups: Vec<(String, i64)> = self
            .groups()
            .values()
            .filter(|g| g.retention_in_days.is_some())
            .map(|g| (g.name.clone(), Logs::retention_cutoff(g, now)))
            .collect();
        let mut dropped = 0;
        for (group, cutoff) in groups {
            let streams = match self.stream_names(&group) {
                Ok(names) => names,
                // Deleted since we looked.
                Err(LogsError::ResourceNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            for stream in streams {
                match self.with_stream(&group, &stream, |s| {
                    s.drop_older_than(cutoff)
                        .map_err(|e| LogsError::storage(format!("retention of {stream}"), e))
                }) {
                    Ok(n) => dropped += n,
                    Err(LogsError::ResourceNotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(dropped)
    }
}
