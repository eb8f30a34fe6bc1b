//! Which Docker log driver a container runs with, and the logConfigurations Berth refuses.
//!
//! As ECS does, a driver other than awslogs goes to the engine with its options verbatim (a
//! driver the engine lacks fails the create, and that error stops the task). An awslogs
//! container runs on the engine's bounded `json-file` driver instead: Berth reads that output
//! back and ships it itself, and `docker logs` keeps working. An awsfirelens container runs on
//! the `fluentd` driver aimed at the task's router ([`super::firelens`]). `secretOptions` join
//! an engine driver's options, or the router's environment for awsfirelens
//! (`crate::task_secrets`); awslogs takes none, as Docker's driver.

use super::options;
use berth_types::ecs::{ContainerDefinition, LogDriver};
use bollard::models::HostConfigLogConfig;
use std::collections::HashMap;

/// Why the task cannot run with this container's logConfiguration, if it cannot.
pub fn check(def: &ContainerDefinition) -> Result<(), String> {
    let Some(config) = &def.log_configuration else {
        return Ok(());
    };
    // Docker's awslogs driver takes no secret option: it would refuse the first one.
    if config.log_driver == LogDriver::Awslogs
        && let Some(first) = config.secret_options.iter().flatten().next()
    {
        return Err(format!(
            "CannotCreateContainerError: Error response from daemon: unknown log opt '{}' for awslogs log driver (logConfiguration.secretOptions of container {})",
            first.name,
            def.name.as_deref().unwrap_or_default()
        ));
    }
    if config.log_driver == LogDriver::Awsfirelens {
        // Its options belong to the router's output: checked by `firelens::check`.
        return Ok(());
    }
    options::of(config)
        .map(|_| ())
        .map_err(|e| format!("CannotCreateContainerError: Error response from daemon: {e}"))
}

/// The engine's log configuration for the container; `None` leaves the engine's default.
pub fn engine_config(def: &ContainerDefinition) -> Option<HostConfigLogConfig> {
    let config = def.log_configuration.as_ref()?;
    let (driver, options): (&str, HashMap<String, String>) = match config.log_driver {
        // Bounded, so a chatty container cannot fill the disk while it waits to be shipped.
        LogDriver::Awslogs => (
            "json-file",
            HashMap::from([
                ("max-size".to_string(), "10m".to_string()),
                ("max-file".to_string(), "5".to_string()),
            ]),
        ),
        // The `fluentd` driver aimed at the router: `firelens::engine::app_body`.
        LogDriver::Awsfirelens => return None,
        other => (
            other.as_str(),
            config
                .options
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
    };
    Some(HostConfigLogConfig {
        typ: Some(driver.to_string()),
        config: Some(options),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{LogConfiguration, Secret};
    use std::collections::BTreeMap;

    fn with_logs(driver: LogDriver, options: &[(&str, &str)]) -> ContainerDefinition {
        let options: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ContainerDefinition {
            name: Some("web".into()),
            log_configuration: Some(LogConfiguration {
                log_driver: driver,
                options: Some(options),
                secret_options: None,
            }),
            ..ContainerDefinition::default()
        }
    }

    #[test]
    fn awslogs_runs_on_a_bounded_json_file() {
        let def = with_logs(LogDriver::Awslogs, &[("awslogs-group", "g")]);
        assert_eq!(check(&def), Ok(()));
        let config = engine_config(&def).expect("a config");
        assert_eq!(config.typ.as_deref(), Some("json-file"));
        let options = config.config.expect("options");
        assert_eq!(
            (options["max-size"].as_str(), options["max-file"].as_str()),
            ("10m", "5")
        );
    }

    #[test]
    fn other_drivers_pass_verbatim() {
        let def = with_logs(
            LogDriver::Syslog,
            &[("syslog-address", "udp://1.2.3.4:514")],
        );
        assert_eq!(check(&def), Ok(()));
        let config = engine_config(&def).expect("a config");
        assert_eq!(config.typ.as_deref(), Some("syslog"));
        assert_eq!(
            config.config.expect("options")["syslog-address"],
            "udp://1.2.3.4:514"
        );
        assert_eq!(engine_config(&ContainerDefinition::default()), None);
    }

    #[test]
    fn what_berth_cannot_do_is_refused_by_name() {
        // FireLens options are the router output's: `firelens::check` judges them.
        assert_eq!(check(&with_logs(LogDriver::Awsfirelens, &[])), Ok(()));
        let with_secret = |driver| {
            let mut def = with_logs(driver, &[("awslogs-group", "g")]);
            if let Some(c) = def.log_configuration.as_mut() {
                c.secret_options = Some(vec![Secret {
                    name: "splunk-token".into(),
                    value_from: "arn:aws:ssm:r:1:parameter/t".into(),
                }]);
            }
            def
        };
        // An engine driver gets its secret options (the runner adds them); awslogs takes none.
        assert_eq!(check(&with_secret(LogDriver::Splunk)), Ok(()));
        assert!(
            check(&with_secret(LogDriver::Awslogs))
                .err()
                .is_some_and(|e| e.contains("unknown log opt 'splunk-token'"))
        );
        let unknown = with_logs(
            LogDriver::Awslogs,
            &[("awslogs-group", "g"), ("colour", "red")],
        );
        assert!(
            check(&unknown)
                .err()
                .is_some_and(|e| e.ends_with("unknown log opt 'colour' for awslogs log driver"))
        );
    }
}
