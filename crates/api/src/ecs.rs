//! The ECS operations: each typed request mapped to the control-plane call that answers it,
//! and what each asks of the caller's policies.

use crate::policy::Ask;
use crate::wire::encode;
use berth_control::ControlPlane;
use berth_types::arn::{self, Partition};
use berth_types::ecs::{
    DiscoverPollEndpointResponse, ListServicesByNamespaceResponse, Operation, Request,
};
use berth_types::{ApiError, ErrorCode};
use std::collections::BTreeMap;

/// The table of operations answered by a control-plane method of the same input and output:
/// it makes [`TABLE`] and `table`, which answers them and gives back any other request.
macro_rules! operations {
    ($($op:ident => $method:ident),* $(,)?) => {
        /// The operations the table answers.
        const TABLE: &[Operation] = &[$(Operation::$op),*];

        // The request handed back is the caller's own, moved back to it, never copied.
        #[allow(clippy::result_large_err)]
        fn table(control: &ControlPlane, request: Request) -> Result<Result<Vec<u8>, ApiError>, Request> {
            match request {
                $(Request::$op(input) => Ok(control.$method(input).and_then(|out| encode(&out))),)*
                other => Err(other),
            }
        }
    };
}

operations!(
    CreateCluster => create_cluster,
    DescribeClusters => describe_clusters,
    ListClusters => list_clusters,
    DeleteCluster => delete_cluster,
    RegisterTaskDefinition => register_task_definition,
    DescribeTaskDefinition => describe_task_definition,
    ListTaskDefinitions => list_task_definitions,
    ListTaskDefinitionFamilies => list_task_definition_families,
    DeregisterTaskDefinition => deregister_task_definition,
    DeleteTaskDefinitions => delete_task_definitions,
    RegisterContainerInstance => register_container_instance,
    DeregisterContainerInstance => deregister_container_instance,
    DescribeContainerInstances => describe_container_instances,
    ListContainerInstances => list_container_instances,
    UpdateContainerInstancesState => update_container_instances_state,
    RunTask => run_task,
    StartTask => start_task,
    StopTask => stop_task,
    DescribeTasks => describe_tasks,
    ListTasks => list_tasks,
    SubmitTaskStateChange => submit_task_state_change,
    SubmitContainerStateChange => submit_container_state_change,
    TagResource => tag_resource,
    UntagResource => untag_resource,
    ListTagsForResource => list_tags_for_resource,
    PutAttributes => put_attributes,
    ListAttributes => list_attributes,
    DeleteAttributes => delete_attributes,
    CreateService => create_service,
    UpdateService => update_service,
    DeleteService => delete_service,
    DescribeServices => describe_services,
    ListServices => list_services,
    ListServiceDeployments => list_service_deployments,
    DescribeServiceDeployments => describe_service_deployments,
    DescribeServiceRevisions => describe_service_revisions,
    UpdateTaskProtection => update_task_protection,
    GetTaskProtection => get_task_protection,
);

/// Whether Berth answers an ECS operation (the others are refused with
/// UnsupportedFeatureException, whatever their input).
pub fn supports(operation: Operation) -> bool {
    TABLE.contains(&operation)
        || matches!(
            operation,
            Operation::ListServicesByNamespace | Operation::DiscoverPollEndpoint
        )
}

/// Answers one ECS request; `host` is the address the client reached us at.
pub fn call(control: &ControlPlane, request: Request, host: &str) -> Result<Vec<u8>, ApiError> {
    let request = match table(control, request) {
        Ok(answer) => return answer,
        Err(other) => other,
    };
    match request {
        // Berth has no Cloud Map namespaces, so no service belongs to one.
        Request::ListServicesByNamespace(_) => encode(&ListServicesByNamespaceResponse {
            service_arns: Some(vec![]),
            next_token: None,
        }),
        Request::DiscoverPollEndpoint(_) => {
            let endpoint = format!("http://{host}/");
            encode(&DiscoverPollEndpointResponse {
                endpoint: Some(endpoint.clone()),
                telemetry_endpoint: Some(endpoint.clone()),
                service_connect_endpoint: Some(endpoint),
            })
        }
        other => Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            format!("{} is not supported by Berth yet", other.operation().name()),
        )),
    }
}

/// For a batch call, its list of items, which authorisation may narrow; None for other calls.
/// Each item is authorised on its own, and those refused are reported in `failures[]`.
pub fn batch_items(request: &mut Request) -> Option<&mut Vec<String>> {
    match request {
        Request::DescribeTasks(r) => Some(&mut r.tasks),
        Request::DescribeServices(r) => Some(&mut r.services),
        Request::DescribeContainerInstances(r) => Some(&mut r.container_instances),
        Request::DescribeClusters(r) => r.clusters.as_mut(),
        Request::DeleteTaskDefinitions(r) => Some(&mut r.task_definitions),
        Request::UpdateTaskProtection(r) => Some(&mut r.tasks),
        Request::GetTaskProtection(r) => r.tasks.as_mut(),
        _ => None,
    }
}

/// What one item of a batch call asks (as [`ask`] of the same call naming that item alone).
pub fn item_ask(partition: &Partition, request: &Request, item: &str) -> Ask {
    let cluster = match request.operation() {
        Operation::DescribeClusters => Some(item),
        _ => request.members().text("cluster"),
    };
    asking(partition, request, cluster, Some(item))
}

/// What an ECS call asks of the caller's policies: the action `ecs:<Operation>`, the resource
/// ECS authorises it on, and its own condition key (`ecs:cluster` for calls on a cluster;
/// [`crate::AppState::authorize`] adds the request-wide ones).
pub fn ask(partition: &Partition, request: &Request) -> Ask {
    let members = request.members();
    let item = batch_field(request.operation()).and_then(|field| members.first(field));
    asking(partition, request, members.text("cluster"), item)
}

/// The list field of a batch call.
fn batch_field(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::DescribeTasks
        | Operation::UpdateTaskProtection
        | Operation::GetTaskProtection => Some("tasks"),
        Operation::DescribeServices => Some("services"),
        Operation::DescribeContainerInstances => Some("containerInstances"),
        Operation::DeleteTaskDefinitions => Some("taskDefinitions"),
        _ => None,
    }
}

/// The ask of `request` on `cluster`, about `item` when it is a batch call.
fn asking(
    partition: &Partition,
    request: &Request,
    cluster: Option<&str>,
    item: Option<&str>,
) -> Ask {
    use Operation as O;
    let operation = request.operation();
    let members = request.members();
    let text = |key: &str| members.text(key).filter(|s| !s.is_empty());
    let cluster_name = arn::cluster_name(
        cluster
            .filter(|c| !c.is_empty())
            .or(text("clusterName"))
            .unwrap_or("default"),
    )
    .to_string();
    let cluster = partition.cluster(&cluster_name);
    let within = |kind: &str, reference: &str| {
        if reference.starts_with("arn:") {
            reference.to_string()
        } else {
            match kind {
                "task" => partition.task(&cluster_name, reference),
                "service" => partition.service(&cluster_name, reference),
                "container-instance" => partition.container_instance(&cluster_name, reference),
                _ => format!(
                    "arn:aws:ecs:{}:{}:task-definition/{reference}",
                    partition.region, partition.account
                ),
            }
        }
    };
    let account_wide = matches!(
        operation,
        O::ListClusters
            | O::RegisterTaskDefinition
            | O::ListTaskDefinitions
            | O::ListTaskDefinitionFamilies
            | O::DeleteTaskDefinitions
            | O::DiscoverPollEndpoint
    );
    let item = item.filter(|i| !i.is_empty());
    let resource = match operation {
        O::RunTask | O::StartTask | O::DescribeTaskDefinition | O::DeregisterTaskDefinition => {
            text("taskDefinition").map(|t| within("task-definition", t))
        }
        O::StopTask => text("task").map(|t| within("task", t)),
        O::DescribeTasks | O::UpdateTaskProtection | O::GetTaskProtection => {
            item.map(|t| within("task", t))
        }
        O::CreateService => text("serviceName").map(|s| within("service", s)),
        O::UpdateService | O::DeleteService => text("service").map(|s| within("service", s)),
        O::DescribeServices => item.map(|s| within("service", s)),
        O::DescribeContainerInstances => item.map(|c| within("container-instance", c)),
        O::DeleteTaskDefinitions => item.map(|t| within("task-definition", t)),
        O::DeregisterContainerInstance => {
            text("containerInstance").map(|c| within("container-instance", c))
        }
        O::TagResource | O::UntagResource | O::ListTagsForResource => {
            text("resourceArn").map(str::to_string)
        }
        _ if account_wide => None,
        _ => Some(cluster.clone()),
    }
    .unwrap_or_else(|| "*".into());
    let mut keys = BTreeMap::new();
    if !account_wide {
        keys.insert("ecs:cluster".into(), cluster);
    }
    let catalogued = crate::catalogue::Operation::Ecs(operation);
    Ask {
        action: catalogued.action(),
        resource,
        keys,
        agent_facing: catalogued.is_agent_facing(),
        // What an agent may speak of: the instance it registers, the task it reports.
        subject: match operation {
            O::RegisterContainerInstance => text("containerInstanceArn").map(str::to_string),
            O::SubmitTaskStateChange | O::SubmitContainerStateChange => {
                text("task").map(str::to_string)
            }
            _ => None,
        },
    }
}
