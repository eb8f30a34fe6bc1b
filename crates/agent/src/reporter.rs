//! State reports to the control plane: queued, merged per task, sent in order, retried with
//! backoff until the server has them. Reports are idempotent on the server, so a retry after a
//! lost answer is harmless.

use crate::client::EcsClient;
use berth_types::ecs::{
    ContainerStateChange, SubmitTaskStateChangeRequest, SubmitTaskStateChangeResponse,
};
use std::time::Duration;
use tokio::sync::mpsc;

/// The first and the longest pause between retries.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// Hands reports to the sending loop.
#[derive(Clone)]
pub(crate) struct Reporter {
    tx: mpsc::UnboundedSender<SubmitTaskStateChangeRequest>,
}

impl Reporter {
    /// Starts the sending loop.
    pub(crate) fn start(client: EcsClient) -> Self {
        let (reporter, queue) = Self::queue();
        tokio::spawn(send_loop(client, queue));
        reporter
    }

    /// A reporter and the queue its reports land in, unsent: [`Reporter::start`] drains the
    /// queue to the control plane, tests read it.
    pub(crate) fn queue() -> (Self, mpsc::UnboundedReceiver<SubmitTaskStateChangeRequest>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    /// Queues a report.
    pub(crate) fn report(&self, report: SubmitTaskStateChangeRequest) {
        // The loop only ends when every Reporter is gone, so the send cannot fail while we exist.
        let _ = self.tx.send(report);
    }
}

fn rank(status: Option<&str>) -> u8 {
    match status {
        Some("STOPPED") => 2,
        Some("RUNNING") => 1,
        _ => 0,
    }
}

/// Folds `later` into `earlier` (same task): later container facts win, status never goes back.
pub(crate) fn merge(
    earlier: &mut SubmitTaskStateChangeRequest,
    later: SubmitTaskStateChangeRequest,
) {
    if rank(later.status.as_deref()) >= rank(earlier.status.as_deref()) {
        earlier.status = later.status;
        if later.reason.is_some() {
            earlier.reason = later.reason;
        }
    }
    let containers = earlier.containers.get_or_insert_with(Vec::new);
    for c in later.containers.unwrap_or_default() {
        match containers
            .iter_mut()
            .find(|x| x.container_name == c.container_name)
        {
            Some(existing) => merge_container(existing, c),
            None => containers.push(c),
        }
    }
    earlier.pull_started_at = earlier.pull_started_at.or(later.pull_started_at);
    earlier.pull_stopped_at = later.pull_stopped_at.or(earlier.pull_stopped_at);
    earlier.execution_stopped_at = later.execution_stopped_at.or(earlier.execution_stopped_at);
}

fn merge_container(earlier: &mut ContainerStateChange, later: ContainerStateChange) {
    if rank(later.status.as_deref()) >= rank(earlier.status.as_deref()) {
        earlier.status = later.status;
    }
    earlier.runtime_id = later.runtime_id.or(earlier.runtime_id.take());
    earlier.exit_code = later.exit_code.or(earlier.exit_code);
    earlier.reason = later.reason.or(earlier.reason.take());
    earlier.network_bindings = later.network_bindings.or(earlier.network_bindings.take());
    earlier.image_digest = later.image_digest.or(earlier.image_digest.take());
}

/// Takes everything queued, merged per task in first-seen order.
fn batch(
    first: SubmitTaskStateChangeRequest,
    rx: &mut mpsc::UnboundedReceiver<SubmitTaskStateChangeRequest>,
) -> Vec<SubmitTaskStateChangeRequest> {
    let mut out = vec![first];
    while let Ok(next) = rx.try_recv() {
        match out.iter_mut().find(|r| r.task == next.task) {
            Some(r) => merge(r, next),
            None => out.push(next),
        }
    }
    out
}

async fn send_loop(
    client: EcsClient,
    mut rx: mpsc::UnboundedReceiver<SubmitTaskStateChangeRequest>,
) {
    while let Some(first) = rx.recv().await {
        for report in batch(first, &mut rx) {
            let mut pause = BACKOFF.0;
            loop {
                let sent: Result<SubmitTaskStateChangeResponse, _> =
                    client.call("SubmitTaskStateChange", &report).await;
                match sent {
                    Ok(_) => break,
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(task = ?report.task, error = %e, "report not delivered, retrying");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(BACKOFF.1);
                    }
                    Err(e) => {
                        tracing::warn!(task = ?report.task, error = %e, "report refused, dropping it");
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        task: &str,
        status: &str,
        container: (&str, &str, Option<i32>),
    ) -> SubmitTaskStateChangeRequest {
        SubmitTaskStateChangeRequest {
            task: Some(task.into()),
            status: Some(status.into()),
            containers: Some(vec![ContainerStateChange {
                container_name: Some(container.0.into()),
                status: Some(container.1.into()),
                exit_code: container.2,
                ..ContainerStateChange::default()
            }]),
            ..SubmitTaskStateChangeRequest::default()
        }
    }

    #[test]
    fn batches_merge_per_task_without_going_back() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(report("t1", "STOPPED", ("a", "STOPPED", Some(3))))
            .expect("send");
        tx.send(report("t2", "RUNNING", ("b", "RUNNING", None)))
            .expect("send");
        tx.send(report("t1", "RUNNING", ("b", "RUNNING", None)))
            .expect("send");
        let first = report("t1", "RUNNING", ("a", "RUNNING", None));
        let out = batch(first, &mut rx);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].status.as_deref(), Some("STOPPED"));
        let a = &out[0].containers.as_ref().expect("containers")[0];
        assert_eq!(
            (a.status.as_deref(), a.exit_code),
            (Some("STOPPED"), Some(3))
        );
        assert_eq!(out[0].containers.as_ref().expect("containers").len(), 2);
    }
}
