//! Every integration test in one binary: one link of axum, reqwest and tokio instead of
//! one per file. A module per area; `common` holds the fixtures they share (the emulator,
//! the binary, seeds and scenarios).

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod apply;
mod apply_e2e;
mod architecture;
mod cli_plan;
mod client;
mod emulator_conformance;
mod emulator_examples;
mod emulator_faults;
mod export_names;
mod fleet;
mod gitops;
mod hostile;
mod identity;
mod install;
mod pr_comment;
mod release;
mod render;
mod rule_groups;
mod schema;
mod tutorial;
mod validate;
mod validate_props;
mod watch;
