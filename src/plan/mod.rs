//! The planner: (desired, snapshot, ledger, options) → plan. Pure: no I/O.
//!
//! - [`model`]: the plan types (serialised for `--format json` and saved plans).
//! - [`matching`]: which remote item each desired item is.
//! - [`order`]: order values by longest increasing subsequence.
//! - [`steps`]: edits, adds, the batched delete, name-safe ordering, rename cycles.
//! - [`gates`]: the delete safety gate.
//! - [`simulate`]: apply a plan to a snapshot under the API rules (tests, dry runs).
//! - [`export`]: the corp as a desired file that plans to zero steps.

pub mod export;
pub mod gates;
pub mod matching;
pub mod model;
pub mod order;
pub mod simulate;
pub mod steps;

pub use export::export;
pub use model::{
    Blocked, DeletedGroup, DeletedTag, NewTag, Owned, Plan, PlanOptions, Step, StepKind, Target,
    Unmanaged, UnmanagedTag,
};
pub use simulate::{SimError, simulate};

use crate::desired::model::{Desired, Ownership};
use crate::remote::snapshot::Snapshot;

/// Plan the calls that make `remote` equal to `desired`.
///
/// `owned` is what the ledger says tagsync may edit or delete; `desired.ownership ==
/// All` overrides it with everything.
pub fn plan(desired: &Desired, remote: &Snapshot, owned: &Owned, options: &PlanOptions) -> Plan {
    let all = Owned::All;
    let owned = if desired.ownership == Ownership::All {
        &all
    } else {
        owned
    };
    let m = matching::match_all(desired, remote);
    let mut p = steps::build(desired, remote, owned, &m);
    gates::apply(&mut p, remote, owned, options);
    p
}

#[cfg(test)]
mod testutil;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
