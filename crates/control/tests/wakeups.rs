//! Wake-ups come from the store's change feed: an agent stream is woken by a commit that
//! changes its instance's tasks, with memory already holding it, and the service controller by
//! a commit that concerns a service, well before its one-second tick.

use berth_control::assignments::Sent;
use berth_test_kit::control::*;
use berth_types::ecs::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Far longer than a wake-up takes, and still short of the service controller's tick.
const PROMPTLY: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_wakes_the_agent_of_its_instance_once_memory_holds_it() {
    let (cp, _) = plane();
    let cp = Arc::new(cp);
    let arn = instance(&cp, 1024, 1024);
    definition(&cp, 128, None);
    let mut wake = cp.subscribe_agent(&arn).expect("subscribes");
    let mut sent = Sent::new();
    let task = run(&cp, 1).tasks.expect("tasks")[0]
        .task_arn
        .clone()
        .expect("arn");
    for desired in ["RUNNING", "STOPPED"] {
        if desired == "STOPPED" {
            cp.stop_task(StopTaskRequest {
                task: task.clone(),
                ..StopTaskRequest::default()
            })
            .expect("stops");
        }
        tokio::time::timeout(PROMPTLY, wake.changed())
            .await
            .expect("woken promptly")
            .expect("the hub is open");
        let assigned = cp.pending_assignments(&arn, &mut sent);
        assert_eq!(
            assigned
                .iter()
                .map(|a| a.task.desired_status.as_deref())
                .collect::<Vec<_>>(),
            [Some(desired)],
            "the woken stream finds the change in memory"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_service_is_placed_without_waiting_for_the_tick() {
    let (cp, _) = plane();
    let cp = Arc::new(cp);
    instance(&cp, 1024, 1024);
    definition(&cp, 128, None);
    tokio::spawn(Arc::clone(&cp).run_service_controller());
    // Time for the controller to start following the feed before the service is made.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let created = Instant::now();
    create_service(&cp, "web", 1, None);
    while cp.read().tasks.is_empty() {
        assert!(
            created.elapsed() < PROMPTLY,
            "the service's task is placed promptly"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
