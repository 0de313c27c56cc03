//! The command line: argument definitions and dispatch to the library.
//!
//! `main` parses the arguments with [`Cli`], calls [`run`] and turns the [`Exit`] into
//! the process exit code. Nothing here decides what to change; it only wires layers.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::commands::args::{
    AdoptArgs, ApplyArgs, DisownArgs, EmulatorArgs, ExportArgs, LedgerCommand, PlanArgs,
    REMOTE_ENV, WATCH_ENV, WatchArgs,
};
pub use crate::exit::Exit;

#[derive(Debug, Parser)]
#[command(
    name = "tagsync",
    version,
    about = "Keep a WeCom corp's customer tags equal to a YAML file kept in git",
    propagate_version = true
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the desired-state file offline; every problem at once; exit 1 on any error.
    Validate {
        /// The desired-state file.
        #[arg(short, long, default_value = "tags.yaml")]
        config: PathBuf,
        /// The desired-state file, given without `-c` (as `tagsync validate tags.yaml`).
        #[arg(value_name = "FILE", conflicts_with = "config")]
        file: Option<PathBuf>,
    },
    // `override_usage`: clap's usage line after an error lists the options present, and
    // WECOM_API_BASE in the environment counts as `--api-base` given.
    /// Read the corp, print the plan; change nothing unless --apply.
    #[command(after_help = REMOTE_ENV, override_usage = "tagsync plan [OPTIONS] [FILE]")]
    Plan(PlanArgs),
    /// Apply a plan saved with `plan --out`, refusing it if anything changed since.
    #[command(after_help = REMOTE_ENV, override_usage = "tagsync apply [OPTIONS] <PLAN>")]
    Apply(ApplyArgs),
    /// Write the live corp as a desired-state file that plans to zero changes.
    #[command(after_help = REMOTE_ENV, override_usage = "tagsync export [OPTIONS]")]
    Export(ExportArgs),
    /// Record existing remote items as owned by tagsync.
    #[command(after_help = REMOTE_ENV, override_usage = "tagsync adopt [OPTIONS] <IDS>...")]
    Adopt(AdoptArgs),
    /// Stop owning items: remove ids from the ownership ledger (nothing is sent).
    #[command(after_help = REMOTE_ENV, override_usage = "tagsync disown [OPTIONS] <IDS>...")]
    Disown(DisownArgs),
    /// Work with the ownership ledger itself.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Receive WeCom's change callbacks and report drift in seconds.
    #[command(after_help = WATCH_ENV, override_usage = "tagsync watch [OPTIONS]")]
    Watch(WatchArgs),
    /// Many corps from one fleet file: validate, plan, apply, merge shards' results.
    #[command(subcommand)]
    Fleet(crate::commands::fleet::FleetCommand),
    /// Run the local WeCom emulator.
    Emulator(EmulatorArgs),
    /// Print the JSON Schema of the desired-state file, for editors.
    Schema,
    /// Print the man page (roff), e.g. `tagsync man > /usr/local/share/man/man1/tagsync.1`.
    Man {
        /// Write tagsync.1 and one page per command, nested ones included (tagsync-plan.1,
        /// tagsync-fleet-plan.1, …), into this directory instead of printing tagsync.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print shell completions.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// A line to print after clap's usage error, where the error alone leaves a newcomer
/// stuck: `tagsync apply` with no plan file (a Terraform user's habit).
pub fn usage_tip(e: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let missing_plan = e.kind() == ErrorKind::MissingRequiredArgument
        && matches!(
            e.get(ContextKind::InvalidArg),
            Some(ContextValue::Strings(args)) if args.iter().any(|a| a == "<PLAN>")
        );
    missing_plan.then_some(
        "tip: `tagsync apply` applies a plan saved with `tagsync plan --out plan.json`; to plan \
         and apply in one go, run `tagsync plan --apply`",
    )
}

/// Run a parsed command line. Diagnostics and errors go to stderr, results to stdout.
pub fn run(cli: Cli) -> Exit {
    init_logging(cli.verbose);
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tagsync", &mut out);
            write_stdout(&out, "the completions")
        }
        Command::Man { dir } => man(dir.as_deref()),
        Command::Emulator(args) => crate::commands::emulator::cmd_emulator(&args),
        Command::Watch(args) => crate::commands::watch::cmd_watch(&args),
        Command::Validate { config, file } => {
            crate::commands::validate::cmd_validate(&file.unwrap_or(config))
        }
        Command::Schema => crate::commands::validate::cmd_schema(),
        Command::Plan(mut args) => {
            if let Some(file) = args.file.take() {
                args.config = file;
            }
            crate::commands::plan::cmd_plan(&args)
        }
        Command::Export(args) => crate::commands::export::cmd_export(&args),
        Command::Adopt(args) => crate::commands::adopt::cmd_adopt(&args),
        Command::Disown(args) => crate::commands::adopt::cmd_disown(&args),
        Command::Ledger(LedgerCommand::Rebind(args)) => crate::commands::rebind::cmd_rebind(&args),
        Command::Apply(args) => crate::commands::apply::cmd_apply(&args),
        Command::Fleet(command) => crate::commands::fleet::cmd_fleet(&command),
    }
}

/// Sections the generated page lacks: what the exit codes and variables mean.
const MAN_EXTRA: &str = r#".SH "EXIT STATUS"
.TP
0
success; the plan may have changes unless \-\-detailed\-exitcode
.TP
1
error: an invalid file, a refused or failed call, a bad argument, a stale saved plan
.TP
2
the plan has changes (only with \-\-detailed\-exitcode)
.TP
3
the plan has blocked steps (a safety gate, or an item tagsync does not own): nothing was sent
.TP
4
an apply partly failed; tagsync plan shows what is left
.SH ENVIRONMENT
.TP
WECOM_CORP_ID, WECOM_CORP_SECRET
the corp and the secret of the app tagsync acts as (or \-\-secret\-file)
.TP
WECOM_SUITE_ID, WECOM_SUITE_SECRET, WECOM_SUITE_TICKET, WECOM_PERMANENT_CODE
a third\-party app instead
.TP
WECOM_API_BASE
another API base (https; plain http only on loopback), e.g. the emulator
.TP
TAGSYNC_RATE_SHARE
the percentage (1 to 100, default 80) of WeCom's 10,000 calls a minute per API tagsync may use
.TP
TAGSYNC_RETRY_BACKOFF_MS
the retry delays MIN,MAX,LIMIT in milliseconds: the first backoff, the largest, the floor after errcode 45009 (default 250,8000,5000; shorten them only against the emulator)
.TP
NO_COLOR
no colour in the text output
.TP
RUST_LOG
log filter (logs go to stderr)
.SH FILES
.TP
\&.tagsync/ledger\-CORP.json
beside the desired file: the ids tagsync created (its ownership ledger); commit it with the file
"#;

/// `tagsync man`: the main page with exit codes, environment and files; with `--dir`,
/// that page and one page per command, nested ones included (tagsync-fleet-plan.1), each
/// with a SEE ALSO that names only pages written beside it.
fn man(dir: Option<&Path>) -> Exit {
    use clap::CommandFactory;
    // No `help` command at any level: `--dir` writes no tagsync-help(1) or
    // tagsync-fleet-help(1), so no page may name one. Built, so that every nested command
    // knows its page name (`tagsync-fleet-plan`) and its usage (`tagsync fleet plan`).
    let mut cmd = without_help(Cli::command());
    cmd.build();
    let main_page = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        man.render_title(w)?;
        man.render_name_section(w)?;
        man.render_synopsis_section(w)?;
        man.render_description_section(w)?;
        man.render_options_section(w)?;
        man.render_subcommands_section(w)?;
        w.write_all(MAN_EXTRA.as_bytes())?;
        let pages: Vec<String> = pages_below(&cmd).collect();
        writeln!(
            w,
            ".SH \"SEE ALSO\"\n{} (written by tagsync man \\-\\-dir DIR)",
            roff_list(&pages)
        )?;
        man.render_version_section(w)
    };
    let Some(dir) = dir else {
        let mut out = Vec::new();
        return match main_page(&mut out) {
            Ok(()) => write_stdout(&out, "the man page"),
            Err(e) => {
                eprintln!("error: cannot render the man page: {e}");
                Exit::Error
            }
        };
    };
    let write_all = || -> std::io::Result<usize> {
        std::fs::create_dir_all(dir)?;
        let mut page = Vec::new();
        main_page(&mut page)?;
        std::fs::write(dir.join("tagsync.1"), &page)?;
        Ok(1 + write_pages_below(&cmd, dir)?)
    };
    match write_all() {
        Ok(n) => {
            eprintln!("wrote {n} man pages to {}", dir.display());
            Exit::Success
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the man pages to {}: {e}",
                dir.display()
            );
            Exit::Error
        }
    }
}

fn without_help(cmd: clap::Command) -> clap::Command {
    cmd.disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

/// The commands directly below `cmd` that get a page.
fn shown(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// The page name of a built command: `tagsync-fleet-plan`.
fn page_name(cmd: &clap::Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

/// The pages of the commands directly below `cmd`.
fn pages_below(cmd: &clap::Command) -> impl Iterator<Item = String> {
    shown(cmd).map(|s| page_name(s).to_string())
}

/// `a(1), b(1)` in roff (a `-` is written `\-`).
fn roff_list(pages: &[String]) -> String {
    pages
        .iter()
        .map(|p| format!("{}(1)", p.replace('-', "\\-")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a page for every command below `cmd`, at any depth; returns how many. Each
/// page ends with SEE ALSO: the page of the command above it and those below it.
fn write_pages_below(cmd: &clap::Command, dir: &Path) -> std::io::Result<usize> {
    use std::io::Write;
    let mut n = 0;
    for sub in shown(cmd) {
        let mut page = Vec::new();
        // The footer names tagsync, not the command (`fleet 0.1.0`).
        clap_mangen::Man::new(sub.clone())
            .source(format!("tagsync {}", env!("CARGO_PKG_VERSION")))
            .render(&mut page)?;
        let mut see_also = vec![page_name(cmd).to_string()];
        see_also.extend(pages_below(sub));
        writeln!(page, ".SH \"SEE ALSO\"\n{}", roff_list(&see_also))?;
        std::fs::write(dir.join(format!("{}.1", page_name(sub))), &page)?;
        n += 1 + write_pages_below(sub, dir)?;
    }
    Ok(n)
}

/// Write generated text to stdout; a reader that went away (`| head`) is not an error.
fn write_stdout(bytes: &[u8], what: &str) -> Exit {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            eprintln!("error: cannot write {what}: {e}");
            Exit::Error
        }
    }
}

/// Logs go to stderr; `-v` raises tagsync's own level (the HTTP stack's logs, in Rust's
/// debug forms, only from `-vvv`), `RUST_LOG` overrides it.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,tagsync=info",
        2 => "warn,tagsync=debug",
        _ => "debug,tagsync=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colour only on a terminal: CI logs and the captured stderr of a plan comment get
    // plain text.
    let ansi = {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}
