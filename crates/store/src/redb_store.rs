//! The embedded durable [`Store`]: one redb file, one redb table per [`Table`].

use crate::{Op, Store, StoreError, Table};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A store in one file; every commit is fsynced before it returns.
pub struct RedbStore {
    db: Database,
}

impl RedbStore {
    /// Opens (or creates) the store file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(|e| {
            StoreError::Backend(format!(
                "cannot open store {}: {e} (is another berth server using this data directory?)",
                path.display()
            ))
        })?;
        // Create every table up front so reads never meet a missing one.
        let txn = db.begin_write().map_err(backend)?;
        for table in Table::ALL {
            txn.open_table(definition(table)).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        Ok(Self { db })
    }
}

impl Store for RedbStore {
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(backend)?;
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    let mut t = txn.open_table(definition(*table)).map_err(backend)?;
                    t.insert(key.as_str(), value.as_slice()).map_err(backend)?;
                }
                Op::Delete { table, key } => {
                    let mut t = txn.open_table(definition(*table)).map_err(backend)?;
                    t.remove(key.as_str()).map_err(backend)?;
                }
            }
        }
        txn.commit().map_err(backend)
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(definition(table)).map_err(backend)?;
        Ok(t.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
    }

    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(definition(table)).map_err(backend)?;
        t.iter()
            .map_err(backend)?
            .map(|entry| {
                let (k, v) = entry.map_err(backend)?;
                Ok((k.value().to_string(), v.value().to_vec()))
            })
            .collect()
    }
}
