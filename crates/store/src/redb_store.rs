//! The embedded durable [`Store`]: one redb file, one redb table per [`Table`], and one more
//! for the revision of the last commit, bumped in each commit's own transaction.

use crate::feed::{Feed, Watcher};
use crate::{Op, Store, StoreError, Table};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Mutex;

/// The revision of the last commit, under [`LAST`]. Not a [`Table`]: it is the store's own
/// bookkeeping, not a record of Berth's.
const REVISION: TableDefinition<'static, &'static str, u64> = TableDefinition::new("revision");
const LAST: &str = "last";

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A store in one file; every commit is fsynced before it returns.
pub struct RedbStore {
    db: Database,
    /// The revision of the last commit. Held for the whole of a commit, so commits are
    /// published in revision order (redb serialises write transactions anyway).
    revision: Mutex<u64>,
    feed: Feed,
}

/// redb's page cache. Its default (1 GiB) would be most of a server's memory at scale, and
/// the control plane keeps its own state in memory: the store is read whole only at start,
/// and written a few pages a commit (docs/design/scale.md).
const CACHE_BYTES: usize = 128 * 1024 * 1024;

impl RedbStore {
    /// Opens (or creates) the store file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
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
        let revision = txn
            .open_table(REVISION)
            .map_err(backend)?
            .get(LAST)
            .map_err(backend)?
            .map(|v| v.value())
            .unwrap_or_default();
        txn.commit().map_err(backend)?;
        Ok(Self {
            db,
            revision: Mutex::new(revision),
            feed: Feed::default(),
        })
    }
}

impl Store for RedbStore {
    fn commit(&self, ops: &[Op]) -> Result<u64, StoreError> {
        // A panic while holding the lock leaves the last durable revision in it.
        let mut last = self.revision.lock().unwrap_or_else(|p| p.into_inner());
        let revision = *last + 1;
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
        txn.open_table(REVISION)
            .map_err(backend)?
            .insert(LAST, revision)
            .map_err(backend)?;
        txn.commit().map_err(backend)?;
        *last = revision;
        self.feed.publish(revision, ops);
        Ok(revision)
    }

    fn watch(&self) -> Watcher {
        self.feed.watch()
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
