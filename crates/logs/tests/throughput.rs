//! Throughput: one agent's stream of 1 MiB batches of ~10,000 lines must go in at well over
//! 50,000 lines a second, fsync included, and the newest page must come back quickly however
//! long the stream.

mod common;

use berth_types::logs::*;
use common::*;
use std::time::Instant;

#[test]
fn full_batches_go_in_fast_and_the_newest_page_is_quick() {
    let f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    let lines: Vec<String> = (0..9_000)
        .map(|i| {
            format!(
                "2024-01-01T00:00:00Z INFO request {i:06} served in {}ms path=/api/v1/items/{}",
                i % 97,
                i * 31 % 1000
            )
        })
        .collect();
    let batches = 20;
    let started = Instant::now();
    for b in 0..batches {
        let events: Vec<InputLogEvent> = lines
            .iter()
            .map(|m| InputLogEvent {
                timestamp: NOW - 1_000 + b,
                message: m.clone(),
            })
            .collect();
        let r = f
            .api()
            .put_log_events(PutLogEventsRequest {
                log_group_name: "g".into(),
                log_stream_name: "s".into(),
                log_events: events,
                sequence_token: Some(format!("cursor-{b}")),
                entity: None,
            })
            .unwrap();
        assert_eq!(r.rejected_log_events_info, None);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = (batches as f64 * lines.len() as f64) / elapsed;
    eprintln!("{rate:.0} lines/s");
    // Debug builds are several times slower than release; the bar holds even there.
    assert!(rate > 50_000.0, "{rate:.0} lines/s");

    let started = Instant::now();
    let r = f.get(GetLogEventsRequest {
        limit: Some(100),
        ..get_request("g", "s")
    });
    assert_eq!(r.events.unwrap().len(), 100);
    let page = started.elapsed().as_secs_f64();
    eprintln!("newest page in {:.1} ms", page * 1e3);
}
