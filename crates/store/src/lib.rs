//! Berth's durable state: named tables of JSON records, written in atomic batches, each commit
//! numbered by a revision that readers can watch (`feed`).
//!
//! The control plane keeps its hot state in memory and writes every change through a [`Store`]
//! before it answers, so an acknowledged write survives a crash. Two implementations:
//! - [`RedbStore`]: one file in the data directory, ACID, fsync on every commit;
//! - [`MemStore`]: in memory, for unit tests of logic.
//!
//! [`Sealed`] wraps either and encrypts the tables that hold secrets
//! ([`Table::holds_secrets`]) with the server's key, so a copied store file alone reveals none.
//! `conformance` is the one test suite every store must pass; it is compiled only with the
//! `testing` feature, which the crate's own tests turn on.

#![warn(unreachable_pub)]

#[cfg(feature = "testing")]
pub mod conformance;
mod feed;
mod mem;
mod redb_store;
mod sealed;

pub use feed::{Committed, Event, Watcher};
pub use mem::MemStore;
pub use redb_store::RedbStore;
pub use sealed::Sealed;

/// The tables Berth keeps. Keys are ARNs or names; values are JSON records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Server settings: account, region, credentials.
    Meta,
    /// Clusters by name.
    Clusters,
    /// Task definitions by `family:revision`.
    TaskDefinitions,
    /// Container instances by ARN.
    ContainerInstances,
    /// Tasks by ARN.
    Tasks,
    /// RunTask client tokens by token.
    ClientTokens,
    /// Tags of resources that do not carry them in their record, by ARN.
    Tags,
    /// Services by ARN.
    Services,
    /// Service deployments (rollout history) by ARN.
    ServiceDeployments,
    /// Service revisions by ARN.
    ServiceRevisions,
    /// IAM users by name.
    Users,
    /// Access keys by id.
    AccessKeys,
    /// Inline user policies by `user/policy`.
    UserPolicies,
    /// Audit events by zero-padded sequence number.
    Audit,
    /// Agents' access keys by id.
    AgentKeys,
    /// The tokens agents join with, by cluster name (`*` for the one good for every cluster).
    JoinTokens,
    /// When the scale-in protection of a task ends (epoch seconds), by task ARN.
    TaskProtection,
    /// ECS account settings by `<setting name> <principal ARN>`.
    AccountSettings,
    /// SSM parameters (every version's value) by name.
    Parameters,
    /// Secrets Manager secrets (every version's value) by name.
    Secrets,
    /// IAM roles by name, with their inline policies and the managed policies attached.
    Roles,
    /// Customer managed IAM policies by ARN.
    ManagedPolicies,
    /// The managed policies attached to each IAM user, by user name.
    UserAttachments,
    /// Temporary credentials of assumed roles (STS sessions) by access key id.
    RoleSessions,
    /// EC2 VPCs by id.
    Vpcs,
    /// EC2 subnets by id.
    Subnets,
    /// EC2 security groups (with their rules) by id.
    SecurityGroups,
    /// The network interfaces of awsvpc tasks by id.
    NetworkInterfaces,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 28] = [
        Table::Meta,
        Table::Clusters,
        Table::TaskDefinitions,
        Table::ContainerInstances,
        Table::Tasks,
        Table::ClientTokens,
        Table::Tags,
        Table::Services,
        Table::ServiceDeployments,
        Table::ServiceRevisions,
        Table::Users,
        Table::AccessKeys,
        Table::UserPolicies,
        Table::Audit,
        Table::AgentKeys,
        Table::JoinTokens,
        Table::TaskProtection,
        Table::AccountSettings,
        Table::Parameters,
        Table::Secrets,
        Table::Roles,
        Table::ManagedPolicies,
        Table::UserAttachments,
        Table::RoleSessions,
        Table::Vpcs,
        Table::Subnets,
        Table::SecurityGroups,
        Table::NetworkInterfaces,
    ];

    /// The table's name in the store file.
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Clusters => "clusters",
            Table::TaskDefinitions => "task_definitions",
            Table::ContainerInstances => "container_instances",
            Table::Tasks => "tasks",
            Table::ClientTokens => "client_tokens",
            Table::Tags => "tags",
            Table::Services => "services",
            Table::ServiceDeployments => "service_deployments",
            Table::ServiceRevisions => "service_revisions",
            Table::Users => "users",
            Table::AccessKeys => "access_keys",
            Table::UserPolicies => "user_policies",
            Table::Audit => "audit",
            Table::AgentKeys => "agent_keys",
            Table::JoinTokens => "join_tokens",
            Table::TaskProtection => "task_protection",
            Table::AccountSettings => "account_settings",
            Table::Parameters => "parameters",
            Table::Secrets => "secrets",
            Table::Roles => "roles",
            Table::ManagedPolicies => "managed_policies",
            Table::UserAttachments => "user_attachments",
            Table::RoleSessions => "role_sessions",
            Table::Vpcs => "vpcs",
            Table::Subnets => "subnets",
            Table::SecurityGroups => "security_groups",
            Table::NetworkInterfaces => "network_interfaces",
        }
    }

    /// Whether the table's records hold secrets (access keys' secrets, join tokens, parameter
    /// and secret values, role sessions' secrets and tokens), which [`Sealed`] encrypts.
    pub(crate) fn holds_secrets(self) -> bool {
        matches!(
            self,
            Table::AccessKeys
                | Table::AgentKeys
                | Table::JoinTokens
                | Table::Parameters
                | Table::Secrets
                | Table::RoleSessions
        )
    }
}

/// One change in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace a record.
    Put {
        /// The table.
        table: Table,
        /// The key.
        key: String,
        /// The record.
        value: Vec<u8>,
    },
    /// Remove a record (absent is fine).
    Delete {
        /// The table.
        table: Table,
        /// The key.
        key: String,
    },
}

impl Op {
    /// A put of a serialisable record.
    pub fn put<T: serde::Serialize>(table: Table, key: impl Into<String>, value: &T) -> Self {
        Op::Put {
            table,
            key: key.into(),
            // Serialising the generated wire types cannot fail: they hold no maps with
            // non-string keys and no values serde rejects.
            value: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// A delete.
    pub fn delete(table: Table, key: impl Into<String>) -> Self {
        Op::Delete {
            table,
            key: key.into(),
        }
    }
}

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing file or database failed.
    #[error("store backend failed: {0}")]
    Backend(String),
    /// A stored record is not valid JSON for its type.
    #[error("stored record {table}/{key} is corrupt: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The key.
        key: String,
        /// The decoding error.
        reason: String,
    },
}

/// Durable key-value tables with atomic batches and a feed of what was committed.
pub trait Store: Send + Sync {
    /// Applies all `ops` or none; returns the commit's revision once it is durable. Revisions
    /// only grow, across restarts too.
    fn commit(&self, ops: &[Op]) -> Result<u64, StoreError>;
    /// Every commit from now on, in revision order, each published only once it is durable
    /// (a reader that hears of it finds it with `get`).
    fn watch(&self) -> Watcher;
    /// One record.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every record of a table, in key order.
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
}

/// Every record of a table decoded as `T`.
pub fn load<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    table: Table,
) -> Result<Vec<(String, T)>, StoreError> {
    store
        .scan(table)?
        .into_iter()
        .map(|(key, bytes)| match serde_json::from_slice(&bytes) {
            Ok(v) => Ok((key, v)),
            Err(e) => Err(StoreError::Corrupt {
                table: table.name(),
                key,
                reason: e.to_string(),
            }),
        })
        .collect()
}
