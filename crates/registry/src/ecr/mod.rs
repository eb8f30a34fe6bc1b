//! ECR's operations over the registry, on the generated request and response shapes
//! (`berth_types::ecr`): each takes its operation's typed request and returns its typed
//! response or a [`RegistryError`] whose variant names the ECR exception. Authorisation is the
//! caller's (it knows the principals and the policy language); what is needed beyond the
//! request — the account and region of ARNs, where clients reach the registry — is in
//! [`Context`]. One module per area:
//!
//! - `repositories`: repositories and their settings;
//! - `images`: listing, describing, getting and deleting images, and the pieces of answers
//!   that name images (identifiers, `failures[]`);
//! - `policies`: repository policies, lifecycle policies and their previews;
//! - `layers`: layer availability, layer uploads and PutImage (pushing through the JSON API);
//! - `tags`: resource tags on repositories.

mod images;
mod layers;
mod policies;
mod repositories;
mod tags;

use crate::{Registry, RegistryError};
use berth_types::arn::Partition;

/// What an ECR operation needs beyond its request.
#[derive(Debug, Clone)]
pub struct Context {
    /// The account (`registryId`) and region of repositories' ARNs.
    pub partition: Partition,
    /// `http` or `https`: how clients reach the registry.
    pub scheme: &'static str,
    /// `host[:port]` clients reach the registry at (repository URIs, download URLs).
    pub host: String,
}

/// The ECR operations of a registry, in one context: `registry.ecr(&context)`.
pub struct Ecr<'a> {
    registry: &'a Registry,
    context: &'a Context,
}

impl Registry {
    /// The ECR operations over this registry.
    pub fn ecr<'a>(&'a self, context: &'a Context) -> Ecr<'a> {
        Ecr {
            registry: self,
            context,
        }
    }
}

impl Ecr<'_> {
    /// The account, as ECR's `registryId`.
    fn account(&self) -> Option<String> {
        Some(self.context.partition.account.clone())
    }
}

/// The ARN of repository `name`.
pub fn repository_arn(partition: &Partition, name: &str) -> String {
    format!("{}{name}", arn_prefix(partition))
}

/// What every repository ARN of this registry starts with.
fn arn_prefix(partition: &Partition) -> String {
    format!(
        "arn:aws:ecr:{}:{}:repository/",
        partition.region, partition.account
    )
}

/// The repository a repository ARN names.
pub fn repository_of(partition: &Partition, resource_arn: &str) -> Result<String, RegistryError> {
    let prefix = arn_prefix(partition);
    if let Some(name) = resource_arn.strip_prefix(&prefix) {
        return Ok(name.to_string());
    }
    let parts: Vec<&str> = resource_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ecr", _, _, resource] if resource.starts_with("repository/") => {
            // Another region's or account's repository: not in this registry.
            Err(RegistryError::RepositoryNotFound(format!(
                "The repository {resource_arn} does not exist in this registry: its ARNs start with {prefix}"
            )))
        }
        _ => Err(RegistryError::InvalidParameter(format!(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN' ({resource_arn:?}): pass a repository ARN such as {prefix}team/app"
        ))),
    }
}

/// A page of an ECR list, from the one paginator.
fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), RegistryError> {
    use berth_types::paginate;
    paginate::page(items, max_results, next_token, paginate::ECR)
        .map_err(|e| RegistryError::InvalidParameter(e.to_string()))
}
