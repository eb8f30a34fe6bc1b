//! The crate graph follows DESIGN.md: nothing imports upward, the scheduler never sees the store,
//! and the agent talks to the control plane only over the network.

use std::collections::BTreeMap;
use std::path::Path;

/// Each crate and the Berth crates it may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("codegen", &[]),
    ("store", &["types"]),
    ("scheduler", &["types"]),
    ("control", &["types", "store", "scheduler"]),
    ("registry", &["types"]),
    ("api", &["types", "store", "control", "registry"]),
    ("agent", &["types"]),
    (
        "berth",
        &[
            "types",
            "store",
            "scheduler",
            "control",
            "api",
            "registry",
            "agent",
        ],
    ),
];

fn berth_dependencies(manifest: &str) -> Vec<String> {
    let mut deps = vec![];
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            // Dev-dependencies may reach wherever a test needs; only real dependencies count.
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some(name) = line.strip_prefix("berth-") {
            let name = name.split(['.', ' ', '=']).next().unwrap_or_default();
            deps.push(name.to_string());
        }
    }
    deps
}

#[test]
fn crates_only_import_downward() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut seen = 0;
    for entry in std::fs::read_dir(&crates).expect("crates directory") {
        let dir = entry.expect("entry").path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let permitted = allowed
            .get(name)
            .unwrap_or_else(|| panic!("crate {name} is not in the layering table: add it"));
        for dep in berth_dependencies(&manifest) {
            assert!(
                permitted.contains(&dep.as_str()),
                "crate {name} depends on berth-{dep}, which DESIGN.md does not allow"
            );
        }
        seen += 1;
    }
    assert!(seen >= 7, "found only {seen} crates");
}
