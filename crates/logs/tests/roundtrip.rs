//! Property: whatever batches go in come back out, in order, whole, by every way of paging,
//! before and after a reopen.

mod common;

use berth_logs::Options;
use berth_types::logs::*;
use common::*;
use proptest::prelude::*;

fn batches() -> impl Strategy<Value = Vec<Vec<(i64, String)>>> {
    let event = (0i64..3_600_000, "[a-zé€ 0-9]{1,40}");
    prop::collection::vec(prop::collection::vec(event, 1..60), 1..12).prop_map(|batches| {
        batches
            .into_iter()
            .map(|mut b| {
                // PutLogEvents takes a batch in timestamp order, within the last hour.
                b.sort_by_key(|(t, _)| *t);
                b.into_iter()
                    .map(|(t, m)| (NOW - 3_600_000 + t, m))
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}

fn read_all(f: &Fixture, limit: i32, head: bool) -> Vec<(i64, String)> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let r = f.get(GetLogEventsRequest {
            start_from_head: Some(head),
            limit: Some(limit),
            next_token: token.clone(),
            ..get_request("g", "s")
        });
        let page: Vec<(i64, String)> = r
            .events
            .unwrap()
            .into_iter()
            .map(|e| (e.timestamp.unwrap(), e.message.unwrap()))
            .collect();
        let next = if head {
            r.next_forward_token
        } else {
            r.next_backward_token
        };
        if page.is_empty() {
            assert_eq!(next, token);
            break;
        }
        pages.push(page);
        token = next;
    }
    if !head {
        pages.reverse();
    }
    pages.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_read_back_equal(
        batches in batches(),
        segment_kib in 1u64..16,
        limit in 1i32..100,
    ) {
        let mut f = Fixture::in_memory(Options {
            segment_bytes: segment_kib << 10,
            ..Options::default()
        });
        f.group("g");
        f.stream("g", "s");
        let mut want = Vec::new();
        for batch in &batches {
            let refs: Vec<(i64, &str)> = batch.iter().map(|(t, m)| (*t, m.as_str())).collect();
            let r = f.put("g", "s", &refs, None);
            prop_assert_eq!(r.rejected_log_events_info, None);
            want.extend(batch.iter().cloned());
        }
        for round in 0..2 {
            prop_assert_eq!(&read_all(&f, limit, true), &want, "forward, round {}", round);
            prop_assert_eq!(&read_all(&f, limit, false), &want, "backward, round {}", round);
            let filtered: Vec<(i64, String)> = f
                .api()
                .filter_log_events(FilterLogEventsRequest {
                    log_group_name: Some("g".into()),
                    ..Default::default()
                })
                .unwrap()
                .events
                .unwrap()
                .into_iter()
                .map(|e| (e.timestamp.unwrap(), e.message.unwrap()))
                .collect();
            let mut by_time = want.clone();
            // Stable: equal timestamps keep the order they were stored in.
            by_time.sort_by_key(|(t, _)| *t);
            prop_assert_eq!(filtered, by_time);
            f.reopen();
        }
    }
}
