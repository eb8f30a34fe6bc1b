//! The durable changes a mutation makes ([`Change`]) and the store operation that makes each
//! durable; [`crate::state::State::apply`] applies them to memory.

use crate::identity::{AccessKey, AgentKey, JoinToken, User, UserPolicy};
use crate::network::records::NetworkChange;
use crate::parameters::StoredParameter;
use crate::roles::RoleChange;
use crate::secrets::StoredSecret;
use berth_store::{Op, Table};
use berth_types::ecs::{
    Cluster, ContainerInstance, Service, ServiceDeployment, ServiceRevision, Setting, SettingName,
    Tag, Task, TaskDefinition,
};
use serde::{Deserialize, Serialize};

/// A RunTask `clientToken` and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientToken {
    /// The request's parameters, canonicalised, without the token.
    pub fingerprint: String,
    /// The tasks the first call created.
    pub task_arns: Vec<String>,
    /// Failures the first call reported, as `(arn, reason)`.
    #[serde(default)]
    pub failures: Vec<(Option<String>, String)>,
}

/// One durable change.
// Changes live only for the length of one mutation, so their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create or replace a cluster.
    Cluster(Cluster),
    /// Create or replace a task definition.
    TaskDefinition(TaskDefinition),
    /// The last revision of a family.
    FamilyRevision(String, i32),
    /// Create or replace a container instance.
    Instance(ContainerInstance),
    /// Create or replace a task.
    Task(Task),
    /// Forget a task (a STOPPED one past its retention).
    RemoveTask(String),
    /// Forget a client token.
    RemoveClientToken(String),
    /// Remember a client token.
    ClientToken(String, ClientToken),
    /// Replace the tags of a task definition; empty removes them.
    Tags(String, Vec<Tag>),
    /// Create or replace a service.
    Service(Service),
    /// Create or replace a service deployment record.
    ServiceDeployment(ServiceDeployment),
    /// Create a service revision.
    ServiceRevision(ServiceRevision),
    /// Create or replace a user.
    User(User),
    /// Forget a user.
    RemoveUser(String),
    /// Create or replace an access key.
    AccessKey(AccessKey),
    /// Forget an access key.
    RemoveAccessKey(String),
    /// Create or replace an inline user policy.
    UserPolicy(UserPolicy),
    /// Forget an inline user policy: user, policy name.
    RemoveUserPolicy(String, String),
    /// Create or replace an agent's key.
    AgentKey(AgentKey),
    /// Forget an agent's key (revoked, or never used in time).
    RemoveAgentKey(String),
    /// Create or replace a join token.
    JoinToken(JoinToken),
    /// Protect a task from scale-in until the given time (epoch seconds), or no longer.
    Protection(String, Option<f64>),
    /// Create or replace an account setting of a principal (name, value and principal ARN).
    AccountSetting(Setting),
    /// Forget an account setting: its name, the principal ARN.
    RemoveAccountSetting(SettingName, String),
    /// Create or replace an SSM parameter (with its versions).
    Parameter(StoredParameter),
    /// Forget an SSM parameter, by name.
    RemoveParameter(String),
    /// Create or replace a secret (with its versions).
    Secret(StoredSecret),
    /// Forget a secret, by name.
    RemoveSecret(String),
    /// A change to IAM roles, managed policies, their attachments or role sessions.
    Roles(RoleChange),
    /// A change to VPCs, subnets or security groups.
    Network(NetworkChange),
}

/// The store key of a principal's account setting.
pub(crate) fn setting_key(name: SettingName, principal: &str) -> String {
    format!("{name} {principal}")
}

fn td_key(family: &str, revision: i32) -> String {
    format!("{family}:{revision}")
}

impl Change {
    /// The store operation that makes this change durable.
    pub(crate) fn to_op(&self) -> Op {
        match self {
            Change::Cluster(c) => Op::put(
                Table::Clusters,
                c.cluster_name.clone().unwrap_or_default(),
                c,
            ),
            Change::TaskDefinition(td) => Op::put(
                Table::TaskDefinitions,
                td_key(
                    td.family.as_deref().unwrap_or_default(),
                    td.revision.unwrap_or_default(),
                ),
                td,
            ),
            Change::FamilyRevision(family, rev) => {
                Op::put(Table::Meta, format!("family/{family}"), rev)
            }
            Change::Instance(i) => Op::put(
                Table::ContainerInstances,
                i.container_instance_arn.clone().unwrap_or_default(),
                i,
            ),
            Change::Task(t) => Op::put(Table::Tasks, t.task_arn.clone().unwrap_or_default(), t),
            Change::RemoveTask(arn) => Op::delete(Table::Tasks, arn),
            Change::RemoveClientToken(token) => Op::delete(Table::ClientTokens, token),
            Change::ClientToken(token, record) => Op::put(Table::ClientTokens, token, record),
            Change::Tags(arn, tags) if tags.is_empty() => Op::delete(Table::Tags, arn),
            Change::Tags(arn, tags) => Op::put(Table::Tags, arn, tags),
            Change::Service(svc) => Op::put(
                Table::Services,
                svc.service_arn.clone().unwrap_or_default(),
                svc,
            ),
            Change::ServiceDeployment(d) => Op::put(
                Table::ServiceDeployments,
                d.service_deployment_arn.clone().unwrap_or_default(),
                d,
            ),
            Change::ServiceRevision(r) => Op::put(
                Table::ServiceRevisions,
                r.service_revision_arn.clone().unwrap_or_default(),
                r,
            ),
            Change::User(u) => Op::put(Table::Users, &u.name, u),
            Change::RemoveUser(name) => Op::delete(Table::Users, name),
            Change::AccessKey(k) => Op::put(Table::AccessKeys, &k.id, k),
            Change::RemoveAccessKey(id) => Op::delete(Table::AccessKeys, id),
            Change::UserPolicy(p) => {
                Op::put(Table::UserPolicies, format!("{}/{}", p.user, p.name), p)
            }
            Change::RemoveUserPolicy(user, name) => {
                Op::delete(Table::UserPolicies, format!("{user}/{name}"))
            }
            Change::AgentKey(k) => Op::put(Table::AgentKeys, &k.id, k),
            Change::RemoveAgentKey(id) => Op::delete(Table::AgentKeys, id),
            Change::JoinToken(t) => Op::put(Table::JoinTokens, &t.cluster, t),
            Change::Protection(arn, Some(until)) => Op::put(Table::TaskProtection, arn, until),
            Change::Protection(arn, None) => Op::delete(Table::TaskProtection, arn),
            Change::AccountSetting(s) => Op::put(
                Table::AccountSettings,
                setting_key(
                    s.name.unwrap_or_default(),
                    s.principal_arn.as_deref().unwrap_or_default(),
                ),
                s,
            ),
            Change::RemoveAccountSetting(name, principal) => {
                Op::delete(Table::AccountSettings, setting_key(*name, principal))
            }
            Change::Parameter(p) => Op::put(Table::Parameters, &p.name, p),
            Change::RemoveParameter(name) => Op::delete(Table::Parameters, name),
            Change::Secret(s) => Op::put(Table::Secrets, &s.name, s),
            Change::RemoveSecret(name) => Op::delete(Table::Secrets, name),
            Change::Roles(change) => change.to_op(),
            Change::Network(change) => change.to_op(),
        }
    }
}
