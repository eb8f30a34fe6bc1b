//! Placement through the AWS SDK with several real agents: spread, memberOf, distinctInstance.

mod common;

use aws_sdk_ecs::types::{
    ContainerDefinition, PlacementConstraint, PlacementConstraintType, PlacementStrategy,
    PlacementStrategyType,
};
use common::{Fleet, IMAGE};
use std::collections::BTreeMap;

async fn zone_of(fleet: &Fleet, instance: &str) -> String {
    let d = fleet
        .ecs
        .describe_container_instances()
        .cluster(&fleet.cluster)
        .container_instances(instance)
        .send()
        .await
        .expect("DescribeContainerInstances");
    d.container_instances()[0]
        .attributes()
        .iter()
        .find(|a| a.name() == "ecs.availability-zone")
        .and_then(|a| a.value())
        .expect("zone")
        .to_string()
}

async fn register(ecs: &aws_sdk_ecs::Client, family: &str) {
    ecs.register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name("s")
                .image(IMAGE)
                .command("sleep")
                .command("600")
                .memory(8)
                .stop_timeout(1)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
}

#[tokio::test(flavor = "multi_thread")]
async fn spread_and_member_of_across_two_zones() {
    let (fleet, _) = Fleet::start("spread", &["zone-a", "zone-b"]).await;
    register(&fleet.ecs, "spread").await;
    let out = fleet
        .ecs
        .run_task()
        .cluster(&fleet.cluster)
        .task_definition("spread")
        .count(4)
        .placement_strategy(
            PlacementStrategy::builder()
                .r#type(PlacementStrategyType::Spread)
                .field("attribute:ecs.availability-zone")
                .build(),
        )
        .send()
        .await
        .expect("RunTask");
    assert!(out.failures().is_empty(), "{:?}", out.failures());
    let mut per_zone: BTreeMap<String, usize> = BTreeMap::new();
    for t in out.tasks() {
        let zone = zone_of(&fleet, t.container_instance_arn().expect("placed")).await;
        *per_zone.entry(zone).or_default() += 1;
    }
    assert_eq!(
        per_zone,
        BTreeMap::from([("zone-a".into(), 2), ("zone-b".into(), 2)])
    );

    let pinned = fleet
        .ecs
        .run_task()
        .cluster(&fleet.cluster)
        .task_definition("spread")
        .count(3)
        .placement_constraints(
            PlacementConstraint::builder()
                .r#type(PlacementConstraintType::MemberOf)
                .expression("attribute:role == zone-b-role")
                .build(),
        )
        .send()
        .await
        .expect("RunTask");
    assert_eq!(pinned.tasks().len(), 3);
    for t in pinned.tasks() {
        assert_eq!(
            zone_of(&fleet, t.container_instance_arn().expect("placed")).await,
            "zone-b"
        );
    }

    let filtered = fleet
        .ecs
        .list_container_instances()
        .cluster(&fleet.cluster)
        .filter("attribute:ecs.availability-zone == zone-a")
        .send()
        .await
        .expect("ListContainerInstances with a filter");
    assert_eq!(filtered.container_instance_arns().len(), 1);

    let bad = fleet
        .ecs
        .run_task()
        .cluster(&fleet.cluster)
        .task_definition("spread")
        .placement_constraints(
            PlacementConstraint::builder()
                .r#type(PlacementConstraintType::MemberOf)
                .expression("attribute:role === x")
                .build(),
        )
        .send()
        .await
        .expect_err("a malformed expression is refused");
    let message = format!("{:?}", bad.into_service_error());
    assert!(
        message.contains("InvalidParameterException") && message.contains("position"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn distinct_instance_refuses_a_second_task_on_one_host() {
    let (fleet, instances) = Fleet::start("distinct", &["zone-a"]).await;
    register(&fleet.ecs, "distinct").await;
    let out = fleet
        .ecs
        .run_task()
        .cluster(&fleet.cluster)
        .task_definition("distinct")
        .count(2)
        .placement_constraints(
            PlacementConstraint::builder()
                .r#type(PlacementConstraintType::DistinctInstance)
                .build(),
        )
        .send()
        .await
        .expect("RunTask");
    assert_eq!(out.tasks().len(), 1);
    let failure = &out.failures()[0];
    assert_eq!(failure.arn(), Some(instances[0].as_str()));
    assert_eq!(
        failure.reason(),
        Some("DistinctInstance placement constraint unsatisfied")
    );
    assert_eq!(
        failure.detail(),
        Some("DistinctInstance placement constraint unsatisfied on 1 instance")
    );
}
