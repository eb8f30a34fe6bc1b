//! The one behaviour suite every [`Store`] implementation must pass.
//!
//! Each check panics with a message naming the broken promise; the crate's tests run them against
//! [`MemStore`](crate::MemStore) and [`RedbStore`](crate::RedbStore).

use crate::{Event, Op, Store, Table};

/// Runs every check on a fresh, empty store.
pub fn run(store: &dyn Store) {
    put_get_delete(store);
    batches_are_atomic_and_ordered(store);
    scan_is_per_table_and_sorted(store);
    secret_tables_round_trip(store);
    a_watcher_sees_every_commit_in_order_once_durable(store);
}

/// A writer thread commits while the watcher reads each event and looks the record up.
fn a_watcher_sees_every_commit_in_order_once_durable(store: &dyn Store) {
    const COMMITS: u64 = 100;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut watcher = store.watch();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            (0..COMMITS)
                .map(|i| {
                    store
                        .commit(&[
                            Op::put(Table::Tasks, format!("feed{i}"), &i),
                            Op::delete(Table::ClientTokens, "absent"),
                        ])
                        .expect("commit")
                })
                .collect::<Vec<u64>>()
        });
        let mut seen = vec![];
        for i in 0..COMMITS {
            let key = format!("feed{i}");
            let Some(Event::Commit(commit)) = runtime.block_on(watcher.next()) else {
                panic!("the watcher hears of commit {i}");
            };
            assert_eq!(
                commit.changed,
                [
                    (Table::Tasks, key.clone()),
                    (Table::ClientTokens, "absent".to_string())
                ],
                "an event names the records of its batch, in order"
            );
            assert_eq!(
                store.get(Table::Tasks, &key).expect("get"),
                Some(i.to_string().into_bytes()),
                "a commit is durable before a watcher hears of it"
            );
            seen.push(commit.revision);
        }
        let returned = writer.join().expect("the writer");
        assert!(
            returned.windows(2).all(|w| w[0] < w[1]),
            "revisions increase: {returned:?}"
        );
        assert_eq!(
            seen, returned,
            "the watcher sees every commit, in order, at the revision commit returned"
        );
    });
    let deletes: Vec<Op> = (0..COMMITS)
        .map(|i| Op::delete(Table::Tasks, format!("feed{i}")))
        .collect();
    store.commit(&deletes).expect("commit");
}

fn secret_tables_round_trip(store: &dyn Store) {
    for table in Table::ALL.into_iter().filter(|t| t.holds_secrets()) {
        let value = br#"{"secret":"s"}"#.to_vec();
        store
            .commit(&[Op::Put {
                table,
                key: "k".into(),
                value: value.clone(),
            }])
            .expect("commit");
        assert_eq!(store.get(table, "k").expect("get"), Some(value.clone()));
        assert_eq!(
            store.scan(table).expect("scan"),
            vec![("k".to_string(), value)]
        );
        store.commit(&[Op::delete(table, "k")]).expect("commit");
    }
}

/// A record, or None when absent; a failed read fails the suite.
fn read(store: &dyn Store, table: Table, key: &str) -> Option<Vec<u8>> {
    store.get(table, key).expect("get")
}

fn put_get_delete(store: &dyn Store) {
    store
        .commit(&[Op::Put {
            table: Table::Clusters,
            key: "a".into(),
            value: b"1".to_vec(),
        }])
        .expect("commit");
    let put = read(store, Table::Clusters, "a");
    assert_eq!(put, Some(b"1".to_vec()), "a put record is readable");
    assert_eq!(
        read(store, Table::Tasks, "a"),
        None,
        "tables do not share keys"
    );
    store
        .commit(&[Op::delete(Table::Clusters, "a")])
        .expect("commit");
    assert_eq!(read(store, Table::Clusters, "a"), None);
    store
        .commit(&[Op::delete(Table::Clusters, "never-there")])
        .expect("deleting an absent key is fine");
}

fn batches_are_atomic_and_ordered(store: &dyn Store) {
    store
        .commit(&[
            Op::put(Table::Tasks, "t", &1),
            Op::put(Table::Tasks, "t", &2),
            Op::put(Table::ClientTokens, "tok", &"t"),
        ])
        .expect("commit");
    let last = read(store, Table::Tasks, "t");
    assert_eq!(last, Some(b"2".to_vec()), "later ops in a batch win");
    assert!(read(store, Table::ClientTokens, "tok").is_some());
    store
        .commit(&[
            Op::delete(Table::Tasks, "t"),
            Op::delete(Table::ClientTokens, "tok"),
        ])
        .expect("commit");
}

fn scan_is_per_table_and_sorted(store: &dyn Store) {
    for key in ["b", "a", "c"] {
        store
            .commit(&[Op::put(Table::Tags, key, &key)])
            .expect("commit");
    }
    store
        .commit(&[Op::put(Table::Meta, "x", &0)])
        .expect("commit");
    let keys: Vec<String> = store
        .scan(Table::Tags)
        .expect("scan")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["a", "b", "c"], "scan returns one table in key order");
}
