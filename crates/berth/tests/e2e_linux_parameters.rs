//! A container's Linux options under `berth up`, with real Docker containers: what
//! `linuxParameters`, `ulimits`, `systemControls`, `dockerSecurityOptions` and
//! `dnsSearchDomains` ask for is seen from inside the container and in `docker inspect`; a
//! linked container is reachable by its alias; the containers of a `pidMode: task` task see each
//! other's processes; a task's cpu and memory hold its containers through a cgroup of its own;
//! and what cannot be honoured stops the task with a reason naming the field.

use aws_sdk_ecs::types::{
    ContainerDefinition, Device, DeviceCgroupPermission, IpcMode, KernelCapabilities,
    LinuxParameters, PidMode, SystemControl, Tmpfs, Ulimit, UlimitName,
};
use berth_test_kit::docker::{docker_exec, docker_inspect, task_containers};
use berth_test_kit::ecs::{
    container, register, register_definition, run_one, stop_and_wait, wait_status,
};
use berth_test_kit::up::Berth;
use serde_json::{Value, json};

const MIB: i64 = 1024 * 1024;
/// Capability bits, as `capabilities(7)` numbers them.
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The container of `arn` named `name`, with its engine id.
fn named(arn: &str, name: &str) -> String {
    task_containers(arn)
        .into_iter()
        .find(|id| {
            docker_inspect(
                id,
                r#"{{index .Config.Labels "com.amazonaws.ecs.container-name"}}"#,
            ) == name
        })
        .unwrap_or_else(|| panic!("no container {name} in {arn}"))
}

/// `docker inspect`'s HostConfig of a container.
fn host_config(id: &str) -> Value {
    serde_json::from_str(&docker_inspect(id, "{{json .HostConfig}}")).expect("HostConfig JSON")
}

/// What a script prints inside container `id`, trimmed.
fn inside(id: &str, script: &str) -> String {
    docker_exec(id, script)
        .unwrap_or_else(|e| panic!("{script}: {e}"))
        .trim()
        .to_string()
}

/// Capabilities as Docker reports them, without the `CAP_` it adds.
fn capabilities(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| c.trim_start_matches("CAP_").to_string())
        .collect()
}

fn everything() -> ContainerDefinition {
    let linux = LinuxParameters::builder()
        .capabilities(
            KernelCapabilities::builder()
                .add("NET_ADMIN")
                .drop("NET_RAW")
                .build(),
        )
        .init_process_enabled(true)
        .shared_memory_size(128)
        .tmpfs(
            Tmpfs::builder()
                .container_path("/scratch")
                .size(64)
                .mount_options("noexec")
                .build()
                .expect("tmpfs"),
        )
        .devices(
            Device::builder()
                .host_path("/dev/null")
                .container_path("/dev/berth-null")
                .permissions(DeviceCgroupPermission::Read)
                .permissions(DeviceCgroupPermission::Write)
                .build()
                .expect("device"),
        )
        .max_swap(32)
        .swappiness(10)
        .build();
    container("app", &["sleep", "600"])
        .memory(64)
        .linux_parameters(linux)
        .ulimits(
            Ulimit::builder()
                .name(UlimitName::Nofile)
                .soft_limit(1000)
                .hard_limit(2000)
                .build()
                .expect("ulimit"),
        )
        .system_controls(
            SystemControl::builder()
                .namespace("net.ipv4.ip_unprivileged_port_start")
                .value("80")
                .build(),
        )
        .docker_security_options("no-new-privileges")
        .dns_search_domains("berth.test")
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn linux_parameters_reach_the_container() {
    let (berth, ecs) = Berth::ready("linux").await;
    let td = register(&ecs, "linux", vec![everything()]).await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &arn, "RUNNING").await;
    let id = named(&arn, "app");

    // From inside.
    let status = inside(&id, "cat /proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{name} in {status}"))
            .to_string()
    };
    let effective = u64::from_str_radix(&field("CapEff:"), 16).expect("CapEff in hex");
    assert!(
        effective & (1 << CAP_NET_ADMIN) != 0,
        "NET_ADMIN added: {effective:x}"
    );
    assert!(
        effective & (1 << CAP_NET_RAW) == 0,
        "NET_RAW dropped: {effective:x}"
    );
    assert_eq!(field("NoNewPrivs:"), "1");
    assert_eq!(inside(&id, "ulimit -n; ulimit -Hn"), "1000\n2000");
    assert_eq!(
        inside(&id, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start"),
        "80"
    );
    let init = inside(&id, "tr '\\0' ' ' < /proc/1/cmdline");
    assert!(
        init.contains("init") && !init.starts_with("sleep"),
        "PID 1 is {init}"
    );
    let mounts = inside(&id, "cat /proc/mounts");
    let mount = |path: &str| {
        mounts
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(path))
            .unwrap_or_else(|| panic!("{path} in {mounts}"))
            .to_string()
    };
    let scratch = mount("/scratch");
    assert!(
        scratch.starts_with("tmpfs ")
            && scratch.contains("size=65536k")
            && scratch.contains("noexec"),
        "{scratch}"
    );
    assert!(mount("/dev/shm").contains("size=131072k"), "{mounts}");
    inside(&id, "test -c /dev/berth-null && echo hi > /dev/berth-null");
    assert!(inside(&id, "cat /etc/resolv.conf").contains("berth.test"));

    // And as Docker has it.
    let host = host_config(&id);
    assert_eq!(capabilities(&host["CapAdd"]), ["NET_ADMIN"]);
    assert_eq!(capabilities(&host["CapDrop"]), ["NET_RAW"]);
    assert_eq!(host["Init"], true);
    assert_eq!(host["ShmSize"], 128 * MIB);
    assert_eq!(host["Tmpfs"], json!({"/scratch": "size=64m,noexec"}));
    assert_eq!(
        host["Ulimits"],
        json!([{"Name": "nofile", "Soft": 1000, "Hard": 2000}])
    );
    assert_eq!(
        host["Sysctls"],
        json!({"net.ipv4.ip_unprivileged_port_start": "80"})
    );
    assert_eq!(
        host["Devices"],
        json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/berth-null", "CgroupPermissions": "rw"}])
    );
    assert_eq!(host["SecurityOpt"], json!(["no-new-privileges"]));
    assert_eq!(host["DnsSearch"], json!(["berth.test"]));
    assert_eq!(host["Memory"], 64 * MIB);
    assert_eq!(host["MemorySwap"], (64 + 32) * MIB);
    assert_eq!(host["MemorySwappiness"], 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_honoured_stops_the_task_naming_the_field() {
    let (berth, ecs) = Berth::ready("noswap").await;
    // A swap limit needs a memory limit: the container has only a reservation.
    let swapping = container("app", &["sleep", "600"])
        .set_memory(None)
        .memory_reservation(16)
        .linux_parameters(LinuxParameters::builder().max_swap(0).build())
        .build();
    let td = register(&ecs, "noswap", vec![swapping]).await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    let task = wait_status(&ecs, &berth.cluster, &arn, "STOPPED").await;
    let reason = task.stopped_reason().unwrap_or_default();
    assert!(reason.contains("linuxParameters.maxSwap"), "{reason}");
    assert!(task_containers(&arn).is_empty(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn linked_containers_and_a_task_pid_namespace() {
    let (berth, ecs) = Berth::ready("links").await;
    // `web` is first in the definition, but starts after `db`, which it links to.
    let web = container("web", &["sleep", "602"])
        .links("db:database")
        .build();
    let db = container("db", &["sleep", "601"]).build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("links")
            .pid_mode(PidMode::Task)
            .ipc_mode(IpcMode::Task)
            .container_definitions(web)
            .container_definitions(db),
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &arn, "RUNNING").await;
    let (web, db) = (named(&arn, "web"), named(&arn, "db"));

    let hosts = inside(&web, "cat /etc/hosts");
    assert!(
        hosts
            .lines()
            .any(|l| l.split_whitespace().any(|w| w == "database")),
        "{hosts}"
    );
    let processes = inside(&web, "ps");
    assert!(
        processes.contains("sleep 601"),
        "db's sleep seen from web: {processes}"
    );

    let (web_host, db_host) = (host_config(&web), host_config(&db));
    // Docker keeps a link as `/<target>:/<container>/<alias>`.
    let link = web_host["Links"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let db_name = docker_inspect(&db, "{{.Name}}");
    assert!(
        link.starts_with(&format!("{db_name}:")) && link.ends_with("/database"),
        "{web_host}"
    );
    let holder = format!("container:{}", docker_inspect(&db, "{{.Id}}"));
    assert_eq!(web_host["PidMode"], holder);
    assert_eq!(web_host["IpcMode"], holder);
    assert_eq!(db_host["IpcMode"], "shareable");
}

/// The engine's cgroup driver.
fn cgroup_driver() -> String {
    let out = std::process::Command::new("docker")
        .args(["info", "--format", "{{.CgroupDriver}}"])
        .output()
        .expect("docker info");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tasks_cpu_and_memory_are_the_limits_of_its_cgroup() {
    if cgroup_driver() != "cgroupfs" {
        eprintln!("skipped: Docker's cgroup driver is not cgroupfs, so task sizes are not cgroups");
        return;
    }
    let (berth, ecs) = Berth::ready("task-cgroup").await;
    let app = container("app", &["sleep", "600"]).build();
    let td = register_definition(
        ecs.register_task_definition()
            .family("task-cgroup")
            .cpu("256")
            .memory("128")
            .container_definitions(app),
    )
    .await;
    let arn = run_one(&ecs, &berth.cluster, &td).await;
    wait_status(&ecs, &berth.cluster, &arn, "RUNNING").await;
    let id = arn.rsplit('/').next().unwrap_or_default();
    let container = named(&arn, "app");
    assert_eq!(
        docker_inspect(&container, "{{.HostConfig.CgroupParent}}"),
        format!("/berth/{id}")
    );
    let root = std::path::Path::new("/sys/fs/cgroup");
    let read = |path: &str| {
        let path = root.join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let (cpu, memory, task_dir) = if root.join("cgroup.controllers").exists() {
        let cpu = read(&format!("berth/{id}/cpu.max"));
        (
            cpu,
            read(&format!("berth/{id}/memory.max")),
            root.join(format!("berth/{id}")),
        )
    } else {
        let cpu = read(&format!("cpu/berth/{id}/cpu.cfs_quota_us"));
        let memory = read(&format!("memory/berth/{id}/memory.limit_in_bytes"));
        (cpu, memory, root.join(format!("memory/berth/{id}")))
    };
    assert!(cpu.starts_with("25000"), "a quarter CPU: {cpu}");
    assert_eq!(memory.trim(), (128u64 << 20).to_string());
    stop_and_wait(&ecs, &berth.cluster, &arn).await;
    assert!(
        !task_dir.exists(),
        "{} is removed with the task",
        task_dir.display()
    );
}
