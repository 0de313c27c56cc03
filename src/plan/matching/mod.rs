//! Identity: which remote item each desired item is.
//!
//! In this order, each remote item used at most once: a pinned `id`; the ledger's
//! binding; a `previously` name (when the remote item of that name is still unmatched and
//! the desired item's own name is absent remotely or is itself being renamed away), or
//! the item the rename history shows on its way there under a temporary `~~` name; an
//! item tagsync renamed away from this name, when the file undoes that rename
//! ([`history`]); the current `name`; last, an item tagsync renamed away from this name
//! that nothing else took. Tags match only within their own group, except a pinned tag
//! id found in another group: that is a *move* (the planner turns it into a replace).
//!
//! **Bindings** ([`Bindings`], from the ledger) say what name tagsync last applied to each
//! id it owns. Names are matched first as tagsync left them: an owned item renamed
//! outside tagsync (the admin console) is seen under its bound name, so the desired item
//! of that name keeps it (the plan renames it back: drift), and a `previously` entry
//! naming the bound name accepts the new name instead. Then, for what is still
//! unmatched, under the names the corp shows now (a binding not yet refreshed after the
//! file accepted the console's name). Where a bound name and a live name collide in one
//! namespace, the live name wins: the drifted item is then left unmatched (and kept,
//! not deleted: see `drift`).
//!
//! Decisions where the spec is silent:
//! - A pinned id that does not exist remotely (or is already taken) falls through to
//!   `previously` and name matching; the plan carries a note saying so.
//! - "Absent remotely" counts a remote item of that name that a pin already claimed as
//!   absent: the pin renames it away.
//! - A tag pinned to an id in another group, when its own group already holds a tag of
//!   its name, keeps that tag: a move whose add ran and whose delete did not. The pinned
//!   one becomes unlisted (deleted only if owned, through the gate).
//! - A `previously` entry is skipped when the ledger's [`History`] says tagsync already
//!   renamed the item now named `X` from that old name: applied swaps stay applied. The
//!   item is then matched at once, so another item's `previously` cannot take it; a
//!   record of only one half of a cycle through `~~X` counts (a kill between a call and
//!   its record loses the other).
//! - Every desired item `X` has an implicit last `previously` entry `~~X` (unless the
//!   file itself lists an item named `~~X`): the temporary name a rename cycle uses on
//!   its way to `X`. An apply that failed between the two halves of a cycle thus resumes
//!   on the next plan instead of deleting the item left under its temporary name. When
//!   the history records where a `~~` item came from, the history decides instead (a
//!   fallback `~~tagsync-N` name says nothing of its target; a file reverted meanwhile
//!   sends the item back).
//! - A file that gives an old name again undoes tagsync's rename (same id, customers
//!   kept), but only the rename of the item that left the name last, only when the
//!   desired item's own name is free, and never around a cycle: a swap applied and then
//!   written without its `previously` entries looks the same as a reverted swap, and
//!   stays applied.

use std::collections::{BTreeMap, HashMap};

mod history;
mod names;

use history::{Undo, former_names, undone_renames};
use names::{Names, Want};

use super::model::{Bindings, History};
use crate::desired::model::Desired;
use crate::snapshot::Snapshot;

/// Prefix of temporary names. A remote item named `~~X` is taken as a rename to `X`
/// interrupted half-way (see the module docs), so a failed apply resumes.
pub const TEMP_PREFIX: &str = "~~";

/// The temporary name on the way to `target`: `~~` and the first 28 characters of it
/// (names are at most 30 characters).
pub fn temp_name(target: &str) -> String {
    let mut t = String::from(TEMP_PREFIX);
    t.extend(target.chars().take(28));
    t
}

/// The result of matching.
#[derive(Debug, Clone, Default)]
pub struct Matching {
    /// Per desired group: the index of its remote group.
    pub groups: Vec<Option<usize>>,
    /// Per desired group, per desired tag: (remote group index, remote tag index).
    pub tags: Vec<Vec<Option<(usize, usize)>>>,
    /// Remote items left unlisted because a desired item kept the item of its current
    /// name instead of renaming the old one: remote id → explanation.
    pub shadowed: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

/// Phases 1b, 2 and 3 within one namespace. `result` holds phase-1 (pin) matches already.
fn match_names(
    wants: &[Want<'_>],
    names: &Names<'_>,
    history: &History,
    used: &mut [bool],
    result: &mut [Option<usize>],
    shadowed: &mut Vec<(usize, String)>,
) -> Vec<usize> {
    let remote_ids = &names.ids;
    let by_name = names.by_bound();
    let wanted: std::collections::HashSet<&str> = wants.iter().map(|w| w.name).collect();
    let renamed_away: std::collections::HashSet<&str> = wants
        .iter()
        .flat_map(|w| w.previously.iter().map(String::as_str))
        .collect();
    // The file accepted a rename made outside tagsync: the item bound to one of this
    // item's old names now has this item's name. Certain, so first (another item may
    // since have taken the old name).
    let drifted_by_live: HashMap<&str, usize> = (0..names.ids.len())
        .filter(|&r| names.bound[r] != names.live[r])
        .map(|r| (names.live[r], r))
        .collect();
    for (wi, w) in wants.iter().enumerate() {
        if result[wi].is_some() {
            continue;
        }
        let Some(&r) = drifted_by_live.get(w.name) else {
            continue;
        };
        // Unless tagsync itself already carried that old name over to this name on
        // another item (a swap applied, its entries left in the file): then the console
        // undid tagsync's rename, which is drift to put back, not a rename to accept.
        let bound = names.bound[r];
        if !used[r]
            && w.previously.iter().any(|p| p == bound)
            && !history.carried_out(bound, w.name, remote_ids[r])
        {
            used[r] = true;
            result[wi] = Some(r);
        }
    }
    // A rename cycle interrupted after its first half, as the history records it: the
    // item went from one of this item's old names to a temporary name (`~~X`, or
    // `~~tagsync-N` when `~~X` was taken), on its way here.
    // Each unmatched remote item tagsync renamed (the record still names it as it is),
    // under every name it had before: what the two history phases look up, built once
    // (a scan per desired item would be quadratic in a large group).
    let was_named = former_names(names, history);
    for (wi, w) in wants.iter().enumerate() {
        if result[wi].is_some() || w.previously.is_empty() {
            continue;
        }
        // As for `previously` below: only when this item's own name is free (absent,
        // taken already, or itself being renamed away).
        let own_free = match by_name.get(w.name) {
            None => true,
            Some(&h) => used[h] || renamed_away.contains(w.name),
        };
        let on_its_way = w
            .previously
            .iter()
            .filter_map(|p| was_named.get(p.as_str()).copied())
            .find(|&r| own_free && !used[r] && names.live[r].starts_with(TEMP_PREFIX));
        if let Some(r) = on_its_way {
            used[r] = true;
            result[wi] = Some(r);
        }
    }
    for (wi, w) in wants.iter().enumerate() {
        if result[wi].is_some() {
            continue;
        }
        // A rename cycle interrupted after its temporary rename left `~~name`. When the
        // history records where that item came from, the history decides (above, and in
        // `undone_renames`): the name alone is only for a record lost to a kill.
        let temp = temp_name(w.name);
        let recorded = |t: &str| {
            by_name.get(t).is_some_and(|&r| {
                history
                    .renamed
                    .get(remote_ids[r])
                    .is_some_and(|h| h.to == names.live[r])
            })
        };
        let resume = (!wanted.contains(temp.as_str()) && !recorded(&temp)).then_some(temp);
        // The item of this name got it from tagsync renaming one of the old names: the
        // rename is done; it is this item's, and no other item's old name takes it.
        if let Some(&r) = by_name.get(w.name)
            && !used[r]
            && renamed_here(history, remote_ids[r], w, resume.as_deref())
        {
            used[r] = true;
            result[wi] = Some(r);
            continue;
        }
        let own_free = match by_name.get(w.name) {
            None => true,
            Some(&r) => used[r] || renamed_away.contains(w.name),
        };
        // The interrupted rename first: it is certain, an old name may be ambiguous.
        for old in resume.iter().chain(w.previously) {
            let Some(&r) = by_name.get(old.as_str()) else {
                continue;
            };
            if used[r] {
                continue;
            }
            if own_free {
                used[r] = true;
                result[wi] = Some(r);
                break;
            }
            shadowed.push((
                r,
                format!(
                    "`{}` exists and nothing renames it away, so `{}` keeps that item; the old `{}` is no longer listed",
                    w.name, w.name, old
                ),
            ));
        }
    }
    // Renames undone: an item tagsync renamed away from this name goes back to it when
    // the file no longer wants the name the item has now, or when the item that wants
    // that name goes back to an old name of its own (a chain of renames reverted, each
    // link back in place). Before names alone decide, which would give each name to the
    // item that holds it now. A cycle (an applied swap) is never undone this way: a file
    // that keeps a swap and drops its `previously` entries looks the same.
    let mut back = Vec::new();
    let undo = Undo {
        was_named: &was_named,
        by_name: &by_name,
        renamed_away: &renamed_away,
    };
    for (wi, r) in undone_renames(wants, names, &undo, used, result) {
        used[r] = true;
        result[wi] = Some(r);
        back.push(r);
    }
    for (wi, w) in wants.iter().enumerate() {
        if result[wi].is_some() {
            continue;
        }
        if let Some(&r) = by_name.get(w.name)
            && !used[r]
        {
            used[r] = true;
            result[wi] = Some(r);
        }
    }
    if names.bound != names.live {
        // Under the names the corp shows now: an item renamed outside tagsync whose new name
        // the file took up (the binding follows on the next apply).
        let by_live: HashMap<&str, usize> = names
            .live
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i))
            .collect();
        for (wi, w) in wants.iter().enumerate() {
            if result[wi].is_some() {
                continue;
            }
            let found = std::iter::once(w.name)
                .chain(w.previously.iter().map(String::as_str))
                .filter_map(|n| by_live.get(n).copied())
                .find(|&r| !used[r]);
            if let Some(r) = found {
                used[r] = true;
                result[wi] = Some(r);
            }
        }
    }
    // Still unmatched: an item tagsync renamed away from this name, itself unmatched. The
    // file went back to the name (a reverted rename, or a swap interrupted and then
    // reverted): rename it back, keeping its id and customers, rather than add a new
    // item and delete the old one. The remote items so matched are returned, for notes.
    for (wi, w) in wants.iter().enumerate() {
        if result[wi].is_some() {
            continue;
        }
        let renamed_away = was_named.get(w.name).copied().filter(|&r| !used[r]);
        if let Some(r) = renamed_away {
            used[r] = true;
            result[wi] = Some(r);
            back.push(r);
        }
    }
    back
}

/// The note on an item matched because tagsync renamed it away from the name the file
/// gives again.
fn back_note(what: &str, was: &str) -> String {
    format!(
        "{what} was renamed by tagsync from `{was}`, the name the file gives again: it is renamed back (same id, its customers kept), not deleted and made anew"
    )
}

/// Whether the history says tagsync renamed `id` from one of `w`'s old names to its
/// name. A rename cycle goes through the temporary name `temp` in two steps, and a
/// process killed between a call and its record in the ledger loses the record of one
/// of them: `temp → name` (the first half's record lost) and `old → temp` (the second
/// half's record lost, the item now named `name`) count as done too.
fn renamed_here(history: &History, id: &str, w: &Want<'_>, temp: Option<&str>) -> bool {
    let Some(r) = history.renamed.get(id) else {
        return false;
    };
    let from_old = w.previously.contains(&r.from) || Some(r.from.as_str()) == temp;
    let to_name = r.to == w.name || Some(r.to.as_str()) == temp;
    from_old && to_name
}

pub fn match_all(
    desired: &Desired,
    remote: &Snapshot,
    history: &History,
    bindings: &Bindings,
) -> Matching {
    let mut m = Matching {
        groups: vec![None; desired.groups.len()],
        tags: desired
            .groups
            .iter()
            .map(|g| vec![None; g.tags.len()])
            .collect(),
        ..Matching::default()
    };
    let group_by_id: HashMap<&str, usize> = remote
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i))
        .collect();
    let tag_by_id: HashMap<&str, (usize, usize)> = remote
        .groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| {
            g.tags
                .iter()
                .enumerate()
                .map(move |(ti, t)| (t.id.as_str(), (gi, ti)))
        })
        .collect();

    // Groups.
    let mut gused = vec![false; remote.groups.len()];
    for (di, g) in desired.groups.iter().enumerate() {
        if let Some(id) = &g.id {
            match group_by_id.get(id.as_str()) {
                Some(&r) if !gused[r] => {
                    gused[r] = true;
                    m.groups[di] = Some(r);
                }
                _ => m.notes.push(format!(
                    "group `{}`: pinned id {id} is not a live, unclaimed group; matched by name instead",
                    g.name
                )),
            }
        }
    }
    let wants: Vec<Want<'_>> = desired
        .groups
        .iter()
        .map(|g| Want {
            name: &g.name,
            previously: &g.previously,
        })
        .collect();
    let names = Names::new(
        remote
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.name.as_str())),
        bindings,
    );
    let mut shadowed = Vec::new();
    let back: std::collections::HashSet<usize> = match_names(
        &wants,
        &names,
        history,
        &mut gused,
        &mut m.groups,
        &mut shadowed,
    )
    .into_iter()
    .collect();
    for (di, r) in m.groups.iter().enumerate() {
        if let Some(r) = r.filter(|r| back.contains(r)) {
            let g = &remote.groups[r];
            let what = format!("group `{}`", g.name);
            m.notes.push(back_note(&what, &desired.groups[di].name));
        }
    }
    for (r, why) in shadowed.drain(..) {
        if !gused[r] {
            m.shadowed.insert(remote.groups[r].id.clone(), why);
        }
    }

    // Tag pins, across all groups first (a pin may claim a tag of another group).
    let mut tused: Vec<Vec<bool>> = remote
        .groups
        .iter()
        .map(|g| vec![false; g.tags.len()])
        .collect();
    for (di, g) in desired.groups.iter().enumerate() {
        for (ti, t) in g.tags.iter().enumerate() {
            let Some(id) = &t.id else { continue };
            let home = m.groups[di].map(|h| &remote.groups[h]);
            match tag_by_id.get(id.as_str()) {
                // Pinned into another group, but a tag of this name already sits here: a
                // move (replace) whose add ran and whose delete did not. Keep the new one.
                Some(&(rg, rt))
                    if Some(rg) != m.groups[di]
                        && home.is_some_and(|h| h.tags.iter().any(|x| x.name == t.name)) =>
                {
                    m.shadowed.insert(
                        id.clone(),
                        format!(
                            "pinned by `{}` in group `{}`, which already holds a tag of that name (a move half done): that one is kept, this one is no longer listed",
                            t.name, g.name
                        ),
                    );
                    let _ = rt;
                }
                Some(&(rg, rt)) if !tused[rg][rt] => {
                    tused[rg][rt] = true;
                    m.tags[di][ti] = Some((rg, rt));
                }
                _ => m.notes.push(format!(
                    "tag `{}` in group `{}`: pinned id {id} is not a live, unclaimed tag; matched by name instead",
                    t.name, g.name
                )),
            }
        }
    }
    // Names within each matched group.
    for (di, g) in desired.groups.iter().enumerate() {
        let Some(rg) = m.groups[di] else { continue };
        let rgroup = &remote.groups[rg];
        let wants: Vec<Want<'_>> = g
            .tags
            .iter()
            .map(|t| Want {
                name: &t.name,
                previously: &t.previously,
            })
            .collect();
        let names = Names::new(
            rgroup.tags.iter().map(|t| (t.id.as_str(), t.name.as_str())),
            bindings,
        );
        let mut local: Vec<Option<usize>> = m.tags[di]
            .iter()
            .map(|x| x.filter(|(g2, _)| *g2 == rg).map(|(_, t)| t))
            .collect();
        // Tags pinned into another group must not be re-matched here.
        let pinned_elsewhere: Vec<bool> = m.tags[di]
            .iter()
            .map(|x| x.is_some_and(|(g2, _)| g2 != rg))
            .collect();
        for (wi, p) in pinned_elsewhere.iter().enumerate() {
            if *p {
                local[wi] = Some(usize::MAX);
            }
        }
        let back: std::collections::HashSet<usize> = match_names(
            &wants,
            &names,
            history,
            &mut tused[rg],
            &mut local,
            &mut shadowed,
        )
        .into_iter()
        .collect();
        for (wi, l) in local.iter().enumerate() {
            if let Some(t) = l.filter(|t| back.contains(t)) {
                let what = format!("tag `{}` in group `{}`", rgroup.tags[t].name, rgroup.name);
                m.notes.push(back_note(&what, &g.tags[wi].name));
            }
        }
        for (wi, l) in local.into_iter().enumerate() {
            if !pinned_elsewhere[wi] {
                m.tags[di][wi] = l.map(|t| (rg, t));
            }
        }
        for (r, why) in shadowed.drain(..) {
            if !tused[rg][r] {
                m.shadowed.insert(rgroup.tags[r].id.clone(), why);
            }
        }
    }
    m
}
