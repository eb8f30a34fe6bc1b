//! The runner's part in an awslogs container's output: its stream made before the container
//! starts (as the task's execution role when it has one), its output shipped from its start,
//! and drained before the task reports STOPPED.

use super::Runner;
use crate::logs::options::{Mode, TagFields};
use crate::logs::shipper::{self, ShipOptions, Target};
use crate::logs::sink::{self, LogSink, SinkError};
use crate::runtime::ContainerRuntime;
use std::time::Duration;

/// How long a stopping task waits for its containers' output to be shipped before it reports
/// STOPPED (the shipping goes on after, if it must).
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// Tries at creating an awslogs stream before a container starts, when the server is away.
const STREAM_TRIES: u32 = 4;

impl<R: ContainerRuntime> Runner<'_, R> {
    /// Where the output of container `index` (engine id `id`) goes, if it logs to awslogs.
    pub(super) fn target(&self, index: usize, id: &str) -> Option<Target> {
        let slot = &self.slots[index];
        let aws = slot.awslogs.as_ref()?;
        Some(Target {
            group: aws.group.clone(),
            stream: aws.stream_name(
                &slot.name,
                &self.task_arn,
                TagFields {
                    id,
                    name: &slot.engine_name,
                    image: slot.def.image.as_deref().unwrap_or_default(),
                },
            ),
        })
    }

    /// In blocking mode, the stream is created before the container starts, and a container
    /// whose stream cannot be created does not start, as with Docker's awslogs driver.
    /// The stream is created as the task's execution role when it has one, as Docker's driver
    /// does with the credentials the ECS agent gives it.
    pub(super) async fn open_stream(&mut self, index: usize, id: &str) -> Result<(), String> {
        let (Some(aws), Some(target)) = (self.slots[index].awslogs.clone(), self.target(index, id))
        else {
            return Ok(());
        };
        if aws.mode == Mode::NonBlocking || !aws.create_stream {
            return Ok(());
        }
        let execution = self.execution_role().await?;
        let sink: &dyn LogSink = match execution {
            Some(client) => client,
            None => &*self.ctx.logs,
        };
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=STREAM_TRIES {
            let created =
                sink::create_stream(sink, &target.group, &target.stream, aws.create_group).await;
            match created {
                Ok(()) => return Ok(()),
                Err(SinkError::Retryable(_)) if attempt < STREAM_TRIES => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => return Err(sink::start_failure(&e)),
            }
        }
        Ok(())
    }

    /// Starts shipping container `index`'s output, if it logs to awslogs. An `adopted`
    /// container's stream is made sure of by the shipper, as is a non-blocking one's.
    pub(super) fn ship(&mut self, index: usize, id: String, adopted: bool) {
        let Some(target) = self.target(index, &id) else {
            return;
        };
        let Some(aws) = self.slots[index].awslogs.clone() else {
            return;
        };
        let make_stream_first = adopted || aws.mode == Mode::NonBlocking;
        let options = ShipOptions::new(aws, make_stream_first);
        let runtime = self.ctx.runtime.clone();
        let handle = shipper::spawn(runtime, id, self.ctx.logs.clone(), target, options);
        self.slots[index].shipper = Some(handle);
    }

    /// Waits (a while) until the output of the task's containers is shipped.
    pub(super) async fn drain_logs(&mut self) {
        let shippers: Vec<_> = self
            .slots
            .iter_mut()
            .filter_map(|s| s.shipper.take())
            .collect();
        if shippers.is_empty() {
            return;
        }
        let drained = tokio::time::timeout(DRAIN_LIMIT, futures_util::future::join_all(shippers));
        if drained.await.is_err() {
            tracing::warn!(task = %self.task_arn, "the task's output is still being shipped as it stops");
        }
    }
}
