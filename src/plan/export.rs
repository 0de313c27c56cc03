//! The live corp as a desired file that plans to zero steps.
//!
//! Decisions:
//! - A group tagsync does not own and in which it owns no tag is exported
//!   `managed: false` (read-only), with all its tags. A group tagsync owns, or a foreign
//!   group holding at least one owned tag, is managed, and lists every tag it holds (so
//!   nothing in it is "unlisted"); foreign items in it are only referenced, and since the
//!   export reproduces their names and orders, the plan never needs to edit them.
//! - A managed group tagsync does not own (a console group it added tags to, or whose
//!   tags were adopted) is exported `order: ignore`: tagsync may not move it, so its
//!   place and its tags' order are left alone, and moving it in the file cannot plan a
//!   blocked edit.
//! - Lists follow display order (larger `order` first; the server's order breaks ties).
//!   When a list's values strictly decrease, positions carry the order (`order` left at
//!   its default); when two values tie, position cannot express it, so each item of that
//!   list gets an explicit `order: <value>`.
//! - No ids are pinned: names are unique, so names alone identify every item.
//! - `ownership: all` when `owned` is [`Owned::All`].
//! - Rule groups (when they were read) are exported by `strategy_id`, each holding this
//!   app's tags there (all owned: the list shows no other app's); a rule group holding
//!   none is left out, and with none at all, so is `strategies:`.

use super::model::Owned;
use crate::desired::model::{
    Desired, DesiredGroup, DesiredRuleGroup, DesiredTag, Order, Ownership, RuleGroupRef,
};
use crate::snapshot::{RemoteGroup, Snapshot};

/// Sort indices by order (larger first, stable) and say whether values strictly decrease.
fn display_order(orders: &[u32]) -> (Vec<usize>, bool) {
    let mut idx: Vec<usize> = (0..orders.len()).collect();
    idx.sort_by(|&a, &b| orders[b].cmp(&orders[a]));
    let strict = idx.windows(2).all(|w| orders[w[0]] > orders[w[1]]);
    (idx, strict)
}

pub fn export(remote: &Snapshot, owned: &Owned) -> Desired {
    // A rule group's list holds only this app's tags: all of them are owned. Rule groups
    // without any are left out (listing one would only say it holds none).
    let strategies: Vec<DesiredRuleGroup> = remote
        .rule_groups
        .iter()
        .flatten()
        .filter(|r| !r.groups.is_empty())
        .map(|r| DesiredRuleGroup {
            rule_group: RuleGroupRef::Id(r.id),
            groups: export_groups(&r.groups, &Owned::All),
        })
        .collect();
    let strategies = (!strategies.is_empty()).then_some(strategies);
    Desired {
        version: 1,
        ownership: if *owned == Owned::All {
            Ownership::All
        } else {
            Ownership::Ledger
        },
        groups: export_groups(&remote.groups, owned),
        strategies,
    }
}

/// One list of groups (the corp's or a rule group's) as the file's groups.
fn export_groups(groups: &[RemoteGroup], owned: &Owned) -> Vec<DesiredGroup> {
    let managed: Vec<bool> = groups
        .iter()
        .map(|g| owned.contains(&g.id) || g.tags.iter().any(|t| owned.contains(&t.id)))
        .collect();
    // Groups whose place the file states: managed and owned.
    let placed: Vec<bool> = groups
        .iter()
        .zip(&managed)
        .map(|(g, m)| *m && owned.contains(&g.id))
        .collect();
    let managed_orders: Vec<u32> = groups
        .iter()
        .zip(&placed)
        .filter(|(_, p)| **p)
        .map(|(g, _)| g.order)
        .collect();
    let groups_strict = display_order(&managed_orders).1;
    let all_orders: Vec<u32> = groups.iter().map(|g| g.order).collect();
    display_order(&all_orders)
        .0
        .into_iter()
        .map(|gi| {
            let g = &groups[gi];
            let torders: Vec<u32> = g.tags.iter().map(|t| t.order).collect();
            let (tidx, tstrict) = display_order(&torders);
            let tags = tidx
                .into_iter()
                .map(|ti| {
                    let t = &g.tags[ti];
                    let mut d = DesiredTag::named(t.name.clone());
                    if placed[gi] && !tstrict {
                        d.order = Order::Value(t.order);
                    }
                    d
                })
                .collect();
            let mut d = DesiredGroup::named(g.name.clone(), tags);
            d.managed = managed[gi];
            d.order = match (placed[gi], groups_strict) {
                (false, _) => Order::Ignore,
                (true, true) => Order::Position,
                (true, false) => Order::Value(g.order),
            };
            d
        })
        .collect()
}
