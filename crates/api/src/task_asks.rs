//! What a call that defines or starts tasks asks for, as policies can see it: the task
//! definition it names (RunTask, StartTask, CreateService, UpdateService) or carries
//! (RegisterTaskDefinition), and Berth's condition keys on the host access it wants, so a
//! policy can deny them per user:
//!
//! - `berth:Privileged`: `true` when a container is privileged;
//! - `berth:NetworkMode`: the task's network mode (`bridge` when it names none);
//! - `berth:HostPathVolumes`: `true` when a volume mounts a host path;
//! - `berth:AddedCapabilities`: `true` when a container adds Linux capabilities.
//!
//! For example `{"Effect":"Deny","Action":["ecs:RegisterTaskDefinition","ecs:RunTask"],
//! "Resource":"*","Condition":{"Bool":{"berth:Privileged":"true"}}}`.

use crate::AppState;
use serde_json::Value;
use std::collections::BTreeMap;

/// The task definition a call defines or starts, as JSON; None for other calls.
pub fn definition(app: &AppState, operation: &str, body: &[u8]) -> Option<Value> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match operation {
        "RegisterTaskDefinition" => Some(v),
        "RunTask" | "StartTask" | "CreateService" | "UpdateService" => {
            let reference = v["taskDefinition"].as_str()?;
            let state = app.control.read();
            let td = berth_control::task_definitions::resolve(&state, reference).ok()?;
            serde_json::to_value(td).ok()
        }
        _ => None,
    }
}

/// The images of a task definition's containers.
pub fn images(definition: &Value) -> Vec<String> {
    containers(definition)
        .filter_map(|c| c["image"].as_str().map(str::to_string))
        .collect()
}

fn containers(definition: &Value) -> impl Iterator<Item = &Value> {
    definition["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
}

/// Berth's condition keys of a task definition (lower case, as policies are matched).
pub fn condition_keys(definition: &Value) -> BTreeMap<String, String> {
    let any = |wants: &dyn Fn(&Value) -> bool| containers(definition).any(wants).to_string();
    let privileged = any(&|c| c["privileged"].as_bool() == Some(true));
    let capabilities = any(&|c| {
        c["linuxParameters"]["capabilities"]["add"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    let host_paths = definition["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| {
            v["host"]["sourcePath"]
                .as_str()
                .is_some_and(|p| !p.is_empty())
        });
    let network = definition["networkMode"].as_str().unwrap_or("bridge");
    BTreeMap::from([
        ("berth:privileged".to_string(), privileged),
        ("berth:networkmode".to_string(), network.to_string()),
        ("berth:hostpathvolumes".to_string(), host_paths.to_string()),
        ("berth:addedcapabilities".to_string(), capabilities),
    ])
}

#[cfg(test)]
mod tests {
    use super::condition_keys;
    use serde_json::json;

    #[test]
    fn keys_say_what_host_access_a_definition_wants() {
        let plain = condition_keys(&json!({"containerDefinitions": [{"name": "a"}]}));
        assert_eq!(plain["berth:privileged"], "false");
        assert_eq!(plain["berth:networkmode"], "bridge");
        let wide = condition_keys(&json!({
            "networkMode": "host",
            "containerDefinitions": [
                {"name": "a"},
                {"name": "b", "privileged": true,
                 "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"]}}}
            ],
            "volumes": [{"name": "v", "host": {"sourcePath": "/etc"}}]
        }));
        assert_eq!(wide["berth:privileged"], "true");
        assert_eq!(wide["berth:networkmode"], "host");
        assert_eq!(wide["berth:hostpathvolumes"], "true");
        assert_eq!(wide["berth:addedcapabilities"], "true");
    }
}
