//! The desired-state file: parse (YAML with spans) → validate → [`model::Desired`].
//!
//! - [`raw`]: serde types that keep each value's source location;
//! - [`validate`]: every rule of PRODUCT section 1, all problems at once;
//! - [`diagnostic`]: rustc-style rendering (`file:line:column`, snippet, help);
//! - [`schema`]: the JSON Schema printed by `tagsync schema`.

pub mod diagnostic;
pub mod model;
pub mod raw;
pub mod schema;
pub mod validate;

use std::io::Write;
use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, Pos};
pub use model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
pub use validate::{
    MAX_FILE_BYTES, MAX_NAME_CHARS, MAX_TAGS, load, load_bytes, load_str, read_file,
};

use crate::cli::Exit;

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
