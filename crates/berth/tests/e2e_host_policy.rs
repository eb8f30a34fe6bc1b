//! A host that forbids privileged containers and the host network (`berth agent
//! --deny-privileged --deny-host-network`) stops tasks asking for them before creating any
//! container, with a reason naming the option, and still runs plain tasks.

use aws_sdk_ecs::types::{ContainerDefinition, NetworkMode, TaskStopCode};
use berth_test_kit::docker::task_containers;
use berth_test_kit::ecs::{container, register_definition, run_one, wait_status};
use berth_test_kit::fleet::Fleet;
use berth_test_kit::image::IMAGE;
use std::process::Command;

fn sleeper(image: &str) -> aws_sdk_ecs::types::builders::ContainerDefinitionBuilder {
    container("web", &["sleep", "600"])
        .image(image)
        .memory(32)
        .stop_timeout(2)
}

async fn run(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    family: &str,
    container: ContainerDefinition,
    network_mode: Option<NetworkMode>,
) -> String {
    let td = ecs
        .register_task_definition()
        .family(family)
        .container_definitions(container)
        .set_network_mode(network_mode);
    run_one(ecs, cluster, &register_definition(td).await).await
}

fn epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Whether Docker created a container for the task since `since` (epoch seconds), from its
/// event log. The log is read up to a second from now, so this second's events are in it.
fn ever_created(task_arn: &str, since: u64) -> bool {
    let out = Command::new("docker")
        .args(["events", "--since", &since.to_string()])
        .args(["--until", &(epoch_seconds() + 1).to_string()])
        .args(["--filter", "type=container", "--filter", "event=create"])
        .arg("--filter")
        .arg(format!("label=com.amazonaws.ecs.task-arn={task_arn}"))
        .output()
        .expect("docker events");
    assert!(out.status.success(), "docker events failed");
    !out.stdout.is_empty()
}

async fn assert_refused(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arn: &str,
    since: u64,
    why: &str,
) {
    let task = wait_status(ecs, cluster, arn, "STOPPED").await;
    assert_eq!(task.stop_code(), Some(&TaskStopCode::TaskFailedToStart));
    assert_eq!(task.stopped_reason(), Some(why));
    assert!(task_containers(arn).is_empty(), "no container is left");
    assert!(!ever_created(arn, since), "no container was ever created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_refuses_what_it_forbids_and_runs_the_rest() {
    let since = epoch_seconds();
    // The fleet kills the server and the agent, and removes their containers, when dropped.
    let deny = ["--deny-privileged", "--deny-host-network"];
    let (fleet, _) = Fleet::with_agent("policy", &deny).await;
    let (ecs, cluster) = (&fleet.ecs, fleet.cluster.as_str());

    // An image that cannot be pulled: the policy is checked first, so its reason wins.
    let privileged = sleeper("berth-no-such-image:never")
        .privileged(true)
        .build();
    let arn = run(ecs, cluster, "privileged", privileged, None).await;
    assert_refused(
        ecs,
        cluster,
        &arn,
        since,
        "CannotStartContainerError: container web asks for privileged mode, which this host forbids (berth agent --deny-privileged)",
    )
    .await;

    let arn = run(
        ecs,
        cluster,
        "hostnet",
        sleeper(IMAGE).build(),
        Some(NetworkMode::Host),
    )
    .await;
    assert_refused(
        ecs,
        cluster,
        &arn,
        since,
        "CannotStartContainerError: the task asks for the host network mode, which this host forbids (berth agent --deny-host-network)",
    )
    .await;

    let arn = run(ecs, cluster, "plain", sleeper(IMAGE).build(), None).await;
    let task = wait_status(ecs, cluster, &arn, "RUNNING").await;
    assert_eq!(task.stopped_reason(), None);
    assert_eq!(task_containers(&arn).len(), 1, "the plain task runs");
    // The event log does show creations, so its silence about the refused tasks means something.
    assert!(ever_created(&arn, since));
}
