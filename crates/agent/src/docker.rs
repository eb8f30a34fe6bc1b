//! The Docker Engine, through its HTTP API (bollard): the [`ContainerRuntime`] tasks run on.
//! Errors come back as the strings ECS puts in `reason` (`CannotPullContainerError: ...` and the
//! like).

use crate::logs::engine_time;
use crate::runtime::{ContainerRuntime, Existing, Inspected, LogLine, NetworkSpec, VolumeSpec};
use crate::spec::{LABEL_CONTAINER_NAME, LABEL_INSTANCE, LABEL_TASK_ARN};
use berth_types::ecs::{NetworkBinding, TransportProtocol};
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HealthStatusEnum, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListVolumesOptions,
    LogsOptions, RemoveContainerOptions, RemoveVolumeOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::HashMap;

mod log_files;
mod networks;

/// The local Docker engine.
#[derive(Clone)]
pub(crate) struct Docker {
    api: bollard::Docker,
}

impl Docker {
    /// Connects through the usual socket (or `DOCKER_HOST`) and agrees on an API version.
    pub(crate) async fn connect() -> Result<Self, String> {
        let api = bollard::Docker::connect_with_defaults()
            .map_err(|e| format!("cannot connect to Docker: {e}"))?
            .negotiate_version()
            .await
            .map_err(|e| format!("cannot reach the Docker engine: {e} (is dockerd running?)"))?;
        Ok(Self { api })
    }

    /// The engine's cgroup driver (`cgroupfs` or `systemd`), if it says.
    pub(crate) async fn cgroup_driver(&self) -> Option<String> {
        let info = self.api.info().await.ok()?;
        info.cgroup_driver.map(|d| d.to_string())
    }

    /// The engine's version string.
    pub(crate) async fn version(&self) -> String {
        self.api
            .version()
            .await
            .ok()
            .and_then(|v| v.version)
            .unwrap_or_default()
    }
}

/// The manifest digest the engine recorded for `image` when it was pulled (its `RepoDigests`
/// entry of the same repository), as ECS reports a container's `imageDigest`; none for an
/// image that was built here and never pulled.
fn manifest_digest(image: &str, found: &bollard::models::ImageInspect) -> Option<String> {
    let (repo, _) = split_image(image);
    let digests = found.repo_digests.as_deref().unwrap_or_default();
    digests
        .iter()
        .filter_map(|d| d.split_once('@'))
        .find(|(r, _)| *r == repo)
        .or_else(|| digests.first().and_then(|d| d.split_once('@')))
        .map(|(_, digest)| digest.to_string())
}

impl ContainerRuntime for Docker {
    async fn ensure_image(
        &self,
        image: &str,
        credentials: Option<bollard::auth::DockerCredentials>,
    ) -> Result<Option<String>, String> {
        if let Ok(found) = self.api.inspect_image(image).await {
            return Ok(manifest_digest(image, &found));
        }
        tracing::info!(image, "pulling the image");
        let (repo, tag) = split_image(image);
        let options = CreateImageOptions {
            from_image: Some(repo.to_string()),
            tag: Some(tag.to_string()),
            ..CreateImageOptions::default()
        };
        let mut pull = self.api.create_image(Some(options), None, credentials);
        while let Some(step) = pull.next().await {
            if let Err(e) = step {
                return Err(format!(
                    "CannotPullContainerError: pull image {image}: {}",
                    clean(&e)
                ));
            }
        }
        self.api
            .inspect_image(image)
            .await
            .map(|found| manifest_digest(image, &found))
            .map_err(|e| {
                format!(
                    "CannotPullContainerError: image {image} not found after pull: {}",
                    clean(&e)
                )
            })
    }

    async fn create(&self, name: &str, body: ContainerCreateBody) -> Result<String, String> {
        let options = CreateContainerOptions {
            name: Some(name.to_string()),
            ..CreateContainerOptions::default()
        };
        self.api
            .create_container(Some(options), body)
            .await
            .map(|r| {
                // What the engine dropped (swap limits a kernel lacks, say) is said, not hidden.
                for warning in &r.warnings {
                    tracing::warn!(container = name, %warning, "the engine changed the container's settings");
                }
                r.id
            })
            .map_err(|e| format!("CannotCreateContainerError: {}", clean(&e)))
    }

    async fn start(&self, id: &str) -> Result<(), String> {
        self.api
            .start_container(id, None)
            .await
            .map_err(|e| format!("CannotStartContainerError: {}", clean(&e)))
    }

    async fn stop(&self, id: &str, timeout: i32) -> Result<(), String> {
        let options = StopContainerOptions {
            t: Some(timeout),
            signal: None,
        };
        self.api
            .stop_container(id, Some(options))
            .await
            .map_err(|e| format!("CannotStopContainerError: {}", clean(&e)))
    }

    async fn remove(&self, id: &str) -> Result<(), String> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            link: false,
        };
        self.api
            .remove_container(id, Some(options))
            .await
            .map_err(|e| clean(&e))
    }

    async fn wait(&self, id: &str) -> Result<i32, String> {
        let mut wait = self.api.wait_container(id, None);
        match wait.next().await {
            Some(Ok(r)) => Ok(r.status_code as i32),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                Ok(code as i32)
            }
            Some(Err(e)) => Err(clean(&e)),
            None => Err("the engine closed the wait".into()),
        }
    }

    async fn inspect(&self, id: &str) -> Result<Inspected, String> {
        let c = self
            .api
            .inspect_container(id, None)
            .await
            .map_err(|e| format!("CannotInspectContainerError: {}", clean(&e)))?;
        let state = c.state.unwrap_or_default();
        let running = state.running.unwrap_or(false);
        let pid = state.pid.filter(|p| running && *p > 0).map(|p| p as u32);
        let credentials_id = c.config.as_ref().and_then(|cfg| {
            crate::task_credentials::id_in_env(cfg.env.iter().flatten().map(String::as_str))
        });
        let health = state.health.and_then(|h| h.status).and_then(|s| match s {
            HealthStatusEnum::HEALTHY => Some("healthy".to_string()),
            HealthStatusEnum::UNHEALTHY => Some("unhealthy".to_string()),
            HealthStatusEnum::STARTING => Some("starting".to_string()),
            _ => None,
        });
        let host_mode = c
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.as_deref())
            == Some("host");
        let mut bindings = vec![];
        if host_mode {
            for key in c
                .config
                .and_then(|cfg| cfg.exposed_ports)
                .unwrap_or_default()
            {
                if let Some((port, proto)) = parse_port_key(&key) {
                    bindings.push(binding("0.0.0.0", port, port, proto));
                }
            }
        } else {
            let ports = c.network_settings.and_then(|n| n.ports).unwrap_or_default();
            for (key, list) in ports {
                let Some((container_port, proto)) = parse_port_key(&key) else {
                    continue;
                };
                for b in list.unwrap_or_default() {
                    let host_port = b.host_port.and_then(|p| p.parse().ok());
                    let ip = b.host_ip.unwrap_or_else(|| "0.0.0.0".into());
                    if let Some(host_port) = host_port {
                        bindings.push(binding(&ip, container_port, host_port, proto));
                    }
                }
            }
            bindings.sort_by_key(|b| (b.container_port, b.bind_ip.clone()));
        }
        let finished_at = state
            .finished_at
            .as_deref()
            .and_then(engine_time::parse_ns)
            // The engine says 0001-01-01 for a container that never stopped.
            .filter(|ns| *ns > 0)
            .map(|ns| std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns as u64));
        Ok(Inspected {
            running,
            finished_at: finished_at.filter(|_| !running),
            exit_code: (!running).then(|| state.exit_code.unwrap_or_default() as i32),
            oom_killed: state.oom_killed.unwrap_or(false),
            health,
            bindings,
            pid,
            credentials_id,
        })
    }

    fn logs(&self, id: &str, since_seconds: i64) -> BoxStream<'static, Result<LogLine, String>> {
        let docker = self.clone();
        let id = id.to_string();
        futures_util::stream::once(async move { docker.log_source(&id, since_seconds).await })
            .flatten()
            .boxed()
    }

    async fn list(
        &self,
        instance_arn: &str,
        task_arn: Option<&str>,
    ) -> Result<Vec<Existing>, String> {
        let mut labels = vec![format!("{LABEL_INSTANCE}={instance_arn}")];
        if let Some(arn) = task_arn {
            labels.push(format!("{LABEL_TASK_ARN}={arn}"));
        }
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("label".to_string(), labels)])),
            ..ListContainersOptions::default()
        };
        let list = self
            .api
            .list_containers(Some(options))
            .await
            .map_err(|e| clean(&e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let labels = c.labels.unwrap_or_default();
                Some(Existing {
                    id: c.id?,
                    task_arn: labels.get(LABEL_TASK_ARN)?.clone(),
                    container_name: labels.get(LABEL_CONTAINER_NAME)?.clone(),
                    engine_name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    running: c.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING),
                })
            })
            .collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<(), String> {
        let request = VolumeCreateRequest {
            name: Some(spec.name.clone()),
            driver: Some(spec.driver.clone()),
            driver_opts: Some(spec.driver_opts.clone()),
            labels: Some(spec.labels.clone()),
            cluster_volume_spec: None,
        };
        self.api
            .create_volume(request)
            .await
            .map(|_| ())
            .map_err(|e| format!("CannotCreateVolumeError: {}", clean(&e)))
    }

    async fn inspect_volume(&self, name: &str) -> Result<Option<VolumeSpec>, String> {
        match self.api.inspect_volume(name).await {
            Ok(v) => Ok(Some(volume_spec(v))),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(format!("CannotInspectVolumeError: {}", clean(&e))),
        }
    }

    async fn remove_volume(&self, name: &str) -> Result<(), String> {
        match self
            .api
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await
        {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(clean(&e)),
        }
    }

    async fn list_volumes(&self, instance_arn: &str) -> Result<Vec<VolumeSpec>, String> {
        let label = format!("{LABEL_INSTANCE}={instance_arn}");
        let options = ListVolumesOptions {
            filters: Some(HashMap::from([("label".to_string(), vec![label])])),
        };
        let list = self
            .api
            .list_volumes(Some(options))
            .await
            .map_err(|e| clean(&e))?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(volume_spec)
            .collect())
    }

    async fn import_image(&self, tag: &str, tar: Vec<u8>, changes: &[&str]) -> Result<(), String> {
        self.import(tag, tar, changes).await
    }

    async fn list_networks(&self) -> Result<Vec<NetworkSpec>, String> {
        self.networks().await
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<(), String> {
        self.new_network(spec).await
    }

    async fn remove_network(&self, name: &str) -> Result<(), String> {
        self.drop_network(name).await
    }
}

fn volume_spec(v: bollard::models::Volume) -> VolumeSpec {
    VolumeSpec {
        name: v.name,
        driver: v.driver,
        driver_opts: v.options,
        labels: v.labels,
    }
}

impl Docker {
    /// Where to read container `id`'s output: its json-file log's files when this process can
    /// read them (see [`log_files`] for why), the engine's follow otherwise.
    async fn log_source(
        &self,
        id: &str,
        since_seconds: i64,
    ) -> BoxStream<'static, Result<LogLine, String>> {
        let inspected = self.api.inspect_container(id, None).await.ok();
        let json_file = inspected.as_ref().is_some_and(|c| {
            c.host_config
                .as_ref()
                .and_then(|h| h.log_config.as_ref())
                .and_then(|l| l.typ.as_deref())
                == Some("json-file")
        });
        let path = inspected
            .and_then(|c| c.log_path)
            .filter(|p| json_file && log_files::readable(std::path::Path::new(p)));
        let Some(path) = path else {
            return self.follow_engine(id, since_seconds);
        };
        let (api, id) = (self.api.clone(), id.to_string());
        let handle = tokio::runtime::Handle::current();
        let running = move || {
            let inspect = async {
                let limit = std::time::Duration::from_secs(10);
                tokio::time::timeout(limit, api.inspect_container(&id, None)).await
            };
            // Gone or not answering counts as stopped: the files are read to their end.
            matches!(handle.block_on(inspect), Ok(Ok(c)) if c.state.as_ref().and_then(|s| s.running) == Some(true))
        };
        log_files::follow(
            path.into(),
            since_seconds.saturating_mul(1_000_000_000),
            running,
        )
    }

    /// The engine's own follow of container `id`'s output.
    fn follow_engine(
        &self,
        id: &str,
        since_seconds: i64,
    ) -> BoxStream<'static, Result<LogLine, String>> {
        let options = LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            timestamps: true,
            since: i32::try_from(since_seconds.max(0)).unwrap_or(i32::MAX),
            ..LogsOptions::default()
        };
        self.api
            .logs(id, Some(options))
            .map(|frame| {
                let frame = frame.map_err(|e| clean(&e))?;
                let bytes = match &frame {
                    LogOutput::StdOut { message }
                    | LogOutput::StdErr { message }
                    | LogOutput::Console { message }
                    | LogOutput::StdIn { message } => message,
                };
                log_line(bytes)
            })
            .boxed()
    }
}

/// A frame of `docker logs --timestamps`: `<RFC 3339 time> <text>`.
fn log_line(frame: &[u8]) -> Result<LogLine, String> {
    let space = frame
        .iter()
        .position(|b| *b == b' ')
        .ok_or("a log line without its timestamp")?;
    let stamp = std::str::from_utf8(&frame[..space]).unwrap_or_default();
    let ns = engine_time::parse_ns(stamp)
        .ok_or_else(|| format!("a log line with a bad timestamp {stamp:?}"))?;
    Ok(LogLine {
        ns,
        text: String::from_utf8_lossy(&frame[space + 1..]).into_owned(),
    })
}

fn binding(
    ip: &str,
    container_port: i32,
    host_port: i32,
    proto: TransportProtocol,
) -> NetworkBinding {
    NetworkBinding {
        bind_ip: Some(ip.to_string()),
        container_port: Some(container_port),
        host_port: Some(host_port),
        protocol: Some(proto),
        ..NetworkBinding::default()
    }
}

fn parse_port_key(key: &str) -> Option<(i32, TransportProtocol)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = if proto == "udp" {
        TransportProtocol::Udp
    } else {
        TransportProtocol::Tcp
    };
    Some((port.parse().ok()?, proto))
}

/// `repo[:tag]` or `repo@digest` → (repo, tag or digest); the tag defaults to `latest`.
fn split_image(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// The engine's message without bollard's wrapping.
fn clean(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_images() {
        assert_eq!(split_image("busybox"), ("busybox", "latest"));
        assert_eq!(split_image("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_image("localhost:5000/app:v2"),
            ("localhost:5000/app", "v2")
        );
        assert_eq!(split_image("app@sha256:abc"), ("app", "sha256:abc"));
    }
}

/// Against the real engine.
#[cfg(test)]
mod engine_tests;
