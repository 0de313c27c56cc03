//! Generated corps for the planner benchmark (`benches/plan.rs`) and the memory example
//! (`examples/plan_memory.rs`).
//!
//! A corp of `n` tags is `n / 100` groups of 100 tags (WeCom's console shows groups of
//! that size; the corp limit is 10000 tags). The remote side is the JSON text of a
//! `get_corp_tag_list` answer; the desired side is the YAML text of a tags file as a
//! person would write it (plain block lists, names in Chinese and ASCII). Order values
//! are 1000 apart and decrease down each list, as tagsync itself assigns them, so the
//! unchanged file plans to zero steps.
//!
//! Each [`Scenario`] knows how many calls its plan must make: the lower bound of
//! the planner's rules (fewest calls). Benchmarks check that before timing anything.

use std::fmt::Write as _;

use tagsync::emulator::{SeedGroup, SeedTag};
use tagsync::wire;

pub const TAGS_PER_GROUP: usize = 100;
/// Seconds since the epoch of the generated items (any fixed value will do).
const CREATED: i64 = 1_650_000_000;
/// Gap between neighbouring order values.
const SPACING: u32 = 1000;

/// A realistic change between the corp and the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The file equals the corp.
    NoChange,
    /// Every 20th tag is renamed (`previously:` carries the old name).
    Rename5Percent,
    /// The first group lists its tags in reverse.
    ReverseOneGroup,
    /// In every group the last tag moves to the top.
    MoveOneToTop,
    /// The corp is empty: every group and tag is new.
    Bootstrap,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::NoChange,
        Scenario::Rename5Percent,
        Scenario::ReverseOneGroup,
        Scenario::MoveOneToTop,
        Scenario::Bootstrap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::NoChange => "no-change",
            Scenario::Rename5Percent => "rename-5%",
            Scenario::ReverseOneGroup => "reverse-one-group",
            Scenario::MoveOneToTop => "move-one-to-top",
            Scenario::Bootstrap => "bootstrap",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The fewest calls that reach the file from the corp (the planner's "fewest calls" rule).
    pub fn expected_calls(self, tags: usize) -> usize {
        let groups = groups(tags);
        match self {
            Scenario::NoChange => 0,
            // One edit per renamed tag.
            Scenario::Rename5Percent => tags / 20,
            // Only one tag of a reversed list keeps its value.
            Scenario::ReverseOneGroup => TAGS_PER_GROUP.min(tags) - 1,
            // The moved tag gets a value above the top: one call per group.
            Scenario::MoveOneToTop => groups,
            // One add (group with its tags) per group.
            Scenario::Bootstrap => groups,
        }
    }
}

/// Groups of a corp of `tags` tags.
pub fn groups(tags: usize) -> usize {
    tags.div_ceil(TAGS_PER_GROUP)
}

/// The order value of the item at `position` (0: top) of a list of `count` items, as
/// tagsync assigns them: 1000 apart, decreasing down the list.
pub fn order_at(position: usize, count: usize) -> u32 {
    (count - position) as u32 * SPACING
}

pub fn group_name(g: usize) -> String {
    format!("客户分组 {g:03}")
}

pub fn tag_name(g: usize, t: usize) -> String {
    format!("标签 {g:03}-{t:03} Tag")
}

pub fn group_id(g: usize) -> String {
    format!("etBenchGroup{g:06}xxxxxxxxxxxxxx")
}

pub fn tag_id(g: usize, t: usize) -> String {
    format!("etBenchTag{g:06}{t:06}xxxxxxxxxx")
}

/// Tags per group: 100, the last group takes the rest.
pub fn tags_in(g: usize, tags: usize) -> usize {
    (tags - g * TAGS_PER_GROUP).min(TAGS_PER_GROUP)
}

/// The `get_corp_tag_list` answer of a corp of `tags` tags (nothing for [`Scenario::Bootstrap`]).
pub fn list_answer(tags: usize, scenario: Scenario) -> wire::TagListResponse {
    let mut answer = wire::TagListResponse {
        status: wire::Status::ok(),
        tag_group: Vec::new(),
    };
    if scenario == Scenario::Bootstrap {
        return answer;
    }
    let n = groups(tags);
    answer.tag_group = (0..n)
        .map(|g| {
            let count = tags_in(g, tags);
            wire::TagGroup {
                group_id: group_id(g),
                group_name: group_name(g),
                create_time: CREATED,
                order: order_at(g, n),
                deleted: false,
                strategy_id: None,
                tag: (0..count)
                    .map(|t| wire::Tag {
                        id: tag_id(g, t),
                        name: tag_name(g, t),
                        create_time: CREATED + t as i64,
                        order: order_at(t, count),
                        deleted: false,
                    })
                    .collect(),
            }
        })
        .collect();
    answer
}

/// The JSON text of [`list_answer`], as the server sends it.
pub fn list_json(tags: usize, scenario: Scenario) -> String {
    serde_json::to_string(&list_answer(tags, scenario)).unwrap_or_default()
}

/// The emulator's seed of [`list_answer`], every item owned by the app `owner` (as if
/// tagsync had created it all).
pub fn owned_seed(tags: usize, scenario: Scenario, owner: &str) -> Vec<SeedGroup> {
    let owner = || Some(owner.to_string());
    list_answer(tags, scenario)
        .tag_group
        .into_iter()
        .map(|g| SeedGroup {
            group: wire::TagGroup {
                group_id: g.group_id,
                group_name: g.group_name,
                create_time: g.create_time,
                order: g.order,
                deleted: false,
                strategy_id: None,
                tag: g
                    .tag
                    .into_iter()
                    .map(|t| SeedTag {
                        tag: wire::Tag {
                            id: t.id,
                            name: t.name,
                            create_time: t.create_time,
                            order: t.order,
                            deleted: false,
                        },
                        owner: owner(),
                    })
                    .collect(),
            },
            owner: owner(),
        })
        .collect()
}

/// Every id of the corp: what the ledger holds when tagsync created it all.
pub fn owned_ids(tags: usize, scenario: Scenario) -> Vec<String> {
    list_answer(tags, scenario)
        .tag_group
        .into_iter()
        .flat_map(|g| std::iter::once(g.group_id).chain(g.tag.into_iter().map(|t| t.id)))
        .collect()
}

/// How a tags file differs from the generated corp, group by group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edits {
    /// Tags whose index in their group is a multiple of this are renamed ([`renamed`]),
    /// with `previously:` giving the old name.
    pub rename_every: Option<usize>,
    /// The first this-many groups list their tags in reverse.
    pub reverse_groups: usize,
    /// The first this-many groups move their last tag to the top.
    pub move_to_top_groups: usize,
    /// The last this-many groups are left out of the file.
    pub drop_last_groups: usize,
}

impl Edits {
    /// Whether tag `t` (index in its group) is renamed.
    pub fn renames(&self, t: usize) -> bool {
        self.rename_every
            .is_some_and(|k| k > 0 && t.is_multiple_of(k))
    }

    /// Tag indexes of group `g` (of a corp of `tags`) in the order the file lists them.
    pub fn file_order(&self, g: usize, tags: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..tags_in(g, tags)).collect();
        if g < self.reverse_groups {
            order.reverse();
        } else if g < self.move_to_top_groups {
            order.rotate_right(1);
        }
        order
    }

    /// Groups the file lists (the first ones; the dropped ones are the last).
    pub fn kept_groups(&self, tags: usize) -> usize {
        groups(tags).saturating_sub(self.drop_last_groups)
    }
}

impl Scenario {
    /// What the file changes.
    pub fn edits(self, tags: usize) -> Edits {
        match self {
            Scenario::NoChange | Scenario::Bootstrap => Edits::default(),
            Scenario::Rename5Percent => Edits {
                rename_every: Some(20),
                ..Edits::default()
            },
            Scenario::ReverseOneGroup => Edits {
                reverse_groups: 1,
                ..Edits::default()
            },
            Scenario::MoveOneToTop => Edits {
                move_to_top_groups: groups(tags),
                ..Edits::default()
            },
        }
    }
}

/// The new name of a renamed tag.
pub fn renamed(name: &str) -> String {
    format!("{name} (new)")
}

/// The desired-state file (YAML text) for `scenario` against [`list_answer`].
pub fn desired_yaml(tags: usize, scenario: Scenario) -> String {
    edited_yaml(tags, &scenario.edits(tags))
}

/// The desired-state file (YAML text) of a corp of `tags` tags changed by `edits`.
pub fn edited_yaml(tags: usize, edits: &Edits) -> String {
    let mut out = String::with_capacity(tags * 40);
    out.push_str("version: 1\nownership: ledger\ngroups:\n");
    for g in 0..edits.kept_groups(tags) {
        let _ = writeln!(out, "  - name: {}\n    tags:", group_name(g));
        for t in edits.file_order(g, tags) {
            let name = tag_name(g, t);
            if edits.renames(t) {
                let _ = writeln!(
                    out,
                    "      - name: {}\n        previously: [{name}]",
                    renamed(&name)
                );
            } else {
                let _ = writeln!(out, "      - {name}");
            }
        }
    }
    out
}
