//! Berth's wire types and the vocabulary every other crate shares. No I/O.
//!
//! - [`generated`]: every ECS and ECR request, response and data shape, generated from the
//!   official service models in `spec/` (`cargo run -p berth-codegen`);
//! - [`validate`]: the model's limits, checked before a request touches state;
//! - [`error`]: wire error codes and their HTTP statuses;
//! - [`arn`]: long-format ARNs and the names-or-ARNs that inputs accept;
//! - [`image`]: the registry and repository an image reference names;
//! - [`paginate`]: `maxResults` / `nextToken` pages, for every service;
//! - [`protocol`]: the messages of the agent channel;
//! - [`request`]: decoding a request once into its operation's typed input, and reading the
//!   input's members by name;
//! - [`units`]: task-level cpu/memory strings such as `"1 vCPU"` and `"2 GB"`.

pub mod arn;
pub mod error;
pub mod generated;
pub mod image;
pub mod paginate;
pub mod protocol;
pub mod request;
pub mod units;
pub mod validate;

pub use error::{ApiError, ErrorCode};
pub use generated::{ecr, ecs};
pub use validate::{Validate, Violation};

/// Seconds since the Unix epoch, as the JSON protocol carries timestamps.
pub type EpochSeconds = f64;
