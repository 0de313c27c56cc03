//! A read of the corp's live tags, as the planner sees it: plain data beside [`crate::wire`]
//! (the client builds it from the list answer; the planner, renderers and apply read it).

use crate::wire;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTag {
    pub id: String,
    pub name: String,
    pub order: u32,
    pub create_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteGroup {
    pub id: String,
    pub name: String,
    pub order: u32,
    pub create_time: i64,
    pub tags: Vec<RemoteTag>,
}

/// A customer-contact rule group (客户联系规则组) and the tag groups this app created in
/// it, in the order the server listed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteRuleGroup {
    pub id: u64,
    /// `None` when the rule group was not read (it holds tags of this app, but the file
    /// does not name it).
    pub name: Option<String>,
    /// 0: a first-level rule group (only those may hold tags).
    pub parent_id: u64,
    pub groups: Vec<RemoteGroup>,
}

impl RemoteRuleGroup {
    /// How the rule group is shown: its name and id, or its id alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} ({})", self.id),
            None => self.id.to_string(),
        }
    }
}

/// Every live group and tag of a corp, in the order the server listed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The corp tags.
    pub groups: Vec<RemoteGroup>,
    /// The rule groups and their tags, read only when the desired file has a
    /// `strategies:` section (`None`: not read, and so not managed).
    pub rule_groups: Option<Vec<RemoteRuleGroup>>,
}

impl Snapshot {
    /// Live items only: anything flagged `deleted` is dropped.
    pub fn from_wire(groups: Vec<wire::TagGroup>) -> Self {
        Snapshot {
            groups: live_groups(groups),
            rule_groups: None,
        }
    }

    /// The corp's tags and the rule groups' (`rule_groups` as read, each with no tag
    /// groups yet; `strategy_tags` the `get_strategy_tag_list` answer). A tag group of a
    /// rule group that was not read gets an entry with no name.
    pub fn with_rule_groups(
        mut self,
        mut rule_groups: Vec<RemoteRuleGroup>,
        strategy_tags: Vec<wire::TagGroup>,
    ) -> Self {
        for g in strategy_tags {
            let id = g.strategy_id.unwrap_or_default();
            let at = match rule_groups.iter().position(|r| r.id == id) {
                Some(at) => at,
                None => {
                    rule_groups.push(RemoteRuleGroup {
                        id,
                        ..RemoteRuleGroup::default()
                    });
                    rule_groups.len() - 1
                }
            };
            rule_groups[at].groups.extend(live_groups(vec![g]));
        }
        self.rule_groups = Some(rule_groups);
        self
    }

    /// The rule group with this id, if it was read or holds tags.
    pub fn rule_group(&self, id: u64) -> Option<&RemoteRuleGroup> {
        self.rule_groups.as_ref()?.iter().find(|r| r.id == id)
    }

    /// Tags held in the corp's one quota: corp tags and rule-group tags together.
    pub fn quota_count(&self) -> usize {
        let strategy: usize = self
            .rule_groups
            .iter()
            .flatten()
            .flat_map(|r| &r.groups)
            .map(|g| g.tags.len())
            .sum();
        self.tag_count() + strategy
    }
}

/// Live items only: anything flagged `deleted` is dropped.
fn live_groups(groups: Vec<wire::TagGroup>) -> Vec<RemoteGroup> {
    groups
        .into_iter()
        .filter(|g| !g.deleted)
        .map(|g| RemoteGroup {
            id: g.group_id,
            name: g.group_name,
            order: g.order,
            create_time: g.create_time,
            tags: g
                .tag
                .into_iter()
                .filter(|t| !t.deleted)
                .map(|t| RemoteTag {
                    id: t.id,
                    name: t.name,
                    order: t.order,
                    create_time: t.create_time,
                })
                .collect(),
        })
        .collect()
}

impl Snapshot {
    pub fn to_wire(&self) -> Vec<wire::TagGroup> {
        self.groups
            .iter()
            .map(|g| wire::TagGroup {
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                create_time: g.create_time,
                order: g.order,
                deleted: false,
                strategy_id: None,
                tag: g
                    .tags
                    .iter()
                    .map(|t| wire::Tag {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        create_time: t.create_time,
                        order: t.order,
                        deleted: false,
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn tag_count(&self) -> usize {
        self.groups.iter().map(|g| g.tags.len()).sum()
    }
}
