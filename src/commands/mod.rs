//! The commands that talk to a corp: `plan`, `export`, `adopt`. Each `cmd_*` function is
//! what `cli::run` calls; it prints and returns the exit code. The work is in functions
//! that return [`CommandError`], so errors are printed in one place.
//!
//! - [`remote_setup`]: a client from `--api-base`/environment, or an in-process emulator
//!   for `--emulator SEED`; the ownership ledger.
//! - [`plan`](mod@plan), [`export`](mod@export), [`adopt`](mod@adopt): the commands.

pub mod adopt;
pub mod apply;
pub mod args;
pub mod emulator;
pub mod export;
pub mod fleet;
pub mod plan;
pub mod rebind;
pub mod remote_setup;
pub mod validate;
pub mod watch;

use std::path::PathBuf;

use crate::desired::Diagnostics;
use crate::emulator::EmulatorError;
use crate::exit::Exit;
use crate::ledger::LedgerError;
use crate::remote::ClientError;

/// Everything that stops a command. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The desired-state file is invalid: the rendered diagnostics.
    #[error("{0}")]
    Desired(Box<Diagnostics>),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("--emulator: {0}")]
    Emulator(#[from] EmulatorError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Anything else, already worded for the user.
    #[error("{0}")]
    Other(String),
}

impl From<Diagnostics> for CommandError {
    fn from(d: Diagnostics) -> Self {
        CommandError::Desired(Box::new(d))
    }
}

/// Print an error on stderr and give exit 1.
pub fn report(err: &CommandError) -> Exit {
    let text = match err {
        CommandError::Desired(d) => d.to_string(),
        other => format!(
            "error: {}",
            crate::sanitize::for_terminal(&other.to_string())
        ),
    };
    eprintln!("{}", redact_env_secrets(&text));
    Exit::Error
}

/// The environment variables that hold secrets (see `remote::credentials`).
const SECRET_VARIABLES: [&str; 4] = [
    "WECOM_CORP_SECRET",
    "WECOM_SUITE_SECRET",
    "WECOM_SUITE_TICKET",
    "WECOM_PERMANENT_CODE",
];

/// `text` with the value of every secret variable replaced by `***`: a diagnostic quotes
/// the file it was given, and a file can hold anything.
fn redact_env_secrets(text: &str) -> String {
    let mut out = text.to_string();
    for name in SECRET_VARIABLES {
        if let Ok(value) = std::env::var(name)
            && value.len() >= 4
            && out.contains(&value)
        {
            out = out.replace(&value, "***");
        }
    }
    out
}

/// A runtime for one command (the client and the in-process emulator are async).
pub fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CommandError::Other(format!("cannot start the async runtime: {e}")))
}
