//! What FireLens changes in the create bodies [`crate::spec::create_body`] builds: the
//! router's binds, env and loopback-published forward port; an app's `fluentd` log driver
//! aimed at the router, and its `FLUENT_HOST`/`FLUENT_PORT`.

use super::config::FORWARD_PORT;
use super::options::App;
use berth_types::ecs::{FirelensConfigurationType, NetworkBinding};
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding};
use std::collections::HashMap;
use std::path::Path;

/// The loopback address the router's forward port is published on: apps' drivers run in the
/// engine, on the host, and nothing else needs to reach it.
const LOOPBACK: &str = "127.0.0.1";

fn port_key() -> String {
    format!("{FORWARD_PORT}/tcp")
}

fn push_env(body: &mut ContainerCreateBody, key: &str, value: &str) {
    let env = body.env.get_or_insert_with(Vec::new);
    let prefix = format!("{key}=");
    env.retain(|kv| !kv.starts_with(&prefix));
    env.push(format!("{key}={value}"));
}

/// The router: its generated configuration read-only where the image looks for it, the socket
/// directory at `/var/run/`, and in `bridge` mode its forward port on an ephemeral loopback
/// port of the host (the apps' address, read back once it started: [`address`]).
pub fn router_body(
    body: &mut ContainerCreateBody,
    kind: FirelensConfigurationType,
    task_dir: &Path,
) {
    let conf_path = match kind {
        FirelensConfigurationType::Fluentd => "/fluentd/etc/fluent.conf",
        _ => "/fluent-bit/etc/fluent-bit.conf",
    };
    if kind == FirelensConfigurationType::Fluentd {
        // As ECS: the image's entrypoint runs fluentd as this user, and the socket is root's.
        push_env(body, "FLUENT_UID", "0");
    }
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    let binds = host.binds.get_or_insert_with(Vec::new);
    let dir = task_dir.display();
    binds.push(format!("{dir}/config/fluent.conf:{conf_path}:ro"));
    binds.push(format!("{dir}/socket:/var/run"));
    if host.network_mode.as_deref() == Some("bridge") {
        host.port_bindings
            .get_or_insert_with(HashMap::new)
            .entry(port_key())
            .or_default()
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(LOOPBACK.into()),
                host_port: Some(String::new()),
            });
        let exposed = body.exposed_ports.get_or_insert_with(Vec::new);
        if !exposed.contains(&port_key()) {
            exposed.push(port_key());
        }
    }
}

/// Whether `binding` is the router's forward port that Berth published for the task's apps
/// (ECS uses a unix socket, so the task does not report it).
pub fn is_forward_binding(binding: &NetworkBinding) -> bool {
    binding.container_port == Some(i32::from(FORWARD_PORT))
        && binding.bind_ip.as_deref() == Some(LOOPBACK)
}

/// Where an app's driver sends its records: the router's published loopback port in `bridge`
/// mode, its own port in `host` mode, the unix socket otherwise (or while no port is known).
pub fn address(network_mode: &str, router: &[NetworkBinding], task_dir: &Path) -> String {
    let published = router
        .iter()
        .filter(|b| is_forward_binding(b))
        .find_map(|b| b.host_port);
    match (network_mode, published) {
        ("host", _) => format!("tcp://{LOOPBACK}:{FORWARD_PORT}"),
        ("bridge", Some(port)) => format!("tcp://{LOOPBACK}:{port}"),
        _ => format!("unix://{}/socket/fluent.sock", task_dir.display()),
    }
}

/// An app: the engine's `fluentd` driver with the options ECS gives it, tagged so the router's
/// output for this container matches, and `FLUENT_HOST` (when the app can reach the router at
/// a known address) and `FLUENT_PORT` for apps that log to the router themselves.
pub fn app_body(
    body: &mut ContainerCreateBody,
    app: &App,
    task_arn: &str,
    address: &str,
    fluent_host: Option<&str>,
) {
    let mut options = HashMap::from([
        (
            "tag".to_string(),
            format!("{}-firelens-{}", app.container, super::task_id(task_arn)),
        ),
        ("fluentd-address".to_string(), address.to_string()),
        // The app starts and runs even while the router is away; the driver buffers.
        ("fluentd-async".to_string(), "true".to_string()),
        (
            "fluentd-sub-second-precision".to_string(),
            "true".to_string(),
        ),
    ]);
    if let Some(limit) = &app.buffer_limit {
        options.insert("fluentd-buffer-limit".into(), limit.clone());
    }
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    host.log_config = Some(HostConfigLogConfig {
        typ: Some("fluentd".into()),
        config: Some(options),
    });
    if let Some(h) = fluent_host {
        push_env(body, "FLUENT_HOST", h);
    }
    push_env(body, "FLUENT_PORT", &FORWARD_PORT.to_string());
}
