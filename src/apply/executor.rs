//! The executor: run a plan's steps through the client, record ownership as it goes.
//!
//! - Refuses a blocked plan before sending anything.
//! - Runs steps as soon as everything in their `depends_on` succeeded, at most
//!   `parallelism` at once (the client rate-limits on top). A failed step stops only the
//!   steps that depend on it, transitively; the rest still run.
//! - Before an add is sent, a [`PendingAdd`] is written to the ledger; after it succeeded
//!   the ids of the answer are recorded, the pending entry cleared and the ledger saved
//!   before the executor waits for another step. A process killed in between leaves the
//!   pending entry, which [`claim_pending`](super::claim_pending) turns into owned ids on
//!   the next run.
//! - Saves stay off the round trips: outcomes are saved while the steps sent next are in
//!   flight, steps that finish together share one save, and each save also writes the
//!   pending entries of the next `parallelism` ready adds, so an add whose slot frees
//!   is sent at once. A step that depends on another is sent only once that step's
//!   outcome is on disk. Entries of adds announced but never sent (the run stopped) are
//!   removed at the end; after a kill they claim nothing, since nothing was created.
//! - Lost answers ([`ErrorKind::Ambiguous`]) are never resent blindly: an add re-reads
//!   its group (by id, or the whole corp to find a new group by name), records the tags
//!   that are there as created and adds only what is still missing; an edit or delete
//!   re-reads the corp and checks whether its effect is there. An add whose outcome no
//!   re-read settled (the re-read failed too) fails and keeps its pending entry, so the
//!   next run claims whatever it created.
//!
//! Decisions where the spec is silent:
//! - An ambiguous add is resolved at most [`MAX_ADD_ROUNDS`](super::send::MAX_ADD_ROUNDS) times in a row; then the
//!   step fails as ambiguous and the next `plan` shows what is left.
//! - Pending entries are written up to `parallelism` adds ahead of their sending: the
//!   window in which another app creating the very same name in the very same group
//!   would be claimed (see [`claim_pending`](super::claim_pending)) opens that much
//!   earlier, by the time the adds before it take.
//! - **Circuit breaker:** once a step fails because WeCom cannot be reached at all (a
//!   transport failure that outlasted the client's retries), no further step is started;
//!   the steps in flight finish and the rest are reported as not attempted (exit 4). A
//!   dead server thus ends the run within one call's retry budget (60 s by default)
//!   instead of one budget per step.
//! - When the ledger cannot be saved, no further step is started once that is known
//!   (tagsync would lose track of what it creates); the report carries the error and
//!   exits 1. No add is ever sent without its pending entry on disk; edits and deletes
//!   sent while the failing save ran (at most `parallelism`) finish and are reported.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinSet;

use super::report::{ApplyReport, Counts, Failure, StepOutcome, StepStatus, kind_name};
use super::send::{Done, run_step};
use crate::ledger::{Binding, Ledger, PendingAdd};
use crate::plan::{Plan, Step, StepKind};
use crate::remote::{Client, ErrorKind};

/// Called with each step's outcome as soon as it is known (e.g. to tick a progress bar).
pub type Progress = Arc<dyn Fn(&StepOutcome) + Send + Sync>;

/// Knobs of the executor.
#[derive(Clone)]
pub struct ApplyOptions {
    /// Steps in flight at once (at least 1; default 4).
    pub parallelism: usize,
    pub progress: Option<Progress>,
    /// Set (e.g. on Ctrl-C) to start no further step: the steps in flight finish and are
    /// recorded, the rest are reported as not attempted.
    pub interrupted: Option<Arc<AtomicBool>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 4,
            progress: None,
            interrupted: None,
        }
    }
}

impl fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("parallelism", &self.parallelism)
            .field("progress", &self.progress.is_some())
            .field("interrupted", &self.interrupted)
            .finish()
    }
}

/// Own what an add created, each bound to what it is in the file (the name and order
/// the answer gives; a new group's order is the one the step sent).
fn record_created(ledger: &mut Ledger, kind: &StepKind, done: &Done) {
    if let Some((id, name)) = &done.group {
        let order = match kind {
            StepKind::AddGroup { order, .. } => *order,
            _ => None,
        };
        ledger.record_bound(id, Binding::group(name, order));
    }
    if let Some(home) = &done.home {
        for (id, name, order) in &done.tags {
            ledger.record_bound(id, Binding::tag(home, name, Some(*order)));
        }
    }
}

/// Record what an applied edit or delete changed: a rename in the history and the
/// binding, an order in the binding; deleted ids are forgotten.
fn record_applied(ledger: &mut Ledger, kind: &StepKind) {
    match kind {
        StepKind::Edit {
            id,
            from_name,
            to_name,
            to_order,
            ..
        } => {
            if let Some(to) = to_name {
                ledger.record_rename(id, from_name, to);
            }
            if let Some(order) = to_order {
                ledger.record_order(id, *order);
            }
        }
        StepKind::Delete { groups, tags } => {
            // A deleted group takes its tags with it: their ids go too.
            let members: Vec<String> = groups
                .iter()
                .flat_map(|g| ledger.tags_bound_to(&g.id))
                .collect();
            let ids = groups.iter().map(|g| g.id.as_str());
            let ids = ids.chain(members.iter().map(String::as_str));
            ledger.forget(ids.chain(tags.iter().map(|t| t.id.as_str())));
        }
        StepKind::AddGroup { .. } | StepKind::AddTags { .. } => {}
    }
}

/// Save the ledger, unless it lives in memory only (`None`: a demo against `--emulator`).
fn save(ledger: &Ledger, path: Option<&Path>) -> Result<(), crate::ledger::LedgerError> {
    match path {
        Some(p) => ledger.save(p),
        None => Ok(()),
    }
}

/// What of the ledger is on disk.
#[derive(Debug, Default)]
struct Disk {
    /// Outcomes recorded in memory since the last save.
    unsaved: bool,
    /// Add steps whose pending entry is in the ledger in memory...
    announced: BTreeSet<usize>,
    /// ...and those of them the last successful save wrote.
    durable: BTreeSet<usize>,
}

impl Disk {
    /// Put an add's pending entry in the ledger; true when it is not on disk yet.
    fn announce(&mut self, ledger: &mut Ledger, step: &Step) -> bool {
        let Some(pending) = pending_of(step) else {
            return false;
        };
        if self.announced.insert(step.id) {
            ledger.pending.retain(|p| p.step != step.id);
            ledger.pending.push(pending);
        }
        !self.durable.contains(&step.id)
    }

    /// Announce the next `n` adds of `ready`, so that the save about to happen writes
    /// their entries too and they can be sent without waiting for another save.
    fn announce_ahead(
        &mut self,
        ledger: &mut Ledger,
        plan: &Plan,
        ready: &BTreeSet<usize>,
        n: usize,
    ) {
        let adds = ready
            .iter()
            .map(|&id| &plan.steps[id])
            .filter(|s| matches!(s.kind, StepKind::AddGroup { .. } | StepKind::AddTags { .. }))
            .take(n);
        for step in adds {
            self.announce(ledger, step);
        }
    }

    fn save(
        &mut self,
        ledger: &Ledger,
        path: Option<&Path>,
    ) -> Result<(), crate::ledger::LedgerError> {
        save(ledger, path)?;
        self.unsaved = false;
        self.durable.clone_from(&self.announced);
        Ok(())
    }
}

/// Run `plan` (see the module docs). The ledger is saved at `ledger_path` as steps
/// finish (never when it is `None`: kept in memory only).
pub async fn execute(
    plan: &Plan,
    client: &Client,
    ledger: &mut Ledger,
    ledger_path: Option<&Path>,
    opts: &ApplyOptions,
) -> ApplyReport {
    if plan.blocked() {
        return refused(plan);
    }
    if !ledger.pending.is_empty() {
        let error = "the ownership ledger lists adds of an interrupted run that were never \
                     settled; run `tagsync plan` (which claims them) and apply again";
        return unsent(plan, false, Some(error.into()), |_| {
            "nothing was sent".into()
        });
    }
    let malformed = plan
        .steps
        .iter()
        .enumerate()
        .any(|(i, s)| s.id != i || s.depends_on.iter().any(|&d| d >= i));
    if malformed {
        // Only a plan read from a damaged file can look like this; send none of it.
        let error = "the plan's step ids or dependencies are out of order (a damaged plan \
                     file?); make a new plan";
        return unsent(plan, false, Some(error.into()), |_| {
            "nothing was sent".into()
        });
    }
    let n = plan.steps.len();
    let mut status: Vec<Option<StepStatus>> = vec![None; n];
    let mut waiting: Vec<usize> = plan.steps.iter().map(|s| s.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in &plan.steps {
        for &d in &s.depends_on {
            if d < n && d != s.id {
                dependents[d].push(s.id);
            } else {
                // A dependency that cannot be met: never run this step.
                waiting[s.id] = usize::MAX;
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut running: JoinSet<Done> = JoinSet::new();
    let mut task_step: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut error: Option<String> = None;
    let mut made_groups: Vec<(usize, String)> = Vec::new();
    // Set once a step finds WeCom unreachable: nothing more is sent (a circuit breaker),
    // so a dead server ends the run within one call's retries, not one per step.
    let mut down: Option<String> = None;
    let parallelism = opts.parallelism.max(1);
    let emit = |outcome: &StepOutcome| {
        if let Some(p) = &opts.progress {
            p(outcome);
        }
    };

    let interrupted = || {
        opts.interrupted
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    };
    let mut disk = Disk::default();
    loop {
        // Take the steps that fit. The pending entries of their adds, and the outcomes
        // recorded since the last save when one of them depends on another step, must be
        // on disk before any of them is sent.
        let mut batch = Vec::new();
        let mut save_first = false;
        while error.is_none()
            && down.is_none()
            && !interrupted()
            && running.len() + batch.len() < parallelism
        {
            let Some(id) = ready.pop_first() else { break };
            let step = &plan.steps[id];
            save_first |= disk.announce(ledger, step);
            save_first |= disk.unsaved && !step.depends_on.is_empty();
            batch.push(id);
        }
        if save_first {
            disk.announce_ahead(ledger, plan, &ready, parallelism);
            if let Err(e) = disk.save(ledger, ledger_path) {
                error.get_or_insert(e.to_string());
                ready.extend(batch.drain(..));
            }
        }
        for id in batch {
            let client = client.clone();
            let (kind, scope) = (plan.steps[id].kind.clone(), plan.steps[id].scope.clone());
            let handle = running.spawn(async move { run_step(&client, &kind, &scope).await });
            task_step.insert(handle.id(), id);
        }
        // Other outcomes are saved while the steps just sent are in flight, so the save
        // costs no round trip; the next adds' pending entries ride along.
        if disk.unsaved {
            if error.is_none() {
                disk.announce_ahead(ledger, plan, &ready, parallelism);
            }
            if let Err(e) = disk.save(ledger, ledger_path) {
                error.get_or_insert(e.to_string());
            }
        }
        let Some(mut joined) = running.join_next_with_id().await else {
            break;
        };
        // Settle every step that has finished by now; one save then covers them all.
        loop {
            let (id, done) = match joined {
                Ok((task, done)) => (task_step.remove(&task), done),
                Err(e) => (
                    task_step.remove(&e.id()),
                    Done::failed(Failure {
                        errcode: None,
                        errmsg: format!("the step's task ended abnormally: {e}"),
                        hint: "this is a bug in tagsync; run `tagsync plan` again".into(),
                        kind: kind_name(ErrorKind::Fatal).into(),
                        call: None,
                    }),
                ),
            };
            if let Some(id) = id {
                let step = &plan.steps[id];
                if let Some(why) = &done.unreachable {
                    down.get_or_insert_with(|| why.clone());
                }
                record_created(ledger, &step.kind, &done);
                if let Some((gid, _)) = &done.group {
                    made_groups.push((id, gid.clone()));
                }
                if !done.unsettled {
                    ledger.pending.retain(|p| p.step != id);
                }
                disk.unsaved = true;
                let st = match done.failure {
                    None => {
                        record_applied(ledger, &step.kind);
                        StepStatus::Applied { note: done.note }
                    }
                    Some(f) => StepStatus::Failed(f),
                };
                if matches!(st, StepStatus::Applied { .. }) {
                    for &d in &dependents[id] {
                        waiting[d] = waiting[d].saturating_sub(1);
                        if waiting[d] == 0 {
                            ready.insert(d);
                        }
                    }
                } else {
                    stop_dependents(id, &dependents, &mut status);
                }
                status[id] = Some(st);
                emit(&outcome(step, status[id].clone()));
            }
            match running.try_join_next_with_id() {
                Some(next) => joined = next,
                None => break,
            }
        }
    }

    // A stop can leave entries of adds announced ahead but never sent: drop them (an
    // unsettled add that was sent keeps its entry for the next run to claim).
    let before = ledger.pending.len();
    ledger
        .pending
        .retain(|p| status.get(p.step).is_some_and(Option::is_some));
    if ledger.pending.len() != before
        && let Err(e) = save(ledger, ledger_path)
    {
        error.get_or_insert(e.to_string());
    }

    let steps: Vec<StepOutcome> = plan
        .steps
        .iter()
        .map(|s| {
            let st = status[s.id]
                .clone()
                .unwrap_or_else(|| StepStatus::NotAttempted {
                    reason: match &error {
                        Some(e) => format!("stopped: the ledger could not be saved ({e})"),
                        None if interrupted() => "interrupted before this step was sent".into(),
                        None if down.is_some() => format!(
                            "not sent: WeCom could not be reached, so nothing more was sent ({})",
                            down.as_deref().unwrap_or_default()
                        ),
                        None => "a step it depends on was not applied".into(),
                    },
                });
            outcome(s, Some(st))
        })
        .collect();
    for s in steps
        .iter()
        .filter(|o| matches!(o.status, StepStatus::NotAttempted { .. }))
    {
        emit(s);
    }
    ApplyReport {
        refused: false,
        counts: Counts::of(&steps),
        steps,
        error,
        verify: None,
        made_groups,
    }
}

fn outcome(step: &Step, status: Option<StepStatus>) -> StepOutcome {
    StepOutcome {
        step_id: step.id,
        status: status.unwrap_or(StepStatus::NotAttempted {
            reason: "not run".into(),
        }),
    }
}

/// Mark every step that (transitively) depends on `failed` as not attempted.
fn stop_dependents(failed: usize, dependents: &[Vec<usize>], status: &mut [Option<StepStatus>]) {
    let mut stack = vec![failed];
    while let Some(i) = stack.pop() {
        for &d in &dependents[i] {
            if status[d].is_none() {
                status[d] = Some(StepStatus::NotAttempted {
                    reason: format!("step {i} it depends on was not applied"),
                });
                stack.push(d);
            }
        }
    }
}

/// Nothing sent: every step not attempted for `reason`.
fn unsent(
    plan: &Plan,
    refused: bool,
    error: Option<String>,
    reason: impl Fn(&Step) -> String,
) -> ApplyReport {
    let steps: Vec<StepOutcome> = plan
        .steps
        .iter()
        .map(|s| StepOutcome {
            step_id: s.id,
            status: StepStatus::NotAttempted { reason: reason(s) },
        })
        .collect();
    ApplyReport {
        refused,
        counts: Counts::of(&steps),
        steps,
        error,
        verify: None,
        made_groups: Vec::new(),
    }
}

fn refused(plan: &Plan) -> ApplyReport {
    unsent(plan, true, None, |s| match &s.blocked {
        Some(b) => format!("blocked: {} (fix: {})", b.reason, b.fix),
        None => "the plan is blocked: nothing was sent".into(),
    })
}

/// The ledger's record of an add about to be sent.
fn pending_of(step: &Step) -> Option<PendingAdd> {
    let (group_id, group_name, tags) = match &step.kind {
        StepKind::AddGroup { name, tags, .. } => (None, name, tags),
        StepKind::AddTags {
            group_id,
            group_name,
            tags,
        } => (Some(group_id.clone()), group_name, tags),
        _ => return None,
    };
    Some(PendingAdd {
        step: step.id,
        group_id,
        group_name: group_name.clone(),
        names: tags.iter().map(|t| t.name.clone()).collect(),
        strategy_id: step.scope.strategy_id(),
    })
}
