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

/// Every live group and tag of a corp, in the order the server listed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub groups: Vec<RemoteGroup>,
}

impl Snapshot {
    /// Live items only: anything flagged `deleted` is dropped.
    pub fn from_wire(groups: Vec<wire::TagGroup>) -> Self {
        Snapshot {
            groups: groups
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
                .collect(),
        }
    }

    pub fn to_wire(&self) -> Vec<wire::TagGroup> {
        self.groups
            .iter()
            .map(|g| wire::TagGroup {
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                create_time: g.create_time,
                order: g.order,
                deleted: false,
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
