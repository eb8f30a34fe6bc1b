//! Every member of a task definition, as a user writes it, has a row in
//! `docs/task-definition-fields.md` saying how Berth handles it, and no row says it is ignored:
//! a field added to the ECS model later fails this test until someone decides what Berth does
//! with it.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const ROOT: &str = "RegisterTaskDefinitionRequest";
const STATUSES: [&str; 3] = ["applied", "refused", "recorded"];

fn read(relative: &str) -> String {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The structures reachable from [`ROOT`], with their members' names.
fn model_shapes() -> BTreeMap<String, Vec<String>> {
    let model: Value =
        serde_json::from_str(&read("spec/ecs-service-2.json")).expect("the model is JSON");
    let shapes = &model["shapes"];
    let mut found = BTreeMap::new();
    let mut pending = vec![ROOT.to_string()];
    while let Some(name) = pending.pop() {
        if found.contains_key(&name) {
            continue;
        }
        let shape = &shapes[&name];
        // Lists and maps lead to the shapes they hold; scalars end the walk.
        let targets = match shape["type"].as_str() {
            Some("structure") => {
                let members = shape["members"].as_object().expect("members");
                found.insert(name, members.keys().cloned().collect());
                members.values().collect()
            }
            Some("list") => vec![&shape["member"]],
            Some("map") => vec![&shape["key"], &shape["value"]],
            _ => vec![],
        };
        pending.extend(
            targets
                .into_iter()
                .filter_map(|t| t["shape"].as_str().map(String::from)),
        );
    }
    found
}

/// The doc's rows: shape (a `## Shape` heading) to member (`` | `member` | status | ... ``) to
/// status.
fn doc_rows() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut rows: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut shape = None;
    for line in read("../../docs/task-definition-fields.md").lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            shape = Some(heading.trim().to_string());
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(shape), [_, member, status, ..]) = (&shape, cells.as_slice()) else {
            continue;
        };
        if let Some(member) = member.strip_prefix('`').and_then(|m| m.strip_suffix('`')) {
            rows.entry(shape.clone())
                .or_default()
                .insert(member.to_string(), status.to_string());
        }
    }
    rows
}

#[test]
fn every_task_definition_field_is_applied_or_refused() {
    let rows = doc_rows();
    let mut problems = vec![];
    let shapes = model_shapes();
    for (shape, members) in &shapes {
        let documented = rows.get(shape);
        for member in members {
            match documented.and_then(|d| d.get(member)) {
                None => problems.push(format!(
                    "{shape}.{member}: no row under `## {shape}` in docs/task-definition-fields.md"
                )),
                Some(status) if !STATUSES.contains(&status.as_str()) => problems.push(format!(
                    "{shape}.{member}: status `{status}`; it must be applied, refused or recorded"
                )),
                Some(_) => {}
            }
        }
        // A row for a member the model no longer has is stale.
        let members: BTreeSet<&String> = members.iter().collect();
        for stale in documented.into_iter().flat_map(|d| d.keys()) {
            if !members.contains(stale) {
                problems.push(format!("{shape}.{stale}: documented, but not in the model"));
            }
        }
    }
    for shape in rows.keys().filter(|s| !shapes.contains_key(*s)) {
        problems.push(format!("`## {shape}` is not a shape of {ROOT}"));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
