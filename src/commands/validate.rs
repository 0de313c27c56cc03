//! `tagsync validate` and `tagsync schema`: the desired-state file, offline.

use std::io::Write;
use std::path::Path;

use crate::desired::{load, schema};
use crate::exit::Exit;

/// `tagsync validate -c FILE`: diagnostics on stderr, a one-line summary on stdout.
pub fn cmd_validate(path: &Path) -> Exit {
    match load(path) {
        Ok(d) => {
            let count = |n: usize, what: &str| match n {
                1 => format!("1 {what}"),
                n => format!("{n} {what}s"),
            };
            let tags = |groups: &[crate::desired::model::DesiredGroup]| -> usize {
                groups.iter().map(|g| g.tags.len()).sum()
            };
            let mut summary = format!(
                "{}, {}",
                count(d.groups.len(), "group"),
                count(tags(&d.groups), "tag")
            );
            if let Some(rules) = &d.strategies {
                let groups: usize = rules.iter().map(|r| r.groups.len()).sum();
                let in_rules: usize = rules.iter().map(|r| tags(&r.groups)).sum();
                summary.push_str(&format!(
                    "; in {}: {}, {}",
                    count(rules.len(), "rule group"),
                    count(groups, "group"),
                    count(in_rules, "tag")
                ));
            }
            println!(
                "{}: ok ({summary})",
                crate::sanitize::for_terminal(&path.display().to_string()),
            );
            Exit::Success
        }
        Err(diags) => {
            eprintln!("{diags}");
            Exit::Error
        }
    }
}

/// `tagsync schema`: the JSON Schema of the file on stdout.
pub fn cmd_schema() -> Exit {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", schema::json()) {
        Ok(()) => Exit::Success,
        Err(e) => {
            eprintln!("error: cannot write the schema: {e}");
            Exit::Error
        }
    }
}
