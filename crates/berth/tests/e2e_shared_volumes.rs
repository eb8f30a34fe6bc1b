//! Shared volumes that follow a task (`efsVolumeConfiguration` mapped to a GlusterFS volume
//! declared with `berth server --file-systems`), with a server and two real agents as two
//! hosts: a service's counter survives its task moving to the other host when its instance
//! drains, two replicas on the two hosts see one file system, a replica whose FUSE client dies
//! (after its agent restarted and adopted it) stops with the reason and is replaced, and a file
//! system that cannot be mounted stops the task with the reason before any container exists.
//! Skipped (saying so) where GlusterFS is not installed; `.ci/run` installs it and makes the
//! skip a failure.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    ContainerDefinition, ContainerInstanceStatus, DesiredStatus, EfsTransitEncryption,
    EfsVolumeConfiguration, MountPoint, PlacementConstraint, PlacementConstraintType, Task, Volume,
};
use berth_test_kit::docker::{docker_exec, task_containers};
use berth_test_kit::ecs::{
    container, eventually, register_definition, run_one, service_tasks, wait_instances, wait_status,
};
use berth_test_kit::fleet::Fleet;
use berth_test_kit::gluster::{self, ScratchVolume};
use std::time::Duration;

const DATA_FS: &str = "fs-0123456789abcdef0";
/// Declared on a volume that does not exist.
const DEAD_FS: &str = "fs-00000000deadbeef";

/// A server declaring `volume` as [`DATA_FS`] and a missing volume as [`DEAD_FS`], with two
/// agents; returns the fleet and the two instances.
async fn fleet(prefix: &str, volume: &ScratchVolume) -> (Fleet, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let declarations = dir.path().join("file-systems.json");
    let mut dead = volume.declaration(DEAD_FS);
    dead["volume"] = "berth-no-such-volume".into();
    let text = serde_json::json!({"fileSystems": [volume.declaration(DATA_FS), dead]});
    std::fs::write(&declarations, text.to_string()).expect("declarations");
    let path = declarations.display().to_string();
    let mut fleet = Fleet::server_with(prefix, &["--file-systems", &path]);
    fleet.create_cluster().await;
    fleet.start_agent(&[]);
    fleet.start_agent(&[]);
    let instances = wait_instances(&fleet.ecs, &fleet.cluster, 2).await;
    (fleet, instances)
}

/// Registers `family`: one container running `script` with volume `data` of `config` at /data.
async fn register(
    ecs: &Client,
    family: &str,
    config: EfsVolumeConfiguration,
    script: &str,
) -> String {
    let app: ContainerDefinition = container("app", &["sh", "-c", script])
        .memory(16)
        .mount_points(
            MountPoint::builder()
                .source_volume("data")
                .container_path("/data")
                .build(),
        )
        .build();
    let volume = Volume::builder()
        .name("data")
        .efs_volume_configuration(config)
        .build();
    register_definition(
        ecs.register_task_definition()
            .family(family)
            .volumes(volume)
            .container_definitions(app),
    )
    .await
}

fn efs(id: &str) -> EfsVolumeConfiguration {
    EfsVolumeConfiguration::builder()
        .file_system_id(id)
        .build()
        .expect("efs")
}

/// The service's RUNNING tasks that are RUNNING.
async fn running(fleet: &Fleet, service: &str) -> Vec<Task> {
    service_tasks(&fleet.ecs, &fleet.cluster, service, DesiredStatus::Running)
        .await
        .into_iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .collect()
}

/// `script` run in the task's one container.
fn exec(task: &Task, script: &str) -> String {
    let ids = task_containers(task.task_arn().unwrap_or_default());
    let id = ids.first().expect("the task's container");
    docker_exec(id, script)
        .expect("docker exec")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_keeps_its_data_on_another_host_and_its_replicas_share_it() {
    let Some(volume) = gluster::volume("follow") else {
        return;
    };
    let (mut fleet, instances) = fleet("sharedvol", &volume).await;
    let (ecs, cluster) = (&fleet.ecs.clone(), fleet.cluster.clone());
    let cluster = cluster.as_str();
    let counter = "n=$(cat /data/counter 2>/dev/null || echo 0); echo $((n+1)) > /data/counter; exec sleep 600";
    register(ecs, "counter", efs(DATA_FS), counter).await;
    ecs.create_service()
        .cluster(cluster)
        .service_name("counter")
        .task_definition("counter")
        .desired_count(1)
        .send()
        .await
        .expect("CreateService");
    let first = eventually(
        "the counter task RUNNING",
        Duration::from_secs(90),
        || async { running(&fleet, "counter").await.pop() },
    )
    .await;
    assert_eq!(exec(&first, "cat /data/counter"), "1");
    let mounts = exec(&first, "grep ' /data ' /proc/mounts");
    assert!(mounts.contains("fuse.glusterfs"), "{mounts}");

    // Drain its host: the replacement runs on the other one and finds the counter.
    let host = first
        .container_instance_arn()
        .unwrap_or_default()
        .to_string();
    ecs.update_container_instances_state()
        .cluster(cluster)
        .container_instances(&host)
        .status(ContainerInstanceStatus::Draining)
        .send()
        .await
        .expect("UpdateContainerInstancesState");
    let second = eventually(
        "the replacement RUNNING",
        Duration::from_secs(120),
        || async {
            running(&fleet, "counter")
                .await
                .into_iter()
                .find(|t| t.task_arn() != first.task_arn())
        },
    )
    .await;
    assert_ne!(second.container_instance_arn(), Some(host.as_str()));
    assert_eq!(
        exec(&second, "cat /data/counter"),
        "2",
        "the counter went on"
    );
    // The file is on the bricks, and the drained host let its mount go.
    let on_brick = std::fs::read_to_string(volume.brick(1).join("counter")).expect("on the brick");
    assert_eq!(on_brick.trim(), "2");
    let drained = instances
        .iter()
        .position(|i| *i == host)
        .expect("a fleet instance");
    let first_id = task_id(&first);
    let left = fleet.state_dir_of(drained).join("fs").join(&first_id);
    eventually(
        "the drained host's mount released",
        Duration::from_secs(60),
        || async { (!left.exists()).then_some(()) },
    )
    .await;

    // Two replicas, one on each host, see each other's files.
    ecs.update_container_instances_state()
        .cluster(cluster)
        .container_instances(&host)
        .status(ContainerInstanceStatus::Active)
        .send()
        .await
        .expect("UpdateContainerInstancesState");
    let hello = "echo hi > /data/from-$HOSTNAME; exec sleep 600";
    register(ecs, "pair", efs(DATA_FS), hello).await;
    ecs.create_service()
        .cluster(cluster)
        .service_name("pair")
        .task_definition("pair")
        .desired_count(2)
        .placement_constraints(
            PlacementConstraint::builder()
                .r#type(PlacementConstraintType::DistinctInstance)
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    let pair = eventually("two replicas RUNNING", Duration::from_secs(90), || async {
        let tasks = running(&fleet, "pair").await;
        (tasks.len() == 2).then_some(tasks)
    })
    .await;
    assert_ne!(
        pair[0].container_instance_arn(),
        pair[1].container_instance_arn()
    );
    for task in &pair {
        let listed = eventually("both replicas' files", Duration::from_secs(30), || async {
            let ls = exec(task, "ls /data");
            (ls.matches("from-").count() == 2).then_some(ls)
        })
        .await;
        assert!(listed.contains("counter"), "{listed}");
    }

    // Its agent restarted (it adopts the task and its mount), then its FUSE client killed: the
    // replica stops with the reason, and the service replaces it.
    let victim = &pair[0];
    let id = task_id(victim);
    let mount_of = |agent: usize| fleet.state_dir_of(agent).join("fs").join(&id).join("0");
    let agent = (0..2)
        .find(|a| mount_of(*a).exists())
        .expect("the replica's mount point");
    let point = mount_of(agent);
    fleet.restart_agent(agent, &[]);
    wait_instances(ecs, cluster, 2).await;
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-f", &format!("glusterfs.*{}", point.display())])
        .status()
        .expect("pkill");
    assert!(killed.success(), "the FUSE client of {}", point.display());
    let arn = victim.task_arn().unwrap_or_default();
    let stopped = wait_status(ecs, cluster, arn, "STOPPED").await;
    let reason = stopped.stopped_reason().unwrap_or_default();
    assert!(
        reason.starts_with("Shared volume 'data' (fs-0123456789abcdef0) lost its connection"),
        "{reason}"
    );
    eventually("the replica replaced", Duration::from_secs(90), || async {
        let tasks = running(&fleet, "pair").await;
        (tasks.len() == 2 && tasks.iter().all(|t| t.task_arn() != Some(arn))).then_some(())
    })
    .await;
}

/// The last part of a task's ARN.
fn task_id(task: &Task) -> String {
    let arn = task.task_arn().unwrap_or_default();
    arn.rsplit('/').next().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_system_that_cannot_be_mounted_stops_the_task_before_any_container() {
    let Some(volume) = gluster::volume("dead") else {
        return;
    };
    let (fleet, _) = fleet("deadvol", &volume).await;
    let (ecs, cluster) = (&fleet.ecs, fleet.cluster.as_str());
    let encrypted = EfsVolumeConfiguration::builder()
        .file_system_id(DATA_FS)
        .transit_encryption(EfsTransitEncryption::Enabled)
        .build()
        .expect("efs");
    let cases = [
        (
            efs(DEAD_FS),
            "ResourceInitializationError: failed to mount shared volume 'data' (fs-00000000deadbeef): glusterfs 127.0.0.2:/berth-no-such-volume: ",
        ),
        (
            efs("fs-99999999"),
            "ResourceInitializationError: failed to mount shared volume 'data' (fs-99999999): file system fs-99999999 is not declared on this Berth server",
        ),
        (
            encrypted,
            "efsVolumeConfiguration.transitEncryption (volume 'data'): is ENABLED but file system fs-0123456789abcdef0 is declared without an encrypted transport",
        ),
    ];
    for (n, (config, reason)) in cases.into_iter().enumerate() {
        let td = register(ecs, &format!("dead-{n}"), config, "exec sleep 600").await;
        let arn = run_one(ecs, cluster, &td).await;
        let task = wait_status(ecs, cluster, &arn, "STOPPED").await;
        let stopped = task.stopped_reason().unwrap_or_default();
        assert!(stopped.starts_with(reason), "{stopped}");
        assert!(task_containers(&arn).is_empty(), "no container was created");
        let id = arn.rsplit('/').next().unwrap_or_default();
        for agent in 0..2 {
            let left = fleet.state_dir_of(agent).join("fs").join(id);
            assert!(!left.exists(), "{} is left", left.display());
        }
    }
}
