//! What the steps are built from: a [`Draft`] (a step before its id is final), the keys
//! of items and name spaces, the [`Builder`] that collects drafts, and the blocked
//! reasons every part uses.

use std::collections::HashMap;

use super::super::matching::Matching;
use super::super::model::*;
use crate::desired::model::Desired;
use crate::snapshot::Snapshot;

/// A step before ids are final: `deps` are draft indices.
pub(super) struct Draft {
    pub(super) kind: StepKind,
    pub(super) reason: String,
    pub(super) deps: Vec<usize>,
    pub(super) blocked: Option<Blocked>,
    pub(super) destructive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Ns {
    Groups,
    Tags(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Key {
    Group(usize),
    Tag(usize, usize),
}

pub(super) struct Rename {
    pub(super) ns: Ns,
    pub(super) key: Key,
    pub(super) to: String,
    pub(super) draft: usize,
}

pub(super) fn not_owned(id: &str) -> Blocked {
    Blocked {
        reason: format!(
            "not owned: the ledger does not record {id} as made by this app, and WeCom refuses \
             an app's edits and deletes of what it did not create"
        ),
        fix: format!(
            "`tagsync adopt {id}` if this app created it, or `ownership: all` with the legacy secret"
        ),
    }
}

pub(super) fn read_only(group: &str) -> Blocked {
    Blocked {
        reason: format!("group `{group}` is `managed: false` (read-only)"),
        fix: "change it in the admin console, remove it from the file, or delete its \
              `managed: false` line and keep (or add) `order: ignore`: tagsync then adds \
              tags to the group without moving it or touching what it did not create"
            .into(),
    }
}

pub(super) struct Builder<'a> {
    pub(super) desired: &'a Desired,
    pub(super) remote: &'a Snapshot,
    pub(super) owned: &'a Owned,
    pub(super) m: &'a Matching,
    pub(super) drafts: Vec<Draft>,
    pub(super) renames: Vec<Rename>,
    /// (namespace, name, draft) for every add that takes a name.
    pub(super) takes: Vec<(Ns, String, usize)>,
    /// AddTags drafts per remote group index.
    pub(super) add_into: HashMap<usize, usize>,
    pub(super) notes: Vec<String>,
}
