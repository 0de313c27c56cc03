//! Safety gates: too many tags deleted or replaced blocks every destructive step.
//!
//! The count is every tag the plan would remove: tags deleted one by one, tags inside
//! deleted groups, and the old halves of replaces (blocked ones included, so the number
//! shown matches what the file asks for). "Owned tags" is the number of live remote tags
//! tagsync may delete (all of them under `ownership: all`).

use super::model::{Blocked, Owned, Plan, PlanOptions};
use crate::snapshot::Snapshot;

pub fn apply(plan: &mut Plan, remote: &Snapshot, owned: &Owned, options: &PlanOptions) {
    let owned_tags = remote
        .groups
        .iter()
        .flat_map(|g| &g.tags)
        .filter(|t| owned.contains(&t.id))
        .count();
    apply_counted(plan, owned_tags, options);
}

/// [`apply`] with the number of tags tagsync owns counted by the caller (every scope's).
pub fn apply_counted(plan: &mut Plan, owned_tags: usize, options: &PlanOptions) {
    let count = plan.deleted_tag_count();
    if count == 0 || options.allow_delete.is_some_and(|n| n >= count) {
        return;
    }
    let over_count = count > options.max_delete;
    let over_share = owned_tags >= options.percent_gate_min_owned
        && count * 100 > options.max_delete_percent * owned_tags;
    if !over_count && !over_share {
        return;
    }
    let why = if over_count {
        format!("over {} needs `--allow-delete`", options.max_delete)
    } else {
        format!(
            "more than {}% of the {owned_tags} tags tagsync owns",
            options.max_delete_percent
        )
    };
    // Say what was allowed when it was not enough, so the number to pass is plain.
    let allowed = match options.allow_delete {
        Some(n) => format!(" (`--allow-delete {n}` allows only {n})"),
        None => String::new(),
    };
    for s in plan.steps.iter_mut().filter(|s| s.destructive) {
        s.blocked.get_or_insert_with(|| Blocked {
            reason: format!("safety gate: the plan deletes or replaces {count} tags, {why}{allowed}; their customers lose them for good"),
            fix: format!("review the deletes, then pass `--allow-delete {count}`"),
        });
    }
}
