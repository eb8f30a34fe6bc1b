//! An awsvpc task's lifecycle on the in-memory runtime: the VPC's network and the pause before
//! the first container, the pause after the last, the network removed with the last task of
//! its VPC, adoption of the pause after a restart, and the refusals.

use super::{NO_INTERFACE, PAUSE_CONTAINER, pause_exited};
use crate::network::pause::IMAGE;
use crate::runner::run;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::test_kit::{INSTANCE, Reports, TASK, awsvpc, container, ctx, interface};
use berth_types::protocol::AssignedTask;
use tokio::sync::watch;

const NETWORK: &str = "berth-vpc-1";

fn spawn(fake: &FakeRuntime, assigned: AssignedTask) -> (watch::Sender<String>, Reports) {
    let (ctx, reports) = ctx(fake.clone());
    let (desired, rx) = watch::channel("RUNNING".to_string());
    tokio::spawn(async move { run(&ctx, assigned, rx).await });
    (desired, reports)
}

fn web_task() -> AssignedTask {
    let eni = interface("vpc-1", "10.0.0.0/16", 7, "10.0.1.4");
    awsvpc(TASK, vec![container("web")], Some(eni))
}

#[tokio::test]
async fn the_pause_comes_first_and_goes_last_with_the_vpcs_network() {
    let fake = FakeRuntime::default();
    let (desired, mut reports) = spawn(&fake, web_task());
    reports.next("RUNNING").await;
    let pause = |call: fn(String) -> Call| call(PAUSE_CONTAINER.to_string());
    assert_eq!(
        fake.calls(),
        [
            Call::Pull("busybox".into()),
            Call::Import(IMAGE.into()),
            Call::CreateNetwork(NETWORK.into()),
            pause(Call::Create),
            pause(Call::Start),
            Call::Create("web".into()),
            Call::Start("web".into()),
        ]
    );
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert_eq!(
        fake.calls()[7..],
        [
            Call::Stop("web".into(), 30),
            Call::Remove("web".into()),
            pause(Call::Remove),
            Call::RemoveNetwork(NETWORK.into()),
        ]
    );
}

#[tokio::test]
async fn the_network_stays_while_another_task_of_the_vpc_runs() {
    let fake = FakeRuntime::default();
    let (ctx, mut reports) = ctx(fake.clone());
    let ctx = std::sync::Arc::new(ctx);
    let other = "arn:aws:ecs:us-east-1:000000000000:task/default/t2";
    let eni = interface("vpc-1", "10.0.0.0/16", 7, "10.0.1.5");
    let mut desired = vec![];
    for assigned in [web_task(), awsvpc(other, vec![container("api")], Some(eni))] {
        let (tx, rx) = watch::channel("RUNNING".to_string());
        let ctx = ctx.clone();
        tokio::spawn(async move { run(&ctx, assigned, rx).await });
        desired.push(tx);
        reports.next("RUNNING").await;
    }
    let created = |c: &Call| matches!(c, Call::CreateNetwork(_));
    assert_eq!(fake.calls().iter().filter(|c| created(c)).count(), 1);
    desired[0].send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert_eq!(fake.networks().len(), 1, "task 2 still uses it");
    desired[1].send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert_eq!(fake.networks(), [], "removed with the last task");
}

#[tokio::test]
async fn a_restarted_agent_adopts_the_pause() {
    let fake = FakeRuntime::default();
    // What the agent left before it restarted: the network, the pause and the container.
    let spec =
        crate::network::vpc_network::spec(INSTANCE, web_task().network.as_ref().expect("eni"));
    fake.existing_network(spec.expect("valid"));
    fake.existing(INSTANCE, TASK, PAUSE_CONTAINER);
    fake.existing(INSTANCE, TASK, "web");
    let (desired, mut reports) = spawn(&fake, web_task());
    reports.next("RUNNING").await;
    assert_eq!(fake.calls(), [], "nothing created again");
    desired.send_replace("STOPPED".into());
    reports.next("STOPPED").await;
    assert_eq!(
        fake.calls(),
        [
            Call::Stop("web".into(), 30),
            Call::Remove("web".into()),
            Call::Remove(PAUSE_CONTAINER.into()),
            Call::RemoveNetwork(NETWORK.into()),
        ]
    );
}

#[tokio::test]
async fn an_awsvpc_task_without_an_interface_stops_before_anything_runs() {
    let fake = FakeRuntime::default();
    let (_desired, mut reports) = spawn(&fake, awsvpc(TASK, vec![container("web")], None));
    let stopped = reports.next("STOPPED").await;
    assert_eq!(stopped.reason.as_deref(), Some(NO_INTERFACE));
    assert_eq!(fake.calls(), []);
}

#[tokio::test]
async fn a_vpc_that_overlaps_another_network_stops_the_task() {
    let fake = FakeRuntime::default();
    fake.existing_network(crate::runtime::NetworkSpec {
        name: "bridge".into(),
        subnets: vec!["10.0.0.0/8".into()],
        ..Default::default()
    });
    let (_desired, mut reports) = spawn(&fake, web_task());
    let stopped = reports.next("STOPPED").await;
    let reason = stopped.reason.expect("reason");
    assert!(
        reason.contains("Docker network bridge holds 10.0.0.0/8"),
        "{reason}"
    );
    let made = |c: &Call| matches!(c, Call::Create(_) | Call::CreateNetwork(_));
    assert!(!fake.calls().iter().any(made), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_pause_that_exits_stops_the_task() {
    let fake = FakeRuntime::default();
    let (_desired, mut reports) = spawn(&fake, web_task());
    reports.next("RUNNING").await;
    fake.exit(PAUSE_CONTAINER, 137);
    let stopped = reports.next("STOPPED").await;
    assert_eq!(stopped.reason, Some(pause_exited(137)));
    assert!(fake.calls().ends_with(&[
        Call::Stop("web".into(), 30),
        Call::Remove("web".into()),
        Call::Remove(PAUSE_CONTAINER.into()),
        Call::RemoveNetwork(NETWORK.into()),
    ]));
}
