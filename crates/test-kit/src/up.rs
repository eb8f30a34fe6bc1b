//! `berth up` (server and agent in one process) as a process of its own, with its own data
//! directory and cluster.

use crate::docker::remove_cluster_containers;
use crate::ecs::{client, wait_instance};
use crate::image::ensure_image;
use crate::process::{Exports, Process, berth, spawn_with_stderr, unique_cluster};
use std::process::Stdio;

/// `berth up` in its own data directory, with its own cluster; killed, and the cluster's
/// containers removed, when dropped.
pub struct Berth {
    /// The `berth up` process.
    pub child: Process,
    /// What it printed.
    pub exports: Exports,
    /// The cluster its agent joined.
    pub cluster: String,
    /// Its data directory.
    pub data_dir: tempfile::TempDir,
}

impl Berth {
    /// Starts `berth up` on 127.0.0.1:0 and waits until it printed its exports.
    pub fn up(prefix: &str) -> Self {
        ensure_image();
        let data_dir = tempfile::tempdir().expect("tempdir");
        let cluster = unique_cluster(prefix);
        let (child, exports) = spawn_with_stderr(
            berth()
                .args(["up", "--listen", "127.0.0.1:0", "--cluster", &cluster])
                .arg("--data-dir")
                .arg(data_dir.path()),
            Stdio::inherit(),
        );
        Self {
            child,
            exports,
            cluster,
            data_dir,
        }
    }

    /// [`Berth::up`], once its agent's instance is connected, with a client of it.
    pub async fn ready(prefix: &str) -> (Self, aws_sdk_ecs::Client) {
        let berth = Self::up(prefix);
        let ecs = berth.client();
        wait_instance(&ecs, &berth.cluster).await;
        (berth, ecs)
    }

    /// The official ECS client, signing with the root key.
    pub fn client(&self) -> aws_sdk_ecs::Client {
        client(&self.exports)
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        self.child.stop();
        remove_cluster_containers(&self.cluster);
    }
}
