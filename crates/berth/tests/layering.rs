//! The layering rules of `docs/architecture.md` ("Crates and who may import whom"), checked:
//! - crates: nothing imports upward, the scheduler never sees the store, and the agent talks
//!   to the control plane only over the network ([`ALLOWED`], read from each `Cargo.toml`);
//! - modules: no import cycle between the modules of one crate, except those listed in
//!   [`KNOWN_CYCLES`] (none today; the list may only shrink).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each crate and the Berth crates it may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("files", &[]),
    ("codegen", &[]),
    ("store", &["types"]),
    ("scheduler", &["types"]),
    ("control", &["types", "store", "scheduler"]),
    ("registry", &["types", "files"]),
    ("logs", &["types", "files"]),
    ("api", &["types", "store", "control", "registry", "logs"]),
    ("agent", &["types", "files"]),
    // Tests only: every crate may list it under [dev-dependencies], none under [dependencies]
    // (no entry here names it).
    ("test-kit", &["types", "store", "control", "agent"]),
    (
        "berth",
        &[
            "types",
            "files",
            "store",
            "scheduler",
            "control",
            "api",
            "registry",
            "logs",
            "agent",
        ],
    ),
];

/// The import cycles between modules that are tolerated because they exist today: a crate and
/// the modules of one cycle (a strongly connected component of its module graph). This list
/// may only shrink (see "Module cycles" in docs/architecture.md): a new cycle fails the test,
/// and so does an entry whose cycle is gone, so that the list stays true. When you break a
/// cycle, remove its entry. It is empty now: every cycle known when the check was written
/// (api: wire and the service tables; control: instances/state/views, lifecycle/tasks,
/// service_history/services; berth: the two placement benches) has been broken.
const KNOWN_CYCLES: &[(&str, &[&str])] = &[];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The crate directories under `crates/`, by name.
fn crates() -> Vec<(String, PathBuf)> {
    let mut found = vec![];
    for entry in std::fs::read_dir(crates_dir()).expect("crates directory") {
        let dir = entry.expect("entry").path();
        if dir.join("Cargo.toml").is_file() {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            found.push((name.to_string(), dir));
        }
    }
    found.sort();
    found
}

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
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut seen = 0;
    for (name, dir) in crates() {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        let permitted = allowed
            .get(name.as_str())
            .unwrap_or_else(|| panic!("crate {name} is not in the layering table: add it"));
        for dep in berth_dependencies(&manifest) {
            assert!(
                permitted.contains(&dep.as_str()),
                "crate {name} depends on berth-{dep}, which docs/architecture.md does not allow"
            );
        }
        seen += 1;
    }
    assert!(seen >= 7, "found only {seen} crates");
}

// ---- Module cycles ----
//
// A module is a file under `src/` (`a/b.rs` is `a::b`, `a/mod.rs` is `a`); the crate root
// (`lib.rs`, `main.rs`) is none, since it declares every module and re-exports some. Module A
// imports module B when A's code (its `use` declarations and its expressions alike, tests
// included) names a path that starts with `crate::`, `super::` or `self::` and leads into B.
// A parent's plain `child::item` is not an import: the parent declares the child.

/// A token of Rust source, as far as paths go.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// The tokens of `source` with their line numbers; comments, string and character literals are
/// dropped, so neither doc links nor text that looks like a path count.
fn tokens(source: &str) -> Vec<(Token, usize)> {
    let c: Vec<char> = source.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let is_ident = |ch: char| ch == '_' || ch.is_alphanumeric();
    let (mut out, mut i, mut line) = (vec![], 0, 1);
    // Skips a quoted literal whose opening quote is at `i`; returns the index after it.
    let skip_quoted = |mut i: usize, quote: char, line: &mut usize| {
        i += 1;
        while i < c.len() && c[i] != quote {
            if c[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            // Block comments nest.
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                } else if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_quoted(i, '"', &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' || (at(i + 2) == '\'' && at(i + 1) != '\'') {
                i = skip_quoted(i, '\'', &mut line);
            } else {
                // A lifetime or a label: its name follows as an identifier.
                i += 1;
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
        } else if is_ident(ch) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let raw = (word == "r" || word == "br") && (at(i) == '"' || at(i) == '#');
            if raw && at(i) == '#' && is_ident(at(i + 1)) {
                // A raw identifier, `r#type`.
                let start = i + 1;
                i = start;
                while i < c.len() && is_ident(c[i]) {
                    i += 1;
                }
                out.push((Token::Ident(c[start..i].iter().collect()), line));
            } else if raw {
                let hashes = c[i..].iter().take_while(|&&h| h == '#').count();
                i += hashes + 1;
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '"' && c[i + 1..].iter().take_while(|&&h| h == '#').count() >= hashes
                    {
                        i += hashes + 1;
                        break;
                    }
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            } else if word == "b" && (at(i) == '"' || at(i) == '\'') {
                i = skip_quoted(i, at(i), &mut line);
            } else {
                out.push((Token::Ident(word), line));
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((Token::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// Reads the use tree or path that starts at `i` (its first segment) into `out`, one entry per
/// leaf with the segments that lead to it; returns the index after it.
fn use_tree(
    t: &[(Token, usize)],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match t.get(i).map(|(token, _)| token) {
            Some(Token::Ident(segment)) => {
                prefix.push(segment.clone());
                i += 1;
                if t.get(i).map(|(token, _)| token) == Some(&Token::PathSep) {
                    i += 1;
                    continue;
                }
                out.push(prefix);
                return i;
            }
            Some(Token::Punct('{')) => {
                i += 1;
                loop {
                    match t.get(i).map(|(token, _)| token) {
                        None => return i,
                        Some(Token::Punct('}')) => return i + 1,
                        Some(Token::Punct(',')) => i += 1,
                        Some(Token::Ident(_) | Token::Punct('{' | '*')) => {
                            i = use_tree(t, i, prefix.clone(), out);
                            // `as name` after a leaf.
                            while !matches!(
                                t.get(i).map(|(token, _)| token),
                                None | Some(Token::Punct(',' | '}'))
                            ) {
                                i += 1;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            // A glob, a generic argument list (`crate::a::f::<T>`), or the end.
            _ => {
                out.push(prefix);
                return i;
            }
        }
    }
}

/// Every path in `source` that starts with `crate::`, `super::` or `self::`, resolved against
/// `module` (the file's module path; inline `mod name { ... }` blocks are followed, and
/// `mod tests` blocks left out), with its line. The result is the absolute path of what is named, from the crate root.
fn crate_paths(source: &str, module: &[String]) -> Vec<(Vec<String>, usize)> {
    let t = tokens(source);
    let token = |i: usize| t.get(i).map(|(token, _)| token);
    let ident = |i: usize| match token(i) {
        Some(Token::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut found = vec![];
    // Inline modules open at the brace depth recorded beside them.
    let mut inline: Vec<(String, usize)> = vec![];
    let mut depth = 0;
    let mut i = 0;
    while i < t.len() {
        match &t[i].0 {
            Token::Punct('{') => {
                if i >= 2 && ident(i - 2) == Some("mod") {
                    inline.push((ident(i - 1).unwrap_or_default().to_string(), depth));
                }
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                i += 1;
            }
            Token::Ident(first)
                if matches!(first.as_str(), "crate" | "super" | "self")
                    && token(i + 1) == Some(&Token::PathSep)
                    && token(i.wrapping_sub(1)) != Some(&Token::PathSep)
                    && token(i.wrapping_sub(1)) != Some(&Token::Punct('$')) =>
            {
                let line = t[i].1;
                let mut leaves = vec![];
                i = use_tree(&t, i, vec![], &mut leaves);
                // A module's unit tests (`mod tests`) may use a test kit that uses the module
                // they test: that is no loop of the code itself.
                if inline.iter().any(|(name, _)| name == "tests") {
                    continue;
                }
                let here: Vec<String> = module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(name, _)| name.clone()))
                    .collect();
                for leaf in leaves {
                    if let Some(path) = absolute(&here, &leaf) {
                        found.push((path, line));
                    }
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// `path` (starting with `crate`, `super` or `self`) as seen from module `here`, from the
/// crate root; `self` segments of use groups (`a::{self, B}`) are dropped.
fn absolute(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let rest: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => path[1..].to_vec(),
        Some("self") => here.iter().chain(&path[1..]).cloned().collect(),
        Some("super") => {
            let up = path.iter().take_while(|s| *s == "super").count();
            let base = here.get(..here.len().checked_sub(up)?)?;
            base.iter().chain(&path[up..]).cloned().collect()
        }
        _ => return None,
    };
    Some(rest.into_iter().filter(|s| s != "self").collect())
}

/// The modules of a crate (by path, `a::b`) and their files.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("source directory")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if path.is_dir() {
                let inner: Vec<String> = prefix.iter().cloned().chain([name]).collect();
                walk(&path, &inner, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module: Vec<String> = match name.as_str() {
                    "mod" => prefix.to_vec(),
                    "lib" | "main" if prefix.is_empty() => vec![],
                    _ => prefix.iter().cloned().chain([name]).collect(),
                };
                if !module.is_empty() {
                    out.insert(module.join("::"), path);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out);
    out
}

/// Each module's imports: the module imported and the first place it is named (file:line and
/// the path named, from the crate root).
type Edges = BTreeMap<String, BTreeMap<String, String>>;

/// The module graph of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Edges {
    let modules = modules(src);
    let mut edges: Edges = modules
        .keys()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for (module, file) in &modules {
        let source = std::fs::read_to_string(file).expect("source file");
        let here: Vec<String> = module.split("::").map(str::to_string).collect();
        for (path, line) in crate_paths(&source, &here) {
            // The longest prefix of the path that is a module; the crate root is none.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| modules.contains_key(m));
            if let Some(target) = target.filter(|t| t != module) {
                let relative = file.strip_prefix(crates_dir()).unwrap_or(file);
                edges
                    .entry(module.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| {
                        format!("{}:{line}: {}", relative.display(), path.join("::"))
                    });
            }
        }
    }
    edges
}

/// The strongly connected components of more than one module (Tarjan's algorithm): each is a
/// set of modules that import each other in a loop.
fn cycles(edges: &Edges) -> Vec<BTreeSet<String>> {
    struct Tarjan<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            let edges = self.edges;
            for w in edges.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on_stack: BTreeSet::new(),
        found: vec![],
    };
    for v in edges.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

/// The imports that tie a cycle, one a line.
fn ties(edges: &Edges, cycle: &BTreeSet<String>) -> String {
    let mut out = String::new();
    for from in cycle {
        for (to, at) in edges.get(from).into_iter().flatten() {
            if cycle.contains(to) {
                out.push_str(&format!("\n    {from} -> {to} ({at})"));
            }
        }
    }
    out
}

#[test]
fn modules_of_a_crate_do_not_import_each_other_in_a_loop() {
    let known: BTreeSet<(String, BTreeSet<String>)> = KNOWN_CYCLES
        .iter()
        .map(|(krate, modules)| {
            (
                krate.to_string(),
                modules.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    let mut present = BTreeSet::new();
    let mut problems = vec![];
    for (krate, dir) in crates() {
        let edges = module_graph(&dir.join("src"));
        for cycle in cycles(&edges) {
            let entry = (krate.clone(), cycle.clone());
            if !known.contains(&entry) {
                problems.push(format!(
                    "crate {krate}: modules {cycle:?} import each other in a loop; break it (see docs/architecture.md, \"Module cycles\"):{}",
                    ties(&edges, &cycle)
                ));
            }
            present.insert(entry);
        }
    }
    for (krate, cycle) in known.difference(&present) {
        problems.push(format!(
            "crate {krate}: the known cycle {cycle:?} no longer exists as such: remove it from KNOWN_CYCLES (or replace it with what is left of it)"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn paths_are_read_as_the_compiler_reads_them() {
    let source = r##"
        //! [`crate::doc_link`] in a comment is no import.
        use crate::{alpha, beta::{self, Gamma as G}, delta::*};
        use super::sibling::Item;
        /* crate::in_block /* nested crate::x */ comment */
        fn f<'a>(s: &'a str) -> char {
            let _ = "crate::in_string";
            let _ = r#"crate::in_raw "string""#;
            let _ = self::child::g();
            crate::epsilon::h::<u8>();
            '{'
        }
        mod inner {
            use super::*;
            use super::super::zeta;
        }
        mod tests {
            use crate::test_kit::Kit;
        }
        macro_rules! m { () => { $crate::ignored() } }
    "##;
    let here = ["outer".to_string(), "this".to_string()];
    let paths: Vec<String> = crate_paths(source, &here)
        .into_iter()
        .map(|(path, _)| path.join("::"))
        .collect();
    assert_eq!(
        paths,
        [
            "alpha",
            "beta",
            "beta::Gamma",
            "delta",
            "outer::sibling::Item",
            "outer::this::child::g",
            "epsilon::h",
            "outer::this",
            "outer::zeta",
        ]
    );
}
