//! An in-memory [`Store`] for unit tests of logic.

use crate::feed::{Feed, Watcher};
use crate::{Op, Store, StoreError, Table};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The records, and the revision of the last commit.
#[derive(Default)]
struct Tables {
    records: BTreeMap<(Table, String), Vec<u8>>,
    revision: u64,
}

/// A store that keeps everything in a map and forgets it on drop.
#[derive(Default)]
pub struct MemStore {
    tables: Mutex<Tables>,
    feed: Feed,
}

impl MemStore {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied batch (see commit), so a
        // poisoned lock still guards consistent data.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn commit(&self, ops: &[Op]) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    tables.records.insert((*table, key.clone()), value.clone());
                }
                Op::Delete { table, key } => {
                    tables.records.remove(&(*table, key.clone()));
                }
            }
        }
        tables.revision += 1;
        // Published under the lock, so watchers see commits in revision order.
        self.feed.publish(tables.revision, ops);
        Ok(tables.revision)
    }

    fn watch(&self) -> Watcher {
        self.feed.watch()
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tables()
            .records
            .get(&(table, key.to_string()))
            .cloned())
    }

    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .tables()
            .records
            .range((table, String::new())..)
            .take_while(|((t, _), _)| *t == table)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
