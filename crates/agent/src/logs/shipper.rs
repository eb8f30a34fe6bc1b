//! Ships one container's output to its stream: reads it back from the engine (from where the
//! stream's `uploadSequenceToken` says shipping got to), makes events and batches of it, and
//! uploads them in order, retrying what may succeed later. Runs until the container's output
//! ends (the container exited and everything it wrote was read) and the last batch is stored.
//!
//! Reading and uploading are two tasks joined by an [`Outbox`], so the next batch fills while
//! one is on the wire. A batch goes when it is full or [`ShipOptions::linger`] after its first
//! event, which keeps a line's way from print to readable well under a second.

use super::batch::Batch;
use super::cursor::Cursor;
use super::events::{Assembler, Event};
use super::options::AwsLogsOptions;
use super::outbox::Outbox;
use super::sink::{self, LogSink, SinkError};
use crate::runtime::ContainerRuntime;
use futures_util::{FutureExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a batch waits for more events after its first.
const LINGER: Duration = Duration::from_millis(200);
/// The first wait before retrying a failed call; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between retries.
const RETRY_MAX: Duration = Duration::from_secs(32);
/// Lines taken from the engine without looking at the clock, when they come fast.
const READ_BURST: usize = 1_024;
/// How often a broken read of the engine's output is tried again before giving up.
const REREADS: u32 = 5;

/// Where a container's events go.
#[derive(Debug, Clone)]
pub struct Target {
    /// The log group.
    pub group: String,
    /// The log stream.
    pub stream: String,
}

/// How a shipper behaves.
#[derive(Debug, Clone)]
pub struct ShipOptions {
    /// The container's awslogs options.
    pub awslogs: AwsLogsOptions,
    /// Whether the shipper creates the stream itself first (non-blocking mode, or a container
    /// adopted after a restart); otherwise the runner did before starting the container.
    pub make_stream_first: bool,
    /// How long a batch waits for more events after its first.
    pub linger: Duration,
    /// The first wait before a retry.
    pub retry_first: Duration,
}

impl ShipOptions {
    /// The usual timings.
    pub fn new(awslogs: AwsLogsOptions, make_stream_first: bool) -> Self {
        Self {
            awslogs,
            make_stream_first,
            linger: LINGER,
            retry_first: RETRY_FIRST,
        }
    }
}

/// Ships container `id`'s output in the background.
pub fn spawn<R: ContainerRuntime>(
    runtime: R,
    id: String,
    sink: Arc<dyn LogSink>,
    target: Target,
    options: ShipOptions,
) -> JoinHandle<()> {
    tokio::spawn(ship(runtime, id, sink, target, options))
}

/// Waits growing from `first` to [`RETRY_MAX`].
struct Backoff(Duration);

impl Backoff {
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(RETRY_MAX);
    }
}

/// Ships container `id`'s output until it ends.
pub async fn ship<R: ContainerRuntime>(
    runtime: R,
    id: String,
    sink: Arc<dyn LogSink>,
    target: Target,
    options: ShipOptions,
) {
    let aws = &options.awslogs;
    if options.make_stream_first && aws.create_stream {
        let mut backoff = Backoff(options.retry_first);
        loop {
            match sink::create_stream(&*sink, &target.group, &target.stream, aws.create_group).await
            {
                Ok(()) => break,
                Err(SinkError::Retryable(why)) => {
                    tracing::warn!(stream = %target.stream, %why, "cannot create the log stream yet");
                    backoff.wait().await;
                }
                Err(e) => {
                    tracing::warn!(stream = %target.stream, error = %e, "the container's output is not shipped");
                    return;
                }
            }
        }
    }
    let shipped = resume_point(&*sink, &target, options.retry_first).await;
    let outbox = Arc::new(Outbox::new(aws.mode, aws.max_buffer, &target.stream));
    let uploader = tokio::spawn(upload_all(
        sink,
        target.clone(),
        outbox.clone(),
        options.retry_first,
        aws.create_group,
    ));
    read(&runtime, &id, shipped, &options, &outbox).await;
    outbox.close();
    let _ = uploader.await;
    if outbox.dropped() > 0 {
        tracing::warn!(stream = %target.stream, dropped = outbox.dropped(), "events dropped in non-blocking mode");
    }
}

/// The cursor the stream's last stored batch carried; retried until the server answers.
async fn resume_point(sink: &dyn LogSink, target: &Target, retry_first: Duration) -> Cursor {
    let mut backoff = Backoff(retry_first);
    loop {
        match sink.stream_token(&target.group, &target.stream).await {
            Ok(token) => return Cursor::parse(token.as_deref()),
            Err(SinkError::Retryable(why)) => {
                tracing::warn!(stream = %target.stream, %why, "cannot read where shipping got to yet");
                backoff.wait().await;
            }
            // No group, no stream: nothing was shipped.
            Err(_) => return Cursor::default(),
        }
    }
}

/// Reads the engine's output into batches until it ends.
async fn read<R: ContainerRuntime>(
    runtime: &R,
    id: &str,
    shipped: Cursor,
    options: &ShipOptions,
    outbox: &Outbox,
) {
    let aws = &options.awslogs;
    let mut assembler = Assembler::new(shipped, aws.event_start.clone(), aws.force_flush);
    let mut lines = runtime.logs(id, shipped.since_seconds());
    let mut batch = Batch::default();
    let mut events: Vec<Event> = Vec::new();
    let mut rereads = 0;
    // Where the current read of the engine's output began.
    let mut read_from = shipped;
    let timer = tokio::time::sleep(Duration::MAX);
    tokio::pin!(timer);
    loop {
        // Due: the open batch's linger, or a waiting multiline event's force flush.
        let due = [
            batch
                .opened
                .map(|at| Instant::from_std(at) + options.linger),
            assembler.due().map(Instant::from_std),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(due) = due
            && timer.deadline() != due
        {
            timer.as_mut().reset(due);
        }
        tokio::select! {
            next = lines.next() => {
                let now = std::time::Instant::now();
                let mut next = Some(next);
                let mut ended = false;
                // Take what is ready without a round through the timer.
                for _ in 0..READ_BURST {
                    let Some(line) = next.take().or_else(|| lines.next().now_or_never()) else {
                        break;
                    };
                    match line {
                        Some(Ok(line)) => {
                            rereads = 0;
                            assembler.push(line, now, &mut events);
                        }
                        Some(Err(why)) if rereads < REREADS => {
                            rereads += 1;
                            tracing::warn!(container = %id, %why, "reading the container's output again");
                            tokio::time::sleep(options.retry_first).await;
                            read_from = assembler.cursor();
                            assembler.reread_after(read_from);
                            lines = runtime.logs(id, read_from.since_seconds());
                            break;
                        }
                        Some(Err(why)) => {
                            tracing::warn!(container = %id, %why, "cannot read the container's output");
                            ended = true;
                            break;
                        }
                        // The engine may end a follow as the container exits before all
                        // of its output was sent (Docker 20.10 does): read again from the
                        // cursor until a read brings nothing new.
                        None if assembler.cursor() != read_from => {
                            read_from = assembler.cursor();
                            assembler.reread_after(read_from);
                            lines = runtime.logs(id, read_from.since_seconds());
                            break;
                        }
                        None => {
                            ended = true;
                            break;
                        }
                    }
                }
                fill(&mut batch, &mut events, outbox, now).await;
                if ended {
                    break;
                }
            }
            _ = &mut timer, if due.is_some() => {
                let now = std::time::Instant::now();
                assembler.flush_due(now, &mut events);
                fill(&mut batch, &mut events, outbox, now).await;
                if batch.opened.is_some_and(|at| now >= at + options.linger) {
                    outbox.push(std::mem::take(&mut batch).sorted()).await;
                }
            }
        }
    }
    assembler.finish(&mut events);
    fill(&mut batch, &mut events, outbox, std::time::Instant::now()).await;
    outbox.push(batch.sorted()).await;
}

/// Moves `events` into batches, queueing each that fills.
async fn fill(
    batch: &mut Batch,
    events: &mut Vec<Event>,
    outbox: &Outbox,
    now: std::time::Instant,
) {
    for event in events.drain(..) {
        if !batch.fits(&event) {
            outbox.push(std::mem::take(batch).sorted()).await;
        }
        batch.push(event, now);
        if batch.is_full() {
            outbox.push(std::mem::take(batch).sorted()).await;
        }
    }
}

/// Uploads the outbox's batches in order until it closes.
async fn upload_all(
    sink: Arc<dyn LogSink>,
    target: Target,
    outbox: Arc<Outbox>,
    retry_first: Duration,
    create_group: bool,
) {
    while let Some(batch) = outbox.pop().await {
        upload(&*sink, &target, &batch, retry_first, create_group).await;
    }
}

/// Uploads one batch: retried until stored, unless the server refuses it for good.
async fn upload(
    sink: &dyn LogSink,
    target: &Target,
    batch: &Batch,
    retry_first: Duration,
    create_group: bool,
) {
    let token = batch.token();
    let mut backoff = Backoff(retry_first);
    loop {
        let put = sink
            .put(
                &target.group,
                &target.stream,
                &batch.events,
                token.as_deref(),
            )
            .await;
        match put {
            Ok(()) => return,
            Err(SinkError::Retryable(why)) => {
                tracing::warn!(stream = %target.stream, %why, "PutLogEvents failed; retrying");
                backoff.wait().await;
                // The answer may have been lost after the batch was stored: the stream's
                // token says so, and sending it again would repeat it.
                let stored = sink.stream_token(&target.group, &target.stream).await;
                if token.is_some() && stored.ok().flatten() == token {
                    return;
                }
            }
            Err(SinkError::NotFound(why)) => {
                // The stream (or its group) was deleted meanwhile: make it again, as the
                // options allow, and wait for whoever can fix it otherwise.
                tracing::warn!(stream = %target.stream, %why, "the log stream is gone; creating it again");
                backoff.wait().await;
                let _ =
                    sink::create_stream(sink, &target.group, &target.stream, create_group).await;
            }
            Err(e) => {
                tracing::warn!(stream = %target.stream, error = %e, events = batch.events.len(), "the server refused a batch of events for good; it is dropped");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
