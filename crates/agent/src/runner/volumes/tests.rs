//! The task volumes' lifecycle on the in-memory runtime: created before the first container,
//! removed after the last, shared ones kept, refusals before anything runs, and adoption.

use crate::runner::run;
use crate::runtime::VolumeSpec;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::spec::volumes::LABEL_VOLUME;
use crate::spec::{LABEL_INSTANCE, LABEL_TASK_ARN};
use crate::test_kit::{INSTANCE, Reports, TASK, container, ctx, task};
use berth_types::ecs::{
    ContainerDefinition, DockerVolumeConfiguration, EFSVolumeConfiguration, MountPoint, Scope,
    Volume, VolumeFrom,
};
use berth_types::protocol::{AssignedTask, SharedSource, SharedVolume};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::watch;

fn volume(name: &str) -> Volume {
    Volume {
        name: Some(name.into()),
        ..Volume::default()
    }
}

fn shared(name: &str, autoprovision: bool) -> Volume {
    Volume {
        docker_volume_configuration: Some(DockerVolumeConfiguration {
            scope: Some(Scope::Shared),
            autoprovision: Some(autoprovision),
            labels: Some(BTreeMap::from([("team".into(), "a".into())])),
            ..DockerVolumeConfiguration::default()
        }),
        ..volume(name)
    }
}

fn mounting(name: &str, volume: &str) -> ContainerDefinition {
    ContainerDefinition {
        mount_points: Some(vec![MountPoint {
            source_volume: Some(volume.into()),
            container_path: Some("/data".into()),
            read_only: None,
        }]),
        ..container(name)
    }
}

fn with_volumes(containers: Vec<ContainerDefinition>, volumes: Vec<Volume>) -> AssignedTask {
    let mut assigned = task(TASK, containers);
    assigned.task_definition.volumes = Some(volumes);
    assigned
}

fn spawn(fake: &FakeRuntime, assigned: AssignedTask) -> (watch::Sender<String>, Reports) {
    let (ctx, reports) = ctx(fake.clone());
    let (desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, assigned, rx).await });
    (desired, reports)
}

/// The position of the first call that `is` accepts; fails the test when there is none.
fn position(calls: &[Call], what: &str, is: impl Fn(&Call) -> bool) -> usize {
    calls
        .iter()
        .position(is)
        .unwrap_or_else(|| panic!("no {what} in {calls:?}"))
}

fn creates_volume(prefix: &str) -> impl Fn(&Call) -> bool + '_ {
    move |c| matches!(c, Call::CreateVolume(n) if n.starts_with(prefix))
}

#[tokio::test]
async fn the_tasks_volumes_live_as_long_as_its_containers() {
    let fake = FakeRuntime::default();
    let task_scoped = Volume {
        docker_volume_configuration: Some(DockerVolumeConfiguration::default()),
        ..volume("cache")
    };
    let assigned = with_volumes(
        vec![mounting("writer", "data"), mounting("reader", "data")],
        vec![volume("data"), volume("unused"), task_scoped],
    );
    let (desired, mut reports) = spawn(&fake, assigned);
    reports.next("RUNNING").await;
    let calls = fake.calls();
    let data = position(&calls, "data created", creates_volume("ecs-app-1-data-"));
    let cache = position(&calls, "cache created", creates_volume("ecs-app-1-cache-"));
    let writer = position(&calls, "writer created", |c| {
        *c == Call::Create("writer".into())
    });
    assert!(data < writer && cache < writer, "{calls:?}");
    let volume_creates = calls
        .iter()
        .filter(|c| matches!(c, Call::CreateVolume(_)))
        .count();
    assert_eq!(
        volume_creates, 2,
        "one data for both, none for unused: {calls:?}"
    );
    let volumes = fake.volumes();
    assert!(volumes.iter().all(|v| {
        v.labels.get(LABEL_TASK_ARN).map(String::as_str) == Some(TASK)
            && v.labels.get(LABEL_INSTANCE).map(String::as_str) == Some(INSTANCE)
    }));
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    let calls = fake.calls();
    let last_container = position(&calls, "reader removed", |c| {
        *c == Call::Remove("reader".into())
    });
    let removed = position(&calls, "a volume removed", |c| {
        matches!(c, Call::RemoveVolume(_))
    });
    assert!(last_container < removed, "{calls:?}");
    assert_eq!(fake.volumes(), vec![]);
}

#[tokio::test]
async fn a_shared_volume_is_autoprovisioned_and_outlives_the_task() {
    let fake = FakeRuntime::default();
    let assigned = with_volumes(
        vec![mounting("app", "shared")],
        vec![shared("shared", true)],
    );
    let (desired, mut reports) = spawn(&fake, assigned);
    reports.next("RUNNING").await;
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert!(fake.calls().contains(&Call::CreateVolume("shared".into())));
    let kept = fake.volumes();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].labels.get("team").map(String::as_str), Some("a"));
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| matches!(c, Call::RemoveVolume(_)))
    );
}

#[tokio::test]
async fn a_shared_volume_that_differs_or_is_missing_stops_the_task() {
    let fake = FakeRuntime::default();
    fake.existing_volume(VolumeSpec {
        name: "shared".into(),
        driver: "local".into(),
        labels: HashMap::from([("team".into(), "b".into())]),
        ..VolumeSpec::default()
    });
    let assigned = with_volumes(
        vec![mounting("app", "shared")],
        vec![shared("shared", true)],
    );
    let (_desired, mut reports) = spawn(&fake, assigned);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(
        stopped.reason.as_deref(),
        Some(
            "intialize volume: non-autoprovisioned volume does not match existing volume labels: existing: map[team:b], expected: map[team:a]"
        )
    );

    let fake = FakeRuntime::default();
    let assigned = with_volumes(vec![mounting("app", "other")], vec![shared("other", false)]);
    let (_desired, mut reports) = spawn(&fake, assigned);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(
        stopped.reason.as_deref(),
        Some(
            "initialize volume: volume detection failed, volume 'other' does not exist and autoprovision is set to false: no such volume"
        )
    );
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| matches!(c, Call::Create(_) | Call::CreateVolume(_))),
        "{:?}",
        fake.calls()
    );
}

fn file_system(source: Option<SharedSource>, error: Option<&str>) -> AssignedTask {
    let efs = Volume {
        efs_volume_configuration: Some(EFSVolumeConfiguration {
            file_system_id: "fs-12345678".into(),
            ..EFSVolumeConfiguration::default()
        }),
        ..volume("data")
    };
    let mut assigned = with_volumes(vec![mounting("app", "data")], vec![efs]);
    assigned.shared_volumes = vec![SharedVolume {
        name: "data".into(),
        file_system_id: "fs-12345678".into(),
        source,
        read_only: true,
        error: error.map(str::to_string),
    }];
    assigned
}

#[tokio::test]
async fn a_shared_file_system_that_cannot_be_mounted_stops_the_task_before_the_pull() {
    let why = "ResourceInitializationError: failed to mount shared volume 'data' (fs-12345678): file system fs-12345678 is not declared on this Berth server";
    for (assigned, reason) in [
        (file_system(None, Some(why)), why),
        (
            AssignedTask {
                shared_volumes: vec![],
                ..file_system(None, None)
            },
            "ResourceInitializationError: shared volume 'data' was not resolved by the control plane: upgrade the Berth server to the agent's version",
        ),
    ] {
        let fake = FakeRuntime::default();
        let (_desired, mut reports) = spawn(&fake, assigned);
        let stopped = reports.next("STOPPED").await;
        assert_eq!(stopped.reason.as_deref(), Some(reason));
        assert_eq!(fake.calls(), vec![]);
    }
}

#[tokio::test]
async fn an_nfs_file_system_is_a_volume_of_the_tasks_own() {
    let fake = FakeRuntime::default();
    let nfs = SharedSource::Nfs {
        server: "10.0.0.9".into(),
        path: "/export/app".into(),
        options: "nfsvers=4.1,hard".into(),
    };
    let (desired, mut reports) = spawn(&fake, file_system(Some(nfs), None));
    reports.next("RUNNING").await;
    let volumes = fake.volumes();
    let [volume] = volumes.as_slice() else {
        panic!("one volume: {volumes:?}")
    };
    let opts = &volume.driver_opts;
    assert_eq!(volume.driver, "local");
    assert_eq!(opts["type"], "nfs");
    assert_eq!(opts["o"], "addr=10.0.0.9,nfsvers=4.1,hard,ro");
    assert_eq!(opts["device"], ":/export/app");
    assert_eq!(volume.labels[LABEL_TASK_ARN], TASK);
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert!(
        fake.calls()
            .contains(&Call::RemoveVolume(volume.name.clone()))
    );
}

#[tokio::test]
async fn volumes_from_starts_after_its_source() {
    let fake = FakeRuntime::default();
    let reader = ContainerDefinition {
        volumes_from: Some(vec![VolumeFrom {
            source_container: Some("writer".into()),
            read_only: Some(true),
        }]),
        ..container("reader")
    };
    let assigned = with_volumes(
        vec![reader, mounting("writer", "data")],
        vec![volume("data")],
    );
    let (_desired, mut reports) = spawn(&fake, assigned);
    reports.next("RUNNING").await;
    let calls = fake.calls();
    let writer = position(&calls, "writer created", |c| {
        *c == Call::Create("writer".into())
    });
    let reader = position(&calls, "reader created", |c| {
        *c == Call::Create("reader".into())
    });
    assert!(writer < reader, "{calls:?}");
}

#[tokio::test]
async fn a_restarted_agent_keeps_the_tasks_volume_and_removes_it_at_the_end() {
    let fake = FakeRuntime::default();
    // What the agent left before it restarted: the volume and the writer.
    let old = "ecs-app-1-data-0ld";
    fake.existing_volume(VolumeSpec {
        name: old.into(),
        driver: "local".into(),
        labels: HashMap::from([
            (LABEL_INSTANCE.to_string(), INSTANCE.to_string()),
            (LABEL_TASK_ARN.to_string(), TASK.to_string()),
            (LABEL_VOLUME.to_string(), "data".to_string()),
        ]),
        ..VolumeSpec::default()
    });
    fake.existing(INSTANCE, TASK, "writer");
    let assigned = with_volumes(
        vec![mounting("writer", "data"), mounting("reader", "data")],
        vec![volume("data")],
    );
    let (desired, mut reports) = spawn(&fake, assigned);
    reports.next("RUNNING").await;
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    let calls = fake.calls();
    assert!(
        !calls.iter().any(|c| matches!(c, Call::CreateVolume(_))),
        "{calls:?}"
    );
    assert!(calls.contains(&Call::RemoveVolume(old.into())), "{calls:?}");
}

#[tokio::test]
async fn the_sweep_removes_the_volumes_of_tasks_gone_from_the_engine() {
    let fake = FakeRuntime::default();
    let of_task = |name: &str, task: &str| VolumeSpec {
        name: name.into(),
        driver: "local".into(),
        labels: HashMap::from([
            (LABEL_INSTANCE.to_string(), INSTANCE.to_string()),
            (LABEL_TASK_ARN.to_string(), task.to_string()),
        ]),
        ..VolumeSpec::default()
    };
    let arn = |id: &str| format!("arn:aws:ecs:us-east-1:000000000000:task/default/{id}");
    fake.existing_volume(of_task("gone-v", &arn("gone")));
    fake.existing_volume(of_task("busy-v", &arn("busy")));
    fake.existing_volume(of_task("kept-v", &arn("kept")));
    fake.existing(INSTANCE, &arn("kept"), "web");
    // A shared volume carries no task.
    let mut shared = of_task("shared", "");
    shared.labels.remove(LABEL_TASK_ARN);
    fake.existing_volume(shared);
    super::sweep(&fake, INSTANCE, |task| task == arn("busy")).await;
    let left: Vec<String> = fake.volumes().into_iter().map(|v| v.name).collect();
    assert_eq!(left, ["busy-v", "kept-v", "shared"]);
}
