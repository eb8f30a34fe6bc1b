//! The README says what the binary does: its options table lists every option and environment
//! variable of every command's `--help` and none that `--help` lacks, and the banner it shows is
//! the one `berth up` prints (the same lines, values aside).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const README: &str = include_str!("../../../README.md");

/// Environment variables Berth reads itself rather than through an option.
const READ_DIRECTLY: &[&str] = &["BERTH_JOIN_TOKEN"];

/// What every command has and the README says once, below the table.
const EVERYWHERE: &[&str] = &["--help", "--log-format", "BERTH_LOG_FORMAT"];

/// A command's words after `berth` (`["join-token", "rotate"]`).
type Words = Vec<String>;

/// The text of a README section's fenced block or table: the lines after `heading` up to the
/// first line that does not `continues`.
fn section<'r>(heading: &str, continues: impl Fn(&str) -> bool) -> Vec<&'r str> {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has {heading}"));
    README[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !continues(l))
        .take_while(|l| continues(l))
        .collect()
}

/// The commands a table cell names: `berth agent-keys list\|revoke ID` is `agent-keys list`.
fn commands(cell: &str) -> Vec<Words> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|c| {
            c.split_whitespace()
                .skip(1)
                .map(|w| w.split("\\|").next().unwrap_or_default())
                .take_while(|w| w.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'))
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// The `--options` and `BERTH_`/`AWS_` variables a text names.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for token in text.split(|c: char| !word(c)) {
        let option =
            token.starts_with("--") && token[2..].starts_with(|c: char| c.is_ascii_lowercase());
        let variable = token.starts_with("BERTH_") || token.starts_with("AWS_");
        if option || variable {
            out.insert(token.to_string());
        }
    }
    out
}

/// What the options table says of each command.
fn documented() -> BTreeMap<Words, BTreeSet<String>> {
    let mut out: BTreeMap<Words, BTreeSet<String>> = BTreeMap::new();
    let mut current = vec![];
    for row in section("## Options", |l| l.starts_with('|'))
        .into_iter()
        .skip(2)
    {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        if !cells[0].trim().is_empty() {
            current = commands(cells[0]);
        }
        for command in &current {
            out.entry(command.clone())
                .or_default()
                .extend(names(cells.get(1).copied().unwrap_or_default()));
        }
    }
    out
}

fn berth(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .output()
        .expect("berth runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `--help` of the command and of each command it is under offer, as one set.
fn offered(words: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for n in 1..=words.len() {
        let mut args: Vec<&str> = words[..n].iter().map(String::as_str).collect();
        args.push("--help");
        out.extend(names(&berth(&args)));
    }
    out
}

#[test]
fn the_options_table_is_what_help_says() {
    let table = documented();
    let help = berth(&["--help"]);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| !["help", "bench"].contains(c))
        .collect();
    for command in listed {
        assert!(
            table
                .keys()
                .any(|k| k.first().map(String::as_str) == Some(command)),
            "berth {command} is missing from the README's options table"
        );
    }
    for words in table.keys() {
        let said: BTreeSet<String> = (1..=words.len())
            .filter_map(|n| table.get(&words[..n]))
            .flatten()
            .cloned()
            .collect();
        let has = offered(words);
        let command = words.join(" ");
        for name in said.difference(&has) {
            assert!(
                READ_DIRECTLY.contains(&name.as_str()),
                "the README gives berth {command} {name}, which its --help does not have"
            );
        }
        for name in has.difference(&said) {
            assert!(
                EVERYWHERE.contains(&name.as_str()),
                "berth {command} --help has {name}, which the README's options table leaves out"
            );
        }
    }
}

/// A banner line with its values masked: what must read the same in the README and in
/// `berth up`'s output.
fn shape(line: &str) -> String {
    if let Some((name, _)) = line.strip_prefix("export ").and_then(|r| r.split_once('=')) {
        return format!("export {name}=…");
    }
    let mut out = vec![];
    let mut words = line.split(' ').peekable();
    while let Some(word) = words.next() {
        let value = word.contains("://")
            || word.trim_start_matches('(').starts_with('/')
            || word.starts_with("arn:")
            || word
                .rsplit(':')
                .next()
                .is_some_and(|p| p.trim_end_matches(',').parse::<u16>().is_ok());
        out.push(if value {
            "…".to_string()
        } else {
            word.to_string()
        });
        // The cluster is the README's `default`, and a test's own here.
        if (word == "cluster" || word == "--cluster") && words.peek().is_some() {
            words.next();
            out.push("…".into());
        }
    }
    out.join(" ")
}

#[test]
fn the_banner_is_the_one_berth_up_prints() {
    let quickstart = README
        .split("## Quickstart with the AWS CLI")
        .nth(1)
        .expect("README has a quickstart");
    let block = quickstart.split("```text\n").nth(1).expect("a banner");
    let banner = block.split("```").next().unwrap_or_default();
    let expected: Vec<String> = banner.lines().map(shape).collect();
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = format!("readme-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--cluster",
            &cluster,
            "--data-dir",
        ])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("berth up starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = vec![];
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        let done = line.starts_with("# Try:");
        printed.push(shape(&line));
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        expected, printed,
        "the README's banner is not what berth up prints"
    );
}
