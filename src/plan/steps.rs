//! Building the steps: edits, adds, the batched delete, and their dependencies.
//!
//! Decisions where the spec is silent:
//! - **Where the delete goes.** The batched delete runs *last*, after every other step
//!   succeeded (it depends on all of them): nothing irreversible happens while anything
//!   else can still fail, and a replace's new tag exists before the old one goes. Only
//!   when the delete frees a name that an add or rename needs does it run early; then it
//!   waits only for the adds into groups it would otherwise empty.
//! - **Groups that would vanish.** When the delete removes every remaining tag of a group
//!   the file keeps, the adds into that group run before the delete, so the server never
//!   auto-deletes it. A step that cannot be ordered (a cycle through the delete) is blocked.
//! - **Unlisted owned group with foreign tags inside**: deleting the group would delete
//!   tags tagsync does not own, so only the owned tags are deleted; the group and its
//!   foreign tags stay and are listed as unmanaged.
//! - **Unlisted foreign group with owned tags inside**: the owned tags are deleted; when
//!   that empties the group, the server removes it (the reason says so).
//! - **`managed: false` groups** are read-only as a whole: the group, its listed tags and
//!   its unlisted tags are never edited or deleted, and no order is computed for them. A
//!   listed tag (or the group) missing remotely becomes a *blocked* add: tagsync does not
//!   create inside a read-only group; the fix is to create it in the admin console, drop
//!   it from the file, or set `managed: true`.
//! - **Replace of a tag whose source is not owned** (or sits in a read-only group): the
//!   removal is a separate, blocked delete step.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};

use super::matching::{Matching, temp_name};
use super::model::*;
use super::order::{self, Slot};
use crate::desired::model::{Desired, Order};
use crate::snapshot::Snapshot;

/// A step before ids are final: `deps` are draft indices.
struct Draft {
    kind: StepKind,
    reason: String,
    deps: Vec<usize>,
    blocked: Option<Blocked>,
    destructive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Ns {
    Groups,
    Tags(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    Group(usize),
    Tag(usize, usize),
}

struct Rename {
    ns: Ns,
    key: Key,
    to: String,
    draft: usize,
}

fn not_owned(id: &str) -> Blocked {
    Blocked {
        reason: format!(
            "not owned: tagsync did not create {id}, and the API refuses edits and deletes of it"
        ),
        fix: format!(
            "`tagsync adopt {id}` if this app created it, or `ownership: all` with the legacy secret"
        ),
    }
}

fn read_only(group: &str) -> Blocked {
    Blocked {
        reason: format!("group `{group}` is `managed: false` (read-only)"),
        fix: "change it in the admin console, remove it from the file, or set `managed: true`"
            .into(),
    }
}

struct Builder<'a> {
    desired: &'a Desired,
    remote: &'a Snapshot,
    owned: &'a Owned,
    m: &'a Matching,
    drafts: Vec<Draft>,
    renames: Vec<Rename>,
    /// (namespace, name, draft) for every add that takes a name.
    takes: Vec<(Ns, String, usize)>,
    /// AddTags drafts per remote group index.
    add_into: HashMap<usize, usize>,
    notes: Vec<String>,
}

impl Builder<'_> {
    fn push(&mut self, d: Draft) -> usize {
        self.drafts.push(d);
        self.drafts.len() - 1
    }

    fn owns(&self, id: &str) -> bool {
        self.owned.contains(id)
    }

    /// Target order values of the desired groups (`None`: leave / server default).
    fn group_orders(&self) -> Vec<Option<u32>> {
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
        for (i, dg) in g.iter().enumerate() {
            if let (true, Order::Value(v)) = (dg.managed, dg.order) {
                let cur = self.m.groups[i].map(|r| self.remote.groups[r].order);
                out[i] = (cur != Some(v)).then_some(v);
            }
        }
        out
    }

    /// Target order values of the tags of desired group `di`, and whether each is
    /// matched within the group (`Some(remote tag index)`).
    fn tag_orders(&self, di: usize) -> (Vec<Option<u32>>, Vec<Option<usize>>) {
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

    fn new_tags(&self, di: usize, orders: &[Option<u32>], local: &[Option<usize>]) -> Vec<NewTag> {
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

    fn groups_and_tags(&mut self) {
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
    fn edit(&mut self, key: Key, want: &str, to_order: Option<u32>, managed: bool, dgroup: &str) {
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
            (Some(n), None) => format!("{what} is renamed to `{n}` (same id, keeps its customers)"),
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

fn with_replaces(reason: String, destructive: bool) -> String {
    if destructive {
        format!(
            "{reason}; includes a replace: a tag moving from another group is created here and the old one deleted (its customers lose it)"
        )
    } else {
        reason
    }
}

fn quoted_list(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!(
        "{} {}",
        q.join(", "),
        if names.len() == 1 { "is" } else { "are" }
    )
}

/// What the delete removes, and who it leaves alone.
#[derive(Default)]
struct Deletes {
    groups: Vec<DeletedGroup>,
    tags: Vec<DeletedTag>,
    /// Moves whose source may not be deleted.
    blocked_tags: Vec<(DeletedTag, Blocked)>,
    deleted_groups: BTreeSet<usize>,
    deleted_tags: BTreeSet<(usize, usize)>,
    /// Why each item goes, with the id of the tag it is about (`None`: a group).
    reasons: Vec<(Option<String>, String)>,
    unmanaged: Unmanaged,
    /// Remote groups kept by the file whose every tag the delete removes.
    emptied: Vec<usize>,
    /// Shadowed items (an old name kept by nobody) that stay because they are foreign.
    notes: Vec<String>,
}

fn collect_deletes(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    kept: &HashSet<String>,
    m: &Matching,
) -> Deletes {
    // Owned and not kept (see `drift::kept`): what the delete may remove.
    let own = |id: &str| owned.contains(id) && !kept.contains(id);
    let mut out = Deletes::default();
    let mut claimed_group: Vec<Option<usize>> = vec![None; remote.groups.len()];
    for (di, r) in m.groups.iter().enumerate() {
        if let Some(r) = r {
            claimed_group[*r] = Some(di);
        }
    }
    // moved_to[(rg, rt)] = desired group name the tag moves to.
    let mut claimed_tag: HashMap<(usize, usize), Option<usize>> = HashMap::new();
    for (di, tags) in m.tags.iter().enumerate() {
        for x in tags.iter().flatten() {
            let moved = m.groups[di] != Some(x.0);
            claimed_tag.insert(*x, moved.then_some(di));
        }
    }
    for (rg, g) in remote.groups.iter().enumerate() {
        let read_only_group = claimed_group[rg].is_some_and(|d| !desired.groups[d].managed);
        let mut owned_tags = Vec::new();
        let mut foreign = Vec::new();
        let mut moved = Vec::new();
        for (rt, t) in g.tags.iter().enumerate() {
            match claimed_tag.get(&(rg, rt)) {
                Some(None) => {}
                Some(Some(to)) => moved.push((rt, *to)),
                None if read_only_group || !own(&t.id) => foreign.push(rt),
                None => owned_tags.push(rt),
            }
        }
        let mk = |rt: usize, moved_to: Option<String>| DeletedTag {
            id: g.tags[rt].id.clone(),
            name: g.tags[rt].name.clone(),
            group: g.name.clone(),
            moved_to,
        };
        for &(rt, to) in &moved {
            let tag = mk(rt, Some(desired.groups[to].name.clone()));
            if read_only_group {
                out.blocked_tags.push((tag, read_only(&g.name)));
            } else if !own(&g.tags[rt].id) {
                let b = not_owned(&g.tags[rt].id);
                out.blocked_tags.push((tag, b));
            }
        }
        let movable: Vec<(usize, usize)> = moved
            .iter()
            .copied()
            .filter(|(rt, _)| !read_only_group && own(&g.tags[*rt].id))
            .collect();
        let unlisted_group = claimed_group[rg].is_none();
        let whole =
            unlisted_group && own(&g.id) && foreign.is_empty() && movable.len() == moved.len();
        if whole {
            out.deleted_groups.insert(rg);
            out.groups.push(DeletedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                tags: g.tags.iter().map(|t| t.name.clone()).collect(),
            });
            let why = m
                .shadowed
                .get(&g.id)
                .cloned()
                .unwrap_or_else(|| "not in the file".into());
            out.reasons.push((
                None,
                format!(
                    "group `{}`: {why}; tagsync created it: deleted with its {} tag(s)",
                    g.name,
                    g.tags.len()
                ),
            ));
            continue;
        }
        for &rt in &owned_tags {
            out.deleted_tags.insert((rg, rt));
            out.tags.push(mk(rt, None));
            let why = m
                .shadowed
                .get(&g.tags[rt].id)
                .cloned()
                .unwrap_or_else(|| "not in the file".into());
            out.reasons.push((
                Some(g.tags[rt].id.clone()),
                format!(
                    "tag `{}` in group `{}`: {why}; tagsync created it",
                    g.tags[rt].name, g.name
                ),
            ));
        }
        for &(rt, to) in &movable {
            out.deleted_tags.insert((rg, rt));
            out.tags.push(mk(rt, Some(desired.groups[to].name.clone())));
            out.reasons.push((
                Some(g.tags[rt].id.clone()),
                format!(
                    "replace: tag `{}` moves from group `{}` to `{}`; the API cannot move a tag, so the old one is deleted (its customers lose it)",
                    g.tags[rt].name, g.name, desired.groups[to].name
                ),
            ));
        }
        let removed = owned_tags.len() + movable.len();
        if removed > 0 && removed == g.tags.len() {
            if unlisted_group {
                out.reasons.push((
                    None,
                    format!(
                        "group `{}` loses its last tag and the server removes it",
                        g.name
                    ),
                ));
            } else {
                out.emptied.push(rg);
            }
        }
        if let Some(why) = m.shadowed.get(&g.id).filter(|_| unlisted_group) {
            out.notes.push(format!(
                "group `{}`: {why}; tagsync does not own it, so it stays",
                g.name
            ));
        }
        for &rt in &foreign {
            if let Some(why) = m.shadowed.get(&g.tags[rt].id) {
                out.notes.push(format!(
                    "tag `{}` in group `{}`: {why}; tagsync does not own it, so it stays",
                    g.tags[rt].name, g.name
                ));
            }
        }
        if unlisted_group && removed == 0 && moved.is_empty() {
            out.unmanaged.groups.push(g.name.clone());
            out.unmanaged.tag_count += g.tags.len();
        } else {
            for &rt in &foreign {
                if unlisted_group || !read_only_group {
                    out.unmanaged.tags.push(UnmanagedTag {
                        group: g.name.clone(),
                        name: g.tags[rt].name.clone(),
                    });
                    out.unmanaged.tag_count += 1;
                }
            }
            if unlisted_group && !owned_tags.is_empty() && !foreign.is_empty() && own(&g.id) {
                out.reasons.push((
                    None,
                    format!(
                        "group `{}` keeps tags tagsync does not own, so it stays",
                        g.name
                    ),
                ));
            }
        }
    }
    out
}

/// The delete's reason: the first few item reasons, then a count (the step lists all).
/// `except`: ids of tags whose reasons are left out (they go in another delete).
fn summarise(reasons: &[(Option<String>, String)], except: &[DeletedTag]) -> String {
    const SHOWN: usize = 5;
    let reasons: Vec<&str> = reasons
        .iter()
        .filter(|(id, _)| {
            id.as_ref()
                .is_none_or(|id| !except.iter().any(|t| &t.id == id))
        })
        .map(|(_, r)| r.as_str())
        .collect();
    let mut r = reasons[..reasons.len().min(SHOWN)].join("; ");
    if reasons.len() > SHOWN {
        r.push_str(&format!("; and {} more", reasons.len() - SHOWN));
    }
    r
}

/// The note of a plan whose end state does not fit the corp's tag limit.
fn over_limit(after: usize, tag_limit: usize) -> String {
    format!(
        "the corp would hold {after} tags after this plan (the file's and those tagsync \
         leaves alone), over its {tag_limit} tag limit: adds past the limit fail with errcode \
         40126; remove tags from the file or from the corp first"
    )
}

/// How many tags the corp holds now, and how many the unblocked adds create.
struct Crowding {
    now: usize,
    added: usize,
}

/// `Some` when the adds, run before the delete, would pass the corp's tag limit: then the
/// delete runs first (WeCom answers 40126 to an add past the limit, and a delete waiting
/// for every add would never run, so every later run would fail the same way).
fn crowding(b: &Builder<'_>, tag_limit: usize) -> Option<Crowding> {
    let added: usize = b
        .drafts
        .iter()
        .filter(|d| d.blocked.is_none())
        .map(|d| added_by(&d.kind))
        .sum();
    let now = b.remote.tag_count();
    (added > 0 && now + added > tag_limit).then_some(Crowding { now, added })
}

/// The number of tags a step creates.
fn added_by(kind: &StepKind) -> usize {
    match kind {
        StepKind::AddGroup { tags, .. } | StepKind::AddTags { tags, .. } => tags.len(),
        _ => 0,
    }
}

/// Order a crowded plan: the delete (`del`) runs before the adds. A group the file keeps
/// but whose every old tag goes keeps one of them (the *keeper*) through that delete, so
/// the server does not remove it; a second delete removes the keepers once their groups'
/// new tags are in, and the other adds wait for it too. A group with no old tag that can
/// wait (each is a replace's old half or has a name an add needs) gets its adds before
/// the first delete. Returns the most tags held at any moment, and at the end.
fn crowd_first(
    b: &mut Builder<'_>,
    dels: &Deletes,
    del: usize,
    c: &Crowding,
    tag_limit: usize,
) -> Peak {
    // A keeper is an old tag of the group that no add into it needs the name of, and not
    // the old half of a replace (its new half may not exist yet).
    let keeper_of = |rg: usize| {
        let g = &b.remote.groups[rg];
        let taken: HashSet<&str> = b
            .takes
            .iter()
            .filter(|(ns, _, _)| *ns == Ns::Tags(rg))
            .map(|(_, name, _)| name.as_str())
            .collect();
        dels.tags
            .iter()
            .find(|t| {
                t.moved_to.is_none()
                    && !taken.contains(t.name.as_str())
                    && g.tags.iter().any(|rt| rt.id == t.id)
            })
            .cloned()
    };
    // Per emptied group with adds: a keeper, or (none eligible) its adds run before the
    // first delete.
    let mut keepers: Vec<DeletedTag> = Vec::new();
    let mut kept_adds = BTreeSet::new();
    let mut early_adds = BTreeSet::new();
    for &rg in &dels.emptied {
        let Some(&d) = b.add_into.get(&rg) else {
            continue;
        };
        match keeper_of(rg) {
            Some(k) => {
                keepers.push(k);
                kept_adds.insert(d);
            }
            None => {
                early_adds.insert(d);
            }
        }
    }
    let mut first: Vec<DeletedTag> = dels
        .tags
        .iter()
        .filter(|t| !keepers.iter().any(|k| k.id == t.id))
        .cloned()
        .collect();
    if first.is_empty() && dels.groups.is_empty() {
        // Nothing would be left for the first delete: hold nothing back.
        early_adds.append(&mut kept_adds);
        keepers.clear();
        first = dels.tags.clone();
    }
    let split = !keepers.is_empty();
    let second = b.drafts.len(); // the second delete's index, once pushed
    let added_in =
        |set: &BTreeSet<usize>| -> usize { set.iter().map(|&d| added_by(&b.drafts[d].kind)).sum() };
    let (early_n, kept_n) = (added_in(&early_adds), added_in(&kept_adds));
    // Every other add waits for the first delete, and with keepers for the second too:
    // the corp then holds the fewest tags when they are made.
    for (i, d) in b.drafts.iter_mut().enumerate() {
        if added_by(&d.kind) == 0 || early_adds.contains(&i) {
            continue;
        }
        let wait = if split && !kept_adds.contains(&i) {
            second
        } else {
            del
        };
        if !d.deps.contains(&wait) {
            d.deps.push(wait);
        }
    }
    b.drafts[del].deps.extend(early_adds.iter().copied());
    let which = if early_adds.is_empty() {
        "the adds"
    } else {
        "the adds into other groups"
    };
    let crowd = format!(
        "; runs before {which}: the corp holds {} tags, and adding {} first would pass its \
         {tag_limit} tag limit",
        c.now, c.added
    );
    let in_groups: usize = dels.groups.iter().map(|g| g.tags.len()).sum();
    let after = (c.now + c.added).saturating_sub(dels.tags.len() + in_groups);
    let removed_first = first.len() + in_groups;
    let before_first = if early_n > 0 { c.now + early_n } else { 0 };
    if !split {
        b.drafts[del].reason.push_str(&crowd);
        return Peak {
            during: before_first.max(after),
            after,
        };
    }
    let between = (c.now + early_n + kept_n).saturating_sub(removed_first);
    let names: Vec<String> = keepers
        .iter()
        .map(|k| format!("`{}` in group `{}`", k.name, k.group))
        .collect();
    b.drafts[del].kind = StepKind::Delete {
        groups: dels.groups.clone(),
        tags: first,
    };
    // The first delete's reason, without the keepers' own.
    b.drafts[del].reason = summarise(&dels.reasons, &keepers) + &crowd;
    b.drafts[del].reason.push_str(&format!(
        "; keeps {} until the new tags of {} are in (a second delete)",
        names.join(", "),
        if keepers.len() == 1 {
            "its group"
        } else {
            "their groups"
        }
    ));
    let pushed = b.push(Draft {
        reason: format!(
            "the last old tag{} of a group the file keeps: {}; deleted once the group's new \
             tags are in, so the server does not remove the group, and before the other adds",
            if keepers.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        kind: StepKind::Delete {
            groups: vec![],
            tags: keepers,
        },
        deps: kept_adds.into_iter().collect(),
        blocked: None,
        destructive: true,
    });
    debug_assert_eq!(pushed, second);
    Peak {
        during: before_first.max(between).max(after),
        after,
    }
}

/// The most tags a crowded plan makes the corp hold at any moment, and at its end.
struct Peak {
    during: usize,
    after: usize,
}

/// Build every step of the plan. `kept`: owned ids the delete leaves alone;
/// `tag_limit`: the most tags the corp may hold.
pub fn build(
    desired: &Desired,
    remote: &Snapshot,
    owned: &Owned,
    kept: &HashSet<String>,
    m: &Matching,
    tag_limit: usize,
) -> Plan {
    let mut b = Builder {
        desired,
        remote,
        owned,
        m,
        drafts: Vec::new(),
        renames: Vec::new(),
        takes: Vec::new(),
        add_into: HashMap::new(),
        notes: Vec::new(),
    };
    b.groups_and_tags();
    let dels = collect_deletes(desired, remote, owned, kept, m);
    let del = (!dels.groups.is_empty() || !dels.tags.is_empty()).then(|| {
        b.push(Draft {
            kind: StepKind::Delete {
                groups: dels.groups.clone(),
                tags: dels.tags.clone(),
            },
            reason: summarise(&dels.reasons, &[]),
            deps: vec![],
            blocked: None,
            destructive: true,
        })
    });
    for (tag, blocked) in &dels.blocked_tags {
        b.push(Draft {
            kind: StepKind::Delete { groups: vec![], tags: vec![tag.clone()] },
            reason: format!(
                "replace: tag `{}` moves from group `{}` to `{}`; the old one would have to be deleted",
                tag.name, tag.group, tag.moved_to.clone().unwrap_or_default()
            ),
            deps: vec![],
            blocked: Some(blocked.clone()),
            destructive: true,
        });
    }
    let early = resolve_names(&mut b, &dels, del);
    let crowded = crowding(&b, tag_limit);
    let mut peak_note = None;
    match (del, &crowded) {
        (Some(del), Some(c)) => {
            let peak = crowd_first(&mut b, &dels, del, c, tag_limit);
            if peak.after > tag_limit {
                peak_note = Some(over_limit(peak.after, tag_limit));
            } else if peak.during > tag_limit {
                peak_note = Some(format!(
                    "the corp would reach {} tags during this plan, over its {tag_limit} \
                     tag limit: adds past the limit fail with errcode 40126. Add fewer new \
                     tags in this change; once its deletes are applied, the rest fit",
                    peak.during
                ));
            }
        }
        (Some(del), None) => {
            let deps: Vec<usize> = if early {
                dels.emptied
                    .iter()
                    .filter_map(|rg| b.add_into.get(rg).copied())
                    .collect()
            } else {
                (0..b.drafts.len()).filter(|&i| i != del).collect()
            };
            b.drafts[del].deps.extend(deps);
            if early {
                b.drafts[del]
                    .reason
                    .push_str("; runs before the steps that reuse the names it frees");
            }
        }
        (None, Some(c)) => peak_note = Some(over_limit(c.now + c.added, tag_limit)),
        (None, None) => {}
    }
    let mut plan = finish(b.drafts);
    plan.unmanaged = dels.unmanaged;
    plan.notes = m.notes.clone();
    plan.notes.extend(b.notes);
    plan.notes.extend(peak_note);
    plan.notes.extend(dels.notes);
    plan
}

/// Dependencies that keep names unique after every call; temporary names for cycles.
/// Returns whether some step needs the delete to run first.
fn resolve_names(b: &mut Builder<'_>, dels: &Deletes, del: Option<usize>) -> bool {
    // Current holder of every name, per namespace.
    let mut holders: HashMap<(Ns, &str), Key> = HashMap::new();
    for (gi, g) in b.remote.groups.iter().enumerate() {
        holders.insert((Ns::Groups, g.name.as_str()), Key::Group(gi));
        for (ti, t) in g.tags.iter().enumerate() {
            holders.insert((Ns::Tags(gi), t.name.as_str()), Key::Tag(gi, ti));
        }
    }
    let by_key: HashMap<Key, usize> = b
        .renames
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key, i))
        .collect();
    let n = b.renames.len();
    // next[i] = the rename that must free i's target first.
    let next: Vec<Option<usize>> = b
        .renames
        .iter()
        .map(|r| {
            holders
                .get(&(r.ns, r.to.as_str()))
                .and_then(|k| by_key.get(k).copied())
        })
        .collect();
    // Find cycles (out-degree ≤ 1).
    let mut state = vec![0u8; n];
    let mut removal: Vec<usize> = b.renames.iter().map(|r| r.draft).collect();
    let mut tmp_counter = 0usize;
    let mut used_tmp = HashSet::new();
    // Every name in sight: a temporary name is then free in any namespace.
    let remote = b.remote;
    let desired = b.desired;
    let taken: HashSet<&str> = remote
        .groups
        .iter()
        .flat_map(|g| std::iter::once(&g.name).chain(g.tags.iter().map(|t| &t.name)))
        .chain(
            desired
                .groups
                .iter()
                .flat_map(|g| std::iter::once(&g.name).chain(g.tags.iter().map(|t| &t.name))),
        )
        .map(String::as_str)
        .collect();
    for start in 0..n {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(c) = cur {
            if state[c] == 2 {
                break;
            }
            if state[c] == 1 {
                let pos = path.iter().position(|&p| p == c).unwrap_or(0);
                let cycle: Vec<usize> = path[pos..].to_vec();
                let pick = cycle
                    .iter()
                    .copied()
                    .min_by_key(|&i| b.renames[i].draft)
                    .unwrap_or(c);
                let t = temp_draft(b, pick, &mut tmp_counter, &taken, &mut used_tmp);
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| format!("`{}`", b.renames[i].to))
                    .collect();
                b.notes.push(format!(
                    "rename cycle {}: once applied, both names exist; the ledger records the renames so the next plan keeps them (without that record, remove these `previously` entries or pin the ids)",
                    names.join(" ↔ ")
                ));
                removal[pick] = t;
                break;
            }
            state[c] = 1;
            path.push(c);
            cur = next[c];
        }
        for p in path {
            state[p] = 2;
        }
    }
    // Dependencies of renames and adds on whoever frees their name.
    let mut early = false;
    let mut takes: Vec<(Ns, String, usize, Option<Key>)> = b
        .renames
        .iter()
        .map(|r| (r.ns, r.to.clone(), r.draft, Some(r.key)))
        .collect();
    takes.extend(
        b.takes
            .iter()
            .map(|(ns, name, d)| (*ns, name.clone(), *d, None)),
    );
    for (ns, name, d, me) in takes {
        let Some(&holder) = holders.get(&(ns, name.as_str())) else {
            continue;
        };
        if Some(holder) == me {
            continue;
        }
        if let Some(&j) = by_key.get(&holder) {
            let dep = removal[j];
            if dep != d {
                b.drafts[d].deps.push(dep);
            }
        } else if is_deleted(holder, dels)
            && let Some(del) = del
        {
            b.drafts[d].deps.push(del);
            early = true;
        } else if b.drafts[d].blocked.is_none() {
            b.drafts[d].blocked = Some(Blocked {
                reason: format!("the name `{name}` is held by an item that stays"),
                fix: "rename or remove that item first, or pick another name".into(),
            });
        }
    }
    early
}

fn is_deleted(k: Key, dels: &Deletes) -> bool {
    match k {
        Key::Group(g) => dels.deleted_groups.contains(&g),
        Key::Tag(g, t) => dels.deleted_groups.contains(&g) || dels.deleted_tags.contains(&(g, t)),
    }
}

/// Split rename `i` of a cycle into a rename to a temporary name and a final rename.
/// Returns the draft index of the temporary rename.
fn temp_draft(
    b: &mut Builder<'_>,
    i: usize,
    counter: &mut usize,
    taken: &HashSet<&str>,
    used: &mut HashSet<(Ns, String)>,
) -> usize {
    // Unique within its namespace; the same `~~X` may serve cycles in two groups.
    let ns = b.renames[i].ns;
    let free = |c: &str, used: &HashSet<(Ns, String)>| {
        !taken.contains(c) && !used.contains(&(ns, c.to_string()))
    };
    let mut tmp = temp_name(&b.renames[i].to);
    while !free(&tmp, used) {
        *counter += 1;
        tmp = format!("~~tagsync-{counter}");
    }
    used.insert((ns, tmp.clone()));
    let fin = b.renames[i].draft;
    let (kind, blocked) = match &mut b.drafts[fin].kind {
        StepKind::Edit {
            id,
            target,
            group,
            from_name,
            from_order,
            ..
        } => {
            let k = StepKind::Edit {
                id: id.clone(),
                target: *target,
                group: group.clone(),
                from_name: from_name.clone(),
                to_name: Some(tmp.clone()),
                from_order: *from_order,
                to_order: None,
            };
            *from_name = tmp.clone();
            (k, b.drafts[fin].blocked.clone())
        }
        _ => return fin,
    };
    let final_to = b.renames[i].to.clone();
    let t = b.push(Draft {
        kind,
        reason: format!("temporary name `{tmp}` to break a cycle of renames (its final name `{final_to}` is still taken); one extra call"),
        deps: vec![],
        blocked,
        destructive: false,
    });
    b.drafts[fin].deps.push(t);
    b.drafts[fin].reason.push_str(&format!(
        " (second half of a rename cycle, from the temporary name `{tmp}`)"
    ));
    t
}

/// Topological order (stable by creation), final ids; steps in a cycle are blocked.
fn finish(mut drafts: Vec<Draft>) -> Plan {
    let n = drafts.len();
    for d in &mut drafts {
        d.deps.sort_unstable();
        d.deps.dedup();
    }
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    loop {
        let mut indeg = vec![0usize; n];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, d) in drafts.iter().enumerate() {
            if placed[i] {
                continue;
            }
            for &p in &d.deps {
                if !placed[p] {
                    indeg[i] += 1;
                    users[p].push(i);
                }
            }
        }
        let mut heap: BinaryHeap<Reverse<usize>> = (0..n)
            .filter(|&i| !placed[i] && indeg[i] == 0)
            .map(Reverse)
            .collect();
        while let Some(Reverse(i)) = heap.pop() {
            placed[i] = true;
            order.push(i);
            for &u in &users[i] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    heap.push(Reverse(u));
                }
            }
        }
        let stuck: Vec<usize> = (0..n).filter(|&i| !placed[i]).collect();
        let Some(&first) = stuck.first() else { break };
        // Break the cycle at its earliest step: block it and drop its waits.
        let d = &mut drafts[first];
        d.deps.retain(|&p| placed[p]);
        d.blocked.get_or_insert_with(|| Blocked {
            reason: "cannot be ordered safely: it waits on a step that waits on it (names freed by the delete are needed in a group the delete would empty)".into(),
            fix: "split the change into two applies".into(),
        });
    }
    let mut new_id = vec![0usize; n];
    for (k, &i) in order.iter().enumerate() {
        new_id[i] = k;
    }
    let mut slots: BTreeMap<usize, Draft> = BTreeMap::new();
    for (i, d) in drafts.into_iter().enumerate() {
        slots.insert(new_id[i], d);
    }
    let steps = slots
        .into_iter()
        .map(|(id, d)| {
            let mut deps: Vec<usize> = d.deps.iter().map(|&p| new_id[p]).collect();
            deps.sort_unstable();
            Step {
                id,
                kind: d.kind,
                reason: d.reason,
                depends_on: deps,
                blocked: d.blocked,
                destructive: d.destructive,
                drift: false,
            }
        })
        .collect();
    Plan {
        steps,
        ..Plan::default()
    }
}
