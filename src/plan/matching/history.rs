//! What the ledger's rename history says about identity, where names alone cannot tell:
//! which item left a name last ([`former_names`]), and which renames a file undoes by
//! giving old names again ([`undone_renames`]; a reverted rename or chain goes back,
//! an applied swap stays).

use std::collections::HashMap;

use super::names::{Names, Want};
use crate::plan::model::History;

/// The (desired item, remote item) pairs of renames to undo: the remote item was renamed
/// by tagsync away from the desired item's name, and the name it has now is either not
/// wanted by the file or wanted by an item that itself goes back (recursively; a cycle
/// never qualifies). Items already matched take no part.
pub(super) fn undone_renames(
    wants: &[Want<'_>],
    names: &Names<'_>,
    undo: &Undo<'_, '_>,
    used: &[bool],
    result: &[Option<usize>],
) -> Vec<(usize, usize)> {
    if undo.was_named.is_empty() {
        return Vec::new();
    }
    // Each unmatched desired item's candidate: the free item renamed away from its name.
    let claim: Vec<Option<usize>> = wants
        .iter()
        .enumerate()
        .map(|(wi, w)| {
            if result[wi].is_some() {
                return None;
            }
            undo.was_named.get(w.name).copied().filter(|&r| !used[r])
        })
        .collect();
    let wanted_by: HashMap<&str, usize> = wants
        .iter()
        .enumerate()
        .map(|(wi, w)| (w.name, wi))
        .collect();
    // The desired item claiming each remote item.
    let mut claimed_by: HashMap<usize, usize> = HashMap::new();
    for (wi, c) in claim.iter().enumerate() {
        if let Some(r) = c {
            claimed_by.entry(*r).or_insert(wi);
        }
    }
    // First a least fixpoint: a claim holds when the name its item has now is free (no
    // desired item wants it, or the one that does goes back too). A chain is anchored
    // at a name nobody wants; a cycle has no anchor and never holds.
    let mut valid = vec![false; wants.len()];
    let present_free = |wi: usize, r: usize, valid: &[bool]| match wanted_by.get(names.bound[r]) {
        None => true,
        // The item that wants the name is matched already (to another item: this one
        // is free), or goes back to an old name of its own.
        Some(&other) => {
            other != wi && (result[other].is_some() || (valid[other] && claim[other] != Some(r)))
        }
    };
    loop {
        let mut changed = false;
        for wi in 0..wants.len() {
            if let Some(r) = claim[wi].filter(|_| !valid[wi])
                && present_free(wi, r, &valid)
            {
                valid[wi] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Then the desired item's own name must be free too (the spec: an item holding the
    // name keeps it): absent, taken already, renamed away by `previously`, or held by an
    // item that itself goes back. Dropping a claim may undo others: repeat until stable.
    loop {
        let mut changed = false;
        for wi in 0..wants.len() {
            let Some(r) = claim[wi].filter(|_| valid[wi]) else {
                continue;
            };
            let w = &wants[wi];
            let own_free = match undo.by_name.get(w.name) {
                None => true,
                Some(&h) => {
                    h == r
                        || used[h]
                        || undo.renamed_away.contains(w.name)
                        || claimed_by.get(&h).is_some_and(|&o| o != wi && valid[o])
                }
            };
            if !own_free || !present_free(wi, r, &valid) {
                valid[wi] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut taken = vec![false; names.ids.len()];
    let mut out: Vec<(usize, usize)> = Vec::new();
    for wi in (0..wants.len()).filter(|&wi| valid[wi]) {
        if let Some(r) = claim[wi]
            && !taken[r]
        {
            taken[r] = true;
            out.push((wi, r));
        }
    }
    out
}

/// What [`undone_renames`] looks names up in.
pub(super) struct Undo<'m, 'a> {
    /// Former name → the item that left it last ([`former_names`]).
    pub(super) was_named: &'m HashMap<&'a str, usize>,
    /// Name (as bound) → the item holding it now.
    pub(super) by_name: &'m HashMap<&'a str, usize>,
    /// Names some desired item's `previously` renames away.
    pub(super) renamed_away: &'m std::collections::HashSet<&'a str>,
}

/// For each name, the remote item of `names` (its rename record current: its `to` is the
/// name the item has, or is bound to) that tagsync renamed away from that name last;
/// whoever looks it up checks it is not matched already. Only the last: an item that left the name earlier saw it taken again
/// after, so the name no longer points back to it. Two that cannot be told apart (no
/// `seq`, ledgers from before it was kept) are a guess not made: the name points to none.
pub(super) fn former_names<'a>(names: &Names<'a>, history: &'a History) -> HashMap<&'a str, usize> {
    let mut last: HashMap<&str, (u64, Option<usize>)> = HashMap::new();
    if history.renamed.is_empty() {
        return HashMap::new();
    }
    // Items already matched count too: they may have left the name last.
    for r in 0..names.ids.len() {
        let Some(h) = history.renamed.get(names.ids[r]) else {
            continue;
        };
        if h.to != names.live[r] && h.to != names.bound[r] {
            continue;
        }
        for former in std::iter::once(&h.from).chain(&h.via) {
            match last.get_mut(former.as_str()) {
                None => {
                    last.insert(former.as_str(), (h.seq, Some(r)));
                }
                Some((seq, at)) if *at == Some(r) => *seq = (*seq).max(h.seq),
                Some((seq, at)) if h.seq > *seq => (*seq, *at) = (h.seq, Some(r)),
                Some((seq, at)) if h.seq == *seq => *at = None,
                Some(_) => {}
            }
        }
    }
    last.into_iter()
        .filter_map(|(name, (_, at))| at.map(|r| (name, r)))
        .collect()
}
