//! What the logs tests share: a clock held by hand, a store in a temporary directory, and
//! short ways to make requests.
#![allow(dead_code)]

use berth_logs::{Clock, Context, Logs, LogsApi, Options};
use berth_types::arn::Partition;
use berth_types::logs::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// 2023-11-14T22:13:20Z.
pub const NOW: i64 = 1_700_000_000_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

/// A clock that moves only when told.
#[derive(Debug)]
pub struct HandClock(AtomicI64);

impl HandClock {
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
    pub fn advance(&self, by: i64) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for HandClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A store in a temporary directory, reopenable.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: Arc<HandClock>,
    pub logs: Logs,
    pub context: Context,
    pub options: Options,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_options(Options::default())
    }

    pub fn with_options(options: Options) -> Self {
        Self::in_dir(tempfile::tempdir().expect("tempdir"), options)
    }

    /// A store in memory (`/dev/shm`) where there is one: for tests of counts rather than of
    /// the disk, where thousands of fsyncs at a few milliseconds each would take minutes.
    pub fn in_memory(options: Options) -> Self {
        let dir = tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("tempdir");
        Self::in_dir(dir, options)
    }

    fn in_dir(dir: tempfile::TempDir, options: Options) -> Self {
        let clock = Arc::new(HandClock(AtomicI64::new(NOW)));
        let logs = Logs::open_with(dir.path(), clock.clone(), options.clone()).expect("open");
        Self {
            dir,
            clock,
            logs,
            context: context(),
            options,
        }
    }

    pub fn api(&self) -> LogsApi<'_> {
        self.logs.api(&self.context)
    }

    /// Drops the store and opens it again from its files, as after a restart.
    pub fn reopen(&mut self) {
        let logs = Logs::open_with(self.dir.path(), self.clock.clone(), self.options.clone())
            .expect("reopen");
        self.logs = logs;
    }

    pub fn group(&self, name: &str) {
        self.api()
            .create_log_group(CreateLogGroupRequest {
                log_group_name: name.into(),
                ..Default::default()
            })
            .expect("create group");
    }

    pub fn stream(&self, group: &str, name: &str) {
        self.api()
            .create_log_stream(CreateLogStreamRequest {
                log_group_name: group.into(),
                log_stream_name: name.into(),
            })
            .expect("create stream");
    }

    pub fn put(
        &self,
        group: &str,
        stream: &str,
        events: &[(i64, &str)],
        token: Option<&str>,
    ) -> PutLogEventsResponse {
        self.try_put(group, stream, events, token).expect("put")
    }

    pub fn try_put(
        &self,
        group: &str,
        stream: &str,
        events: &[(i64, &str)],
        token: Option<&str>,
    ) -> Result<PutLogEventsResponse, berth_logs::LogsError> {
        self.api().put_log_events(PutLogEventsRequest {
            log_group_name: group.into(),
            log_stream_name: stream.into(),
            log_events: events
                .iter()
                .map(|(t, m)| InputLogEvent {
                    timestamp: *t,
                    message: m.to_string(),
                })
                .collect(),
            sequence_token: token.map(str::to_string),
            entity: None,
        })
    }

    pub fn get(&self, request: GetLogEventsRequest) -> GetLogEventsResponse {
        self.api().get_log_events(request).expect("get")
    }

    pub fn describe_streams(&self, group: &str) -> Vec<LogStream> {
        self.api()
            .describe_log_streams(DescribeLogStreamsRequest {
                log_group_name: Some(group.into()),
                ..Default::default()
            })
            .expect("describe streams")
            .log_streams
            .unwrap_or_default()
    }
}

pub fn context() -> Context {
    Context {
        partition: Partition {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        },
    }
}

pub fn get_request(group: &str, stream: &str) -> GetLogEventsRequest {
    GetLogEventsRequest {
        log_group_name: Some(group.into()),
        log_stream_name: stream.into(),
        ..Default::default()
    }
}

pub fn messages(events: &Option<Vec<OutputLogEvent>>) -> Vec<String> {
    events
        .iter()
        .flatten()
        .map(|e| e.message.clone().unwrap_or_default())
        .collect()
}
