//! Apply a plan to a snapshot, one step at a time, under the API rules (as the emulator enforces them):
//! names unique (groups among groups, tags within their group), only owned items edited or
//! deleted, no empty adds, a group whose last tag is deleted disappears. New ids are
//! `sim-g<N>` / `sim-t<N>` in creation order, so a run is deterministic.
//!
//! An add by `group_name` whose name already exists would merge into that group on the
//! real server; the planner never means that, so it is an error here.

use super::model::{Owned, Plan, Scope, StepKind};
use crate::snapshot::{RemoteGroup, RemoteRuleGroup, RemoteTag, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("step {0} is blocked and may not run")]
    Blocked(usize),
    #[error("step {step}: the name `{name}` already exists")]
    NameTaken { step: usize, name: String },
    #[error("step {step}: {id} is not owned")]
    NotOwned { step: usize, id: String },
    #[error("step {step}: {id} does not exist")]
    UnknownId { step: usize, id: String },
    #[error("step {0}: an add needs at least one tag, a delete at least one id")]
    Empty(usize),
}

/// Run every step of `plan` in order against a copy of `remote`: each step on its
/// scope's groups (the corp's, or a rule group's, where every item is this app's).
pub fn simulate(remote: &Snapshot, plan: &Plan, owned: &Owned) -> Result<Snapshot, SimError> {
    let mut next_id = 0usize;
    if !plan.has_rule_groups() {
        return simulate_groups(remote, plan, owned, &mut next_id);
    }
    let of_scope = |scope: &Scope| Plan {
        steps: plan
            .steps
            .iter()
            .filter(|s| s.scope == *scope)
            .cloned()
            .collect(),
        ..Plan::default()
    };
    let corp = Snapshot {
        groups: remote.groups.clone(),
        rule_groups: None,
    };
    let mut out = simulate_groups(&corp, &of_scope(&Scope::Corp), owned, &mut next_id)?;
    let mut rule_groups = remote.rule_groups.clone().unwrap_or_default();
    let mut scopes: Vec<&Scope> = Vec::new();
    for s in plan.steps.iter().filter(|s| !s.scope.is_corp()) {
        if !scopes.contains(&&s.scope) {
            scopes.push(&s.scope);
        }
    }
    for scope in scopes {
        let id = scope.strategy_id().unwrap_or_default();
        let at = match rule_groups.iter().position(|r| r.id == id) {
            Some(at) => at,
            None => {
                rule_groups.push(RemoteRuleGroup {
                    id,
                    name: match scope {
                        Scope::RuleGroup { name, .. } => name.clone(),
                        Scope::Corp => None,
                    },
                    ..RemoteRuleGroup::default()
                });
                rule_groups.len() - 1
            }
        };
        let before = Snapshot {
            groups: std::mem::take(&mut rule_groups[at].groups),
            rule_groups: None,
        };
        rule_groups[at].groups =
            simulate_groups(&before, &of_scope(scope), &Owned::All, &mut next_id)?.groups;
    }
    out.rule_groups = Some(rule_groups);
    Ok(out)
}

/// [`simulate`] of one scope's steps on its groups; new ids count on from `next_id`
/// (ids are unique across scopes, as WeCom's are).
fn simulate_groups(
    remote: &Snapshot,
    plan: &Plan,
    owned: &Owned,
    next_id: &mut usize,
) -> Result<Snapshot, SimError> {
    let mut snap = remote.clone();
    let mut owned = owned.clone();
    for step in &plan.steps {
        let sid = step.id;
        if step.blocked.is_some() {
            return Err(SimError::Blocked(sid));
        }
        match &step.kind {
            StepKind::AddGroup { name, order, tags } => {
                if tags.is_empty() {
                    return Err(SimError::Empty(sid));
                }
                if snap.groups.iter().any(|g| &g.name == name) {
                    return Err(SimError::NameTaken {
                        step: sid,
                        name: name.clone(),
                    });
                }
                let id = fresh(next_id, "g");
                owned.insert(id.clone());
                let mut g = RemoteGroup {
                    id,
                    name: name.clone(),
                    order: order.unwrap_or(0),
                    create_time: 0,
                    tags: vec![],
                };
                for t in tags {
                    if g.tags.iter().any(|x| x.name == t.name) {
                        continue; // equal names in one call create one tag
                    }
                    let id = fresh(next_id, "t");
                    owned.insert(id.clone());
                    g.tags.push(RemoteTag {
                        id,
                        name: t.name.clone(),
                        order: t.order.unwrap_or(0),
                        create_time: 0,
                    });
                }
                snap.groups.push(g);
            }
            StepKind::AddTags { group_id, tags, .. } => {
                if tags.is_empty() {
                    return Err(SimError::Empty(sid));
                }
                let Some(g) = snap.groups.iter_mut().find(|g| &g.id == group_id) else {
                    return Err(SimError::UnknownId {
                        step: sid,
                        id: group_id.clone(),
                    });
                };
                for t in tags {
                    if g.tags.iter().any(|x| x.name == t.name) {
                        return Err(SimError::NameTaken {
                            step: sid,
                            name: t.name.clone(),
                        });
                    }
                    let id = fresh(next_id, "t");
                    owned.insert(id.clone());
                    g.tags.push(RemoteTag {
                        id,
                        name: t.name.clone(),
                        order: t.order.unwrap_or(0),
                        create_time: 0,
                    });
                }
            }
            StepKind::Edit {
                id,
                to_name,
                to_order,
                ..
            } => {
                if !owned.contains(id) {
                    return Err(SimError::NotOwned {
                        step: sid,
                        id: id.clone(),
                    });
                }
                edit(&mut snap, sid, id, to_name.as_deref(), *to_order)?;
            }
            StepKind::Delete { groups, tags } => {
                if groups.is_empty() && tags.is_empty() {
                    return Err(SimError::Empty(sid));
                }
                for id in groups
                    .iter()
                    .map(|g| &g.id)
                    .chain(tags.iter().map(|t| &t.id))
                {
                    if !owned.contains(id) {
                        return Err(SimError::NotOwned {
                            step: sid,
                            id: id.clone(),
                        });
                    }
                }
                for dg in groups {
                    let before = snap.groups.len();
                    snap.groups.retain(|g| g.id != dg.id);
                    if before == snap.groups.len() {
                        return Err(SimError::UnknownId {
                            step: sid,
                            id: dg.id.clone(),
                        });
                    }
                }
                for dt in tags {
                    let g = snap
                        .groups
                        .iter_mut()
                        .find(|g| g.tags.iter().any(|t| t.id == dt.id));
                    let Some(g) = g else {
                        return Err(SimError::UnknownId {
                            step: sid,
                            id: dt.id.clone(),
                        });
                    };
                    g.tags.retain(|t| t.id != dt.id);
                }
                // Emptied groups disappear.
                snap.groups.retain(|g| !g.tags.is_empty());
            }
        }
    }
    Ok(snap)
}

fn fresh(counter: &mut usize, prefix: &str) -> String {
    *counter += 1;
    format!("sim-{prefix}{counter}")
}

fn edit(
    snap: &mut Snapshot,
    sid: usize,
    id: &str,
    name: Option<&str>,
    order: Option<u32>,
) -> Result<(), SimError> {
    if let Some(gi) = snap.groups.iter().position(|g| g.id == id) {
        if let Some(n) = name
            && snap
                .groups
                .iter()
                .enumerate()
                .any(|(i, g)| i != gi && g.name == n)
        {
            return Err(SimError::NameTaken {
                step: sid,
                name: n.to_string(),
            });
        }
        let g = &mut snap.groups[gi];
        if let Some(n) = name {
            g.name = n.to_string();
        }
        if let Some(o) = order {
            g.order = o;
        }
        return Ok(());
    }
    for g in &mut snap.groups {
        let Some(ti) = g.tags.iter().position(|t| t.id == id) else {
            continue;
        };
        if let Some(n) = name
            && g.tags
                .iter()
                .enumerate()
                .any(|(i, t)| i != ti && t.name == n)
        {
            return Err(SimError::NameTaken {
                step: sid,
                name: n.to_string(),
            });
        }
        let t = &mut g.tags[ti];
        if let Some(n) = name {
            t.name = n.to_string();
        }
        if let Some(o) = order {
            t.order = o;
        }
        return Ok(());
    }
    Err(SimError::UnknownId {
        step: sid,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::{DeletedTag, NewTag, Step, Target};
    use crate::plan::testutil::snap;

    fn plan_of(kinds: Vec<StepKind>) -> Plan {
        Plan {
            steps: kinds
                .into_iter()
                .enumerate()
                .map(|(id, kind)| Step {
                    id,
                    kind,
                    reason: "test".into(),
                    depends_on: vec![],
                    blocked: None,
                    destructive: false,
                    drift: false,
                    scope: Scope::Corp,
                })
                .collect(),
            ..Plan::default()
        }
    }

    fn edit(id: &str, to: &str) -> StepKind {
        StepKind::Edit {
            id: id.into(),
            target: Target::Tag,
            group: "G".into(),
            from_name: String::new(),
            to_name: Some(to.into()),
            from_order: 0,
            to_order: None,
        }
    }

    fn del_tag(id: &str) -> StepKind {
        StepKind::Delete {
            groups: vec![],
            tags: vec![DeletedTag {
                id: id.into(),
                name: String::new(),
                group: String::new(),
                moved_to: None,
            }],
        }
    }

    #[test]
    fn rename_onto_a_taken_name_fails() {
        let s = snap(&[("g", "G", 1, &[("t1", "A", 1), ("t2", "B", 1)])]);
        let r = simulate(&s, &plan_of(vec![edit("t1", "B")]), &Owned::All);
        assert_eq!(
            r,
            Err(SimError::NameTaken {
                step: 0,
                name: "B".into()
            })
        );
    }

    #[test]
    fn foreign_items_refuse_edits_and_deletes() {
        let s = snap(&[("g", "G", 1, &[("t1", "A", 1)])]);
        let owned = Owned::default();
        let r = simulate(&s, &plan_of(vec![edit("t1", "Z")]), &owned);
        assert!(matches!(r, Err(SimError::NotOwned { .. })));
        let r = simulate(&s, &plan_of(vec![del_tag("t1")]), &owned);
        assert!(matches!(r, Err(SimError::NotOwned { .. })));
    }

    #[test]
    fn deleting_the_last_tag_removes_the_group() {
        let s = snap(&[
            ("g", "G", 1, &[("t1", "A", 1)]),
            ("h", "H", 1, &[("t2", "B", 1)]),
        ]);
        let out = simulate(&s, &plan_of(vec![del_tag("t1")]), &Owned::All).expect("ok");
        assert_eq!(out.groups.len(), 1);
        assert_eq!(out.groups[0].id, "h");
    }

    #[test]
    fn adds_get_deterministic_owned_ids_and_group_names_stay_unique() {
        let s = snap(&[("g", "G", 1, &[("t1", "A", 1)])]);
        let add = |name: &str| StepKind::AddGroup {
            name: name.into(),
            order: Some(5),
            tags: vec![NewTag {
                name: "x".into(),
                order: None,
                replaces: None,
            }],
        };
        let p = plan_of(vec![add("N"), edit("sim-t2", "y")]);
        let out = simulate(&s, &p, &Owned::default()).expect("new items are owned");
        let n = out.groups.iter().find(|g| g.name == "N").expect("added");
        assert_eq!(
            (
                n.id.as_str(),
                n.tags[0].id.as_str(),
                n.tags[0].name.as_str()
            ),
            ("sim-g1", "sim-t2", "y")
        );
        let r = simulate(&s, &plan_of(vec![add("G")]), &Owned::All);
        assert!(
            matches!(r, Err(SimError::NameTaken { .. })),
            "an add by an existing name would merge"
        );
    }
}
