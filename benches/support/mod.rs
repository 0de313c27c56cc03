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
//! PRODUCT section 3. Benchmarks check that before timing anything.

use std::fmt::Write as _;

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

    /// The fewest calls that reach the file from the corp (PRODUCT section 3).
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

fn groups(tags: usize) -> usize {
    tags.div_ceil(TAGS_PER_GROUP)
}

fn group_name(g: usize) -> String {
    format!("客户分组 {g:03}")
}

fn tag_name(g: usize, t: usize) -> String {
    format!("标签 {g:03}-{t:03} Tag")
}

fn group_id(g: usize) -> String {
    format!("etBenchGroup{g:06}xxxxxxxxxxxxxx")
}

fn tag_id(g: usize, t: usize) -> String {
    format!("etBenchTag{g:06}{t:06}xxxxxxxxxx")
}

/// Tags per group: 100, the last group takes the rest.
fn tags_in(g: usize, tags: usize) -> usize {
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
                order: (n - g) as u32 * SPACING,
                deleted: false,
                tag: (0..count)
                    .map(|t| wire::Tag {
                        id: tag_id(g, t),
                        name: tag_name(g, t),
                        create_time: CREATED + t as i64,
                        order: (count - t) as u32 * SPACING,
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

/// Every id of the corp: what the ledger holds when tagsync created it all.
pub fn owned_ids(tags: usize, scenario: Scenario) -> Vec<String> {
    list_answer(tags, scenario)
        .tag_group
        .into_iter()
        .flat_map(|g| std::iter::once(g.group_id).chain(g.tag.into_iter().map(|t| t.id)))
        .collect()
}

/// The desired-state file (YAML text) for `scenario` against [`list_answer`].
pub fn desired_yaml(tags: usize, scenario: Scenario) -> String {
    let mut out = String::with_capacity(tags * 40);
    out.push_str("version: 1\nownership: ledger\ngroups:\n");
    for g in 0..groups(tags) {
        let mut order: Vec<usize> = (0..tags_in(g, tags)).collect();
        match scenario {
            Scenario::ReverseOneGroup if g == 0 => order.reverse(),
            Scenario::MoveOneToTop => order.rotate_right(1),
            _ => {}
        }
        let _ = writeln!(out, "  - name: {}\n    tags:", group_name(g));
        for t in order {
            let name = tag_name(g, t);
            if scenario == Scenario::Rename5Percent && t % 20 == 0 {
                let _ = writeln!(
                    out,
                    "      - name: {name} (new)\n        previously: [{name}]"
                );
            } else {
                let _ = writeln!(out, "      - {name}");
            }
        }
    }
    out
}
