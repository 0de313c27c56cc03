//! Helpers shared by the planner's unit and property tests.

use super::model::{History, Owned, Step, StepKind};
use crate::desired::model::{Desired, DesiredGroup, DesiredTag, Ownership};
use crate::snapshot::{RemoteGroup, RemoteTag, Snapshot};

/// `(group id, group name, order, [(tag id, tag name, order)])`.
pub type GroupSpec<'a> = (&'a str, &'a str, u32, &'a [(&'a str, &'a str, u32)]);

pub fn snap(groups: &[GroupSpec<'_>]) -> Snapshot {
    Snapshot {
        groups: groups
            .iter()
            .map(|(id, name, order, tags)| RemoteGroup {
                id: id.to_string(),
                name: name.to_string(),
                order: *order,
                create_time: 0,
                tags: tags
                    .iter()
                    .map(|(id, name, order)| RemoteTag {
                        id: id.to_string(),
                        name: name.to_string(),
                        order: *order,
                        create_time: 0,
                    })
                    .collect(),
            })
            .collect(),
        rule_groups: None,
    }
}

pub fn tag(name: &str) -> DesiredTag {
    DesiredTag::named(name)
}

pub fn renamed(name: &str, old: &str) -> DesiredTag {
    let mut t = DesiredTag::named(name);
    t.previously = vec![old.to_string()];
    t
}

pub fn group(name: &str, tags: Vec<DesiredTag>) -> DesiredGroup {
    DesiredGroup::named(name, tags)
}

pub fn desired(ownership: Ownership, groups: Vec<DesiredGroup>) -> Desired {
    Desired {
        version: 1,
        ownership,
        groups,
        strategies: None,
    }
}

/// The tag named `name` in the group named `group`, if any.
pub fn find_tag<'a>(s: &'a Snapshot, group: &str, name: &str) -> Option<&'a RemoteTag> {
    s.groups
        .iter()
        .find(|g| g.name == group)
        .and_then(|g| g.tags.iter().find(|t| t.name == name))
}

/// What the ledger would record for these applied steps (their renames).
pub fn history_of(steps: &[Step]) -> History {
    let mut h = History::default();
    for s in steps {
        if let StepKind::Edit {
            id,
            from_name,
            to_name: Some(to),
            ..
        } = &s.kind
        {
            h.record(id, from_name, to);
        }
    }
    h
}

/// A corp of two groups and a file that renames `a` to `z` in one and moves `b` (pinned
/// by id) to the other: one rename, one replace.
pub fn rename_and_move() -> (Snapshot, Desired) {
    let s = snap(&[
        ("g1", "G1", 20, &[("t1", "a", 2), ("t2", "b", 1)]),
        ("g2", "G2", 10, &[("t3", "c", 1)]),
    ]);
    let mut moved = tag("b");
    moved.id = Some("t2".into());
    let d = desired(
        Ownership::All,
        vec![
            group("G1", vec![renamed("z", "a")]),
            group("G2", vec![tag("c"), moved]),
        ],
    );
    (s, d)
}

/// The ledger's ownership of these ids.
pub fn owns(ids: &[&str]) -> Owned {
    Owned::Ids(ids.iter().map(|s| s.to_string()).collect())
}
