//! After the last step: re-read the corp, plan again, and expect zero steps.

use std::fmt;

use serde::Serialize;

use crate::desired::Desired;
use crate::ledger::Ledger;
use crate::plan::{self, PlanOptions};
use crate::remote::{Client, Snapshot};
use crate::sanitize::for_terminal;

/// What the re-read after an apply found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VerifyResult {
    /// A fresh plan has zero steps: the corp equals the file.
    Converged,
    /// A fresh plan still has steps (their reasons, in plan order).
    Remaining { steps: Vec<String> },
    /// The corp could not be read.
    ReadFailed { error: String },
}

impl fmt::Display for VerifyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyResult::Converged => f.write_str("verified: the corp equals the file"),
            VerifyResult::Remaining { steps } => {
                let n = steps.len();
                let (changes, are, them) = if n == 1 {
                    ("change", "is", "it")
                } else {
                    ("changes", "are", "them")
                };
                write!(
                    f,
                    "verify: {n} {changes} {are} still needed; run `tagsync plan` to see {them}"
                )?;
                for s in steps.iter().take(10) {
                    write!(f, "\n  - {}", for_terminal(s))?;
                }
                if steps.len() > 10 {
                    write!(f, "\n  … and {} more", steps.len() - 10)?;
                }
                Ok(())
            }
            VerifyResult::ReadFailed { error } => write!(
                f,
                "verify: could not re-read the corp ({}); run `tagsync plan` to check",
                for_terminal(error)
            ),
        }
    }
}

/// Plan `desired` against `remote` with the ledger's ownership, history and bindings.
pub fn replan(
    desired: &Desired,
    remote: &Snapshot,
    ledger: &Ledger,
    options: &PlanOptions,
) -> plan::Plan {
    plan::plan_with_ledger(desired, remote, ledger, options).0
}

/// Re-read the corp and confirm a fresh plan is empty. When it is, every owned item the
/// file lists is bound to its name in the ledger (in memory: the caller saves).
///
/// `made` are the groups this run made (step, group id). A new group is added by name,
/// and WeCom puts the tags into an existing group of that name: if another app or an
/// admin made the group between the read and the add, the answer named their group, and
/// it was recorded as owned. Such a group holds tags this app does not own (a group is
/// never empty); it is let go here, its tags made by this run kept, and the returned
/// notes (step, note) say so. The re-read is the verify's own: no extra call.
pub async fn verify(
    client: &Client,
    desired: &Desired,
    ledger: &mut Ledger,
    options: &PlanOptions,
    made: &[(usize, String)],
) -> (VerifyResult, Vec<(usize, String)>) {
    let read = super::rule_groups_to_read(desired);
    match client.snapshot_with(read.as_ref()).await {
        Err(e) => (
            VerifyResult::ReadFailed {
                error: e.to_string(),
            },
            Vec::new(),
        ),
        Ok(remote) => {
            let notes = let_go_merged(&remote, ledger, made);
            let (p, bindings) = plan::plan_with_ledger(desired, &remote, ledger, options);
            let result = verdict(p);
            if result == VerifyResult::Converged {
                ledger.record(plan::scopes::listed_rule_group_ids(desired, &remote));
                ledger.bind_all(bindings);
            }
            (result, notes)
        }
    }
}

/// The groups of `made` that hold tags this app does not own: forgotten by the ledger
/// (their tags stay owned), with a note each.
fn let_go_merged(
    remote: &Snapshot,
    ledger: &mut Ledger,
    made: &[(usize, String)],
) -> Vec<(usize, String)> {
    let mut notes = Vec::new();
    for (step, gid) in made {
        let Some(g) = remote.groups.iter().find(|g| g.id == *gid) else {
            continue;
        };
        if !super::holds_others(g, ledger, &[]) {
            continue;
        }
        ledger.forget([gid.as_str()]);
        notes.push((
            *step,
            format!(
                "group `{}` already existed when the add arrived (made by another app or in the admin console since the corp was read): WeCom put the new tags into it; they are recorded as owned, the group is not",
                for_terminal(&g.name)
            ),
        ));
    }
    notes
}

/// [`verify`] on a snapshot already read.
pub fn check(
    desired: &Desired,
    remote: &Snapshot,
    ledger: &Ledger,
    options: &PlanOptions,
) -> VerifyResult {
    verdict(replan(desired, remote, ledger, options))
}

/// Converged when `p` is empty; else the reasons of what is left.
fn verdict(p: plan::Plan) -> VerifyResult {
    if p.is_empty() {
        VerifyResult::Converged
    } else {
        VerifyResult::Remaining {
            steps: p
                .steps
                .into_iter()
                .map(|s| s.reason.replace('\n', "; "))
                .collect(),
        }
    }
}
