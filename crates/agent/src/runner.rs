//! One task on this host, from assignment to STOPPED.
//!
//! The runner first adopts whatever containers of the task already exist (so an agent restart
//! never restarts a running container), then starts the rest in `dependsOn` order, reports
//! RUNNING once every container has started, watches for exits, and stops everything (SIGTERM,
//! then SIGKILL after `stopTimeout`) when an essential container exits, a start fails, or the
//! control plane sets the desired status to STOPPED. An awslogs container's output is shipped
//! from its start (after its log stream is created) and drained before STOPPED is reported.
//! With a zero cleanup wait the containers are removed before STOPPED is reported, so a STOPPED
//! task leaves nothing behind; otherwise they stay for `docker logs` until the manager's sweep
//! ([`crate::cleanup`]) removes them. A task that asks for what the host policy forbids, or for
//! a log configuration Berth cannot honour, is stopped before anything is pulled or created.
//! The task's Docker volumes are made before its first container and removed with its
//! containers ([`volumes`]).

use crate::logs::options as log_options;
use crate::logs::sink::LogSink;
use crate::reporter::Reporter;
use crate::runtime::ContainerRuntime;
use crate::spec;
use crate::task_credentials::{CredentialsSource, TaskCredentials};
use crate::task_secrets;
use berth_types::ecs::{ContainerCondition, SubmitTaskStateChangeRequest};
use berth_types::protocol::AssignedTask;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// ECS's default grace between SIGTERM and SIGKILL.
const DEFAULT_STOP_TIMEOUT: i32 = 30;
/// How long a container waits for its dependencies unless `startTimeout` says otherwise.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(180);
/// How often health and the dependency conditions Docker does not announce are re-checked.
const POLL: Duration = Duration::from_millis(500);
/// How often a task's shared file system mounts are checked.
const MOUNT_CHECK: Duration = Duration::from_secs(5);

/// What every runner shares; `R` is the container engine (Docker, or a fake in tests).
pub(crate) struct RunnerCtx<R> {
    /// The engine.
    pub runtime: R,
    /// Where reports go.
    pub reporter: Reporter,
    /// This host's cluster name.
    pub cluster: String,
    /// This host's container instance ARN.
    pub instance_arn: String,
    /// Container health, for the stream to publish.
    pub health: crate::health::HealthBoard,
    /// Credentials for Berth's own registry.
    pub registry: std::sync::Arc<crate::registry_auth::RegistryAuth>,
    /// What tasks may not ask for on this host.
    pub policy: crate::host_policy::HostPolicy,
    /// Where awslogs containers' output goes.
    pub logs: Arc<dyn LogSink>,
    /// How long a stopped task's containers stay on the host; zero removes them as the task
    /// stops, otherwise [`crate::cleanup`] does once the time is up.
    pub cleanup_wait: Duration,
    /// Where FireLens routers' files go, and the API their CloudWatch outputs use.
    pub firelens: crate::logs::firelens::Host,
    /// Where task role credentials come from.
    pub credentials: Arc<dyn CredentialsSource>,
    /// Where tasks' secrets come from.
    pub secrets: Arc<dyn task_secrets::SecretsSource>,
    /// Where tasks' shared file system volumes are mounted.
    pub shared_fs: crate::shared_fs::SharedMounts,
    /// Where tasks' cgroups are made, when the host can hold tasks to their size.
    pub cgroups: Option<crate::task_cgroup::TaskCgroups>,
    /// The VPC networks awsvpc tasks use.
    pub networks: crate::network::VpcNetworks,
}

enum Readiness {
    Ready,
    Wait,
    Never(String),
}

struct Runner<'a, R> {
    ctx: &'a RunnerCtx<R>,
    assigned: &'a AssignedTask,
    task_arn: String,
    slots: Vec<Slot>,
    exits: mpsc::UnboundedSender<(usize, i32)>,
    created_at: Instant,
    /// The task role credentials, when the task has a role.
    credentials: Option<Arc<TaskCredentials>>,
    /// The task's secrets, once a container that needs them starts.
    secrets: Option<berth_types::protocol::TaskSecrets>,
    /// The client acting as the task's execution role, once needed.
    execution: Option<crate::client::EcsClient>,
    /// The engine's names of the task's Docker volumes, by their task definition names.
    volumes: std::collections::HashMap<String, spec::volumes::Source>,
    /// When the first of its images began to be pulled, and the last was pulled.
    pull_started_at: Option<f64>,
    pull_stopped_at: Option<f64>,
    /// The container holding an awsvpc task's network namespace, once created or adopted.
    pause: Option<awsvpc::Pause>,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl<R: ContainerRuntime> Runner<'_, R> {
    fn report(&self, status: &str, reason: Option<String>) {
        tracing::info!(task = %self.task_arn, status, reason = reason.as_deref(), "task state change");
        let report = SubmitTaskStateChangeRequest {
            cluster: Some(self.ctx.cluster.clone()),
            task: Some(self.task_arn.clone()),
            status: Some(status.into()),
            reason,
            containers: Some(self.slots.iter().map(Slot::change).collect()),
            execution_stopped_at: (status == "STOPPED").then(now),
            pull_started_at: self.pull_started_at,
            pull_stopped_at: self.pull_stopped_at,
            ..SubmitTaskStateChangeRequest::default()
        };
        self.ctx.reporter.report(report);
    }

    fn watch_exit(&self, index: usize, id: String) {
        let runtime = self.ctx.runtime.clone();
        let exits = self.exits.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(code) = runtime.wait(&id).await {
                    let _ = exits.send((index, code));
                    return;
                }
                // The wait broke (engine restart, timeout): look before trusting it.
                match runtime.inspect(&id).await {
                    Ok(i) if i.running => tokio::time::sleep(Duration::from_secs(1)).await,
                    Ok(i) => {
                        let _ = exits.send((index, i.exit_code.unwrap_or(-1)));
                        return;
                    }
                    Err(_) => {
                        let _ = exits.send((index, -1));
                        return;
                    }
                }
            }
        });
    }

    /// Why the host policy refuses this task, if it does. A refused container carries the
    /// reason as well as the task, as one whose image cannot be pulled does.
    fn refusal(&mut self) -> Option<String> {
        let policy = &self.ctx.policy;
        let td = &self.assigned.task_definition;
        if let Err(reason) = policy
            .check_task(td)
            .and_then(|()| crate::logs::firelens::check(td))
            .and_then(|()| spec::volumes::check(td))
            .and_then(|()| self.unresolved())
            .and_then(|()| spec::unsupported::check(td))
            .and_then(|()| self.check_role())
            .and_then(|()| self.check_awsvpc())
        {
            return Some(reason);
        }
        for slot in &mut self.slots {
            let checked = policy
                .check_container(&slot.def)
                .and_then(|()| crate::logs::driver::check(&slot.def))
                .and_then(|()| task_secrets::check(&slot.def))
                .and_then(|()| spec::linux::check(&self.assigned.task, td, &slot.def));
            if let Err(reason) = checked {
                slot.reason = Some(reason.clone());
                return Some(reason);
            }
        }
        None
    }

    /// Takes over containers of this task that exist already; fails when an awsvpc task's
    /// namespace cannot be taken over.
    async fn adopt(&mut self) -> Result<(), String> {
        let existing = self
            .ctx
            .runtime
            .list(&self.ctx.instance_arn, Some(&self.task_arn))
            .await
            .unwrap_or_default();
        for index in 0..self.slots.len() {
            let Some(found) = existing
                .iter()
                .find(|e| e.container_name == self.slots[index].name)
            else {
                continue;
            };
            self.slots[index].id = Some(found.id.clone());
            self.slots[index].engine_name = found.engine_name.clone();
            match self.ctx.runtime.inspect(&found.id).await {
                Ok(i) if i.running => {
                    self.slots[index].bindings = i.bindings;
                    if let Some(id) = i.credentials_id {
                        self.credentials.get_or_insert_with(|| {
                            TaskCredentials::new(
                                Some(id),
                                &self.task_arn,
                                self.ctx.credentials.clone(),
                            )
                        });
                    }
                    if let Err(e) = self.serve_credentials(index, i.pid) {
                        tracing::warn!(container = %found.id, error = %e, "adopted without its credentials endpoint");
                    }
                    self.watch_exit(index, found.id.clone());
                }
                Ok(i) => self.slots[index].exit_code = Some(i.exit_code.unwrap_or(-1)),
                Err(e) => {
                    self.slots[index].reason = Some(e);
                    continue;
                }
            }
            // Running or not, what it wrote since the last stored batch still goes.
            self.ship(index, found.id.clone(), true);
        }
        self.adopt_pause(&existing).await
    }

    async fn readiness(&self, index: usize) -> Readiness {
        let slot = &self.slots[index];
        for dep in slot.def.depends_on.iter().flatten() {
            let Some(target) = self.slots.iter().find(|s| s.name == dep.container_name) else {
                continue;
            };
            let ready = match dep.condition {
                ContainerCondition::Start => target.id.is_some(),
                ContainerCondition::Complete => target.exit_code.is_some(),
                ContainerCondition::Success => match target.exit_code {
                    Some(0) => true,
                    Some(code) => {
                        return Readiness::Never(format!(
                            "DependencyError: container {} exited with code {code}, but {} needs it to succeed",
                            target.name, slot.name
                        ));
                    }
                    None => false,
                },
                ContainerCondition::Healthy => match &target.id {
                    Some(id) => {
                        let health = self
                            .ctx
                            .runtime
                            .inspect(id)
                            .await
                            .ok()
                            .and_then(|i| i.health);
                        health.as_deref() == Some("healthy")
                    }
                    None => false,
                },
            };
            if !ready {
                let limit = slot
                    .def
                    .start_timeout
                    .map(|s| Duration::from_secs(s.max(0) as u64))
                    .unwrap_or(DEFAULT_START_TIMEOUT);
                if self.created_at.elapsed() > limit {
                    return Readiness::Never(format!(
                        "DependencyError: container {} did not reach {} within {}s, so {} could not start",
                        target.name,
                        dep.condition,
                        limit.as_secs(),
                        slot.name
                    ));
                }
                return Readiness::Wait;
            }
        }
        Readiness::Ready
    }

    async fn start(&mut self, index: usize) -> Result<(), String> {
        if let Err(reason) = self.fetch_secrets().await {
            self.slots[index].reason = Some(reason.clone());
            return Err(reason);
        }
        let image = self.slots[index].def.image.clone().unwrap_or_default();
        let credentials = match self.repository_credentials(index, &image) {
            Some(credentials) => Ok(Some(credentials)),
            None => self.registry_credentials(&image).await,
        };
        let runtime = &self.ctx.runtime;
        self.pull_started_at.get_or_insert(now());
        let pulled = match credentials {
            Ok(credentials) => runtime.ensure_image(&image, credentials).await,
            Err(e) => Err(e),
        };
        self.pull_stopped_at = Some(now());
        match pulled {
            Ok(digest) => self.slots[index].image_digest = digest,
            Err(e) => {
                // As ECS does, the container carries the reason as well as the task.
                self.slots[index].reason = Some(e.clone());
                return Err(e);
            }
        }
        let pause = self.task_namespace().await?;
        let mut body = spec::create_body(
            &self.ctx.cluster,
            &self.ctx.instance_arn,
            &self.assigned.task,
            &self.assigned.task_definition,
            &self.slots[index].def,
            pause.as_deref(),
        );
        if let Err(reason) = self.firelens_body(index, &mut body) {
            self.slots[index].reason = Some(reason.clone());
            return Err(reason);
        }
        self.identity_env(index, &mut body);
        self.linux_body(index, &mut body);
        if let Err(reason) = self.task_cgroup(&mut body) {
            self.slots[index].reason = Some(reason.clone());
            return Err(reason);
        }
        if let Err(reason) = self.mount_volumes(index, &mut body).await {
            self.slots[index].reason = Some(reason.clone());
            return Err(reason);
        }
        let suffix = &uuid_suffix();
        let name = spec::docker_name(
            &self.assigned.task_definition,
            &self.slots[index].name,
            suffix,
        );
        let id = runtime.create(&name, body).await?;
        self.slots[index].id = Some(id.clone());
        self.slots[index].engine_name = name;
        if let Err(reason) = self.open_stream(index, &id).await {
            self.slots[index].reason = Some(reason.clone());
            return Err(reason);
        }
        runtime.start(&id).await?;
        if let Ok(i) = runtime.inspect(&id).await {
            self.slots[index].bindings = i.bindings;
            if let Err(reason) = self.serve_credentials(index, i.pid) {
                self.slots[index].reason = Some(reason.clone());
                return Err(reason);
            }
        }
        self.watch_exit(index, id.clone());
        self.ship(index, id, false);
        Ok(())
    }

    /// Starts what may start; returns whether something still waits on a dependency.
    async fn start_ready(&mut self) -> Result<bool, String> {
        let mut waiting = false;
        for index in 0..self.slots.len() {
            if self.slots[index].id.is_some() || self.slots[index].exit_code.is_some() {
                continue;
            }
            match self.readiness(index).await {
                Readiness::Ready => self.start(index).await?,
                Readiness::Wait => waiting = true,
                Readiness::Never(reason) => return Err(reason),
            }
        }
        Ok(waiting)
    }

    /// Reads the health of running containers that have a health check.
    async fn check_health(&self) {
        for slot in &self.slots {
            let (Some(id), None, Some(_)) = (&slot.id, slot.exit_code, &slot.def.health_check)
            else {
                continue;
            };
            if let Ok(i) = self.ctx.runtime.inspect(id).await {
                let status = crate::health::from_docker(i.health.as_deref().unwrap_or_default());
                self.ctx.health.set(&self.task_arn, &slot.name, status);
            }
        }
    }

    async fn stop_all(&mut self) {
        let runtime = &self.ctx.runtime;
        // A FireLens router stops after the others, so their last records reach it.
        for routers in [false, true] {
            let stops = self
                .slots
                .iter()
                .filter(|s| s.exit_code.is_none())
                .filter(|s| s.def.firelens_configuration.is_some() == routers)
                .filter_map(|s| {
                    let id = s.id.clone()?;
                    let timeout = s.def.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
                    Some(async move {
                        if let Err(e) = runtime.stop(&id, timeout).await {
                            tracing::warn!(container = %id, error = %e, "stop failed");
                        }
                    })
                });
            futures_util::future::join_all(stops).await;
        }
        // Before the containers may go, and before STOPPED: a crashed task's last lines are
        // readable once it is STOPPED.
        self.drain_logs().await;
        let remove = self.ctx.cleanup_wait.is_zero();
        for slot in &mut self.slots {
            if let Some(endpoint) = slot.credentials_endpoint.take() {
                endpoint.abort();
            }
            let Some(id) = slot.id.clone() else { continue };
            if let Ok(i) = runtime.inspect(&id).await {
                if slot.exit_code.is_none() {
                    slot.exit_code = i.exit_code;
                }
                if i.oom_killed {
                    slot.reason =
                        Some("OutOfMemoryError: Container killed due to memory usage".into());
                }
            }
            if remove && let Err(e) = runtime.remove(&id).await {
                tracing::warn!(container = %id, error = %e, "remove failed");
            }
        }
        self.stop_pause(remove).await;
        if remove {
            self.remove_volumes().await;
        }
        self.ctx.shared_fs.release(&self.task_arn).await;
        self.remove_task_cgroup();
        if self
            .slots
            .iter()
            .any(|s| s.def.firelens_configuration.is_some())
        {
            self.ctx.firelens.forget(&self.task_arn);
        }
    }
}

fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(7))
        .unwrap_or_default();
    format!("{nanos:08x}")
}

/// Runs one task until it is STOPPED; `desired` carries the control plane's desired status.
pub(crate) async fn run<R: ContainerRuntime>(
    ctx: &RunnerCtx<R>,
    assigned: AssignedTask,
    mut desired: watch::Receiver<String>,
) {
    let (exits, mut exit_rx) = mpsc::unbounded_channel();
    let mut defs = assigned
        .task_definition
        .container_definitions
        .clone()
        .unwrap_or_default();
    crate::logs::firelens::add_router_dependency(&mut defs);
    spec::linux::add_link_dependencies(&mut defs);
    spec::volumes::add_source_dependencies(&mut defs);
    let mut runner = Runner {
        ctx,
        task_arn: assigned.task.task_arn.clone().unwrap_or_default(),
        assigned: &assigned,
        slots: defs
            .into_iter()
            .map(|def| Slot {
                name: def.name.clone().unwrap_or_default(),
                // Refused by `refusal` when the options are bad.
                awslogs: def
                    .log_configuration
                    .as_ref()
                    .and_then(|c| log_options::of(c).ok().flatten()),
                def,
                ..Slot::default()
            })
            .collect(),
        exits,
        created_at: Instant::now(),
        credentials: None,
        secrets: None,
        execution: None,
        volumes: Default::default(),
        pull_started_at: None,
        pull_stopped_at: None,
        pause: None,
    };
    let adopted = runner.adopt().await;
    runner.adopt_volumes().await;
    // Checked once, before the first pull. A task adopted after the agent restarted with a
    // stricter policy is refused too: the policy holds for everything on the host.
    let refusal = adopted.err().or_else(|| runner.refusal());
    let mut reported_running = false;
    let has_health_checks = runner.slots.iter().any(|s| s.def.health_check.is_some());
    let failure: Option<String> = loop {
        if *desired.borrow() == "STOPPED" {
            break None;
        }
        if let Some(reason) = refusal {
            break Some(reason);
        }
        let waiting = match runner.start_ready().await {
            Ok(w) => w,
            Err(reason) => break Some(reason),
        };
        if let Some(reason) = runner.lost_mount() {
            break Some(reason);
        }
        if runner
            .slots
            .iter()
            .any(|s| s.essential() && s.exit_code.is_some())
        {
            break Some("Essential container in task exited".into());
        }
        if !reported_running && runner.slots.iter().all(|s| s.id.is_some()) {
            runner.report("RUNNING", None);
            reported_running = true;
        }
        tokio::select! {
            Some((index, code)) = exit_rx.recv() => {
                if index == awsvpc::PAUSE {
                    break Some(awsvpc::pause_exited(code));
                }
                runner.slots[index].exit_code = Some(code);
                if let Some(endpoint) = runner.slots[index].credentials_endpoint.take() {
                    endpoint.abort();
                }
                if !runner.slots[index].essential() {
                    runner.report(if reported_running { "RUNNING" } else { "PENDING" }, None);
                }
            }
            changed = desired.changed() => {
                if changed.is_err() {
                    break None;
                }
            }
            _ = tokio::time::sleep(POLL), if waiting || has_health_checks => {
                runner.check_health().await;
            }
            // Wakes the loop to look at the shared file system mounts.
            _ = tokio::time::sleep(MOUNT_CHECK), if runner.has_mounts() => {}
        }
    };
    if let Some(reason) = &failure {
        tracing::info!(task = %runner.task_arn, %reason, "stopping task");
    }
    runner.stop_all().await;
    ctx.health.forget_task(&runner.task_arn);
    runner.report("STOPPED", failure);
}

mod awslogs;
mod awsvpc;
mod firelens;
mod identity;
mod linux;
mod slot;
pub(crate) mod volumes;

use slot::Slot;
#[cfg(test)]
mod tests;
