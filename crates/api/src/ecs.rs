//! The ECS operations: each typed request mapped to the control-plane call that answers it,
//! and what each asks of the caller's policies.

use crate::control_errors::refused;
use crate::policy::Ask;
use crate::wire::encode;
use berth_control::ControlPlane;
use berth_types::arn::{self, Partition};
use berth_types::ecs::{
    DiscoverPollEndpointResponse, ListServicesByNamespaceResponse, Operation, Request, SettingName,
    Tag,
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
                $(Request::$op(input) => Ok(control.$method(input).map_err(refused).and_then(|out| encode(&out))),)*
                other => Err(other),
            }
        }
    };
}

operations!(
    DescribeClusters => describe_clusters,
    UpdateCluster => update_cluster,
    UpdateClusterSettings => update_cluster_settings,
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
    PutAccountSettingDefault => put_account_setting_default,
    ExecuteCommand => execute_command,
);

/// The operations whose answer depends on who calls (account settings are per principal, and
/// a new cluster's containerInsights follows its creator's).
const BY_CALLER: &[Operation] = &[
    Operation::CreateCluster,
    Operation::PutAccountSetting,
    Operation::DeleteAccountSetting,
    Operation::ListAccountSettings,
];

/// Whether Berth answers an ECS operation (the others are refused with
/// UnsupportedFeatureException, whatever their input).
pub fn supports(operation: Operation) -> bool {
    TABLE.contains(&operation)
        || BY_CALLER.contains(&operation)
        || matches!(
            operation,
            Operation::ListServicesByNamespace | Operation::DiscoverPollEndpoint
        )
}

/// Answers one ECS request by `caller` (the principal's ARN; for a role session its role's,
/// which account settings are kept for, as in ECS); `host` is the address the client reached
/// us at.
pub fn call(
    control: &ControlPlane,
    request: Request,
    host: &str,
    caller: &str,
) -> Result<Vec<u8>, ApiError> {
    let request = match table(control, request) {
        Ok(answer) => return answer,
        Err(other) => other,
    };
    match request {
        Request::CreateCluster(r) => encode(&control.create_cluster(r, caller).map_err(refused)?),
        Request::PutAccountSetting(r) => {
            encode(&control.put_account_setting(r, caller).map_err(refused)?)
        }
        Request::DeleteAccountSetting(r) => {
            encode(&control.delete_account_setting(r, caller).map_err(refused)?)
        }
        Request::ListAccountSettings(r) => {
            encode(&control.list_account_settings(r, caller).map_err(refused)?)
        }
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
pub(crate) fn batch_items(request: &mut Request) -> Option<&mut Vec<String>> {
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
pub(crate) fn item_ask(partition: &Partition, request: &Request, item: &str) -> Ask {
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
            | O::PutAccountSetting
            | O::PutAccountSettingDefault
            | O::DeleteAccountSetting
            | O::ListAccountSettings
    );
    let item = item.filter(|i| !i.is_empty());
    let resource = match operation {
        O::RunTask | O::StartTask | O::DescribeTaskDefinition | O::DeregisterTaskDefinition => {
            text("taskDefinition").map(|t| within("task-definition", t))
        }
        O::StopTask | O::ExecuteCommand => text("task").map(|t| within("task", t)),
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

/// The tags a creating call gives its new resource, and the ARN that resource will have (a
/// pattern where its id is not known yet).
fn created_tags<'r>(partition: &Partition, request: &'r Request) -> Option<(&'r [Tag], String)> {
    let members = request.members();
    let cluster = || {
        let name = members
            .text("cluster")
            .filter(|c| !c.is_empty())
            .unwrap_or("default");
        arn::cluster_name(name).to_string()
    };
    let (tags, resource) = match request {
        Request::CreateCluster(r) => (
            r.tags.as_deref(),
            partition.cluster(r.cluster_name.as_deref().unwrap_or("default")),
        ),
        Request::RegisterTaskDefinition(r) => (
            r.tags.as_deref(),
            format!(
                "arn:aws:ecs:{}:{}:task-definition/{}:*",
                partition.region, partition.account, r.family
            ),
        ),
        Request::RunTask(r) => (r.tags.as_deref(), partition.task(&cluster(), "*")),
        Request::StartTask(r) => (r.tags.as_deref(), partition.task(&cluster(), "*")),
        Request::CreateService(r) => (
            r.tags.as_deref(),
            partition.service(&cluster(), &r.service_name),
        ),
        Request::RegisterContainerInstance(r) => (
            r.tags.as_deref(),
            partition.container_instance(&cluster(), "*"),
        ),
        _ => return None,
    };
    Some((tags.filter(|t| !t.is_empty())?, resource))
}

/// What tagging on creation asks besides the call itself: with the caller's
/// `tagResourceAuthorization` account setting on (the default), a creating call that gives tags
/// also needs `ecs:TagResource` on the new resource, with `ecs:CreateAction` naming the call
/// and `aws:RequestTag/<key>` each tag, as ECS asks it. None when nothing more is asked.
pub(crate) fn tagging_ask(
    control: &ControlPlane,
    caller: &str,
    request: &Request,
    ask: &Ask,
) -> Option<Ask> {
    let (tags, resource) = created_tags(control.partition(), request)?;
    if control.account_setting(caller, SettingName::TagResourceAuthorization) != "on" {
        return None;
    }
    let mut keys = ask.keys.clone();
    keys.insert(
        "ecs:createaction".into(),
        request.operation().name().to_string(),
    );
    for tag in tags {
        if let Some(key) = &tag.key {
            let name = format!("aws:requesttag/{}", key.to_ascii_lowercase());
            keys.insert(name, tag.value.clone().unwrap_or_default());
        }
    }
    Some(Ask {
        action: "ecs:TagResource".into(),
        resource,
        keys,
        agent_facing: ask.agent_facing,
        subject: ask.subject.clone(),
    })
}
