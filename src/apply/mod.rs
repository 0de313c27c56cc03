//! Apply: run a plan's steps through the client in dependency order, then verify.
//!
//! The flow a command follows:
//!
//! 1. [`read_corp`]: snapshot the corp and settle adds a killed run left pending in the
//!    ledger ([`claim_pending`]), so their tags are owned before planning;
//! 2. plan with `ledger.owned()` and `ledger.history` (see [`verify::replan`]);
//! 3. [`apply`] (= [`execute`] then [`verify`](verify::verify)), and print the
//!    [`ApplyReport`]; its [`ApplyReport::exit`] is the process exit code.
//!
//! [`saved`] holds the `--out plan.json` format and its freshness check.

pub mod executor;
pub mod report;
pub mod request;
pub mod saved;
pub mod send;
pub mod verify;

use std::path::Path;

pub use executor::{ApplyOptions, Progress, execute};
pub use report::{ApplyReport, Counts, Failure, StepOutcome, StepStatus};
pub use saved::{SavedPlan, SavedPlanError, StaleError};
pub use verify::{VerifyResult, replan};

use crate::desired::Desired;
use crate::desired::model::RuleGroupRef;
use crate::ledger::{Ledger, LedgerError};
use crate::plan::{Plan, PlanOptions};
use crate::remote::{Client, ClientError, RemoteGroup, RuleGroupRead, Snapshot};

/// Errors before any step runs.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot read the corp: {0}")]
    Read(#[from] ClientError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Turn the ledger's pending adds (left by a run that stopped mid-way) into owned ids:
/// a tag named as intended in the intended group is what that add created (the plan
/// only adds names its group lacks), and a new group found by its name is owned too.
/// Returns how many ids were newly recorded; the pending list is emptied.
///
/// Where the spec is silent: another app creating the very same name in the very same
/// group between the crash and this call would be claimed too; edits to it then fail
/// with an ownership error, which names it.
pub fn claim_pending(ledger: &mut Ledger, remote: &Snapshot) -> usize {
    let pending = std::mem::take(&mut ledger.pending);
    let mut ids = Vec::new();
    for p in pending {
        // A rule group's add is settled against that rule group's tags; when they were
        // not read, the entry waits for a run that reads them.
        let groups = match p.strategy_id {
            None => &remote.groups,
            Some(id) => match &remote.rule_groups {
                None => {
                    ledger.pending.push(p);
                    continue;
                }
                Some(_) => match remote.rule_group(id) {
                    Some(r) => &r.groups,
                    None => continue,
                },
            },
        };
        let group = groups.iter().find(|g| match &p.group_id {
            Some(id) => g.id == *id,
            None => g.name == p.group_name,
        });
        let Some(group) = group else { continue };
        let tags: Vec<&String> = group
            .tags
            .iter()
            .filter(|t| p.names.contains(&t.name))
            .map(|t| &t.id)
            .collect();
        // A new group's add lands in an existing group of its name (WeCom merges by
        // name): a group holding tags that are neither this add's nor owned was made by
        // someone else meanwhile, and only the tags are claimed (as the verify does).
        if p.group_id.is_none() && !tags.is_empty() && !holds_others(group, ledger, &p.names) {
            ids.push(group.id.clone());
        }
        ids.extend(tags.into_iter().cloned());
    }
    ledger.record(ids)
}

/// Whether `group`, which an add of a new group landed in, holds tags that are neither
/// owned nor among `ours` (the add's names): then it was made by someone else meanwhile
/// and WeCom merged the add into it (a group is never empty).
pub(crate) fn holds_others(group: &RemoteGroup, ledger: &Ledger, ours: &[String]) -> bool {
    group
        .tags
        .iter()
        .any(|t| !ours.contains(&t.name) && !ledger.owned.contains(&t.id))
}

/// Which rule groups a read for `desired` asks for: none without a `strategies:`
/// section; only the ids it names when it names them all by id; else every one (a name
/// is looked up among them).
pub fn rule_groups_to_read(desired: &Desired) -> Option<RuleGroupRead> {
    let strategies = desired.strategies.as_ref()?;
    let ids: Option<Vec<u64>> = strategies
        .iter()
        .map(|r| match r.rule_group {
            RuleGroupRef::Id(id) => Some(id),
            RuleGroupRef::Name(_) => None,
        })
        .collect();
    Some(ids.map_or(RuleGroupRead::All, RuleGroupRead::Ids))
}

/// Snapshot the corp and [`claim_pending`] (saving the ledger when it changed and has a
/// path).
pub async fn read_corp(
    client: &Client,
    desired: &Desired,
    ledger: &mut Ledger,
    ledger_path: Option<&Path>,
) -> Result<Snapshot, ApplyError> {
    let snapshot = client
        .snapshot_with(rule_groups_to_read(desired).as_ref())
        .await?;
    if !ledger.pending.is_empty() {
        claim_pending(ledger, &snapshot);
        if let Some(path) = ledger_path {
            ledger.save(path)?;
        }
    }
    Ok(snapshot)
}

/// [`execute`], then (when anything was sent) re-read and verify against `desired`.
pub async fn apply(
    plan: &Plan,
    desired: &Desired,
    plan_options: &PlanOptions,
    client: &Client,
    ledger: &mut Ledger,
    ledger_path: Option<&Path>,
    opts: &ApplyOptions,
) -> ApplyReport {
    let mut report = execute(plan, client, ledger, ledger_path, opts).await;
    if !report.refused && !plan.is_empty() && report.error.is_none() {
        let before = ledger.bindings.clone();
        let made = std::mem::take(&mut report.made_groups);
        let (result, notes) = verify::verify(client, desired, ledger, plan_options, &made).await;
        report.verify = Some(result);
        for (step, note) in notes {
            if let Some(StepStatus::Applied { note: n }) = report
                .steps
                .iter_mut()
                .find(|o| o.step_id == step)
                .map(|o| &mut o.status)
            {
                *n = Some(match n.take() {
                    Some(earlier) => format!("{earlier}; {note}"),
                    None => note,
                });
            }
        }
        if ledger.bindings != before
            && let Some(path) = ledger_path
            && let Err(e) = ledger.save(path)
        {
            report.error = Some(format!("the ledger could not be saved after verify: {e}"));
        }
    }
    report
}

#[cfg(test)]
mod tests;
