//! The control plane on the in-memory store with a clock the test moves by hand, and the
//! fixtures its tests share: instances with connected agents, a task definition, RunTask and
//! the reports an agent would send.

use berth_control::{Clock, ControlPlane};
use berth_store::MemStore;
use berth_types::arn::Partition;
use berth_types::ecs::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A clock the test moves by hand, in whole seconds.
#[derive(Default)]
pub struct HandClock(pub AtomicU64);

impl HandClock {
    /// Moves the clock `seconds` forward.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for HandClock {
    fn now(&self) -> f64 {
        self.0.load(Ordering::SeqCst) as f64
    }
}

/// A control plane in us-east-1 on a fresh [`MemStore`], and its hand clock.
pub fn plane() -> (ControlPlane, Arc<HandClock>) {
    let clock = Arc::new(HandClock(AtomicU64::new(1_000_000)));
    let partition = Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let cp =
        ControlPlane::open(partition, Arc::new(MemStore::default()), clock.clone()).expect("opens");
    (cp, clock)
}

/// An INTEGER resource (CPU, MEMORY) of an instance.
pub fn resource(name: &str, v: i32) -> Resource {
    Resource {
        name: Some(name.into()),
        r#type: Some("INTEGER".into()),
        integer_value: Some(v),
        ..Resource::default()
    }
}

/// Registers an instance of that CPU and memory, its agent connected; returns its ARN.
pub fn instance(cp: &ControlPlane, cpu: i32, memory: i32) -> String {
    connected(
        cp,
        RegisterContainerInstanceRequest {
            total_resources: Some(vec![resource("CPU", cpu), resource("MEMORY", memory)]),
            ..RegisterContainerInstanceRequest::default()
        },
    )
}

/// Registers an instance of 4 vCPU and 4 GiB in `cluster` and availability zone `zone`, its
/// agent connected; returns its ARN.
pub fn instance_in_zone(cp: &ControlPlane, cluster: &str, zone: &str) -> String {
    connected(
        cp,
        RegisterContainerInstanceRequest {
            cluster: Some(cluster.into()),
            total_resources: Some(vec![resource("CPU", 4096), resource("MEMORY", 4096)]),
            attributes: Some(vec![Attribute {
                name: "ecs.availability-zone".into(),
                value: Some(zone.into()),
                ..Attribute::default()
            }]),
            ..RegisterContainerInstanceRequest::default()
        },
    )
}

/// Registers an instance as `request` says and marks its agent connected; returns its ARN.
fn connected(cp: &ControlPlane, request: RegisterContainerInstanceRequest) -> String {
    let arn = cp
        .register_container_instance(request)
        .expect("registers")
        .container_instance
        .and_then(|i| i.container_instance_arn)
        .expect("arn");
    cp.set_agent_connected(&arn, true);
    arn
}

/// Registers a revision of family `web`: one container of `memory` MiB, mapping port 80 to
/// `host_port` when given.
pub fn definition(cp: &ControlPlane, memory: i32, host_port: Option<i32>) {
    cp.register_task_definition(RegisterTaskDefinitionRequest {
        family: "web".into(),
        container_definitions: vec![ContainerDefinition {
            name: Some("web".into()),
            image: Some("busybox".into()),
            memory: Some(memory),
            port_mappings: host_port.map(|p| {
                vec![PortMapping {
                    container_port: Some(80),
                    host_port: Some(p),
                    ..PortMapping::default()
                }]
            }),
            ..ContainerDefinition::default()
        }],
        ..RegisterTaskDefinitionRequest::default()
    })
    .expect("registers");
}

/// RunTask of `count` tasks of `web`.
pub fn run(cp: &ControlPlane, count: i32) -> RunTaskResponse {
    cp.run_task(RunTaskRequest {
        task_definition: "web".into(),
        count: Some(count),
        ..RunTaskRequest::default()
    })
    .expect("RunTask answers")
}

/// Reports a task status as its agent would.
pub fn report(cp: &ControlPlane, task: &str, status: &str, reason: Option<&str>) {
    cp.submit_task_state_change(SubmitTaskStateChangeRequest {
        task: Some(task.into()),
        status: Some(status.into()),
        reason: reason.map(str::to_string),
        ..SubmitTaskStateChangeRequest::default()
    })
    .expect("report accepted");
}

/// CreateService `name` of the task definition `web`, `count` tasks.
pub fn create_service(
    cp: &ControlPlane,
    name: &str,
    count: i32,
    configuration: Option<DeploymentConfiguration>,
) {
    cp.create_service(CreateServiceRequest {
        service_name: name.into(),
        task_definition: Some("web".into()),
        desired_count: Some(count),
        deployment_configuration: configuration,
        ..CreateServiceRequest::default()
    })
    .expect("CreateService");
}

/// UpdateService of `web` to the task definition `td`.
pub fn update_to(cp: &ControlPlane, td: &str) {
    cp.update_service(UpdateServiceRequest {
        service: "web".into(),
        task_definition: Some(td.into()),
        ..UpdateServiceRequest::default()
    })
    .expect("UpdateService");
}

/// Every task in the state.
pub fn all_tasks(cp: &ControlPlane) -> Vec<Task> {
    cp.read().tasks.values().cloned().collect()
}

/// Plays every agent once: PENDING tasks start, tasks told to stop are STOPPED, and the RUNNING
/// tasks `fail` picks exit by themselves (as a container that exits at once does).
pub fn play_agents(cp: &ControlPlane, fail: impl Fn(&Task) -> bool) {
    for t in all_tasks(cp) {
        let arn = t.task_arn.clone().expect("arn");
        match (t.desired_status.as_deref(), t.last_status.as_deref()) {
            (Some("STOPPED"), Some(s)) if s != "STOPPED" => report(cp, &arn, "STOPPED", None),
            (Some("RUNNING"), Some("RUNNING")) if fail(&t) => report(
                cp,
                &arn,
                "STOPPED",
                Some("Essential container in task exited"),
            ),
            (Some("RUNNING"), Some("PENDING")) => report(cp, &arn, "RUNNING", None),
            _ => {}
        }
    }
}
