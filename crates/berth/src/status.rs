//! `berth status`: what Berth runs, at a glance, read through the public ECS API as any client
//! would: each cluster with its instances (connected or not, CPU and memory left), its
//! services (running and desired counts, the last event) and its recently stopped tasks with
//! their reasons; and what to do next where there is nothing yet.

use crate::table::Table;
use berth_agent::client::{ClientError, EcsClient};
use berth_types::ecs::{Cluster, ContainerInstance, Resource, Service, Task};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Stopped tasks shown per cluster, the most recent first.
const STOPPED_SHOWN: usize = 10;

/// Prints the status of the control plane `client` calls.
pub async fn print(client: &EcsClient) -> anyhow::Result<()> {
    let arns = match list(client, "ListClusters", json!({}), "clusterArns").await {
        Err(unreachable @ ClientError::Unreachable { .. }) => anyhow::bail!(
            "{unreachable}\nIs Berth running there? Start it with `berth up` (this host runs the \
             tasks) or `berth server`, and export the lines it prints"
        ),
        arns => arns?,
    };
    println!("Berth at {}", client.endpoint());
    if arns.is_empty() {
        println!(
            "no clusters yet: `berth up` or `berth agent` joins a host to one, then run a task: \
             aws ecs run-task --task-definition FAMILY"
        );
        return Ok(());
    }
    let clusters: Vec<Cluster> = describe(
        client,
        ("DescribeClusters", "clusters", 100),
        json!({}),
        &arns,
        "clusters",
    )
    .await?;
    for cluster in clusters {
        println!();
        print_cluster(client, &cluster).await?;
    }
    Ok(())
}

/// One cluster: a line about it, then its instances, services and stopped tasks.
async fn print_cluster(client: &EcsClient, cluster: &Cluster) -> anyhow::Result<()> {
    let name = cluster.cluster_name.clone().unwrap_or_default();
    println!(
        "cluster {name} ({}): {} running, {} pending tasks",
        cluster.status.as_deref().unwrap_or("ACTIVE"),
        cluster.running_tasks_count.unwrap_or(0),
        cluster.pending_tasks_count.unwrap_or(0),
    );
    let in_cluster = json!({ "cluster": name });

    let arns = list(
        client,
        "ListContainerInstances",
        in_cluster.clone(),
        "containerInstanceArns",
    )
    .await?;
    let instances: Vec<ContainerInstance> = describe(
        client,
        ("DescribeContainerInstances", "containerInstances", 100),
        in_cluster.clone(),
        &arns,
        "containerInstances",
    )
    .await?;
    if instances.is_empty() {
        println!(
            "  no instances: join a host with `berth agent --cluster {name}` (the join command \
             `berth server` printed) or `berth up --cluster {name}`"
        );
    } else {
        let mut table = Table::new(&["INSTANCE", "AGENT", "CPU LEFT", "MEMORY LEFT", "TASKS"]);
        for i in &instances {
            table.row(vec![
                last_part(i.container_instance_arn.as_deref()),
                match i.agent_connected {
                    Some(true) => "connected".into(),
                    _ => "DISCONNECTED".into(),
                },
                left(i, "CPU", ""),
                left(i, "MEMORY", " MiB"),
                i.running_tasks_count.unwrap_or(0).to_string(),
            ]);
        }
        table.print("  ");
    }

    let arns = list(client, "ListServices", in_cluster.clone(), "serviceArns").await?;
    let services: Vec<Service> = describe(
        client,
        ("DescribeServices", "services", 10),
        in_cluster.clone(),
        &arns,
        "services",
    )
    .await?;
    if services.is_empty() {
        println!(
            "  no services: aws ecs create-service --cluster {name} --service-name NAME \
             --task-definition FAMILY --desired-count 1"
        );
    } else {
        let mut table = Table::new(&["SERVICE", "RUNNING/DESIRED", "LAST EVENT"]);
        for s in &services {
            let last = s.events.iter().flatten().next().map(|e| {
                format!(
                    "{}: {}",
                    ago(e.created_at),
                    e.message.as_deref().unwrap_or_default()
                )
            });
            table.row(vec![
                s.service_name.clone().unwrap_or_default(),
                format!(
                    "{}/{}",
                    s.running_count.unwrap_or(0),
                    s.desired_count.unwrap_or(0)
                ),
                last.unwrap_or_default(),
            ]);
        }
        table.print("  ");
    }

    let stopped = json!({ "cluster": name, "desiredStatus": "STOPPED" });
    let arns = list(client, "ListTasks", stopped, "taskArns").await?;
    let mut tasks: Vec<Task> = describe(
        client,
        ("DescribeTasks", "tasks", 100),
        in_cluster,
        &arns,
        "tasks",
    )
    .await?;
    // Only tasks that have stopped: a task told to stop may still be on its way down.
    tasks.retain(|t| t.stopped_at.is_some());
    if tasks.is_empty() {
        // Berth forgets stopped tasks an hour after they stop.
        println!("  no task stopped in the last hour");
        return Ok(());
    }
    tasks.sort_by(|a, b| {
        b.stopped_at
            .partial_cmp(&a.stopped_at)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut table = Table::new(&["STOPPED TASK", "DEFINITION", "STOPPED", "REASON"]);
    for t in tasks.iter().take(STOPPED_SHOWN) {
        table.row(vec![
            last_part(t.task_arn.as_deref()),
            last_part(t.task_definition_arn.as_deref()),
            ago(t.stopped_at),
            t.stopped_reason.clone().unwrap_or_default(),
        ]);
    }
    table.print("  ");
    Ok(())
}

/// Every ARN a List operation answers, page after page.
async fn list(
    client: &EcsClient,
    operation: &str,
    mut request: Value,
    field: &str,
) -> Result<Vec<String>, ClientError> {
    let mut arns = Vec::new();
    loop {
        let page: Value = client.call(operation, &request).await?;
        let page_arns = page[field].as_array().into_iter().flatten();
        arns.extend(page_arns.filter_map(|a| a.as_str().map(str::to_string)));
        match page["nextToken"].as_str() {
            Some(token) => request["nextToken"] = json!(token),
            None => return Ok(arns),
        }
    }
}

/// What a Describe operation answers in `answer_field` for `arns`, asked in batches as large as
/// the operation takes: `(operation, the request's field for the ARNs, batch size)`.
async fn describe<T: DeserializeOwned>(
    client: &EcsClient,
    (operation, arns_field, batch): (&str, &str, usize),
    mut request: Value,
    arns: &[String],
    answer_field: &str,
) -> anyhow::Result<Vec<T>> {
    let mut described = Vec::new();
    for chunk in arns.chunks(batch) {
        request[arns_field] = json!(chunk);
        let mut answer: Value = client.call(operation, &request).await?;
        let items: Vec<T> = serde_json::from_value(answer[answer_field].take()).map_err(|e| {
            anyhow::anyhow!("{operation} answered {answer_field} Berth cannot read: {e}")
        })?;
        described.extend(items);
    }
    Ok(described)
}

/// An instance's `remaining` resource `name` out of its registered one: `1536/2048`.
fn left(instance: &ContainerInstance, name: &str, unit: &str) -> String {
    let amount = |resources: &Option<Vec<Resource>>| {
        let resource = resources
            .iter()
            .flatten()
            .find(|r| r.name.as_deref() == Some(name));
        resource.and_then(|r| r.integer_value).unwrap_or(0)
    };
    format!(
        "{}/{}{unit}",
        amount(&instance.remaining_resources),
        amount(&instance.registered_resources)
    )
}

/// What follows the last `/` of an ARN: a task's or instance's id, `family:revision`.
fn last_part(arn: Option<&str>) -> String {
    let arn = arn.unwrap_or_default();
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

/// How long ago an epoch time was, as a person says it: `42s ago`, `5m ago`, `3h ago`.
fn ago(epoch: Option<f64>) -> String {
    let Some(epoch) = epoch else {
        return String::new();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let seconds = (now - epoch).max(0.0) as u64;
    match seconds {
        0..60 => format!("{seconds}s ago"),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..86_400 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::{ago, last_part};
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn ids_and_ages_read_as_a_person_says_them() {
        let arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0123abcd";
        assert_eq!(last_part(Some(arn)), "0123abcd");
        assert_eq!(
            last_part(Some("arn:aws:ecs:r:a:task-definition/web:3")),
            "web:3"
        );
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        assert_eq!(ago(Some(now.as_secs_f64() - 300.0)), "5m ago");
        assert_eq!(ago(None), "");
    }
}
