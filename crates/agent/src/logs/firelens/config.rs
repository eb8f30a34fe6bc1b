//! The log router's generated configuration, in the order ECS's agent writes it: the inputs
//! (the unix socket, the forward port, Fluent Bit's health-check input), the apps' grep
//! filters, the ECS metadata on every record, the user's `@INCLUDE`, then one output per app
//! matching its tag. A pure function of the task, so it is tested on golden strings.
//!
//! A CloudWatch output is pointed at Berth's Logs API (the agent's own endpoint) unless it
//! names an endpoint itself: Berth is the task's AWS.

use super::options::{App, Router};
use berth_types::ecs::FirelensConfigurationType;
use std::fmt::Write;

/// The forward input's port, in the router; apps are given it as `FLUENT_PORT`.
pub const FORWARD_PORT: u16 = 24224;

/// What every record is tagged with when the router adds ECS's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// The cluster's name.
    pub cluster: String,
    /// The task's ARN.
    pub task_arn: String,
    /// `<family>:<revision>`.
    pub task_definition: String,
}

/// Berth's API as a router's CloudWatch output addresses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Whether it speaks https.
    pub tls: bool,
}

impl Endpoint {
    /// The agent's endpoint URL, e.g. `http://127.0.0.1:9714`; `None` when it is not one.
    pub fn parse(url: &str) -> Option<Self> {
        let url = reqwest::Url::parse(url).ok()?;
        Some(Self {
            host: url.host_str()?.to_string(),
            port: url.port_or_known_default()?,
            tls: url.scheme() == "https",
        })
    }

    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// Whether the output plugin is one of the CloudWatch Logs ones.
fn is_cloudwatch(plugin: &str) -> bool {
    matches!(plugin, "cloudwatch" | "cloudwatch_logs")
}

fn has_option(app: &App, key: &str) -> bool {
    app.options.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// The router's configuration file.
pub fn generate(router: &Router, apps: &[App], meta: &Meta, endpoint: Option<&Endpoint>) -> String {
    match router.kind {
        FirelensConfigurationType::Fluentd => fluentd(router, apps, meta, endpoint),
        _ => fluent_bit(router, apps, meta, endpoint),
    }
}

fn section(out: &mut String, header: &str, lines: &[(&str, &str)]) {
    let _ = writeln!(out, "[{header}]");
    for (k, v) in lines {
        let _ = writeln!(out, "    {k} {v}");
    }
    out.push('\n');
}

fn fluent_bit(router: &Router, apps: &[App], meta: &Meta, endpoint: Option<&Endpoint>) -> String {
    let mut out = String::new();
    let port = FORWARD_PORT.to_string();
    section(
        &mut out,
        "INPUT",
        &[
            ("Name", "forward"),
            ("unix_path", "/var/run/fluent.sock"),
            ("Mem_Buf_Limit", "25MB"),
        ],
    );
    section(
        &mut out,
        "INPUT",
        &[("Name", "forward"), ("Listen", "0.0.0.0"), ("Port", &port)],
    );
    section(
        &mut out,
        "INPUT",
        &[
            ("Name", "tcp"),
            ("Tag", "firelens-healthcheck"),
            ("Listen", "127.0.0.1"),
            ("Port", "8877"),
        ],
    );
    section(
        &mut out,
        "OUTPUT",
        &[("Name", "null"), ("Match", "firelens-healthcheck")],
    );
    for app in apps {
        let tag = format!("{}-firelens*", app.container);
        if let Some(p) = &app.include_pattern {
            let regex = format!("log {p}");
            section(
                &mut out,
                "FILTER",
                &[("Name", "grep"), ("Match", &tag), ("Regex", &regex)],
            );
        }
        if let Some(p) = &app.exclude_pattern {
            let regex = format!("log {p}");
            section(
                &mut out,
                "FILTER",
                &[("Name", "grep"), ("Match", &tag), ("Exclude", &regex)],
            );
        }
    }
    if router.metadata {
        let cluster = format!("ecs_cluster {}", meta.cluster);
        let arn = format!("ecs_task_arn {}", meta.task_arn);
        let td = format!("ecs_task_definition {}", meta.task_definition);
        section(
            &mut out,
            "FILTER",
            &[
                ("Name", "record_modifier"),
                ("Match", "*"),
                ("Record", &cluster),
                ("Record", &arn),
                ("Record", &td),
            ],
        );
    }
    if let Some(path) = &router.include {
        let _ = writeln!(out, "@INCLUDE {path}\n");
    }
    for app in apps {
        let tag = format!("{}-firelens*", app.container);
        let mut lines: Vec<(&str, &str)> = vec![("Name", &app.plugin), ("Match", &tag)];
        lines.extend(app.options.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let port;
        if let Some(e) =
            endpoint.filter(|_| is_cloudwatch(&app.plugin) && !has_option(app, "endpoint"))
        {
            port = e.port.to_string();
            lines.push(("endpoint", &e.host));
            lines.push(("port", &port));
            if !e.tls {
                lines.push(("tls", "Off"));
            }
        }
        section(&mut out, "OUTPUT", &lines);
    }
    out
}

fn block(out: &mut String, open: &str, close: &str, lines: &[(&str, &str)]) {
    let _ = writeln!(out, "<{open}>");
    for (k, v) in lines {
        let _ = writeln!(out, "    {k} {v}");
    }
    let _ = writeln!(out, "</{close}>\n");
}

fn grep(out: &mut String, tag: &str, kind: &str, pattern: &str) {
    let _ = writeln!(out, "<filter {tag}>\n    @type grep\n    <{kind}>");
    let _ = writeln!(out, "        key log\n        pattern {pattern}");
    let _ = writeln!(out, "    </{kind}>\n</filter>\n");
}

fn fluentd(router: &Router, apps: &[App], meta: &Meta, endpoint: Option<&Endpoint>) -> String {
    let mut out = String::new();
    let port = FORWARD_PORT.to_string();
    block(
        &mut out,
        "source",
        "source",
        &[("@type", "unix"), ("path", "/var/run/fluent.sock")],
    );
    block(
        &mut out,
        "source",
        "source",
        &[("@type", "forward"), ("bind", "0.0.0.0"), ("port", &port)],
    );
    for app in apps {
        let tag = format!("{}-firelens**", app.container);
        if let Some(p) = &app.include_pattern {
            grep(&mut out, &tag, "regexp", p);
        }
        if let Some(p) = &app.exclude_pattern {
            grep(&mut out, &tag, "exclude", p);
        }
    }
    if router.metadata {
        let _ = writeln!(
            out,
            "<filter **>\n    @type record_transformer\n    <record>"
        );
        let _ = writeln!(out, "        ecs_cluster {}", meta.cluster);
        let _ = writeln!(out, "        ecs_task_arn {}", meta.task_arn);
        let _ = writeln!(out, "        ecs_task_definition {}", meta.task_definition);
        let _ = writeln!(out, "    </record>\n</filter>\n");
    }
    if let Some(path) = &router.include {
        let _ = writeln!(out, "@include {path}\n");
    }
    for app in apps {
        let open = format!("match {}-firelens**", app.container);
        let mut lines: Vec<(&str, &str)> = vec![("@type", &app.plugin)];
        lines.extend(app.options.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let url;
        if let Some(e) =
            endpoint.filter(|_| is_cloudwatch(&app.plugin) && !has_option(app, "endpoint"))
        {
            url = e.url();
            lines.push(("endpoint", &url));
        }
        block(&mut out, &open, "match", &lines);
    }
    out
}
