//! The in-memory state and the counters derived from it; the [`Change`]s that alter it are in
//! [`crate::change`].
//!
//! Every change goes through [`State::apply`], both when a mutation commits and when the state is
//! loaded from the store at start, so the derived counters (resources in use per instance, task
//! counts per cluster) are always computed by one piece of code.

use crate::change::{Change, ClientToken};
use crate::demand::{self, Demand};
use crate::identity::{AccessKey, AgentKey, JoinToken, User, UserPolicy};
use crate::network::records::NetworkState;
use crate::parameters::StoredParameter;
use crate::roles::RoleState;
use crate::secrets::StoredSecret;
use crate::status::{ClusterStatus, InstanceStatus, TaskStatus};
use crate::views::{self, ClusterViews, Usage};
use berth_scheduler::InstanceView;
use berth_scheduler::query::Facts;
use berth_store::{Store, StoreError, Table, load};
use berth_types::arn;
use berth_types::ecs::{
    Cluster, ContainerInstance, Service, ServiceDeployment, ServiceRevision, Setting, SettingName,
    Tag, Task, TaskDefinition,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Task counts of one cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ClusterCounts {
    /// RUNNING tasks.
    pub running: i32,
    /// PROVISIONING and PENDING tasks.
    pub pending: i32,
}

/// Everything the control plane knows.
#[derive(Debug, Default)]
pub struct State {
    /// Clusters by name (INACTIVE ones stay describable).
    pub clusters: BTreeMap<String, Cluster>,
    /// Task definitions by family and revision.
    pub task_definitions: BTreeMap<(String, i32), TaskDefinition>,
    /// The last revision handed out per family; kept when revisions are deleted.
    pub families: BTreeMap<String, i32>,
    /// Container instances by ARN.
    pub instances: BTreeMap<String, ContainerInstance>,
    /// Tasks by ARN.
    pub tasks: BTreeMap<String, Task>,
    /// Services by ARN (INACTIVE ones stay describable).
    pub services: BTreeMap<String, Service>,
    /// Service deployments by ARN: each deployment's history record.
    pub service_deployments: BTreeMap<String, ServiceDeployment>,
    /// Service revisions by ARN: what each deployment deploys.
    pub service_revisions: BTreeMap<String, ServiceRevision>,
    /// IAM users by name.
    pub users: BTreeMap<String, User>,
    /// Access keys by id.
    pub access_keys: BTreeMap<String, AccessKey>,
    /// Inline user policies by (user, policy name).
    pub user_policies: BTreeMap<(String, String), UserPolicy>,
    /// Agents' keys by id.
    pub agent_keys: BTreeMap<String, AgentKey>,
    /// Join tokens by cluster name (`*`: good for every cluster).
    pub join_tokens: BTreeMap<String, JoinToken>,
    /// RunTask client tokens.
    pub client_tokens: HashMap<String, ClientToken>,
    /// Tags of task definitions (other resources carry theirs in their record).
    pub tags: BTreeMap<String, Vec<Tag>>,
    /// When each protected task's scale-in protection ends (epoch seconds), by task ARN.
    pub protection: BTreeMap<String, f64>,
    /// Account settings set explicitly, by name and principal ARN (the root's are the account's
    /// defaults): their values.
    pub account_settings: BTreeMap<(SettingName, String), String>,
    /// SSM parameters by name.
    pub parameters: BTreeMap<String, StoredParameter>,
    /// Secrets by name (those scheduled for deletion too).
    pub secrets: BTreeMap<String, StoredSecret>,
    /// IAM roles, managed policies, their attachments and role sessions.
    pub roles: RoleState,
    /// VPCs, subnets and security groups.
    pub network: NetworkState,
    /// Open agent streams per instance (not durable: agents reconnect after a restart).
    pub connected: HashMap<String, u32>,
    usage: HashMap<String, Usage>,
    /// ARNs of the tasks not yet STOPPED on each instance.
    on_instance: HashMap<String, BTreeSet<String>>,
    /// ARNs of each service's tasks, STOPPED ones too until they are forgotten (the circuit
    /// breaker counts them), by [`service_key`], so a service controller pass reads its own.
    of_service: HashMap<(String, String), BTreeSet<String>>,
    cluster_counts: HashMap<String, ClusterCounts>,
    views: HashMap<String, ClusterViews>,
}

/// The service a task belongs to, by cluster and service name (what a service's ARN names): a
/// task is a service's when it is in the service's cluster and its group is `service:<name>`,
/// the group the controller starts it in.
fn service_key(task: &Task) -> Option<(String, String)> {
    let name = task.group.as_deref()?.strip_prefix("service:")?;
    let cluster = arn::cluster_name(task.cluster_arn.as_deref()?);
    Some((cluster.to_string(), name.to_string()))
}

impl State {
    /// Reads every table and rebuilds the derived counters.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut state = State::default();
        // Task definitions first: task accounting looks them up.
        for (_, td) in load::<TaskDefinition>(store, Table::TaskDefinitions)? {
            state.apply(Change::TaskDefinition(td));
        }
        for (_, c) in load::<Cluster>(store, Table::Clusters)? {
            state.apply(Change::Cluster(c));
        }
        for (key, rev) in load::<i32>(store, Table::Meta)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k.starts_with("family/"))
        {
            let family = key.trim_start_matches("family/").to_string();
            state.apply(Change::FamilyRevision(family, rev));
        }
        for (_, mut i) in load::<ContainerInstance>(store, Table::ContainerInstances)? {
            i.agent_connected = Some(false);
            state.apply(Change::Instance(i));
        }
        for (_, t) in load::<Task>(store, Table::Tasks)? {
            state.apply(Change::Task(t));
        }
        for (token, record) in load::<ClientToken>(store, Table::ClientTokens)? {
            state.apply(Change::ClientToken(token, record));
        }
        for (arn, tags) in load::<Vec<Tag>>(store, Table::Tags)? {
            state.apply(Change::Tags(arn, tags));
        }
        for (_, svc) in load::<Service>(store, Table::Services)? {
            state.apply(Change::Service(svc));
        }
        for (_, d) in load::<ServiceDeployment>(store, Table::ServiceDeployments)? {
            state.apply(Change::ServiceDeployment(d));
        }
        for (_, r) in load::<ServiceRevision>(store, Table::ServiceRevisions)? {
            state.apply(Change::ServiceRevision(r));
        }
        for (_, u) in load::<User>(store, Table::Users)? {
            state.apply(Change::User(u));
        }
        for (_, k) in load::<AccessKey>(store, Table::AccessKeys)? {
            state.apply(Change::AccessKey(k));
        }
        for (_, p) in load::<UserPolicy>(store, Table::UserPolicies)? {
            state.apply(Change::UserPolicy(p));
        }
        for (_, k) in load::<AgentKey>(store, Table::AgentKeys)? {
            state.apply(Change::AgentKey(k));
        }
        for (_, t) in load::<JoinToken>(store, Table::JoinTokens)? {
            state.apply(Change::JoinToken(t));
        }
        for (arn, until) in load::<f64>(store, Table::TaskProtection)? {
            state.apply(Change::Protection(arn, Some(until)));
        }
        for (_, s) in load::<Setting>(store, Table::AccountSettings)? {
            state.apply(Change::AccountSetting(s));
        }
        for (_, p) in load::<StoredParameter>(store, Table::Parameters)? {
            state.apply(Change::Parameter(p));
        }
        for (_, s) in load::<StoredSecret>(store, Table::Secrets)? {
            state.apply(Change::Secret(s));
        }
        state.roles = RoleState::load(store)?;
        state.network = NetworkState::load(store)?;
        Ok(state)
    }

    /// Applies one change to memory.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Cluster(c) => {
                self.clusters
                    .insert(c.cluster_name.clone().unwrap_or_default(), c);
            }
            Change::TaskDefinition(td) => {
                let key = (
                    td.family.clone().unwrap_or_default(),
                    td.revision.unwrap_or_default(),
                );
                self.task_definitions.insert(key, td);
            }
            Change::FamilyRevision(family, rev) => {
                self.families.insert(family, rev);
            }
            Change::Instance(i) => {
                let arn = i.container_instance_arn.clone().unwrap_or_default();
                self.instances.insert(arn.clone(), i);
                self.refresh_view(&arn);
            }
            Change::Task(t) => {
                let arn = t.task_arn.clone().unwrap_or_default();
                let old = self.tasks.remove(&arn);
                if let Some(old) = &old {
                    self.account(old, -1);
                    self.index_service(old, -1);
                }
                self.account(&t, 1);
                self.index_service(&t, 1);
                let hosts = [
                    old.and_then(|o| o.container_instance_arn),
                    t.container_instance_arn.clone(),
                ];
                self.tasks.insert(arn, t);
                for host in hosts.iter().flatten() {
                    self.refresh_view(host);
                }
            }
            Change::RemoveTask(arn) => {
                if let Some(old) = self.tasks.remove(&arn) {
                    self.account(&old, -1);
                    self.index_service(&old, -1);
                    if let Some(host) = &old.container_instance_arn {
                        self.refresh_view(host);
                    }
                }
            }
            Change::ClientToken(token, record) => {
                self.client_tokens.insert(token, record);
            }
            Change::RemoveClientToken(token) => {
                self.client_tokens.remove(&token);
            }
            Change::Tags(arn, tags) if tags.is_empty() => {
                self.tags.remove(&arn);
            }
            Change::Tags(arn, tags) => {
                self.tags.insert(arn, tags);
            }
            Change::Service(svc) => {
                self.services
                    .insert(svc.service_arn.clone().unwrap_or_default(), svc);
            }
            Change::ServiceDeployment(d) => {
                self.service_deployments
                    .insert(d.service_deployment_arn.clone().unwrap_or_default(), d);
            }
            Change::ServiceRevision(r) => {
                self.service_revisions
                    .insert(r.service_revision_arn.clone().unwrap_or_default(), r);
            }
            Change::User(u) => {
                self.users.insert(u.name.clone(), u);
            }
            Change::RemoveUser(name) => {
                self.users.remove(&name);
            }
            Change::AccessKey(k) => {
                self.access_keys.insert(k.id.clone(), k);
            }
            Change::RemoveAccessKey(id) => {
                self.access_keys.remove(&id);
            }
            Change::UserPolicy(p) => {
                self.user_policies
                    .insert((p.user.clone(), p.name.clone()), p);
            }
            Change::RemoveUserPolicy(user, name) => {
                self.user_policies.remove(&(user, name));
            }
            Change::AgentKey(k) => {
                self.agent_keys.insert(k.id.clone(), k);
            }
            Change::RemoveAgentKey(id) => {
                self.agent_keys.remove(&id);
            }
            Change::JoinToken(t) => {
                self.join_tokens.insert(t.cluster.clone(), t);
            }
            Change::Protection(arn, Some(until)) => {
                self.protection.insert(arn, until);
            }
            Change::Protection(arn, None) => {
                self.protection.remove(&arn);
            }
            Change::AccountSetting(s) => {
                let key = (
                    s.name.unwrap_or_default(),
                    s.principal_arn.unwrap_or_default(),
                );
                self.account_settings
                    .insert(key, s.value.unwrap_or_default());
            }
            Change::RemoveAccountSetting(name, principal) => {
                self.account_settings.remove(&(name, principal));
            }
            Change::Parameter(p) => {
                self.parameters.insert(p.name.clone(), p);
            }
            Change::RemoveParameter(name) => {
                self.parameters.remove(&name);
            }
            Change::Secret(s) => {
                self.secrets.insert(s.name.clone(), s);
            }
            Change::RemoveSecret(name) => {
                self.secrets.remove(&name);
            }
            Change::Roles(change) => self.roles.apply(change),
            Change::Network(change) => self.network.apply(change),
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) a task's share of the derived counters.
    fn account(&mut self, task: &Task, sign: i32) {
        let status = TaskStatus::of(&task.last_status);
        if status == Some(TaskStatus::Stopped) {
            return;
        }
        let running = i32::from(status == Some(TaskStatus::Running));
        let pending = 1 - running;
        if let Some(cluster) = task.cluster_arn.as_deref().map(arn::cluster_name) {
            let counts = self.cluster_counts.entry(cluster.to_string()).or_default();
            counts.running += sign * running;
            counts.pending += sign * pending;
        }
        let Some(instance) = task.container_instance_arn.clone() else {
            return;
        };
        let need = self.task_demand(task);
        let placed = self.on_instance.entry(instance.clone()).or_default();
        let task_arn = task.task_arn.clone().unwrap_or_default();
        if sign > 0 {
            placed.insert(task_arn);
        } else {
            placed.remove(&task_arn);
        }
        let usage = self.usage.entry(instance).or_default();
        usage.cpu += i64::from(sign) * need.cpu;
        usage.memory += i64::from(sign) * need.memory;
        usage.gpu += i64::from(sign) * need.gpu;
        usage.running += sign * running;
        usage.pending += sign * pending;
        let group = task.group.clone().unwrap_or_default();
        let members = usage.groups.entry(group.clone()).or_default();
        *members = members.saturating_add_signed(sign);
        if *members == 0 {
            usage.groups.remove(&group);
        }
        if sign > 0 {
            usage.tcp.extend(&need.tcp_ports);
            usage.udp.extend(&need.udp_ports);
        } else {
            usage.tcp.retain(|p| !need.tcp_ports.contains(p));
            usage.udp.retain(|p| !need.udp_ports.contains(p));
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) a task in its service's index.
    fn index_service(&mut self, task: &Task, sign: i32) {
        let (Some(key), Some(arn)) = (service_key(task), &task.task_arn) else {
            return;
        };
        if sign > 0 {
            self.of_service.entry(key).or_default().insert(arn.clone());
        } else if let Some(tasks) = self.of_service.get_mut(&key) {
            tasks.remove(arn);
            if tasks.is_empty() {
                self.of_service.remove(&key);
            }
        }
    }

    /// What a task needs from its host, from its definition and overrides.
    pub(crate) fn task_demand(&self, task: &Task) -> Demand {
        self.definition_of(task)
            .map(|td| demand::of(td, task.overrides.as_ref()))
            .unwrap_or_default()
    }

    /// The definition a task was started from.
    pub(crate) fn definition_of(&self, task: &Task) -> Option<&TaskDefinition> {
        let r = arn::task_definition_ref(task.task_definition_arn.as_deref()?)?;
        self.task_definitions.get(&(r.family, r.revision?))
    }

    /// Resources and counts of an instance.
    pub fn usage(&self, instance_arn: &str) -> Usage {
        self.usage.get(instance_arn).cloned().unwrap_or_default()
    }

    /// Resources and counts of an instance, borrowed; None when nothing was ever placed on it.
    pub(crate) fn usage_of(&self, instance_arn: &str) -> Option<&Usage> {
        self.usage.get(instance_arn)
    }

    /// The scheduler's view of an instance, from its record, its tasks and its agent's stream.
    pub(crate) fn view_of(&self, instance: &ContainerInstance) -> InstanceView {
        let arn = instance
            .container_instance_arn
            .as_deref()
            .unwrap_or_default();
        views::view(instance, self.usage_of(arn), self.facts_of(instance))
    }

    /// What the query language and the strategies may know of an instance.
    pub(crate) fn facts_of(&self, instance: &ContainerInstance) -> Facts {
        let arn = instance
            .container_instance_arn
            .as_deref()
            .unwrap_or_default();
        views::facts(
            instance,
            self.usage_of(arn),
            self.connected.contains_key(arn),
        )
    }

    /// The tasks not yet STOPPED on an instance.
    pub(crate) fn tasks_on(&self, instance_arn: &str) -> impl Iterator<Item = &Task> {
        self.on_instance
            .get(instance_arn)
            .into_iter()
            .flatten()
            .filter_map(|arn| self.tasks.get(arn))
    }

    /// A service's tasks in ARN order, STOPPED ones too until they are forgotten.
    pub(crate) fn tasks_of_service(&self, service: &Service) -> impl Iterator<Item = &Task> {
        let key = (
            arn::cluster_name(service.cluster_arn.as_deref().unwrap_or_default()).to_string(),
            service.service_name.clone().unwrap_or_default(),
        );
        self.of_service
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|arn| self.tasks.get(arn))
    }

    /// The scheduler's views of a cluster's registered instances.
    pub fn views(&self, cluster: &str) -> &[berth_scheduler::InstanceView] {
        self.views
            .get(cluster)
            .map(ClusterViews::all)
            .unwrap_or_default()
    }

    /// The views of a cluster with their index, when it has any instance.
    pub(crate) fn cluster_views(&self, cluster: &str) -> Option<&ClusterViews> {
        self.views.get(cluster)
    }

    /// Recomputes one instance's view after a change to it, its tasks or its agent's stream;
    /// an INACTIVE or unknown instance has none.
    pub(crate) fn refresh_view(&mut self, instance_arn: &str) {
        let Some(cluster) = arn::cluster_of(instance_arn) else {
            return;
        };
        let view = self
            .instances
            .get(instance_arn)
            .filter(|i| !InstanceStatus::Inactive.is(&i.status))
            .map(|i| self.view_of(i));
        let cluster = self.views.entry(cluster.to_string()).or_default();
        match view {
            Some(v) => cluster.put(v),
            None => cluster.remove(instance_arn),
        }
    }

    /// Task counts of a cluster.
    pub(crate) fn cluster_counts(&self, cluster: &str) -> ClusterCounts {
        self.cluster_counts
            .get(cluster)
            .copied()
            .unwrap_or_default()
    }

    /// The container instances registered in a cluster, in any status.
    pub(crate) fn instances_in<'a>(
        &'a self,
        cluster: &'a str,
    ) -> impl Iterator<Item = &'a ContainerInstance> {
        self.instances.values().filter(move |i| {
            i.container_instance_arn
                .as_deref()
                .and_then(arn::cluster_of)
                == Some(cluster)
        })
    }

    /// The ACTIVE cluster of that name or ARN.
    pub(crate) fn active_cluster(&self, name_or_arn: &str) -> Option<&Cluster> {
        self.clusters
            .get(arn::cluster_name(name_or_arn))
            .filter(|c| ClusterStatus::Active.is(&c.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::arn::Partition;

    #[test]
    fn a_service_finds_its_tasks_in_the_index() {
        let partition = Partition {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let task = |cluster: &str, id: &str, group: &str| Task {
            task_arn: Some(partition.task(cluster, id)),
            cluster_arn: Some(partition.cluster(cluster)),
            group: Some(group.into()),
            ..Default::default()
        };
        let service = Service {
            cluster_arn: Some(partition.cluster("prod")),
            service_name: Some("web".into()),
            ..Default::default()
        };
        let mut state = State::default();
        // Only the first is the service's: the others are in another cluster, of another
        // service whose name starts the same, or of a RunTask family group.
        state.apply(Change::Task(task("prod", "a", "service:web")));
        state.apply(Change::Task(task("test", "b", "service:web")));
        state.apply(Change::Task(task("prod", "c", "service:webby")));
        state.apply(Change::Task(task("prod", "d", "family:web")));
        let ids = |state: &State| -> Vec<String> {
            state
                .tasks_of_service(&service)
                .map(|t| arn::resource_id(t.task_arn.as_deref().unwrap_or_default()).into())
                .collect()
        };
        assert_eq!(ids(&state), ["a"]);
        // Stopped, it stays until forgotten.
        let mut stopped = task("prod", "a", "service:web");
        stopped.last_status = TaskStatus::Stopped.into();
        state.apply(Change::Task(stopped));
        assert_eq!(ids(&state), ["a"]);
        state.apply(Change::RemoveTask(partition.task("prod", "a")));
        assert!(ids(&state).is_empty());
        let key = ("prod".to_string(), "web".to_string());
        assert!(
            !state.of_service.contains_key(&key),
            "no empty entry is left behind"
        );
    }
}
