//! Secrets at rest: a [`Store`] wrapper that encrypts the records of the tables that hold
//! secrets ([`Table::holds_secrets`]) with AES-256-GCM under the server's key, a random nonce
//! per record. The other tables pass through untouched, so the wrapper costs nothing on the
//! hot paths (tasks, instances).
//!
//! The change feed passes through: its events name records, not their contents, so watchers
//! learn nothing sealed from it.
//!
//! Records written before sealing existed (plain JSON) are still read, and [`Sealed::new`]
//! rewrites them sealed, so an existing installation is sealed at its next start.

use crate::{Op, Store, StoreError, Table, Watcher};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};

/// What a sealed record starts with: the format's version.
const MAGIC: &[u8] = b"sealed1:";
/// AES-GCM's nonce length.
const NONCE: usize = 12;

/// A store whose secret tables are encrypted with a 256-bit key.
pub struct Sealed<S> {
    inner: S,
    cipher: Aes256Gcm,
}

impl<S: Store> Sealed<S> {
    /// Wraps `inner`, sealing with `key`, and seals any plain record left by an earlier version.
    pub fn new(inner: S, key: &[u8; 32]) -> Result<Self, StoreError> {
        let sealed = Self {
            inner,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        };
        let mut plain = vec![];
        for table in Table::ALL.into_iter().filter(|t| t.holds_secrets()) {
            for (key, value) in sealed.inner.scan(table)? {
                if !value.starts_with(MAGIC) {
                    plain.push(Op::Put { table, key, value });
                }
            }
        }
        if !plain.is_empty() {
            tracing::info!(
                records = plain.len(),
                "sealing secrets stored in plain text"
            );
            sealed.commit(&plain)?;
        }
        Ok(sealed)
    }

    fn seal(&self, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, value)
            .map_err(|_| StoreError::Backend("cannot seal a secret record".into()))?;
        Ok([MAGIC, nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, table: Table, key: &str, value: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let Some(rest) = value.strip_prefix(MAGIC) else {
            // Written before sealing; `new` seals it.
            return Ok(value);
        };
        let corrupt = |reason: &str| StoreError::Corrupt {
            table: table.name(),
            key: key.to_string(),
            reason: reason.into(),
        };
        if rest.len() < NONCE {
            return Err(corrupt("the sealed record is truncated"));
        }
        let (nonce, sealed) = rest.split_at(NONCE);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| {
                corrupt("the sealed record does not open with this server's key (was the key file replaced?)")
            })
    }
}

impl<S: Store> Store for Sealed<S> {
    fn commit(&self, ops: &[Op]) -> Result<u64, StoreError> {
        if !ops
            .iter()
            .any(|op| matches!(op, Op::Put { table, .. } if table.holds_secrets()))
        {
            return self.inner.commit(ops);
        }
        let ops = ops
            .iter()
            .map(|op| match op {
                Op::Put { table, key, value } if table.holds_secrets() => Ok(Op::Put {
                    table: *table,
                    key: key.clone(),
                    value: self.seal(value)?,
                }),
                op => Ok(op.clone()),
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.inner.commit(&ops)
    }

    fn watch(&self) -> Watcher {
        self.inner.watch()
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.inner.get(table, key)? {
            Some(value) if table.holds_secrets() => self.open(table, key, value).map(Some),
            other => Ok(other),
        }
    }

    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let records = self.inner.scan(table)?;
        if !table.holds_secrets() {
            return Ok(records);
        }
        records
            .into_iter()
            .map(|(key, value)| {
                let value = self.open(table, &key, value)?;
                Ok((key, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemStore;
    use std::sync::Arc;

    /// A store shared by two wrappers, to look at what the inner one holds.
    #[derive(Clone, Default)]
    struct Shared(Arc<MemStore>);

    impl Store for Shared {
        fn commit(&self, ops: &[Op]) -> Result<u64, StoreError> {
            self.0.commit(ops)
        }
        fn watch(&self) -> Watcher {
            self.0.watch()
        }
        fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(table, key)
        }
        fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
            self.0.scan(table)
        }
    }

    #[test]
    fn secrets_are_unreadable_without_the_key_and_the_rest_is_untouched() {
        let inner = Shared::default();
        let sealed = Sealed::new(inner.clone(), &[7; 32]).expect("opens");
        let secret = br#"{"secret":"hunter2"}"#.to_vec();
        sealed
            .commit(&[
                Op::Put {
                    table: Table::AccessKeys,
                    key: "AKIA1".into(),
                    value: secret.clone(),
                },
                Op::Put {
                    table: Table::Clusters,
                    key: "c".into(),
                    value: b"{}".to_vec(),
                },
            ])
            .expect("commits");
        let raw = inner.get(Table::AccessKeys, "AKIA1").unwrap().unwrap();
        assert!(
            !raw.windows(7).any(|w| w == b"hunter2"),
            "the secret is sealed"
        );
        assert_eq!(inner.get(Table::Clusters, "c").unwrap().unwrap(), b"{}");
        assert_eq!(
            sealed.get(Table::AccessKeys, "AKIA1").unwrap().unwrap(),
            secret
        );
        assert_eq!(sealed.scan(Table::AccessKeys).unwrap()[0].1, secret);
        let other = Sealed::new(inner, &[8; 32]).expect("opens");
        assert!(matches!(
            other.get(Table::AccessKeys, "AKIA1"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn parameters_and_secrets_are_sealed() {
        let inner = Shared::default();
        let sealed = Sealed::new(inner.clone(), &[7; 32]).expect("opens");
        for table in [Table::Parameters, Table::Secrets] {
            let value = br#"{"value":"hunter2"}"#.to_vec();
            let put = Op::Put {
                table,
                key: "k".into(),
                value: value.clone(),
            };
            sealed.commit(&[put]).expect("commits");
            let raw = inner.get(table, "k").unwrap().unwrap();
            assert!(raw.starts_with(MAGIC), "{table:?} is sealed");
            assert_eq!(sealed.get(table, "k").unwrap().unwrap(), value);
        }
    }

    #[test]
    fn plain_records_of_an_earlier_version_are_sealed_at_open() {
        let inner = Shared::default();
        let plain = br#"{"secret":"hunter2"}"#.to_vec();
        inner
            .commit(&[Op::Put {
                table: Table::AgentKeys,
                key: "AKIA2".into(),
                value: plain.clone(),
            }])
            .unwrap();
        let sealed = Sealed::new(inner.clone(), &[7; 32]).expect("opens");
        assert!(
            inner
                .get(Table::AgentKeys, "AKIA2")
                .unwrap()
                .unwrap()
                .starts_with(MAGIC)
        );
        assert_eq!(
            sealed.get(Table::AgentKeys, "AKIA2").unwrap().unwrap(),
            plain
        );
    }
}
