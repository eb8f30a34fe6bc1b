//! End to end, the two commands an operator reads Berth with, run as the `berth` binary
//! against a `berth up` that ran a task, stopped one and keeps a service: `berth status` shows
//! the cluster, its connected instance, the service's counts and the stopped task's reason;
//! `berth audit` prints a header, hides the agent's routine reports unless asked, filters by
//! principal, action, resource and time, names a registered task definition's ARN, and
//! refuses `--max 0`; and berth ends quietly when its reader goes away.

use berth_test_kit::ecs::{container, register, run_one, wait_stable, wait_status};
use berth_test_kit::process::Exports;
use berth_test_kit::up::Berth;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `berth <args>` with the exports in the environment.
fn command(e: &Exports, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.args(args)
        .env("AWS_ENDPOINT_URL", &e.endpoint)
        .env("AWS_ACCESS_KEY_ID", &e.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &e.secret_key)
        .env("AWS_DEFAULT_REGION", &e.region);
    c
}

/// `berth <args>` with the exports in the environment: whether it succeeded, its stdout and
/// its stderr.
fn berth(e: &Exports, args: &[&str]) -> (bool, String, String) {
    let out = command(e, args).output().expect("berth runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    (out.status.success(), text(out.stdout), text(out.stderr))
}

/// `berth audit <args>`, which must succeed: its event lines (the header left out, after
/// checking it is there).
fn audit(e: &Exports, args: &[&str]) -> Vec<String> {
    let (ok, out, err) = berth(e, &[&["audit"], args].concat());
    assert!(ok, "berth audit {args:?}: {err}");
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    if first.starts_with("no audit events") {
        return Vec::new();
    }
    let header: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(
        header,
        ["TIME", "PRINCIPAL", "ACTION", "RESOURCE", "OUTCOME"],
        "{out}"
    );
    lines.map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_audit_show_what_runs_and_who_did_what() {
    let (up, ecs) = Berth::ready("status").await;
    let (e, cluster) = (&up.exports, up.cluster.as_str());

    let family = format!("{cluster}-sleeper");
    let definition = register(
        &ecs,
        &family,
        vec![container("main", &["sleep", "3600"]).build()],
    )
    .await;
    let task = run_one(&ecs, cluster, &family).await;
    wait_status(&ecs, cluster, &task, "RUNNING").await;
    ecs.stop_task()
        .cluster(cluster)
        .task(&task)
        .reason("stopped by the status test")
        .send()
        .await
        .expect("StopTask");
    wait_status(&ecs, cluster, &task, "STOPPED").await;
    ecs.create_service()
        .cluster(cluster)
        .service_name("web")
        .task_definition(&family)
        .desired_count(1)
        .send()
        .await
        .expect("CreateService");
    wait_stable(&ecs, cluster, "web", Duration::from_secs(60)).await;

    // A reader that went away (`berth status | head`): berth ends as Unix commands end, with
    // the status of a closed pipe, not with a panic.
    let mut child = command(e, &["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("berth ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (ok, status, err) = berth(e, &["status"]);
    assert!(ok, "berth status: {err}");
    assert!(
        status.contains(&format!("cluster {cluster} (ACTIVE)")),
        "{status}"
    );
    assert!(status.contains("connected"), "{status}");
    let web = status
        .lines()
        .find(|l| l.trim_start().starts_with("web "))
        .unwrap_or_else(|| panic!("a line for the service: {status}"));
    assert!(web.contains("1/1"), "running/desired: {web}");
    let task_id = task.rsplit('/').next().expect("an id");
    let stopped = status
        .lines()
        .find(|l| l.contains(task_id))
        .unwrap_or_else(|| panic!("a line for the stopped task: {status}"));
    assert!(stopped.contains("stopped by the status test"), "{stopped}");

    // The agent's state reports are most of the log, hidden unless asked for.
    let reports = "ecs:SubmitTaskStateChange";
    let shown = audit(e, &["--max", "1000"]);
    assert!(!shown.is_empty());
    assert!(!shown.iter().any(|l| l.contains(reports)), "{shown:#?}");
    let everything = audit(e, &["--max", "1000", "--include-agents"]);
    assert!(
        everything
            .iter()
            .any(|l| l.contains(reports) && l.contains(":agent/")),
        "{everything:#?}"
    );
    assert_eq!(audit(e, &["--max", "1", "--include-agents"]).len(), 1);

    // A registration names the revision it created.
    let registered = audit(e, &["--action", "RegisterTaskDefinition"]);
    assert_eq!(registered.len(), 1, "{registered:#?}");
    assert!(registered[0].contains(&definition), "{registered:#?}");

    // Filters: principal, action, resource and time.
    let by_root = audit(
        e,
        &["--principal", ":root", "--action", "ecs:CreateService"],
    );
    assert_eq!(by_root.len(), 1, "{by_root:#?}");
    assert!(by_root[0].contains("service/"), "{by_root:#?}");
    assert!(audit(e, &["--principal", ":agent/", "--action", "CreateService"]).is_empty());
    let of_family = audit(e, &["--resource", &family]);
    assert!(
        of_family.iter().any(|l| l.contains("ecs:RunTask")),
        "{of_family:#?}"
    );
    assert_eq!(
        audit(e, &["--since", "10m", "--action", "ecs:StopTask"]).len(),
        1
    );
    assert!(audit(e, &["--until", "2000-01-01T00:00:00Z"]).is_empty());
    assert!(!audit(e, &["--since", "2000-01-01T00:00:00Z"]).is_empty());

    // --max 0 is refused, naming the range.
    let (ok, _, err) = berth(e, &["audit", "--max", "0"]);
    assert!(!ok && err.contains("--max") && err.contains("1.."), "{err}");
}

#[test]
fn status_says_when_berth_cannot_be_reached() {
    let nobody = Exports {
        endpoint: "http://127.0.0.1:9".into(),
        access_key: "AKIAEXAMPLE".into(),
        secret_key: "secret".into(),
        region: "us-east-1".into(),
    };
    let (ok, _, err) = berth(&nobody, &["status"]);
    assert!(!ok, "{err}");
    assert!(err.contains("cannot reach http://127.0.0.1:9"), "{err}");
    assert!(err.contains("berth up"), "{err}");
}
