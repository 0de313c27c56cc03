//! Names stay unique after every call: a rename that frees a name runs before the add or
//! rename that takes it; a cycle of renames goes through a temporary `~~` name.

use std::collections::{HashMap, HashSet};

use super::super::matching::temp_name;
use super::super::model::*;
use super::deletes::Deletes;
use super::draft::{Builder, Draft, Key, Ns};

/// Dependencies that keep names unique after every call; temporary names for cycles.
/// Returns whether some step needs the delete to run first.
pub(super) fn resolve_names(b: &mut Builder<'_>, dels: &Deletes, del: Option<usize>) -> bool {
    // Current holder of every name, per namespace.
    let mut holders: HashMap<(Ns, &str), Key> = HashMap::new();
    for (gi, g) in b.remote.groups.iter().enumerate() {
        holders.insert((Ns::Groups, g.name.as_str()), Key::Group(gi));
        for (ti, t) in g.tags.iter().enumerate() {
            holders.insert((Ns::Tags(gi), t.name.as_str()), Key::Tag(gi, ti));
        }
    }
    let by_key: HashMap<Key, usize> = b
        .renames
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key, i))
        .collect();
    let n = b.renames.len();
    // next[i] = the rename that must free i's target first.
    let next: Vec<Option<usize>> = b
        .renames
        .iter()
        .map(|r| {
            holders
                .get(&(r.ns, r.to.as_str()))
                .and_then(|k| by_key.get(k).copied())
        })
        .collect();
    // Find cycles (out-degree ≤ 1).
    let mut state = vec![0u8; n];
    let mut removal: Vec<usize> = b.renames.iter().map(|r| r.draft).collect();
    let mut tmp_counter = 0usize;
    let mut used_tmp = HashSet::new();
    // Every name in sight: a temporary name is then free in any namespace.
    let remote = b.remote;
    let desired = b.desired;
    let taken: HashSet<&str> = remote
        .groups
        .iter()
        .flat_map(|g| std::iter::once(&g.name).chain(g.tags.iter().map(|t| &t.name)))
        .chain(
            desired
                .groups
                .iter()
                .flat_map(|g| std::iter::once(&g.name).chain(g.tags.iter().map(|t| &t.name))),
        )
        .map(String::as_str)
        .collect();
    for start in 0..n {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(c) = cur {
            if state[c] == 2 {
                break;
            }
            if state[c] == 1 {
                let pos = path.iter().position(|&p| p == c).unwrap_or(0);
                let cycle: Vec<usize> = path[pos..].to_vec();
                let pick = cycle
                    .iter()
                    .copied()
                    .min_by_key(|&i| b.renames[i].draft)
                    .unwrap_or(c);
                let t = temp_draft(b, pick, &mut tmp_counter, &taken, &mut used_tmp);
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| format!("`{}`", b.renames[i].to))
                    .collect();
                b.notes.push(format!(
                    "rename cycle {}: once applied, both names exist; the ledger records the renames so the next plan keeps them (without that record, remove these `previously` entries or pin the ids)",
                    names.join(" ↔ ")
                ));
                removal[pick] = t;
                break;
            }
            state[c] = 1;
            path.push(c);
            cur = next[c];
        }
        for p in path {
            state[p] = 2;
        }
    }
    // Dependencies of renames and adds on whoever frees their name.
    let mut early = false;
    let mut takes: Vec<(Ns, String, usize, Option<Key>)> = b
        .renames
        .iter()
        .map(|r| (r.ns, r.to.clone(), r.draft, Some(r.key)))
        .collect();
    takes.extend(
        b.takes
            .iter()
            .map(|(ns, name, d)| (*ns, name.clone(), *d, None)),
    );
    for (ns, name, d, me) in takes {
        let Some(&holder) = holders.get(&(ns, name.as_str())) else {
            continue;
        };
        if Some(holder) == me {
            continue;
        }
        if let Some(&j) = by_key.get(&holder) {
            let dep = removal[j];
            if dep != d {
                b.drafts[d].deps.push(dep);
            }
        } else if is_deleted(holder, dels)
            && let Some(del) = del
        {
            b.drafts[d].deps.push(del);
            early = true;
        } else if b.drafts[d].blocked.is_none() {
            b.drafts[d].blocked = Some(Blocked {
                reason: format!("the name `{name}` is held by an item that stays"),
                fix: "rename or remove that item first, or pick another name".into(),
            });
        }
    }
    early
}

pub(super) fn is_deleted(k: Key, dels: &Deletes) -> bool {
    match k {
        Key::Group(g) => dels.deleted_groups.contains(&g),
        Key::Tag(g, t) => dels.deleted_groups.contains(&g) || dels.deleted_tags.contains(&(g, t)),
    }
}

/// Split rename `i` of a cycle into a rename to a temporary name and a final rename.
/// Returns the draft index of the temporary rename.
pub(super) fn temp_draft(
    b: &mut Builder<'_>,
    i: usize,
    counter: &mut usize,
    taken: &HashSet<&str>,
    used: &mut HashSet<(Ns, String)>,
) -> usize {
    // Unique within its namespace; the same `~~X` may serve cycles in two groups.
    let ns = b.renames[i].ns;
    let free = |c: &str, used: &HashSet<(Ns, String)>| {
        !taken.contains(c) && !used.contains(&(ns, c.to_string()))
    };
    let mut tmp = temp_name(&b.renames[i].to);
    while !free(&tmp, used) {
        *counter += 1;
        tmp = format!("~~tagsync-{counter}");
    }
    used.insert((ns, tmp.clone()));
    let fin = b.renames[i].draft;
    let (kind, blocked) = match &mut b.drafts[fin].kind {
        StepKind::Edit {
            id,
            target,
            group,
            from_name,
            from_order,
            ..
        } => {
            let k = StepKind::Edit {
                id: id.clone(),
                target: *target,
                group: group.clone(),
                from_name: from_name.clone(),
                to_name: Some(tmp.clone()),
                from_order: *from_order,
                to_order: None,
            };
            *from_name = tmp.clone();
            (k, b.drafts[fin].blocked.clone())
        }
        _ => return fin,
    };
    let final_to = b.renames[i].to.clone();
    let t = b.push(Draft {
        kind,
        reason: format!("temporary name `{tmp}` to break a cycle of renames (its final name `{final_to}` is still taken); one extra call"),
        deps: vec![],
        blocked,
        destructive: false,
    });
    b.drafts[fin].deps.push(t);
    b.drafts[fin].reason.push_str(&format!(
        " (second half of a rename cycle, from the temporary name `{tmp}`)"
    ));
    t
}
