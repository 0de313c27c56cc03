//! The JSON Schema of the fleet file (`tagsync fleet schema`), for editors. The types
//! exist only to describe the file; parsing is `file`'s, which also checks what a schema
//! cannot say (exactly one credential reference per corp, unique labels and corp ids, a
//! suite for a permanent code) and refuses a secret written in the file.
#![allow(dead_code)] // fields are read by the schema derive only

use schemars::JsonSchema;

/// A tagsync fleet file: the corps tagsync keeps equal to their desired files.
#[derive(JsonSchema)]
#[schemars(title = "tagsync fleet", deny_unknown_fields)]
struct FleetFile {
    /// Fleet file format version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    version: u32,
    /// What every corp takes unless it says otherwise.
    defaults: Option<Defaults>,
    /// The corps, at least one.
    #[schemars(length(min = 1))]
    corps: Vec<Corp>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Defaults {
    /// Corps planned at once (`--concurrency` wins; default 8).
    #[schemars(range(min = 1, max = 256))]
    concurrency: Option<u32>,
    /// The API base of every corp (https; plain http only on loopback).
    api_base: Option<String>,
    /// Every corp's first desired files, relative to the fleet file.
    files: Option<Vec<String>>,
    /// A third-party app's suite, shared by the corps that give a permanent code.
    suite: Option<Suite>,
}

/// A third-party app's suite: its id, and where its secret and latest ticket are.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Suite {
    suite_id: String,
    /// The environment variable holding the suite secret.
    #[schemars(pattern(r"^[A-Z_][A-Z0-9_]*$"))]
    secret_env: Option<String>,
    /// A file whose first line is the suite secret.
    secret_file: Option<String>,
    /// The environment variable holding the latest suite ticket.
    #[schemars(pattern(r"^[A-Z_][A-Z0-9_]*$"))]
    ticket_env: Option<String>,
    /// A file whose first line is the latest suite ticket.
    ticket_file: Option<String>,
}

/// One corp. Environment variables are named, never given their values. Exactly one of `secret_env`, `secret_file`, `permanent_code_env`,
/// `permanent_code_file`; never the secret itself.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Corp {
    /// A short stable label: output, sharding (`--shard K/N` hashes it).
    #[schemars(pattern(r"^[A-Za-z0-9._-]{1,64}$"))]
    id: String,
    /// The corp id (企业ID).
    #[schemars(length(min = 1))]
    corp_id: String,
    /// The environment variable holding the app's secret (a custom-developed app's:
    /// the corp's permanent code).
    #[schemars(pattern(r"^[A-Z_][A-Z0-9_]*$"))]
    secret_env: Option<String>,
    /// A file whose first line is the app's secret.
    secret_file: Option<String>,
    /// A third-party app: the variable holding the corp's permanent code (with `suite`).
    #[schemars(pattern(r"^[A-Z_][A-Z0-9_]*$"))]
    permanent_code_env: Option<String>,
    /// A third-party app: a file whose first line is the corp's permanent code.
    permanent_code_file: Option<String>,
    /// This corp's suite, over `defaults.suite`.
    suite: Option<Suite>,
    /// The corp's desired files after `defaults.files`, merged in order.
    files: Option<Vec<String>>,
    /// This corp's API base, over `defaults.api_base`.
    api_base: Option<String>,
    /// Lets up to N deleted or replaced tags past this corp's safety gate, as
    /// `--allow-delete N` would (an allowance above the default gate, never a stricter
    /// gate); the command line's `--allow-delete` wins.
    #[schemars(range(max = 10000))]
    allow_delete: Option<u32>,
}

/// The schema as pretty-printed JSON.
pub fn json() -> String {
    let mut schema = schemars::schema_for!(FleetFile).to_value();
    crate::desired::schema::forbid_null(&mut schema, &[]);
    serde_json::to_string_pretty(&schema).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
