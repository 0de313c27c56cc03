//! The batched delete: which owned items the file no longer lists (whole groups by group
//! id), which stay (foreign, read-only, kept), and the delete's reason.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::super::matching::Matching;
use super::super::model::*;
use super::draft::{not_owned, read_only};
use crate::desired::model::Desired;
use crate::snapshot::Snapshot;

/// What the delete removes, and who it leaves alone.
#[derive(Default)]
pub(super) struct Deletes {
    pub(super) groups: Vec<DeletedGroup>,
    pub(super) tags: Vec<DeletedTag>,
    /// Moves whose source may not be deleted.
    pub(super) blocked_tags: Vec<(DeletedTag, Blocked)>,
    pub(super) deleted_groups: BTreeSet<usize>,
    pub(super) deleted_tags: BTreeSet<(usize, usize)>,
    /// Why each item goes, with the id of the tag it is about (`None`: a group).
    pub(super) reasons: Vec<(Option<String>, String)>,
    pub(super) unmanaged: Unmanaged,
    /// Remote groups kept by the file whose every tag the delete removes.
    pub(super) emptied: Vec<usize>,
    /// Shadowed items (an old name kept by nobody) that stay because they are foreign.
    pub(super) notes: Vec<String>,
}

pub(super) fn collect_deletes(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    created: &Owned,
    kept: &HashSet<String>,
    m: &Matching,
) -> Deletes {
    // Owned and not kept (see `drift::kept`): what the delete may remove.
    let own = |id: &str| owned.contains(id) && !kept.contains(id);
    // Why tagsync may delete it: it made it, or `ownership: all` lets it.
    let whose = |id: &str| {
        if created.contains(id) {
            "tagsync created it"
        } else {
            "`ownership: all` lets this app delete it"
        }
    };
    let mut out = Deletes::default();
    let mut claimed_group: Vec<Option<usize>> = vec![None; remote.groups.len()];
    for (di, r) in m.groups.iter().enumerate() {
        if let Some(r) = r {
            claimed_group[*r] = Some(di);
        }
    }
    // moved_to[(rg, rt)] = desired group name the tag moves to.
    let mut claimed_tag: HashMap<(usize, usize), Option<usize>> = HashMap::new();
    for (di, tags) in m.tags.iter().enumerate() {
        for x in tags.iter().flatten() {
            let moved = m.groups[di] != Some(x.0);
            claimed_tag.insert(*x, moved.then_some(di));
        }
    }
    for (rg, g) in remote.groups.iter().enumerate() {
        let read_only_group = claimed_group[rg].is_some_and(|d| !desired.groups[d].managed);
        let mut owned_tags = Vec::new();
        let mut foreign = Vec::new();
        let mut moved = Vec::new();
        for (rt, t) in g.tags.iter().enumerate() {
            match claimed_tag.get(&(rg, rt)) {
                Some(None) => {}
                Some(Some(to)) => moved.push((rt, *to)),
                None if read_only_group || !own(&t.id) => foreign.push(rt),
                None => owned_tags.push(rt),
            }
        }
        let mk = |rt: usize, moved_to: Option<String>| DeletedTag {
            id: g.tags[rt].id.clone(),
            name: g.tags[rt].name.clone(),
            group: g.name.clone(),
            moved_to,
        };
        for &(rt, to) in &moved {
            let tag = mk(rt, Some(desired.groups[to].name.clone()));
            if read_only_group {
                out.blocked_tags.push((tag, read_only(&g.name)));
            } else if !own(&g.tags[rt].id) {
                let b = not_owned(&g.tags[rt].id);
                out.blocked_tags.push((tag, b));
            }
        }
        let movable: Vec<(usize, usize)> = moved
            .iter()
            .copied()
            .filter(|(rt, _)| !read_only_group && own(&g.tags[*rt].id))
            .collect();
        let unlisted_group = claimed_group[rg].is_none();
        let whole =
            unlisted_group && own(&g.id) && foreign.is_empty() && movable.len() == moved.len();
        if whole {
            out.deleted_groups.insert(rg);
            out.groups.push(DeletedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                tags: g.tags.iter().map(|t| t.name.clone()).collect(),
            });
            let why = m
                .shadowed
                .get(&g.id)
                .cloned()
                .unwrap_or_else(|| "not in the file".into());
            out.reasons.push((
                None,
                format!(
                    "group `{}`: {why}; {}: deleted with its {} tag{}",
                    g.name,
                    whose(&g.id),
                    g.tags.len(),
                    if g.tags.len() == 1 { "" } else { "s" }
                ),
            ));
            continue;
        }
        for &rt in &owned_tags {
            out.deleted_tags.insert((rg, rt));
            out.tags.push(mk(rt, None));
            let why = m
                .shadowed
                .get(&g.tags[rt].id)
                .cloned()
                .unwrap_or_else(|| "not in the file".into());
            out.reasons.push((
                Some(g.tags[rt].id.clone()),
                format!(
                    "tag `{}` in group `{}`: {why}; {}",
                    g.tags[rt].name,
                    g.name,
                    whose(&g.tags[rt].id)
                ),
            ));
        }
        for &(rt, to) in &movable {
            out.deleted_tags.insert((rg, rt));
            out.tags.push(mk(rt, Some(desired.groups[to].name.clone())));
            out.reasons.push((
                Some(g.tags[rt].id.clone()),
                format!(
                    "replace: tag `{}` moves from group `{}` to `{}`; the API cannot move a tag, so the old one is deleted (its customers lose it)",
                    g.tags[rt].name, g.name, desired.groups[to].name
                ),
            ));
        }
        let removed = owned_tags.len() + movable.len();
        if removed > 0 && removed == g.tags.len() {
            if unlisted_group {
                out.reasons.push((
                    None,
                    format!(
                        "group `{}` loses its last tag and the server removes it",
                        g.name
                    ),
                ));
            } else {
                out.emptied.push(rg);
            }
        }
        if let Some(why) = m.shadowed.get(&g.id).filter(|_| unlisted_group) {
            out.notes.push(format!(
                "group `{}`: {why}; tagsync does not own it, so it stays",
                g.name
            ));
        }
        for &rt in &foreign {
            if let Some(why) = m.shadowed.get(&g.tags[rt].id) {
                out.notes.push(format!(
                    "tag `{}` in group `{}`: {why}; tagsync does not own it, so it stays",
                    g.tags[rt].name, g.name
                ));
            }
        }
        if unlisted_group && removed == 0 && moved.is_empty() {
            out.unmanaged.groups.push(g.name.clone());
            out.unmanaged.tag_count += g.tags.len();
        } else {
            for &rt in &foreign {
                if unlisted_group || !read_only_group {
                    out.unmanaged.tags.push(UnmanagedTag {
                        group: g.name.clone(),
                        name: g.tags[rt].name.clone(),
                    });
                    out.unmanaged.tag_count += 1;
                }
            }
            if unlisted_group && !owned_tags.is_empty() && !foreign.is_empty() && own(&g.id) {
                out.reasons.push((
                    None,
                    format!(
                        "group `{}` keeps tags tagsync does not own, so it stays",
                        g.name
                    ),
                ));
            }
        }
    }
    out
}

/// The delete's reason: the first few item reasons, one per line, then a count (the step
/// lists all). `except`: ids of tags whose reasons are left out (they go in another
/// delete).
pub(super) fn summarise(reasons: &[(Option<String>, String)], except: &[DeletedTag]) -> String {
    const SHOWN: usize = 5;
    let reasons: Vec<&str> = reasons
        .iter()
        .filter(|(id, _)| {
            id.as_ref()
                .is_none_or(|id| !except.iter().any(|t| &t.id == id))
        })
        .map(|(_, r)| r.as_str())
        .collect();
    let mut r = reasons[..reasons.len().min(SHOWN)].join("\n");
    if reasons.len() > SHOWN {
        r.push_str(&format!("\nand {} more", reasons.len() - SHOWN));
    }
    r
}
