//! Both store implementations pass the conformance suite; the file store is durable.

use berth_store::{MemStore, Op, RedbStore, Sealed, Store, Table, conformance};

#[test]
fn mem_store_conforms() {
    conformance::run(&MemStore::default());
}

#[test]
fn redb_store_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    conformance::run(&RedbStore::open(&dir.path().join("state.redb")).expect("open"));
}

#[test]
fn sealed_store_conforms() {
    conformance::run(&Sealed::new(MemStore::default(), &[1; 32]).expect("open"));
}

#[test]
fn redb_store_keeps_commits_and_revisions_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let before = {
        let store = RedbStore::open(&path).expect("open");
        store
            .commit(&[Op::put(Table::Tasks, "t1", &"RUNNING")])
            .expect("commit")
    };
    let store = RedbStore::open(&path).expect("reopen");
    assert_eq!(
        store.get(Table::Tasks, "t1").expect("get"),
        Some(br#""RUNNING""#.to_vec())
    );
    let after = store
        .commit(&[Op::delete(Table::Tasks, "t1")])
        .expect("commit");
    assert_eq!(
        after,
        before + 1,
        "revisions go on from the last durable one"
    );
}
