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

use std::collections::{BTreeMap, HashSet};

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

/// Mark the edits that undo drift, and say so in their reasons.
pub fn mark(plan: &mut Plan, bindings: &Bindings) {
    if bindings.is_empty() {
        return;
    }
    for step in &mut plan.steps {
        let StepKind::Edit {
            id,
            target,
            group,
            from_name,
            to_name,
            from_order,
            to_order,
        } = &step.kind
        else {
            continue;
        };
        let Some(b) = bindings.get(id) else { continue };
        let renamed = to_name.as_ref() == Some(&b.name) && *from_name != b.name;
        let moved = to_order.is_some() && b.order.is_some_and(|o| o != *from_order);
        if !renamed && !moved {
            continue;
        }
        let what = match target {
            Target::Group => format!("group `{from_name}`"),
            Target::Tag => format!("tag `{from_name}` in group `{group}`"),
        };
        let mut parts = Vec::new();
        if renamed {
            parts.push(format!(
                "was renamed outside tagsync (the file says `{}`): renamed back, same id, customers kept; to keep `{from_name}` instead, write it in the file with `previously: [{}]`",
                b.name, b.name
            ));
        }
        if moved {
            let last = b.order.unwrap_or_default();
            let to = to_order.unwrap_or_default();
            parts.push(format!(
                "was moved outside tagsync (order {last} → {from_order}): moved back to its place in the list (order {from_order} → {to})"
            ));
        }
        step.reason = format!("{what} {}", parts.join("; and it "));
        step.drift = true;
    }
}

/// Whether `a` and `b` are near enough for a did-you-mean.
fn near(a: &str, b: &str) -> Option<usize> {
    let d = strsim::damerau_levenshtein(a, b);
    let most = (a.chars().count() / 3).max(1);
    (d > 0 && d <= most).then_some(d)
}

/// The nearest of `names` to `to`, if near enough.
fn nearest<'a>(to: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names
        .filter_map(|n| near(to, n).map(|d| (d, n)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
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
    for (di, dg) in desired.groups.iter().enumerate() {
        if m.groups[di].is_none() {
            for p in dg.previously.iter().filter(|p| **p != temp_name(&dg.name)) {
                if remote.groups.iter().any(|g| known(&g.id, &g.name, p)) {
                    continue;
                }
                let near = nearest(p, remote.groups.iter().map(|g| g.name.as_str()))
                    .and_then(|n| remote.groups.iter().find(|g| g.name == n))
                    .map(|g| (g.name.clone(), g.id.clone()));
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
                let near = nearest(p, g.tags.iter().map(|r| r.name.as_str()))
                    .and_then(|n| g.tags.iter().find(|r| r.name == n))
                    .map(|r| (r.name.clone(), r.id.clone()));
                typos.push((
                    format!("tag `{}` in group `{}`", t.name, dg.name),
                    p.clone(),
                    near,
                ));
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
        let deleted = plan.steps.iter_mut().find(|s| match &s.kind {
            StepKind::Delete { groups, tags } => {
                groups.iter().any(|g| g.id == id) || tags.iter().any(|t| t.id == id)
            }
            _ => false,
        });
        match deleted {
            Some(step) => {
                plan.notes.push(format!(
                    "{what}: `previously: [{old}]` matches nothing in the corp; did you mean `{name}`? This plan deletes `{name}`: the delete is blocked"
                ));
                step.blocked.get_or_insert_with(|| Blocked {
                    reason: format!(
                        "{what} says `previously: [{old}]`, which matches nothing, while this plan deletes `{name}`: a typo there would strip `{name}` from every customer who carries it"
                    ),
                    fix: format!(
                        "write `previously: [{name}]` to rename `{name}` (same id, customers kept); or remove `{old}` from `previously` if `{name}` is meant to go"
                    ),
                });
            }
            None => plan.notes.push(format!(
                "{what}: `previously: [{old}]` matches nothing in the corp; did you mean `{name}`?"
            )),
        }
    }
}

/// Note the groups where an owned tag is deleted and a tag added: perhaps a rename.
pub fn rename_hints(plan: &mut Plan) {
    let mut added: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut deleted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for step in &plan.steps {
        match &step.kind {
            StepKind::AddTags {
                group_name, tags, ..
            } => added.entry(group_name).or_default().extend(
                tags.iter()
                    .filter(|t| t.replaces.is_none())
                    .map(|t| t.name.as_str()),
            ),
            StepKind::Delete { tags, .. } => {
                for t in tags.iter().filter(|t| t.moved_to.is_none()) {
                    deleted.entry(&t.group).or_default().push(&t.name);
                }
            }
            _ => {}
        }
    }
    let mut notes = Vec::new();
    for (group, gone) in &deleted {
        let Some(new) = added.get(group).filter(|n| !n.is_empty()) else {
            continue;
        };
        let list = |v: &[&str]| {
            v.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        notes.push(format!(
            "group `{group}`: this plan deletes {} and adds {}; this looks like a rename: to keep its customers, write the old name under the new one with `previously: [{}]`",
            list(gone),
            list(new),
            gone[0]
        ));
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

    fn owns(ids: &[&str]) -> Owned {
        Owned::Ids(ids.iter().map(|s| s.to_string()).collect())
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
