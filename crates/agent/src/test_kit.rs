//! What the runner's and the manager's tests share: a [`RunnerCtx`] on the in-memory runtime
//! (or the real engine) whose reports are kept rather than sent, and task builders; and for
//! the tests on the real engine, the busybox test image.

use crate::client::EcsClient;
use crate::logs::memory::MemorySink;
use crate::registry_auth::RegistryAuth;
use crate::reporter::Reporter;
use crate::runner::RunnerCtx;
use crate::runtime::ContainerRuntime;
use berth_types::ecs::NetworkMode;
use berth_types::ecs::{
    ContainerCondition, ContainerDefinition, ContainerDependency, SubmitTaskStateChangeRequest,
    Task, TaskDefinition,
};
use berth_types::protocol::{AssignedTask, TaskNetwork};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The container instance every test runs on.
pub(crate) const INSTANCE: &str =
    "arn:aws:ecs:us-east-1:000000000000:container-instance/default/i1";

/// The task a test runs, unless it needs several.
pub(crate) const TASK: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/t1";

/// How long [`Reports::next`] waits before failing the test.
const PATIENCE: Duration = Duration::from_secs(5);

/// A context on `runtime` (the fake, or the real engine), and the reports its runners make.
pub(crate) fn ctx<R: ContainerRuntime>(runtime: R) -> (RunnerCtx<R>, Reports) {
    let (reporter, queue) = Reporter::queue();
    // Nothing listens there: the test images are not Berth's, so a failed token fetch only
    // means they are pulled without credentials, as on a real host.
    let client = EcsClient::new("http://127.0.0.1:1", "AKIDTEST", "secret", "us-east-1");
    let unreachable = client.clone();
    let ctx = RunnerCtx {
        runtime,
        reporter,
        cluster: "default".into(),
        instance_arn: INSTANCE.into(),
        health: Default::default(),
        registry: Arc::new(RegistryAuth::new(client)),
        policy: Default::default(),
        logs: Arc::new(MemorySink::default()),
        cleanup_wait: Duration::ZERO,
        firelens: crate::logs::firelens::Host::new(
            &std::env::temp_dir().join(format!("berth-agent-test-{}", std::process::id())),
            "http://127.0.0.1:9714",
        ),
        credentials: Arc::new(unreachable.clone()),
        secrets: Arc::new(unreachable),
        shared_fs: crate::shared_fs::SharedMounts::new(
            &std::env::temp_dir().join(format!("berth-agent-test-{}", std::process::id())),
        ),
        cgroups: None,
        networks: Default::default(),
    };
    (ctx, Reports(queue))
}

/// The reports runners made, in order.
pub(crate) struct Reports(mpsc::UnboundedReceiver<SubmitTaskStateChangeRequest>);

impl Reports {
    /// The next report with task status `status`, skipping others; fails the test after a few
    /// seconds.
    pub(crate) async fn next(&mut self, status: &str) -> SubmitTaskStateChangeRequest {
        self.next_within(status, PATIENCE).await
    }

    /// [`Reports::next`], failing the test after `patience`.
    pub(crate) async fn next_within(
        &mut self,
        status: &str,
        patience: Duration,
    ) -> SubmitTaskStateChangeRequest {
        let found = tokio::time::timeout(patience, async {
            loop {
                let report = self.0.recv().await.expect("the reporter lives in the ctx");
                if report.status.as_deref() == Some(status) {
                    return report;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no {status} report"))
    }
}

/// An essential `busybox` container named `name`.
pub(crate) fn container(name: &str) -> ContainerDefinition {
    ContainerDefinition {
        name: Some(name.into()),
        image: Some("busybox".into()),
        ..ContainerDefinition::default()
    }
}

/// `def`, waiting for `on` to reach `condition` before it starts.
pub(crate) fn depends(
    mut def: ContainerDefinition,
    on: &str,
    condition: ContainerCondition,
) -> ContainerDefinition {
    def.depends_on
        .get_or_insert_with(Vec::new)
        .push(ContainerDependency {
            container_name: on.into(),
            condition,
        });
    def
}

/// Task `arn` of family `app` with `containers`, desired RUNNING.
pub(crate) fn task(arn: &str, containers: Vec<ContainerDefinition>) -> AssignedTask {
    AssignedTask {
        task: Task {
            task_arn: Some(arn.into()),
            desired_status: Some("RUNNING".into()),
            ..Task::default()
        },
        task_definition: TaskDefinition {
            family: Some("app".into()),
            revision: Some(1),
            container_definitions: Some(containers),
            ..TaskDefinition::default()
        },
        shared_volumes: vec![],
        network: None,
    }
}

/// Task `arn` of [`task`], in network mode awsvpc with network interface `interface`.
pub(crate) fn awsvpc(
    arn: &str,
    containers: Vec<ContainerDefinition>,
    interface: Option<TaskNetwork>,
) -> AssignedTask {
    let mut assigned = task(arn, containers);
    assigned.task_definition.network_mode = Some(NetworkMode::Awsvpc);
    assigned.network = interface;
    assigned
}

/// A network interface with address `ip` in VPC `vpc_id` of block `cidr`.
pub(crate) fn interface(vpc_id: &str, cidr: &str, vni: u32, ip: &str) -> TaskNetwork {
    TaskNetwork {
        interface_id: format!("eni-{vni}"),
        vpc_id: vpc_id.into(),
        vpc_cidr: cidr.into(),
        vni,
        subnet_id: "subnet-1".into(),
        ipv4_address: ip.into(),
        mac_address: "0e:00:00:00:01:04".into(),
        private_dns_name: format!("ip-{}.ec2.internal", ip.replace('.', "-")),
        security_groups: vec![],
    }
}

/// The test kit's busybox image (`crates/test-kit/src/image.rs`: `FROM scratch` with Debian's
/// static busybox, no registry needed), built once per test binary the same way: the test kit
/// depends on this crate, and linking it (with the control plane it brings) into the agent's
/// tests would cost more than these lines. Returns its tag.
pub(crate) fn busybox_image() -> &'static str {
    const IMAGE: &str = "berth-busybox:e2e";
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("busybox-static is installed (apt-get install busybox-static)");
        std::fs::copy(busybox, dir.path().join("busybox")).expect("copy busybox");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\", \"/www\"]\n",
        )
        .expect("write Dockerfile");
        let status = std::process::Command::new("docker")
            .args(["build", "-q", "-t", IMAGE])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("docker build runs");
        assert!(status.success(), "docker build of the test image failed");
    });
    IMAGE
}
