//! An in-memory [`Store`] for unit tests of logic.

use crate::{Op, Store, StoreError, Table};
use std::collections::BTreeMap;
use std::sync::Mutex;

type Tables = BTreeMap<(Table, String), Vec<u8>>;

/// A store that keeps everything in a map and forgets it on drop.
#[derive(Default)]
pub struct MemStore {
    records: Mutex<Tables>,
}

impl MemStore {
    fn records(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied batch (see commit), so a
        // poisoned lock still guards consistent data.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut records = self.records();
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    records.insert((*table, key.clone()), value.clone());
                }
                Op::Delete { table, key } => {
                    records.remove(&(*table, key.clone()));
                }
            }
        }
        Ok(())
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.records().get(&(table, key.to_string())).cloned())
    }

    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .records()
            .range((table, String::new())..)
            .take_while(|((t, _), _)| *t == table)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
