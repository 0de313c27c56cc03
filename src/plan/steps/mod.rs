//! Building the steps: edits, adds, the batched delete, and their dependencies.
//!
//! Decisions where the spec is silent:
//! - **Where the delete goes.** The batched delete runs *last*, after every other step
//!   succeeded (it depends on all of them): nothing irreversible happens while anything
//!   else can still fail, and a replace's new tag exists before the old one goes. Only
//!   when the delete frees a name that an add or rename needs does it run early; then it
//!   waits only for the adds into groups it would otherwise empty.
//! - **Groups that would vanish.** When the delete removes every remaining tag of a group
//!   the file keeps, the adds into that group run before the delete, so the server never
//!   auto-deletes it. A step that cannot be ordered (a cycle through the delete) is blocked.
//! - **Unlisted owned group with foreign tags inside**: deleting the group would delete
//!   tags tagsync does not own, so only the owned tags are deleted; the group and its
//!   foreign tags stay and are listed as unmanaged.
//! - **Unlisted foreign group with owned tags inside**: the owned tags are deleted; when
//!   that empties the group, the server removes it (the reason says so).
//! - **`managed: false` groups** are read-only as a whole: the group, its listed tags and
//!   its unlisted tags are never edited or deleted, and no order is computed for them. A
//!   listed tag (or the group) missing remotely becomes a *blocked* add: tagsync does not
//!   create inside a read-only group; the fix is to create it in the admin console, drop
//!   it from the file, or drop `managed: false` and keep `order: ignore`.
//! - **Replace of a tag whose source is not owned** (or sits in a read-only group): the
//!   removal is a separate, blocked delete step.

mod crowding;
mod deletes;
mod draft;
mod edits;
mod names;
mod sequence;

use std::collections::{HashMap, HashSet};

use super::matching::Matching;
use super::model::*;
use crate::desired::model::Desired;
use crate::snapshot::Snapshot;
use crowding::{crowd_first, crowding, over_limit};
use deletes::{collect_deletes, summarise};
use draft::{Builder, Draft};
use names::resolve_names;
use sequence::finish;

/// The corp's one tag quota as one scope's plan sees it.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// The most tags the corp may hold.
    pub limit: usize,
    /// Tags of the quota outside this scope (other scopes'), held throughout.
    pub others: usize,
}

/// Build every step of the plan. `owned`: what may be edited or deleted; `created`: what
/// the ledger records (the same, unless `ownership: all`); `kept`: owned ids the delete
/// leaves alone;
/// `quota`: the most tags the corp may hold, and how many of them are outside this
/// scope.
pub fn build(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    created: &Owned,
    kept: &HashSet<String>,
    m: &Matching,
    quota: Quota,
) -> Plan {
    let Quota {
        limit: tag_limit,
        others,
    } = quota;
    let mut b = Builder {
        desired,
        remote,
        owned,
        m,
        drafts: Vec::new(),
        renames: Vec::new(),
        takes: Vec::new(),
        add_into: HashMap::new(),
        notes: Vec::new(),
    };
    b.groups_and_tags();
    let dels = collect_deletes(desired, remote, owned, created, kept, m);
    let del = (!dels.groups.is_empty() || !dels.tags.is_empty()).then(|| {
        b.push(Draft {
            kind: StepKind::Delete {
                groups: dels.groups.clone(),
                tags: dels.tags.clone(),
            },
            reason: summarise(&dels.reasons, &[]),
            deps: vec![],
            blocked: None,
            destructive: true,
        })
    });
    for (tag, blocked) in &dels.blocked_tags {
        b.push(Draft {
            kind: StepKind::Delete { groups: vec![], tags: vec![tag.clone()] },
            reason: format!(
                "replace: tag `{}` moves from group `{}` to `{}`; the old one would have to be deleted",
                tag.name, tag.group, tag.moved_to.clone().unwrap_or_default()
            ),
            deps: vec![],
            blocked: Some(blocked.clone()),
            destructive: true,
        });
    }
    let early = resolve_names(&mut b, &dels, del);
    let crowded = crowding(&b, tag_limit, others);
    let mut peak_note = None;
    match (del, &crowded) {
        (Some(del), Some(c)) => {
            let peak = crowd_first(&mut b, &dels, del, c, tag_limit);
            if peak.after > tag_limit {
                peak_note = Some(over_limit(peak.after, tag_limit));
            } else if peak.during > tag_limit {
                peak_note = Some(format!(
                    "the corp would reach {} tags during this plan, over its {tag_limit} \
                     tag limit: adds past the limit fail with errcode 40126. Add fewer new \
                     tags in this change; once its deletes are applied, the rest fit",
                    peak.during
                ));
            }
        }
        (Some(del), None) => {
            let deps: Vec<usize> = if early {
                dels.emptied
                    .iter()
                    .filter_map(|rg| b.add_into.get(rg).copied())
                    .collect()
            } else {
                (0..b.drafts.len()).filter(|&i| i != del).collect()
            };
            b.drafts[del].deps.extend(deps);
            if early {
                b.drafts[del]
                    .reason
                    .push_str("; runs before the steps that reuse the names it frees");
            }
        }
        (None, Some(c)) => peak_note = Some(over_limit(c.now + c.added, tag_limit)),
        (None, None) => {}
    }
    let mut plan = finish(b.drafts);
    plan.unmanaged = dels.unmanaged;
    plan.notes = m.notes.clone();
    plan.notes.extend(b.notes);
    plan.notes.extend(peak_note);
    plan.notes.extend(dels.notes);
    plan
}
