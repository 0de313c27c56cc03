//! `tagsync apply plan.json`: apply a plan saved with `tagsync plan --out`, only if the
//! desired file and every remote item the plan touches are as they were when it was made.
//!
//! The flow: load the saved plan; read the desired file (the recorded path, or `-c`);
//! connect; read the corp and the ledger (settling adds an interrupted run left pending);
//! refuse a stale plan with the list of what changed (exit 1, nothing sent); print the
//! plan; then the same [`ApplyJob`] as `plan --apply` (exit 0, 3 or 4).

use super::plan::{ApplyJob, print};
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::apply::{self, SavedPlan};
use crate::cli::{ApplyArgs, Exit, Format};
use crate::desired::{self, Desired};
use crate::plan::PlanOptions;
use crate::render::{self, Context};

/// `tagsync apply`.
pub fn cmd_apply(args: &ApplyArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

async fn run(args: &ApplyArgs) -> Result<Exit, CommandError> {
    let saved = SavedPlan::load(&args.plan).map_err(|e| CommandError::Other(e.to_string()))?;
    let config = args.config.clone().unwrap_or(saved.desired_path.clone());
    let bytes = desired::read_file(&config)?;
    let desired = desired::load_bytes(&bytes, &config.display().to_string())?;
    let remote = remote_setup::connect(&args.remote).await?;
    let result = check_and_apply(args, &saved, &config, &desired, &bytes, &remote).await;
    remote.shutdown().await;
    result
}

async fn check_and_apply(
    args: &ApplyArgs,
    saved: &SavedPlan,
    config: &std::path::Path,
    desired: &Desired,
    bytes: &[u8],
    remote: &Remote,
) -> Result<Exit, CommandError> {
    let _lock = remote_setup::lock_ledger(&args.remote, config, remote)?;
    let (mut ledger, ledger_path) = remote_setup::load_ledger(&args.remote, config, remote)?;
    let snapshot = apply::read_corp(&remote.client, &mut ledger, ledger_path.as_deref())
        .await
        .map_err(|e| CommandError::Other(e.to_string()))?;
    if let Err(stale) = apply::saved::check_fresh(saved, &remote.corp_id, bytes, &snapshot) {
        return Err(CommandError::Other(stale.to_string()));
    }
    // The file's steps are not trusted: plan again (the planner is deterministic) with
    // the flags the file records, and go on only if the very same plan comes out (steps,
    // reasons, notes, unmanaged items); what is shown and run is that new plan. So a
    // hand-edited or corrupt plan file runs nothing `tagsync plan` would not have planned.
    let options = PlanOptions {
        allow_delete: saved.allow_delete,
        tag_limit: saved.tag_limit.unwrap_or(crate::plan::TAG_LIMIT),
        history: ledger.history.clone(),
        ..PlanOptions::default()
    };
    let again = apply::replan(desired, &snapshot, &ledger, &options);
    if again != saved.plan {
        return Err(CommandError::Other(format!(
            "{} does not hold the plan that {} and the corp give now ({} steps there, {} \
             now): it was edited, or the ownership ledger changed since; nothing was sent. \
             Run `tagsync plan --out` again and review the new plan",
            args.plan.display(),
            config.display(),
            saved.plan.steps.len(),
            again.steps.len()
        )));
    }
    let file = config.display().to_string();
    let ctx = Context {
        corp_id: &remote.corp_id,
        file: &file,
        remote: &snapshot,
    };
    let plan = &again;
    let runs = !plan.blocked() && !plan.is_empty();
    if plan.is_empty() && args.format == Format::Json {
        // One document, with an `apply` field, as `plan --apply` prints it.
        let nothing = apply::ApplyReport::nothing_to_do();
        print(
            args.format,
            &render::json::render_applied(plan, &ctx, &nothing),
        )?;
    } else if !(runs && args.format == Format::Json) {
        print(args.format, &render::render(args.format, plan, &ctx))?;
    }
    if plan.blocked() {
        return Ok(Exit::Blocked);
    }
    if plan.is_empty() {
        eprintln!("Nothing to apply: the saved plan has no changes.");
        return Ok(Exit::Success);
    }
    let job = ApplyJob {
        plan,
        desired,
        options: &options,
        format: args.format,
        parallelism: args.parallelism,
        ctx: &ctx,
    };
    job.run(remote, &mut ledger, ledger_path.as_deref()).await
}
