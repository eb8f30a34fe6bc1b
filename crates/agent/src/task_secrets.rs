//! A task's `secrets` and `repositoryCredentials`, as its containers start.
//!
//! The ECS agent reads them from SSM and Secrets Manager itself, with the task's execution role.
//! Berth's agent asks the control plane once per task (`BerthAgent.GetTaskSecrets`), which reads
//! them with the task's execution role and answers with ECS's reason when it cannot (the task
//! then stops with it). The values go into the containers' environment (beating `environment`,
//! as in ECS) and the pull's credentials, and nowhere else: never a log line.

use crate::client::EcsClient;
use berth_types::ecs::ContainerDefinition;
use berth_types::protocol::{TASK_SECRETS_OPERATION, TaskRequest, TaskSecrets};
use bollard::auth::DockerCredentials;
use futures_util::future::BoxFuture;

/// Where a task's secrets come from: the control plane, or a stand-in in tests.
pub(crate) trait SecretsSource: Send + Sync + 'static {
    /// The secrets of task `task_arn`, or why they cannot be read (ECS's stop reason).
    fn fetch<'a>(&'a self, task_arn: &'a str) -> BoxFuture<'a, Result<TaskSecrets, String>>;
}

impl SecretsSource for EcsClient {
    fn fetch<'a>(&'a self, task_arn: &'a str) -> BoxFuture<'a, Result<TaskSecrets, String>> {
        Box::pin(async move {
            let request = TaskRequest {
                task_arn: task_arn.to_string(),
            };
            self.call_target("BerthAgent", TASK_SECRETS_OPERATION, &request)
                .await
                .map_err(|e| match e {
                    // The control plane's message is already ECS's reason.
                    crate::client::ClientError::Api { message, .. } => message,
                    other => format!(
                        "ResourceInitializationError: unable to pull secrets or registry auth: {other}"
                    ),
                })
        })
    }
}

/// Whether container `def` needs anything of [`TaskSecrets`].
pub(crate) fn needed_by(def: &ContainerDefinition) -> bool {
    def.secrets.as_ref().is_some_and(|s| !s.is_empty()) || def.repository_credentials.is_some()
}

/// Why the task cannot run with container `def`'s environment files, if it cannot: they are S3
/// objects, and Berth has no S3.
pub(crate) fn check(def: &ContainerDefinition) -> Result<(), String> {
    match &def.environment_files {
        Some(files) if !files.is_empty() => Err(format!(
            "environmentFiles (container {}) are S3 objects, and Berth has no S3: put the variables in environment or secrets",
            def.name.as_deref().unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

/// The credentials for pulling `image` of container `name`, from its `repositoryCredentials`.
pub(crate) fn registry_credentials(
    secrets: &TaskSecrets,
    name: &str,
    image: &str,
) -> Option<DockerCredentials> {
    let found = secrets.repository_credentials.get(name)?;
    Some(DockerCredentials {
        username: Some(found.username.clone()),
        password: Some(found.password.clone()),
        serveraddress: berth_types::image::reference(image).map(|(host, _)| host.to_string()),
        ..DockerCredentials::default()
    })
}

/// Puts container `name`'s secrets into `env` (`KEY=value` entries), over any variable of the
/// same name.
pub(crate) fn apply(secrets: &TaskSecrets, name: &str, env: &mut Vec<String>) {
    let Some(values) = secrets.environment.get(name) else {
        return;
    };
    env.retain(|kv| {
        let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
        !values.contains_key(key)
    });
    env.extend(values.iter().map(|(k, v)| format!("{k}={v}")));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn secrets_win_over_the_environment() {
        let secrets = TaskSecrets {
            environment: BTreeMap::from([(
                "app".to_string(),
                BTreeMap::from([("DB_PASSWORD".to_string(), "s3cret".to_string())]),
            )]),
            ..TaskSecrets::default()
        };
        let mut env = vec!["A=1".to_string(), "DB_PASSWORD=placeholder".to_string()];
        apply(&secrets, "app", &mut env);
        assert_eq!(env, ["A=1", "DB_PASSWORD=s3cret"]);
        let mut other = vec!["A=1".to_string()];
        apply(&secrets, "sidecar", &mut other);
        assert_eq!(other, ["A=1"]);
        assert!(
            !format!("{secrets:?}").contains("s3cret"),
            "never in debug output"
        );
    }
}
