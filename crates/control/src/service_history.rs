//! Rollout history: a service revision (what a deployment deploys) and a service deployment
//! record (how its rollout went) for every deployment a service has had, kept in step with the
//! service's `deployments[]`, and the calls that read them: ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions.

use crate::error::ControlError;
use crate::{Change, ControlPlane, State, clusters, lookup, paginate};
use berth_types::arn;
use berth_types::arn::Partition;
use berth_types::ecs::{
    CreatedAt, Deployment, DeploymentRolloutState, DescribeServiceDeploymentsRequest,
    DescribeServiceDeploymentsResponse, DescribeServiceRevisionsRequest,
    DescribeServiceRevisionsResponse, ListServiceDeploymentsRequest,
    ListServiceDeploymentsResponse, Rollback, Service, ServiceCurrentRevisionSummary,
    ServiceDeployment, ServiceDeploymentBrief, ServiceDeploymentCircuitBreaker,
    ServiceDeploymentStatus, ServiceRevision, ServiceRevisionSummary,
};

/// Most ARNs one Describe call of this module takes.
pub(crate) const MAX_DESCRIBE: usize = 20;

/// The part of a deployment id (`ecs-svc/123...`) the history ARNs end with.
fn short_id(deployment: &Deployment) -> &str {
    let id = deployment.id.as_deref().unwrap_or_default();
    id.rsplit('/').next().unwrap_or(id)
}

fn names(service: &Service) -> (&str, &str) {
    (
        arn::cluster_name(service.cluster_arn.as_deref().unwrap_or_default()),
        service.service_name.as_deref().unwrap_or_default(),
    )
}

/// The ARN of a deployment's service deployment record.
pub(crate) fn deployment_arn(partition: &Partition, service: &Service, d: &Deployment) -> String {
    let (cluster, name) = names(service);
    partition.service_deployment(cluster, name, short_id(d))
}

/// The ARN of a deployment's service revision.
pub(crate) fn revision_arn(partition: &Partition, service: &Service, d: &Deployment) -> String {
    let (cluster, name) = names(service);
    partition.service_revision(cluster, name, short_id(d))
}

fn summary(partition: &Partition, service: &Service, d: &Deployment) -> ServiceRevisionSummary {
    ServiceRevisionSummary {
        arn: Some(revision_arn(partition, service, d)),
        requested_task_count: d.desired_count,
        running_task_count: d.running_count,
        pending_task_count: d.pending_count,
        ..ServiceRevisionSummary::default()
    }
}

/// A deployment's record status, from its rollout and the service's other deployments.
fn status(
    d: &Deployment,
    primary: &Deployment,
    is_primary: bool,
) -> (ServiceDeploymentStatus, bool) {
    let rolled_back = d
        .rollout_state_reason
        .as_deref()
        .is_some_and(|r| r.contains("Rolling back"));
    match (is_primary, d.rollout_state) {
        (_, Some(DeploymentRolloutState::Completed)) => (ServiceDeploymentStatus::Successful, true),
        (true, _) => (ServiceDeploymentStatus::InProgress, false),
        (false, Some(DeploymentRolloutState::Failed)) if rolled_back => {
            match primary.rollout_state {
                Some(DeploymentRolloutState::Completed) => {
                    (ServiceDeploymentStatus::RollbackSuccessful, true)
                }
                Some(DeploymentRolloutState::Failed) => {
                    (ServiceDeploymentStatus::RollbackFailed, true)
                }
                _ => (ServiceDeploymentStatus::RollbackInProgress, false),
            }
        }
        (false, _) => (ServiceDeploymentStatus::Stopped, true),
    }
}

/// Brings the history records of `service` in step with its deployments, and of `retired`
/// (deployments that just left the list), and fills in its current deployment and revisions;
/// returns the records that changed.
pub(crate) fn sync(
    state: &State,
    partition: &Partition,
    service: &mut Service,
    retired: &[Deployment],
    now: f64,
) -> Vec<Change> {
    let current = service.deployments.clone().unwrap_or_default();
    let Some(primary) = current.first() else {
        return vec![];
    };
    let deployments: Vec<&Deployment> = current.iter().chain(retired).collect();
    let mut changes = vec![];
    for (i, &d) in deployments.iter().enumerate() {
        let rev_arn = revision_arn(partition, service, d);
        if !state.service_revisions.contains_key(&rev_arn) {
            changes.push(Change::ServiceRevision(ServiceRevision {
                service_revision_arn: Some(rev_arn),
                service_arn: service.service_arn.clone(),
                cluster_arn: service.cluster_arn.clone(),
                task_definition: d.task_definition.clone(),
                launch_type: d.launch_type,
                load_balancers: Some(vec![]),
                service_registries: Some(vec![]),
                created_at: d.created_at,
                ..ServiceRevision::default()
            }));
        }
        let arn = deployment_arn(partition, service, d);
        let before = state.service_deployments.get(&arn);
        let (status, finished) = status(d, primary, i == 0);
        let mut record = before.cloned().unwrap_or_else(|| ServiceDeployment {
            service_deployment_arn: Some(arn.clone()),
            service_arn: service.service_arn.clone(),
            cluster_arn: service.cluster_arn.clone(),
            created_at: d.created_at,
            started_at: d.created_at,
            source_service_revisions: Some(
                deployments
                    .iter()
                    .skip(i + 1)
                    .map(|o| summary(partition, service, o))
                    .collect(),
            ),
            deployment_configuration: service.deployment_configuration.clone(),
            deployment_circuit_breaker: Some(ServiceDeploymentCircuitBreaker {
                status: None,
                failure_count: Some(0),
                threshold: None,
            }),
            ..ServiceDeployment::default()
        });
        record.target_service_revision = Some(summary(partition, service, d));
        record.status = Some(status);
        record.status_reason = d.rollout_state_reason.clone();
        if let Some(b) = record.deployment_circuit_breaker.as_mut() {
            b.failure_count = d.failed_tasks;
        }
        if status == ServiceDeploymentStatus::RollbackInProgress
            || status == ServiceDeploymentStatus::RollbackSuccessful
        {
            record.rollback.get_or_insert(Rollback {
                reason: d.rollout_state_reason.clone(),
                started_at: Some(now),
                service_revision_arn: Some(revision_arn(partition, service, primary)),
            });
        }
        if finished && record.finished_at.is_none() {
            record.finished_at = Some(now);
        }
        if before != Some(&record) {
            record.updated_at = Some(now);
            changes.push(Change::ServiceDeployment(record));
        }
    }
    service.current_service_deployment = Some(deployment_arn(partition, service, primary));
    service.current_service_revisions = Some(
        current
            .iter()
            .map(|d| ServiceCurrentRevisionSummary {
                arn: Some(revision_arn(partition, service, d)),
                requested_task_count: d.desired_count,
                running_task_count: d.running_count,
                pending_task_count: d.pending_count,
            })
            .collect(),
    );
    changes
}

fn in_window(created: Option<f64>, window: Option<&CreatedAt>) -> bool {
    let at = created.unwrap_or_default();
    window.is_none_or(|w| w.after.is_none_or(|a| at >= a) && w.before.is_none_or(|b| at <= b))
}

fn check_count(n: usize, what: &str, call: &str) -> Result<(), ControlError> {
    if n == 0 || n > MAX_DESCRIBE {
        return Err(ControlError::invalid(format!(
            "{what} has {n} entries, but {call} takes 1 to {MAX_DESCRIBE}"
        )));
    }
    Ok(())
}

impl ControlPlane {
    /// ListServiceDeployments: a service's deployments, newest first.
    pub fn list_service_deployments(
        &self,
        req: ListServiceDeploymentsRequest,
    ) -> Result<ListServiceDeploymentsResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let service = lookup::service(&state, self.partition(), &name, &req.service)
            .ok_or_else(|| lookup::service_not_found(&req.service, &name))?;
        let mut records: Vec<&ServiceDeployment> = state
            .service_deployments
            .values()
            .filter(|d| d.service_arn == service.service_arn)
            .filter(|d| {
                req.status
                    .as_ref()
                    .is_none_or(|s| d.status.is_some_and(|x| s.contains(&x)))
            })
            .filter(|d| in_window(d.created_at, req.created_at.as_ref()))
            .collect();
        records.sort_by(|a, b| {
            b.created_at
                .partial_cmp(&a.created_at)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let briefs: Vec<ServiceDeploymentBrief> = records
            .into_iter()
            .map(|d| ServiceDeploymentBrief {
                service_deployment_arn: d.service_deployment_arn.clone(),
                service_arn: d.service_arn.clone(),
                cluster_arn: d.cluster_arn.clone(),
                started_at: d.started_at,
                created_at: d.created_at,
                finished_at: d.finished_at,
                target_service_revision_arn: d
                    .target_service_revision
                    .as_ref()
                    .and_then(|r| r.arn.clone()),
                status: d.status,
                status_reason: d.status_reason.clone(),
            })
            .collect();
        let (page, next) = paginate::page(
            briefs,
            req.max_results,
            req.next_token.as_deref(),
            paginate::ecs(20),
        )?;
        Ok(ListServiceDeploymentsResponse {
            service_deployments: Some(page),
            next_token: next,
        })
    }

    /// DescribeServiceDeployments: unknown ARNs come back in `failures[]` as MISSING.
    pub fn describe_service_deployments(
        &self,
        req: DescribeServiceDeploymentsRequest,
    ) -> Result<DescribeServiceDeploymentsResponse, ControlError> {
        check_count(
            req.service_deployment_arns.len(),
            "serviceDeploymentArns",
            "DescribeServiceDeployments",
        )?;
        let state = self.read();
        let mut found = vec![];
        let mut failures = vec![];
        for a in &req.service_deployment_arns {
            match state.service_deployments.get(a) {
                Some(d) => found.push(d.clone()),
                None => failures.push(crate::missing(a)),
            }
        }
        Ok(DescribeServiceDeploymentsResponse {
            service_deployments: Some(found),
            failures: Some(failures),
        })
    }

    /// DescribeServiceRevisions: unknown ARNs come back in `failures[]` as MISSING.
    pub fn describe_service_revisions(
        &self,
        req: DescribeServiceRevisionsRequest,
    ) -> Result<DescribeServiceRevisionsResponse, ControlError> {
        check_count(
            req.service_revision_arns.len(),
            "serviceRevisionArns",
            "DescribeServiceRevisions",
        )?;
        let state = self.read();
        let mut found = vec![];
        let mut failures = vec![];
        for a in &req.service_revision_arns {
            match state.service_revisions.get(a) {
                Some(r) => found.push(r.clone()),
                None => failures.push(crate::missing(a)),
            }
        }
        Ok(DescribeServiceRevisionsResponse {
            service_revisions: Some(found),
            failures: Some(failures),
        })
    }
}
