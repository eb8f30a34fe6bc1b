//! An in-memory [`ContainerRuntime`] for tests: containers are records and nothing runs. It
//! records every call that changes something (reads such as `inspect` are polled and would only
//! add noise), names containers in those records by their task-definition name so tests read
//! like the task definition, and lets the test decide when a container exits and how healthy it
//! is.

use super::{ContainerRuntime, Existing, Inspected, LogLine, NetworkSpec, VolumeSpec};
use crate::spec::{LABEL_CONTAINER_NAME, LABEL_INSTANCE, LABEL_TASK_ARN};
use bollard::auth::DockerCredentials;
use bollard::models::ContainerCreateBody;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// The exit code of a container stopped through the runtime, as SIGTERM leaves it.
pub(crate) const STOPPED_EXIT_CODE: i32 = 143;

/// How long [`FakeRuntime::until`] waits before failing the test.
const PATIENCE: Duration = Duration::from_secs(5);

/// A call that changed the fake's state, with containers named as in the task definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    /// An image pulled (or found present).
    Pull(String),
    /// A container created.
    Create(String),
    /// A container started.
    Start(String),
    /// A container stopped, with its grace in seconds.
    Stop(String, i32),
    /// A container removed.
    Remove(String),
    /// Not a call: a container exited as the test scripted ([`FakeRuntime::exit`]), recorded
    /// so one list shows what the runner did before and after.
    Exit(String, i32),
    /// A volume created, by its engine name.
    CreateVolume(String),
    /// A volume removed, by its engine name.
    RemoveVolume(String),
    /// An image imported, by its tag.
    Import(String),
    /// A network created, by its engine name.
    CreateNetwork(String),
    /// A network removed, by its engine name.
    RemoveNetwork(String),
}

#[derive(Debug)]
struct Container {
    id: String,
    labels: HashMap<String, String>,
    running: bool,
    exit_code: Option<i32>,
    health: Option<String>,
    output: Vec<LogLine>,
    finished_at: Option<SystemTime>,
    /// The next read of the output ends after this many lines, as an engine may.
    cut_next_read: Option<usize>,
}

impl Container {
    fn name(&self) -> String {
        self.labels
            .get(LABEL_CONTAINER_NAME)
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    containers: Vec<Container>,
    volumes: Vec<VolumeSpec>,
    networks: Vec<NetworkSpec>,
    images: Vec<String>,
    calls: Vec<Call>,
    created: usize,
}

impl State {
    fn get(&mut self, id: &str) -> Result<&mut Container, String> {
        self.containers
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| format!("No such container: {id}"))
    }

    /// The live container of that task-definition name (names are unique within one test).
    fn named(&mut self, name: &str) -> &mut Container {
        self.containers
            .iter_mut()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("no container named {name}"))
    }

    fn add(&mut self, labels: HashMap<String, String>, running: bool) -> &Container {
        self.created += 1;
        self.containers.push(Container {
            id: format!("fake-{}", self.created),
            labels,
            running,
            exit_code: None,
            health: None,
            output: vec![],
            finished_at: None,
            cut_next_read: None,
        });
        self.containers.last().expect("just pushed")
    }
}

/// The fake engine; clones share it.
#[derive(Clone, Default)]
pub(crate) struct FakeRuntime {
    state: Arc<Mutex<State>>,
    /// Woken on every change, for `wait` and [`FakeRuntime::until`].
    changed: Arc<Notify>,
}

impl FakeRuntime {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a change and wakes everyone waiting on one.
    fn change<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.state());
        self.changed.notify_waiters();
        out
    }

    /// Every recorded call, in order.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// A running container of `task_arn` on `instance_arn`, as an agent before a restart left
    /// it; returns its id.
    pub(crate) fn existing(&self, instance_arn: &str, task_arn: &str, name: &str) -> String {
        let labels = HashMap::from([
            (LABEL_INSTANCE.to_string(), instance_arn.to_string()),
            (LABEL_TASK_ARN.to_string(), task_arn.to_string()),
            (LABEL_CONTAINER_NAME.to_string(), name.to_string()),
        ]);
        self.change(|s| s.add(labels, true).id.clone())
    }

    /// The volumes the engine has now.
    pub(crate) fn volumes(&self) -> Vec<VolumeSpec> {
        self.state().volumes.clone()
    }

    /// A volume that exists already, as an operator or an earlier task left it.
    pub(crate) fn existing_volume(&self, spec: VolumeSpec) {
        self.change(|s| s.volumes.push(spec));
    }

    /// The networks the engine has now.
    pub(crate) fn networks(&self) -> Vec<NetworkSpec> {
        self.state().networks.clone()
    }

    /// A network that exists already, as the engine or an operator made it.
    pub(crate) fn existing_network(&self, spec: NetworkSpec) {
        self.change(|s| s.networks.push(spec));
    }

    /// The container named `name` exits with `code`.
    pub(crate) fn exit(&self, name: &str, code: i32) {
        self.change(|s| {
            let c = s.named(name);
            c.running = false;
            c.exit_code = Some(code);
            c.finished_at = Some(SystemTime::now());
            s.calls.push(Call::Exit(name.to_string(), code));
        });
    }

    /// The container named `name` writes `text` (a line ends with a newline), stamped `ns`.
    pub(crate) fn print(&self, name: &str, ns: i64, text: &str) {
        self.change(|s| {
            s.named(name).output.push(LogLine {
                ns,
                text: text.to_string(),
            })
        });
    }

    /// The next read of `name`'s output ends after `lines` lines, whatever is left, as Docker
    /// 20.10 ends a follow when the container exits.
    pub(crate) fn cut_next_read(&self, name: &str, lines: usize) {
        self.change(|s| s.named(name).cut_next_read = Some(lines));
    }

    /// The container named `name` stopped `ago`.
    pub(crate) fn finished_ago(&self, name: &str, ago: Duration) {
        self.change(|s| s.named(name).finished_at = SystemTime::now().checked_sub(ago));
    }

    /// The container named `name` reports `health` (`healthy`, `unhealthy`, `starting`).
    pub(crate) fn set_health(&self, name: &str, health: &str) {
        self.change(|s| s.named(name).health = Some(health.to_string()));
    }

    /// Waits until the recorded calls satisfy `done`; fails the test after a few seconds.
    pub(crate) async fn until(&self, what: &str, done: impl Fn(&[Call]) -> bool) {
        let waited = tokio::time::timeout(PATIENCE, async {
            loop {
                // Registered before looking, so a change in between still wakes us.
                let changed = self.changed.notified();
                if done(&self.state().calls) {
                    return;
                }
                changed.await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "never saw {what}; calls: {:?}",
            self.calls()
        );
    }
}

impl ContainerRuntime for FakeRuntime {
    async fn ensure_image(
        &self,
        image: &str,
        _credentials: Option<DockerCredentials>,
    ) -> Result<Option<String>, String> {
        self.change(|s| s.calls.push(Call::Pull(image.to_string())));
        Ok(Some(format!("sha256:{:064}", image.len())))
    }

    async fn create(&self, _name: &str, body: ContainerCreateBody) -> Result<String, String> {
        let labels = body.labels.unwrap_or_default();
        self.change(|s| {
            let created = s.add(labels, false);
            let (id, name) = (created.id.clone(), created.name());
            s.calls.push(Call::Create(name));
            Ok(id)
        })
    }

    async fn start(&self, id: &str) -> Result<(), String> {
        self.change(|s| {
            let c = s.get(id)?;
            c.running = true;
            let name = c.name();
            s.calls.push(Call::Start(name));
            Ok(())
        })
    }

    async fn stop(&self, id: &str, timeout: i32) -> Result<(), String> {
        self.change(|s| {
            let c = s.get(id)?;
            if c.running {
                c.running = false;
                c.exit_code = Some(STOPPED_EXIT_CODE);
                c.finished_at = Some(SystemTime::now());
            }
            let name = c.name();
            s.calls.push(Call::Stop(name, timeout));
            Ok(())
        })
    }

    async fn remove(&self, id: &str) -> Result<(), String> {
        self.change(|s| {
            let name = s.get(id)?.name();
            s.containers.retain(|c| c.id != id);
            s.calls.push(Call::Remove(name));
            Ok(())
        })
    }

    async fn wait(&self, id: &str) -> Result<i32, String> {
        loop {
            let changed = self.changed.notified();
            if let Some(code) = self.state().get(id)?.exit_code {
                return Ok(code);
            }
            changed.await;
        }
    }

    async fn inspect(&self, id: &str) -> Result<Inspected, String> {
        let mut state = self.state();
        let c = state.get(id)?;
        Ok(Inspected {
            running: c.running,
            exit_code: c.exit_code,
            health: c.health.clone(),
            finished_at: c.finished_at,
            ..Inspected::default()
        })
    }

    /// The scripted output from `since_seconds` on; it ends once the container is not
    /// running and all of it was read (or the container is removed).
    fn logs(&self, id: &str, since_seconds: i64) -> BoxStream<'static, Result<LogLine, String>> {
        let since_ns = since_seconds.saturating_mul(1_000_000_000);
        let cut = self
            .state()
            .get(id)
            .ok()
            .and_then(|c| c.cut_next_read.take());
        // The fake, the container, the next line to look at, and the lines sent.
        let start = (self.clone(), id.to_string(), 0usize, 0usize);
        futures_util::stream::unfold(start, move |(fake, id, mut next, sent)| async move {
            if cut.is_some_and(|cut| sent >= cut) {
                return None;
            }
            let notify = fake.changed.clone();
            loop {
                let changed = notify.notified();
                let found = {
                    let mut state = fake.state();
                    let c = state.get(&id).ok()?;
                    let mut found = None;
                    while let Some(line) = c.output.get(next) {
                        next += 1;
                        if line.ns >= since_ns {
                            found = Some(line.clone());
                            break;
                        }
                    }
                    if found.is_none() && !c.running {
                        return None;
                    }
                    found
                };
                if let Some(line) = found {
                    return Some((Ok(line), (fake, id, next, sent + 1)));
                }
                changed.await;
            }
        })
        .boxed()
    }

    async fn list(
        &self,
        instance_arn: &str,
        task_arn: Option<&str>,
    ) -> Result<Vec<Existing>, String> {
        let state = self.state();
        let of = |c: &&Container, label: &str, value: &str| {
            c.labels.get(label).map(String::as_str) == Some(value)
        };
        Ok(state
            .containers
            .iter()
            .filter(|c| of(c, LABEL_INSTANCE, instance_arn))
            .filter(|c| task_arn.is_none_or(|arn| of(c, LABEL_TASK_ARN, arn)))
            .map(|c| Existing {
                id: c.id.clone(),
                task_arn: c.labels.get(LABEL_TASK_ARN).cloned().unwrap_or_default(),
                container_name: c.name(),
                engine_name: String::new(),
                running: c.running,
            })
            .collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<(), String> {
        self.change(|s| {
            if s.volumes.iter().all(|v| v.name != spec.name) {
                s.volumes.push(spec.clone());
            }
            s.calls.push(Call::CreateVolume(spec.name.clone()));
            Ok(())
        })
    }

    async fn inspect_volume(&self, name: &str) -> Result<Option<VolumeSpec>, String> {
        Ok(self
            .state()
            .volumes
            .iter()
            .find(|v| v.name == name)
            .cloned())
    }

    async fn remove_volume(&self, name: &str) -> Result<(), String> {
        self.change(|s| {
            s.volumes.retain(|v| v.name != name);
            s.calls.push(Call::RemoveVolume(name.to_string()));
            Ok(())
        })
    }

    async fn list_volumes(&self, instance_arn: &str) -> Result<Vec<VolumeSpec>, String> {
        let state = self.state();
        Ok(state
            .volumes
            .iter()
            .filter(|v| v.labels.get(LABEL_INSTANCE).map(String::as_str) == Some(instance_arn))
            .cloned()
            .collect())
    }

    async fn import_image(
        &self,
        tag: &str,
        _tar: Vec<u8>,
        _changes: &[&str],
    ) -> Result<(), String> {
        self.change(|s| {
            if !s.images.iter().any(|i| i == tag) {
                s.images.push(tag.to_string());
                s.calls.push(Call::Import(tag.to_string()));
            }
            Ok(())
        })
    }

    async fn list_networks(&self) -> Result<Vec<NetworkSpec>, String> {
        Ok(self.networks())
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<(), String> {
        self.change(|s| {
            if s.networks.iter().any(|n| n.name == spec.name) {
                return Err(format!("network with name {} already exists", spec.name));
            }
            s.networks.push(spec.clone());
            s.calls.push(Call::CreateNetwork(spec.name.clone()));
            Ok(())
        })
    }

    async fn remove_network(&self, name: &str) -> Result<(), String> {
        self.change(|s| {
            s.networks.retain(|n| n.name != name);
            s.calls.push(Call::RemoveNetwork(name.to_string()));
            Ok(())
        })
    }
}
