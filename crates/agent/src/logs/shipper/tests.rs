//! The shipper on the fake runtime's scripted output and the in-memory sink: order, engine
//! timestamps, PutLogEvents' limits, and resuming from the stored token with no gap and no
//! duplicate.

use super::*;
use crate::logs::memory::MemorySink;
use crate::logs::options::AwsLogsOptions;
use crate::runtime::fake::FakeRuntime;
use crate::test_kit::{INSTANCE, TASK};
use std::collections::BTreeMap;

const GROUP: &str = "/ecs/app";
const STREAM: &str = "ecs/web/t1";
const SECOND: i64 = 1_000_000_000;

fn options() -> ShipOptions {
    let group = BTreeMap::from([("awslogs-group".to_string(), GROUP.to_string())]);
    let awslogs = AwsLogsOptions::parse(&group).expect("valid");
    ShipOptions {
        linger: Duration::from_millis(10),
        retry_first: Duration::from_millis(1),
        ..ShipOptions::new(awslogs, true)
    }
}

fn target() -> Target {
    Target {
        group: GROUP.into(),
        stream: STREAM.into(),
    }
}

/// A running container `web` and a sink with the group.
fn setup() -> (FakeRuntime, String, MemorySink) {
    let fake = FakeRuntime::default();
    let id = fake.existing(INSTANCE, TASK, "web");
    (fake, id, MemorySink::with_group(GROUP))
}

async fn ship_all(fake: &FakeRuntime, id: &str, sink: &MemorySink) {
    let shipping = ship(
        fake.clone(),
        id.into(),
        Arc::new(sink.clone()),
        target(),
        options(),
    );
    tokio::time::timeout(Duration::from_secs(10), shipping)
        .await
        .expect("shipping ends once the container's output does");
}

async fn until_shipped(sink: &MemorySink, count: usize) {
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while sink.messages(GROUP, STREAM).len() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    waited.await.expect("the lines are shipped");
}

#[tokio::test]
async fn lines_are_shipped_in_order_with_the_engines_timestamps() {
    let (fake, id, sink) = setup();
    fake.print("web", 5 * SECOND + 1_500_000, "hello\n");
    fake.print("web", 6 * SECOND, "world\n");
    fake.exit("web", 0);
    ship_all(&fake, &id, &sink).await;
    let events = sink.events(GROUP, STREAM);
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.timestamp, e.message.as_str()))
        .collect();
    assert_eq!(got, [(5_001, "hello"), (6_000, "world")]);
}

#[tokio::test]
async fn batches_keep_to_putlogevents_limits() {
    let (fake, id, sink) = setup();
    for i in 0..25_000 {
        fake.print("web", SECOND + i, &format!("line {i}\n"));
    }
    fake.exit("web", 0);
    ship_all(&fake, &id, &sink).await;
    let messages = sink.messages(GROUP, STREAM);
    assert_eq!(messages.len(), 25_000);
    assert!(
        messages
            .iter()
            .enumerate()
            .all(|(i, m)| *m == format!("line {i}"))
    );
    let sizes = sink.batch_sizes();
    assert!(
        sizes.iter().all(|n| *n <= crate::logs::batch::MAX_EVENTS),
        "{sizes:?}"
    );
    assert!(sizes.len() >= 3, "{sizes:?}");
}

#[tokio::test]
async fn a_killed_shipper_resumes_with_no_gap_and_no_duplicate() {
    let (fake, id, sink) = setup();
    // Two lines share a timestamp, as fast writers' lines do.
    fake.print("web", SECOND, "one\n");
    fake.print("web", 2 * SECOND, "two\n");
    fake.print("web", 2 * SECOND, "three\n");
    let first = tokio::spawn(ship(
        fake.clone(),
        id.clone(),
        Arc::new(sink.clone()),
        target(),
        options(),
    ));
    until_shipped(&sink, 3).await;
    // kill -9: nothing is flushed or said on the way out.
    first.abort();
    let _ = first.await;
    // Written while no agent ran, one with the very timestamp the cursor stands at.
    fake.print("web", 2 * SECOND, "four\n");
    fake.print("web", 3 * SECOND, "five\n");
    fake.exit("web", 0);
    ship_all(&fake, &id, &sink).await;
    assert_eq!(
        sink.messages(GROUP, STREAM),
        ["one", "two", "three", "four", "five"]
    );
}

#[tokio::test]
async fn output_the_engine_leaves_out_of_a_follow_is_read_again() {
    let (fake, id, sink) = setup();
    for (i, text) in ["a\n", "b\n", "c\n", "d\n"].into_iter().enumerate() {
        fake.print("web", SECOND * (i as i64 + 1), text);
    }
    fake.exit("web", 0);
    fake.cut_next_read("web", 2);
    ship_all(&fake, &id, &sink).await;
    assert_eq!(sink.messages(GROUP, STREAM), ["a", "b", "c", "d"]);
}

#[tokio::test]
async fn a_lost_answer_is_not_sent_twice_and_failures_are_retried() {
    let (fake, id, sink) = setup();
    sink.fail_next_put(SinkError::Retryable("server restarting".into()));
    sink.lose_next_answer();
    fake.print("web", SECOND, "one\n");
    fake.print("web", 2 * SECOND, "two\n");
    fake.exit("web", 0);
    ship_all(&fake, &id, &sink).await;
    assert_eq!(sink.messages(GROUP, STREAM), ["one", "two"]);
}

#[tokio::test]
async fn the_shipper_creates_a_missing_stream_and_group_when_allowed() {
    let fake = FakeRuntime::default();
    let id = fake.existing(INSTANCE, TASK, "web");
    let sink = MemorySink::default();
    let mut options = options();
    options.awslogs.create_group = true;
    fake.print("web", SECOND, "hi\n");
    fake.exit("web", 0);
    ship(fake.clone(), id, Arc::new(sink.clone()), target(), options).await;
    assert!(sink.has_group(GROUP));
    assert_eq!(sink.messages(GROUP, STREAM), ["hi"]);
}

#[tokio::test]
async fn a_multiline_event_goes_after_the_force_flush_while_the_container_runs() {
    let (fake, id, sink) = setup();
    let mut options = options();
    options.awslogs.event_start = Some(regex::Regex::new("^INFO").expect("regex"));
    options.awslogs.force_flush = Duration::from_millis(50);
    fake.print("web", SECOND, "INFO boom\n");
    fake.print("web", 2 * SECOND, "  at main\n");
    let shipping = tokio::spawn(ship(
        fake.clone(),
        id,
        Arc::new(sink.clone()),
        target(),
        options,
    ));
    until_shipped(&sink, 1).await;
    assert_eq!(sink.messages(GROUP, STREAM), ["INFO boom\n  at main"]);
    fake.exit("web", 0);
    shipping.await.expect("shipping ends");
}
