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

/// A kind of resource as the ECS API lists (ARNs, page after page) and describes it (in
/// batches of at most `batch` ARNs; the request's field for them and the answer's field for
/// the descriptions are both `field`).
struct Kind {
    list: &'static str,
    arns: &'static str,
    describe: &'static str,
    field: &'static str,
    batch: usize,
}

const CLUSTERS: Kind = Kind {
    list: "ListClusters",
    arns: "clusterArns",
    describe: "DescribeClusters",
    field: "clusters",
    batch: 100,
};
const INSTANCES: Kind = Kind {
    list: "ListContainerInstances",
    arns: "containerInstanceArns",
    describe: "DescribeContainerInstances",
    field: "containerInstances",
    batch: 100,
};
const SERVICES: Kind = Kind {
    list: "ListServices",
    arns: "serviceArns",
    describe: "DescribeServices",
    field: "services",
    batch: 10,
};
const TASKS: Kind = Kind {
    list: "ListTasks",
    arns: "taskArns",
    describe: "DescribeTasks",
    field: "tasks",
    batch: 100,
};

/// Prints the status of the control plane `client` calls.
pub async fn print(client: &EcsClient) -> anyhow::Result<()> {
    let clusters: Vec<Cluster> = match fetch(client, &CLUSTERS, json!({})).await {
        Err(e) if matches!(e.downcast_ref(), Some(ClientError::Unreachable { .. })) => {
            anyhow::bail!(
                "{e}\nIs Berth running there? Start it with `berth up` (this host runs the \
                 tasks) or `berth server`, and export the lines it prints"
            )
        }
        clusters => clusters?,
    };
    say!("Berth at {}", client.endpoint());
    if clusters.is_empty() {
        say!(
            "no clusters yet: `berth up` or `berth agent` joins a host to one, then run a task: \
             aws ecs run-task --task-definition FAMILY"
        );
    }
    for cluster in clusters {
        let name = cluster.cluster_name.unwrap_or_default();
        say!();
        say!(
            "cluster {name} ({}): {} running, {} pending tasks",
            cluster.status.as_deref().unwrap_or("ACTIVE"),
            cluster.running_tasks_count.unwrap_or(0),
            cluster.pending_tasks_count.unwrap_or(0),
        );
        print_instances(client, &name).await?;
        print_services(client, &name).await?;
        print_stopped_tasks(client, &name).await?;
    }
    Ok(())
}

/// A cluster's instances: connected or not, what is left of their CPU and memory.
async fn print_instances(client: &EcsClient, cluster: &str) -> anyhow::Result<()> {
    let instances: Vec<ContainerInstance> =
        fetch(client, &INSTANCES, json!({ "cluster": cluster })).await?;
    if instances.is_empty() {
        say!(
            "  no instances: join a host with `berth agent --cluster {cluster}` (the join command \
             `berth server` printed) or `berth up --cluster {cluster}`"
        );
        return Ok(());
    }
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
    Ok(())
}

/// A cluster's services: running and desired counts, the newest event.
async fn print_services(client: &EcsClient, cluster: &str) -> anyhow::Result<()> {
    let services: Vec<Service> = fetch(client, &SERVICES, json!({ "cluster": cluster })).await?;
    if services.is_empty() {
        say!(
            "  no services: aws ecs create-service --cluster {cluster} --service-name NAME \
             --task-definition FAMILY --desired-count 1"
        );
        return Ok(());
    }
    let mut table = Table::new(&["SERVICE", "RUNNING/DESIRED", "LAST EVENT"]);
    for s in &services {
        // ECS lists a service's events newest first.
        let last = s.events.iter().flatten().next().map(|e| {
            let message = e.message.as_deref().unwrap_or_default();
            format!("{}: {message}", ago(e.created_at))
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
    Ok(())
}

/// A cluster's most recently stopped tasks, with the reason each stopped.
async fn print_stopped_tasks(client: &EcsClient, cluster: &str) -> anyhow::Result<()> {
    let stopped = json!({ "cluster": cluster, "desiredStatus": "STOPPED" });
    let mut tasks: Vec<Task> = fetch(client, &TASKS, stopped).await?;
    // Only tasks that have stopped: a task told to stop may still be on its way down.
    tasks.retain(|t| t.stopped_at.is_some());
    if tasks.is_empty() {
        // Berth forgets stopped tasks an hour after they stop.
        say!("  no task stopped in the last hour");
        return Ok(());
    }
    tasks.sort_by(|a, b| {
        let stopped = |t: &Task| t.stopped_at.unwrap_or_default();
        stopped(b).total_cmp(&stopped(a))
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

/// Every resource of `kind` that `request` lists (of its `cluster`, if it names one),
/// described.
async fn fetch<T: DeserializeOwned>(
    client: &EcsClient,
    kind: &Kind,
    mut request: Value,
) -> anyhow::Result<Vec<T>> {
    let mut arns = Vec::new();
    loop {
        let page: Value = client.call(kind.list, &request).await?;
        let page_arns = page[kind.arns].as_array().into_iter().flatten();
        arns.extend(page_arns.filter_map(|a| a.as_str().map(str::to_string)));
        match page["nextToken"].as_str() {
            Some(token) => request["nextToken"] = json!(token),
            None => break,
        }
    }
    let mut described = Vec::new();
    for batch in arns.chunks(kind.batch) {
        let mut describe = json!({ kind.field: batch });
        if let Some(cluster) = request["cluster"].as_str() {
            describe["cluster"] = json!(cluster);
        }
        let mut answer: Value = client.call(kind.describe, &describe).await?;
        let items: Vec<T> = serde_json::from_value(answer[kind.field].take())
            .map_err(|e| anyhow::anyhow!("cannot read what {} answered: {e}", kind.describe))?;
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
