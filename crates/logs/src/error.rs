//! What the logs service refuses, and why. The API crate maps each variant to CloudWatch Logs'
//! exception in one table.

/// A refusal or failure of the logs service. Every message says what is wrong and, where it
/// can, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The log group or stream does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The log group or stream already exists (`ResourceAlreadyExistsException`).
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// The input breaks a rule of the API (`InvalidParameterException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// Too many tags on a log group (`TooManyTagsException`).
    #[error("{0}")]
    TooManyTags(String),
    /// A quota would be passed (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// Something Berth's logs do not do (`UnsupportedFeatureException`).
    #[error("{0}")]
    Unsupported(String),
    /// The disk failed us (`ServiceUnavailableException`: the caller may retry).
    #[error("{context}: {source}")]
    Storage {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl LogsError {
    /// A storage failure while doing `context`.
    pub fn storage(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Storage {
            context: context.into(),
            source,
        }
    }
}
