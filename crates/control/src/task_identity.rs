//! What a task's agent fetches for it: its task role's credentials (a session named after the
//! task, as ECS names it) and what its `secrets` and `repositoryCredentials` name, with the
//! execution role that must be allowed to read them. Only while the task has not stopped.

use crate::ControlPlane;
use crate::error::ControlError;
use crate::roles::RoleSession;
use crate::status::TaskStatus;
use berth_types::ecs::{Task, TaskDefinition};
use std::time::Duration;

/// How long task role credentials last; the agent fetches new ones before they lapse.
const TASK_SESSION: Duration = Duration::from_secs(6 * 3600);

/// A task's identity and secrets, as its definition and overrides name them.
#[derive(Debug, Clone, Default)]
pub struct TaskIdentity {
    /// The task's id (the last part of its ARN): its role sessions' name.
    pub task_id: String,
    /// The role its containers act as.
    pub task_role: Option<String>,
    /// The role the agent acts as for it (pulls, secrets, logs).
    pub execution_role: Option<String>,
    /// (container, variable, valueFrom) of every `secrets` entry.
    pub secrets: Vec<(String, String, String)>,
    /// (container, credentialsParameter) of every `repositoryCredentials`.
    pub repository_credentials: Vec<(String, String)>,
    /// (container, option, valueFrom) of every `logConfiguration.secretOptions` entry.
    pub log_secrets: Vec<(String, String, String)>,
}

/// A role the task's overrides name, else its definition's (an empty one is none).
fn role(over: Option<&String>, own: &Option<String>) -> Option<String> {
    over.or(own.as_ref()).filter(|r| !r.is_empty()).cloned()
}

/// The role task `task` of definition `td` acts as.
pub(crate) fn task_role(task: &Task, td: &TaskDefinition) -> Option<String> {
    let overrides = task.overrides.as_ref();
    role(
        overrides.and_then(|o| o.task_role_arn.as_ref()),
        &td.task_role_arn,
    )
}

impl ControlPlane {
    /// The identity of task `task_arn`; refused once the task stopped or is to stop.
    pub fn task_identity(&self, task_arn: &str) -> Result<TaskIdentity, ControlError> {
        let state = self.read();
        let gone = || {
            ControlError::invalid(format!(
                "task {task_arn} is not running: its credentials and secrets are no longer served"
            ))
        };
        let task = state.tasks.get(task_arn).ok_or_else(gone)?;
        if TaskStatus::Stopped.is(&task.desired_status) || TaskStatus::Stopped.is(&task.last_status)
        {
            return Err(gone());
        }
        let td = state.definition_of(task).ok_or_else(gone)?;
        let overrides = task.overrides.as_ref();
        let mut identity = TaskIdentity {
            task_id: task_arn.rsplit('/').next().unwrap_or_default().to_string(),
            task_role: task_role(task, td),
            execution_role: role(
                overrides.and_then(|o| o.execution_role_arn.as_ref()),
                &td.execution_role_arn,
            ),
            ..TaskIdentity::default()
        };
        for c in td.container_definitions.iter().flatten() {
            let name = c.name.clone().unwrap_or_default();
            for s in c.secrets.iter().flatten() {
                let entry = (name.clone(), s.name.clone(), s.value_from.clone());
                identity.secrets.push(entry);
            }
            let log = c.log_configuration.as_ref();
            for s in log
                .and_then(|l| l.secret_options.as_ref())
                .into_iter()
                .flatten()
            {
                let entry = (name.clone(), s.name.clone(), s.value_from.clone());
                identity.log_secrets.push(entry);
            }
            if let Some(r) = &c.repository_credentials {
                let entry = (name.clone(), r.credentials_parameter.clone());
                identity.repository_credentials.push(entry);
            }
        }
        Ok(identity)
    }

    /// A new session of the task role of task `task_arn`.
    pub fn task_role_session(&self, task_arn: &str) -> Result<RoleSession, ControlError> {
        let identity = self.task_identity(task_arn)?;
        let role = identity
            .task_role
            .ok_or_else(|| ControlError::invalid(format!("task {task_arn} has no taskRoleArn")))?;
        self.issue_role_session(&role, &identity.task_id, TASK_SESSION)
    }

    /// A new session of the execution role of task `task_arn`, for its agent. Named after the
    /// task too (as ECS names both), so it ends with the task's role sessions.
    pub fn task_execution_session(&self, task_arn: &str) -> Result<RoleSession, ControlError> {
        let identity = self.task_identity(task_arn)?;
        let role = identity.execution_role.ok_or_else(|| {
            ControlError::invalid(format!("task {task_arn} has no executionRoleArn"))
        })?;
        self.issue_role_session(&role, &identity.task_id, TASK_SESSION)
    }
}
