//! Task roles and secrets under `berth up`, set up with the unmodified AWS CLI: a task's
//! containers get their `secrets` as environment variables and their task role's credentials
//! from 169.254.170.2, those credentials act as the role and nothing more, another task cannot
//! have them, and they die with the task; `logConfiguration.secretOptions` reach the log driver.

use aws_sdk_ecs::types::{LogConfiguration, LogDriver, Secret};
use berth_test_kit::cli::{Session, aws, aws_ok};
use berth_test_kit::docker::{docker_exec, docker_inspect, task_containers};
use berth_test_kit::ecs::{container, register_definition, run_one, stop_and_wait, wait_status};
use berth_test_kit::process::Exports;
use berth_test_kit::up::Berth;

const TRUST_TASKS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// Creates role `name` that ECS tasks may assume, with inline policy `policy`; returns its ARN.
fn role(e: &Exports, name: &str, policy: Option<&str>) -> String {
    let created = aws_ok(
        e,
        &[
            "iam",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            TRUST_TASKS,
        ],
    );
    if let Some(policy) = policy {
        aws_ok(
            e,
            &[
                "iam",
                "put-role-policy",
                "--role-name",
                name,
                "--policy-name",
                "inline",
                "--policy-document",
                policy,
            ],
        );
    }
    created["Role"]["Arn"]
        .as_str()
        .expect("a role ARN")
        .to_string()
}

/// `aws ssm put-parameter` of `kind` (String, SecureString).
fn put_parameter(e: &Exports, name: &str, kind: &str, value: &str) {
    let args = [
        "ssm",
        "put-parameter",
        "--name",
        name,
        "--type",
        kind,
        "--value",
        value,
    ];
    aws_ok(e, &args);
}

fn allow(actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    })
    .to_string()
}

/// The one running container of task `arn`.
fn the_container(arn: &str) -> String {
    let ids = task_containers(arn);
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

/// The task role credentials as the container's own SDK would fetch them.
fn fetch_credentials(id: &str, uri: &str) -> Result<serde_json::Value, String> {
    // Busybox's `wget -T` crashes: `timeout` bounds it instead.
    let out = docker_exec(
        id,
        &format!("timeout 5 wget -qO- http://169.254.170.2{uri}"),
    )?;
    serde_json::from_str(&out).map_err(|e| format!("not JSON ({e}): {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_role_credentials_reach_the_task_and_only_it() {
    let (berth, ecs) = Berth::ready("identity").await;
    let e = &berth.exports;
    let tag = std::process::id();
    let app = role(
        e,
        &format!("app-{tag}"),
        Some(&allow(&["ecs:ListClusters"])),
    );
    let execution_name = format!("exec-{tag}");
    let execution = role(
        e,
        &execution_name,
        Some(&allow(&[
            "ssm:GetParameters",
            "secretsmanager:GetSecretValue",
        ])),
    );
    aws_ok(
        e,
        &[
            "iam",
            "attach-role-policy",
            "--role-name",
            &execution_name,
            "--policy-arn",
            EXECUTION_POLICY,
        ],
    );
    let parameter = format!("/e2e-{tag}/db/password");
    put_parameter(e, &parameter, "SecureString", "s3cret");
    let secret = aws_ok(
        e,
        &[
            "secretsmanager",
            "create-secret",
            "--name",
            &format!("e2e-{tag}/db"),
            "--secret-string",
            r#"{"user":"admin","port":5432}"#,
        ],
    );
    let secret_arn = secret["ARN"].as_str().expect("a secret ARN");
    let secrets = vec![
        Secret::builder()
            .name("DB_PASSWORD")
            .value_from(&parameter)
            .build()
            .expect("secret"),
        Secret::builder()
            .name("DB_USER")
            .value_from(format!("{secret_arn}:user::"))
            .build()
            .expect("secret"),
    ];
    // A web server on port 80, as most apps with a role are: the credentials endpoint still
    // answers at 169.254.170.2:80.
    let web = "httpd -f -p 80 & exec sleep 600";
    let sleeper = container("app", &["sh", "-c", web])
        .set_secrets(Some(secrets))
        .build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("identity")
            .task_role_arn(&app)
            .execution_role_arn(&execution)
            .container_definitions(sleeper),
    )
    .await;
    let first = run_one(&ecs, &berth.cluster, &td).await;
    let second = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &first, "RUNNING").await;
    wait_status(&ecs, &berth.cluster, &second, "RUNNING").await;
    let (one, two) = (the_container(&first), the_container(&second));

    let env = docker_exec(&one, "echo \"$DB_PASSWORD $DB_USER\"").expect("exec");
    assert_eq!(env.trim(), "s3cret admin");
    let uri = docker_exec(&one, "echo $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").expect("exec");
    let uri = uri.trim().to_string();
    assert!(uri.starts_with("/v2/credentials/"), "{uri}");
    let credentials = fetch_credentials(&one, &uri).expect("the task's own credentials");
    assert_eq!(credentials["RoleArn"], app.as_str());
    let session = Session::from_endpoint(&credentials);
    let me = aws(e, Some(&session), &["sts", "get-caller-identity"]).expect("GetCallerIdentity");
    let task_id = first.rsplit('/').next().expect("task id");
    let assumed = format!("assumed-role/app-{tag}/{task_id}");
    assert!(
        me["Arn"].as_str().is_some_and(|a| a.ends_with(&assumed)),
        "{me}"
    );
    aws(e, Some(&session), &["ecs", "list-clusters"]).expect("allowed by the role");
    let refused =
        aws(e, Some(&session), &["ecs", "list-task-definitions"]).expect_err("outside the role");
    assert!(refused.contains("AccessDenied"), "{refused}");

    // The second task's endpoint serves its own task only, even given the first one's id.
    let other = fetch_credentials(&two, &uri);
    assert!(other.is_err(), "another task got {other:?}");

    stop_and_wait(&ecs, &berth.cluster, &first).await;
    let after = aws(e, Some(&session), &["sts", "get-caller-identity"]);
    assert!(
        after.is_err(),
        "a stopped task's credentials still work: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_execution_role_that_cannot_read_the_secret_stops_the_task_as_ecs_does() {
    let (berth, ecs) = Berth::ready("nosecret").await;
    let e = &berth.exports;
    let tag = std::process::id();
    let execution = role(e, &format!("exec-none-{tag}"), None);
    let parameter = format!("/e2e-{tag}/token");
    put_parameter(e, &parameter, "String", "t");
    let secret = Secret::builder()
        .name("TOKEN")
        .value_from(&parameter)
        .build()
        .expect("secret");
    let sleeper = container("app", &["sleep", "600"]).secrets(secret).build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("nosecret")
            .execution_role_arn(&execution)
            .container_definitions(sleeper),
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    let task = wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    let reason = task.stopped_reason().unwrap_or_default();
    assert!(
        reason
            .starts_with("ResourceInitializationError: unable to pull secrets or registry auth: "),
        "{reason}"
    );
    assert!(reason.contains("ssm:GetParameters"), "{reason}");
    assert!(task_containers(&arn).is_empty(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_secret_options_reach_the_log_driver() {
    let (berth, ecs) = Berth::ready("logsecret").await;
    let e = &berth.exports;
    let tag = std::process::id();
    let policy = allow(&["ssm:GetParameters"]);
    let execution = role(e, &format!("exec-log-{tag}"), Some(&policy));
    let parameter = format!("/e2e-{tag}/log-tag");
    let value = format!("tag-from-ssm-{tag}");
    put_parameter(e, &parameter, "SecureString", &value);
    let secret = Secret::builder()
        .name("tag")
        .value_from(&parameter)
        .build()
        .expect("secret");
    let logging = LogConfiguration::builder()
        .log_driver(LogDriver::JsonFile)
        .options("max-size", "1m")
        .secret_options(secret)
        .build()
        .expect("log configuration");
    let sleeper = container("app", &["sleep", "600"])
        .log_configuration(logging)
        .build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("logsecret")
            .execution_role_arn(&execution)
            .container_definitions(sleeper),
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &arn, "RUNNING").await;
    let id = the_container(&arn);
    let options = docker_inspect(&id, "{{json .HostConfig.LogConfig.Config}}");
    let options: serde_json::Value = serde_json::from_str(&options).expect("JSON");
    assert_eq!(options["tag"], value.as_str(), "{options}");
    assert_eq!(options["max-size"], "1m", "{options}");
    stop_and_wait(&ecs, &berth.cluster, &arn).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_without_pass_role_cannot_hand_a_role_to_a_task() {
    let (berth, ecs) = Berth::ready("passrole").await;
    let e = &berth.exports;
    let tag = std::process::id();
    let app = role(e, &format!("app-pr-{tag}"), None);
    let user = format!("deployer-{tag}");
    aws_ok(e, &["iam", "create-user", "--user-name", &user]);
    aws_ok(
        e,
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            &user,
            "--policy-name",
            "ecs",
            "--policy-document",
            &allow(&["ecs:*"]),
        ],
    );
    let key = aws_ok(e, &["iam", "create-access-key", "--user-name", &user]);
    let user_exports = Exports {
        access_key: key["AccessKey"]["AccessKeyId"]
            .as_str()
            .expect("key")
            .into(),
        secret_key: key["AccessKey"]["SecretAccessKey"]
            .as_str()
            .expect("secret")
            .into(),
        ..e.clone()
    };
    let definitions =
        r#"[{"name":"app","image":"berth-busybox:e2e","memory":16,"command":["sleep","1"]}]"#;
    let refused = aws(
        &user_exports,
        None,
        &[
            "ecs",
            "register-task-definition",
            "--family",
            "passrole",
            "--task-role-arn",
            &app,
            "--container-definitions",
            definitions,
        ],
    )
    .expect_err("iam:PassRole is needed");
    assert!(
        refused.contains("AccessDeniedException") && refused.contains("iam:PassRole"),
        "{refused}"
    );
    aws(
        &user_exports,
        None,
        &[
            "ecs",
            "register-task-definition",
            "--family",
            "passrole",
            "--container-definitions",
            definitions,
        ],
    )
    .expect("without a role it is fine");
    drop(ecs);
}
