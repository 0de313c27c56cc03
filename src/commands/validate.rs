//! `tagsync validate` and `tagsync schema`: the desired-state file, offline.

use std::io::Write;
use std::path::Path;

use crate::desired::{load, schema};
use crate::exit::Exit;

/// `tagsync validate -c FILE`: diagnostics on stderr, a one-line summary on stdout.
pub fn cmd_validate(path: &Path) -> Exit {
    match load(path) {
        Ok(d) => {
            let tags: usize = d.groups.iter().map(|g| g.tags.len()).sum();
            println!(
                "{}: ok ({} groups, {tags} tags)",
                crate::sanitize::for_terminal(&path.display().to_string()),
                d.groups.len()
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
