//! The runner's part in a task's identity: its role's credentials endpoint in each container
//! ([`crate::task_credentials`]), its secrets in their environment and pulls
//! ([`crate::task_secrets`]), and the agent acting as its execution role.

use super::Runner;
use crate::client::EcsClient;
use crate::runtime::ContainerRuntime;
use crate::task_credentials::{self, TaskCredentials};
use crate::task_secrets;
use berth_types::ecs::LogDriver;
use bollard::auth::DockerCredentials;
use bollard::models::ContainerCreateBody;
use std::sync::Arc;

impl<R: ContainerRuntime> Runner<'_, R> {
    /// Fetches the task's secrets once, before its first container, when any container needs
    /// them.
    pub(super) async fn fetch_secrets(&mut self) -> Result<(), String> {
        let defs = self
            .assigned
            .task_definition
            .container_definitions
            .as_deref();
        if self.secrets.is_none() && task_secrets::needed_by(defs.unwrap_or_default()) {
            self.secrets = Some(self.ctx.secrets.fetch(&self.task_arn).await?);
        }
        Ok(())
    }

    /// The client acting as the task's execution role, asked for once; `None` when the task has
    /// none (the agent then acts with its own key, as the ECS agent with the instance's role).
    pub(super) async fn execution_role(&mut self) -> Result<Option<&EcsClient>, String> {
        if self.execution.is_none() && task_credentials::execution_role(self.assigned).is_some() {
            let session = self.ctx.credentials.execution(&self.task_arn).await.map_err(|e| {
                format!("ResourceInitializationError: unable to assume the task's execution role: {e}")
            })?;
            self.execution = Some(self.ctx.registry.client().acting_as(&session));
        }
        Ok(self.execution.as_ref())
    }

    /// The login for `image` when it lives in Berth's registry: as the execution role when the
    /// task has one.
    pub(super) async fn registry_credentials(
        &mut self,
        image: &str,
    ) -> Result<Option<DockerCredentials>, String> {
        let registry = self.ctx.registry.clone();
        if !registry.holds(image).await {
            return Ok(None);
        }
        match self.execution_role().await? {
            Some(role) => registry.credentials_as(role).await.map(Some),
            None => registry.credentials_for(image).await,
        }
    }

    /// The registry login of container `index`'s `repositoryCredentials`, if it has them.
    pub(super) fn repository_credentials(
        &self,
        index: usize,
        image: &str,
    ) -> Option<DockerCredentials> {
        let secrets = self.secrets.as_ref()?;
        task_secrets::registry_credentials(secrets, &self.slots[index].name, image)
    }

    /// The task role's credentials, made at the first call; `None` when the task has no role.
    pub(super) fn task_credentials(&mut self) -> Option<Arc<TaskCredentials>> {
        task_credentials::task_role(self.assigned)?;
        let credentials = self.credentials.get_or_insert_with(|| {
            TaskCredentials::new(None, &self.task_arn, self.ctx.credentials.clone())
        });
        Some(credentials.clone())
    }

    /// Adds the credentials endpoint's variable and the container's secrets to its environment.
    pub(super) fn identity_env(&mut self, index: usize, body: &mut ContainerCreateBody) {
        if let Some(credentials) = self.task_credentials() {
            body.env.get_or_insert_default().push(credentials.env());
        }
        if let Some(secrets) = &self.secrets {
            let def = &self.slots[index].def;
            let env = body.env.get_or_insert_default();
            task_secrets::apply(secrets, &self.slots[index].name, env);
            if def.firelens_configuration.is_some() {
                let defs = self.assigned.task_definition.container_definitions.iter();
                let apps: Vec<String> = (defs.flatten())
                    .filter(|d| crate::logs::firelens::is_app(d))
                    .filter_map(|d| d.name.clone())
                    .collect();
                env.extend(task_secrets::router_env(secrets, &apps));
            }
            let engine_driver = def.log_configuration.as_ref().is_some_and(|l| {
                !matches!(l.log_driver, LogDriver::Awslogs | LogDriver::Awsfirelens)
            });
            let log = body
                .host_config
                .as_mut()
                .and_then(|h| h.log_config.as_mut());
            if let (true, Some(log)) = (engine_driver, log) {
                task_secrets::apply_log_options(secrets, &self.slots[index].name, log);
            }
        }
    }

    /// Why the task's role cannot be served, if it cannot: in host network mode its containers
    /// share the host's namespace, where one agent's endpoint would serve every such task.
    pub(super) fn check_role(&self) -> Result<(), String> {
        let td = &self.assigned.task_definition;
        let host = td.network_mode == Some(berth_types::ecs::NetworkMode::Host);
        match task_credentials::task_role(self.assigned) {
            Some(role) if host => Err(format!(
                "Berth cannot serve the credentials of task role {role} to a task in host network mode yet: use networkMode bridge or awsvpc"
            )),
            _ => Ok(()),
        }
    }

    /// Serves the task role credentials in the namespace of container `index`'s process `pid`;
    /// an awsvpc task's containers share the pause's, where they are served once.
    pub(super) fn serve_credentials(
        &mut self,
        index: usize,
        pid: Option<u32>,
    ) -> Result<(), String> {
        let Some(credentials) = self.credentials.as_ref().filter(|_| !self.awsvpc()) else {
            return Ok(());
        };
        let pid = pid.ok_or_else(|| {
            "ResourceInitializationError: the container stopped before its task role credentials could be served".to_string()
        })?;
        self.slots[index].credentials_endpoint = Some(credentials.serve_in(pid)?);
        Ok(())
    }
}
