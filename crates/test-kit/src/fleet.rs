//! A `berth server` with agents (or simulators) of its own, as processes: all are killed, and
//! the cluster's containers removed, when the fleet is dropped.

use crate::docker::remove_cluster_containers;
use crate::ecs::{client, wait_instance, wait_instances};
use crate::image::ensure_image;
use crate::process::{
    Exports, Process, start_agent, start_agent_with_token, start_server, start_server_with,
    unique_cluster,
};
use std::path::PathBuf;

/// A server, its agents, the cluster they join and a root client of the server.
pub struct Fleet {
    /// The `berth server` process.
    pub server: Process,
    /// The agents (or simulators) started so far.
    pub agents: Vec<Process>,
    /// The cluster the agents join.
    pub cluster: String,
    /// An SDK client signing with the root key.
    pub ecs: aws_sdk_ecs::Client,
    /// What the server printed.
    pub exports: Exports,
    /// The server's data directory, and the agents' state directories in it.
    pub data: tempfile::TempDir,
}

impl Fleet {
    /// A server on 127.0.0.1:0 with no agent yet; the cluster is named, not created.
    pub fn server(prefix: &str) -> Self {
        Self::server_with(prefix, &[])
    }

    /// [`Fleet::server`] started with extra flags.
    pub fn server_with(prefix: &str, extra: &[&str]) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let (server, exports) = start_server_with(data.path(), "127.0.0.1:0", extra);
        Self {
            server,
            agents: vec![],
            cluster: unique_cluster(prefix),
            ecs: client(&exports),
            exports,
            data,
        }
    }

    /// A server and one agent per zone; each agent also carries `role=<zone>-role`. Returns the
    /// fleet and the instance ARNs once all are connected.
    pub async fn start(prefix: &str, zones: &[&str]) -> (Self, Vec<String>) {
        let mut fleet = Self::server(prefix);
        fleet.create_cluster().await;
        for zone in zones {
            fleet.add_agent(zone);
        }
        let instances = wait_instances(&fleet.ecs, &fleet.cluster, zones.len()).await;
        (fleet, instances)
    }

    /// A server and one agent started with `extra` flags. Returns the fleet and the agent's
    /// instance once it is connected.
    pub async fn with_agent(prefix: &str, extra: &[&str]) -> (Self, String) {
        let mut fleet = Self::server(prefix);
        fleet.create_cluster().await;
        fleet.start_agent(extra);
        let instance = wait_instance(&fleet.ecs, &fleet.cluster).await;
        (fleet, instance)
    }

    /// CreateCluster of the fleet's cluster.
    pub async fn create_cluster(&self) {
        self.ecs
            .create_cluster()
            .cluster_name(&self.cluster)
            .send()
            .await
            .expect("CreateCluster");
    }

    /// A fresh state directory for the next agent.
    fn agent_state_dir(&self) -> PathBuf {
        self.state_dir_of(self.agents.len())
    }

    /// The state directory of the `index`th agent started.
    pub fn state_dir_of(&self, index: usize) -> PathBuf {
        self.data.path().join(format!("agent-{index}"))
    }

    /// Starts one more agent signing with the root key, with extra flags.
    pub fn start_agent(&mut self, extra: &[&str]) {
        ensure_image();
        let agent = start_agent(&self.exports, &self.cluster, &self.agent_state_dir(), extra);
        self.agents.push(agent);
    }

    /// Starts one more agent that joins with `token` instead of a key; returns its state
    /// directory, where it keeps the credentials it bought.
    pub fn join_agent(&mut self, token: &str) -> PathBuf {
        ensure_image();
        let state_dir = self.agent_state_dir();
        let agent = start_agent_with_token(&self.exports, &self.cluster, &state_dir, token);
        self.agents.push(agent);
        state_dir
    }

    /// Starts one more agent, in `zone`.
    pub fn add_agent(&mut self, zone: &str) {
        let role = format!("role={zone}-role");
        self.start_agent(&["--availability-zone", zone, "--attribute", &role]);
    }

    /// Kills the `index`th agent with SIGKILL and starts it again with its state directory
    /// (so it is the same container instance) and `extra` flags.
    pub fn restart_agent(&mut self, index: usize, extra: &[&str]) {
        self.agents[index].stop();
        let state_dir = self.state_dir_of(index);
        self.agents[index] = start_agent(&self.exports, &self.cluster, &state_dir, extra);
    }

    /// Kills the server with SIGKILL and starts it again on the same address and data.
    pub fn restart_server(&mut self) {
        self.server.stop();
        let (server, _) = start_server(self.data.path(), &self.exports.listen());
        self.server = server;
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for a in &mut self.agents {
            a.stop();
        }
        self.server.stop();
        remove_cluster_containers(&self.cluster);
        unmount_under(self.data.path());
    }
}

/// Unmounts what the agents mounted in `dir` (shared volumes of tasks still running when they
/// were killed), before the directory is removed: removing it through a mount would delete
/// the shared data.
fn unmount_under(dir: &std::path::Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = dir.display().to_string();
    for point in mountinfo.lines().filter_map(|l| l.split(' ').nth(4)) {
        if point.starts_with(&prefix) {
            let _ = std::process::Command::new("umount")
                .args(["-l", point])
                .status();
        }
    }
}
