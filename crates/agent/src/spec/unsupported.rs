//! The task definition fields this agent cannot apply as ECS does, because they need a service
//! Berth does not have (App Mesh, Elastic Inference, Windows gMSA, AWS FIS) or a feature the agent
//! lacks yet. ECS would apply them, so running the task without them would be a silent drop:
//! [`check`] refuses the task instead, before anything is pulled, with a reason that names the
//! field (see `docs/task-definition-fields.md` for every field and how it is handled).

use berth_types::ecs::{
    ContainerDefinition, OSFamily, ResourceType, TaskDefinition, VersionConsistency,
};

/// Why the task cannot run here, naming the first field this agent cannot apply.
pub(crate) fn check(td: &TaskDefinition) -> Result<(), String> {
    let accelerators = td.inference_accelerators.as_ref();
    let task_level = [
        (
            "proxyConfiguration (App Mesh)",
            td.proxy_configuration.is_some(),
        ),
        (
            "inferenceAccelerators (Elastic Inference)",
            accelerators.is_some_and(|a| !a.is_empty()),
        ),
        (
            "enableFaultInjection (AWS Fault Injection Service)",
            td.enable_fault_injection == Some(true),
        ),
    ];
    if let Some((field, _)) = task_level.iter().find(|(_, set)| *set) {
        return Err(format!(
            "{field} is not supported by this Berth agent: remove it from the task definition"
        ));
    }
    runtime_platform(td)?;
    for def in td.container_definitions.iter().flatten() {
        container(def)?;
    }
    Ok(())
}

/// A task for another operating system or CPU architecture cannot run on this host (ECS places
/// it only on a matching instance).
fn runtime_platform(td: &TaskDefinition) -> Result<(), String> {
    let Some(platform) = &td.runtime_platform else {
        return Ok(());
    };
    if let Some(os) = platform.operating_system_family
        && os != OSFamily::Linux
    {
        return Err(format!(
            "runtimePlatform.operatingSystemFamily is {os}, but this Berth agent runs LINUX containers"
        ));
    }
    let host = crate::host::cpu_architecture();
    if let Some(arch) = platform.cpu_architecture
        && !arch.as_str().eq_ignore_ascii_case(host)
    {
        return Err(format!(
            "runtimePlatform.cpuArchitecture is {arch}, but this host is {host}"
        ));
    }
    Ok(())
}

/// The container fields this agent cannot apply.
fn container(def: &ContainerDefinition) -> Result<(), String> {
    let requirements = def.resource_requirements.as_deref().unwrap_or_default();
    let wants = |kind: ResourceType| requirements.iter().any(|r| r.r#type == kind);
    let refused = [
        (
            "credentialSpecs (Windows gMSA)",
            def.credential_specs.as_ref().is_some_and(|c| !c.is_empty()),
        ),
        // The agent has no way to hand a GPU to a container; Berth agents register none, so
        // the scheduler places no GPU task on them, and this catches the rest.
        ("resourceRequirements of type GPU", wants(ResourceType::Gpu)),
        (
            "resourceRequirements of type InferenceAccelerator (Elastic Inference)",
            wants(ResourceType::InferenceAccelerator),
        ),
        (
            "restartPolicy (restarting a container in place)",
            def.restart_policy.as_ref().is_some_and(|p| p.enabled),
        ),
        (
            "portMappings.containerPortRange",
            def.port_mappings
                .iter()
                .flatten()
                .any(|p| p.container_port_range.is_some()),
        ),
        // Berth pulls the tag for every task, as `disabled` does; pinning a digest for all the
        // tasks of a deployment is not there yet.
        (
            "versionConsistency enabled (pinning the image digest)",
            def.version_consistency == Some(VersionConsistency::Enabled),
        ),
    ];
    match refused.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(format!(
            "{field} (container {}) is not supported by this Berth agent yet: remove it from the task definition",
            def.name.as_deref().unwrap_or_default()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{
        CPUArchitecture, ContainerRestartPolicy, InferenceAccelerator, PortMapping,
        ProxyConfiguration, ResourceRequirement, RuntimePlatform,
    };

    fn with(def: ContainerDefinition) -> TaskDefinition {
        TaskDefinition {
            container_definitions: Some(vec![def]),
            ..TaskDefinition::default()
        }
    }

    fn web() -> ContainerDefinition {
        ContainerDefinition {
            name: Some("web".into()),
            ..ContainerDefinition::default()
        }
    }

    fn refused(td: &TaskDefinition) -> String {
        check(td).expect_err("refused")
    }

    #[test]
    fn a_plain_task_runs() {
        let mut def = web();
        def.restart_policy = Some(ContainerRestartPolicy {
            enabled: false,
            ..ContainerRestartPolicy::default()
        });
        def.version_consistency = Some(VersionConsistency::Disabled);
        let mut td = with(def);
        td.runtime_platform = Some(RuntimePlatform {
            operating_system_family: Some(OSFamily::Linux),
            cpu_architecture: None,
        });
        td.enable_fault_injection = Some(false);
        assert_eq!(check(&td), Ok(()));
    }

    #[test]
    fn task_fields_without_a_service_are_refused_by_name() {
        let mut td = with(web());
        td.proxy_configuration = Some(ProxyConfiguration {
            container_name: "envoy".into(),
            ..ProxyConfiguration::default()
        });
        assert!(refused(&td).starts_with("proxyConfiguration (App Mesh)"));

        let mut td = with(web());
        td.inference_accelerators = Some(vec![InferenceAccelerator {
            device_name: "a".into(),
            device_type: "eia2.medium".into(),
        }]);
        assert!(refused(&td).starts_with("inferenceAccelerators"));

        let mut td = with(web());
        td.enable_fault_injection = Some(true);
        assert!(refused(&td).starts_with("enableFaultInjection"));
    }

    #[test]
    fn another_platform_is_refused() {
        let mut td = with(web());
        td.runtime_platform = Some(RuntimePlatform {
            operating_system_family: Some(OSFamily::WindowsServer2022Core),
            cpu_architecture: None,
        });
        assert!(refused(&td).starts_with("runtimePlatform.operatingSystemFamily"));
        let other = if crate::host::cpu_architecture() == "arm64" {
            CPUArchitecture::X8664
        } else {
            CPUArchitecture::Arm64
        };
        td.runtime_platform = Some(RuntimePlatform {
            operating_system_family: None,
            cpu_architecture: Some(other),
        });
        assert!(refused(&td).starts_with("runtimePlatform.cpuArchitecture"));
    }

    /// Sets one field of a container.
    type Setter = fn(&mut ContainerDefinition);

    #[test]
    fn container_fields_are_refused_by_name() {
        let cases: [(&str, Setter); 5] = [
            ("credentialSpecs", |d| {
                d.credential_specs = Some(vec!["credentialspec:arn".into()]);
            }),
            ("resourceRequirements of type GPU", |d| {
                d.resource_requirements = Some(vec![ResourceRequirement {
                    value: "1".into(),
                    r#type: ResourceType::Gpu,
                }]);
            }),
            ("restartPolicy", |d| {
                d.restart_policy = Some(ContainerRestartPolicy {
                    enabled: true,
                    ..ContainerRestartPolicy::default()
                });
            }),
            ("portMappings.containerPortRange", |d| {
                d.port_mappings = Some(vec![PortMapping {
                    container_port_range: Some("8000-8010".into()),
                    ..PortMapping::default()
                }]);
            }),
            ("versionConsistency enabled", |d| {
                d.version_consistency = Some(VersionConsistency::Enabled);
            }),
        ];
        for (field, set) in cases {
            let mut def = web();
            set(&mut def);
            let reason = refused(&with(def));
            assert!(
                reason.starts_with(field) && reason.contains("(container web)"),
                "{field}: {reason}"
            );
        }
    }
}
