//! GetLogEvents: paging forward and backward exactly once over many events, time bounds, and
//! the tokens.

mod common;

use berth_logs::{LogsError, Options};
use berth_types::logs::*;
use common::*;

/// A stream of `n` events in batches of `batch`, message `i` at `NOW - n + i` ms, in small
/// segments so that paging crosses files.
fn stream_of(n: usize, batch: usize) -> Fixture {
    let f = Fixture::with_options(Options {
        segment_bytes: 16 << 10,
        ..Options::default()
    });
    f.group("g");
    f.stream("g", "s");
    let all: Vec<(i64, String)> = (0..n)
        .map(|i| (NOW - n as i64 + i as i64, format!("event {i:06}")))
        .collect();
    for chunk in all.chunks(batch) {
        let events: Vec<(i64, &str)> = chunk.iter().map(|(t, m)| (*t, m.as_str())).collect();
        f.put("g", "s", &events, None);
    }
    f
}

fn expected(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("event {i:06}")).collect()
}

fn page_forward(f: &Fixture, limit: Option<i32>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100_000 {
        let r = f.get(GetLogEventsRequest {
            start_from_head: Some(true),
            limit,
            next_token: token.clone(),
            ..get_request("g", "s")
        });
        let page = messages(&r.events);
        if let Some(l) = limit {
            assert!(page.len() <= l as usize);
        }
        let next = r.next_forward_token.expect("tokens are never null");
        if page.is_empty() {
            // At the end, the token sent comes back.
            assert_eq!(Some(&next), token.as_ref());
            return seen;
        }
        seen.extend(page);
        token = Some(next);
    }
    panic!("paging did not end")
}

fn page_backward(f: &Fixture, limit: Option<i32>) -> Vec<String> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100_000 {
        let r = f.get(GetLogEventsRequest {
            limit,
            next_token: token.clone(),
            ..get_request("g", "s")
        });
        let page = messages(&r.events);
        let next = r.next_backward_token.expect("tokens are never null");
        if page.is_empty() {
            assert_eq!(Some(&next), token.as_ref());
            pages.reverse();
            return pages.concat();
        }
        pages.push(page);
        token = Some(next);
    }
    panic!("paging did not end")
}

#[test]
fn many_events_page_forward_and_backward_exactly_once() {
    let f = stream_of(12_345, 1_000);
    for limit in [None, Some(1_000), Some(777), Some(10_000)] {
        assert_eq!(
            page_forward(&f, limit),
            expected(0..12_345),
            "forward {limit:?}"
        );
        assert_eq!(
            page_backward(&f, limit),
            expected(0..12_345),
            "backward {limit:?}"
        );
    }
}

#[test]
fn small_limits_and_small_batches() {
    let f = stream_of(301, 7);
    for limit in [Some(1), Some(2), Some(50)] {
        assert_eq!(page_forward(&f, limit), expected(0..301));
        assert_eq!(page_backward(&f, limit), expected(0..301));
    }
}

#[test]
fn the_newest_page_comes_first_and_pages_both_ways_from_there() {
    let f = stream_of(100, 10);
    let r = f.get(GetLogEventsRequest {
        limit: Some(10),
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r.events), expected(90..100));
    // Going forward from the newest page: nothing more, and the token comes back.
    let forward = r.next_forward_token.clone().unwrap();
    let r2 = f.get(GetLogEventsRequest {
        next_token: Some(forward.clone()),
        ..get_request("g", "s")
    });
    assert!(messages(&r2.events).is_empty());
    assert_eq!(r2.next_forward_token.as_deref(), Some(forward.as_str()));
    // New events appear from that same token.
    f.put("g", "s", &[(NOW, "later")], None);
    let r3 = f.get(GetLogEventsRequest {
        next_token: Some(forward),
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r3.events), ["later"]);
    // Backward from the first page.
    let r4 = f.get(GetLogEventsRequest {
        limit: Some(5),
        next_token: r.next_backward_token,
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r4.events), expected(85..90));
    for t in [
        r.next_forward_token.unwrap(),
        r4.next_backward_token.unwrap(),
    ] {
        assert!(
            t.len() == 58 && (t.starts_with("f/") || t.starts_with("b/")),
            "{t}"
        );
    }
}

#[test]
fn pages_hold_at_most_a_mebibyte() {
    let f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    let big = "x".repeat(100_000);
    for _ in 0..3 {
        let events: Vec<(i64, &str)> = (0..10).map(|_| (NOW, big.as_str())).collect();
        f.put("g", "s", &events, None);
    }
    let r = f.get(GetLogEventsRequest {
        start_from_head: Some(true),
        ..get_request("g", "s")
    });
    assert_eq!(r.events.unwrap().len(), 10);
}

#[test]
fn start_time_is_inclusive_and_end_time_exclusive() {
    let f = stream_of(1_000, 100);
    let t = |i: usize| NOW - 1_000 + i as i64;
    let r = f.get(GetLogEventsRequest {
        start_from_head: Some(true),
        start_time: Some(t(100)),
        end_time: Some(t(200)),
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r.events), expected(100..200));
    let r = f.get(GetLogEventsRequest {
        start_time: Some(t(100)),
        end_time: Some(t(200)),
        limit: Some(30),
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r.events), expected(170..200));
    // Paging within the window, backward, ends at its start.
    let r = f.get(GetLogEventsRequest {
        start_time: Some(t(100)),
        end_time: Some(t(200)),
        next_token: r.next_backward_token,
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r.events), expected(100..170));
}

#[test]
fn bad_tokens_are_refused() {
    let f = stream_of(10, 10);
    f.stream("g", "other");
    f.put("g", "other", &[(NOW, "x")], None);
    let theirs = f.get(get_request("g", "other")).next_forward_token.unwrap();
    for token in [
        theirs,
        "f/123".to_string(),
        "garbage".to_string(),
        format!("f/{}", "9".repeat(56)),
    ] {
        assert!(
            matches!(
                f.api().get_log_events(GetLogEventsRequest {
                    next_token: Some(token.clone()),
                    ..get_request("g", "s")
                }),
                Err(LogsError::InvalidParameter(_))
            ),
            "{token}"
        );
    }
    assert!(matches!(
        f.api().get_log_events(get_request("g", "nope")),
        Err(LogsError::ResourceNotFound(m)) if m == "The specified log stream does not exist."
    ));
    assert!(matches!(
        f.api().get_log_events(GetLogEventsRequest {
            limit: Some(10_001),
            ..get_request("g", "s")
        }),
        Err(LogsError::InvalidParameter(_))
    ));
    assert!(matches!(
        f.api().get_log_events(GetLogEventsRequest { unmask: Some(true), ..get_request("g", "s") }),
        Err(LogsError::Unsupported(m)) if m.contains("unmask")
    ));
    assert!(matches!(
        f.api().get_log_events(GetLogEventsRequest {
            log_group_identifier: Some("g".into()),
            ..get_request("g", "s")
        }),
        Err(LogsError::InvalidParameter(_))
    ));
}

#[test]
fn an_empty_stream_gives_tokens_and_no_events() {
    let f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    for head in [Some(true), None] {
        let r = f.get(GetLogEventsRequest {
            start_from_head: head,
            ..get_request("g", "s")
        });
        assert!(messages(&r.events).is_empty());
        assert!(r.next_forward_token.is_some() && r.next_backward_token.is_some());
    }
}

#[test]
fn the_group_may_be_named_by_its_arn() {
    let f = stream_of(3, 3);
    let arn = berth_logs::names::group_arn(&context().partition, "g");
    for identifier in [arn.clone(), format!("{arn}:*"), "g".to_string()] {
        let r = f.get(GetLogEventsRequest {
            log_group_name: None,
            log_group_identifier: Some(identifier.clone()),
            ..get_request("g", "s")
        });
        assert_eq!(messages(&r.events), expected(0..3), "{identifier}");
    }
    assert!(matches!(
        f.api().get_log_events(GetLogEventsRequest {
            log_group_name: None,
            log_group_identifier: Some("arn:aws:logs:eu-west-1:123456789012:log-group:g".into()),
            ..get_request("g", "s")
        }),
        Err(LogsError::ResourceNotFound(_))
    ));
    assert!(matches!(
        f.api().get_log_events(GetLogEventsRequest {
            log_group_name: None,
            ..get_request("g", "s")
        }),
        Err(LogsError::InvalidParameter(_))
    ));
}
