//! The official AWS SDK client for CloudWatch Logs pointed at Berth, and a stream read whole,
//! forward or backward, the way CloudWatch pages it (until the token sent comes back).

use crate::process::Exports;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver};

/// A container logging with `awslogs` to `group`, stream prefix `app`.
pub fn logging(name: &str, command: &[&str], group: &str, create: bool) -> ContainerDefinition {
    let mut config = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", group)
        .options("awslogs-region", "us-east-1")
        .options("awslogs-stream-prefix", "app");
    if create {
        config = config.options("awslogs-create-group", "true");
    }
    crate::ecs::container(name, command)
        .memory(32)
        .stop_timeout(2)
        .log_configuration(config.build().expect("log configuration"))
        .build()
}

/// The official CloudWatch Logs client, pointed at Berth.
pub fn client(e: &Exports) -> Client {
    Client::new(&crate::ecs::sdk_config(e))
}

/// Every message of a stream, oldest first, read page by page: forward from the head, or
/// backward from the tail (`forward` false), `limit` events a page.
pub async fn read_all(
    logs: &Client,
    group: &str,
    stream: &str,
    forward: bool,
    limit: Option<i32>,
) -> Vec<String> {
    let mut pages: Vec<Vec<String>> = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(forward)
            .set_limit(limit)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetLogEvents");
        let next = if forward {
            page.next_forward_token()
        } else {
            page.next_backward_token()
        }
        .map(str::to_string);
        let messages = page
            .events()
            .iter()
            .map(|e| e.message().unwrap_or_default().to_string())
            .collect();
        pages.push(messages);
        assert!(next.is_some(), "GetLogEvents always gives tokens");
        if next == token {
            break;
        }
        token = next;
    }
    if !forward {
        pages.reverse();
    }
    pages.concat()
}
