//! FireLens without Docker: the generated configurations (golden strings), the refusals, the
//! implicit dependency and the create-body changes.

use super::config::{Endpoint, Meta, generate};
use super::options::{App, Router};
use super::*;
use berth_types::ecs::{
    ContainerCondition, ContainerDependency, FirelensConfiguration, FirelensConfigurationType,
    LogConfiguration, NetworkBinding,
};
use bollard::models::{ContainerCreateBody, HostConfig};
use std::collections::BTreeMap;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/c1/abc123";

fn map(options: &[(&str, &str)]) -> BTreeMap<String, String> {
    options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn router_def(kind: FirelensConfigurationType, options: &[(&str, &str)]) -> ContainerDefinition {
    ContainerDefinition {
        name: Some("log_router".into()),
        firelens_configuration: Some(FirelensConfiguration {
            r#type: kind,
            options: (!options.is_empty()).then(|| map(options)),
        }),
        ..ContainerDefinition::default()
    }
}

fn app_def(name: &str, options: &[(&str, &str)]) -> ContainerDefinition {
    ContainerDefinition {
        name: Some(name.into()),
        log_configuration: Some(LogConfiguration {
            log_driver: LogDriver::Awsfirelens,
            options: Some(map(options)),
            secret_options: None,
        }),
        ..ContainerDefinition::default()
    }
}

fn meta() -> Meta {
    Meta {
        cluster: "c1".into(),
        task_arn: ARN.into(),
        task_definition: "web:3".into(),
    }
}

fn td(defs: Vec<ContainerDefinition>) -> TaskDefinition {
    TaskDefinition {
        container_definitions: Some(defs),
        ..TaskDefinition::default()
    }
}

#[test]
fn fluent_bit_config_in_ecs_order() {
    let router = Router::of(&router_def(
        FirelensConfigurationType::Fluentbit,
        &[
            ("config-file-type", "file"),
            ("config-file-value", "/extra.conf"),
        ],
    ))
    .expect("router");
    let app = App::of(
        &app_def(
            "app",
            &[
                ("Name", "cloudwatch_logs"),
                ("region", "us-east-1"),
                ("log_group_name", "x"),
                ("log_stream_prefix", "y"),
                ("include-pattern", "^keep"),
                ("exclude-pattern", "noise"),
                ("log-driver-buffer-limit", "2048"),
            ],
        ),
        router.kind,
    )
    .expect("app");
    assert_eq!(app.buffer_limit.as_deref(), Some("2048"));
    let endpoint = Endpoint::parse("http://127.0.0.1:9714");
    let conf = generate(&router, &[app], &meta(), endpoint.as_ref());
    assert_eq!(
        conf,
        "[INPUT]
    Name forward
    unix_path /var/run/fluent.sock
    Mem_Buf_Limit 25MB

[INPUT]
    Name forward
    Listen 0.0.0.0
    Port 24224

[INPUT]
    Name tcp
    Tag firelens-healthcheck
    Listen 127.0.0.1
    Port 8877

[OUTPUT]
    Name null
    Match firelens-healthcheck

[FILTER]
    Name grep
    Match app-firelens*
    Regex log ^keep

[FILTER]
    Name grep
    Match app-firelens*
    Exclude log noise

[FILTER]
    Name record_modifier
    Match *
    Record ecs_cluster c1
    Record ecs_task_arn arn:aws:ecs:us-east-1:000000000000:task/c1/abc123
    Record ecs_task_definition web:3

@INCLUDE /extra.conf

[OUTPUT]
    Name cloudwatch_logs
    Match app-firelens*
    log_group_name x
    log_stream_prefix y
    region us-east-1
    endpoint 127.0.0.1
    port 9714
    tls Off

"
    );
}

#[test]
fn fluent_bit_without_metadata_and_other_outputs_verbatim() {
    let router = Router::of(&router_def(
        FirelensConfigurationType::Fluentbit,
        &[("enable-ecs-log-metadata", "false")],
    ))
    .expect("router");
    let apps = [
        App::of(
            &app_def("a", &[("Name", "stdout"), ("Format", "json")]),
            router.kind,
        )
        .expect("a"),
        App::of(
            &app_def("b", &[("Name", "cloudwatch"), ("endpoint", "logs.example")]),
            router.kind,
        )
        .expect("b"),
    ];
    let endpoint = Endpoint::parse("https://berth.example");
    let conf = generate(&router, &apps, &meta(), endpoint.as_ref());
    assert!(!conf.contains("record_modifier"));
    assert!(conf.ends_with(
        "[OUTPUT]
    Name stdout
    Match a-firelens*
    Format json

[OUTPUT]
    Name cloudwatch
    Match b-firelens*
    endpoint logs.example

"
    ));
}

#[test]
fn fluentd_config() {
    let router = Router::of(&router_def(FirelensConfigurationType::Fluentd, &[])).expect("router");
    let app = App::of(
        &app_def(
            "app",
            &[
                ("@type", "cloudwatch_logs"),
                ("log_group_name", "x"),
                ("exclude-pattern", "noise"),
            ],
        ),
        router.kind,
    )
    .expect("app");
    let endpoint = Endpoint::parse("http://127.0.0.1:9714");
    let conf = generate(&router, &[app], &meta(), endpoint.as_ref());
    assert_eq!(
        conf,
        "<source>
    @type unix
    path /var/run/fluent.sock
</source>

<source>
    @type forward
    bind 0.0.0.0
    port 24224
</source>

<filter app-firelens**>
    @type grep
    <exclude>
        key log
        pattern noise
    </exclude>
</filter>

<filter **>
    @type record_transformer
    <record>
        ecs_cluster c1
        ecs_task_arn arn:aws:ecs:us-east-1:000000000000:task/c1/abc123
        ecs_task_definition web:3
    </record>
</filter>

<match app-firelens**>
    @type cloudwatch_logs
    log_group_name x
    endpoint http://127.0.0.1:9714
</match>

"
    );
}

#[test]
fn refusals_name_what_berth_cannot_do() {
    let fluentbit = FirelensConfigurationType::Fluentbit;
    let s3 = router_def(
        fluentbit,
        &[
            ("config-file-type", "s3"),
            ("config-file-value", "arn:aws:s3:::b/k"),
        ],
    );
    let why = check(&td(vec![s3])).expect_err("s3");
    assert!(
        why.contains("config-file-type s3") && why.contains("log_router"),
        "{why}"
    );

    let nameless = app_def("app", &[("region", "us-east-1")]);
    let why = check(&td(vec![router_def(fluentbit, &[]), nameless.clone()])).expect_err("Name");
    assert!(
        why.contains("container app") && why.contains("Name"),
        "{why}"
    );
    let why = check(&td(vec![
        router_def(FirelensConfigurationType::Fluentd, &[]),
        app_def("app", &[("Name", "stdout")]),
    ]))
    .expect_err("@type");
    assert!(why.contains("@type"), "{why}");

    let why = check(&td(vec![nameless])).expect_err("no router");
    assert!(
        why.contains("no container of the task has a firelensConfiguration"),
        "{why}"
    );
    let half = router_def(fluentbit, &[("config-file-type", "file")]);
    assert!(check(&td(vec![half])).is_err());
    let bad = router_def(fluentbit, &[("enable-ecs-log-metadata", "yes")]);
    assert!(check(&td(vec![bad])).is_err());
    assert!(
        check(&td(vec![
            router_def(fluentbit, &[]),
            router_def(fluentbit, &[])
        ]))
        .is_err()
    );

    let fine = td(vec![
        router_def(fluentbit, &[]),
        app_def("app", &[("Name", "stdout")]),
    ]);
    assert_eq!(check(&fine), Ok(()));
    assert_eq!(check(&td(vec![ContainerDefinition::default()])), Ok(()));
}

#[test]
fn apps_depend_on_the_router_starting() {
    let mut declared = app_def("b", &[("Name", "stdout")]);
    declared.depends_on = Some(vec![ContainerDependency {
        container_name: "log_router".into(),
        condition: ContainerCondition::Healthy,
    }]);
    let mut defs = vec![
        app_def("a", &[("Name", "stdout")]),
        router_def(FirelensConfigurationType::Fluentbit, &[]),
        declared,
        ContainerDefinition {
            name: Some("plain".into()),
            ..ContainerDefinition::default()
        },
    ];
    add_router_dependency(&mut defs);
    assert_eq!(
        defs[0].depends_on,
        Some(vec![ContainerDependency {
            container_name: "log_router".into(),
            condition: ContainerCondition::Start,
        }])
    );
    assert_eq!(defs[1].depends_on, None);
    let b = defs[2].depends_on.as_deref().unwrap_or_default();
    assert_eq!((b.len(), b[0].condition), (1, ContainerCondition::Healthy));
    assert_eq!(defs[3].depends_on, None);
}

fn body(mode: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        env: Some(vec!["A=1".into()]),
        host_config: Some(HostConfig {
            network_mode: Some(mode.into()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

#[test]
fn the_router_gets_its_files_and_a_loopback_port() {
    let dir = Path::new("/state/firelens/abc123");
    let mut bit = body("bridge");
    engine::router_body(&mut bit, FirelensConfigurationType::Fluentbit, dir);
    let host = bit.host_config.clone().unwrap_or_default();
    assert_eq!(
        host.binds.unwrap_or_default(),
        [
            "/state/firelens/abc123/config/fluent.conf:/fluent-bit/etc/fluent-bit.conf:ro",
            "/state/firelens/abc123/socket:/var/run"
        ]
    );
    let ports = host.port_bindings.unwrap_or_default();
    let bound = ports["24224/tcp"].clone().unwrap_or_default();
    assert_eq!(bound[0].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(bound[0].host_port.as_deref(), Some(""));
    assert_eq!(bit.exposed_ports.unwrap_or_default(), ["24224/tcp"]);
    assert_eq!(bit.env.unwrap_or_default(), ["A=1"]);

    let mut fluentd = body("host");
    engine::router_body(&mut fluentd, FirelensConfigurationType::Fluentd, dir);
    assert_eq!(fluentd.env.unwrap_or_default(), ["A=1", "FLUENT_UID=0"]);
    let host = fluentd.host_config.unwrap_or_default();
    assert!(host.port_bindings.is_none());
    assert!(host.binds.unwrap_or_default()[0].ends_with(":/fluentd/etc/fluent.conf:ro"));
}

#[test]
fn apps_log_to_the_router_through_the_fluentd_driver() {
    let dir = Path::new("/state/firelens/abc123");
    let bindings = [NetworkBinding {
        bind_ip: Some("127.0.0.1".into()),
        container_port: Some(24224),
        host_port: Some(32768),
        ..NetworkBinding::default()
    }];
    assert_eq!(
        engine::address("bridge", &bindings, dir),
        "tcp://127.0.0.1:32768"
    );
    assert_eq!(engine::address("host", &[], dir), "tcp://127.0.0.1:24224");
    assert_eq!(
        engine::address("bridge", &[], dir),
        "unix:///state/firelens/abc123/socket/fluent.sock"
    );

    let app = App::of(
        &app_def(
            "app",
            &[("Name", "stdout"), ("log-driver-buffer-limit", "4096")],
        ),
        FirelensConfigurationType::Fluentbit,
    )
    .expect("app");
    let mut b = body("host");
    engine::app_body(
        &mut b,
        &app,
        ARN,
        "tcp://127.0.0.1:24224",
        Some("127.0.0.1"),
    );
    let log = b.host_config.and_then(|h| h.log_config).unwrap_or_default();
    assert_eq!(log.typ.as_deref(), Some("fluentd"));
    let options = log.config.unwrap_or_default();
    assert_eq!(options["tag"], "app-firelens-abc123");
    assert_eq!(options["fluentd-address"], "tcp://127.0.0.1:24224");
    assert_eq!(options["fluentd-async"], "true");
    assert_eq!(options["fluentd-sub-second-precision"], "true");
    assert_eq!(options["fluentd-buffer-limit"], "4096");
    assert_eq!(
        b.env.unwrap_or_default(),
        ["A=1", "FLUENT_HOST=127.0.0.1", "FLUENT_PORT=24224"]
    );
}

#[test]
fn the_task_directory_is_written_and_forgotten() {
    let state = tempfile::tempdir().expect("tempdir");
    let host = Host::new(state.path(), "http://127.0.0.1:9714");
    host.prepare(ARN, "conf").expect("prepare");
    let dir = state.path().join("firelens").join("abc123");
    assert_eq!(host.task_dir(ARN), dir);
    let written = std::fs::read_to_string(dir.join("config/fluent.conf")).expect("conf");
    assert_eq!(written, "conf");
    assert!(dir.join("socket").is_dir());
    host.forget(ARN);
    assert!(!dir.exists());
    host.forget(ARN);
}

#[test]
fn secret_options_are_named_in_the_config_never_written() {
    let mut def = app_def("app", &[("Name", "splunk"), ("Host", "splunk.local")]);
    if let Some(c) = def.log_configuration.as_mut() {
        c.secret_options = Some(vec![berth_types::ecs::Secret {
            name: "Splunk_Token".into(),
            value_from: "/splunk/token".into(),
        }]);
    }
    let bit = App::of(&def, FirelensConfigurationType::Fluentbit).expect("app");
    assert!(
        bit.options
            .contains(&("Splunk_Token".into(), "${Splunk_Token_app}".into()))
    );
    let fluentd_def = {
        let mut d = def.clone();
        if let Some(o) = d
            .log_configuration
            .as_mut()
            .and_then(|c| c.options.as_mut())
        {
            o.insert("@type".into(), "splunk_hec".into());
        }
        d
    };
    let fluentd = App::of(&fluentd_def, FirelensConfigurationType::Fluentd).expect("app");
    assert!(fluentd.options.contains(&(
        "Splunk_Token".into(),
        "\"#{ENV['Splunk_Token_app']}\"".into()
    )));
}
