//! What every generated `Request` enum shares: how a body is decoded into an operation's input,
//! and how an input's members are read by name for authorisation (the resource a call is
//! about, its cluster, the items of a batch) without decoding the body again.

use crate::{ApiError, Validate};
use serde::de::DeserializeOwned;

/// Decodes a body into an operation's input shape (the API layer's awsJson1.1 decoder).
pub trait Decoder {
    /// The input `T` the body holds, with the model's limits checked.
    fn decode<T: DeserializeOwned + Validate>(&self, body: &[u8]) -> Result<T, ApiError>;
}

/// An operation input's string members and lists of strings, by their wire names.
pub trait Members {
    /// A string member, when the input has it and it is set.
    fn text(&self, member: &str) -> Option<&str>;
    /// A list-of-strings member, when the input has it and it is set.
    fn list(&self, member: &str) -> Option<&[String]>;
    /// The first item of a list-of-strings member.
    fn first(&self, member: &str) -> Option<&str> {
        self.list(member)?.first().map(String::as_str)
    }
}
