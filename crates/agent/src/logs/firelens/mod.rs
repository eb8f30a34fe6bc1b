//! FireLens as ECS wires it: a container with a `firelensConfiguration` is the task's log
//! router (Fluent Bit or Fluentd), and containers logging with `awsfirelens` send their output
//! to it through the engine's `fluentd` log driver.
//!
//! - [`options`]: the router's and the apps' options, and what Berth refuses (an `s3` config
//!   file: Berth has no S3; an output without `Name`/`@type`);
//! - [`config`]: the router's generated configuration, in ECS's order (a pure function);
//! - [`engine`]: what the router and the apps get in their create bodies;
//! - here: the task-level checks, the implicit `dependsOn`, and the host directory
//!   `<state dir>/firelens/<task id>/{config,socket}` (removed when the task stops).
//!
//! How the apps reach the router differs from ECS on purpose. ECS points the driver at
//! `unix://<host dir>/socket/fluent.sock`; Berth publishes the router's forward port (24224) on
//! an ephemeral host port bound to 127.0.0.1 in `bridge` mode and gives the apps
//! `tcp://127.0.0.1:<that port>` (`tcp://127.0.0.1:24224` in `host` mode; the unix socket only
//! with no network). The generated configuration listens on both, as ECS's does, so a real
//! router works either way, and a stand-in that can only listen on TCP works too.

pub mod config;
pub mod engine;
pub mod options;

use berth_types::ecs::{ContainerDefinition, LogDriver, TaskDefinition};
use std::path::{Path, PathBuf};

/// Where the agent keeps routers' files, and the API the routers' CloudWatch outputs use.
#[derive(Debug, Clone)]
pub struct Host {
    /// `<agent state dir>/firelens`, absolute (the engine bind-mounts from it).
    pub dir: PathBuf,
    /// The agent's API endpoint, e.g. `http://127.0.0.1:9714`.
    pub endpoint: String,
}

impl Host {
    /// The FireLens directory under the agent's `state_dir`.
    pub fn new(state_dir: &Path, endpoint: &str) -> Self {
        let dir = std::path::absolute(state_dir)
            .unwrap_or_else(|_| state_dir.to_path_buf())
            .join("firelens");
        Self {
            dir,
            endpoint: endpoint.to_string(),
        }
    }

    /// `<dir>/<task id>`: the task's `config/` and `socket/`.
    pub fn task_dir(&self, task_arn: &str) -> PathBuf {
        self.dir.join(task_id(task_arn))
    }

    /// Writes the router's configuration and makes its socket directory, before it starts.
    pub fn prepare(&self, task_arn: &str, conf: &str) -> Result<(), String> {
        let dir = self.task_dir(task_arn);
        let fail = |e: std::io::Error| format!("cannot write the FireLens configuration: {e}");
        std::fs::create_dir_all(dir.join("config")).map_err(fail)?;
        std::fs::create_dir_all(dir.join("socket")).map_err(fail)?;
        std::fs::write(dir.join("config").join("fluent.conf"), conf).map_err(fail)
    }

    /// Removes the task's directory, if it has one.
    pub fn forget(&self, task_arn: &str) {
        let dir = self.task_dir(task_arn);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a FireLens directory");
        }
    }
}

/// The last part of a task ARN, as in ECS's tags and paths.
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The task's log router, if it has one.
pub fn router(defs: &[ContainerDefinition]) -> Option<&ContainerDefinition> {
    defs.iter().find(|d| d.firelens_configuration.is_some())
}

/// Whether the container logs through the router.
pub fn is_app(def: &ContainerDefinition) -> bool {
    def.log_configuration
        .as_ref()
        .is_some_and(|c| c.log_driver == LogDriver::Awsfirelens)
}

/// Why the task cannot run its FireLens setup, if it cannot.
pub fn check(td: &TaskDefinition) -> Result<(), String> {
    let defs = td.container_definitions.as_deref().unwrap_or_default();
    let routers = defs
        .iter()
        .filter(|d| d.firelens_configuration.is_some())
        .count();
    if routers > 1 {
        return Err("only one container of a task may have a firelensConfiguration".into());
    }
    let Some(router) = router(defs) else {
        return match defs.iter().find(|d| is_app(d)) {
            Some(app) => Err(format!(
                "container {} logs with awsfirelens, but no container of the task has a firelensConfiguration",
                app.name.as_deref().unwrap_or_default()
            )),
            None => Ok(()),
        };
    };
    let kind = options::Router::of(router)?.kind;
    for app in defs.iter().filter(|d| is_app(d)) {
        options::App::of(app, kind)?;
    }
    Ok(())
}

/// Gives every app an implicit `dependsOn` router `START`, unless it declares a dependency on
/// the router already, as ECS's agent does: the router must listen before the apps write.
pub fn add_router_dependency(defs: &mut [ContainerDefinition]) {
    let Some(router) = router(defs).and_then(|r| r.name.clone()) else {
        return;
    };
    for def in defs.iter_mut().filter(|d| is_app(d)) {
        crate::spec::linux::start_after(def, &router);
    }
}

#[cfg(test)]
mod tests;
