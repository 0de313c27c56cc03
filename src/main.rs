use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tagsync::cli::Cli::parse();
    ExitCode::from(tagsync::cli::run(cli).code())
}
