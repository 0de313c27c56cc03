//! The planner: (desired, snapshot, ledger, options) → plan. Pure: no I/O.
//!
//! - [`model`]: the plan types (serialised for `--format json` and saved plans).
//! - [`matching`]: which remote item each desired item is (pins, the ledger's bindings,
//!   `previously`, names).
//! - [`drift`]: what matching means for identity: drift undone, owned items kept, typos
//!   in `previously`, deletes that look like renames, the bindings to record.
//! - [`order`]: order values by longest increasing subsequence.
//! - [`steps`]: edits, adds, the batched delete, name-safe ordering, rename cycles.
//! - [`gates`]: the delete safety gate.
//! - [`simulate`](mod@simulate): apply a plan to a snapshot under the API rules (tests, dry runs).
//! - [`export`](mod@export): the corp as a desired file that plans to zero steps.
//!
//! Every step is one API call: `plan.calls() == plan.steps.len()`. Steps are listed in a
//! valid sequential order and `depends_on` only points backwards, so an executor may run
//! them concurrently as soon as their dependencies succeeded.
//!
//! # What the executor does with a plan
//!
//! - Refuse to start when [`Plan::blocked`]; show every blocked step's reason and fix.
//! - Send each step's request (`apply::request`), running a step once its `depends_on` all
//!   succeeded; a failed step stops only the steps that (transitively) depend on it.
//! - After each successful add, record the new ids with their bindings from the answer
//!   (`Ledger::record_bound`) and save the ledger; after each successful edit,
//!   `Ledger::record_rename`/`record_order` and save. Plan with [`plan_with_ledger`] (it
//!   passes the ledger's ownership, history and bindings).
//! - [`Plan::notes`] are remarks for the reader (pins not found, interrupted moves,
//!   rename cycles); renderers should show them.
//!
//! # Decisions where the spec is silent
//!
//! Each module documents its own; the main ones:
//! - **Delete placement** ([`steps`]): the one batched delete runs last, after every other
//!   step succeeded, unless it frees a name an add or rename needs; then it runs first,
//!   after only the adds into groups it would otherwise empty.
//! - **Rename cycles** ([`steps`]): the earliest-listed member goes through
//!   `~~<final name>` (or `~~tagsync-N` when that is taken in its group); a leftover
//!   `~~X` is matched to `X` on the next plan, so an apply that failed half-way resumes.
//! - **Applied swaps** ([`History`], kept in the ledger): once a swap ran, both names
//!   exist and names alone cannot tell which id is which, so the next plan would swap
//!   back. The executor records every applied rename in the ledger and passes it as
//!   `PlanOptions::history`; a `previously` entry whose rename is recorded as done is
//!   skipped. Without that record the plan carries a note asking to remove the entries
//!   or pin the ids. Chains converge either way.
//! - **`previously` across groups** is not a move: tags match only within their group
//!   (matching is per group). Only a pinned tag `id` found in another group makes a replace.
//! - **`managed: false`** ([`steps`]): the group and all its tags (listed or not) are
//!   read-only and take no part in ordering; a missing group or tag is a blocked add.
//! - **Order** ([`order`]): equal values never count as "in order"; new values go into the
//!   gaps (1000 apart at open ends); renamed items may move for free.
//! - **Gates** ([`gates`]): count every tag removed (tags inside deleted groups and the old
//!   halves of replaces included); a tripped gate blocks every destructive step.

pub mod drift;
pub mod export;
pub mod gates;
pub mod matching;
pub mod model;
pub mod order;
pub mod scopes;
pub mod simulate;
pub mod steps;

pub use export::export;
pub use model::{
    Binding, Bindings, Blocked, DeletedGroup, DeletedTag, History, NewTag, Owned, Plan,
    PlanOptions, Scope, Step, StepKind, Summary, TAG_LIMIT, Target, Unmanaged, UnmanagedTag,
};
pub use simulate::{SimError, simulate};

use crate::desired::model::{Desired, Ownership};
use crate::ledger::Ledger;
use crate::snapshot::Snapshot;

/// The one planning entry of the commands (plan, apply, verify): [`plan`] with the
/// ledger's ownership, rename history and bindings; and, from the same matching, what
/// each owned item the file lists is where the corp already agrees with the file (the
/// bindings a run that writes the ledger records: [`drift::bindings`]).
pub fn plan_with_ledger(
    desired: &Desired,
    remote: &Snapshot,
    ledger: &Ledger,
    options: &PlanOptions,
) -> (Plan, Bindings) {
    // The ledger's history and bindings by reference: a clone of 10,000 bindings cost
    // more than the matching that reads them.
    let memory = Memory {
        history: &ledger.history,
        bindings: &ledger.bindings,
    };
    scopes::plan_scopes(desired, remote, &ledger.owned(), options, memory, true)
}

/// [`plan_with_ledger`] without the bindings, for a plan that writes nothing.
pub fn plan_from_ledger(
    desired: &Desired,
    remote: &Snapshot,
    ledger: &Ledger,
    options: &PlanOptions,
) -> Plan {
    let memory = Memory {
        history: &ledger.history,
        bindings: &ledger.bindings,
    };
    scopes::plan_scopes(desired, remote, &ledger.owned(), options, memory, false).0
}

/// Plan the calls that make `remote` equal to `desired`.
///
/// `owned` is what the ledger says tagsync may edit or delete; `desired.ownership ==
/// All` overrides it with everything.
pub fn plan(desired: &Desired, remote: &Snapshot, owned: &Owned, options: &PlanOptions) -> Plan {
    let memory = Memory {
        history: &options.history,
        bindings: &options.bindings,
    };
    scopes::plan_scopes(desired, remote, owned, options, memory, false).0
}

/// What the ledger remembers of earlier runs: the renames applied and what each owned id
/// was last applied as.
#[derive(Clone, Copy)]
struct Memory<'a> {
    history: &'a History,
    bindings: &'a Bindings,
}

/// [`plan`] of one scope without the delete gate (applied to the whole plan, every
/// scope's deletes counted together), and the matching it was made from.
fn plan_matched(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    options: &PlanOptions,
    memory: Memory<'_>,
) -> (Plan, matching::Matching) {
    let all = Owned::All;
    // What the ledger records (tagsync made or adopted it), and what may be changed.
    let created = owned;
    let owned = if desired.ownership == Ownership::All {
        &all
    } else {
        owned
    };
    let Memory { history, bindings } = memory;
    let m = matching::match_all(desired, remote, history, bindings);
    let kept = drift::kept(desired, remote, &m, bindings);
    let mut p = steps::build(
        desired,
        remote,
        owned,
        created,
        &kept.ids,
        &m,
        steps::Quota {
            limit: options.tag_limit,
            others: options.quota_others,
        },
    );
    p.notes.extend(kept.notes);
    drift::mark(&mut p, bindings, remote, desired);
    drift::check_previously(&mut p, desired, remote, &m, bindings);
    drift::rename_hints(&mut p);
    (p, m)
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_history;

#[cfg(test)]
mod props;
