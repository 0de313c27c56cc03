//! `tagsync fleet`: one standard, many corps. The fleet file ([`file`]) lists the corps,
//! their credentials by reference and the desired files each takes (merged in order by
//! `desired::merge`); [`run`] plans (and applies) every corp as `tagsync plan` would,
//! at most N at once; [`output`] prints the summary table and each corp's plan;
//! [`shard`] picks a stable 1/N of the corps for a CI matrix; [`pool`] runs the corps,
//! each in its own task.
//!
//! - `tagsync fleet validate -f fleet.yaml [--check-credentials]`: the fleet file and
//!   every corp's merged desired files (and, asked, that each credential it names is
//!   there), offline; exit 1 on any problem.
//! - `tagsync fleet plan|apply -f fleet.yaml [--shard K/N]`: the exit code is the worst
//!   corp's ([`output::severity`]).
//! - `tagsync fleet merge A.json B.json …`: the shards' JSON as one summary.

pub mod file;
pub mod output;
pub mod pool;
pub mod run;
pub mod schema;
pub mod shard;
pub mod spill;
pub mod summary;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand};

use super::plan::{on_interrupt, print};
use super::{CommandError, report, runtime};
use crate::exit::Exit;
use crate::render::Format;
use output::FleetDoc;
use shard::Shard;
use spill::Spill;
use summary::Summary;

/// The environment `tagsync fleet` reads.
pub const FLEET_ENV: &str = "\
Environment:
  the variables the fleet file names (secret_env, permanent_code_env, …)
  WECOM_API_BASE       the API base of corps the fleet file gives none (--api-base wins)
  TAGSYNC_RATE_SHARE   percent of WeCom's 10,000 calls a minute per API each corp's run may use
  TAGSYNC_RETRY_BACKOFF_MS, NO_COLOR, RUST_LOG
                       as for `tagsync plan`";

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Check the fleet file and every corp's desired files, offline.
    Validate(ValidateArgs),
    /// Plan every corp (or one shard of them); change nothing.
    #[command(after_help = FLEET_ENV)]
    Plan(FleetArgs),
    /// Plan and apply every corp (or one shard of them), each as `plan --apply` would.
    #[command(after_help = FLEET_ENV)]
    Apply(FleetArgs),
    /// Merge the `--format json` outputs of several shards into one summary.
    Merge(MergeArgs),
    /// Print the JSON Schema of the fleet file, for editors.
    Schema,
}

#[derive(Debug, Args)]
pub struct FleetFileArg {
    /// The fleet file.
    #[arg(short, long, default_value = "fleet.yaml")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub fleet: FleetFileArg,
    /// Also check that every credential the corps name is there: each variable set and
    /// not empty, each file readable with a first line (as `fleet plan` will read them;
    /// nothing is sent, no value is shown).
    #[arg(long)]
    pub check_credentials: bool,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(flatten)]
    pub fleet: FleetFileArg,
    /// How the result is printed: text, markdown (one PR comment), json (for programs
    /// and `tagsync fleet merge`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Corps run at once (default: the fleet file's `defaults.concurrency`, else 8).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=file::MAX_CONCURRENCY as i64))]
    pub concurrency: Option<u16>,
    /// Run only shard K of N (1 <= K <= N): a stable share of the corps, by their `id`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// The directory of the corps' ledgers (default: `.tagsync/` beside the fleet file).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Every corp's API base (plain http only on loopback), over the fleet file's.
    #[arg(long)]
    pub api_base: Option<String>,
    /// Exit 2 when a plan has changes (fleet plan).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Allow up to N deleted or replaced tags past each corp's safety gate; this wins
    /// over a corp's `allow_delete` in the fleet file.
    #[arg(long, value_name = "N")]
    pub allow_delete: Option<usize>,
    /// Steps run at once within one corp's apply, 1 to 64.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON outputs of `tagsync fleet plan|apply --format json`, one per shard.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How the merged summary is printed (text: the table and errors only).
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// The default number of corps at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// `tagsync fleet …`.
pub fn cmd_fleet(command: &FleetCommand) -> Exit {
    let result = match command {
        FleetCommand::Validate(args) => validate(args),
        FleetCommand::Plan(args) => runtime().and_then(|rt| rt.block_on(run(args, false))),
        FleetCommand::Apply(args) => runtime().and_then(|rt| rt.block_on(run(args, true))),
        FleetCommand::Merge(args) => merge(args),
        FleetCommand::Schema => {
            print(Format::Json, &(schema::json() + "\n")).map(|()| Exit::Success)
        }
    };
    result.unwrap_or_else(|e| report(&e))
}

fn validate(args: &ValidateArgs) -> Result<Exit, CommandError> {
    let fleet = file::load(&args.fleet.file)?;
    let mut bad = 0;
    let mut missing = 0;
    for corp in &fleet.corps {
        let label = crate::sanitize::for_terminal(&corp.id);
        if let Err(e) = run::load_desired(&corp.files) {
            bad += 1;
            eprintln!("corp {label}:");
            report(&e);
            eprintln!();
        }
        if args.check_credentials
            && let Err(problem) = run::resolve(&corp.credentials, &corp.corp_id)
        {
            missing += 1;
            eprintln!(
                "error: {}:{}: corp {label}: {}",
                args.fleet.file.display(),
                corp.pos.line,
                crate::sanitize::for_terminal(&problem)
            );
        }
    }
    let n = fleet.corps.len();
    if bad > 0 {
        eprintln!("error: {bad} of {n} corps have invalid desired files");
    }
    if missing > 0 {
        eprintln!("error: {missing} of {n} corps lack their credentials here");
    }
    if bad + missing > 0 {
        return Ok(Exit::Error);
    }
    eprintln!(
        "{}: {n} corps, every desired file valid{}",
        args.fleet.file.display(),
        if args.check_credentials {
            ", every credential there"
        } else {
            ""
        }
    );
    Ok(Exit::Success)
}

async fn run(args: &FleetArgs, apply: bool) -> Result<Exit, CommandError> {
    let fleet = file::load(&args.fleet.file)?;
    let corps: Vec<_> = fleet
        .corps
        .iter()
        .filter(|c| args.shard.is_none_or(|s| s.contains(&c.id)))
        .cloned()
        .collect();
    let opts = run::RunOptions {
        apply,
        format: args.format,
        concurrency: args
            .concurrency
            .map(usize::from)
            .or(fleet.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY),
        state: args.state.clone(),
        api_base: args.api_base.clone().filter(|b| !b.trim().is_empty()),
        env_api_base: std::env::var(crate::remote::ENV_API_BASE)
            .ok()
            .filter(|b| !b.trim().is_empty()),
        allow_delete: args.allow_delete,
        parallelism: args.parallelism,
        detailed_exitcode: args.detailed_exitcode,
        http: run::SharedHttp::default(),
    };
    tracing::info!(
        corps = corps.len(),
        concurrency = opts.concurrency,
        "running the fleet"
    );
    let interrupted = Arc::new(AtomicBool::new(false));
    let listener = on_interrupt(interrupted.clone());
    let result = run::run_fleet(&fleet, corps, &opts, interrupted).await;
    listener.abort();
    let (corps, spill) = result?;
    let summary = Summary {
        mode: if apply { "apply" } else { "plan" }.into(),
        shard: args.shard.map(|s| s.to_string()),
        corps,
        missing: Vec::new(),
    };
    write(&summary, args.format, &spill)?;
    Ok(summary.exit())
}

/// Print `summary` and the corps' parts kept in `spill` to stdout.
fn write(summary: &Summary, format: Format, spill: &Spill) -> Result<(), CommandError> {
    let mut failed = None;
    let written = summary.write(format, spill, &mut |piece| {
        print(format, piece).map_err(|e| {
            let message = e.to_string();
            failed = Some(e);
            std::io::Error::other(message)
        })
    });
    match (written, failed) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(CommandError::Other(format!(
            "cannot read back the corps' output: {e}"
        ))),
        (Ok(()), None) => Ok(()),
    }
}

fn merge(args: &MergeArgs) -> Result<Exit, CommandError> {
    let mut docs = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let text = crate::safe_read::read_to_string(path, crate::safe_read::STATE_FILE_MAX)
            .map_err(|e| CommandError::Other(format!("cannot read {name}: {e}")))?;
        let doc: FleetDoc = serde_json::from_str(&text).map_err(|e| {
            CommandError::Other(format!(
                "{name} is not the JSON of `tagsync fleet plan --format json`: {e}"
            ))
        })?;
        docs.push((name, doc));
    }
    let mut summary = summary::merge(docs).map_err(CommandError::Other)?;
    let mut spill = Spill::new(summary.corps.len())
        .map_err(|e| CommandError::Other(format!("cannot make a temporary file: {e}")))?;
    for (i, corp) in summary.corps.iter_mut().enumerate() {
        spill
            .put(i, corp.parts(args.format))
            .map_err(|e| CommandError::Other(format!("cannot keep the merged output: {e}")))?;
    }
    write(&summary, args.format, &spill)?;
    if summary.missing.is_empty() {
        Ok(Exit::Success)
    } else {
        eprintln!(
            "error: no output of shard {}: the summary is incomplete",
            summary.missing.join(", ")
        );
        Ok(Exit::Error)
    }
}
