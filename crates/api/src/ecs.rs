//! The ECS operations: each target name mapped to the control-plane call that answers it.

use crate::wire::{decode, encode};
use berth_control::ControlPlane;
use berth_types::ecs::{
    DiscoverPollEndpointRequest, DiscoverPollEndpointResponse, ListServicesByNamespaceRequest,
    ListServicesByNamespaceResponse, OPERATIONS,
};
use berth_types::{ApiError, ErrorCode, Validate};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
