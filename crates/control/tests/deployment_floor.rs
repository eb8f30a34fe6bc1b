//! The deployment floor, as a property: whatever the desired count, the percents, the age of
//! the tasks when the deployment starts and which tasks die by themselves, no controller pass
//! takes the count of RUNNING tasks below `minimumHealthyPercent` of the desired count (a pass
//! may only stop a RUNNING task while at least that many others remain).

use berth_control::ControlPlane;
use berth_test_kit::control::*;
use berth_types::ecs::*;
use proptest::prelude::*;

/// The tasks that count: RUNNING and meant to stay so.
fn running(cp: &ControlPlane) -> usize {
    cp.read()
        .tasks
        .values()
        .filter(|t| t.last_status.as_deref() == Some("RUNNING"))
        .filter(|t| t.desired_status.as_deref() == Some("RUNNING"))
        .count()
}

/// One round of every agent; the tasks `dies` picks for this round (by their position among
/// all tasks) exit by themselves.
fn agents(cp: &ControlPlane, round: usize, dies: &[(usize, usize)]) {
    let doomed: Vec<Option<String>> = all_tasks(cp)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| dies.contains(&(round, *i)))
        .map(|(_, t)| t.task_arn)
        .collect();
    play_agents(cp, |t| doomed.contains(&t.task_arn));
}

/// Runs a service through its first deployment and a second one, checking every pass.
fn deploy(desired: i32, min: i32, max: i32, age: u64, step: u64, dies: &[(usize, usize)]) {
    let (cp, clock) = plane();
    instance(&cp, 100_000, 100_000);
    definition(&cp, 64, None);
    let bounds = DeploymentConfiguration {
        minimum_healthy_percent: Some(min),
        maximum_percent: Some(max),
        ..DeploymentConfiguration::default()
    };
    create_service(&cp, "web", desired, Some(bounds));
    // The first tasks start and reach the age the test picked.
    for _ in 0..3 {
        cp.reconcile_services();
        agents(&cp, usize::MAX, &[]);
    }
    clock.advance(age);
    definition(&cp, 32, None);
    update_to(&cp, "web:2");
    let floor = (f64::from(desired) * f64::from(min) / 100.0).ceil() as usize;
    for round in 0..40 {
        let before = running(&cp);
        cp.reconcile_services();
        let after = running(&cp);
        assert!(
            after >= before.min(floor),
            "a pass took the RUNNING tasks from {before} to {after}, below the floor of {floor} \
             (desired {desired}, {min}%..{max}%, age {age} s, round {round})"
        );
        agents(&cp, round, dies);
        clock.advance(step);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_pass_goes_below_the_floor(
        desired in 1i32..6,
        min in prop::sample::select(vec![0, 25, 50, 75, 100]),
        extra in prop::sample::select(vec![0, 25, 50, 100]),
        age in 0u64..12,
        step in 1u64..4,
        dies in prop::collection::vec((0usize..40, 0usize..12), 0..4),
    ) {
        // maximumPercent is at least 100 and above the floor, as ECS requires.
        let max = (100 + extra).max(min + 1);
        deploy(desired, min, max, age, step, &dies);
    }
}

/// The case the issue saw: one task, 100/200, the task just RUNNING when the deployment
/// starts. The old task stays until the new one is healthy.
#[test]
fn a_task_that_just_started_is_not_stopped_before_its_replacement_is_healthy() {
    deploy(1, 100, 200, 0, 1, &[]);
}
