//! CreateCluster, DescribeClusters (with `include=STATISTICS`), ListClusters, UpdateCluster,
//! UpdateClusterSettings, DeleteCluster, and the `default` cluster that comes into being on
//! first use.
//!
//! A cluster's `containerInsights` setting defaults to the creator's `containerInsights`
//! account setting, as in ECS; Berth has no CloudWatch, so the setting is stored and answered.
//! `configuration` (ECS Exec's logging, managed storage keys) and `serviceConnectDefaults` are
//! likewise kept as given: Berth has neither ECS Exec nor Cloud Map.

use crate::account_settings::{self, root_arn};
use crate::error::ControlError;
use crate::status::{ClusterStatus, InstanceStatus, ServiceStatus, TaskStatus};
use crate::{Change, ControlPlane, Ctx, State, paginate};
use berth_types::arn;
use berth_types::ecs::{
    Cluster, ClusterConfiguration, ClusterField, ClusterServiceConnectDefaults,
    ClusterServiceConnectDefaultsRequest, ClusterSetting, ClusterSettingName, CreateClusterRequest,
    CreateClusterResponse, DeleteClusterRequest, DeleteClusterResponse, DescribeClustersRequest,
    DescribeClustersResponse, ExecuteCommandLogging, KeyValuePair, LaunchType, ListClustersRequest,
    ListClustersResponse, SettingName, UpdateClusterRequest, UpdateClusterResponse,
    UpdateClusterSettingsRequest, UpdateClusterSettingsResponse,
};

/// The cluster used when a call names none.
pub(crate) const DEFAULT_CLUSTER: &str = "default";

/// Checks a cluster name: 1–255 letters, digits, hyphens and underscores.
pub(crate) fn check_name(name: &str) -> Result<(), ControlError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "cluster name {name:?} is not valid: use 1 to 255 letters, numbers, hyphens and underscores"
        )))
    }
}

/// A new cluster created by `principal`, its `containerInsights` from that principal's
/// account setting.
fn new_cluster(state: &State, ctx: &Ctx, name: &str, principal: &str) -> Cluster {
    let insights = account_settings::effective(
        state,
        ctx.partition,
        principal,
        SettingName::ContainerInsights,
    );
    Cluster {
        cluster_arn: Some(ctx.partition.cluster(name)),
        cluster_name: Some(name.to_string()),
        status: ClusterStatus::Active.into(),
        settings: Some(vec![ClusterSetting {
            name: Some(ClusterSettingName::ContainerInsights),
            value: insights.value,
        }]),
        capacity_providers: Some(vec![]),
        default_capacity_provider_strategy: Some(vec![]),
        ..Cluster::default()
    }
}

/// Resolves the cluster a call names (or `default`), creating `default` on first use.
/// Returns the cluster's name and the change that creates it, if it had to be created.
pub(crate) fn resolve(
    state: &State,
    ctx: &Ctx,
    cluster: Option<&str>,
) -> Result<(String, Option<Change>), ControlError> {
    let wanted = cluster.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CLUSTER);
    if let Some(c) = state.active_cluster(wanted) {
        return Ok((c.cluster_name.clone().unwrap_or_default(), None));
    }
    if arn::cluster_name(wanted) == DEFAULT_CLUSTER {
        return Ok((
            DEFAULT_CLUSTER.to_string(),
            // Made on first use by whoever calls: the account's default applies.
            Some(Change::Cluster(new_cluster(
                state,
                ctx,
                DEFAULT_CLUSTER,
                &root_arn(ctx.partition),
            ))),
        ));
    }
    Err(ControlError::ClusterNotFound(wanted.to_string()))
}

/// Resolves an existing ACTIVE cluster for a read-only call (`default` reads as empty if absent).
pub(crate) fn existing<'s>(
    state: &'s State,
    cluster: Option<&str>,
) -> Result<&'s Cluster, ControlError> {
    let wanted = cluster.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CLUSTER);
    state
        .active_cluster(wanted)
        .ok_or_else(|| ControlError::ClusterNotFound(wanted.to_string()))
}

/// Checks cluster settings: `containerInsights` is `enabled`, `enhanced` or `disabled`.
fn check_settings(settings: &[ClusterSetting]) -> Result<(), ControlError> {
    for s in settings {
        let value = s.value.as_deref().unwrap_or_default();
        if s.name.is_none() {
            return Err(ControlError::invalid(
                "a cluster setting needs a name: the one cluster setting is containerInsights",
            ));
        }
        if !["enabled", "enhanced", "disabled"].contains(&value) {
            return Err(ControlError::invalid(format!(
                "containerInsights value {value:?} is not valid: use enabled, enhanced or disabled"
            )));
        }
    }
    Ok(())
}

/// `settings` with each of `new` replacing the setting of its name.
fn merge_settings(
    settings: Option<Vec<ClusterSetting>>,
    new: &[ClusterSetting],
) -> Vec<ClusterSetting> {
    let mut merged = settings.unwrap_or_default();
    for s in new {
        merged.retain(|old| old.name != s.name);
        merged.push(s.clone());
    }
    merged
}

/// Checks a configuration: OVERRIDE logging needs the log configuration it overrides with.
fn check_configuration(configuration: &ClusterConfiguration) -> Result<(), ControlError> {
    let exec = configuration.execute_command_configuration.as_ref();
    if exec.is_some_and(|e| {
        e.logging == Some(ExecuteCommandLogging::Override) && e.log_configuration.is_none()
    }) {
        return Err(ControlError::invalid(
            "executeCommandConfiguration.logging is OVERRIDE, which needs logConfiguration: give it, or use DEFAULT or NONE",
        ));
    }
    Ok(())
}

/// `configuration` with the parts `new` gives replaced.
fn merge_configuration(
    configuration: Option<ClusterConfiguration>,
    new: &ClusterConfiguration,
) -> ClusterConfiguration {
    let mut merged = configuration.unwrap_or_default();
    if new.execute_command_configuration.is_some() {
        merged.execute_command_configuration = new.execute_command_configuration.clone();
    }
    if new.managed_storage_configuration.is_some() {
        merged.managed_storage_configuration = new.managed_storage_configuration.clone();
    }
    merged
}

/// The Service Connect defaults a request sets: None when it clears them (an empty name, which
/// only UpdateCluster allows). A name may not hold `<`, `>`, `"` or `/`; an ARN must be of a
/// Cloud Map namespace of this account and region.
fn service_connect(
    ctx: &Ctx,
    request: &ClusterServiceConnectDefaultsRequest,
) -> Result<Option<ClusterServiceConnectDefaults>, ControlError> {
    let namespace = request.namespace.as_str();
    if namespace.is_empty() {
        return Ok(None);
    }
    let prefix = format!(
        "arn:aws:servicediscovery:{}:{}:namespace/",
        ctx.partition.region, ctx.partition.account
    );
    let valid = if namespace.starts_with("arn:") {
        namespace
            .strip_prefix(&prefix)
            .is_some_and(|id| !id.is_empty())
    } else {
        namespace.len() <= 1024 && !namespace.contains(['<', '>', '"', '/'])
    };
    if !valid {
        return Err(ControlError::invalid(format!(
            "serviceConnectDefaults.namespace {namespace:?} is not valid: give a name of up to 1024 characters without <, >, \" or /, or the ARN of a namespace in {}",
            prefix.trim_end_matches('/')
        )));
    }
    Ok(Some(ClusterServiceConnectDefaults {
        namespace: Some(namespace.to_string()),
    }))
}

/// The task and service counts of a cluster by launch type, as `include=STATISTICS` shows them.
fn statistics(state: &State, name: &str) -> Vec<KeyValuePair> {
    let fargate = |launch: Option<LaunchType>| launch == Some(LaunchType::Fargate);
    let mut counts = [0usize; 8];
    let in_cluster = |a: Option<&str>| a.map(arn::cluster_name) == Some(name);
    for t in state
        .tasks
        .values()
        .filter(|t| in_cluster(t.cluster_arn.as_deref()))
    {
        let at = match TaskStatus::of(&t.last_status) {
            Some(TaskStatus::Running) => 0,
            Some(TaskStatus::Stopped) => continue,
            _ => 2,
        };
        counts[at + usize::from(fargate(t.launch_type))] += 1;
    }
    for s in state
        .services
        .values()
        .filter(|s| in_cluster(s.cluster_arn.as_deref()))
    {
        let at = if ServiceStatus::Active.is(&s.status) {
            4
        } else if ServiceStatus::Draining.is(&s.status) {
            6
        } else {
            continue;
        };
        counts[at + usize::from(fargate(s.launch_type))] += 1;
    }
    let names = [
        "runningEC2TasksCount",
        "runningFargateTasksCount",
        "pendingEC2TasksCount",
        "pendingFargateTasksCount",
        "activeEC2ServiceCount",
        "activeFargateServiceCount",
        "drainingEC2ServiceCount",
        "drainingFargateServiceCount",
    ];
    names
        .iter()
        .zip(counts)
        .map(|(name, count)| KeyValuePair {
            name: Some(name.to_string()),
            value: Some(count.to_string()),
        })
        .collect()
}

/// The cluster as Describe shows it, with live counts.
pub(crate) fn present(state: &State, cluster: &Cluster, with_tags: bool) -> Cluster {
    let name = cluster.cluster_name.as_deref().unwrap_or_default();
    let counts = state.cluster_counts(name);
    let instances = state
        .instances_in(name)
        .filter(|i| InstanceStatus::registered(&i.status))
        .count();
    let mut c = cluster.clone();
    c.registered_container_instances_count = Some(instances as i32);
    c.running_tasks_count = Some(counts.running);
    c.pending_tasks_count = Some(counts.pending);
    c.active_services_count = Some(
        state
            .services
            .values()
            .filter(|s| ServiceStatus::Active.is(&s.status))
            .filter(|s| s.cluster_arn.as_deref().map(arn::cluster_name) == Some(name))
            .count() as i32,
    );
    c.statistics = Some(vec![]);
    if !with_tags {
        c.tags = None;
    }
    c
}

impl ControlPlane {
    /// CreateCluster by `caller` (an IAM ARN): idempotent for an existing ACTIVE cluster of the
    /// same name.
    pub fn create_cluster(
        &self,
        req: CreateClusterRequest,
        caller: &str,
    ) -> Result<CreateClusterResponse, ControlError> {
        let name = req
            .cluster_name
            .clone()
            .unwrap_or_else(|| DEFAULT_CLUSTER.to_string());
        check_name(&name)?;
        check_settings(req.settings.as_deref().unwrap_or_default())?;
        if let Some(configuration) = &req.configuration {
            check_configuration(configuration)?;
        }
        if req
            .service_connect_defaults
            .as_ref()
            .is_some_and(|d| d.namespace.is_empty())
        {
            return Err(ControlError::invalid(
                "serviceConnectDefaults.namespace is empty: give a namespace name or ARN, or leave serviceConnectDefaults out",
            ));
        }
        self.mutate(|state, ctx| {
            if let Some(existing) = state.active_cluster(&name) {
                return Ok((
                    vec![],
                    CreateClusterResponse {
                        cluster: Some(present(state, existing, true)),
                    },
                ));
            }
            let mut cluster = new_cluster(state, ctx, &name, caller);
            cluster.tags = req.tags.clone().filter(|t| !t.is_empty());
            let settings = req.settings.as_deref().unwrap_or_default();
            cluster.settings = Some(merge_settings(cluster.settings, settings));
            cluster.configuration = req.configuration.clone();
            if let Some(defaults) = &req.service_connect_defaults {
                cluster.service_connect_defaults = service_connect(ctx, defaults)?;
            }
            let answer = CreateClusterResponse {
                cluster: Some(present(state, &cluster, true)),
            };
            Ok((vec![Change::Cluster(cluster)], answer))
        })
    }

    /// DescribeClusters: unknown names come back in `failures[]` as MISSING.
    pub fn describe_clusters(
        &self,
        req: DescribeClustersRequest,
    ) -> Result<DescribeClustersResponse, ControlError> {
        let names = req
            .clusters
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_CLUSTER.to_string()]);
        if names.len() > 100 {
            return Err(ControlError::invalid(format!(
                "clusters has {} entries, but DescribeClusters takes at most 100",
                names.len()
            )));
        }
        let with = |field| req.include.as_ref().is_some_and(|i| i.contains(&field));
        let (with_tags, with_statistics) =
            (with(ClusterField::Tags), with(ClusterField::Statistics));
        let state = self.read();
        let mut clusters = vec![];
        let mut failures = vec![];
        for name in names {
            match state.clusters.get(arn::cluster_name(&name)) {
                Some(c) => {
                    let mut c = present(&state, c, with_tags);
                    if with_statistics {
                        c.statistics = Some(statistics(&state, arn::cluster_name(&name)));
                    }
                    clusters.push(c);
                }
                None if arn::parse(&name).is_some() => failures.push(crate::missing(&name)),
                None => failures.push(crate::missing(&self.partition().cluster(&name))),
            }
        }
        Ok(DescribeClustersResponse {
            clusters: Some(clusters),
            failures: Some(failures),
        })
    }

    /// ListClusters: ACTIVE clusters, by name.
    pub fn list_clusters(
        &self,
        req: ListClustersRequest,
    ) -> Result<ListClustersResponse, ControlError> {
        let arns: Vec<String> = self
            .read()
            .clusters
            .values()
            .filter(|c| ClusterStatus::Active.is(&c.status))
            .filter_map(|c| c.cluster_arn.clone())
            .collect();
        let (page, next) = paginate::ecs_page(arns, req.max_results, req.next_token.as_deref())?;
        Ok(ListClustersResponse {
            cluster_arns: Some(page),
            next_token: next,
        })
    }

    /// The region and account the stored clusters' ARNs carry (those the data was created
    /// with), when there is any cluster.
    pub fn recorded_partition(&self) -> Option<berth_types::arn::Partition> {
        let state = self.read();
        let arn = state
            .clusters
            .values()
            .find_map(|c| c.cluster_arn.clone())?;
        let mut fields = arn.split(':').skip(3);
        Some(berth_types::arn::Partition {
            region: fields.next()?.to_string(),
            account: fields.next()?.to_string(),
        })
    }

    /// Applies `change` to an ACTIVE cluster and answers the cluster as it is then.
    fn change_cluster(
        &self,
        reference: &str,
        change: impl FnOnce(&Ctx, &mut Cluster) -> Result<(), ControlError>,
    ) -> Result<Cluster, ControlError> {
        self.mutate(|state, ctx| {
            let mut cluster = existing(state, Some(reference))?.clone();
            change(ctx, &mut cluster)?;
            let answer = present(state, &cluster, true);
            Ok((vec![Change::Cluster(cluster)], answer))
        })
    }

    /// UpdateCluster: the settings, configuration parts and Service Connect defaults given
    /// replace the cluster's (an empty namespace removes the defaults).
    pub fn update_cluster(
        &self,
        req: UpdateClusterRequest,
    ) -> Result<UpdateClusterResponse, ControlError> {
        let settings = req.settings.clone().unwrap_or_default();
        check_settings(&settings)?;
        if let Some(configuration) = &req.configuration {
            check_configuration(configuration)?;
        }
        let cluster = self.change_cluster(&req.cluster, |ctx, cluster| {
            cluster.settings = Some(merge_settings(cluster.settings.take(), &settings));
            if let Some(configuration) = &req.configuration {
                let merged = merge_configuration(cluster.configuration.take(), configuration);
                cluster.configuration = Some(merged);
            }
            if let Some(defaults) = &req.service_connect_defaults {
                cluster.service_connect_defaults = service_connect(ctx, defaults)?;
            }
            Ok(())
        })?;
        Ok(UpdateClusterResponse {
            cluster: Some(cluster),
        })
    }

    /// UpdateClusterSettings: each setting given replaces the cluster's of that name.
    pub fn update_cluster_settings(
        &self,
        req: UpdateClusterSettingsRequest,
    ) -> Result<UpdateClusterSettingsResponse, ControlError> {
        if req.settings.is_empty() {
            return Err(ControlError::invalid(
                "settings is empty: give at least one, e.g. name=containerInsights,value=enabled",
            ));
        }
        check_settings(&req.settings)?;
        let cluster = self.change_cluster(&req.cluster, |_, cluster| {
            cluster.settings = Some(merge_settings(cluster.settings.take(), &req.settings));
            Ok(())
        })?;
        Ok(UpdateClusterSettingsResponse {
            cluster: Some(cluster),
        })
    }

    /// DeleteCluster: refused while container instances or tasks remain; the cluster stays
    /// describable as INACTIVE.
    pub fn delete_cluster(
        &self,
        req: DeleteClusterRequest,
    ) -> Result<DeleteClusterResponse, ControlError> {
        self.mutate(|state, _ctx| {
            let cluster = existing(state, Some(&req.cluster))?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let live = present(state, cluster, true);
            if live
                .registered_container_instances_count
                .unwrap_or_default()
                > 0
            {
                return Err(ControlError::ClusterContainsContainerInstances(name));
            }
            if live.active_services_count.unwrap_or_default() > 0 {
                return Err(ControlError::ClusterContainsServices(name));
            }
            let counts = state.cluster_counts(&name);
            if counts.running + counts.pending > 0 {
                return Err(ControlError::ClusterContainsTasks {
                    cluster: name,
                    active: counts.running + counts.pending,
                });
            }
            let mut gone = live;
            gone.status = ClusterStatus::Inactive.into();
            let answer = DeleteClusterResponse {
                cluster: Some(gone.clone()),
            };
            Ok((vec![Change::Cluster(gone)], answer))
        })
    }
}
