//! The desired-state file: parse (YAML with spans) → validate → [`model::Desired`].
//!
//! - [`node`]: the YAML as a tree whose every value keeps its place in the file;
//! - [`raw`]: that tree shaped into the file's fields, every structural problem reported;
//! - [`load`]: the file read (bounded) and taken through the steps below;
//! - [`validate`]: every rule of the file, all problems at once;
//! - [`diagnostic`]: rustc-style rendering (`file:line:column`, snippet, help);
//! - [`schema`]: the JSON Schema printed by `tagsync schema`;
//! - [`merge`]: several files read as one (a fleet's base file and a corp's additions).

pub mod diagnostic;
pub mod load;
pub mod merge;
pub mod model;
pub mod node;
pub mod raw;
pub mod schema;
pub mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Pos};
pub use load::{DEFAULT_FILE, MAX_FILE_BYTES, load, load_bytes, load_str, read_file};
pub use merge::load_merged;
pub use model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
pub use validate::{MAX_NAME_CHARS, MAX_TAGS, VERSION};
