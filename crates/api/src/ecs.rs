//! The ECS operations: each target name mapped to the control-plane call that answers it.

use crate::policy::Ask;
use crate::wire::{decode, encode};
use berth_control::ControlPlane;
use berth_types::arn::{self, Partition};
use berth_types::ecs::{
    DiscoverPollEndpointRequest, DiscoverPollEndpointResponse, ListServicesByNamespaceRequest,
    ListServicesByNamespaceResponse, OPERATIONS,
};
use berth_types::{ApiError, ErrorCode, Validate};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

fn run<Req, Resp>(
    body: &[u8],
    op: impl FnOnce(Req) -> Result<Resp, ApiError>,
) -> Result<Vec<u8>, ApiError>
where
    Req: DeserializeOwned + Validate,
    Resp: Serialize,
{
    encode(&op(decode(body)?)?)
}

macro_rules! operations {
    ($control:ident, $operation:ident, $body:ident; $($name:literal => $method:ident),* $(,)?) => {
        match $operation {
            $($name => Some(run($body, |req| $control.$method(req))),)*
            _ => None,
        }
    };
}

/// Answers one ECS operation; `host` is the address the client reached us at.
pub fn call(
    control: &ControlPlane,
    operation: &str,
    body: &[u8],
    host: &str,
) -> Result<Vec<u8>, ApiError> {
    let answered = operations!(control, operation, body;
        "CreateCluster" => create_cluster,
        "DescribeClusters" => describe_clusters,
        "ListClusters" => list_clusters,
        "DeleteCluster" => delete_cluster,
        "RegisterTaskDefinition" => register_task_definition,
        "DescribeTaskDefinition" => describe_task_definition,
        "ListTaskDefinitions" => list_task_definitions,
        "ListTaskDefinitionFamilies" => list_task_definition_families,
        "DeregisterTaskDefinition" => deregister_task_definition,
        "DeleteTaskDefinitions" => delete_task_definitions,
        "RegisterContainerInstance" => register_container_instance,
        "DeregisterContainerInstance" => deregister_container_instance,
        "DescribeContainerInstances" => describe_container_instances,
        "ListContainerInstances" => list_container_instances,
        "UpdateContainerInstancesState" => update_container_instances_state,
        "RunTask" => run_task,
        "StartTask" => start_task,
        "StopTask" => stop_task,
        "DescribeTasks" => describe_tasks,
        "ListTasks" => list_tasks,
        "SubmitTaskStateChange" => submit_task_state_change,
        "SubmitContainerStateChange" => submit_container_state_change,
        "TagResource" => tag_resource,
        "UntagResource" => untag_resource,
        "ListTagsForResource" => list_tags_for_resource,
        "PutAttributes" => put_attributes,
        "ListAttributes" => list_attributes,
        "DeleteAttributes" => delete_attributes,
        "CreateService" => create_service,
        "UpdateService" => update_service,
        "DeleteService" => delete_service,
        "DescribeServices" => describe_services,
        "ListServices" => list_services,
        "ListServiceDeployments" => list_service_deployments,
        "DescribeServiceDeployments" => describe_service_deployments,
        "DescribeServiceRevisions" => describe_service_revisions,
    );
    if let Some(result) = answered {
        return result;
    }
    match operation {
        // Berth has no Cloud Map namespaces, so no service belongs to one.
        "ListServicesByNamespace" => run(body, |_: ListServicesByNamespaceRequest| {
            Ok(ListServicesByNamespaceResponse {
                service_arns: Some(vec![]),
                next_token: None,
            })
        }),
        "DiscoverPollEndpoint" => run(body, |_: DiscoverPollEndpointRequest| {
            let endpoint = format!("http://{host}/");
            Ok(DiscoverPollEndpointResponse {
                endpoint: Some(endpoint.clone()),
                telemetry_endpoint: Some(endpoint.clone()),
                service_connect_endpoint: Some(endpoint),
            })
        }),
        op if OPERATIONS.contains(&op) => Err(ApiError::new(
            ErrorCode::UnsupportedFeatureException,
            format!("{op} is not supported by Berth yet"),
        )),
        op => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("{op} is not an ECS operation: check the X-Amz-Target header"),
        )),
    }
}

/// The batch calls, with the field that lists their items: each item is authorised on its
/// own, and those refused are reported in `failures[]`.
const BATCHES: &[(&str, &str)] = &[
    ("DescribeTasks", "tasks"),
    ("DescribeServices", "services"),
    ("DescribeContainerInstances", "containerInstances"),
    ("DescribeClusters", "clusters"),
    ("DeleteTaskDefinitions", "taskDefinitions"),
];

/// For a batch call, the list field and what each of its items asks (as [`ask`] of the same
/// call naming that item alone); None for other calls.
pub fn batch_asks(
    partition: &Partition,
    operation: &str,
    body: &[u8],
) -> Option<(&'static str, Vec<(String, Ask)>)> {
    let (_, field) = BATCHES.iter().find(|(op, _)| *op == operation)?;
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let items = v[*field].as_array()?;
    let asks = items
        .iter()
        .filter_map(|item| item.as_str())
        .map(|item| {
            let mut alone = v.clone();
            alone[*field] = serde_json::json!([item]);
            if operation == "DescribeClusters" {
                alone["cluster"] = item.into();
            }
            let alone = serde_json::to_vec(&alone).unwrap_or_default();
            (item.to_string(), ask(partition, operation, &alone))
        })
        .collect();
    Some((field, asks))
}

/// Whether an ECS operation changes anything (and so is audited).
pub fn is_mutating(operation: &str) -> bool {
    !operation.is_empty()
        && !["Describe", "List", "Get", "Discover"]
            .iter()
            .any(|p| operation.starts_with(p))
}

/// What an ECS call asks of the caller's policies: the action `ecs:<Operation>`, the resource
/// ECS authorises it on, and its own condition key (`ecs:cluster` for calls on a cluster;
/// [`crate::AppState::authorize`] adds the request-wide ones).
pub fn ask(partition: &Partition, operation: &str, body: &[u8]) -> Ask {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |key: &str| v[key].as_str().filter(|s| !s.is_empty());
    let first = |key: &str| v[key][0].as_str().filter(|s| !s.is_empty());
    let cluster_name =
        arn::cluster_name(text("cluster").or(text("clusterName")).unwrap_or("default")).to_string();
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
        "ListClusters"
            | "RegisterTaskDefinition"
            | "ListTaskDefinitions"
            | "ListTaskDefinitionFamilies"
            | "DeleteTaskDefinitions"
            | "DiscoverPollEndpoint"
    );
    let resource = match operation {
        "RunTask" | "StartTask" | "DescribeTaskDefinition" | "DeregisterTaskDefinition" => {
            text("taskDefinition").map(|t| within("task-definition", t))
        }
        "StopTask" => text("task").map(|t| within("task", t)),
        "DescribeTasks" => first("tasks").map(|t| within("task", t)),
        "CreateService" => text("serviceName").map(|s| within("service", s)),
        "UpdateService" | "DeleteService" => text("service").map(|s| within("service", s)),
        "DescribeServices" => first("services").map(|s| within("service", s)),
        "DescribeContainerInstances" => {
            first("containerInstances").map(|c| within("container-instance", c))
        }
        "DeleteTaskDefinitions" => first("taskDefinitions").map(|t| within("task-definition", t)),
        "DeregisterContainerInstance" => {
            text("containerInstance").map(|c| within("container-instance", c))
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
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
    Ask {
        action: format!("ecs:{operation}"),
        resource,
        keys,
    }
}
