//! What survives a restart or a crash: acknowledged events, tokens, a torn tail cut off;
//! retention deleting whole segments; many streams under the open-stream cap.

mod common;

use berth_logs::Options;
use berth_types::logs::*;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "seg") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn all_messages(f: &Fixture, group: &str, stream: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = f.get(GetLogEventsRequest {
            start_from_head: Some(true),
            next_token: token.clone(),
            ..get_request(group, stream)
        });
        let page = messages(&r.events);
        if page.is_empty() {
            return out;
        }
        out.extend(page);
        token = r.next_forward_token;
    }
}

fn small_segments() -> Options {
    Options {
        segment_bytes: 4 << 10,
        ..Options::default()
    }
}

#[test]
fn events_and_tokens_survive_a_reopen() {
    let mut f = Fixture::new();
    f.group("g");
    f.stream("g", "s");
    f.put("g", "s", &[(NOW, "one"), (NOW, "two")], Some("c1"));
    let token = f
        .get(GetLogEventsRequest {
            start_from_head: Some(true),
            ..get_request("g", "s")
        })
        .next_forward_token;
    f.reopen();
    f.put("g", "s", &[(NOW, "three")], None);
    assert_eq!(all_messages(&f, "g", "s"), ["one", "two", "three"]);
    // A GetLogEvents token from before the restart still works.
    let r = f.get(GetLogEventsRequest {
        next_token: token,
        ..get_request("g", "s")
    });
    assert_eq!(messages(&r.events), ["three"]);
    assert_eq!(
        f.describe_streams("g")[0].upload_sequence_token.as_deref(),
        Some("c1")
    );
}

#[test]
fn a_torn_tail_is_cut_off_and_earlier_events_remain() {
    for damage in ["truncate", "garbage", "flip"] {
        let mut f = Fixture::new();
        f.group("g");
        f.stream("g", "s");
        f.put("g", "s", &[(NOW, "kept 1"), (NOW, "kept 2")], Some("c1"));
        f.put("g", "s", &[(NOW, "torn")], Some("c2"));
        let path = segments(f.dir.path()).pop().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        match damage {
            "truncate" => {
                let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                file.set_len(len - 3).unwrap();
            }
            "garbage" => {
                // The torn record stays whole: garbage after it is cut, it is kept.
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                file.write_all(b"BLG1\xff\xff partial record").unwrap();
            }
            _ => {
                let mut bytes = std::fs::read(&path).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 0x55;
                std::fs::write(&path, bytes).unwrap();
            }
        }
        f.reopen();
        let (want, token): (&[&str], &str) = if damage == "garbage" {
            (&["kept 1", "kept 2", "torn"], "c2")
        } else {
            (&["kept 1", "kept 2"], "c1")
        };
        assert_eq!(all_messages(&f, "g", "s"), want, "{damage}");
        assert_eq!(
            f.describe_streams("g")[0].upload_sequence_token.as_deref(),
            Some(token),
            "{damage}"
        );
        // Writing goes on from the cut.
        f.put("g", "s", &[(NOW, "after")], None);
        f.reopen();
        let mut want = want.to_vec();
        want.push("after");
        assert_eq!(all_messages(&f, "g", "s"), want, "{damage}");
    }
}

#[test]
fn retention_drops_whole_old_segments_and_reads_hide_old_events() {
    let mut f = Fixture::with_options(small_segments());
    f.group("g");
    f.stream("g", "s");
    for i in 0..20u64 {
        // Incompressible, so that the segments fill.
        let mut x = i + 1;
        let line: String = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect();
        f.put("g", "s", &[(NOW, &line)], None);
    }
    f.clock.advance(5 * DAY);
    f.put("g", "s", &[(NOW + 5 * DAY, "new")], Some("cursor"));
    let before = segments(f.dir.path()).len();
    assert!(before >= 10, "{before} segments");
    assert_eq!(
        f.logs.apply_retention().unwrap(),
        0,
        "no retention, nothing goes"
    );
    f.api()
        .put_retention_policy(PutRetentionPolicyRequest {
            log_group_name: "g".into(),
            retention_in_days: 3,
        })
        .unwrap();
    // Hidden at once, before any segment goes.
    assert_eq!(all_messages(&f, "g", "s"), ["new"]);
    let dropped = f.logs.apply_retention().unwrap();
    let after = segments(f.dir.path()).len();
    // All but the last segment, which holds the new event.
    assert_eq!(dropped, before - 1);
    assert_eq!(after, 1);
    f.reopen();
    assert_eq!(all_messages(&f, "g", "s"), ["new"]);
    assert_eq!(
        f.describe_streams("g")[0].upload_sequence_token.as_deref(),
        Some("cursor")
    );
    // Everything expired: the last segment stays (it holds the token) but shows nothing.
    f.clock.advance(10 * DAY);
    f.logs.apply_retention().unwrap();
    assert!(all_messages(&f, "g", "s").is_empty());
    assert_eq!(
        f.describe_streams("g")[0].upload_sequence_token.as_deref(),
        Some("cursor")
    );
    f.put("g", "s", &[(NOW + 15 * DAY, "newer")], None);
    assert_eq!(all_messages(&f, "g", "s"), ["newer"]);
}

#[test]
fn many_streams_under_a_small_open_stream_cap() {
    let mut f = Fixture::in_memory(Options {
        max_open_streams: 16,
        ..Options::default()
    });
    f.group("g");
    let n = 2_000;
    for i in 0..n {
        let s = format!("s{i:05}");
        f.stream("g", &s);
        f.put("g", &s, &[(NOW, &format!("m{i}"))], Some(&format!("t{i}")));
    }
    for round in 0..2 {
        for i in (0..n).step_by(7) {
            let s = format!("s{i:05}");
            assert_eq!(
                all_messages(&f, "g", &s),
                [format!("m{i}")],
                "round {round}"
            );
        }
        f.reopen();
    }
    let mut seen = 0;
    let mut token = None;
    loop {
        let r = f
            .api()
            .describe_log_streams(DescribeLogStreamsRequest {
                log_group_name: Some("g".into()),
                next_token: token,
                ..Default::default()
            })
            .unwrap();
        for s in r.log_streams.unwrap() {
            assert_eq!(s.log_stream_name, Some(format!("s{seen:05}")));
            assert_eq!(s.upload_sequence_token, Some(format!("t{seen}")));
            seen += 1;
        }
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, n);
    let r = f
        .api()
        .filter_log_events(FilterLogEventsRequest {
            log_group_name: Some("g".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.events.unwrap().len(), n);
}

#[test]
fn concurrent_writers_lose_nothing() {
    let f = Fixture::with_options(Options {
        max_open_streams: 2,
        segment_bytes: 8 << 10,
    });
    f.group("g");
    for s in ["a", "b", "c", "d"] {
        f.stream("g", s);
    }
    std::thread::scope(|scope| {
        for t in 0..8 {
            let f = &f;
            scope.spawn(move || {
                let stream = ["a", "b", "c", "d"][t % 4];
                for i in 0..50 {
                    let m = format!("{t}-{i}");
                    f.put("g", stream, &[(NOW, &m)], None);
                }
            });
        }
    });
    for (i, s) in ["a", "b", "c", "d"].iter().enumerate() {
        let got = all_messages(&f, "g", s);
        assert_eq!(got.len(), 100);
        for t in [i, i + 4] {
            let mine: Vec<_> = got
                .iter()
                .filter(|m| m.starts_with(&format!("{t}-")))
                .collect();
            let want: Vec<_> = (0..50).map(|i| format!("{t}-{i}")).collect();
            assert_eq!(mine, want.iter().collect::<Vec<_>>());
        }
    }
}
