//! The runner's part in an awsvpc task ([`crate::network`]): before its first container, the
//! VPC's network is made sure of and the pause started with the task's address; its role's
//! credentials endpoint is served in the pause's namespace, once for every container (and a
//! container that restarts finds it still there); the containers join that namespace. The
//! pause stops after the containers and goes with them; an agent that restarts finds it by its
//! label and serves the endpoint there again.

use super::Runner;
use crate::network::pause::{self, PAUSE_CONTAINER};
use crate::runtime::{ContainerRuntime, Existing};
use berth_types::ecs::NetworkMode;
use tokio::task::JoinHandle;

/// The stop reason of an awsvpc task the control plane gave no interface.
pub(super) const NO_INTERFACE: &str =
    "no network interface was assigned to this awsvpc task (the server is older than the agent?)";

/// The index the pause's exit is sent under, beside the containers' (the slots').
pub(super) const PAUSE: usize = usize::MAX;

/// Why the task stops when its pause exits with `code`: the engine took the task's interface
/// away with it, so its containers are cut off.
pub(super) fn pause_exited(code: i32) -> String {
    format!(
        "the task's pause container, which holds its network interface, exited with code {code}"
    )
}

/// The pause container of an awsvpc task.
pub(super) struct Pause {
    id: String,
    /// The VPC network the task counts on ([`crate::network::VpcNetworks`]), until released.
    network: Option<String>,
    /// The task role credentials endpoint in its namespace.
    credentials_endpoint: Option<JoinHandle<()>>,
}

impl<R: ContainerRuntime> Runner<'_, R> {
    pub(super) fn awsvpc(&self) -> bool {
        self.assigned.task_definition.network_mode == Some(NetworkMode::Awsvpc)
    }

    /// Why the task cannot run in a namespace of its own here, if it cannot.
    pub(super) fn check_awsvpc(&self) -> Result<(), String> {
        if !self.awsvpc() {
            return Ok(());
        }
        if let Some(reason) = pause::unsupported() {
            return Err(reason);
        }
        if self.assigned.network.is_none() {
            return Err(NO_INTERFACE.into());
        }
        // What the engine refuses on a container that joins another's namespace.
        for def in self.slots.iter().map(|s| &s.def) {
            let set = [
                ("hostname", def.hostname.is_some()),
                ("links", def.links.as_ref().is_some_and(|l| !l.is_empty())),
                (
                    "dnsServers",
                    def.dns_servers.as_ref().is_some_and(|d| !d.is_empty()),
                ),
                (
                    "extraHosts",
                    def.extra_hosts.as_ref().is_some_and(|h| !h.is_empty()),
                ),
            ];
            if let Some((field, _)) = set.iter().find(|(_, set)| *set) {
                return Err(format!(
                    "{field} is not supported on container when networkMode=awsvpc (container '{}')",
                    def.name.as_deref().unwrap_or_default()
                ));
            }
        }
        Ok(())
    }

    /// The pause holding the task's namespace, started at the first call; `None` unless the
    /// task is awsvpc.
    pub(super) async fn task_namespace(&mut self) -> Result<Option<String>, String> {
        if let Some(pause) = &self.pause {
            return Ok(Some(pause.id.clone()));
        }
        let Some(interface) = self.assigned.network.as_ref().filter(|_| self.awsvpc()) else {
            return Ok(None);
        };
        let ctx = self.ctx;
        pause::ensure_image(&ctx.runtime).await?;
        let network = ctx
            .networks
            .acquire(&ctx.runtime, &ctx.instance_arn, interface)
            .await?;
        let body = pause::create_body(
            &ctx.cluster,
            &ctx.instance_arn,
            &self.task_arn,
            &network,
            interface,
        );
        let name = crate::spec::docker_name(
            &self.assigned.task_definition,
            "internalecspause",
            &super::uuid_suffix(),
        );
        let created = ctx.runtime.create(&name, body).await;
        self.pause = Some(Pause {
            id: created.as_ref().cloned().unwrap_or_default(),
            network: Some(network),
            credentials_endpoint: None,
        });
        let id = created?;
        ctx.runtime.start(&id).await?;
        self.watch_exit(PAUSE, id.clone());
        self.serve_in_pause().await?;
        Ok(Some(id))
    }

    /// Serves the task role credentials in the pause's namespace, when the task has a role.
    async fn serve_in_pause(&mut self) -> Result<(), String> {
        let (Some(credentials), Some(pause)) = (self.task_credentials(), &mut self.pause) else {
            return Ok(());
        };
        let pid = self.ctx.runtime.inspect(&pause.id).await?.pid.ok_or_else(|| {
            "ResourceInitializationError: the task's pause container stopped before its task role credentials could be served".to_string()
        })?;
        pause.credentials_endpoint = Some(credentials.serve_in(pid)?);
        Ok(())
    }

    /// Takes over the task's pause among its `existing` containers, as the agent left it
    /// before a restart: counts the task on its network and serves the credentials there again.
    /// A pause that stopped is left for the task's cleanup; the containers it held cannot be
    /// given a namespace again, so the task stops.
    pub(super) async fn adopt_pause(&mut self, existing: &[Existing]) -> Result<(), String> {
        let Some(found) = existing
            .iter()
            .find(|e| e.container_name == PAUSE_CONTAINER)
        else {
            return Ok(());
        };
        let ctx = self.ctx;
        let network = match (&self.assigned.network, found.running) {
            (Some(interface), true) => Some(
                ctx.networks
                    .acquire(&ctx.runtime, &ctx.instance_arn, interface)
                    .await?,
            ),
            _ => None,
        };
        self.pause = Some(Pause {
            id: found.id.clone(),
            network,
            credentials_endpoint: None,
        });
        if !found.running {
            return Err("the task's network namespace is gone: its pause container stopped".into());
        }
        self.watch_exit(PAUSE, found.id.clone());
        self.serve_in_pause().await
    }

    /// Stops the pause (SIGKILL: as PID 1 of its namespace it ignores SIGTERM), or removes it
    /// when `remove`, once the task's containers have stopped; and lets the VPC's network go.
    pub(super) async fn stop_pause(&mut self, remove: bool) {
        let Some(pause) = &mut self.pause else { return };
        if let Some(endpoint) = pause.credentials_endpoint.take() {
            endpoint.abort();
        }
        let runtime = &self.ctx.runtime;
        let done = match (pause.id.as_str(), remove) {
            ("", _) => Ok(()),
            (id, true) => runtime.remove(id).await,
            (id, false) => runtime.stop(id, 0).await,
        };
        if let Err(e) = done {
            tracing::warn!(container = %pause.id, error = %e, "the pause container did not stop");
        }
        if let Some(network) = pause.network.take() {
            let ctx = self.ctx;
            ctx.networks
                .release(&ctx.runtime, &ctx.instance_arn, &network)
                .await;
        }
    }
}

#[cfg(test)]
mod tests;
