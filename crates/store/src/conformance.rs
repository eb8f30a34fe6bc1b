//! The one behaviour suite every [`Store`] implementation must pass.
//!
//! Each check panics with a message naming the broken promise; the crate's tests run them against
//! [`MemStore`](crate::MemStore) and [`RedbStore`](crate::RedbStore).

use crate::{Op, Store, Table};

/// Runs every check on a fresh, empty store.
pub fn run(store: &dyn Store) {
    put_get_delete(store);
    batches_are_atomic_and_ordered(store);
    scan_is_per_table_and_sorted(store);
    secret_tables_round_trip(store);
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

fn put_get_delete(store: &dyn Store) {
    store
        .commit(&[Op::Put {
            table: Table::Clusters,
            key: "a".into(),
            value: b"1".to_vec(),
        }])
        .expect("commit");
    assert_eq!(
        store.get(Table::Clusters, "a").expect("get"),
        Some(b"1".to_vec()),
        "a put record is readable"
    );
    assert_eq!(
        store.get(Table::Tasks, "a").expect("get"),
        None,
        "tables do not share keys"
    );
    store
        .commit(&[Op::delete(Table::Clusters, "a")])
        .expect("commit");
    assert_eq!(store.get(Table::Clusters, "a").expect("get"), None);
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
    assert_eq!(
        store.get(Table::Tasks, "t").expect("get"),
        Some(b"2".to_vec()),
        "later ops in a batch win"
    );
    assert!(
        store
            .get(Table::ClientTokens, "tok")
            .expect("get")
            .is_some()
    );
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
