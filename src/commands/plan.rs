//! `tagsync plan`: load the file, read the corp, plan, print; exit 0/1/2/3.
//!
//! The flow is split so the apply executor plugs in after the plan is printed:
//! [`make_plan`] returns a [`Planned`] (plan, snapshot, ledger and its path); `run`
//! prints it, stops on a blocked plan (exit 3, nothing sent) and then reaches the
//! `--apply` hook, which gets the connected [`Remote`] and the [`Planned`].

use std::io::Write;
use std::path::PathBuf;

use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::cli::{Exit, Format, PlanArgs};
use crate::desired::{self, Desired};
use crate::ledger::Ledger;
use crate::plan::{self, Plan, PlanOptions};
use crate::remote::Snapshot;
use crate::render::{self, Context};

/// A plan and everything it was made from.
#[derive(Debug)]
pub struct Planned {
    pub desired: Desired,
    pub snapshot: Snapshot,
    pub plan: Plan,
    pub options: PlanOptions,
    pub ledger: Ledger,
    /// Where to save the ledger; `None`: in memory only (`--emulator` without `--state`).
    pub ledger_path: Option<PathBuf>,
}

/// `tagsync plan`.
pub fn cmd_plan(args: &PlanArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

/// The exit code of a plan that was shown and not applied.
pub fn exit_for(plan: &Plan, detailed_exitcode: bool) -> Exit {
    if plan.blocked() {
        Exit::Blocked
    } else if !plan.is_empty() && detailed_exitcode {
        Exit::Changes
    } else {
        Exit::Success
    }
}

async fn run(args: &PlanArgs) -> Result<Exit, CommandError> {
    let desired = desired::load(&args.config)?;
    let remote = remote_setup::connect(&args.remote).await?;
    let result = plan_show_apply(args, desired, &remote).await;
    remote.shutdown().await;
    result
}

async fn plan_show_apply(
    args: &PlanArgs,
    desired: Desired,
    remote: &Remote,
) -> Result<Exit, CommandError> {
    let mut planned = make_plan(args, desired, remote).await?;
    let file = args.config.display().to_string();
    let ctx = Context {
        corp_id: &remote.corp_id,
        file: &file,
        remote: &planned.snapshot,
    };
    print(
        args.format,
        &render::render(args.format, &planned.plan, &ctx),
    )?;
    if planned.plan.blocked() {
        return Ok(Exit::Blocked);
    }
    if args.apply || args.out.is_some() {
        return apply(args, remote, &mut planned).await;
    }
    Ok(exit_for(&planned.plan, args.detailed_exitcode))
}

/// `--apply` / `--out`, after the plan was printed and found unblocked. The executor
/// goes here: it sends `planned.plan` through `remote.client`, records created ids and
/// renames in `planned.ledger` and saves it to `planned.ledger_path` after each step
/// (nothing to save when that is `None`), then prints its report and returns 0 or 4.
async fn apply(
    args: &PlanArgs,
    _remote: &Remote,
    _planned: &mut Planned,
) -> Result<Exit, CommandError> {
    let what = if args.apply { "--apply" } else { "--out" };
    eprintln!("error: `tagsync plan {what}` is not yet available");
    Ok(Exit::Error)
}

/// Read the corp and the ledger, and plan.
pub async fn make_plan(
    args: &PlanArgs,
    desired: Desired,
    remote: &Remote,
) -> Result<Planned, CommandError> {
    let snapshot = remote.client.snapshot().await?;
    tracing::info!(
        groups = snapshot.groups.len(),
        tags = snapshot.tag_count(),
        "read the corp"
    );
    let (ledger, ledger_path) = remote_setup::load_ledger(&args.remote, &args.config, remote)?;
    tracing::info!(
        ledger = ?ledger_path,
        owned = ledger.owned.len(),
        "read the ownership ledger"
    );
    let options = PlanOptions {
        allow_delete: args.allow_delete,
        history: ledger.history.clone(),
        ..PlanOptions::default()
    };
    let plan = plan::plan(&desired, &snapshot, &ledger.owned(), &options);
    Ok(Planned {
        desired,
        snapshot,
        plan,
        options,
        ledger,
        ledger_path,
    })
}

/// Write a rendered plan to stdout; text through `anstream` (colour only on a terminal,
/// and never with `NO_COLOR`).
pub fn print(format: Format, rendered: &str) -> Result<(), CommandError> {
    let err = |source| CommandError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    if format == Format::Text {
        let mut out = anstream::stdout().lock();
        out.write_all(rendered.as_bytes()).map_err(err)?;
        out.flush().map_err(err)
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(rendered.as_bytes()).map_err(err)?;
        out.flush().map_err(err)
    }
}
