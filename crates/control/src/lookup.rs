//! Finding a cluster's tasks, container instances and services by ARN, or by id or name in
//! that cluster. A leaf module: the operations look up each other's records here rather than
//! importing each other.

use crate::State;
use crate::error::ControlError;
use berth_types::arn::{self, Partition};
use berth_types::ecs::{ContainerInstance, Service, Task};

/// The key a reference names: itself when it is an ARN, else the ARN `build` makes of it.
fn key(reference: &str, build: impl FnOnce() -> String) -> String {
    match arn::parse(reference) {
        Some(_) => reference.to_string(),
        None => build(),
    }
}

/// Finds a task of `cluster` by ARN or id.
pub fn task<'s>(
    state: &'s State,
    partition: &Partition,
    cluster: &str,
    reference: &str,
) -> Option<&'s Task> {
    let key = key(reference, || partition.task(cluster, reference));
    state
        .tasks
        .get(&key)
        .filter(|t| t.cluster_arn.as_deref().map(arn::cluster_name) == Some(cluster))
}

/// Finds an instance of `cluster` by ARN or id.
pub(crate) fn instance<'s>(
    state: &'s State,
    partition: &Partition,
    cluster: &str,
    reference: &str,
) -> Option<&'s ContainerInstance> {
    let key = key(reference, || {
        partition.container_instance(cluster, reference)
    });
    state.instances.get(&key).filter(|i| {
        i.container_instance_arn
            .as_deref()
            .and_then(arn::cluster_of)
            == Some(cluster)
    })
}

/// Finds a service of `cluster` by name or ARN, in any status.
pub(crate) fn service<'s>(
    state: &'s State,
    partition: &Partition,
    cluster: &str,
    reference: &str,
) -> Option<&'s Service> {
    let key = key(reference, || partition.service(cluster, reference));
    state
        .services
        .get(&key)
        .filter(|s| s.cluster_arn.as_deref().map(arn::cluster_name) == Some(cluster))
}

/// The refusal for a reference to a service the cluster does not have.
pub(crate) fn service_not_found(reference: &str, cluster: &str) -> ControlError {
    ControlError::ServiceNotFound(format!(
        "Service not found: {reference} is not a service of cluster {cluster}; create it with CreateService"
    ))
}
