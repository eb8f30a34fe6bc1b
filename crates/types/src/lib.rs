//! Berth's wire types and the vocabulary every other crate shares. No I/O.
//!
//! - [`generated`]: every ECS and ECR request, response and data shape, and those of the IAM,
//!   STS, CloudWatch Logs, SSM, Secrets Manager and EC2 operations Berth answers, generated from the official service models in `spec/`
//!   (`cargo run -p berth-codegen`);
//! - `validate`: the model's limits, checked before a request touches state;
//! - `error`: wire error codes and their HTTP statuses;
//! - [`arn`]: long-format ARNs and the names-or-ARNs that inputs accept;
//! - [`image`]: the registry and repository an image reference names;
//! - [`paginate`]: `maxResults` / `nextToken` pages, for every service;
//! - [`protocol`]: the messages of the agent channel;
//! - [`request`]: decoding a request once into its operation's typed input, and reading the
//!   input's members by name;
//! - [`units`]: task-level cpu/memory strings such as `"1 vCPU"` and `"2 GB"`.

#![warn(unreachable_pub)]

pub mod arn;
mod error;
pub mod generated;
pub mod image;
pub mod paginate;
pub mod protocol;
pub mod request;
pub mod units;
mod validate;

pub use error::{ApiError, ErrorCode};
pub use generated::{ec2, ecr, ecs, iam, logs, secretsmanager, ssm, sts};
pub use validate::{Validate, Violation};

/// Seconds since the Unix epoch, as the JSON protocol carries timestamps.
pub type EpochSeconds = f64;

/// A point in time in the shapes of the Query-protocol services (IAM, STS, EC2): epoch seconds,
/// which their XML codec writes in ISO 8601. The codec knows it by its serde name,
/// [`Timestamp::SERDE_NAME`]: serde gives a serializer no other way to tell a timestamp from
/// a number.
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename = "berth::Timestamp")]
pub struct Timestamp(pub EpochSeconds);

impl Timestamp {
    /// The name serde hands the codecs for a timestamp.
    pub const SERDE_NAME: &'static str = "berth::Timestamp";
}
