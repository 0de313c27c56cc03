//! Scopes: the corp's tags and each rule group's (客户联系规则组) are planned by the one
//! planner, scope by scope, and joined into one plan.
//!
//! Decisions where the spec is silent:
//! - **What is managed.** Rule-group tags are read and planned only when the file has a
//!   `strategies:` key, and then only in the rule groups it lists. This app's tags in a
//!   rule group the file does not list are left alone (a note counts them): leaving a
//!   rule group out of the file never deletes its tags; `groups: []` does.
//! - **Ownership.** WeCom lists only the rule-group tags this app created, so each one
//!   listed is owned (`Owned::All` in that scope).
//! - **One gate.** The delete gate counts the tags every scope removes, against every
//!   tag tagsync owns in all scopes.
//! - **One quota.** Corp and rule-group tags share the corp's tag limit. Each scope is
//!   planned with the room the others leave; when the adds of all scopes, made before
//!   any delete, would pass the limit, the scopes run one after another, the ones that
//!   shrink first, each planned with the room left by those before it.
//! - **Moves between scopes** are replaces: a tag deleted in one scope and added, under
//!   the same name (or pinned by its `id`), in another is shown as one replace on both
//!   sides; the delete waits for the add (when the order of the plan allows it).
//! - **Deletes last.** A scope's delete that nothing in its scope waits for moves to the
//!   end of the joined plan, so no scope's delete runs while another scope still adds.

use std::borrow::Cow;

use super::model::*;
use super::{Memory, drift, gates, plan_matched};
use crate::desired::model::{Desired, RuleGroupRef};
use crate::snapshot::{RemoteRuleGroup, Snapshot};

/// One scope to plan: its part of the file and of the corp.
struct Part<'a> {
    scope: Scope,
    desired: Cow<'a, Desired>,
    remote: Cow<'a, Snapshot>,
    /// Why nothing may be created in it (a rule group missing or not first-level).
    refused: Option<Blocked>,
}

/// The rule group a `strategies:` entry names, or why none.
pub fn resolve<'s>(
    wanted: &RuleGroupRef,
    remote: &'s Snapshot,
) -> Result<Option<&'s RemoteRuleGroup>, String> {
    let all = remote.rule_groups.as_deref().unwrap_or_default();
    match wanted {
        RuleGroupRef::Id(id) => Ok(all.iter().find(|r| r.id == *id)),
        RuleGroupRef::Name(name) => {
            let hits: Vec<&RemoteRuleGroup> = all
                .iter()
                .filter(|r| r.name.as_deref() == Some(name.as_str()))
                .collect();
            match hits.as_slice() {
                [one] => Ok(Some(one)),
                [] => {
                    let known: Vec<String> = all.iter().take(10).map(|r| r.label()).collect();
                    let more = if all.len() > known.len() { ", …" } else { "" };
                    Err(format!(
                        "no rule group is named `{}` (the corp has {}{}); check the name in the admin console, or name it by `strategy_id`",
                        crate::sanitize::for_terminal(name),
                        plural(all.len(), "rule group"),
                        if known.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ": {}{more}",
                                crate::sanitize::for_terminal(&known.join(", "))
                            )
                        }
                    ))
                }
                many => Err(format!(
                    "{} rule groups are named `{}` (ids {}); name the one you mean by `strategy_id`",
                    many.len(),
                    crate::sanitize::for_terminal(name),
                    many.iter()
                        .map(|r| r.id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }
}

/// Every `strategies:` entry whose name finds no rule group, or several: errors to stop
/// on before planning.
pub fn name_problems(desired: &Desired, remote: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    // Which entry first took each rule group: one listed by id and again by name would
    // have each entry delete the other's groups.
    let mut taken: Vec<(u64, &RuleGroupRef)> = Vec::new();
    for r in desired.strategies.iter().flatten() {
        let id = match resolve(&r.rule_group, remote) {
            Err(problem) => {
                problems.push(problem);
                continue;
            }
            Ok(Some(rg)) => rg.id,
            Ok(None) => match r.rule_group {
                RuleGroupRef::Id(id) => id,
                RuleGroupRef::Name(_) => continue,
            },
        };
        match taken.iter().find(|(t, _)| *t == id) {
            Some((_, first)) => problems.push(format!(
                "rule group {id} is listed twice, as {first} and as {}; list it once, with all its groups (in a fleet's merged files, name it the same way in each: by `strategy_id` or by `name`)",
                r.rule_group
            )),
            None => taken.push((id, &r.rule_group)),
        }
    }
    problems
}

/// Every id (groups and tags) in the rule groups the file lists: all this app's, since
/// WeCom lists no other app's rule-group tags.
pub fn listed_rule_group_ids(desired: &Desired, remote: &Snapshot) -> Vec<String> {
    let mut ids = Vec::new();
    for r in desired.strategies.iter().flatten() {
        if let Ok(Some(rg)) = resolve(&r.rule_group, remote) {
            for g in &rg.groups {
                ids.push(g.id.clone());
                ids.extend(g.tags.iter().map(|t| t.id.clone()));
            }
        }
    }
    ids
}

/// The scopes of `desired`: the corp, then each listed rule group.
fn parts<'a>(desired: &'a Desired, remote: &'a Snapshot, notes: &mut Vec<String>) -> Vec<Part<'a>> {
    let mut parts = vec![Part {
        scope: Scope::Corp,
        desired: Cow::Borrowed(desired),
        remote: Cow::Borrowed(remote),
        refused: None,
    }];
    let mut listed = Vec::new();
    for r in desired.strategies.iter().flatten() {
        let found = match resolve(&r.rule_group, remote) {
            Ok(found) => found,
            Err(problem) => {
                notes.push(format!("{problem}: its groups are not planned"));
                continue;
            }
        };
        let (scope, refused) = match (found, &r.rule_group) {
            // Listed twice (by id and by name): the command stops on it before planning
            // (`name_problems`); here the second is not planned, never as a delete.
            (Some(rg), _) if listed.contains(&rg.id) => {
                notes.push(format!(
                    "rule group {} is listed twice: planned once",
                    rg.id
                ));
                continue;
            }
            (Some(rg), _) => {
                listed.push(rg.id);
                let scope = Scope::RuleGroup {
                    strategy_id: rg.id,
                    name: rg.name.clone(),
                };
                let refused = (rg.parent_id != 0).then(|| Blocked {
                    reason: format!(
                        "{} is not a first-level rule group: WeCom holds tags only in first-level ones",
                        scope.label()
                    ),
                    fix: format!(
                        "list these groups under its parent rule group (strategy_id {}) instead",
                        rg.parent_id
                    ),
                });
                (scope, refused)
            }
            (None, RuleGroupRef::Id(id)) => {
                let scope = Scope::RuleGroup {
                    strategy_id: *id,
                    name: None,
                };
                let refused = Some(Blocked {
                    reason: format!("the corp has no rule group with strategy_id {id}"),
                    fix: "check the id in the admin console (客户联系 → 规则组), or name the rule group by `name`".into(),
                });
                (scope, refused)
            }
            (None, RuleGroupRef::Name(_)) => continue,
        };
        let groups = found.map(|rg| rg.groups.clone()).unwrap_or_default();
        parts.push(Part {
            scope,
            desired: Cow::Owned(Desired {
                version: desired.version,
                ownership: desired.ownership,
                groups: r.groups.clone(),
                strategies: None,
            }),
            remote: Cow::Owned(Snapshot {
                groups,
                rule_groups: None,
            }),
            refused,
        });
    }
    for rg in remote.rule_groups.iter().flatten() {
        let tags: usize = rg.groups.iter().map(|g| g.tags.len()).sum();
        if tags > 0 && !listed.contains(&rg.id) {
            let scope = Scope::RuleGroup {
                strategy_id: rg.id,
                name: rg.name.clone(),
            };
            notes.push(format!(
                "{} holds {tags} of this app's tags and is not listed under `strategies:`: left alone",
                scope.label(),
            ));
        }
    }
    parts
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A scope's plan and what it changes in the quota.
struct Planned {
    scope: Scope,
    plan: Plan,
    /// Tags the scope holds now, and after its plan.
    now: usize,
    after: usize,
    /// Tags its unblocked adds create.
    added: usize,
}

fn counts(plan: &Plan, now: usize) -> (usize, usize) {
    let unblocked = |s: &&Step| s.blocked.is_none();
    let added: usize = plan
        .steps
        .iter()
        .filter(unblocked)
        .map(|s| match &s.kind {
            StepKind::AddGroup { tags, .. } | StepKind::AddTags { tags, .. } => tags.len(),
            _ => 0,
        })
        .sum();
    let deleted: usize = plan
        .steps
        .iter()
        .filter(unblocked)
        .map(|s| match &s.kind {
            StepKind::Delete { groups, tags } => {
                tags.len() + groups.iter().map(|g| g.tags.len()).sum::<usize>()
            }
            _ => 0,
        })
        .sum();
    (added, (now + added).saturating_sub(deleted))
}

/// Plan every scope of `desired` and join them; with `want_bindings`, the bindings a
/// writing run records, from every scope.
pub(super) fn plan_scopes(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    options: &PlanOptions,
    memory: Memory<'_>,
    want_bindings: bool,
) -> (Plan, Bindings) {
    if desired.strategies.is_none() {
        // The corp alone: as it always was, without a clone.
        let (mut p, m) = plan_matched(desired, remote, owned, options, memory);
        gates::apply(&mut p, remote, owned, options);
        let bindings = if want_bindings {
            drift::bindings(desired, remote, &m, owned)
        } else {
            Bindings::new()
        };
        return (p, bindings);
    }
    let mut notes = Vec::new();
    let parts = parts(desired, remote, &mut notes);
    let total_now = remote.quota_count();
    let all = Owned::All;
    let owned_of = |part: &Part<'_>| if part.scope.is_corp() { owned } else { &all };
    let plan_part = |part: &Part<'_>, others: usize, bindings: &mut Bindings| {
        let options = PlanOptions {
            quota_others: others,
            ..options.clone()
        };
        let owned = owned_of(part);
        let (mut p, m) = plan_matched(&part.desired, &part.remote, owned, &options, memory);
        if want_bindings {
            bindings.extend(drift::bindings(&part.desired, &part.remote, &m, owned));
        }
        if let Some(refused) = &part.refused {
            for s in &mut p.steps {
                s.blocked.get_or_insert_with(|| refused.clone());
            }
        }
        for s in &mut p.steps {
            s.scope = part.scope.clone();
        }
        if !part.scope.is_corp() {
            // The planner speaks of "the corp"; here its world is the rule group.
            let label = part.scope.label();
            let here = format!(" in {label}");
            for s in &mut p.steps {
                s.reason = s.reason.replace(" in the corp", &here);
            }
            for n in &mut p.notes {
                *n = format!("{label}: {}", n.replace(" in the corp", &here));
            }
        }
        let now = part.remote.tag_count();
        let (added, after) = counts(&p, now);
        Planned {
            scope: part.scope.clone(),
            plan: p,
            now,
            after,
            added,
        }
    };
    // First: each scope with the others' tags as they are now.
    let mut bindings = Bindings::new();
    let mut planned: Vec<Planned> = parts
        .iter()
        .map(|part| {
            let others = total_now.saturating_sub(part.remote.tag_count());
            plan_part(part, others, &mut bindings)
        })
        .collect();
    let added: usize = planned.iter().map(|p| p.added).sum();
    let shrinks = planned.iter().any(|p| p.after < p.now + p.added);
    let mut serial = false;
    if total_now + added > options.tag_limit && shrinks && planned.len() > 1 {
        // Crowded: one scope after another, the ones that shrink most first, each with
        // the room left by those before it (done) and after it (as they are now).
        serial = true;
        let mut by_net: Vec<usize> = (0..parts.len()).collect();
        by_net.sort_by_key(|&i| planned[i].after as i64 - planned[i].now as i64);
        let mut done = 0usize;
        let mut bindings_again = Bindings::new();
        let mut again = Vec::with_capacity(parts.len());
        let untouched =
            total_now.saturating_sub(parts.iter().map(|p| p.remote.tag_count()).sum::<usize>());
        for (k, &i) in by_net.iter().enumerate() {
            let later: usize = by_net[k + 1..]
                .iter()
                .map(|&j| parts[j].remote.tag_count())
                .sum();
            let p = plan_part(&parts[i], done + later + untouched, &mut bindings_again);
            done += p.after;
            again.push(p);
        }
        planned = again;
        bindings = bindings_again;
    }
    // Every scope may fit while all of them together do not.
    let after: usize = planned.iter().map(|p| p.after).sum::<usize>()
        + total_now.saturating_sub(parts.iter().map(|p| p.remote.tag_count()).sum::<usize>());
    let mut plan = join(planned, serial);
    if after > options.tag_limit && !plan.notes.iter().any(|n| n.contains(" tag limit")) {
        plan.notes.push(format!(
            "the corp would hold {after} tags after this plan (its corp tags and this app's \
             rule-group tags share one quota), over its {} tag limit: adds past the limit \
             fail with errcode 40126; remove tags from the file or from the corp first",
            options.tag_limit
        ));
    }
    plan.notes.extend(notes);
    moves(&mut plan, remote);
    drift::previously_across_scopes(
        &mut plan,
        parts.iter().map(|p| (&p.scope, p.desired.as_ref())),
    );
    let owned_tags = remote
        .groups
        .iter()
        .flat_map(|g| &g.tags)
        .filter(|t| owned.contains(&t.id))
        .count()
        + parts
            .iter()
            .filter(|p| !p.scope.is_corp())
            .map(|p| p.remote.tag_count())
            .sum::<usize>();
    gates::apply_counted(&mut plan, owned_tags, options);
    (plan, bindings)
}

/// The scopes' plans as one: step ids renumbered, each scope's trailing delete (one no
/// step of its scope waits for) moved to the end. With `serial`, each scope's steps wait
/// for every step of the scope before.
fn join(planned: Vec<Planned>, serial: bool) -> Plan {
    let mut out = Plan::default();
    let mut last_scope: Vec<usize> = Vec::new();
    // (scope index, old id) → new id, filled as steps are placed.
    let mut placed: Vec<Vec<Option<usize>>> = Vec::new();
    let scopes = planned.len();
    let mut holding: Vec<Step> = Vec::new();
    for (si, p) in planned.into_iter().enumerate() {
        let waited_on: std::collections::HashSet<usize> = p
            .plan
            .steps
            .iter()
            .flat_map(|s| s.depends_on.iter().copied())
            .collect();
        placed.push(vec![None; p.plan.steps.len()]);
        let mut this_scope = Vec::new();
        for mut s in p.plan.steps {
            let old = s.id;
            let at_end = !serial
                && scopes > 1
                && matches!(s.kind, StepKind::Delete { .. })
                && !waited_on.contains(&old);
            s.depends_on = s.depends_on.iter().filter_map(|&d| placed[si][d]).collect();
            if at_end {
                holding.push(s);
                continue;
            }
            s.id = out.steps.len();
            if serial {
                s.depends_on.extend(last_scope.iter().copied());
                s.depends_on.sort_unstable();
                s.depends_on.dedup();
            }
            placed[si][old] = Some(s.id);
            this_scope.push(s.id);
            out.steps.push(s);
        }
        if !this_scope.is_empty() {
            last_scope = this_scope;
        }
        out.notes.extend(p.plan.notes);
        merge_unmanaged(&mut out.unmanaged, p.plan.unmanaged, &p.scope);
    }
    for s in holding {
        let mut s = s;
        s.id = out.steps.len();
        out.steps.push(s);
    }
    out
}

/// Foreign items left alone, named with their rule group when not the corp's.
fn merge_unmanaged(into: &mut Unmanaged, from: Unmanaged, scope: &Scope) {
    let named = |g: String| match scope {
        Scope::Corp => g,
        _ => format!("{g} ({})", scope.label()),
    };
    into.groups.extend(from.groups.into_iter().map(named));
    into.tags
        .extend(from.tags.into_iter().map(|t| UnmanagedTag {
            group: named(t.group),
            name: t.name,
        }));
    into.tag_count += from.tag_count;
}

/// Tags deleted in one scope and added under the same name in another: one replace.
/// The add names the old id; the delete says where the tag goes and waits for the add
/// when the add comes first in the plan.
fn moves(plan: &mut Plan, remote: &Snapshot) {
    // The id of a tag of a deleted group, by the group's id and the tag's name.
    let tag_id = |group: &str, name: &str| {
        let rule_groups = remote.rule_groups.iter().flatten();
        remote
            .groups
            .iter()
            .chain(rule_groups.flat_map(|r| &r.groups))
            .find(|g| g.id == group)
            .and_then(|g| g.tags.iter().find(|t| t.name == name))
            .map(|t| t.id.clone())
    };
    // Every tag added, by name: (step, index in its tags, scope, group).
    let mut added: Vec<(usize, usize, Scope, String, String)> = Vec::new();
    for s in &plan.steps {
        let (group, tags) = match &s.kind {
            StepKind::AddGroup { name, tags, .. } => (name, tags),
            StepKind::AddTags {
                group_name, tags, ..
            } => (group_name, tags),
            _ => continue,
        };
        for (i, t) in tags.iter().enumerate() {
            if t.replaces.is_none() {
                added.push((s.id, i, s.scope.clone(), group.clone(), t.name.clone()));
            }
        }
    }
    // (delete step, add step, index in the add's tags, the old tag's id when known)
    let mut links: Vec<(usize, usize, usize, Option<String>)> = Vec::new();
    for s in plan.steps.iter_mut() {
        let scope = s.scope.clone();
        let StepKind::Delete { groups, tags } = &mut s.kind else {
            continue;
        };
        let mut notes = Vec::new();
        for t in tags.iter_mut().filter(|t| t.moved_to.is_none()) {
            if let Some(at) = added
                .iter()
                .position(|(_, _, sc, _, name)| *sc != scope && *name == t.name)
            {
                let (step, i, to, group, _) = added.remove(at);
                t.moved_to = Some(format!("{group} ({})", to.label()));
                notes.push(format!(
                    "tag `{}` moves to group `{group}` of {}: a replace (delete + add); customers who carry it lose it",
                    t.name,
                    to.label()
                ));
                links.push((s.id, step, i, Some(t.id.clone())));
            }
        }
        for g in groups.iter() {
            for name in &g.tags {
                if let Some(at) = added
                    .iter()
                    .position(|(_, _, sc, _, n)| *sc != scope && n == name)
                {
                    let (step, i, to, group, _) = added.remove(at);
                    notes.push(format!(
                        "tag `{name}` of group `{}` moves to group `{group}` of {}: a replace (delete + add); customers who carry it lose it",
                        g.name,
                        to.label()
                    ));
                    links.push((s.id, step, i, tag_id(&g.id, name)));
                }
            }
        }
        for n in notes {
            s.reason.push('\n');
            s.reason.push_str(&n);
        }
    }
    for (del, add, i, old_id) in links {
        let from = plan.steps[del].scope.label();
        if let StepKind::AddGroup { tags, .. } | StepKind::AddTags { tags, .. } =
            &mut plan.steps[add].kind
            && let Some(t) = tags.get_mut(i)
        {
            t.replaces = old_id;
            let note = format!(
                "tag `{}` comes from {from}: a replace; the old tag is deleted by step {}",
                t.name,
                del + 1
            );
            plan.steps[add].reason.push('\n');
            plan.steps[add].reason.push_str(&note);
            plan.steps[add].destructive = true;
        }
        // The new tag exists before the old goes, when the plan's order allows it.
        if add < del && !plan.steps[del].depends_on.contains(&add) {
            plan.steps[del].depends_on.push(add);
            plan.steps[del].depends_on.sort_unstable();
        }
    }
}
