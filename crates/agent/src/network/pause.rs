//! The pause container that holds an awsvpc task's network namespace, as the ECS agent's does:
//! it is created on the VPC's network with the task's address, MAC and host name, and every
//! container of the task joins its namespace (`NetworkMode container:<pause id>`), so they share
//! one address and reach each other on localhost, and a container that restarts comes back to
//! the same namespace. Its image, `berth-pause:<version>`, is imported at first need from the
//! program in [`super::pause_elf`]: no registry is involved.

use super::pause_elf::BINARY;
use crate::runtime::ContainerRuntime;
use crate::spec::{LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_INSTANCE, LABEL_TASK_ARN};
use berth_types::protocol::TaskNetwork;
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, NetworkingConfig,
};
use std::collections::HashMap;

/// The pause's container name label, the ECS agent's: the runner, the manager and the sweep
/// find it among the task's containers by it.
pub(crate) const PAUSE_CONTAINER: &str = "~internal~ecs~pause";
/// Label: set on pause containers.
pub(crate) const LABEL_PAUSE: &str = "berth.pause";
/// The image, one per agent version.
pub(crate) const IMAGE: &str = concat!("berth-pause:", env!("CARGO_PKG_VERSION"));
/// The program's path in the image.
const PATH: &str = "pause";

/// Why this host cannot run awsvpc tasks, if it cannot: Berth carries no pause program for its
/// architecture.
pub(crate) fn unsupported() -> Option<String> {
    BINARY.is_none().then(|| {
        format!(
            "Berth's agent has no pause program for this host's architecture ({}), so it cannot run awsvpc tasks: use networkMode bridge",
            std::env::consts::ARCH
        )
    })
}

/// One import at a time: two tasks starting together would both import, and the second tag
/// would leave the first image dangling.
static IMPORTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Imports the image unless the engine has it: its file system is the program alone.
pub(crate) async fn ensure_image<R: ContainerRuntime>(runtime: &R) -> Result<(), String> {
    let binary = BINARY.ok_or_else(|| unsupported().unwrap_or_default())?;
    let _one = IMPORTING.lock().await;
    let command = format!("CMD [\"/{PATH}\"]");
    runtime
        .import_image(IMAGE, tar(PATH, binary), &[&command])
        .await
        .map_err(|e| format!("ResourceInitializationError: {e}"))
}

/// A ustar archive of one regular file `name` (mode 0755) holding `content`.
fn tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let mut put = |at: usize, field: &[u8]| header[at..at + field.len()].copy_from_slice(field);
    put(0, name.as_bytes());
    put(100, b"0000755\0"); // mode
    put(108, b"0000000\0"); // uid
    put(116, b"0000000\0"); // gid
    put(124, format!("{:011o}\0", content.len()).as_bytes()); // size
    put(136, b"00000000000\0"); // mtime
    put(148, b"        "); // the checksum counts itself as spaces
    put(156, b"0"); // a regular file
    put(257, b"ustar\x0000"); // magic and version
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().next_multiple_of(512), 0);
    // Two empty blocks end the archive.
    out.resize(out.len() + 1024, 0);
    out
}

/// The pause of task `task_arn` on network `network_name` with interface `interface`.
pub(crate) fn create_body(
    cluster: &str,
    instance_arn: &str,
    task_arn: &str,
    network_name: &str,
    interface: &TaskNetwork,
) -> ContainerCreateBody {
    let labels = HashMap::from([
        (LABEL_CLUSTER.to_string(), cluster.to_string()),
        (LABEL_INSTANCE.to_string(), instance_arn.to_string()),
        (LABEL_TASK_ARN.to_string(), task_arn.to_string()),
        (
            LABEL_CONTAINER_NAME.to_string(),
            PAUSE_CONTAINER.to_string(),
        ),
        (LABEL_PAUSE.to_string(), "true".to_string()),
    ]);
    let endpoint = EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: Some(interface.ipv4_address.clone()),
            ..EndpointIpamConfig::default()
        }),
        // Engines from API 1.44 on take the MAC here; older ones derive it from the address.
        mac_address: Some(interface.mac_address.clone()),
        aliases: Some(vec![interface.private_dns_name.clone()]),
        ..EndpointSettings::default()
    };
    ContainerCreateBody {
        image: Some(IMAGE.to_string()),
        hostname: Some(interface.private_dns_name.clone()),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(network_name.to_string()),
            ..HostConfig::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network_name.to_string(), endpoint)])),
        }),
        ..ContainerCreateBody::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_holds_one_executable_file() {
        let tar = tar("pause", b"abc");
        assert_eq!(tar.len(), 512 + 512 + 1024);
        assert_eq!(&tar[0..6], b"pause\0");
        assert_eq!(&tar[124..136], b"00000000003\0");
        assert_eq!(&tar[512..515], b"abc");
        let stored = std::str::from_utf8(&tar[148..154]).expect("octal");
        let mut header = tar[..512].to_vec();
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        assert_eq!(u32::from_str_radix(stored, 8), Ok(sum));
    }
}
