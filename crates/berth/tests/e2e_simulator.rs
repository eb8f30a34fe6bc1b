//! The cluster simulator driving the real server through the AWS SDK: RunTask calls racing for
//! the last capacity use exactly what there is, report the rest, and every placed task is
//! acknowledged RUNNING by its simulated instance.

use aws_sdk_ecs::types::ContainerDefinition;
use berth_test_kit::ecs::{
    client, describe_tasks, eventually, register, run_task, stop_and_wait, wait_instances,
};
use berth_test_kit::process::{start_server, start_simulator, unique_cluster};
use std::collections::BTreeSet;
use std::time::Duration;

const CALLERS: usize = 16;
const PER_CALL: i32 = 10;
/// Each instance holds 17 tasks of 40 MiB.
const PER_INSTANCE: usize = 17;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_run_tasks_fill_exactly_the_simulated_capacity() {
    // Both processes are killed when dropped; the simulator needs no Docker.
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = unique_cluster("sim");
    let (_server, exports) = start_server(data.path(), "127.0.0.1:0");
    let memory = (PER_INSTANCE * 40).to_string();
    let _simulator = start_simulator(
        &exports,
        &cluster,
        &[
            "--instances",
            "3",
            "--memory",
            &memory,
            "--availability-zone",
            "zone-a",
            "--availability-zone",
            "zone-b",
        ],
    );
    let ecs = client(&exports);
    wait_instances(&ecs, &cluster, 3).await;
    let simulated = ContainerDefinition::builder()
        .name("app")
        .image("simulated")
        .memory(40)
        .build();
    register(&ecs, "sim", vec![simulated]).await;

    let calls: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (ecs, cluster) = (ecs.clone(), cluster.clone());
            tokio::spawn(async move {
                ecs.run_task()
                    .cluster(cluster)
                    .task_definition("sim")
                    .count(PER_CALL)
                    .send()
                    .await
                    .expect("RunTask answers")
            })
        })
        .collect();
    let mut placed = BTreeSet::new();
    for call in calls {
        let answer = call.await.expect("caller");
        if answer.tasks().len() < PER_CALL as usize {
            assert!(
                answer
                    .failures()
                    .iter()
                    .any(|f| f.reason() == Some("RESOURCE:MEMORY")),
                "a short answer says why: {:?}",
                answer.failures()
            );
        }
        placed.extend(
            answer
                .tasks()
                .iter()
                .filter_map(|t| t.task_arn())
                .map(str::to_string),
        );
    }
    assert_eq!(
        placed.len(),
        3 * PER_INSTANCE,
        "exactly the capacity is used"
    );

    let placed: Vec<String> = placed.into_iter().collect();
    eventually(
        "every placed task to be RUNNING",
        Duration::from_secs(30),
        || async {
            let d = describe_tasks(&ecs, &cluster, placed.clone()).await;
            d.iter()
                .all(|t| t.last_status() == Some("RUNNING"))
                .then_some(())
        },
    )
    .await;

    // Stopping one frees its room for the next RunTask.
    stop_and_wait(&ecs, &cluster, &placed[0]).await;
    let again = run_task(&ecs, &cluster, "sim").await;
    assert_eq!(again.tasks().len(), 1, "{:?}", again.failures());
}
