//! tagsync keeps a WeCom corp's customer tags equal to a YAML file kept in git.
//!
//! The modules follow the flow of data:
//!
//! ```text
//! desired state (parse → validate) ─┐
//! remote (client → snapshot) ───────┼→ plan (pure) → render (text | markdown | json)
//! ownership ledger ─────────────────┘             └→ apply (executor → client) → verify
//! ```
//!
//! and the emulator beside them, sharing only [`wire`] with the client.

pub mod apply;
pub mod atomic_write;
pub mod cli;
pub mod commands;
pub mod desired;
pub mod emulator;
pub mod exit;
pub mod ledger;
pub mod plan;
pub mod remote;
pub mod render;
pub mod safe_read;
pub mod sanitize;
pub mod snapshot;
pub mod wire;
