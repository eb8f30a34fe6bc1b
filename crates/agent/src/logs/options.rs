//! The `awslogs` options of a container definition, checked as Docker checks them: the options
//! Docker's awslogs driver knows are accepted, any other stops the task with Docker's own
//! words (`unknown log opt '<k>' for awslogs log driver`).
//!
//! Berth ships the container's output itself (`super::shipper`), to the one region its server
//! is: `awslogs-region` is accepted whatever it says (a task definition written for AWS keeps
//! working), and the calls are signed with the agent's own key and region. What Berth cannot
//! honour stops the task with a reason naming it: `awslogs-endpoint` and
//! `awslogs-credentials-endpoint` (the output goes to Berth's own Logs API, with the agent's
//! credentials), `awslogs-format` `json/emf` (Berth has no metrics to extract), and `tag`
//! markup beyond the fields Berth fills in.

use berth_types::ecs::{LogConfiguration, LogDriver};
use regex::Regex;
use std::collections::BTreeMap;
use std::time::Duration;

/// How much output waits for the server in `non-blocking` mode unless `max-buffer-size` says.
const DEFAULT_MAX_BUFFER: usize = 10 * 1024 * 1024;
/// Docker's default `awslogs-force-flush-interval-seconds`.
const DEFAULT_FORCE_FLUSH: Duration = Duration::from_secs(5);

/// What happens when the server cannot keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reading the container's output waits (nothing is lost; the engine's json-file keeps it).
    Blocking,
    /// The oldest output beyond the buffer is dropped, and counted.
    NonBlocking,
}

/// A container's `awslogs` options, checked.
#[derive(Debug, Clone)]
pub struct AwsLogsOptions {
    /// `awslogs-group`.
    pub group: String,
    /// `awslogs-stream-prefix`.
    pub stream_prefix: Option<String>,
    /// `awslogs-stream`: the stream's whole name (ECS's control plane writes it from the
    /// prefix; given outright it wins).
    pub stream: Option<String>,
    /// `awslogs-create-group`.
    pub create_group: bool,
    /// `awslogs-create-stream` (Docker's, default true).
    pub create_stream: bool,
    /// The start of an event, from `awslogs-datetime-format` or `awslogs-multiline-pattern`:
    /// lines that do not match it join the event before them.
    pub event_start: Option<Regex>,
    /// `mode`.
    pub mode: Mode,
    /// `max-buffer-size` in bytes (non-blocking mode only).
    pub max_buffer: usize,
    /// `awslogs-force-flush-interval-seconds`: how long a multiline event waits for more.
    pub force_flush: Duration,
    /// `tag`: the stream's name as a template of the container's fields, when neither
    /// `awslogs-stream` nor `awslogs-stream-prefix` names it.
    pub tag: Option<String>,
}

/// The container's fields a `tag` template may name, as Docker's log tags do.
#[derive(Debug, Clone, Copy)]
pub struct TagFields<'a> {
    /// The engine's container id (`{{.FullID}}`; `{{.ID}}` is its first 12 characters).
    pub id: &'a str,
    /// The engine's container name (`{{.Name}}`).
    pub name: &'a str,
    /// The image as the container definition names it (`{{.ImageName}}`).
    pub image: &'a str,
}

/// The options of `config` when its driver is awslogs; `Ok(None)` for other drivers.
pub fn of(config: &LogConfiguration) -> Result<Option<AwsLogsOptions>, String> {
    if config.log_driver != LogDriver::Awslogs {
        return Ok(None);
    }
    let empty = BTreeMap::new();
    AwsLogsOptions::parse(config.options.as_ref().unwrap_or(&empty)).map(Some)
}

impl AwsLogsOptions {
    /// Checks `options` as Docker's awslogs driver does.
    pub fn parse(options: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut parsed = AwsLogsOptions {
            group: String::new(),
            stream_prefix: None,
            stream: None,
            create_group: false,
            create_stream: true,
            event_start: None,
            mode: Mode::Blocking,
            max_buffer: DEFAULT_MAX_BUFFER,
            force_flush: DEFAULT_FORCE_FLUSH,
            tag: None,
        };
        let mut buffer_given = false;
        for (key, value) in options {
            match key.as_str() {
                "awslogs-group" => parsed.group = value.clone(),
                "awslogs-stream-prefix" => parsed.stream_prefix = Some(value.clone()),
                "awslogs-stream" => parsed.stream = Some(value.clone()),
                "awslogs-create-group" => parsed.create_group = parse_bool(key, value)?,
                "awslogs-create-stream" => parsed.create_stream = parse_bool(key, value)?,
                "mode" => {
                    parsed.mode = match value.as_str() {
                        "blocking" => Mode::Blocking,
                        "non-blocking" => Mode::NonBlocking,
                        _ => {
                            return Err(format!("logger: logger log mode not recognized: {value}"));
                        }
                    }
                }
                "max-buffer-size" => {
                    parsed.max_buffer = parse_size(value)
                        .ok_or_else(|| format!("could not parse buffer size {value:?}"))?;
                    buffer_given = true;
                }
                "awslogs-force-flush-interval-seconds" => {
                    parsed.force_flush = Duration::from_secs(positive(key, value)?);
                }
                "awslogs-max-buffered-events" => {
                    positive(key, value)?;
                }
                "awslogs-format" if value == "json/emf" => {
                    return Err("log opt 'awslogs-format' 'json/emf' is not supported: Berth's Logs API extracts no embedded metrics; remove the option".into());
                }
                "awslogs-format" => {
                    return Err(format!("unsupported log format '{value}' for awslogs"));
                }
                // Read together below: they exclude each other.
                "awslogs-datetime-format" | "awslogs-multiline-pattern" => {}
                // A Berth server is one region: the output goes there whatever this says.
                "awslogs-region" => {}
                "awslogs-endpoint" | "awslogs-credentials-endpoint" => {
                    return Err(format!(
                        "log opt '{key}' is not supported: Berth ships awslogs output to its own Logs API with the agent's credentials; remove the option"
                    ));
                }
                "tag" => {
                    check_tag(value)?;
                    parsed.tag = Some(value.clone());
                }
                _ => return Err(format!("unknown log opt '{key}' for awslogs log driver")),
            }
        }
        if parsed.group.is_empty() {
            return Err("must specify a value for log opt 'awslogs-group'".into());
        }
        if buffer_given && parsed.mode == Mode::Blocking {
            return Err(
                "logger: max-buffer-size option is only supported with 'mode=non-blocking'".into(),
            );
        }
        let datetime = options.get("awslogs-datetime-format");
        let multiline = options.get("awslogs-multiline-pattern");
        parsed.event_start = match (datetime, multiline) {
            (Some(_), Some(_)) => {
                return Err("you cannot configure log opt 'awslogs-datetime-format' and 'awslogs-multiline-pattern' at the same time".into());
            }
            (Some(format), None) => Some(anchored(
                &strftime_to_regex(format),
                "awslogs-datetime-format",
            )?),
            (None, Some(pattern)) => Some(anchored(pattern, "awslogs-multiline-pattern")?),
            (None, None) => None,
        };
        Ok(parsed)
    }

    /// The stream's name: `awslogs-stream` if given, else `<prefix>/<container>/<task id>`
    /// (the task id is the last part of the task ARN), else `tag` filled in, else the
    /// engine's container id.
    pub fn stream_name(&self, container: &str, task_arn: &str, engine: TagFields) -> String {
        if let Some(stream) = &self.stream {
            return stream.clone();
        }
        match (&self.stream_prefix, &self.tag) {
            (Some(prefix), _) if !prefix.is_empty() => {
                let task_id = task_arn.rsplit('/').next().unwrap_or(task_arn);
                format!("{prefix}/{container}/{task_id}")
            }
            (_, Some(tag)) => render_tag(tag, engine),
            _ => engine.id.to_string(),
        }
    }

    /// Whether the stream's name needs the engine's container (so the stream can only be
    /// created once the container is).
    pub fn needs_container_id(&self) -> bool {
        self.stream.is_none() && self.stream_prefix.as_deref().unwrap_or_default().is_empty()
    }

    /// Whether the stream's name has the engine's container name in it (`tag` with
    /// `{{.Name}}`), which only the agent knows.
    pub fn needs_engine_name(&self) -> bool {
        self.needs_container_id()
            && self
                .tag
                .as_deref()
                .is_some_and(|t| tag_pieces(t).any(|p| p == Err(".Name")))
    }
}

/// The `tag` fields Berth fills in.
const TAG_FIELDS: [&str; 5] = [".ID", ".FullID", ".Name", ".ImageName", ".DaemonName"];

/// The pieces of a `tag` template: literal text and `{{ field }}` markup.
fn tag_pieces(template: &str) -> impl Iterator<Item = Result<&str, &str>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(open) = rest.find("{{") else {
            return Some(Ok(std::mem::take(&mut rest)));
        };
        if open > 0 {
            let (text, after) = rest.split_at(open);
            rest = after;
            return Some(Ok(text));
        }
        let Some(close) = rest.find("}}") else {
            return Some(Err(std::mem::take(&mut rest)));
        };
        let field = rest[2..close].trim();
        rest = &rest[close + 2..];
        Some(Err(field))
    })
}

/// A `tag` Berth can fill in: Docker's log tag markup, limited to [`TAG_FIELDS`].
fn check_tag(template: &str) -> Result<(), String> {
    for piece in tag_pieces(template) {
        if let Err(field) = piece
            && !TAG_FIELDS.contains(&field)
        {
            return Err(format!(
                "log opt 'tag' markup {{{{{field}}}}} is not supported: Berth fills in {{{{.ID}}}}, {{{{.FullID}}}}, {{{{.Name}}}}, {{{{.ImageName}}}} and {{{{.DaemonName}}}}; use one of those, or awslogs-stream-prefix"
            ));
        }
    }
    Ok(())
}

/// A checked `tag` filled in with `engine`'s fields.
fn render_tag(template: &str, engine: TagFields) -> String {
    tag_pieces(template)
        .map(|piece| match piece {
            Ok(text) => text,
            Err(".ID") => engine.id.get(..12).unwrap_or(engine.id),
            Err(".FullID") => engine.id,
            Err(".Name") => engine.name.trim_start_matches('/'),
            Err(".ImageName") => engine.image,
            Err(_) => "docker",
        })
        .collect()
}

fn anchored(pattern: &str, key: &str) -> Result<Regex, String> {
    Regex::new(&format!("^{pattern}"))
        .map_err(|e| format!("invalid value for log opt '{key}': {e}"))
}

/// Go's `strconv.ParseBool`, as Docker reads `awslogs-create-group`.
fn parse_bool(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "invalid value for log opt '{key}': {value:?} is not a boolean"
        )),
    }
}

fn positive(key: &str, value: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("invalid value for {key}: {value}")),
    }
}

/// Docker's sizes (`25m`, `512k`, `1g`, `100`, `10MB`): binary units, case-insensitive.
pub fn parse_size(value: &str) -> Option<usize> {
    let lower = value.trim().to_ascii_lowercase();
    let unitless = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (digits, factor) = match unitless.chars().last()? {
        'k' => (&unitless[..unitless.len() - 1], 1usize << 10),
        'm' => (&unitless[..unitless.len() - 1], 1 << 20),
        'g' => (&unitless[..unitless.len() - 1], 1 << 30),
        _ => (unitless, 1),
    };
    let number: f64 = digits.trim().parse().ok()?;
    if !number.is_finite() || number <= 0.0 {
        return None;
    }
    Some((number * factor as f64) as usize)
}

/// Docker's translation of `awslogs-datetime-format` (strftime) into a regular expression;
/// other characters are taken literally.
fn strftime_to_regex(format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            continue;
        }
        let Some(directive) = chars.next() else {
            out.push('%');
            break;
        };
        out.push_str(match directive {
            'a' => "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)",
            'A' => "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)",
            'w' => "[0-6]",
            'd' => "(?:0[1-9]|[1,2][0-9]|3[0,1])",
            'b' => "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)",
            'B' => "(?:January|February|March|April|May|June|July|August|September|October|November|December)",
            'm' => "(?:0[1-9]|1[0-2])",
            'Y' => r"\d{4}",
            'y' => r"\d{2}",
            'H' => "(?:[0,1][0-9]|2[0-3])",
            'I' => "(?:0[0-9]|1[0-2])",
            'p' => "[A,P]M",
            'M' | 'S' => "[0-5][0-9]",
            'f' => r"\d{6}",
            'z' => r"[+-]\d{4}",
            'Z' => "[A-Z]{1,4}T",
            'j' => "(?:0[0-9][1-9]|[1,2][0-9][0-9]|3[0-5][0-9]|36[0-6])",
            'L' => r"\.\d{3}",
            '%' => "%",
            other => {
                out.push('%');
                out.push_str(&regex::escape(other.encode_utf8(&mut [0; 4])));
                continue;
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGINE: TagFields = TagFields {
        id: "c0ffee000000aaaabbbbccccddddeeeeffff00001111222233334444555566667777",
        name: "/ecs-web-1-app-9f2c",
        image: "busybox",
    };

    fn parse(pairs: &[(&str, &str)]) -> Result<AwsLogsOptions, String> {
        let options = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AwsLogsOptions::parse(&options)
    }

    #[test]
    fn ecs_options_are_read() {
        let o = parse(&[
            ("awslogs-group", "/ecs/web"),
            ("awslogs-region", "eu-west-3"),
            ("awslogs-stream-prefix", "ecs"),
            ("awslogs-create-group", "True"),
            ("mode", "non-blocking"),
            ("max-buffer-size", "25m"),
        ])
        .expect("valid");
        assert_eq!(o.group, "/ecs/web");
        assert!(o.create_group);
        assert_eq!(o.mode, Mode::NonBlocking);
        assert_eq!(o.max_buffer, 25 << 20);
        let arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0123abcd";
        assert_eq!(o.stream_name("web", arn, ENGINE), "ecs/web/0123abcd");
        assert!(!o.needs_container_id());
    }

    #[test]
    fn defaults_and_stream_without_prefix() {
        let o = parse(&[("awslogs-group", "g")]).expect("valid");
        assert_eq!((o.create_group, o.mode), (false, Mode::Blocking));
        assert_eq!(o.max_buffer, DEFAULT_MAX_BUFFER);
        assert_eq!(o.stream_name("web", "arn:x:task/c/t", ENGINE), ENGINE.id);
        assert!(!o.needs_engine_name());
        assert!(o.needs_container_id());
        let named = parse(&[("awslogs-group", "g"), ("awslogs-stream", "s/1")]).expect("valid");
        assert_eq!(named.stream_name("web", "arn:x:task/c/t", ENGINE), "s/1");
    }

    #[test]
    fn tag_names_the_stream_from_the_containers_fields() {
        let o = parse(&[
            ("awslogs-group", "g"),
            ("tag", "{{ .Name }}/{{.ID}}-{{.ImageName}}.{{.DaemonName}}"),
        ])
        .expect("valid");
        assert_eq!(
            o.stream_name("web", "arn:x:task/c/t", ENGINE),
            "ecs-web-1-app-9f2c/c0ffee000000-busybox.docker"
        );
        assert!(o.needs_engine_name());
        let full = parse(&[("awslogs-group", "g"), ("tag", "x{{.FullID}}")]).expect("valid");
        assert_eq!(
            full.stream_name("web", "arn:x:task/c/t", ENGINE),
            format!("x{}", ENGINE.id)
        );
        let prefixed = parse(&[
            ("awslogs-group", "g"),
            ("awslogs-stream-prefix", "p"),
            ("tag", "{{.ID}}"),
        ])
        .expect("valid");
        assert_eq!(
            prefixed.stream_name("web", "arn:x:task/c/t", ENGINE),
            "p/web/t"
        );
        let go = parse(&[
            ("awslogs-group", "g"),
            (
                "tag",
                "{{ with split .ImageName \":\" }}{{join . \"_\"}}{{end}}",
            ),
        ]);
        assert!(
            go.err()
                .is_some_and(|e| e.contains("{{with split .ImageName")),
            "other markup is refused, named"
        );
    }

    #[test]
    fn bad_options_are_refused_with_dockers_words() {
        let unknown = parse(&[("awslogs-group", "g"), ("awslogs-colour", "red")]);
        assert_eq!(
            unknown.err().as_deref(),
            Some("unknown log opt 'awslogs-colour' for awslogs log driver")
        );
        assert!(
            parse(&[("awslogs-region", "us-east-1")]).is_err(),
            "group is required"
        );
        assert!(parse(&[("awslogs-group", "g"), ("awslogs-create-group", "yes")]).is_err());
        assert!(parse(&[("awslogs-group", "g"), ("mode", "fast")]).is_err());
        assert!(parse(&[("awslogs-group", "g"), ("max-buffer-size", "1m")]).is_err());
        assert!(
            parse(&[
                ("awslogs-group", "g"),
                ("awslogs-datetime-format", "%Y"),
                ("awslogs-multiline-pattern", "^x"),
            ])
            .is_err()
        );
        assert!(parse(&[("awslogs-group", "g"), ("awslogs-multiline-pattern", "(")]).is_err());
        let accepted = parse(&[
            ("awslogs-group", "g"),
            ("awslogs-region", "ap-south-2"),
            ("awslogs-force-flush-interval-seconds", "2"),
            ("awslogs-max-buffered-events", "100"),
        ])
        .expect("docker's options are accepted");
        assert_eq!(accepted.force_flush, Duration::from_secs(2));
        for (key, value) in [
            ("awslogs-endpoint", "https://logs.example"),
            ("awslogs-credentials-endpoint", "/v2/credentials/x"),
            ("awslogs-format", "json/emf"),
        ] {
            let refused = parse(&[("awslogs-group", "g"), (key, value)]);
            assert!(
                refused
                    .err()
                    .is_some_and(|e| e.contains(key) && e.contains("not supported")),
                "{key} is refused, named"
            );
        }
    }

    #[test]
    fn sizes_and_datetime_formats() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("512K"), Some(512 << 10));
        assert_eq!(parse_size("2MB"), Some(2 << 20));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("-1m"), None);
        assert_eq!(parse_size("lots"), None);
        let o = parse(&[
            ("awslogs-group", "g"),
            ("awslogs-datetime-format", "[%b %d, %Y %H:%M:%S]"),
        ])
        .expect("valid");
        let start = o.event_start.expect("a pattern");
        assert!(start.is_match("[May 01, 2017 19:00:01] A message was logged"));
        assert!(!start.is_match("  at com.example.Main"));
    }
}
