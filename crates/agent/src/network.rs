//! awsvpc tasks on this host: each task has a network namespace of its own, held by a pause
//! container ([`pause`]) that has the address the control plane allocated to the task's
//! network interface, on its VPC's Docker network ([`vpc_network`]). The task's containers
//! join that namespace; its role's credentials endpoint is served there once, for all of them.
//!
//! [`VpcNetworks`] counts the tasks that use each VPC's network, so that the last one to end
//! removes it, and a task starting meanwhile never finds it half gone.

pub(crate) mod pause;
mod pause_elf;
pub(crate) mod vpc_network;

use crate::runtime::ContainerRuntime;
use berth_types::protocol::TaskNetwork;
use std::collections::HashMap;
use std::sync::Arc;

/// The VPC networks this agent's tasks use, by network name, with how many tasks use each.
#[derive(Clone, Default)]
pub(crate) struct VpcNetworks {
    held: Arc<tokio::sync::Mutex<HashMap<String, usize>>>,
}

impl VpcNetworks {
    /// Makes sure the network of `interface`'s VPC exists and counts one more task on it;
    /// returns its name.
    pub(crate) async fn acquire<R: ContainerRuntime>(
        &self,
        runtime: &R,
        instance_arn: &str,
        interface: &TaskNetwork,
    ) -> Result<String, String> {
        let mut held = self.held.lock().await;
        let name = vpc_network::ensure(runtime, instance_arn, interface).await?;
        *held.entry(name.clone()).or_default() += 1;
        Ok(name)
    }

    /// Counts one task fewer on network `name`, and removes it when that was the last one and
    /// this container instance made it.
    pub(crate) async fn release<R: ContainerRuntime>(
        &self,
        runtime: &R,
        instance_arn: &str,
        name: &str,
    ) {
        let mut held = self.held.lock().await;
        match held.get_mut(name) {
            Some(count) if *count > 1 => *count -= 1,
            Some(_) => {
                held.remove(name);
                remove_unused(runtime, instance_arn, |n| n == name).await;
            }
            None => {}
        }
    }

    /// Removes the networks this container instance made that no task of its uses: those left
    /// when the agent stopped before the last task of a VPC ended.
    pub(crate) async fn sweep<R: ContainerRuntime>(&self, runtime: &R, instance_arn: &str) {
        let held = self.held.lock().await;
        remove_unused(runtime, instance_arn, |n| !held.contains_key(n)).await;
    }
}

/// Removes the networks this container instance made whose name is `chosen`. The engine
/// refuses to remove one that a running container is on (a task of another agent sharing the
/// engine, say): it stays, and a later sweep tries again.
async fn remove_unused<R: ContainerRuntime>(
    runtime: &R,
    instance_arn: &str,
    chosen: impl Fn(&str) -> bool,
) {
    let networks = match runtime.list_networks().await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list networks to remove");
            return;
        }
    };
    for network in networks {
        if !vpc_network::made_by(&network, instance_arn) || !chosen(&network.name) {
            continue;
        }
        match runtime.remove_network(&network.name).await {
            Ok(()) => tracing::info!(network = %network.name, "removed a VPC's network"),
            Err(e) => tracing::debug!(network = %network.name, error = %e, "VPC network kept"),
        }
    }
}

/// Against the real engine.
#[cfg(test)]
mod engine_tests;
