//! CreateLogStream, DeleteLogStream and DescribeLogStreams.

use super::LogsApi;
use super::limits::page_limit;
use super::tokens::{invalid_token, name_token, read_name_token};
use crate::LogsError;
use crate::names::{check_group_name, check_stream_name, resolve_group, stream_arn};
use crate::store::stream::Summary;
use berth_types::logs::*;

impl LogsApi<'_> {
    /// CreateLogStream.
    pub fn create_log_stream(&self, input: CreateLogStreamRequest) -> Result<(), LogsError> {
        check_group_name(&input.log_group_name, "logGroupName")?;
        check_stream_name(&input.log_stream_name, "logStreamName")?;
        self.logs
            .create_stream(&input.log_group_name, &input.log_stream_name)
    }

    /// DeleteLogStream.
    pub fn delete_log_stream(&self, input: DeleteLogStreamRequest) -> Result<(), LogsError> {
        check_group_name(&input.log_group_name, "logGroupName")?;
        check_stream_name(&input.log_stream_name, "logStreamName")?;
        self.logs
            .delete_stream(&input.log_group_name, &input.log_stream_name)
    }

    /// DescribeLogStreams. A stream's `uploadSequenceToken` is the `sequenceToken` of the
    /// last PutLogEvents that carried one (CloudWatch ignores it; Berth's agent keeps its
    /// place in a container's output there, written in the same batch as the events).
    pub fn describe_log_streams(
        &self,
        input: DescribeLogStreamsRequest,
    ) -> Result<DescribeLogStreamsResponse, LogsError> {
        let group = resolve_group(
            &self.context.partition,
            input.log_group_name.as_deref(),
            input.log_group_identifier.as_deref(),
        )?;
        let prefix = input.log_stream_name_prefix.as_deref();
        if let Some(p) = prefix {
            check_stream_name(p, "logStreamNamePrefix")?;
        }
        let by_time = input.order_by == Some(OrderBy::LastEventTime);
        if by_time && prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
            ));
        }
        let descending = input.descending.unwrap_or(false);
        let limit = page_limit(input.limit, 50, 50)?;
        self.logs.group(&group)?;
        let mut names = self.logs.stream_names(&group)?;
        if let Some(p) = prefix {
            names.retain(|n| n.starts_with(p));
        }
        let (page, next_token) = if by_time {
            self.page_by_time(
                &group,
                names,
                descending,
                limit,
                input.next_token.as_deref(),
            )?
        } else {
            let page = page_by_name(names, descending, limit, input.next_token.as_deref())?;
            let mut with_summaries = Vec::with_capacity(page.0.len());
            for name in page.0 {
                if let Some(summary) = self.summary(&group, &name)? {
                    with_summaries.push((name, summary));
                }
            }
            (with_summaries, page.1)
        };
        let partition = &self.context.partition;
        let log_streams = page
            .into_iter()
            .map(|(name, (creation_time, s))| LogStream {
                arn: Some(stream_arn(partition, &group, &name)),
                log_stream_name: Some(name),
                creation_time: Some(creation_time),
                first_event_timestamp: s.first_ts,
                last_event_timestamp: s.last_ts,
                last_ingestion_time: s.last_ingestion,
                upload_sequence_token: s.token,
                stored_bytes: Some(s.stored_bytes as i64),
            })
            .collect();
        Ok(DescribeLogStreamsResponse {
            log_streams: Some(log_streams),
            next_token,
        })
    }

    /// A stream's creation time and summary; `None` if it went since it was listed.
    fn summary(&self, group: &str, stream: &str) -> Result<Option<(i64, Summary)>, LogsError> {
        match self
            .logs
            .with_stream(group, stream, |s| Ok((s.creation_time, s.summary())))
        {
            Ok(s) => Ok(Some(s)),
            Err(LogsError::ResourceNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A page of streams by their last event's time. Every stream's summary is needed to
    /// order them, so the token is an offset into that order.
    #[allow(clippy::type_complexity)]
    fn page_by_time(
        &self,
        group: &str,
        names: Vec<String>,
        descending: bool,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<(String, (i64, Summary))>, Option<String>), LogsError> {
        let skip = match token {
            None => 0,
            Some(t) => t
                .strip_prefix("t/")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(invalid_token)?,
        };
        let mut all = Vec::with_capacity(names.len());
        for name in names {
            if let Some(s) = self.summary(group, &name)? {
                all.push((name, s));
            }
        }
        // Streams without events sort first, as the oldest.
        all.sort_by(|a, b| (a.1.1.last_ts, &a.0).cmp(&(b.1.1.last_ts, &b.0)));
        if descending {
            all.reverse();
        }
        let more = all.len() > skip + limit;
        let page: Vec<_> = all.into_iter().skip(skip).take(limit).collect();
        Ok((page, more.then(|| format!("t/{}", skip + limit))))
    }
}

/// A page of stream names in name order (`names` is sorted), after the token's name.
fn page_by_name(
    mut names: Vec<String>,
    descending: bool,
    limit: usize,
    token: Option<&str>,
) -> Result<(Vec<String>, Option<String>), LogsError> {
    if descending {
        names.reverse();
    }
    if let Some(t) = token {
        let after = read_name_token('n', t)?;
        names.retain(|n| if descending { *n < after } else { *n > after });
    }
    let next = (names.len() > limit).then(|| name_token('n', &names[limit - 1]));
    names.truncate(limit);
    Ok((names, next))
}
