//! Identity after matching: drift (owned items changed outside tagsync), owned items the
//! file still lists that must never be deleted, `previously` entries that match nothing,
//! deletes that look like renames, and the bindings a run that writes records.
//!
//! Decisions where the spec is silent:
//! - **Drift** is an edit whose target differs from what the ledger's binding says
//!   tagsync last applied: a rename back to the bound name, or a move of an item whose
//!   order is not the one last applied. Such a step is marked `drift` and its reason says
//!   so, with how to keep the console's change instead.
//! - **Kept:** an owned item renamed outside tagsync whose bound name the file still lists
//!   (as a name or in `previously`) but which matched nothing (another item now holds that
//!   name) is never deleted: it is left alone with a note, like a foreign item. Tags in
//!   such a group are kept with it.
//! - **A `previously` entry that matches nothing** where it applies, on an item that is
//!   added, is reported with the nearest existing name (Damerau–Levenshtein distance at
//!   most a third of the name, at least 1). When the plan deletes that nearest item, the
//!   delete is blocked: a typo there would strip the customers of the item it meant.
//! - **Looks like a rename:** a plan that deletes an owned tag of a group and adds a tag
//!   to the same group says how to keep the customers (`previously:`), as a note.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::matching::Matching;
use super::matching::temp_name;
use super::model::{Binding, Bindings, Blocked, Owned, Plan, StepKind, Target};
use crate::desired::model::Desired;
use crate::snapshot::Snapshot;

/// Owned items the delete must leave alone, and why.
#[derive(Debug, Default)]
pub struct Kept {
    pub ids: HashSet<String>,
    pub notes: Vec<String>,
}

/// Whether the binding of `id` names something other than `live`.
fn drifted<'a>(bindings: &'a Bindings, id: &str, live: &str) -> Option<&'a Binding> {
    bindings.get(id).filter(|b| b.name != live)
}

/// Owned, drifted, unmatched items whose bound name the file still lists: see the
/// module docs.
pub fn kept(desired: &Desired, remote: &Snapshot, m: &Matching, bindings: &Bindings) -> Kept {
    let mut out = Kept::default();
    if bindings.is_empty() {
        return out;
    }
    let matched_groups: HashSet<usize> = m.groups.iter().flatten().copied().collect();
    for (rg, g) in remote.groups.iter().enumerate() {
        if matched_groups.contains(&rg) {
            continue;
        }
        let Some(b) = drifted(bindings, &g.id, &g.name) else {
            continue;
        };
        let groups = desired
            .groups
            .iter()
            .map(|d| (&d.name, d.previously.as_slice()));
        if listed(groups, &b.name) {
            out.ids.insert(g.id.clone());
            out.ids.extend(g.tags.iter().map(|t| t.id.clone()));
            out.notes.push(format!(
                "group `{}` (id {}) was renamed outside tagsync from `{}`, a name the file lists, which another group now holds: it is left alone, not deleted. Rename it in the admin console, or `tagsync disown {}` to stop managing it",
                g.name, g.id, b.name, g.id
            ));
        }
    }
    for (di, dg) in desired.groups.iter().enumerate() {
        let Some(rg) = m.groups[di] else { continue };
        let g = &remote.groups[rg];
        let matched: HashSet<usize> = m.tags[di]
            .iter()
            .flatten()
            .filter(|(mg, _)| *mg == rg)
            .map(|(_, t)| *t)
            .collect();
        for (rt, t) in g.tags.iter().enumerate() {
            if matched.contains(&rt) {
                continue;
            }
            let Some(b) = drifted(bindings, &t.id, &t.name) else {
                continue;
            };
            let tags = dg.tags.iter().map(|t| (&t.name, t.previously.as_slice()));
            if listed(tags, &b.name) {
                out.ids.insert(t.id.clone());
                out.notes.push(format!(
                    "tag `{}` in group `{}` (id {}) was renamed outside tagsync from `{}`, a name the file lists, which another tag now holds: it is left alone, not deleted. Rename it in the admin console, or `tagsync disown {}` to stop managing it",
                    t.name, g.name, t.id, b.name, t.id
                ));
            }
        }
    }
    out
}

/// Whether `name` is one of the items' names or old names.
fn listed<'a>(mut items: impl Iterator<Item = (&'a String, &'a [String])>, name: &str) -> bool {
    items.any(|(n, prev)| n == name || prev.iter().any(|p| p == name))
}

/// Mark the edits that undo drift, and say so in their reasons. The name an item has in
/// the corp (`remote`) is what was changed outside tagsync; a rename cycle's later steps
/// (through a temporary `~~` name) are the same undoing, marked once, on its first step.
pub fn mark(plan: &mut Plan, bindings: &Bindings, remote: &Snapshot, desired: &Desired) {
    if bindings.is_empty() {
        return;
    }
    let live: HashMap<&str, (&str, u32)> = remote
        .groups
        .iter()
        .flat_map(|g| {
            std::iter::once((g.id.as_str(), (g.name.as_str(), g.order))).chain(
                g.tags
                    .iter()
                    .map(|t| (t.id.as_str(), (t.name.as_str(), t.order))),
            )
        })
        .collect();
    // Names the file gives to something: keeping the console's name is no advice then.
    let listed: HashSet<&str> = desired
        .groups
        .iter()
        .flat_map(|g| {
            std::iter::once(g.name.as_str()).chain(g.tags.iter().map(|t| t.name.as_str()))
        })
        .collect();
    let mut marked: HashSet<String> = HashSet::new();
    for step in &mut plan.steps {
        let StepKind::Edit {
            id,
            target,
            group,
            to_name,
            to_order,
            ..
        } = &step.kind
        else {
            continue;
        };
        let (Some(b), Some(&(now, order))) = (bindings.get(id), live.get(id.as_str())) else {
            continue;
        };
        if marked.contains(id) {
            continue;
        }
        // Back to the bound name, directly or through a cycle's temporary name.
        let renamed = now != b.name
            && to_name
                .as_ref()
                .is_some_and(|t| *t == b.name || *t == temp_name(&b.name));
        let moved = to_order.is_some() && b.order.is_some_and(|o| o != order);
        if !renamed && !moved {
            continue;
        }
        let (what, kept) = match target {
            Target::Group => (
                format!("group `{now}`"),
                "same id, its tags and their customers kept",
            ),
            Target::Tag => (
                format!("tag `{now}` in group `{group}`"),
                "same id, customers kept",
            ),
        };
        let mut parts = Vec::new();
        if renamed {
            let keep = if listed.contains(now) || now.starts_with(super::matching::TEMP_PREFIX) {
                String::new()
            } else {
                format!(
                    "; to keep `{now}` instead, write it in the file with `previously: [{}]`",
                    b.name
                )
            };
            parts.push(format!(
                "was renamed outside tagsync (the file says `{}`): renamed back, {kept}{keep}",
                b.name
            ));
        }
        if moved {
            let last = b.order.unwrap_or_default();
            let to = to_order.unwrap_or_default();
            parts.push(format!(
                "was moved outside tagsync (order {last} → {order}): moved back to its place in the list (order {order} → {to})"
            ));
        }
        step.reason = format!("{what} {}", parts.join("; and it "));
        step.drift = true;
        marked.insert(id.clone());
    }
}

/// The added name most like `old`, when it is like enough to suggest a rename.
fn alike<'a>(old: &str, added: &[&'a str]) -> Option<&'a str> {
    added
        .iter()
        .map(|new| {
            let inside = new.contains(old) || old.contains(new);
            let score = if inside {
                1.0
            } else {
                strsim::normalized_levenshtein(old, new)
            };
            (score, *new)
        })
        .filter(|(score, _)| *score >= 1.0 / 3.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, new)| new)
}

/// Whether `a` and `b` are near enough for a did-you-mean.
fn near(a: &str, b: &str) -> Option<usize> {
    let d = strsim::damerau_levenshtein(a, b);
    let most = (a.chars().count() / 3).max(1);
    (d > 0 && d <= most).then_some(d)
}

/// Every name an item of one namespace goes by, with its id: the name the corp shows,
/// and for an item renamed outside tagsync the name the ledger binds it to too.
fn named<'a>(
    items: impl Iterator<Item = (&'a String, &'a String)>,
    bindings: &'a Bindings,
) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for (id, live) in items {
        out.push((live.as_str(), id.as_str()));
        if let Some(b) = drifted(bindings, id, live) {
            out.push((b.name.as_str(), id.as_str()));
        }
    }
    out
}

/// The name (and id) of `names` nearest to `to`, if near enough.
fn nearest_item(to: &str, names: &[(&str, &str)]) -> Option<(String, String)> {
    names
        .iter()
        .filter_map(|(n, id)| near(to, n).map(|d| (d, *n, *id)))
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, n, id)| (n.to_string(), id.to_string()))
}

/// What is added, the old name that matches nothing, and the nearest existing name with
/// its id.
type Typo = (String, String, Option<(String, String)>);

/// Report `previously` entries of added items that match nothing (see the module docs).
pub fn check_previously(
    plan: &mut Plan,
    desired: &Desired,
    remote: &Snapshot,
    m: &Matching,
    bindings: &Bindings,
) {
    let mut typos: Vec<Typo> = Vec::new();
    let known = |id: &str, live: &str, name: &str| {
        live == name || bindings.get(id).is_some_and(|b| b.name == name)
    };
    // The tag `p` of a group other than `home` (None: any group), as (group name, group
    // id, tag id).
    // Every one: several groups may hold a tag of that name.
    let tag_elsewhere = |p: &str, home: Option<usize>| -> Vec<(String, String, String)> {
        remote
            .groups
            .iter()
            .enumerate()
            .filter(|(og, _)| Some(*og) != home)
            .flat_map(|(_, other)| {
                other
                    .tags
                    .iter()
                    .filter(|r| known(&r.id, &r.name, p))
                    .map(|r| (other.name.clone(), other.id.clone(), r.id.clone()))
            })
            .collect()
    };
    for (di, dg) in desired.groups.iter().enumerate() {
        if m.groups[di].is_none() {
            // A new group's tags can only be new: an old name of one is a tag elsewhere.
            for t in &dg.tags {
                for p in &t.previously {
                    let at = tag_elsewhere(p, None);
                    if !at.is_empty() {
                        let what = format!("tag `{}` in group `{}`", t.name, dg.name);
                        moved_away(plan, &what, p, at);
                    }
                }
            }
            for p in dg.previously.iter().filter(|p| **p != temp_name(&dg.name)) {
                if remote.groups.iter().any(|g| known(&g.id, &g.name, p)) {
                    continue;
                }
                let names = named(remote.groups.iter().map(|g| (&g.id, &g.name)), bindings);
                let near = nearest_item(p, &names);
                typos.push((format!("group `{}`", dg.name), p.clone(), near));
            }
            continue;
        }
        let Some(rg) = m.groups[di] else { continue };
        let g = &remote.groups[rg];
        for (ti, t) in dg.tags.iter().enumerate() {
            if m.tags[di][ti].is_some() {
                continue;
            }
            for p in &t.previously {
                if g.tags.iter().any(|r| known(&r.id, &r.name, p)) {
                    continue;
                }
                let what = format!("tag `{}` in group `{}`", t.name, dg.name);
                // The old name is a tag of another group: WeCom cannot move a tag.
                let at = tag_elsewhere(p, Some(rg));
                if !at.is_empty() {
                    moved_away(plan, &what, p, at);
                    continue;
                }
                let names = named(g.tags.iter().map(|r| (&r.id, &r.name)), bindings);
                let near = nearest_item(p, &names);
                typos.push((what, p.clone(), near));
            }
        }
    }
    for (what, old, near) in typos {
        let Some((name, id)) = near else {
            plan.notes.push(format!(
                "{what}: `previously: [{old}]` matches nothing in the corp, so it is added as new; remove the entry if the rename is long done"
            ));
            continue;
        };
        // The item the delete removes, by its id: its name now, and whether it is a group.
        let mut deleted = None;
        for (i, s) in plan.steps.iter().enumerate() {
            if let StepKind::Delete { groups, tags } = &s.kind {
                if let Some(g) = groups.iter().find(|g| g.id == id) {
                    deleted = Some((i, g.name.clone(), true));
                } else if let Some(t) = tags.iter().find(|t| t.id == id) {
                    deleted = Some((i, t.name.clone(), false));
                }
            }
        }
        match deleted {
            Some((i, live, is_group)) => {
                let shown = if live == name {
                    format!("`{name}`")
                } else {
                    format!("`{name}` (now `{live}`, renamed outside tagsync)")
                };
                let loss = if is_group {
                    format!(
                        "deletes group {shown}: a typo there would strip its tags from every customer who carries them"
                    )
                } else {
                    format!(
                        "deletes {shown}: a typo there would strip it from every customer who carries it"
                    )
                };
                plan.notes.push(format!(
                    "{what}: `previously: [{old}]` matches nothing in the corp; did you mean {shown}? This plan deletes it: the delete is blocked"
                ));
                plan.steps[i].blocked.get_or_insert_with(|| Blocked {
                    reason: format!(
                        "{what} says `previously: [{old}]`, which matches nothing, while this plan {loss}"
                    ),
                    fix: format!(
                        "write `previously: [{name}]` to rename it (same id, customers kept); or remove `{old}` from `previously` if it is meant to go"
                    ),
                });
            }
            None => plan.notes.push(format!(
                "{what}: `previously: [{old}]` matches nothing in the corp; did you mean `{name}`?"
            )),
        }
    }
}

/// `what` (an added tag) names `old` in `previously`, but `old` is the tag `id` of group
/// `other`. WeCom cannot move a tag between groups, so the rename the file asks for is a
/// delete there and an add here; when the plan deletes that tag, the delete is blocked.
fn moved_away(plan: &mut Plan, what: &str, old: &str, at: Vec<(String, String, String)>) {
    // Deleted alone, or with its whole group: the first of them the plan deletes.
    let deletes = |s: &super::model::Step, group_id: &str, id: &str| {
        matches!(&s.kind, StepKind::Delete { tags, groups }
            if tags.iter().any(|t| t.id == id) || groups.iter().any(|g| g.id == group_id))
    };
    let chosen = at
        .iter()
        .find(|(_, g, t)| plan.steps.iter().any(|s| deletes(s, g, t)))
        .or(at.first());
    let Some((other, group_id, id)) = chosen else {
        return;
    };
    let delete = plan.steps.iter_mut().find(|s| deletes(s, group_id, id));
    let Some(step) = delete else {
        plan.notes.push(format!(
            "{what}: `previously: [{old}]` names a tag of group `{other}`; a tag cannot move to another group, so the entry does nothing here"
        ));
        return;
    };
    plan.notes.push(format!(
        "{what}: `previously: [{old}]` names a tag of group `{other}`, which this plan deletes; a tag cannot move to another group: the delete is blocked"
    ));
    step.blocked.get_or_insert_with(|| Blocked {
        reason: format!(
            "{what} says `previously: [{old}]`, but `{old}` is in group `{other}`: WeCom cannot move a tag to another group, so this plan deletes it there (every customer who carries it loses it) and adds a new one"
        ),
        fix: format!(
            "keep `{old}` in group `{other}` (rename it there with `previously`, which works within a group); or, to move it anyway, remove `{old}` from `previously` and review the delete"
        ),
    });
}

/// `previously` entries that name an item of another scope (the corp's tags and each
/// rule group's are apart: nothing moves between them): when the plan deletes that item
/// there while adding the new one here, the delete is blocked, and the per-scope note
/// that the entry "matches nothing" (true only within its scope) is replaced.
pub fn previously_across_scopes<'a>(
    plan: &mut Plan,
    scopes: impl Iterator<Item = (&'a super::model::Scope, &'a Desired)>,
) {
    let scopes: Vec<_> = scopes.collect();
    if scopes.len() < 2 {
        return;
    }
    // (scope, what, old name, whether the old name is a group's)
    let mut claims = Vec::new();
    for (scope, d) in scopes {
        for g in &d.groups {
            let added_group = plan.steps.iter().any(|s| {
                s.scope == *scope
                    && matches!(&s.kind, StepKind::AddGroup { name, .. } if *name == g.name)
            });
            if added_group {
                for p in g.previously.iter().filter(|p| **p != temp_name(&g.name)) {
                    claims.push((
                        scope.clone(),
                        format!("group `{}`", g.name),
                        p.clone(),
                        true,
                    ));
                }
            }
            for t in g.tags.iter().filter(|t| !t.previously.is_empty()) {
                let added = plan.steps.iter().any(|s| {
                    s.scope == *scope
                        && match &s.kind {
                            StepKind::AddGroup { name, tags, .. } => {
                                *name == g.name && tags.iter().any(|n| n.name == t.name)
                            }
                            StepKind::AddTags {
                                group_name, tags, ..
                            } => *group_name == g.name && tags.iter().any(|n| n.name == t.name),
                            _ => false,
                        }
                });
                if added {
                    for p in &t.previously {
                        let what = format!("tag `{}` in group `{}`", t.name, g.name);
                        claims.push((scope.clone(), what, p.clone(), false));
                    }
                }
            }
        }
    }
    for (scope, what, old, is_group) in claims {
        let delete = plan.steps.iter_mut().find(|s| {
            s.scope != scope
                && match &s.kind {
                    StepKind::Delete { groups, .. } if is_group => {
                        groups.iter().any(|g| g.name == old)
                    }
                    StepKind::Delete { groups, tags } => {
                        tags.iter().any(|t| t.name == old)
                            || groups.iter().any(|g| g.tags.contains(&old))
                    }
                    _ => false,
                }
        });
        let Some(step) = delete else { continue };
        let there = step.scope.label();
        let kind = if is_group { "group" } else { "tag" };
        step.blocked.get_or_insert_with(|| Blocked {
            reason: format!(
                "{what} ({}) says `previously: [{old}]`, but `{old}` is a {kind} of {there}: nothing moves between the corp's tags and a rule group's, so this plan deletes it there (every customer who carries it loses it) and adds a new one",
                scope.label()
            ),
            fix: format!(
                "keep `{old}` where it is in the file; or, to replace it anyway, remove `{old}` from `previously` and review the delete"
            ),
        });
        let spent = format!("`previously: [{old}]` matches nothing");
        plan.notes
            .retain(|n| !(n.contains(&what) && n.contains(&spent)));
        plan.notes.push(format!(
            "{what}: `previously: [{old}]` names a {kind} of {there}, which this plan deletes; nothing moves between the corp's tags and a rule group's: the delete is blocked"
        ));
    }
}

/// Note the deletes that look like something else: an owned tag deleted from a group
/// that also gets a new tag (a rename without `previously:`?), a group deleted while a
/// new group takes its tags' names (a group rename without `previously:`?), and a tag
/// deleted from one group and made in another (a move, which WeCom cannot do).
pub fn rename_hints(plan: &mut Plan) {
    let mut added: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut new_groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut deleted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut gone_groups: Vec<(&str, &[String])> = Vec::new();
    for step in &plan.steps {
        match &step.kind {
            StepKind::AddTags {
                group_name, tags, ..
            } => added.entry(group_name).or_default().extend(
                tags.iter()
                    .filter(|t| t.replaces.is_none())
                    .map(|t| t.name.as_str()),
            ),
            StepKind::AddGroup { name, tags, .. } => new_groups.push((
                name,
                tags.iter()
                    .filter(|t| t.replaces.is_none())
                    .map(|t| t.name.as_str())
                    .collect(),
            )),
            StepKind::Delete { groups, tags } => {
                for t in tags.iter().filter(|t| t.moved_to.is_none()) {
                    deleted.entry(&t.group).or_default().push(&t.name);
                }
                gone_groups.extend(groups.iter().map(|g| (g.name.as_str(), g.tags.as_slice())));
            }
            StepKind::Edit { .. } => {}
        }
    }
    let mut notes = Vec::new();
    for (group, gone) in &deleted {
        // Only a delete whose name is close to an added one looks like a rename (a third
        // of the characters shared, or one name inside the other); a delete beside an
        // unrelated add is just that.
        let new = added.get(group).map(Vec::as_slice).unwrap_or_default();
        for (old, like) in gone.iter().filter_map(|o| alike(o, new).map(|n| (o, n))) {
            notes.push(format!(
                "group `{group}`: this plan deletes `{old}` and adds `{like}`; this looks like a rename: to keep its customers, write the old name under the new one with `previously: [{old}]`"
            ));
        }
        // The same name made in another group: a move.
        for name in gone {
            let elsewhere = added
                .iter()
                .filter(|(g, _)| *g != group)
                .map(|(g, n)| (*g, n))
                .chain(new_groups.iter().map(|(g, n)| (*g, n)))
                .find(|(_, n)| n.contains(name));
            if let Some((to, _)) = elsewhere {
                notes.push(format!(
                    "tag `{name}` is deleted from group `{group}` and made anew in group `{to}`: WeCom cannot move a tag, so its customers lose it; keep it in `{group}` if they should not"
                ));
            }
        }
    }
    for (old, tags) in &gone_groups {
        for (new, names) in &new_groups {
            let shared = tags.iter().filter(|t| names.contains(&t.as_str())).count();
            if shared > 0 {
                notes.push(format!(
                    "group `{old}` is deleted with its tags and group `{new}` is added with {shared} of the same tag names; if this is a rename, write `previously: [{old}]` under `{new}` to keep the group and its tags' customers"
                ));
            }
        }
    }
    plan.notes.extend(notes);
}

/// What each matched owned item is in the file, where its live name already agrees:
/// the bindings a run that writes the ledger records (an upgrade from format 1, or a
/// name accepted with `previously`). Items whose name still differs are bound when the
/// rename is applied.
pub fn bindings(desired: &Desired, remote: &Snapshot, m: &Matching, owned: &Owned) -> Bindings {
    let mut out = Bindings::new();
    for (di, dg) in desired.groups.iter().enumerate() {
        let Some(rg) = m.groups[di] else { continue };
        let g = &remote.groups[rg];
        if owned.contains(&g.id) && g.name == dg.name {
            out.insert(g.id.clone(), Binding::group(&g.name, Some(g.order)));
        }
        for (ti, t) in dg.tags.iter().enumerate() {
            let Some((tg, rt)) = m.tags[di][ti] else {
                continue;
            };
            let r = &remote.groups[tg].tags[rt];
            if tg == rg && owned.contains(&r.id) && r.name == t.name {
                out.insert(r.id.clone(), Binding::tag(&g.id, &r.name, Some(r.order)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{History, PlanOptions, plan};
    use super::*;
    use crate::desired::model::Ownership;

    fn has_note(p: &Plan, text: &str) -> bool {
        p.notes.iter().any(|n| n.contains(text))
    }

    /// Options with every id bound to `(id, name)`; tags of group `g1`.
    fn bound(pairs: &[(&str, &str)]) -> PlanOptions {
        let mut bindings = Bindings::new();
        for (id, name) in pairs {
            let b = if id.starts_with('g') {
                Binding::group(*name, None)
            } else {
                Binding::tag("g1", *name, None)
            };
            bindings.insert(id.to_string(), b);
        }
        PlanOptions {
            bindings,
            ..PlanOptions::default()
        }
    }

    fn file(tags: Vec<crate::desired::model::DesiredTag>) -> Desired {
        desired(Ownership::Ledger, vec![group("渠道", tags)])
    }

    #[test]
    fn a_console_rename_of_an_owned_tag_is_renamed_back_not_deleted() {
        let s = snap(&[("g1", "渠道", 1, &[("t1", "官方网站", 2), ("t2", "展会", 1)])]);
        let opts = bound(&[("g1", "渠道"), ("t1", "官网"), ("t2", "展会")]);
        let p = plan(
            &file(vec![tag("官网"), tag("展会")]),
            &s,
            &owns(&["g1", "t1", "t2"]),
            &opts,
        );
        assert_eq!(p.steps.len(), 1, "{p:#?}");
        let step = &p.steps[0];
        assert!(step.drift && !step.destructive, "{step:#?}");
        assert!(
            matches!(&step.kind, StepKind::Edit { id, to_name: Some(n), .. } if id == "t1" && n == "官网")
        );
        assert!(
            step.reason.contains("renamed outside tagsync"),
            "{}",
            step.reason
        );
        assert!(
            step.reason.contains("previously: [官网]"),
            "{}",
            step.reason
        );
    }

    #[test]
    fn the_console_name_accepted_with_previously_plans_nothing() {
        let s = snap(&[("g1", "渠道", 1, &[("t1", "官方网站", 2), ("t2", "展会", 1)])]);
        let opts = bound(&[("g1", "渠道"), ("t1", "官网"), ("t2", "展会")]);
        let owned = owns(&["g1", "t1", "t2"]);
        let p = plan(
            &file(vec![renamed("官方网站", "官网"), tag("展会")]),
            &s,
            &owned,
            &opts,
        );
        assert!(p.is_empty(), "{p:#?}");
        // The binding follows: what a run that writes records.
        let d = file(vec![renamed("官方网站", "官网"), tag("展会")]);
        let m = super::super::matching::match_all(&d, &s, &opts.history, &opts.bindings);
        let b = bindings(&d, &s, &m, &owned);
        assert_eq!(b.get("t1").map(|b| b.name.as_str()), Some("官方网站"));
        // Before that is recorded, dropping `previously` still plans nothing.
        let p = plan(&file(vec![tag("官方网站"), tag("展会")]), &s, &owned, &opts);
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn a_console_rename_of_an_owned_group_is_renamed_back() {
        let s = snap(&[("g1", "来源", 1, &[("t1", "官网", 1)])]);
        let opts = bound(&[("g1", "渠道"), ("t1", "官网")]);
        let p = plan(&file(vec![tag("官网")]), &s, &owns(&["g1", "t1"]), &opts);
        assert_eq!(p.steps.len(), 1, "{p:#?}");
        assert!(p.steps[0].drift);
        assert!(
            p.steps[0]
                .reason
                .starts_with("group `来源` was renamed outside tagsync")
        );
    }

    #[test]
    fn a_console_move_is_moved_back_and_says_so() {
        let s = snap(&[("g1", "渠道", 1, &[("t1", "官网", 1), ("t2", "展会", 5)])]);
        let mut opts = bound(&[("g1", "渠道"), ("t1", "官网"), ("t2", "展会")]);
        opts.bindings.get_mut("t1").expect("bound").order = Some(9);
        let p = plan(
            &file(vec![tag("官网"), tag("展会")]),
            &s,
            &owns(&["g1", "t1", "t2"]),
            &opts,
        );
        let moved: Vec<&crate::plan::Step> = p.steps.iter().filter(|s| s.drift).collect();
        assert_eq!(moved.len(), 1, "{p:#?}");
        assert!(
            moved[0]
                .reason
                .contains("moved outside tagsync (order 9 → 1)"),
            "{}",
            moved[0].reason
        );
    }

    #[test]
    fn an_owned_tag_renamed_in_the_console_whose_name_was_taken_again_is_kept() {
        // 官网 (t1, ours) became 官方网站; the console then made a new 官网 (t9).
        let s = snap(&[(
            "g1",
            "渠道",
            1,
            &[("t1", "官方网站", 3), ("t9", "官网", 2), ("t2", "展会", 1)],
        )]);
        let opts = bound(&[("g1", "渠道"), ("t1", "官网"), ("t2", "展会")]);
        let p = plan(
            &file(vec![tag("官网"), tag("展会")]),
            &s,
            &owns(&["g1", "t1", "t2"]),
            &opts,
        );
        assert!(
            !p.steps
                .iter()
                .any(|s| matches!(s.kind, StepKind::Delete { .. })),
            "{p:#?}"
        );
        assert!(has_note(&p, "left alone, not deleted"), "{:?}", p.notes);
    }

    #[test]
    fn a_mistyped_previously_blocks_the_delete_of_the_name_it_meant() {
        let s = snap(&[("g1", "渠道", 1, &[("t1", "小程序", 2), ("t2", "展会", 1)])]);
        let owned = owns(&["g1", "t1", "t2"]);
        let d = file(vec![renamed("微信小程序", "小成序"), tag("展会")]);
        let p = plan(&d, &s, &owned, &PlanOptions::default());
        assert!(p.blocked(), "{p:#?}");
        let del = p.blocked_steps().next().expect("blocked");
        assert!(matches!(del.kind, StepKind::Delete { .. }));
        let b = del.blocked.as_ref().expect("blocked");
        assert!(b.fix.contains("previously: [小程序]"), "{b:?}");
        assert!(
            p.notes.iter().any(|n| n.contains("did you mean `小程序`?")),
            "{:?}",
            p.notes
        );
        // Spelt right, it is one rename.
        let d = file(vec![renamed("微信小程序", "小程序"), tag("展会")]);
        let p = plan(&d, &s, &owned, &PlanOptions::default());
        assert_eq!(p.steps.len(), 1, "{p:#?}");
        assert!(!p.blocked());
    }

    #[test]
    fn a_previously_matching_nothing_near_is_a_note_only() {
        let s = snap(&[("g1", "渠道", 1, &[("t2", "展会", 1)])]);
        let d = file(vec![renamed("微信小程序", "完全不同的名字"), tag("展会")]);
        let p = plan(&d, &s, &owns(&["g1", "t2"]), &PlanOptions::default());
        assert!(!p.blocked(), "{p:#?}");
        assert!(
            has_note(&p, "matches nothing in the corp, so it is added as new"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn an_unrelated_delete_and_add_are_not_called_a_rename() {
        let s = snap(&[("g1", "节日", 1, &[("t1", "父亲节", 2), ("t2", "春节", 1)])]);
        let d = file(vec![tag("会员日"), tag("春节")]);
        let p = plan(&d, &s, &owns(&["g1", "t1", "t2"]), &PlanOptions::default());
        assert!(
            !p.notes.iter().any(|n| n.contains("looks like a rename")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn a_delete_and_an_add_in_one_group_say_it_looks_like_a_rename() {
        let s = snap(&[("g1", "渠道", 1, &[("t1", "小程序", 2), ("t2", "展会", 1)])]);
        let d = file(vec![tag("微信小程序"), tag("展会")]);
        let p = plan(&d, &s, &owns(&["g1", "t1", "t2"]), &PlanOptions::default());
        assert!(
            p.notes.iter().any(|n| n.contains("looks like a rename")
                && n.contains("`小程序`")
                && n.contains("`微信小程序`")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn bindings_are_recorded_only_where_the_names_agree() {
        let s = snap(&[("g1", "渠道", 7, &[("t1", "官网", 2), ("t2", "展会旧", 1)])]);
        let d = file(vec![tag("官网"), renamed("展会", "展会旧")]);
        let m = super::super::matching::match_all(&d, &s, &History::default(), &Bindings::new());
        let b = bindings(&d, &s, &m, &owns(&["g1", "t1", "t2"]));
        assert_eq!(b.get("g1"), Some(&Binding::group("渠道", Some(7))));
        assert_eq!(b.get("t1"), Some(&Binding::tag("g1", "官网", Some(2))));
        assert_eq!(b.get("t2"), None, "bound once the rename is applied");
    }
}

#[cfg(test)]
mod review_tests {
    //! Cases a reviewer found: each once planned a delete or a wrong edit.

    use super::super::testutil::*;
    use super::super::{PlanOptions, plan};
    use super::*;
    use crate::desired::model::Ownership;

    fn bound_tags(pairs: &[(&str, &str)]) -> PlanOptions {
        let mut bindings = Bindings::new();
        bindings.insert("g1".into(), Binding::group("渠道", None));
        for (id, name) in pairs {
            bindings.insert(id.to_string(), Binding::tag("g1", *name, None));
        }
        PlanOptions {
            bindings,
            ..PlanOptions::default()
        }
    }

    #[test]
    fn a_typo_near_the_bound_name_of_a_drifted_tag_blocks_its_delete() {
        // 微信小程序 (t1) was renamed 小程序X in the console; the file renames it with a typo.
        let s = snap(&[("g1", "渠道", 1, &[("t1", "小程序X", 2), ("t2", "官网", 1)])]);
        let opts = bound_tags(&[("t1", "微信小程序"), ("t2", "官网")]);
        let d = desired(
            Ownership::Ledger,
            vec![group(
                "渠道",
                vec![tag("官网"), renamed("小程序商城", "微信小成序")],
            )],
        );
        let p = plan(&d, &s, &owns(&["g1", "t1", "t2"]), &opts);
        assert!(p.blocked(), "{p:#?}");
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("did you mean `微信小程序` (now `小程序X`")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn an_accepted_console_name_wins_over_a_new_item_of_the_old_name() {
        // Ours (t1, bound 网站F) is now 官方网站F; another app made a new 网站F (t9).
        let s = snap(&[(
            "g1",
            "渠道",
            1,
            &[
                ("t1", "官方网站F", 3),
                ("t9", "网站F", 2),
                ("t2", "展会F", 1),
            ],
        )]);
        let opts = bound_tags(&[("t1", "网站F"), ("t2", "展会F")]);
        let d = desired(
            Ownership::Ledger,
            vec![group(
                "渠道",
                vec![renamed("官方网站F", "网站F"), tag("展会F")],
            )],
        );
        let p = plan(&d, &s, &owns(&["g1", "t1", "t2"]), &opts);
        assert!(!p.blocked(), "{p:#?}");
        assert!(
            !p.steps
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Edit { id, .. } if id == "t9")),
            "{p:#?}"
        );
    }

    #[test]
    fn a_group_renamed_without_previously_and_a_moved_tag_get_notes() {
        let s = snap(&[
            ("g1", "行业F", 2, &[("t1", "制造", 2), ("t2", "零售F", 1)]),
            ("g2", "其他", 1, &[("t3", "杂项", 1)]),
        ]);
        let d = desired(
            Ownership::Ledger,
            vec![
                group("行业分类F", vec![tag("制造"), tag("零售F")]),
                group("其他", vec![tag("杂项"), tag("移来")]),
            ],
        );
        let p = plan(
            &d,
            &s,
            &owns(&["g1", "t1", "t2", "g2", "t3"]),
            &PlanOptions {
                allow_delete: Some(10),
                ..PlanOptions::default()
            },
        );
        assert!(
            p.notes.iter().any(
                |n| n.contains("group `行业F` is deleted") && n.contains("previously: [行业F]")
            ),
            "{:?}",
            p.notes
        );
        let s = snap(&[
            ("g1", "甲", 2, &[("t1", "a", 2), ("t2", "b", 1)]),
            ("g2", "乙", 1, &[("t3", "c", 1)]),
        ]);
        let d = desired(
            Ownership::Ledger,
            vec![
                group("甲", vec![tag("a")]),
                group("乙", vec![tag("c"), tag("b")]),
            ],
        );
        let p = plan(
            &d,
            &s,
            &owns(&["g1", "t1", "t2", "g2", "t3"]),
            &PlanOptions::default(),
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n
                    .contains("tag `b` is deleted from group `甲` and made anew in group `乙`")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn a_console_swap_is_undone_and_named_by_the_corps_names() {
        // The console swapped h1 and h2 (through a temporary name).
        let s = snap(&[("g1", "渠道", 1, &[("t1", "h2", 2), ("t2", "h1", 1)])]);
        let opts = bound_tags(&[("t1", "h1"), ("t2", "h2")]);
        let d = desired(
            Ownership::Ledger,
            vec![group("渠道", vec![tag("h1"), tag("h2")])],
        );
        let p = plan(&d, &s, &owns(&["g1", "t1", "t2"]), &opts);
        let drift: Vec<&str> = p
            .steps
            .iter()
            .filter(|s| s.drift)
            .map(|s| s.reason.as_str())
            .collect();
        assert_eq!(drift.len(), 2, "{p:#?}");
        for r in &drift {
            assert!(!r.contains("~~"), "{r}");
            assert!(!r.contains("to keep"), "both names are the file's: {r}");
        }
    }
}
