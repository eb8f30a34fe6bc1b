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

/// Whether the task of containers `defs` needs anything of [`TaskSecrets`]: they are read once,
/// before its first container, as ECS resolves them before the task's containers.
pub(crate) fn needed_by(defs: &[ContainerDefinition]) -> bool {
    defs.iter().any(|def| {
        let log_secrets = def
            .log_configuration
            .as_ref()
            .and_then(|l| l.secret_options.as_ref());
        def.secrets.as_ref().is_some_and(|s| !s.is_empty())
            || def.repository_credentials.is_some()
            || log_secrets.is_some_and(|s| !s.is_empty())
    })
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

/// Adds container `name`'s `secretOptions` to the options of its engine log driver (a driver
/// other than awslogs and awsfirelens, which Berth runs itself).
pub(crate) fn apply_log_options(
    secrets: &TaskSecrets,
    name: &str,
    log: &mut bollard::models::HostConfigLogConfig,
) {
    if let Some(values) = secrets.log_options.get(name) {
        let config = log.config.get_or_insert_default();
        config.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// The variables of the FireLens router's environment that hold the apps' `secretOptions`:
/// `<option>_<container>`, as the ECS agent names them; the router's configuration refers to
/// them (`${option_container}`) so that the values are never written to its file.
pub(crate) fn router_env(secrets: &TaskSecrets, apps: &[String]) -> Vec<String> {
    apps.iter()
        .filter_map(|app| Some((app, secrets.log_options.get(app)?)))
        .flat_map(|(app, values)| values.iter().map(move |(k, v)| format!("{k}_{app}={v}")))
        .collect()
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

    #[test]
    fn log_secrets_go_to_the_driver_or_the_router() {
        let secrets = TaskSecrets {
            log_options: BTreeMap::from([(
                "app".to_string(),
                BTreeMap::from([("splunk-token".to_string(), "t0k3n".to_string())]),
            )]),
            ..TaskSecrets::default()
        };
        let mut log = bollard::models::HostConfigLogConfig {
            typ: Some("splunk".into()),
            config: Some(std::collections::HashMap::from([(
                "splunk-url".to_string(),
                "https://splunk:8088".to_string(),
            )])),
        };
        apply_log_options(&secrets, "app", &mut log);
        let config = log.config.expect("options");
        assert_eq!(config["splunk-token"], "t0k3n");
        assert_eq!(config["splunk-url"], "https://splunk:8088");
        let apps = ["app".to_string(), "quiet".to_string()];
        assert_eq!(router_env(&secrets, &apps), ["splunk-token_app=t0k3n"]);
        assert!(
            !format!("{secrets:?}").contains("t0k3n"),
            "never in debug output"
        );
    }
}
