//! The agent-facing calls that give a task's containers what their definition names:
//! `BerthAgent.GetTaskCredentials` (a session of the task role, named after the task),
//! `BerthAgent.GetTaskExecutionCredentials` (a session of its execution role, which the agent
//! acts as for the task's pulls and log streams) and `BerthAgent.GetTaskSecrets` (its `secrets` and `repositoryCredentials`, read as its
//! execution role: a role that may not read one stops the task with ECS's reason). An agent
//! may ask only for the tasks of its own instance that have not stopped (`authorize_agent`).

use crate::control_errors::refused;
use crate::wire::encode;
use crate::{AppState, auth, policy};
use berth_control::secret_refs::SecretRef;
use berth_control::task_identity::TaskIdentity;
use berth_types::protocol::{
    RegistryCredentials, RoleCredentials, TASK_CREDENTIALS_OPERATION,
    TASK_EXECUTION_CREDENTIALS_OPERATION, TASK_SECRETS_OPERATION, TaskRequest, TaskSecrets,
};
use berth_types::{ApiError, ErrorCode};

/// What ECS puts before the reason a task's secrets could not be read.
const SECRETS_FAILED: &str =
    "ResourceInitializationError: unable to pull secrets or registry auth: ";

/// Whether `operation` (of `BerthAgent`) is one of these.
pub(crate) fn answers(operation: &str) -> bool {
    [
        TASK_CREDENTIALS_OPERATION,
        TASK_EXECUTION_CREDENTIALS_OPERATION,
        TASK_SECRETS_OPERATION,
    ]
    .contains(&operation)
}

/// The ask of `operation` on the task a request names: agent-facing, about that task.
pub(crate) fn ask(operation: &str, task_arn: &str) -> policy::Ask {
    policy::Ask {
        action: format!("berth:{operation}"),
        resource: task_arn.to_string(),
        agent_facing: true,
        subject: Some(task_arn.to_string()),
        ..policy::Ask::default()
    }
}

/// Answers `BerthAgent.<operation>` for `principal`.
pub(crate) fn call(
    app: &AppState,
    principal: &auth::Principal,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let request: TaskRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("name the task: {{\"taskArn\": \"...\"}} ({e})")))?;
    let task_arn = &request.task_arn;
    app.authorize(
        principal,
        ask(operation, task_arn),
        ErrorCode::AccessDeniedException,
    )?;
    tokio::task::block_in_place(|| {
        let session = match operation {
            TASK_CREDENTIALS_OPERATION => Some(app.control.task_role_session(task_arn)),
            TASK_EXECUTION_CREDENTIALS_OPERATION => {
                Some(app.control.task_execution_session(task_arn))
            }
            _ => None,
        };
        if let Some(session) = session {
            let session = session.map_err(refused)?;
            return encode(&RoleCredentials {
                role_arn: session.role_arn.clone(),
                access_key_id: session.id.clone(),
                secret_access_key: session.secret.clone(),
                token: session.token.clone(),
                expiration: crate::sigv4::iso8601(session.expires),
            });
        }
        let identity = app.control.task_identity(task_arn).map_err(refused)?;
        encode(&secrets(app, &identity).map_err(|why| {
            ApiError::new(ErrorCode::ClientException, format!("{SECRETS_FAILED}{why}"))
        })?)
    })
}

/// The task's secrets, each read as its execution role; or why one cannot be.
fn secrets(app: &AppState, identity: &TaskIdentity) -> Result<TaskSecrets, String> {
    let mut out = TaskSecrets::default();
    if identity.secrets.is_empty()
        && identity.repository_credentials.is_empty()
        && identity.log_secrets.is_empty()
    {
        return Ok(out);
    }
    let role = identity.execution_role.as_deref().ok_or(
        "the task definition has no executionRoleArn: name a role that may read its secrets",
    )?;
    let role_name = role.rsplit('/').next().unwrap_or_default();
    let documents = app.control.role_policies(role_name);
    let partition = app.control.partition();
    let acting_as = format!(
        "arn:aws:sts::{}:assumed-role/{role_name}/{}",
        partition.account, identity.task_id
    );
    let read = |value_from: &str| -> Result<String, String> {
        let secret = SecretRef::parse(value_from, &partition.region, &partition.account)
            .map_err(|e| e.to_string())?;
        let ask = policy::Ask {
            action: secret.action().to_string(),
            resource: secret.resource().to_string(),
            ..policy::Ask::default()
        };
        if policy::evaluate(&documents, &ask) != policy::Decision::Allow {
            return Err(secret.access_denied(&acting_as).to_string());
        }
        app.control
            .resolve_secret(&secret)
            .map_err(|e| e.to_string())
    };
    for (container, variable, value_from) in &identity.secrets {
        let value = read(value_from)?;
        let env = out.environment.entry(container.clone()).or_default();
        env.insert(variable.clone(), value);
    }
    for (container, option, value_from) in &identity.log_secrets {
        let value = read(value_from)?;
        let options = out.log_options.entry(container.clone()).or_default();
        options.insert(option.clone(), value);
    }
    for (container, value_from) in &identity.repository_credentials {
        let value = read(value_from)?;
        let malformed = || {
            format!(
                "the secret {value_from} of repositoryCredentials is not {{\"username\": ..., \"password\": ...}} with both set: unable to unmarshal secret value, invalid schema"
            )
        };
        let json: serde_json::Value = serde_json::from_str(&value).map_err(|_| malformed())?;
        let field = |name: &str| {
            json[name]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (Some(username), Some(password)) = (field("username"), field("password")) else {
            return Err(malformed());
        };
        let credentials = RegistryCredentials { username, password };
        out.repository_credentials
            .insert(container.clone(), credentials);
    }
    Ok(out)
}
