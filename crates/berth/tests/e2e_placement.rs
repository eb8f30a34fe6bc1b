//! Placement through the AWS SDK with several real agents: spread, memberOf, distinctInstance.

use aws_sdk_ecs::operation::run_task::builders::RunTaskFluentBuilder;
use aws_sdk_ecs::types::{
    PlacementConstraint, PlacementConstraintType, PlacementStrategy, PlacementStrategyType,
};
use berth_test_kit::ecs::{container, register};
use berth_test_kit::fleet::Fleet;
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

/// Registers `family`: one container sleeping ten minutes.
async fn register_sleeper(fleet: &Fleet, family: &str) {
    let sleeper = container("s", &["sleep", "600"]).memory(8).build();
    register(&fleet.ecs, family, vec![sleeper]).await;
}

/// A RunTask of `count` tasks of `family` in the fleet's cluster, to add placement to.
fn run_task(fleet: &Fleet, family: &str, count: i32) -> RunTaskFluentBuilder {
    fleet
        .ecs
        .run_task()
        .cluster(&fleet.cluster)
        .task_definition(family)
        .count(count)
}

fn constraint(kind: PlacementConstraintType, expression: Option<&str>) -> PlacementConstraint {
    PlacementConstraint::builder()
        .r#type(kind)
        .set_expression(expression.map(str::to_string))
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn spread_and_member_of_across_two_zones() {
    let (fleet, _) = Fleet::start("spread", &["zone-a", "zone-b"]).await;
    register_sleeper(&fleet, "spread").await;
    let by_zone = PlacementStrategy::builder()
        .r#type(PlacementStrategyType::Spread)
        .field("attribute:ecs.availability-zone")
        .build();
    let out = run_task(&fleet, "spread", 4)
        .placement_strategy(by_zone)
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

    let member_of = |expression| constraint(PlacementConstraintType::MemberOf, Some(expression));
    let pinned = run_task(&fleet, "spread", 3)
        .placement_constraints(member_of("attribute:role == zone-b-role"))
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

    let bad = run_task(&fleet, "spread", 1)
        .placement_constraints(member_of("attribute:role === x"))
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
    register_sleeper(&fleet, "distinct").await;
    let out = run_task(&fleet, "distinct", 2)
        .placement_constraints(constraint(PlacementConstraintType::DistinctInstance, None))
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
