//! The change feed: every commit gets a revision, and readers watch what was committed.
//!
//! A backend publishes each commit once it is durable, in revision order, to a [`Feed`];
//! readers hold a [`Watcher`] from [`Store::watch`](crate::Store::watch). An event names the
//! records a commit wrote or deleted, not their values, so the feed is the same whether the
//! records are sealed or not and a reader decides for itself what to read again. The embedded
//! stores publish through a tokio broadcast channel; a replicated store (etcd) would fill one
//! from its own revisions and watches.

use crate::{Op, Table};
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many commits a watcher may fall behind before it is told it missed some.
const BACKLOG: usize = 4096;

/// One durable commit as watchers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The commit's revision: larger than every earlier commit's.
    pub revision: u64,
    /// The records the commit put or deleted, in the batch's order.
    pub changed: Vec<(Table, String)>,
}

/// What a watcher sees next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The next commit.
    Commit(Arc<Committed>),
    /// The watcher fell more than 4,096 commits behind and some are lost to it: the reader
    /// must treat everything as changed, then carries on from the commits it still has.
    Missed,
}

/// Where a backend publishes its commits.
pub(crate) struct Feed {
    sender: broadcast::Sender<Arc<Committed>>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Feed {
    /// Tells every watcher about the durable commit `ops` at `revision`. The backend calls it
    /// once per commit, in revision order.
    pub(crate) fn publish(&self, revision: u64, ops: &[Op]) {
        let changed = ops
            .iter()
            .map(|op| match op {
                Op::Put { table, key, .. } | Op::Delete { table, key } => (*table, key.clone()),
            })
            .collect();
        // An error only means nobody is watching.
        let _ = self.sender.send(Arc::new(Committed { revision, changed }));
    }

    /// A watcher of every commit published from now on.
    pub(crate) fn watch(&self) -> Watcher {
        Watcher {
            receiver: self.sender.subscribe(),
        }
    }
}

/// The commits published since the watcher was made, in revision order.
pub struct Watcher {
    receiver: broadcast::Receiver<Arc<Committed>>,
}

impl Watcher {
    /// The next event; `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Event> {
        match self.receiver.recv().await {
            Ok(commit) => Some(Event::Commit(commit)),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Event::Missed),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
