//! What a call that defines or starts tasks asks for, as policies can see it: the task
//! definition it carries (RegisterTaskDefinition) or names (RunTask, StartTask, CreateService,
//! UpdateService), and Berth's condition keys on the host access it wants, so a policy can deny
//! them per user:
//!
//! - `berth:Privileged`: `true` when a container is privileged;
//! - `berth:NetworkMode`: the task's network mode (`bridge` when it names none);
//! - `berth:HostPathVolumes`: `true` when a volume mounts a host path;
//! - `berth:AddedCapabilities`: `true` when a container adds Linux capabilities.
//!
//! For example `{"Effect":"Deny","Action":["ecs:RegisterTaskDefinition","ecs:RunTask"],
//! "Resource":"*","Condition":{"Bool":{"berth:Privileged":"true"}}}`.
//!
//! A call that hands roles to tasks (the definition's `taskRoleArn` and `executionRoleArn`, or
//! RunTask's and StartTask's overrides of them) also asks `iam:PassRole` on each role, with
//! `iam:PassedToService` `ecs-tasks.amazonaws.com`, as ECS does ([`pass_role_asks`]).

use crate::AppState;
use crate::policy::Ask;
use berth_types::ecs::{ContainerDefinition, NetworkMode, Request, Volume};
use std::collections::BTreeMap;

/// The parts of a task definition that say what it wants of its host.
#[derive(Debug, Clone, Default)]
pub(crate) struct Definition {
    /// Its containers.
    pub containers: Vec<ContainerDefinition>,
    /// Its volumes.
    pub volumes: Vec<Volume>,
    /// Its network mode, when it names one.
    pub network_mode: Option<NetworkMode>,
    /// The roles its tasks are given: the task role and the execution role, as overridden.
    pub roles: Vec<String>,
}

/// The task and execution roles of a definition, with a start call's overrides of them.
fn roles(
    defined: [Option<&String>; 2],
    overrides: Option<&berth_types::ecs::TaskOverride>,
) -> Vec<String> {
    let overridden = overrides.map_or([None, None], |o| {
        [o.task_role_arn.as_ref(), o.execution_role_arn.as_ref()]
    });
    let mut roles: Vec<String> = overridden
        .into_iter()
        .zip(defined)
        .filter_map(|(o, d)| o.or(d).filter(|r| !r.is_empty()).cloned())
        .collect();
    roles.dedup();
    roles
}

/// The task definition a request defines or starts; None for other requests, or when the one
/// it names does not exist (the call itself then says so).
pub(crate) fn definition(app: &AppState, request: &Request) -> Option<Definition> {
    let (named, overrides) = match request {
        Request::RegisterTaskDefinition(r) => {
            return Some(Definition {
                containers: r.container_definitions.clone(),
                volumes: r.volumes.clone().unwrap_or_default(),
                network_mode: r.network_mode,
                roles: roles(
                    [r.task_role_arn.as_ref(), r.execution_role_arn.as_ref()],
                    None,
                ),
            });
        }
        Request::RunTask(r) => (r.task_definition.as_str(), r.overrides.as_ref()),
        Request::StartTask(r) => (r.task_definition.as_str(), r.overrides.as_ref()),
        Request::CreateService(r) => (r.task_definition.as_deref()?, None),
        Request::UpdateService(r) => (r.task_definition.as_deref()?, None),
        _ => return None,
    };
    let state = app.control.read();
    let td = berth_control::task_definitions::resolve(&state, named).ok()?;
    Some(Definition {
        containers: td.container_definitions.clone().unwrap_or_default(),
        volumes: td.volumes.clone().unwrap_or_default(),
        network_mode: td.network_mode,
        roles: roles(
            [td.task_role_arn.as_ref(), td.execution_role_arn.as_ref()],
            overrides,
        ),
    })
}

impl Definition {
    /// The images of its containers.
    pub(crate) fn images(&self) -> impl Iterator<Item = &str> {
        self.containers.iter().filter_map(|c| c.image.as_deref())
    }
}

/// Berth's condition keys of a task definition (lower case, as policies are matched).
pub(crate) fn condition_keys(definition: &Definition) -> BTreeMap<String, String> {
    let containers = &definition.containers;
    let privileged = containers.iter().any(|c| c.privileged == Some(true));
    let capabilities = containers.iter().any(|c| {
        c.linux_parameters
            .as_ref()
            .and_then(|l| l.capabilities.as_ref())
            .and_then(|k| k.add.as_ref())
            .is_some_and(|add| !add.is_empty())
    });
    let host_paths = definition.volumes.iter().any(|v| {
        v.host
            .as_ref()
            .and_then(|h| h.source_path.as_deref())
            .is_some_and(|p| !p.is_empty())
    });
    let network = definition.network_mode.unwrap_or_default();
    BTreeMap::from([
        ("berth:privileged".to_string(), privileged.to_string()),
        (
            "berth:networkmode".to_string(),
            network.as_str().to_string(),
        ),
        ("berth:hostpathvolumes".to_string(), host_paths.to_string()),
        (
            "berth:addedcapabilities".to_string(),
            capabilities.to_string(),
        ),
    ])
}

/// `iam:PassRole` on each role a definition hands its tasks, passed to ECS tasks.
pub(crate) fn pass_role_asks(definition: &Definition) -> Vec<Ask> {
    definition
        .roles
        .iter()
        .map(|role| Ask {
            action: "iam:PassRole".into(),
            resource: role.clone(),
            keys: BTreeMap::from([(
                "iam:passedtoservice".to_string(),
                berth_control::roles::trust::ECS_TASKS.to_string(),
            )]),
            ..Ask::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Definition, condition_keys, roles};
    use berth_types::ecs::{ContainerDefinition, NetworkMode, Volume};

    fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("valid")
    }

    #[test]
    fn keys_say_what_host_access_a_definition_wants() {
        let plain = condition_keys(&Definition {
            containers: vec![parse(serde_json::json!({"name": "a"}))],
            ..Definition::default()
        });
        assert_eq!(plain["berth:privileged"], "false");
        assert_eq!(plain["berth:networkmode"], "bridge");
        let wide = condition_keys(&Definition {
            containers: vec![
                parse::<ContainerDefinition>(serde_json::json!({"name": "a"})),
                parse(serde_json::json!({"name": "b", "privileged": true,
                    "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"]}}})),
            ],
            volumes: vec![parse::<Volume>(
                serde_json::json!({"name": "v", "host": {"sourcePath": "/etc"}}),
            )],
            network_mode: Some(NetworkMode::Host),
            roles: vec![],
        });
        assert_eq!(wide["berth:privileged"], "true");
        assert_eq!(wide["berth:networkmode"], "host");
        assert_eq!(wide["berth:hostpathvolumes"], "true");
        assert_eq!(wide["berth:addedcapabilities"], "true");
    }

    #[test]
    fn overrides_replace_the_roles_a_definition_passes() {
        let (task, exec) = ("arn:task".to_string(), "arn:exec".to_string());
        assert_eq!(
            roles([Some(&task), Some(&exec)], None),
            vec![task.clone(), exec.clone()]
        );
        let other: berth_types::ecs::TaskOverride =
            parse(serde_json::json!({"taskRoleArn": "arn:other"}));
        assert_eq!(
            roles([Some(&task), None], Some(&other)),
            vec!["arn:other".to_string()]
        );
        assert_eq!(roles([Some(&task), Some(&task)], None), vec![task]);
    }
}
