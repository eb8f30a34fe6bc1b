//! PutLogEvents: what refuses a whole batch, what rejects some events, and the upload
//! sequence token.

mod common;

use berth_logs::LogsError;
use berth_types::logs::*;
use common::*;

fn fixture() -> Fixture {
    let f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    f
}

#[test]
fn whole_batches_are_refused() {
    let f = fixture();
    let invalid = |events: &[(i64, &str)], token: Option<&str>, needle: &str| match f
        .try_put("g", "s", events, token)
    {
        Err(LogsError::InvalidParameter(m)) => {
            assert!(m.contains(needle), "{m:?} should say {needle:?}")
        }
        other => panic!("expected InvalidParameter with {needle:?}, got {other:?}"),
    };
    invalid(&[], None, "logEvents");
    invalid(
        &[(NOW, "b"), (NOW - 1, "a")],
        None,
        "Log events in a single PutLogEvents request must be in chronological order.",
    );
    invalid(&[(NOW, "")], None, "message");
    invalid(&[(NOW - 2 * DAY, "a"), (NOW, "b")], None, "24 hours");
    let token = "t".repeat(257);
    invalid(&[(NOW, "a")], Some(&token), "sequenceToken");
    let many: Vec<(i64, &str)> = (0..10_001).map(|_| (NOW, "x")).collect();
    invalid(&many, None, "logEvents");
    // Σ(message + 26) ≤ 1 MiB, exactly at the limit passes, one byte more fails.
    let message = "m".repeat(1_048_576 - 26 * 2 - 1000);
    let exact = "n".repeat(1000);
    f.put("g", "s", &[(NOW, &message), (NOW, &exact)], None);
    let over = "n".repeat(1001);
    invalid(&[(NOW, &message), (NOW, &over)], None, "Upload too large");
    let max: Vec<(i64, &str)> = (0..10_000).map(|_| (NOW, "x")).collect();
    f.put("g", "s", &max, None);
    assert!(matches!(
        f.try_put("nope", "s", &[(NOW, "a")], None),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log group does not exist."
    ));
    assert!(matches!(
        f.try_put("g", "nope", &[(NOW, "a")], None),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log stream does not exist."
    ));
    assert!(matches!(
        f.api().put_log_events(PutLogEventsRequest {
            log_group_name: "g".into(),
            log_stream_name: "s".into(),
            log_events: vec![InputLogEvent { timestamp: NOW, message: "a".into() }],
            sequence_token: None,
            entity: Some(Entity::default()),
        }),
        Err(LogsError::Unsupported(m)) if m.contains("entity")
    ));
}

#[test]
fn too_new_too_old_and_expired_events_are_rejected_and_the_rest_kept() {
    let f = fixture();
    let r = f.put(
        "g",
        "s",
        &[
            (NOW - 15 * DAY, "too old 0"),
            (NOW - 14 * DAY - 1, "too old 1"),
            (NOW - 14 * DAY, "kept 2"),
            (NOW - 14 * DAY + HOUR, "kept 3"),
        ],
        None,
    );
    let info = r.rejected_log_events_info.expect("rejections");
    assert_eq!(info.too_old_log_event_end_index, Some(2));
    assert_eq!(info.too_new_log_event_start_index, None);
    assert_eq!(info.expired_log_event_end_index, None);
    let r = f.put(
        "g",
        "s",
        &[
            (NOW + 2 * HOUR, "kept 4"),
            (NOW + 2 * HOUR + 1, "too new 1"),
        ],
        None,
    );
    let info = r.rejected_log_events_info.expect("rejections");
    assert_eq!(info.too_new_log_event_start_index, Some(1));
    assert_eq!(info.too_old_log_event_end_index, None);
    // The span of the kept events is what counts, not of the whole batch.
    let r = f.put(
        "g",
        "s",
        &[(NOW - 20 * DAY, "too old"), (NOW, "kept 5")],
        None,
    );
    assert_eq!(
        r.rejected_log_events_info
            .unwrap()
            .too_old_log_event_end_index,
        Some(1)
    );
    // A day's retention now hides the events of two weeks ago.
    let got = f.get(GetLogEventsRequest {
        start_from_head: Some(true),
        ..get_request("g", "s")
    });
    assert_eq!(
        messages(&got.events),
        ["kept 2", "kept 3", "kept 4", "kept 5"]
    );

    // Nothing rejected: no rejectedLogEventsInfo.
    let r = f.put("g", "s", &[(NOW, "fine")], None);
    assert_eq!(r.rejected_log_events_info, None);

    f.api()
        .put_retention_policy(PutRetentionPolicyRequest {
            log_group_name: "g".into(),
            retention_in_days: 1,
        })
        .unwrap();
    let r = f.put(
        "g",
        "s",
        &[
            (NOW - 2 * DAY, "expired"),
            (NOW - DAY - 1, "expired too"),
            (NOW - DAY, "kept"),
        ],
        None,
    );
    let info = r.rejected_log_events_info.expect("rejections");
    assert_eq!(info.expired_log_event_end_index, Some(2));
    assert_eq!(info.too_old_log_event_end_index, None);
    assert_eq!(info.too_new_log_event_start_index, None);

    // Every event rejected: nothing stored, the call still succeeds.
    let r = f.put("g", "s", &[(NOW + DAY, "far future")], None);
    assert_eq!(
        r.rejected_log_events_info
            .unwrap()
            .too_new_log_event_start_index,
        Some(0)
    );
    // A day's retention now hides the events of two weeks ago.
    let got = f.get(GetLogEventsRequest {
        start_from_head: Some(true),
        ..get_request("g", "s")
    });
    assert_eq!(messages(&got.events), ["kept 4", "kept 5", "fine", "kept"]);
    assert!(
        got.events
            .unwrap()
            .iter()
            .all(|e| e.ingestion_time == Some(NOW))
    );
}

#[test]
fn the_upload_sequence_token_is_kept_with_the_events() {
    let mut f = fixture();
    let r = f.put("g", "s", &[(NOW, "a")], Some("cursor-1"));
    assert_eq!(r.next_sequence_token.as_deref(), Some("cursor-1"));
    // A batch without a token leaves the stream's token as it was.
    let r = f.put("g", "s", &[(NOW, "b")], None);
    assert_eq!(r.next_sequence_token.as_deref(), Some("cursor-1"));
    // A batch whose every event is rejected still moves the cursor.
    f.put("g", "s", &[(NOW + DAY, "future")], Some("cursor-2"));
    f.reopen();
    let streams = f.describe_streams("g");
    assert_eq!(
        streams[0].upload_sequence_token.as_deref(),
        Some("cursor-2")
    );
    let r = f.put("g", "s", &[(NOW, "c")], None);
    assert_eq!(r.next_sequence_token.as_deref(), Some("cursor-2"));
    // A stream never given a token has none.
    f.stream("g", "t");
    let r = f.put("g", "t", &[(NOW, "c")], None);
    assert_eq!(r.next_sequence_token, None);
}
