//! What the ledger knows about each id: whether tagsync may change it ([`Owned`]), what
//! it was last applied as ([`Binding`]), and the renames tagsync made ([`History`]).
//! Plain data, read by the planner and written by the executor.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Which remote ids tagsync may edit or delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owned {
    /// `ownership: all`: the corp holds the legacy all-powerful secret.
    All,
    /// The ids of the ownership ledger.
    Ids(BTreeSet<String>),
}

impl Owned {
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Owned::All => true,
            Owned::Ids(ids) => ids.contains(id),
        }
    }

    /// Record a newly created id as owned.
    pub fn insert(&mut self, id: String) {
        if let Owned::Ids(ids) = self {
            ids.insert(id);
        }
    }
}

impl Default for Owned {
    fn default() -> Self {
        Owned::Ids(BTreeSet::new())
    }
}

/// What an owned id is in the file: the name (and order) tagsync last applied to it, and
/// for a tag the id of its group. A rename made outside tagsync (the admin console)
/// leaves the binding as it was, so the planner can tell drift from a new item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The name tagsync last applied (or found, when the id was adopted or upgraded).
    pub name: String,
    /// A tag's group id; `None` for a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The order value last applied, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
}

impl Binding {
    pub fn group(name: impl Into<String>, order: Option<u32>) -> Self {
        Binding {
            name: name.into(),
            group: None,
            order,
        }
    }

    pub fn tag(group_id: impl Into<String>, name: impl Into<String>, order: Option<u32>) -> Self {
        Binding {
            name: name.into(),
            group: Some(group_id.into()),
            order,
        }
    }
}

/// Bindings by id.
pub type Bindings = BTreeMap<String, Binding>;

/// The renames tagsync applied to one item: its name before the first and after the
/// last (renames that continue one another merge into one record, a cycle's two halves
/// included), and the names it went through between them, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub from: String,
    pub to: String,
    /// The names between `from` and `to` (at most [`History::VIA_KEPT`], the latest).
    /// Absent in ledgers written before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// When the last of these renames was recorded, as a count over the whole history
    /// (1 the first): of two items that left one name, the later left it last. 0 in
    /// ledgers written before it was kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Renamed {
    /// Whether the item was called `name` before its last rename by tagsync.
    pub fn was(&self, name: &str) -> bool {
        self.from == name || self.via.iter().any(|v| v == name)
    }
}

/// Renames tagsync has applied, by id (kept in the ledger). A swap file is otherwise
/// ambiguous once applied: both names exist and nothing says which id is which. With
/// this record, `previously: [A]` on `B` is known to be done when the item named `B` was
/// renamed by tagsync from `A`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default)]
    pub renamed: BTreeMap<String, Renamed>,
}

impl History {
    /// The most intermediate names kept per item.
    pub const VIA_KEPT: usize = 8;

    /// Record a rename of `id`; a rename continuing the last one keeps its origin, and
    /// the name it continues from joins the names between.
    pub fn record(&mut self, id: &str, from: &str, to: &str) {
        let (from, via) = match self.renamed.remove(id) {
            Some(mut r) if r.to == from => {
                if r.from != from && !r.via.iter().any(|v| v == from) {
                    r.via.push(from.to_string());
                }
                let extra = r.via.len().saturating_sub(Self::VIA_KEPT);
                r.via.drain(..extra);
                (r.from, r.via)
            }
            _ => (from.to_string(), Vec::new()),
        };
        // Back where it started: nothing between is worth keeping.
        let via = if from == to { Vec::new() } else { via };
        let seq = self.renamed.values().map(|r| r.seq).max().unwrap_or(0) + 1;
        self.renamed.insert(
            id.to_string(),
            Renamed {
                from,
                to: to.to_string(),
                via,
                seq,
            },
        );
    }

    /// Whether some item other than `not` was renamed by tagsync from `from` to `to`
    /// (directly or through names between): a `previously` entry already carried out.
    pub fn carried_out(&self, from: &str, to: &str, not: &str) -> bool {
        self.renamed
            .iter()
            .any(|(id, r)| id != not && r.to == to && r.was(from))
    }

    /// Whether tagsync renamed `id` from `from` to `to`.
    pub fn applied(&self, id: &str, from: &str, to: &str) -> bool {
        self.renamed
            .get(id)
            .is_some_and(|r| r.from == from && r.to == to)
    }
}
