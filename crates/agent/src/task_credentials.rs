//! Task role credentials inside a task's containers, served as ECS serves them.
//!
//! A task whose definition (or overrides) names a `taskRoleArn` gets, in every container,
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/<id>`, and the AWS SDKs fetch
//! `http://169.254.170.2<that path>` with no configuration at all. The ECS agent answers on the
//! host, through an iptables rule that sends 169.254.170.2:80 to it, and tells tasks apart by
//! the id alone. Berth binds the endpoint inside each container's own network namespace
//! instead ([`netns`]): 169.254.170.2 is an address on that namespace's loopback, so only that
//! container reaches it and it serves only its own task's credentials (another task cannot get
//! them even knowing the id), and agents sharing a host need no host-wide rule to agree on.
//!
//! The credentials come from the control plane (`BerthAgent.GetTaskCredentials`, refused once
//! the task stopped) and are kept until half an hour before they expire: the SDKs refresh from
//! 15 minutes before, so they never see credentials about to lapse.

mod http;
mod netns;

use crate::client::EcsClient;
use berth_types::protocol::{
    RoleCredentials, TASK_CREDENTIALS_OPERATION, TASK_EXECUTION_CREDENTIALS_OPERATION, TaskRequest,
};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The variable the SDKs look for.
pub(crate) const RELATIVE_URI_ENV: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// The path the credentials are served at, before the id.
const PATH_PREFIX: &str = "/v2/credentials/";
/// Credentials closer than this to their expiry are fetched again.
const REFRESH_BEFORE_NS: i64 = 30 * 60 * 1_000_000_000;

/// Where a task's role credentials come from: the control plane, or a stand-in in tests.
pub(crate) trait CredentialsSource: Send + Sync + 'static {
    /// The task role credentials of task `task_arn`, or why there are none.
    fn fetch<'a>(&'a self, task_arn: &'a str) -> BoxFuture<'a, Result<RoleCredentials, String>>;

    /// The execution role credentials of task `task_arn` (for the agent itself), or why there
    /// are none.
    fn execution<'a>(&'a self, task_arn: &'a str)
    -> BoxFuture<'a, Result<RoleCredentials, String>>;
}

impl EcsClient {
    /// `BerthAgent.<operation>` about task `task_arn`: a session of one of its roles.
    async fn role_session(
        &self,
        operation: &str,
        task_arn: &str,
    ) -> Result<RoleCredentials, String> {
        let request = TaskRequest {
            task_arn: task_arn.to_string(),
        };
        self.call_target("BerthAgent", operation, &request)
            .await
            .map_err(|e| e.to_string())
    }
}

impl CredentialsSource for EcsClient {
    fn fetch<'a>(&'a self, task_arn: &'a str) -> BoxFuture<'a, Result<RoleCredentials, String>> {
        Box::pin(self.role_session(TASK_CREDENTIALS_OPERATION, task_arn))
    }

    fn execution<'a>(
        &'a self,
        task_arn: &'a str,
    ) -> BoxFuture<'a, Result<RoleCredentials, String>> {
        Box::pin(self.role_session(TASK_EXECUTION_CREDENTIALS_OPERATION, task_arn))
    }
}

/// The role a task's containers act as: the override's, else the definition's.
pub(crate) fn task_role(assigned: &berth_types::protocol::AssignedTask) -> Option<&str> {
    let over = assigned.task.overrides.as_ref();
    chosen(
        over.and_then(|o| o.task_role_arn.as_deref()),
        assigned.task_definition.task_role_arn.as_deref(),
    )
}

/// The role the agent acts as for the task (pulls, log streams): the override's, else the
/// definition's.
pub(crate) fn execution_role(assigned: &berth_types::protocol::AssignedTask) -> Option<&str> {
    let over = assigned.task.overrides.as_ref();
    chosen(
        over.and_then(|o| o.execution_role_arn.as_deref()),
        assigned.task_definition.execution_role_arn.as_deref(),
    )
}

/// An override's role, else the definition's; an empty one is none.
fn chosen<'a>(over: Option<&'a str>, own: Option<&'a str>) -> Option<&'a str> {
    over.or(own).filter(|r| !r.is_empty())
}

/// The id in a container's `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, from its environment.
pub(crate) fn id_in_env<'a>(env: impl IntoIterator<Item = &'a str>) -> Option<String> {
    env.into_iter()
        .find_map(|kv| kv.strip_prefix(RELATIVE_URI_ENV)?.strip_prefix('='))
        .and_then(|uri| uri.strip_prefix(PATH_PREFIX))
        .map(str::to_string)
}

/// One task's credentials: its id, and the credentials once fetched.
pub(crate) struct TaskCredentials {
    id: String,
    task_arn: String,
    source: Arc<dyn CredentialsSource>,
    cached: tokio::sync::Mutex<Option<RoleCredentials>>,
}

impl TaskCredentials {
    /// The credentials of `task_arn` under `id` (a new one unless the task's containers already
    /// carry one).
    pub(crate) fn new(
        id: Option<String>,
        task_arn: &str,
        source: Arc<dyn CredentialsSource>,
    ) -> Arc<Self> {
        Arc::new(Self {
            id: id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            task_arn: task_arn.to_string(),
            source,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=...`, for a container's environment.
    pub(crate) fn env(&self) -> String {
        format!("{RELATIVE_URI_ENV}={PATH_PREFIX}{}", self.id)
    }

    /// The credentials, fetched again when they are near their expiry.
    async fn current(&self) -> Result<RoleCredentials, String> {
        let mut cached = self.cached.lock().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or_default();
        let fresh = |c: &RoleCredentials| {
            crate::logs::engine_time::parse_ns(&c.expiration)
                .is_some_and(|expires| expires - now > REFRESH_BEFORE_NS)
        };
        if let Some(c) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let fetched = self.source.fetch(&self.task_arn).await?;
        *cached = Some(fetched.clone());
        Ok(fetched)
    }

    /// Serves the credentials inside the network namespace of the process `pid` (a container's
    /// first process) until the returned task is aborted.
    pub(crate) fn serve_in(self: &Arc<Self>, pid: u32) -> Result<JoinHandle<()>, String> {
        let listener = netns::listen(pid)
            .and_then(|l| tokio::net::TcpListener::from_std(l).map_err(|e| e.to_string()))
            .map_err(|e| format!("ResourceInitializationError: cannot serve the task role credentials in the container: {e}"))?;
        Ok(tokio::spawn(http::serve(listener, self.clone())))
    }
}

#[cfg(test)]
mod tests;
