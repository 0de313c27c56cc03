//! Edits and adds: what each matched item needs (a rename, a move), what each group needs
//! added, and the order values they get.

use super::super::model::*;
use super::super::order::{self, Slot};
use super::draft::{Builder, Draft, Key, Ns, Rename, not_owned, read_only};
use crate::desired::model::Order;

impl Builder<'_> {
    pub(super) fn push(&mut self, d: Draft) -> usize {
        self.drafts.push(d);
        self.drafts.len() - 1
    }

    pub(super) fn owns(&self, id: &str) -> bool {
        self.owned.contains(id)
    }

    /// Target order values of the desired groups (`None`: leave / server default).
    pub(super) fn group_orders(&self) -> Vec<Option<u32>> {
        let g = &self.desired.groups;
        let mut out = vec![None; g.len()];
        let seq: Vec<usize> = (0..g.len())
            .filter(|&i| g[i].managed && g[i].order == Order::Position)
            .collect();
        let slots: Vec<Slot> = seq
            .iter()
            .map(|&i| {
                let r = self.m.groups[i].map(|r| &self.remote.groups[r]);
                Slot {
                    current: r.map(|r| r.order),
                    fixed: r.is_some_and(|r| !self.owns(&r.id)),
                    free: r.is_some_and(|r| r.name != g[i].name),
                }
            })
            .collect();
        for (k, v) in order::assign(&slots).into_iter().enumerate() {
            out[seq[k]] = v;
        }
        self.place_new_groups_between_fixed_ones(&seq, &slots, &mut out);
        for (i, dg) in g.iter().enumerate() {
            if let (true, Order::Value(v)) = (dg.managed, dg.order) {
                let cur = self.m.groups[i].map(|r| self.remote.groups[r].order);
                out[i] = (cur != Some(v)).then_some(v);
            }
        }
        out
    }

    /// New groups next to groups whose order the plan leaves alone (`order: ignore`,
    /// `managed: false`, or an `order:` number) go where the file puts them among those
    /// too, when there is room: below the ones above them in the file and above the ones
    /// below, not only between their ordered neighbours.
    fn place_new_groups_between_fixed_ones(
        &self,
        seq: &[usize],
        slots: &[Slot],
        out: &mut [Option<u32>],
    ) {
        let g = &self.desired.groups;
        // The value a desired group will have after the plan, if it exists.
        let after = |i: usize, out: &[Option<u32>]| {
            out[i].or_else(|| self.m.groups[i].map(|r| self.remote.groups[r].order))
        };
        let unplaced = |range: std::ops::Range<usize>| -> Vec<u32> {
            range
                .filter(|j| !seq.contains(j))
                .filter_map(|j| self.m.groups[j].map(|r| self.remote.groups[r].order))
                .collect()
        };
        let mut k = 0;
        while k < seq.len() {
            if slots[k].current.is_some() {
                k += 1;
                continue;
            }
            let s = k;
            while k < seq.len() && slots[k].current.is_none() {
                k += 1;
            }
            // The run of new groups seq[s..k], between seq[s - 1] and seq[k] if any.
            let top = s.checked_sub(1).map_or(0, |a| seq[a] + 1);
            let bottom = seq.get(k).copied().unwrap_or(g.len());
            let above = unplaced(top..seq[s]).into_iter().min();
            let below = unplaced(seq[k - 1] + 1..bottom).into_iter().max();
            if above.is_none() && below.is_none() {
                continue;
            }
            let ceiling = s.checked_sub(1).and_then(|a| after(seq[a], out));
            let floor = seq.get(k).and_then(|&b| after(b, out));
            let ceiling = [ceiling, above].into_iter().flatten().min();
            let floor = [floor, below].into_iter().flatten().max();
            if let Some(values) = order::between(floor, ceiling, k - s) {
                for (&i, v) in seq[s..k].iter().zip(values) {
                    out[i] = Some(v);
                }
            }
        }
    }

    /// Target order values of the tags of desired group `di`, and whether each is
    /// matched within the group (`Some(remote tag index)`).
    pub(super) fn tag_orders(&self, di: usize) -> (Vec<Option<u32>>, Vec<Option<usize>>) {
        let dg = &self.desired.groups[di];
        let rg = self.m.groups[di];
        let local: Vec<Option<usize>> = self.m.tags[di]
            .iter()
            .map(|x| x.filter(|(g, _)| Some(*g) == rg).map(|(_, t)| t))
            .collect();
        let mut out = vec![None; dg.tags.len()];
        if !dg.managed {
            return (out, local);
        }
        let rtag = |i: usize| local[i].and_then(|t| rg.map(|g| &self.remote.groups[g].tags[t]));
        if dg.order != Order::Ignore {
            let seq: Vec<usize> = (0..dg.tags.len())
                .filter(|&i| dg.tags[i].order == Order::Position)
                .collect();
            let slots: Vec<Slot> = seq
                .iter()
                .map(|&i| Slot {
                    current: rtag(i).map(|t| t.order),
                    fixed: rtag(i).is_some_and(|t| !self.owns(&t.id)),
                    free: rtag(i).is_some_and(|t| t.name != dg.tags[i].name),
                })
                .collect();
            for (k, v) in order::assign(&slots).into_iter().enumerate() {
                out[seq[k]] = v;
            }
        }
        for (i, t) in dg.tags.iter().enumerate() {
            if let Order::Value(v) = t.order {
                out[i] = (rtag(i).map(|t| t.order) != Some(v)).then_some(v);
            }
        }
        (out, local)
    }

    pub(super) fn new_tags(
        &self,
        di: usize,
        orders: &[Option<u32>],
        local: &[Option<usize>],
    ) -> Vec<NewTag> {
        let dg = &self.desired.groups[di];
        (0..dg.tags.len())
            .filter(|&i| local[i].is_none())
            .map(|i| NewTag {
                name: dg.tags[i].name.clone(),
                order: orders[i],
                replaces: self.m.tags[di][i].map(|(g, t)| self.remote.groups[g].tags[t].id.clone()),
            })
            .collect()
    }

    pub(super) fn groups_and_tags(&mut self) {
        let gorders = self.group_orders();
        for (di, &gorder) in gorders.iter().enumerate() {
            let dg = &self.desired.groups[di];
            let (torders, local) = self.tag_orders(di);
            let new = self.new_tags(di, &torders, &local);
            let destructive = new.iter().any(|t| t.replaces.is_some());
            match self.m.groups[di] {
                None => {
                    let reason = format!("group `{}` is in the file but not in the corp", dg.name);
                    let d = self.push(Draft {
                        kind: StepKind::AddGroup {
                            name: dg.name.clone(),
                            order: gorder,
                            tags: new,
                        },
                        reason: with_replaces(reason, destructive),
                        deps: vec![],
                        blocked: (!dg.managed).then(|| read_only(&dg.name)),
                        destructive,
                    });
                    self.takes.push((Ns::Groups, dg.name.clone(), d));
                }
                Some(rg) => {
                    let r = &self.remote.groups[rg];
                    self.edit(Key::Group(rg), &dg.name, gorder, dg.managed, &dg.name);
                    for (ti, t) in dg.tags.iter().enumerate() {
                        if let Some(rt) = local[ti] {
                            self.edit(Key::Tag(rg, rt), &t.name, torders[ti], dg.managed, &dg.name);
                        }
                    }
                    if !new.is_empty() {
                        let names: Vec<String> = new.iter().map(|t| t.name.clone()).collect();
                        let now = if r.name == dg.name {
                            String::new()
                        } else {
                            format!(" (now named `{}`)", r.name)
                        };
                        let reason = format!(
                            "{} in the file but not in group `{}`{now}",
                            quoted_list(&names),
                            dg.name
                        );
                        let d = self.push(Draft {
                            kind: StepKind::AddTags {
                                group_id: r.id.clone(),
                                group_name: r.name.clone(),
                                tags: new,
                            },
                            reason: with_replaces(reason, destructive),
                            deps: vec![],
                            blocked: (!dg.managed).then(|| read_only(&dg.name)),
                            destructive,
                        });
                        self.add_into.insert(rg, d);
                        for n in names {
                            self.takes.push((Ns::Tags(rg), n, d));
                        }
                    }
                }
            }
        }
    }

    /// An edit of a matched item when its name or order differs.
    pub(super) fn edit(
        &mut self,
        key: Key,
        want: &str,
        to_order: Option<u32>,
        managed: bool,
        dgroup: &str,
    ) {
        let (id, name, order, target, group, ns) = match key {
            Key::Group(g) => {
                let r = &self.remote.groups[g];
                (
                    &r.id,
                    &r.name,
                    r.order,
                    Target::Group,
                    r.name.clone(),
                    Ns::Groups,
                )
            }
            Key::Tag(g, t) => {
                let r = &self.remote.groups[g];
                let tag = &r.tags[t];
                (
                    &tag.id,
                    &tag.name,
                    tag.order,
                    Target::Tag,
                    r.name.clone(),
                    Ns::Tags(g),
                )
            }
        };
        let to_name = (name != want).then(|| want.to_string());
        let to_order = to_order.filter(|&o| o != order);
        if to_name.is_none() && to_order.is_none() {
            return;
        }
        let what = match target {
            Target::Group => format!("group `{name}`"),
            Target::Tag => format!("tag `{name}` in group `{group}`"),
        };
        let reason = match (&to_name, to_order) {
            (Some(n), Some(o)) => format!(
                "{what} is renamed to `{n}` and moves to its place in the list (order {order} → {o})"
            ),
            (Some(n), None) => match target {
                Target::Group => {
                    format!("{what} is renamed to `{n}` (same id; its tags keep their customers)")
                }
                Target::Tag => format!("{what} is renamed to `{n}` (same id, keeps its customers)"),
            },
            (None, Some(o)) => {
                format!("{what} moves to its place in the list (order {order} → {o})")
            }
            (None, None) => String::new(),
        };
        let blocked = if !managed {
            Some(read_only(dgroup))
        } else if !self.owns(id) {
            Some(not_owned(id))
        } else {
            None
        };
        let d = self.push(Draft {
            kind: StepKind::Edit {
                id: id.clone(),
                target,
                group,
                from_name: name.clone(),
                to_name: to_name.clone(),
                from_order: order,
                to_order,
            },
            reason,
            deps: vec![],
            blocked,
            destructive: false,
        });
        if let Some(to) = to_name {
            self.renames.push(Rename {
                ns,
                key,
                to,
                draft: d,
            });
        }
    }
}

pub(super) fn with_replaces(reason: String, destructive: bool) -> String {
    if destructive {
        format!(
            "{reason}; includes a replace: a tag moving from another group is created here and the old one deleted (its customers lose it)"
        )
    } else {
        reason
    }
}

pub(super) fn quoted_list(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!(
        "{} {}",
        q.join(", "),
        if names.len() == 1 { "is" } else { "are" }
    )
}
