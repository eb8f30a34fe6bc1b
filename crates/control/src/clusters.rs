//! CreateCluster, DescribeClusters, ListClusters, DeleteCluster, and the `default` cluster that
//! comes into being on first use.

use crate::status::{ClusterStatus, InstanceStatus, ServiceStatus};
use crate::{Change, ControlPlane, Ctx, State, paginate};
use berth_types::ecs::{
    Cluster, ClusterField, ClusterSetting, ClusterSettingName, CreateClusterRequest,
    CreateClusterResponse, DeleteClusterRequest, DeleteClusterResponse, DescribeClustersRequest,
    DescribeClustersResponse, ListClustersRequest, ListClustersResponse,
};
use berth_types::{ApiError, ErrorCode, arn};

/// The cluster used when a call names none.
pub const DEFAULT_CLUSTER: &str = "default";

/// Checks a cluster name: 1–255 letters, digits, hyphens and underscores.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "cluster name {name:?} is not valid: use 1 to 255 letters, numbers, hyphens and underscores"
        )))
    }
}

fn new_cluster(ctx: &Ctx, name: &str) -> Cluster {
    Cluster {
        cluster_arn: Some(ctx.partition.cluster(name)),
        cluster_name: Some(name.to_string()),
        status: ClusterStatus::Active.into(),
        settings: Some(vec![ClusterSetting {
            name: Some(ClusterSettingName::ContainerInsights),
            value: Some("disabled".into()),
        }]),
        capacity_providers: Some(vec![]),
        default_capacity_provider_strategy: Some(vec![]),
        ..Cluster::default()
    }
}

/// Resolves the cluster a call names (or `default`), creating `default` on first use.
/// Returns the cluster's name and the change that creates it, if it had to be created.
pub fn resolve(
    state: &State,
    ctx: &Ctx,
    cluster: Option<&str>,
) -> Result<(String, Option<Change>), ApiError> {
    let wanted = cluster.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CLUSTER);
    if let Some(c) = state.active_cluster(wanted) {
        return Ok((c.cluster_name.clone().unwrap_or_default(), None));
    }
    if arn::cluster_name(wanted) == DEFAULT_CLUSTER {
        return Ok((
            DEFAULT_CLUSTER.to_string(),
            Some(Change::Cluster(new_cluster(ctx, DEFAULT_CLUSTER))),
        ));
    }
    Err(ApiError::cluster_not_found(wanted))
}

/// Resolves an existing ACTIVE cluster for a read-only call (`default` reads as empty if absent).
pub fn existing<'s>(state: &'s State, cluster: Option<&str>) -> Result<&'s Cluster, ApiError> {
    let wanted = cluster.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CLUSTER);
    state
        .active_cluster(wanted)
        .ok_or_else(|| ApiError::cluster_not_found(wanted))
}

/// The cluster as Describe shows it, with live counts.
pub fn present(state: &State, cluster: &Cluster, with_tags: bool) -> Cluster {
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
    /// CreateCluster: idempotent for an existing ACTIVE cluster of the same name.
    pub fn create_cluster(
        &self,
        req: CreateClusterRequest,
    ) -> Result<CreateClusterResponse, ApiError> {
        let name = req
            .cluster_name
            .clone()
            .unwrap_or_else(|| DEFAULT_CLUSTER.to_string());
        check_name(&name)?;
        self.mutate(|state, ctx| {
            if let Some(existing) = state.active_cluster(&name) {
                return Ok((
                    vec![],
                    CreateClusterResponse {
                        cluster: Some(present(state, existing, true)),
                    },
                ));
            }
            let mut cluster = new_cluster(ctx, &name);
            cluster.tags = req.tags.clone().filter(|t| !t.is_empty());
            if let Some(settings) = req.settings.clone() {
                cluster.settings = Some(settings);
            }
            cluster.configuration = req.configuration.clone();
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
    ) -> Result<DescribeClustersResponse, ApiError> {
        let names = req
            .clusters
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_CLUSTER.to_string()]);
        if names.len() > 100 {
            return Err(ApiError::invalid(format!(
                "clusters has {} entries, but DescribeClusters takes at most 100",
                names.len()
            )));
        }
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&ClusterField::Tags));
        let state = self.read();
        let mut clusters = vec![];
        let mut failures = vec![];
        for name in names {
            match state.clusters.get(arn::cluster_name(&name)) {
                Some(c) => clusters.push(present(&state, c, with_tags)),
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
    ) -> Result<ListClustersResponse, ApiError> {
        let arns: Vec<String> = self
            .read()
            .clusters
            .values()
            .filter(|c| ClusterStatus::Active.is(&c.status))
            .filter_map(|c| c.cluster_arn.clone())
            .collect();
        let (page, next) = paginate::page(
            arns,
            req.max_results,
            req.next_token.as_deref(),
            paginate::ecs(100),
        )?;
        Ok(ListClustersResponse {
            cluster_arns: Some(page),
            next_token: next,
        })
    }

    /// DeleteCluster: refused while container instances or tasks remain; the cluster stays
    /// describable as INACTIVE.
    pub fn delete_cluster(
        &self,
        req: DeleteClusterRequest,
    ) -> Result<DeleteClusterResponse, ApiError> {
        self.mutate(|state, _ctx| {
            let cluster = existing(state, Some(&req.cluster))?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let live = present(state, cluster, true);
            if live.registered_container_instances_count.unwrap_or_default() > 0 {
                return Err(ApiError::new(
                    ErrorCode::ClusterContainsContainerInstancesException,
                    format!("cluster {name} still has registered container instances: deregister them first"),
                ));
            }
            if live.active_services_count.unwrap_or_default() > 0 {
                return Err(ApiError::new(
                    ErrorCode::ClusterContainsServicesException,
                    format!("cluster {name} still has active services: scale them to 0 and delete them first"),
                ));
            }
            let counts = state.cluster_counts(&name);
            if counts.running + counts.pending > 0 {
                return Err(ApiError::new(
                    ErrorCode::ClusterContainsTasksException,
                    format!(
                        "cluster {name} still has {} active tasks: stop them first",
                        counts.running + counts.pending
                    ),
                ));
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
