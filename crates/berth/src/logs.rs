//! `berth logs TASK`: a task's output as its containers' `awslogs` streams hold it, read
//! through the CloudWatch Logs API (the AWS CLI v1 has no `aws logs tail`). With `--follow` it
//! prints lines as they arrive until the task has stopped and its streams are drained.

use berth_agent::client::EcsClient;
use berth_agent::logs::options;
use berth_types::ecs::{
    DescribeTaskDefinitionRequest, DescribeTaskDefinitionResponse, DescribeTasksRequest,
    DescribeTasksResponse, Task,
};
use berth_types::logs::{GetLogEventsRequest, GetLogEventsResponse, OutputLogEvent};
use std::time::Duration;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_millis(500);

/// What to print.
pub struct Options {
    /// The cluster of the task.
    pub cluster: String,
    /// The task's ARN or id.
    pub task: String,
    /// Only this container's output.
    pub container: Option<String>,
    /// Keep printing as the task prints.
    pub follow: bool,
    /// Only events this recent.
    pub since: Option<Duration>,
}

/// One container's stream and where reading it has got to.
struct Stream {
    container: String,
    group: String,
    name: String,
    token: Option<String>,
}

/// Prints the task's output; returns once it is all printed (and, following, the task stopped).
pub async fn print(client: &EcsClient, options: Options) -> anyhow::Result<()> {
    let task = describe_task(client, &options.cluster, &options.task).await?;
    let mut streams = streams_of(client, &task, options.container.as_deref()).await?;
    let start_time = options
        .since
        .map(|since| now_millis() - since.as_millis() as i64);
    let prefixed = streams.len() > 1;
    loop {
        let mut batch: Vec<(i64, String, String)> = vec![];
        let mut fresh = false;
        for stream in &mut streams {
            let page = next_page(client, stream, start_time).await?;
            fresh |= page.next_forward_token != stream.token;
            stream.token = page.next_forward_token;
            for event in page.events.unwrap_or_default() {
                let OutputLogEvent {
                    timestamp, message, ..
                } = event;
                batch.push((
                    timestamp.unwrap_or_default(),
                    stream.container.clone(),
                    message.unwrap_or_default(),
                ));
            }
        }
        // Each stream's events are in order; a round's are merged by time.
        batch.sort_by_key(|(time, _, _)| *time);
        for (_, container, message) in batch {
            if prefixed {
                say!("{container} | {message}");
            } else {
                say!("{message}");
            }
        }
        if fresh {
            continue;
        }
        if !options.follow || stopped(client, &options.cluster, &options.task).await? {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The next page of a stream, forward from where it got to (from `start_time` at first).
async fn next_page(
    client: &EcsClient,
    stream: &Stream,
    start_time: Option<i64>,
) -> anyhow::Result<GetLogEventsResponse> {
    let request = GetLogEventsRequest {
        log_group_name: Some(stream.group.clone()),
        log_stream_name: stream.name.clone(),
        start_time: start_time.filter(|_| stream.token.is_none()),
        next_token: stream.token.clone(),
        start_from_head: Some(true),
        ..Default::default()
    };
    client
        .call_target(berth_types::logs::TARGET_PREFIX, "GetLogEvents", &request)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read log stream {} of group {}: {e}",
                stream.name,
                stream.group
            )
        })
}

/// DescribeTasks of one task, or an error that says how to find its id.
pub(crate) async fn describe_task(
    client: &EcsClient,
    cluster: &str,
    task: &str,
) -> anyhow::Result<Task> {
    let answer: DescribeTasksResponse = client
        .call(
            "DescribeTasks",
            &DescribeTasksRequest {
                cluster: Some(cluster.to_string()),
                tasks: vec![task.to_string()],
                ..Default::default()
            },
        )
        .await?;
    answer
        .tasks
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no task {task} in cluster {cluster}: check the id with `aws ecs list-tasks --cluster {cluster} --desired-status STOPPED` (or --cluster)"
            )
        })
}

async fn stopped(client: &EcsClient, cluster: &str, task: &str) -> anyhow::Result<bool> {
    let task = describe_task(client, cluster, task).await?;
    Ok(task.last_status.as_deref() == Some("STOPPED"))
}

/// The `awslogs` streams of the task's containers (of `only`, if given).
async fn streams_of(
    client: &EcsClient,
    task: &Task,
    only: Option<&str>,
) -> anyhow::Result<Vec<Stream>> {
    let definition: DescribeTaskDefinitionResponse = client
        .call(
            "DescribeTaskDefinition",
            &DescribeTaskDefinitionRequest {
                task_definition: task.task_definition_arn.clone().unwrap_or_default(),
                ..Default::default()
            },
        )
        .await?;
    let task_arn = task.task_arn.as_deref().unwrap_or_default();
    let mut streams = vec![];
    let mut silent = vec![];
    for container in definition
        .task_definition
        .and_then(|d| d.container_definitions)
        .unwrap_or_default()
    {
        let name = container.name.clone().unwrap_or_default();
        if only.is_some_and(|only| only != name) {
            continue;
        }
        let options = match container.log_configuration.as_ref().map(options::of) {
            Some(Ok(Some(options))) => options,
            _ => {
                silent.push(name);
                continue;
            }
        };
        if options.needs_engine_name() {
            anyhow::bail!(
                "container {name} names its log stream after the engine's container name (`tag` with {{{{.Name}}}}), which only its host knows: find the stream with `aws logs describe-log-streams --log-group-name {}`",
                options.group
            );
        }
        let runtime_id = task
            .containers
            .iter()
            .flatten()
            .find(|c| c.name.as_deref() == Some(&name))
            .and_then(|c| c.runtime_id.clone());
        // Without a prefix the stream is named for the container, once the engine made it.
        if options.needs_container_id() && runtime_id.is_none() {
            silent.push(name);
            continue;
        }
        let engine = options::TagFields {
            id: runtime_id.as_deref().unwrap_or_default(),
            name: "",
            image: container.image.as_deref().unwrap_or_default(),
        };
        let stream = options.stream_name(&name, task_arn, engine);
        streams.push(Stream {
            container: name,
            group: options.group,
            name: stream,
            token: None,
        });
    }
    if streams.is_empty() {
        anyhow::bail!(
            "no awslogs output to read: {}. Give the container definitions \"logConfiguration\": {{\"logDriver\": \"awslogs\", \"options\": {{\"awslogs-group\": ..., \"awslogs-stream-prefix\": ...}}}}; for other drivers use `docker logs` on the host",
            match (only, silent.is_empty()) {
                (Some(name), true) => format!("the task has no container {name}"),
                _ => format!("containers {} do not log with awslogs", silent.join(", ")),
            }
        );
    }
    Ok(streams)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
