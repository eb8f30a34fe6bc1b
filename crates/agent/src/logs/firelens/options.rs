//! The router's `firelensConfiguration.options` and an app's `awsfirelens` options, read as
//! ECS's agent reads them. What Berth cannot honour is refused with a reason naming it.

use berth_types::ecs::{ContainerDefinition, FirelensConfigurationType};

/// App options the agent consumes rather than passing to the router's output.
const INCLUDE_PATTERN: &str = "include-pattern";
const EXCLUDE_PATTERN: &str = "exclude-pattern";
const BUFFER_LIMIT: &str = "log-driver-buffer-limit";

/// The log router's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    /// Fluent Bit or Fluentd.
    pub kind: FirelensConfigurationType,
    /// `enable-ecs-log-metadata` (default true): the cluster, task ARN and task definition on
    /// every record.
    pub metadata: bool,
    /// `config-file-value` with `config-file-type` `file`: a path inside the router's image.
    pub include: Option<String>,
}

impl Router {
    /// The settings of the router `def` (which has a `firelensConfiguration`).
    pub fn of(def: &ContainerDefinition) -> Result<Self, String> {
        let name = def.name.as_deref().unwrap_or_default();
        let config = def.firelens_configuration.clone().unwrap_or_default();
        let options = config.options.unwrap_or_default();
        let metadata = match options.get("enable-ecs-log-metadata").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(format!(
                    "firelensConfiguration of container {name}: enable-ecs-log-metadata must be true or false, not {other:?}"
                ));
            }
        };
        let value = options.get("config-file-value").filter(|v| !v.is_empty());
        let include = match (options.get("config-file-type").map(String::as_str), value) {
            (None, None) => None,
            (Some("file"), Some(path)) => Some(path.clone()),
            (Some("s3"), _) => {
                return Err(format!(
                    "firelensConfiguration of container {name}: config-file-type s3 is not supported by Berth (it has no S3); use config-file-type file with a path inside the image"
                ));
            }
            (Some("file"), None) | (None, Some(_)) => {
                return Err(format!(
                    "firelensConfiguration of container {name}: config-file-type and config-file-value go together"
                ));
            }
            (Some(other), _) => {
                return Err(format!(
                    "firelensConfiguration of container {name}: config-file-type must be file or s3, not {other:?}"
                ));
            }
        };
        Ok(Self {
            kind: config.r#type,
            metadata,
            include,
        })
    }
}

/// One app's output on the router.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct App {
    /// The container's name: its records are tagged `<name>-firelens-<task id>`.
    pub container: String,
    /// The output plugin: the `Name` option (Fluent Bit) or `@type` (Fluentd).
    pub plugin: String,
    /// The output's other options, verbatim, sorted by name.
    pub options: Vec<(String, String)>,
    /// Only records whose `log` matches are kept.
    pub include_pattern: Option<String>,
    /// Records whose `log` matches are dropped.
    pub exclude_pattern: Option<String>,
    /// The engine driver's `fluentd-buffer-limit`.
    pub buffer_limit: Option<String>,
}

impl App {
    /// The output of app `def` (which logs with awsfirelens) on a router of `kind`.
    pub fn of(def: &ContainerDefinition, kind: FirelensConfigurationType) -> Result<Self, String> {
        let container = def.name.clone().unwrap_or_default();
        let mut options = def
            .log_configuration
            .as_ref()
            .and_then(|c| c.options.clone())
            .unwrap_or_default();
        let key = match kind {
            FirelensConfigurationType::Fluentd => "@type",
            _ => "Name",
        };
        let Some(plugin) = options.remove(key).filter(|p| !p.is_empty()) else {
            return Err(format!(
                "container {container} logs with awsfirelens but its options have no {key} (the output plugin)"
            ));
        };
        // A secret option's value is the router's variable `<option>_<container>`, which the
        // runner sets from the task's secrets: the configuration file only names it.
        let secret_options = def
            .log_configuration
            .as_ref()
            .and_then(|c| c.secret_options.as_ref());
        for secret in secret_options.into_iter().flatten() {
            let variable = format!("{}_{container}", secret.name);
            let reference = match kind {
                FirelensConfigurationType::Fluentd => format!("\"#{{ENV['{variable}']}}\""),
                _ => format!("${{{variable}}}"),
            };
            options.insert(secret.name.clone(), reference);
        }
        let include_pattern = options.remove(INCLUDE_PATTERN);
        let exclude_pattern = options.remove(EXCLUDE_PATTERN);
        let buffer_limit = options.remove(BUFFER_LIMIT);
        Ok(Self {
            container,
            plugin,
            options: options.into_iter().collect(),
            include_pattern,
            exclude_pattern,
            buffer_limit,
        })
    }
}
