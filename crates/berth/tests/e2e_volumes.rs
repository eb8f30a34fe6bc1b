//! Task definition volumes under `berth up`, proven from inside the containers: a scratch
//! volume one container writes and another reads, a host directory bound read-write and
//! read-only, a shared Docker volume that a second task finds as the first left it, a
//! `volumesFrom` that sees another container's volumes, a read-only root file system, and
//! after StopTask the task's own volumes gone while the shared one stays. Shared file systems
//! (`efsVolumeConfiguration`) are `e2e_shared_volumes.rs`'s.

use aws_sdk_ecs::types::{
    DockerVolumeConfiguration, HostVolumeProperties, MountPoint, Scope, Task, Volume, VolumeFrom,
};
use berth_test_kit::docker::{docker_exec, docker_inspect};
use berth_test_kit::ecs::{
    container, container_named, eventually, register_definition, run_one, stop_and_wait,
    wait_status,
};
use berth_test_kit::up::Berth;
use std::process::Command;
use std::time::Duration;

fn mount(volume: &str, path: &str, read_only: bool) -> MountPoint {
    MountPoint::builder()
        .source_volume(volume)
        .container_path(path)
        .read_only(read_only)
        .build()
}

fn host(name: &str, path: &std::path::Path) -> Volume {
    let host = HostVolumeProperties::builder()
        .source_path(path.display().to_string())
        .build();
    Volume::builder().name(name).host(host).build()
}

fn docker(name: &str, config: DockerVolumeConfiguration) -> Volume {
    Volume::builder()
        .name(name)
        .docker_volume_configuration(config)
        .build()
}

/// `docker volume inspect NAME` succeeds.
fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .output()
        .expect("docker volume inspect")
        .status
        .success()
}

/// What the test made Docker keep, removed when dropped even if the test fails: the shared
/// volume, and the volumes of its tasks (the agent removes them as the tasks stop, unless the
/// test failed first). Declared before the [`Berth`], so it goes after the tasks' containers.
struct Leftovers {
    volumes: Vec<String>,
    tasks: Vec<String>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for arn in &self.tasks {
            let listed = Command::new("docker")
                .args(["volume", "ls", "-q", "--filter"])
                .arg(format!("label=com.amazonaws.ecs.task-arn={arn}"))
                .output();
            if let Ok(out) = listed {
                let names = String::from_utf8_lossy(&out.stdout);
                self.volumes
                    .extend(names.split_whitespace().map(str::to_string));
            }
        }
        for name in &self.volumes {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", name])
                .output();
        }
    }
}

/// The engine id of container `name` of a running task.
fn id_of(task: &Task, name: &str) -> String {
    container_named(task, name)
        .and_then(|c| c.runtime_id())
        .unwrap_or_else(|| panic!("{name} has a runtime id"))
        .to_string()
}

/// What `script` prints in container `id` once it succeeds (the task's containers start
/// together, so a reader may look before a writer wrote).
async fn once_ok(id: &str, script: &str) -> String {
    eventually(script, Duration::from_secs(30), || async {
        docker_exec(id, script).ok()
    })
    .await
    .trim()
    .to_string()
}

/// Each mount of container `id` as `type name-or-source destination rw`.
fn mounts(id: &str) -> Vec<String> {
    let format = "{{range .Mounts}}{{.Type}} {{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}} {{.Destination}} {{.RW}};{{end}}";
    let mut listed: Vec<String> = docker_inspect(id, format)
        .split(';')
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    listed.sort();
    listed
}

#[tokio::test(flavor = "multi_thread")]
async fn volumes_are_mounted_as_the_definition_says() {
    let shared_name = format!("berth-e2e-shared-{}", std::process::id());
    let mut leftovers = Leftovers {
        volumes: vec![shared_name.clone()],
        tasks: vec![],
    };
    let (berth, ecs) = Berth::ready("volumes").await;
    let cluster = berth.cluster.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("f"), "from the host").expect("write");

    let shared = DockerVolumeConfiguration::builder()
        .scope(Scope::Shared)
        .autoprovision(true)
        .driver("local")
        .labels("purpose", "e2e")
        .build();
    let volumes = vec![
        Volume::builder().name("scratch").build(),
        host("hostdir", dir.path()),
        docker(&shared_name, shared),
        docker("cache", DockerVolumeConfiguration::builder().build()),
    ];
    let writer = container(
        "writer",
        &[
            "sh",
            "-c",
            "echo hi > /data/f && echo first > /shared/f && sleep 600",
        ],
    )
    .readonly_root_filesystem(true)
    .mount_points(mount("scratch", "/data", false))
    .mount_points(mount(&shared_name, "/shared", false))
    .mount_points(mount("hostdir", "/host", false))
    .mount_points(mount("hostdir", "/host-ro", true))
    .mount_points(mount("cache", "/cache", false))
    .build();
    let reader = container("reader", &["sleep", "600"])
        .mount_points(mount("scratch", "/data", true))
        .build();
    let borrower = container("borrower", &["sleep", "600"])
        .volumes_from(
            VolumeFrom::builder()
                .source_container("writer")
                .read_only(true)
                .build(),
        )
        .build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("volumes")
            .set_volumes(Some(volumes))
            .set_container_definitions(Some(vec![writer, reader, borrower])),
    )
    .await;
    let arn = run_one(&ecs, cluster, &td).await;
    leftovers.tasks.push(arn.clone());
    let task = wait_status(&ecs, cluster, &arn, "RUNNING").await;
    let (writer, reader, borrower) = (
        id_of(&task, "writer"),
        id_of(&task, "reader"),
        id_of(&task, "borrower"),
    );

    // The scratch volume is shared by the task's containers; read-only where mounted so.
    assert_eq!(once_ok(&reader, "cat /data/f").await, "hi");
    assert!(docker_exec(&reader, "echo x > /data/g").is_err());
    // The host directory, both ways.
    assert_eq!(once_ok(&writer, "cat /host/f").await, "from the host");
    docker_exec(&writer, "echo from the task > /host/g").expect("a read-write bind");
    let written = std::fs::read_to_string(dir.path().join("g")).expect("the task wrote");
    assert_eq!(written.trim(), "from the task");
    assert!(docker_exec(&writer, "echo x > /host-ro/h").is_err());
    // readonlyRootFilesystem: volumes take writes, the root does not.
    assert!(docker_exec(&writer, "echo x > /rootfile").is_err());
    // volumesFrom: the writer's volumes, read-only.
    assert_eq!(once_ok(&borrower, "cat /data/f").await, "hi");
    assert_eq!(once_ok(&borrower, "cat /shared/f").await, "first");
    assert!(docker_exec(&borrower, "echo x > /shared/g").is_err());

    // What Docker says agrees with the definition.
    let task_volume = |name: &str| {
        let prefix = format!("volume ecs-volumes-1-{name}-");
        let found = mounts(&writer).into_iter().find(|m| m.starts_with(&prefix));
        let found = found.unwrap_or_else(|| panic!("{prefix}… in {:?}", mounts(&writer)));
        found.split(' ').nth(1).expect("a name").to_string()
    };
    let (scratch, cache) = (task_volume("scratch"), task_volume("cache"));
    let host_path = dir.path().display().to_string();
    let mut expected = vec![
        format!("bind {host_path} /host true"),
        format!("bind {host_path} /host-ro false"),
        format!("volume {cache} /cache true"),
        format!("volume {scratch} /data true"),
        format!("volume {shared_name} /shared true"),
    ];
    expected.sort();
    assert_eq!(mounts(&writer), expected);
    let writer_name = docker_inspect(&writer, "{{.Name}}");
    assert_eq!(
        docker_inspect(&borrower, "{{json .HostConfig.VolumesFrom}}"),
        format!("[\"{}:ro\"]", writer_name.trim_start_matches('/'))
    );

    stop_and_wait(&ecs, cluster, &arn).await;
    assert!(
        !volume_exists(&scratch),
        "the scratch volume went with the task"
    );
    assert!(
        !volume_exists(&cache),
        "the task-scoped volume went with the task"
    );
    assert!(volume_exists(&shared_name), "the shared volume stays");

    // A second task finds what the first left in the shared volume.
    let shared_again = DockerVolumeConfiguration::builder()
        .scope(Scope::Shared)
        .autoprovision(true)
        .driver("local")
        .labels("purpose", "e2e")
        .build();
    let later = container("later", &["sleep", "600"])
        .mount_points(mount(&shared_name, "/shared", true))
        .build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("volumes-later")
            .volumes(docker(&shared_name, shared_again))
            .container_definitions(later),
    )
    .await;
    let second = run_one(&ecs, cluster, &td).await;
    leftovers.tasks.push(second.clone());
    let task = wait_status(&ecs, cluster, &second, "RUNNING").await;
    assert_eq!(
        once_ok(&id_of(&task, "later"), "cat /shared/f").await,
        "first"
    );
    stop_and_wait(&ecs, cluster, &second).await;
    assert!(volume_exists(&shared_name), "the shared volume stays");
}
