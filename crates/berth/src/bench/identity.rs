//! The task definition `berth bench run-task` times beside the plain one: the same sleeper with
//! a task role, an execution role and ten secrets (SSM parameters, half of them SecureString),
//! set up through the control plane of the in-process server.

use super::LocalBerth;
use berth_control::roles::NewRole;
use berth_types::ecs::{
    ContainerDefinition, RegisterTaskDefinitionRequest, RegisterTaskDefinitionResponse, Secret,
};
use berth_types::ssm::{ParameterType, PutParameterRequest};

/// How many secrets the task has.
pub(super) const SECRETS: usize = 10;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const READ_SECRETS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameters","secretsmanager:GetSecretValue"],"Resource":"*"}]}"#;

/// Registers `family`: `image` sleeping, with a task role, an execution role and
/// [`SECRETS`] secrets. Returns its ARN.
pub(super) async fn register(
    local: &LocalBerth,
    family: &str,
    image: &str,
) -> anyhow::Result<String> {
    let control = &local.local.server.control;
    let mut roles = vec![];
    for (name, policy) in [("bench-app", None), ("bench-execution", Some(READ_SECRETS))] {
        let role = control.create_role(NewRole {
            name,
            path: None,
            trust: TRUST,
            description: None,
            max_session: None,
        })?;
        if let Some(policy) = policy {
            control.put_role_policy(name, "secrets", policy)?;
        }
        roles.push(role.arn);
    }
    let mut secrets = vec![];
    for i in 0..SECRETS {
        let name = format!("/bench/secret-{i}");
        let put = PutParameterRequest {
            name: name.clone(),
            value: format!("value-{i}"),
            r#type: Some(if i % 2 == 0 {
                ParameterType::SecureString
            } else {
                ParameterType::String
            }),
            ..PutParameterRequest::default()
        };
        control.put_parameter(put, "bench")?;
        secrets.push(Secret {
            name: format!("SECRET_{i}"),
            value_from: name,
        });
    }
    let sleeper = ContainerDefinition {
        name: Some("sleep".into()),
        image: Some(image.into()),
        command: Some(vec!["sleep".into(), "600".into()]),
        memory: Some(16),
        stop_timeout: Some(1),
        secrets: Some(secrets),
        ..ContainerDefinition::default()
    };
    let request = RegisterTaskDefinitionRequest {
        family: family.into(),
        container_definitions: vec![sleeper],
        task_role_arn: Some(roles[0].clone()),
        execution_role_arn: Some(roles[1].clone()),
        ..RegisterTaskDefinitionRequest::default()
    };
    let registered: RegisterTaskDefinitionResponse =
        local.ecs.call("RegisterTaskDefinition", &request).await?;
    registered
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .ok_or_else(|| anyhow::anyhow!("no task definition ARN"))
}
