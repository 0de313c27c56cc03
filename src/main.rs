use std::process::ExitCode;

use clap::Parser;
use tagsync::cli::{Cli, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on a usage error, which tagsync uses for "changes present";
            // a bad argument is an error (1). `--help` and `--version` still exit 0.
            let _ = e.print();
            if let Some(tip) = tagsync::cli::usage_tip(&e) {
                eprintln!("\n{tip}");
            }
            return ExitCode::from(if e.use_stderr() {
                Exit::Error.code()
            } else {
                Exit::Success.code()
            });
        }
    };
    ExitCode::from(tagsync::cli::run(cli).code())
}
