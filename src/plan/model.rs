//! Plan types: what the planner produces, the renderers show, the executor runs and
//! `--out plan.json` saves. Every [`Step`] is exactly one API call.

use serde::{Deserialize, Serialize};

pub use crate::ledger::{Binding, Bindings, History, Owned, Renamed};

/// Knobs of the planner (from the command line and the ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// `--allow-delete N`: deletes and replaces of up to N tags pass the safety gate.
    pub allow_delete: Option<usize>,
    /// Gate: more than this many tags deleted or replaced blocks (default 10).
    pub max_delete: usize,
    /// Gate: more than this percentage of owned tags blocks (default 25)...
    pub max_delete_percent: usize,
    /// ...once tagsync owns at least this many tags (default 20).
    pub percent_gate_min_owned: usize,
    /// Renames already applied (from the ledger).
    #[serde(default)]
    pub history: History,
    /// What each owned id was last applied as (from the ledger): a remote name that
    /// differs is drift, renamed back rather than deleted.
    #[serde(skip)]
    pub bindings: Bindings,
    /// The most tags the corp may hold (WeCom: 10000; older corps 3000). When the adds
    /// would pass it, the batched delete runs before them.
    #[serde(default = "default_tag_limit")]
    pub tag_limit: usize,
    /// Tags of the corp's one quota outside the scope being planned (the other scopes'),
    /// taken as held throughout; 0 for the corp alone.
    #[serde(skip)]
    pub quota_others: usize,
}

/// WeCom's corp tag limit.
pub const TAG_LIMIT: usize = crate::wire::limit::CORP_TAGS;

fn default_tag_limit() -> usize {
    TAG_LIMIT
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            allow_delete: None,
            max_delete: 10,
            max_delete_percent: 25,
            percent_gate_min_owned: 20,
            history: History::default(),
            bindings: Bindings::new(),
            tag_limit: TAG_LIMIT,
            quota_others: 0,
        }
    }
}

/// Whether an edit targets a group or a tag (the API takes either id in `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Group,
    Tag,
}

/// A tag to create (in an add-group or add-tags call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTag {
    pub name: String,
    /// `None`: let the server choose (the desired order is `ignore`).
    pub order: Option<u32>,
    /// Set when this add is the second half of a *replace*: the id of the tag in another
    /// group that the batched delete removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// A tag removed by the batched delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedTag {
    pub id: String,
    pub name: String,
    /// Name of the group it sits in (display only).
    pub group: String,
    /// Set when this delete is the first half of a *replace*: the group it moves to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

/// A whole group removed by the batched delete (by group id: its tags go with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedGroup {
    pub id: String,
    pub name: String,
    /// The names of its tags, all deleted with it.
    pub tags: Vec<String>,
}

/// One API call. In JSON: an object with `"type"` (`add_group`, `add_tags`, `edit`,
/// `delete`) beside the fields of the variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepKind {
    /// `add_corp_tag` with `group_name`: a new group and its tags.
    AddGroup {
        name: String,
        order: Option<u32>,
        tags: Vec<NewTag>,
    },
    /// `add_corp_tag` with `group_id`: new tags into an existing group.
    AddTags {
        group_id: String,
        group_name: String,
        tags: Vec<NewTag>,
    },
    /// `edit_corp_tag`: rename, reorder, or both. A rename to a temporary name (to break a
    /// cycle of renames) is an edit too; its reason says so.
    Edit {
        id: String,
        target: Target,
        /// For a tag, the current name of its group; for a group, its current name.
        group: String,
        from_name: String,
        to_name: Option<String>,
        from_order: u32,
        to_order: Option<u32>,
    },
    /// `del_corp_tag`: every delete of the plan in one call.
    Delete {
        groups: Vec<DeletedGroup>,
        tags: Vec<DeletedTag>,
    },
}

/// Which tags a step changes: the corp's, or one rule group's (客户联系规则组). The same
/// planner plans each scope; a step's scope picks the calls (`add_corp_tag` or
/// `add_strategy_tag`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Corp,
    RuleGroup {
        strategy_id: u64,
        /// The rule group's name, when it was read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl Scope {
    pub fn is_corp(&self) -> bool {
        *self == Scope::Corp
    }

    /// Which family of calls the scope's steps use.
    pub fn family(&self) -> crate::wire::Family {
        match self {
            Scope::Corp => crate::wire::Family::Corp,
            Scope::RuleGroup { .. } => crate::wire::Family::Strategy,
        }
    }

    pub fn strategy_id(&self) -> Option<u64> {
        match self {
            Scope::Corp => None,
            Scope::RuleGroup { strategy_id, .. } => Some(*strategy_id),
        }
    }

    /// For a reader: `corp tags`, or `rule group 华东销售 (7)`.
    pub fn label(&self) -> String {
        match self {
            Scope::Corp => "corp tags".into(),
            Scope::RuleGroup {
                strategy_id,
                name: Some(n),
            } => format!("rule group {n} ({strategy_id})"),
            Scope::RuleGroup {
                strategy_id,
                name: None,
            } => format!("rule group {strategy_id}"),
        }
    }
}

/// Why a step may not run, and what unblocks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    pub reason: String,
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Index of the step in [`Plan::steps`].
    pub id: usize,
    /// Nested (not flattened): an edit's `id` is the WeCom id, the step's `id` its index.
    pub kind: StepKind,
    /// Why this call is needed, in words a reviewer understands.
    pub reason: String,
    /// Steps that must succeed before this one runs.
    pub depends_on: Vec<usize>,
    pub blocked: Option<Blocked>,
    /// Deletes (and both halves of a replace) lose data that nothing brings back.
    pub destructive: bool,
    /// An edit that undoes a change made outside tagsync (the admin console renamed or
    /// moved an item tagsync manages): the ledger's binding says what it was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// The corp's tags (left out of JSON) or a rule group's.
    #[serde(default, skip_serializing_if = "Scope::is_corp")]
    pub scope: Scope,
}

/// A foreign tag left alone (not in the file, not owned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmanagedTag {
    pub group: String,
    pub name: String,
}

/// Foreign items that are not in the file: listed once, never touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Whole groups (with every tag inside) that are foreign and unlisted.
    pub groups: Vec<String>,
    /// Foreign unlisted tags inside other groups (listed or owned groups).
    pub tags: Vec<UnmanagedTag>,
    /// Total tags left alone, including those inside `groups`.
    pub tag_count: usize,
}

impl Unmanaged {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.tags.is_empty()
    }
}

/// The result of planning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// In a valid sequential order; `depends_on` allows concurrency.
    pub steps: Vec<Step>,
    pub unmanaged: Unmanaged,
    /// Remarks that are not steps (e.g. a pinned id that no longer exists).
    pub notes: Vec<String>,
}

impl Plan {
    /// Number of API calls the plan makes.
    pub fn calls(&self) -> usize {
        self.steps.len()
    }

    /// Zero steps: the corp equals the file.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether any step changes a rule group's tags (then renderers name each step's
    /// scope).
    pub fn has_rule_groups(&self) -> bool {
        self.steps.iter().any(|s| !s.scope.is_corp())
    }

    /// Any blocked step blocks the whole apply.
    pub fn blocked(&self) -> bool {
        self.steps.iter().any(|s| s.blocked.is_some())
    }

    pub fn blocked_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.blocked.is_some())
    }

    /// Tags deleted or replaced (tags inside deleted groups count).
    pub fn deleted_tag_count(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match &s.kind {
                StepKind::Delete { groups, tags } => {
                    tags.len() + groups.iter().map(|g| g.tags.len()).sum::<usize>()
                }
                _ => 0,
            })
            .sum()
    }
}

/// Counts for a summary line or table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add_groups: usize,
    /// Tags created (in new groups and existing ones), replaces included.
    pub add_tags: usize,
    pub renames: usize,
    pub reorders: usize,
    /// Tags removed (inside deleted groups too), replaces included.
    pub delete_tags: usize,
    pub delete_groups: usize,
    /// Tags moving group (delete + add).
    pub replaces: usize,
    pub blocked: usize,
    pub unmanaged_tags: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            delete_tags: self.deleted_tag_count(),
            blocked: self.blocked_steps().count(),
            unmanaged_tags: self.unmanaged.tag_count,
            ..Summary::default()
        };
        for step in &self.steps {
            match &step.kind {
                StepKind::AddGroup { tags, .. } => {
                    s.add_groups += 1;
                    s.add_tags += tags.len();
                    s.replaces += tags.iter().filter(|t| t.replaces.is_some()).count();
                }
                StepKind::AddTags { tags, .. } => {
                    s.add_tags += tags.len();
                    s.replaces += tags.iter().filter(|t| t.replaces.is_some()).count();
                }
                StepKind::Edit {
                    to_name, to_order, ..
                } => {
                    s.renames += usize::from(to_name.is_some());
                    s.reorders += usize::from(to_order.is_some());
                }
                StepKind::Delete { groups, .. } => s.delete_groups += groups.len(),
            }
        }
        s
    }
}
