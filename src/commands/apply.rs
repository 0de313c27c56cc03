//! `tagsync apply plan.json`: apply a plan saved with `tagsync plan --out`, only if the
//! desired file and every remote item the plan touches are as they were when it was made.
//!
//! The flow: load the saved plan; read the desired file (the recorded path, or `-c`) and
//! refuse it unless its sha256 is the recorded one (before parsing it, so that no other
//! file is ever quoted);
//! connect; read the corp and the ledger (settling adds an interrupted run left pending);
//! refuse a stale plan with the list of what changed (exit 1, nothing sent); print the
//! plan; then the same [`ApplyJob`] as `plan --apply` (exit 0, 3 or 4).

use super::args::ApplyArgs;
use super::plan::{ApplyJob, show};
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::apply::{self, SavedPlan};
use crate::desired::{self, Desired};
use crate::exit::Exit;
use crate::plan::{self, Plan, PlanOptions, Step};
use crate::render::Context;

/// `tagsync apply`.
pub fn cmd_apply(args: &ApplyArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

async fn run(args: &ApplyArgs) -> Result<Exit, CommandError> {
    let saved = SavedPlan::load(&args.plan).map_err(|e| CommandError::Other(e.to_string()))?;
    let config = args.config.clone().unwrap_or(saved.desired_path.clone());
    let bytes = desired::read_file(&config)?;
    // The hash first: a plan file names a path, and a file that is not the one the plan
    // was made from is never parsed, so its content is never quoted (a hand-edited plan
    // could point at any file, secrets included).
    if apply::saved::sha256_hex(&bytes) != saved.desired_sha256 {
        return Err(CommandError::Other(format!(
            "{}: the desired file changed since the plan was made (its sha256 is not the one \
             {} records); nothing was read from it and nothing was sent. Run `tagsync plan \
             --out` again",
            crate::sanitize::for_terminal(&config.display().to_string()),
            crate::sanitize::for_terminal(&args.plan.display().to_string()),
        )));
    }
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
    let loaded = ledger.clone();
    let snapshot = apply::read_corp(&remote.client, desired, &mut ledger, ledger_path.as_deref())
        .await
        .map_err(|e| CommandError::Other(e.to_string()))?;
    super::plan::rule_group_names(desired, &snapshot)?;
    let stale = apply::saved::check_fresh(saved, &remote.corp_id, bytes, &snapshot).err();
    // The file's steps are not trusted: plan again (the planner is deterministic) with
    // the flags the file records, and go on only if the same calls come out in the same
    // order (kind and fields, dependencies, blocked or not); what is shown and run is the
    // new plan, with today's reasons and notes. So a hand-edited or corrupt plan file runs
    // nothing `tagsync plan` would not have planned, and words in it are never shown.
    let tag_limit = saved.tag_limit.unwrap_or(crate::plan::TAG_LIMIT);
    if !(1..=crate::plan::TAG_LIMIT).contains(&tag_limit) {
        return Err(CommandError::Other(format!(
            "{} records tag_limit {tag_limit}, outside 1..=10000: it was edited; nothing was \
             sent. Run `tagsync plan --out` again",
            args.plan.display()
        )));
    }
    let options = PlanOptions {
        allow_delete: saved.allow_delete,
        tag_limit,
        ..PlanOptions::default()
    };
    let (again, bindings) = plan::plan_with_ledger(desired, &snapshot, &ledger, &options);
    if let Some(stale) = stale {
        // Stale, yet the corp already equals the file: the plan was applied before (or
        // the same changes were made another way). Nothing is left to do; saying "stale"
        // with the plan's own changes listed as remote edits would mislead.
        if again.is_empty() && !saved.plan.is_empty() {
            eprintln!(
                "Nothing to apply: the corp already equals {}, so {} was applied before (or \
                 the same changes were made another way); nothing was sent.",
                crate::sanitize::for_terminal(&config.display().to_string()),
                crate::sanitize::for_terminal(&args.plan.display().to_string()),
            );
            return Ok(Exit::Success);
        }
        return Err(CommandError::Other(stale.to_string()));
    }
    if let Some(at) = first_difference(&saved.plan, &again) {
        return Err(CommandError::Other(format!(
            "{} does not hold the calls that {} and the corp give now (from step {}; {} \
             steps there, {} now): the plan file was edited, or the corp or the ownership \
             ledger changed in a way that changes the calls; nothing was sent. Run `tagsync \
             plan --out` again and review the new plan",
            args.plan.display(),
            config.display(),
            at + 1,
            saved.plan.steps.len(),
            again.steps.len()
        )));
    }
    let file = config.display().to_string();
    let ctx = Context {
        corp_id: &remote.corp_id,
        file: &file,
        remote: &snapshot,
        whole_plan: None,
    };
    let plan = &again;
    remote_setup::verify_new_app(remote, &mut ledger, &snapshot).await?;
    let listed = crate::plan::scopes::listed_rule_group_ids(desired, &snapshot);
    let bind = (!plan.blocked()).then_some((bindings, listed));
    super::plan::settle(&mut ledger, &loaded, bind, ledger_path.as_deref())?;
    let runs = !plan.blocked() && !plan.is_empty();
    show(args.format, plan, &ctx, true, runs)?;
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
        one_line: false,
    };
    job.run(remote, &mut ledger, ledger_path.as_deref()).await
}

/// The index of the first step whose call differs between `saved` and `now` (kind and
/// fields, dependencies, destructive, blocked or not), or `None` when they make the same
/// calls. Reasons and notes are words, compared nowhere: the new plan's are shown.
fn first_difference(saved: &Plan, now: &Plan) -> Option<usize> {
    let same = |a: &Step, b: &Step| {
        a.id == b.id
            && a.kind == b.kind
            && a.depends_on == b.depends_on
            && a.destructive == b.destructive
            && a.blocked.is_some() == b.blocked.is_some()
    };
    let n = saved.steps.len().min(now.steps.len());
    (0..n)
        .find(|&i| !same(&saved.steps[i], &now.steps[i]))
        .or((saved.steps.len() != now.steps.len()).then_some(n))
}
