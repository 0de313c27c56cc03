//! The matcher's view of one namespace (the corp's groups, or one group's tags): each
//! desired item's name and old names, and each remote item's names as bound and as live.

use std::collections::HashMap;

use crate::plan::model::Bindings;

/// One desired item as the name matcher sees it.
pub(super) struct Want<'a> {
    pub(super) name: &'a str,
    pub(super) previously: &'a [String],
}

/// The names of one namespace's remote items: as tagsync last applied them (`bound`,
/// equal to `live` for items without a binding) and as the corp shows them now.
pub(super) struct Names<'a> {
    pub(super) bound: Vec<&'a str>,
    pub(super) live: Vec<&'a str>,
    pub(super) ids: Vec<&'a str>,
}

impl<'a> Names<'a> {
    pub(super) fn new(
        items: impl Iterator<Item = (&'a str, &'a str)>,
        bindings: &'a Bindings,
    ) -> Self {
        let mut n = Names {
            bound: Vec::new(),
            live: Vec::new(),
            ids: Vec::new(),
        };
        for (id, name) in items {
            n.ids.push(id);
            n.live.push(name);
            n.bound
                .push(bindings.get(id).map_or(name, |b| b.name.as_str()));
        }
        n
    }

    /// Bound name → item. Where a drifted item's bound name is also another item's live
    /// name, the live one wins.
    pub(super) fn by_bound(&self) -> HashMap<&'a str, usize> {
        let mut by: HashMap<&str, usize> = HashMap::new();
        let drifted = |i: &usize| self.bound[*i] != self.live[*i];
        for i in (0..self.ids.len()).filter(drifted) {
            by.insert(self.bound[i], i);
        }
        for i in (0..self.ids.len()).filter(|i| !drifted(i)) {
            by.insert(self.bound[i], i);
        }
        by
    }
}
