//! The house rules of ARCHITECTURE.md, checked on the source: every `crate::` import of a
//! module goes down the table of allowed imports, no files import each other in a circle,
//! and a file past 600 lines says at its top why it is one file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module of `src/` may import (ARCHITECTURE.md, house rule 1).
const ALLOWED: &[(&str, &[&str])] = &[
    ("wire", &[]),
    ("sanitize", &[]),
    ("atomic_write", &[]),
    ("safe_read", &[]),
    ("exit", &[]),
    ("snapshot", &["wire"]),
    ("desired", &["wire", "sanitize", "safe_read"]),
    ("ledger", &["atomic_write", "safe_read"]),
    ("remote", &["wire", "snapshot", "sanitize", "safe_read"]),
    ("emulator", &["wire", "sanitize", "safe_read"]),
    (
        "plan",
        &["desired", "snapshot", "ledger", "wire", "sanitize"],
    ),
    (
        "apply",
        &[
            "plan",
            "remote",
            "ledger",
            "desired",
            "snapshot",
            "wire",
            "exit",
            "sanitize",
            "atomic_write",
            "safe_read",
        ],
    ),
    (
        "render",
        &[
            "plan", "apply", "desired", "snapshot", "ledger", "wire", "sanitize",
        ],
    ),
    (
        "commands",
        &[
            "apply",
            "atomic_write",
            "desired",
            "emulator",
            "exit",
            "ledger",
            "plan",
            "remote",
            "render",
            "safe_read",
            "sanitize",
            "snapshot",
            "wire",
        ],
    ),
    ("cli", &["commands", "exit", "render"]),
    ("lib", &[]),
    ("main", &[]),
];

/// Files whose whole text is test code.
const TEST_FILES: &[&str] = &["tests.rs", "props.rs", "testutil.rs"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as paths relative to `src/`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p.strip_prefix(src()).expect("under src").to_path_buf());
        }
    }
}

/// The code of a file without its trailing `#[cfg(test)] mod … {` and without comments.
fn code_of(rel: &Path) -> String {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if TEST_FILES.contains(&name) {
        return String::new();
    }
    let text = std::fs::read_to_string(src().join(rel)).expect("read file");
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// The identifiers of each `crate::a::b…` or `super::…` path in `code`.
fn paths(code: &str, head: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(head) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + head.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut parts = Vec::new();
        let mut tail = rest;
        while let Some(after) = tail.strip_prefix("::") {
            let ident: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if ident.is_empty() {
                break;
            }
            tail = &after[ident.len()..];
            parts.push(ident);
        }
        if !parts.is_empty() {
            out.push(parts);
        }
    }
    out
}

/// The file a module path names: the longest prefix that is a file.
fn resolve(parts: &[String]) -> Option<PathBuf> {
    (1..=parts.len()).rev().find_map(|n| {
        let base: PathBuf = parts[..n].iter().collect();
        [base.with_extension("rs"), base.join("mod.rs")]
            .into_iter()
            .find(|c| src().join(c).is_file())
    })
}

/// The module path of a file (`plan/steps.rs` → `[plan, steps]`, `plan/mod.rs` → `[plan]`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

fn top(rel: &Path) -> String {
    rel.iter()
        .next()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .unwrap_or_default()
}

/// Every file that reaches itself through the import graph.
fn circles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<String> {
    let mut out = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&PathBuf> = graph[start].iter().collect();
        while let Some(f) = stack.pop() {
            if f == start {
                out.push(format!(
                    "{}: imports itself through a circle",
                    start.display()
                ));
                break;
            }
            if seen.insert(f.clone()) {
                stack.extend(graph.get(f).into_iter().flatten());
            }
        }
    }
    out
}

#[test]
fn module_imports_go_one_way_and_files_import_no_circle() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, to)| (*m, to.iter().copied().collect()))
        .collect();
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut wrong = Vec::new();
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for rel in &all {
        let code = code_of(rel);
        let me = top(rel);
        let Some(may) = allowed.get(me.as_str()) else {
            wrong.push(format!(
                "{}: module `{me}` is not in ALLOWED",
                rel.display()
            ));
            continue;
        };
        let edges = graph.entry(rel.clone()).or_default();
        for p in paths(&code, "crate") {
            if p[0] != me && !may.contains(p[0].as_str()) && !["main", "lib"].contains(&me.as_str())
            {
                wrong.push(format!("{}: {me} -> {}", rel.display(), p[0]));
            }
            if let Some(to) = resolve(&p).filter(|t| t != rel) {
                edges.insert(to);
            }
        }
        let module = module_of(rel);
        for p in paths(&code, "super") {
            // In `a/b.rs` and in `a/b/mod.rs` (both module a::b), `super` is `a`; each
            // further `super` goes one more up.
            let mut base = module.clone();
            base.pop();
            let ups = p.iter().take_while(|x| *x == "super").count();
            for _ in 0..ups {
                base.pop();
            }
            base.extend(p.into_iter().skip(ups));
            if let Some(to) = resolve(&base).filter(|t| t != rel) {
                edges.insert(to);
            }
        }
    }
    // Circles: a file reaching itself.
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&PathBuf> = graph[start].iter().collect();
        while let Some(f) = stack.pop() {
            if f == start {
                wrong.push(format!(
                    "{}: imports itself through a circle",
                    start.display()
                ));
                break;
            }
            if seen.insert(f.clone()) {
                stack.extend(graph.get(f).into_iter().flatten());
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "house rules broken:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_file_past_600_lines_says_why_it_is_one_file() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut big = Vec::new();
    for rel in &all {
        let code = code_of(rel);
        let text = std::fs::read_to_string(src().join(rel)).expect("read");
        let head: String = text
            .lines()
            .take(15)
            .collect::<Vec<_>>()
            .join("\n")
            .to_lowercase();
        let says = [
            "why this file",
            "why one file",
            "kept whole",
            "one file because",
        ]
        .iter()
        .any(|w| head.contains(w));
        if code.lines().count() > 600 && !says {
            big.push(format!("{}: {} lines", rel.display(), code.lines().count()));
        }
    }
    assert!(
        big.is_empty(),
        "files past 600 lines without a reason:\n{}",
        big.join("\n")
    );
}

#[test]
fn the_checker_finds_paths_files_and_circles() {
    // The checker itself: a path it must find, in a line it must not skip.
    let found = paths("use crate::remote::Client; // crate::cli", "crate");
    assert_eq!(
        found,
        vec![
            vec!["remote".to_string(), "Client".to_string()],
            vec!["cli".to_string()]
        ]
    );
    assert_eq!(
        resolve(&["plan".into(), "matching".into(), "temp_name".into()]),
        Some(PathBuf::from("plan/matching/mod.rs"))
    );
    assert_eq!(
        resolve(&["plan".into(), "steps".into(), "build".into()]),
        Some(PathBuf::from("plan/steps/mod.rs"))
    );
    // A circle of three files is found, from each of them; a chain is not.
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(PathBuf::from(a))
                .or_default()
                .insert(PathBuf::from(b));
            g.entry(PathBuf::from(b)).or_default();
        }
        g
    };
    assert_eq!(circles(&g(&[("a", "b"), ("b", "c"), ("c", "a")])).len(), 3);
    assert!(circles(&g(&[("a", "b"), ("b", "c")])).is_empty());
    assert_eq!(
        resolve(&["plan".into(), "Plan".into()]),
        Some(PathBuf::from("plan/mod.rs"))
    );
}
