//! Every integration test in one binary: one link of axum, reqwest and tokio instead of
//! one per file. A module per area; `common` holds the fixtures they share (the emulator,
//! the binary, seeds and scenarios).

mod common;

mod apply;
mod apply_e2e;
mod cli_plan;
mod client;
mod emulator_conformance;
mod emulator_examples;
mod emulator_faults;
mod export_names;
mod gitops;
mod identity;
mod render;
mod validate;
mod validate_props;
