//! Property tests: random corps, random files derived from them by mutation, the plan
//! simulated under the API rules.
//!
//! A case is drawn from one `u64` seed (so a failure prints a seed to replay). The corp has
//! foreign and owned items and equal or sparse order values; the file renames (including
//! swaps and chains), reorders, adds, removes and moves tags between groups, and renames,
//! reorders, adds and removes groups. The mutator records which remote id each desired
//! item must keep, so the checks are independent of the planner's own matching.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::testutil::*;
use super::*;
use crate::desired::model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
use crate::snapshot::{RemoteGroup, RemoteTag, Snapshot};

struct Case {
    corp: Snapshot,
    owned: Owned,
    all_mode: bool,
    desired: Desired,
    /// Per desired group: the remote group id it must keep (None: created).
    expect_group: Vec<Option<String>>,
    /// Per desired group, per tag: the remote tag id it must keep (None: created).
    expect_tag: Vec<Vec<Option<String>>>,
    /// Where an interrupted apply stops (modulo the number of steps + 1).
    cut: usize,
    /// Order values packed tight: the call count may exceed the bound (renumbering).
    dense: bool,
}

fn gen_orders(rng: &mut StdRng, n: usize, dense: bool) -> Vec<u32> {
    if dense {
        // No room between values: forces local renumbering.
        return (0..n).map(|_| rng.random_range(0..4u32)).collect();
    }
    if rng.random_bool(0.3) {
        let v = 1000 * rng.random_range(1..5u32);
        vec![v; n]
    } else {
        (0..n).map(|_| 1000 * rng.random_range(1..40u32)).collect()
    }
}

fn gen_corp(rng: &mut StdRng, dense: bool) -> Snapshot {
    let mut gnames: Vec<String> = (0..6).map(|i| format!("G{i}")).collect();
    gnames.shuffle(rng);
    let ng = rng.random_range(1..=4);
    let gorders = gen_orders(rng, ng, dense);
    let groups = (0..ng)
        .map(|gi| {
            let mut tnames: Vec<String> = "abcdefgh".chars().map(String::from).collect();
            tnames.shuffle(rng);
            let nt = rng.random_range(1..=6);
            let torders = gen_orders(rng, nt, dense);
            RemoteGroup {
                id: format!("g{gi}"),
                name: gnames[gi].clone(),
                order: gorders[gi],
                create_time: 0,
                tags: (0..nt)
                    .map(|ti| RemoteTag {
                        id: format!("t{gi}_{ti}"),
                        name: tnames[ti].clone(),
                        order: torders[ti],
                        create_time: 0,
                    })
                    .collect(),
            }
        })
        .collect();
    Snapshot {
        groups,
        rule_groups: None,
    }
}

/// Items sorted by order, larger first (stable): the display order.
fn by_display<T>(items: &[T], order: impl Fn(&T) -> u32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by_key(|&i| std::cmp::Reverse(order(&items[i])));
    idx
}

/// A desired item under construction: the item, the id it must keep, its remote name.
struct Item<T> {
    d: T,
    keep: Option<String>,
    old: Option<String>,
    /// For a group: its tags.
    tags: Vec<Item<DesiredTag>>,
}

trait Named {
    fn name(&self) -> &str;
    fn name_mut(&mut self) -> &mut String;
    fn prev_mut(&mut self) -> &mut Vec<String>;
}
impl Named for DesiredTag {
    fn name(&self) -> &str {
        &self.name
    }
    fn name_mut(&mut self) -> &mut String {
        &mut self.name
    }
    fn prev_mut(&mut self) -> &mut Vec<String> {
        &mut self.previously
    }
}
impl Named for DesiredGroup {
    fn name(&self) -> &str {
        &self.name
    }
    fn name_mut(&mut self) -> &mut String {
        &mut self.name
    }
    fn prev_mut(&mut self) -> &mut Vec<String> {
        &mut self.previously
    }
}

/// Renames (fresh names), swaps and chains among the items `owns` allows.
fn mutate_names<T: Named>(
    rng: &mut StdRng,
    items: &mut [Item<T>],
    owns: &dyn Fn(&str) -> bool,
    fresh: &mut dyn FnMut() -> String,
) {
    let candidates = |items: &[Item<T>]| -> Vec<usize> {
        (0..items.len())
            .filter(|&i| {
                items[i].keep.as_deref().is_some_and(owns)
                    && items[i].old.as_deref() == Some(items[i].d.name())
            })
            .collect()
    };
    for i in candidates(items) {
        if rng.random_bool(0.12) {
            let old = items[i].d.name_mut().clone();
            *items[i].d.name_mut() = fresh();
            *items[i].d.prev_mut() = vec![old];
        }
    }
    let c = candidates(items);
    if c.len() >= 2 && rng.random_bool(0.25) {
        let mut pick = c.clone();
        pick.shuffle(rng);
        let (x, y) = (pick[0], pick[1]);
        let (nx, ny) = (items[x].d.name_mut().clone(), items[y].d.name_mut().clone());
        if rng.random_bool(0.5) {
            // swap
            *items[x].d.name_mut() = ny.clone();
            *items[x].d.prev_mut() = vec![nx.clone()];
            *items[y].d.name_mut() = nx;
            *items[y].d.prev_mut() = vec![ny];
        } else {
            // chain: y → fresh, x → y's old name
            *items[y].d.name_mut() = fresh();
            *items[y].d.prev_mut() = vec![ny.clone()];
            *items[x].d.name_mut() = ny;
            *items[x].d.prev_mut() = vec![nx];
        }
    }
}

/// Reorders among the items `movable` allows (the others keep their positions).
fn mutate_order<T>(rng: &mut StdRng, items: &mut Vec<Item<T>>, movable: &dyn Fn(&Item<T>) -> bool) {
    let pos: Vec<usize> = (0..items.len()).filter(|&i| movable(&items[i])).collect();
    if pos.len() < 2 {
        return;
    }
    let mut perm = pos.clone();
    if rng.random_bool(0.2) {
        perm.shuffle(rng);
    } else if rng.random_bool(0.25) {
        // Move one item to the top.
        let k = rng.random_range(0..perm.len());
        let x = perm.remove(k);
        perm.insert(0, x);
    } else {
        return;
    }
    let mut slots: Vec<Option<Item<T>>> = items.drain(..).map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    let mut k = 0;
    for i in 0..slots.len() {
        let from = if pos.get(k) == Some(&i) {
            k += 1;
            perm[k - 1]
        } else {
            i
        };
        if let Some(it) = slots[from].take() {
            out.push(it);
        }
    }
    *items = out;
}

fn new_tag(name: String) -> Item<DesiredTag> {
    Item {
        d: tag(&name),
        keep: None,
        old: None,
        tags: vec![],
    }
}

fn gen_case(seed: u64) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    // From the seed, not the generator: older seeds replay the same cases.
    let dense = seed.is_multiple_of(7);
    let corp = gen_corp(&mut rng, dense);
    let all_mode = rng.random_bool(0.5);
    let mut owned_set = BTreeSet::new();
    for g in &corp.groups {
        // Some groups come wholly from the admin console or another app.
        let console = rng.random_bool(0.2);
        for id in std::iter::once(&g.id).chain(g.tags.iter().map(|t| &t.id)) {
            if !console && rng.random_bool(0.75) {
                owned_set.insert(id.clone());
            }
        }
    }
    let owns = |id: &str| all_mode || owned_set.contains(id);
    let mut counter = 0;
    let mut fresh = move || {
        counter += 1;
        format!("n{counter}")
    };
    let movable_tag = |it: &Item<DesiredTag>| it.keep.as_deref().is_none_or(owns);
    let movable_group = |it: &Item<DesiredGroup>| it.keep.as_deref().is_none_or(owns);

    let mut groups: Vec<Item<DesiredGroup>> = Vec::new();
    for gi in by_display(&corp.groups, |g| g.order) {
        let g = &corp.groups[gi];
        if rng.random_bool(0.1) {
            continue;
        }
        let mut tags: Vec<Item<DesiredTag>> = by_display(&g.tags, |t| t.order)
            .into_iter()
            .filter(|_| !rng.random_bool(0.12))
            .map(|ti| Item {
                d: tag(&g.tags[ti].name),
                keep: Some(g.tags[ti].id.clone()),
                old: Some(g.tags[ti].name.clone()),
                tags: vec![],
            })
            .collect();
        let read_only = !owns(&g.id)
            && g.tags.iter().all(|t| !owns(&t.id))
            && !tags.is_empty()
            && rng.random_bool(0.4);
        let mut d = group(&g.name, vec![]);
        if read_only {
            d.managed = false;
        } else {
            mutate_names(&mut rng, &mut tags, &owns, &mut fresh);
            mutate_order(&mut rng, &mut tags, &movable_tag);
            if rng.random_bool(0.3) {
                for _ in 0..rng.random_range(1..=2) {
                    let at = rng.random_range(0..=tags.len());
                    tags.insert(at, new_tag(fresh()));
                }
            }
            if tags.is_empty() {
                tags.push(new_tag(fresh()));
            }
            for t in &mut tags {
                if rng.random_bool(0.05) && t.keep.as_deref().is_none_or(owns) {
                    t.d.order = Order::Value(1000 * rng.random_range(0..40u32) + 500);
                }
                if rng.random_bool(0.1) {
                    t.d.id.clone_from(&t.keep);
                }
            }
            if rng.random_bool(0.1) {
                d.order = Order::Ignore;
            }
            if rng.random_bool(0.1) {
                d.id = Some(g.id.clone());
            }
        }
        groups.push(Item {
            d,
            keep: Some(g.id.clone()),
            old: Some(g.name.clone()),
            tags,
        });
    }
    mutate_names(&mut rng, &mut groups, &owns, &mut fresh);
    if rng.random_bool(0.2) {
        let at = rng.random_range(0..=groups.len());
        let tags = (0..rng.random_range(1..=3))
            .map(|_| new_tag(fresh()))
            .collect();
        groups.insert(
            at,
            Item {
                d: group(&fresh(), vec![]),
                keep: None,
                old: None,
                tags,
            },
        );
    }
    mutate_order(&mut rng, &mut groups, &movable_group);
    if groups.len() >= 2 && rng.random_bool(0.3) {
        move_tag(&mut rng, &corp, &mut groups, &owns, &mut fresh);
    }

    let expect_group = groups.iter().map(|g| g.keep.clone()).collect();
    let expect_tag = groups
        .iter()
        .map(|g| g.tags.iter().map(|t| t.keep.clone()).collect())
        .collect();
    let desired = Desired {
        version: 1,
        ownership: if all_mode {
            Ownership::All
        } else {
            Ownership::Ledger
        },
        groups: groups
            .into_iter()
            .map(|g| {
                let mut d = g.d;
                d.tags = g.tags.into_iter().map(|t| t.d).collect();
                d
            })
            .collect(),
        strategies: None,
    };
    Case {
        cut: rng.random_range(0..64),
        dense,
        owned: if all_mode {
            Owned::All
        } else {
            Owned::Ids(owned_set)
        },
        corp,
        all_mode,
        desired,
        expect_group,
        expect_tag,
    }
}

/// Move an owned, unrenamed tag into another group by pinning its id (a replace).
fn move_tag(
    rng: &mut StdRng,
    corp: &Snapshot,
    groups: &mut [Item<DesiredGroup>],
    owns: &dyn Fn(&str) -> bool,
    fresh: &mut dyn FnMut() -> String,
) {
    let a = rng.random_range(0..groups.len());
    let mut b = rng.random_range(0..groups.len() - 1);
    if b >= a {
        b += 1;
    }
    let ga = &groups[a];
    if ga.tags.len() < 2 || !groups[b].d.managed {
        return;
    }
    let mentioned: BTreeSet<&String> = ga.tags.iter().flat_map(|t| &t.d.previously).collect();
    let cand: Vec<usize> = (0..ga.tags.len())
        .filter(|&j| {
            let t = &ga.tags[j];
            t.keep.as_deref().is_some_and(owns)
                && t.old.as_deref() == Some(t.d.name.as_str())
                && !mentioned.contains(&t.d.name)
        })
        .collect();
    let Some(&j) = cand.get(rng.random_range(0..cand.len().max(1))) else {
        return;
    };
    let mut it = groups[a].tags.remove(j);
    let gb = &groups[b];
    let remote_b: Vec<&str> = gb
        .keep
        .as_ref()
        .and_then(|id| corp.groups.iter().find(|g| &g.id == id))
        .map(|g| g.tags.iter().map(|t| t.name.as_str()).collect())
        .unwrap_or_default();
    let taken = gb
        .tags
        .iter()
        .any(|t| t.d.name == it.d.name || t.d.previously.contains(&it.d.name))
        || remote_b.contains(&it.d.name.as_str());
    if taken {
        it.d.name = fresh();
    }
    it.d.id = it.keep.take();
    it.old = None;
    let at = rng.random_range(0..=groups[b].tags.len());
    groups[b].tags.insert(at, it);
}

/// Longest strictly decreasing subsequence length (display order: larger first), O(n²),
/// written independently of the planner's.
fn longest_decreasing(v: &[u32]) -> usize {
    let mut best = vec![1usize; v.len()];
    for i in 0..v.len() {
        for j in 0..i {
            if v[j] > v[i] {
                best[i] = best[i].max(best[j] + 1);
            }
        }
    }
    best.into_iter().max().unwrap_or(0)
}

/// Number of rename cycles among `(old, new)` pairs of one namespace.
fn cycles(renames: &[(String, String)]) -> usize {
    let by_old: BTreeMap<&str, &str> = renames
        .iter()
        .map(|(o, n)| (o.as_str(), n.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut count = 0;
    for (start, _) in renames {
        if seen.contains(start.as_str()) {
            continue;
        }
        let mut cur = start.as_str();
        let mut path = vec![];
        while let Some(&next) = by_old.get(cur) {
            if seen.contains(cur) {
                break;
            }
            seen.insert(cur);
            path.push(cur);
            if next == start {
                count += 1;
                break;
            }
            cur = next;
        }
    }
    count
}

/// Edits needed in one list: renamed items, items whose explicit value differs, plus the
/// positional items outside the longest run of not-renamed ones already in order.
/// `items`: (current order, renamed, how the file orders it).
fn list_edits(items: &[(u32, bool, Order)]) -> usize {
    let renamed = items.iter().filter(|i| i.1).count();
    let values = items
        .iter()
        .filter(|i| !i.1 && matches!(i.2, Order::Value(v) if v != i.0))
        .count();
    let stay: Vec<u32> = items
        .iter()
        .filter(|i| !i.1 && i.2 == Order::Position)
        .map(|i| i.0)
        .collect();
    renamed + values + stay.len() - longest_decreasing(&stay)
}

/// The fewest calls that can reach the file (everything owned, room in every gap).
fn lower_bound(c: &Case) -> usize {
    let corp = &c.corp;
    let group_of = |id: &str| corp.groups.iter().find(|g| g.id == id);
    let mut calls = 0;
    let mut gitems = Vec::new();
    let mut grenames = Vec::new();
    let mut delete = corp
        .groups
        .iter()
        .any(|g| !c.expect_group.contains(&Some(g.id.clone())));
    for (gi, dg) in c.desired.groups.iter().enumerate() {
        let Some(rg) = c.expect_group[gi].as_deref().and_then(group_of) else {
            calls += 1; // add group with its tags
            continue;
        };
        let renamed = rg.name != dg.name;
        if renamed {
            grenames.push((rg.name.clone(), dg.name.clone()));
        }
        if dg.managed {
            gitems.push((rg.order, renamed, dg.order));
        }
        if c.expect_tag[gi].iter().any(Option::is_none) {
            calls += 1; // one add into this group
        }
        let kept: Vec<&String> = c.expect_tag[gi].iter().flatten().collect();
        delete |= rg.tags.iter().any(|t| !kept.contains(&&t.id));
        let mut titems = Vec::new();
        let mut trenames = Vec::new();
        for (ti, dt) in dg.tags.iter().enumerate() {
            let Some(id) = &c.expect_tag[gi][ti] else {
                continue;
            };
            let Some(rt) = rg.tags.iter().find(|t| &t.id == id) else {
                continue;
            };
            let renamed = rt.name != dt.name;
            if renamed {
                trenames.push((rt.name.clone(), dt.name.clone()));
            }
            let how = match (dg.managed, dg.order, dt.order) {
                (false, _, _) => Order::Ignore,
                (true, _, Order::Value(v)) => Order::Value(v),
                (true, Order::Ignore, _) => Order::Ignore,
                (true, _, o) => o,
            };
            titems.push((rt.order, renamed, how));
        }
        calls += list_edits(&titems) + cycles(&trenames);
    }
    calls + list_edits(&gitems) + cycles(&grenames) + usize::from(delete)
}

fn owned_after(owned: &Owned, out: &Snapshot) -> Owned {
    let mut o = owned.clone();
    for g in &out.groups {
        for id in std::iter::once(&g.id).chain(g.tags.iter().map(|t| &t.id)) {
            if id.starts_with("sim-") {
                o.insert(id.clone());
            }
        }
    }
    o
}

fn strictly_decreasing(v: &[u32]) -> bool {
    v.windows(2).all(|w| w[0] > w[1])
}

/// Without `--allow-delete`, the default gate blocks exactly the destructive steps, and
/// only when more than 10 tags go, or more than 25% of at least 20 owned tags.
fn check_gate(c: &Case, allowed: &Plan, tag_limit: usize) -> Result<(), TestCaseError> {
    let gated = plan(
        &c.desired,
        &c.corp,
        &c.owned,
        &PlanOptions {
            tag_limit,
            ..PlanOptions::default()
        },
    );
    let count = allowed.deleted_tag_count();
    let owned = c
        .corp
        .groups
        .iter()
        .flat_map(|g| &g.tags)
        .filter(|t| c.owned.contains(&t.id))
        .count();
    let trips = count > 10 || (owned >= 20 && count * 4 > owned);
    prop_assert_eq!(gated.calls(), allowed.calls());
    for (a, g) in allowed.steps.iter().zip(&gated.steps) {
        let gate = g
            .blocked
            .as_ref()
            .is_some_and(|b| b.reason.starts_with("safety gate"));
        if a.blocked.is_none() {
            prop_assert_eq!(gate, trips && a.destructive, "gate on {:?}", g);
        }
        if gate {
            let fix = format!("--allow-delete {count}");
            prop_assert!(g.blocked.as_ref().is_some_and(|b| b.fix.contains(&fix)));
        }
    }
    Ok(())
}

/// The simulated corp `out` holds exactly the file: names, membership, ids kept, order,
/// and every foreign item as it was.
fn verify_state(c: &Case, out: &Snapshot) -> Result<(), TestCaseError> {
    let foreign: BTreeMap<&str, (&str, &str, u32)> = c
        .corp
        .groups
        .iter()
        .flat_map(|g| g.tags.iter().map(move |t| (g, t)))
        .filter(|(_, t)| !c.owned.contains(&t.id))
        .map(|(g, t)| (t.id.as_str(), (g.id.as_str(), t.name.as_str(), t.order)))
        .collect();
    let mut gorders = Vec::new();
    for (gi, dg) in c.desired.groups.iter().enumerate() {
        let fg = out.groups.iter().find(|g| g.name == dg.name);
        let Some(fg) = fg else {
            return Err(TestCaseError::fail(format!("group {} missing", dg.name)));
        };
        match &c.expect_group[gi] {
            Some(id) => prop_assert_eq!(&fg.id, id, "group {} lost its id", dg.name),
            None => prop_assert!(fg.id.starts_with("sim-")),
        }
        if dg.order == Order::Position && dg.managed {
            gorders.push(fg.order);
        }
        let mut torders = Vec::new();
        for (ti, dt) in dg.tags.iter().enumerate() {
            let ft = fg.tags.iter().find(|t| t.name == dt.name);
            let Some(ft) = ft else {
                return Err(TestCaseError::fail(format!("tag {} missing", dt.name)));
            };
            match &c.expect_tag[gi][ti] {
                Some(id) => {
                    prop_assert_eq!(&ft.id, id, "tag {} lost its id (file keeps it)", dt.name)
                }
                None => prop_assert!(ft.id.starts_with("sim-")),
            }
            match dt.order {
                Order::Value(v) => prop_assert_eq!(ft.order, v, "explicit order of {}", dt.name),
                Order::Position => torders.push(ft.order),
                Order::Ignore => {}
            }
        }
        if dg.order != Order::Ignore && dg.managed {
            prop_assert!(
                strictly_decreasing(&torders),
                "tags of {} out of order: {:?}",
                dg.name,
                torders
            );
        }
        for t in &fg.tags {
            if !dg.tags.iter().any(|d| d.name == t.name) {
                prop_assert!(
                    foreign.contains_key(t.id.as_str()),
                    "extra tag {} not foreign",
                    t.name
                );
            }
        }
    }
    prop_assert!(
        strictly_decreasing(&gorders),
        "groups out of order: {:?}",
        gorders
    );
    for g in &out.groups {
        if !c.desired.groups.iter().any(|d| d.name == g.name) {
            prop_assert!(g.tags.iter().all(|t| foreign.contains_key(t.id.as_str())));
        }
    }
    // Foreign items untouched.
    let all_tags: BTreeMap<&str, (&str, &str, u32)> = out
        .groups
        .iter()
        .flat_map(|g| {
            g.tags
                .iter()
                .map(move |t| (t.id.as_str(), (g.id.as_str(), t.name.as_str(), t.order)))
        })
        .collect();
    for (id, v) in &foreign {
        prop_assert_eq!(all_tags.get(id), Some(v), "foreign tag {} touched", id);
    }
    for g in c.corp.groups.iter().filter(|g| !c.owned.contains(&g.id)) {
        let now = out.groups.iter().find(|x| x.id == g.id);
        let had_foreign = g.tags.iter().any(|t| foreign.contains_key(t.id.as_str()));
        match now {
            Some(n) => prop_assert!(
                n.name == g.name && n.order == g.order,
                "foreign group {} touched",
                g.name
            ),
            None => prop_assert!(!had_foreign, "foreign group {} vanished", g.name),
        }
    }
    Ok(())
}

/// An apply that stopped after `k` steps, then planned and applied again from there,
/// still reaches the file and keeps every id the file keeps.
fn check_resume(c: &Case, p: &Plan, opts: &PlanOptions) -> Result<(), TestCaseError> {
    let k = c.cut % (p.steps.len() + 1);
    let first = Plan {
        steps: p.steps[..k].to_vec(),
        ..Plan::default()
    };
    let half = simulate(&c.corp, &first, &c.owned)
        .map_err(|e| TestCaseError::fail(format!("prefix: {e}")))?;
    let owned = owned_after(&c.owned, &half);
    let resume_opts = PlanOptions {
        history: history_of(&first.steps),
        ..opts.clone()
    };
    check_revert(c, &half, &owned, &resume_opts, k)?;
    let p2 = plan(&c.desired, &half, &owned, &resume_opts);
    prop_assert!(!p2.blocked(), "resume blocked after {} steps: {:#?}", k, p2);
    let out = simulate(&half, &p2, &owned)
        .map_err(|e| TestCaseError::fail(format!("resume after {k}: {e}\n{p2:#?}")))?;
    verify_state(c, &out)?;
    let all: Vec<Step> = first.steps.iter().chain(&p2.steps).cloned().collect();
    let done = PlanOptions {
        history: history_of(&all),
        ..opts.clone()
    };
    let again = plan(&c.desired, &out, &owned_after(&owned, &out), &done);
    prop_assert!(
        again.is_empty(),
        "not converged after resume at {}: {:#?}",
        k,
        again
    );
    Ok(())
}

/// The apply stopped after `k` steps and the file was reverted (to the corp as it was):
/// every item of the start still there is kept, never deleted, unless its old name is
/// now another item's (then names alone decide). The history is what tells.
fn check_revert(
    c: &Case,
    half: &Snapshot,
    owned: &Owned,
    opts: &PlanOptions,
    k: usize,
) -> Result<(), TestCaseError> {
    let reverted = crate::plan::export(&c.corp, &c.owned);
    let p = plan(&reverted, half, owned, opts);
    let deleted: Vec<&str> = p
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Delete { groups, tags } => Some(
                groups
                    .iter()
                    .map(|g| g.id.as_str())
                    .chain(tags.iter().map(|t| t.id.as_str()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    for g0 in &c.corp.groups {
        let Some(g) = half.groups.iter().find(|g| g.id == g0.id) else {
            continue;
        };
        let name_taken = |n: &str| half.groups.iter().any(|o| o.id != g.id && o.name == n);
        if !name_taken(&g0.name) {
            prop_assert!(
                !deleted.contains(&g.id.as_str()),
                "revert after {} steps deletes group {} (was `{}`, now `{}`): {:#?}",
                k,
                g.id,
                g0.name,
                g.name,
                p
            );
        }
        for t0 in &g0.tags {
            let Some(t) = g.tags.iter().find(|t| t.id == t0.id) else {
                continue;
            };
            let taken = g.tags.iter().any(|o| o.id != t.id && o.name == t0.name);
            if !taken && !name_taken(&g0.name) {
                prop_assert!(
                    !deleted.contains(&t.id.as_str()),
                    "revert after {} steps deletes tag {} (was `{}`, now `{}`): {:#?}",
                    k,
                    t.id,
                    t0.name,
                    t.name,
                    p
                );
            }
        }
    }
    Ok(())
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let opts = PlanOptions {
        allow_delete: Some(usize::MAX),
        // In a third of the cases the corp is full: any add makes the delete run first.
        tag_limit: match c.cut % 3 {
            0 => c.corp.tag_count(),
            _ => PlanOptions::default().tag_limit,
        },
        ..PlanOptions::default()
    };
    let p = plan(&c.desired, &c.corp, &c.owned, &opts);
    // Deterministic (hash maps are only looked up, never iterated into the plan): what
    // `tagsync apply` relies on when it plans again to check a saved plan.
    prop_assert_eq!(
        &plan(&c.desired, &c.corp, &c.owned, &opts),
        &p,
        "plan is not deterministic"
    );
    for (i, s) in p.steps.iter().enumerate() {
        prop_assert_eq!(s.id, i);
        prop_assert!(!s.reason.is_empty(), "step without reason: {:?}", s);
        prop_assert!(
            s.depends_on.iter().all(|&d| d < s.id),
            "bad dependency: {:?}",
            s
        );
    }
    let json = serde_json::to_string(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: Plan = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, &p, "plan JSON does not round-trip");
    check_gate(c, &p, opts.tag_limit)?;
    for s in p.blocked_steps() {
        if let StepKind::Edit { id, .. } = &s.kind {
            let read_only = s
                .blocked
                .as_ref()
                .is_some_and(|b| b.reason.contains("managed: false"));
            prop_assert!(
                read_only || !c.owned.contains(id),
                "owned item blocked: {:?}",
                s
            );
        }
    }
    if p.blocked() {
        prop_assert!(!c.all_mode, "blocked under ownership: all: {:#?}", p);
        for s in p.blocked_steps() {
            let b = s.blocked.as_ref();
            prop_assert!(b.is_some_and(|b| !b.reason.is_empty() && !b.fix.is_empty()));
        }
        prop_assert!(matches!(
            simulate(&c.corp, &p, &c.owned),
            Err(SimError::Blocked(_))
        ));
        return Ok(());
    }
    let out = simulate(&c.corp, &p, &c.owned)
        .map_err(|e| TestCaseError::fail(format!("simulate: {e}\n{p:#?}")))?;
    verify_state(c, &out)?;
    check_resume(c, &p, &opts)?;
    // Convergence: planning again, with the applied renames recorded, gives nothing.
    let owned2 = owned_after(&c.owned, &out);
    let again_opts = PlanOptions {
        history: history_of(&p.steps),
        ..opts.clone()
    };
    let again = plan(&c.desired, &out, &owned2, &again_opts);
    prop_assert!(again.is_empty(), "not converged: {:#?}", again);
    // A full corp may need a second delete (the last old tag of a group kept until the
    // group's new tags are in): only then, and only one.
    let deletes = p
        .steps
        .iter()
        .filter(|s| s.blocked.is_none() && matches!(s.kind, StepKind::Delete { .. }))
        .count();
    let second_delete = usize::from(deletes > 1);
    prop_assert!(
        deletes <= 1 || (deletes == 2 && opts.tag_limit < PlanOptions::default().tag_limit),
        "two deletes in a corp with room: {:#?}",
        p
    );
    if c.all_mode && !c.dense {
        prop_assert_eq!(
            p.calls(),
            lower_bound(c) + second_delete,
            "more calls than needed: {:#?}",
            p
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn plans_reach_the_file_safely_with_fewest_calls(seed in any::<u64>()) {
        check(&gen_case(seed))?;
    }

    #[test]
    fn export_plans_to_nothing(seed in any::<u64>()) {
        let c = gen_case(seed);
        let d = export(&c.corp, &c.owned);
        let p = plan(&d, &c.corp, &c.owned, &PlanOptions::default());
        prop_assert!(p.is_empty(), "{:#?}", p);
    }
}

/// Seeds that once failed, replayed on every run.
#[test]
fn regressions() {
    // Two groups each with a rename cycle towards `h`: temporary names are per group,
    // so both cycles resume after an interruption.
    for seed in [7_934_499_334_065_871_971u64] {
        if let Err(e) = check(&gen_case(seed)) {
            panic!("seed {seed}: {e}");
        }
    }
}

/// A corp in step with its file, whose owned items the admin console then renamed and
/// moved: (the corp after the console, the file, what tagsync owns, the bindings).
fn gen_drift_case(seed: u64) -> (Snapshot, Desired, Owned, Bindings) {
    let mut rng = StdRng::seed_from_u64(seed);
    let corp = gen_corp(&mut rng, false);
    let mut desired = export(&corp, &Owned::All);
    desired.ownership = Ownership::Ledger;
    // A few tags the file adds (the console may take their names first), and a few it
    // drops (those, when owned, are rightly deleted).
    for g in &mut desired.groups {
        if g.tags.len() > 1 && rng.random_bool(0.2) {
            g.tags.remove(0);
        }
        if rng.random_bool(0.3) {
            g.tags.push(DesiredTag::named("x"));
        }
    }
    let mut owned = BTreeSet::new();
    let mut bindings = Bindings::new();
    for g in &corp.groups {
        if rng.random_bool(0.7) {
            owned.insert(g.id.clone());
            bindings.insert(g.id.clone(), Binding::group(&g.name, Some(g.order)));
        }
        for t in &g.tags {
            if rng.random_bool(0.7) {
                owned.insert(t.id.clone());
                bindings.insert(t.id.clone(), Binding::tag(&g.id, &t.name, Some(t.order)));
            }
        }
    }
    let mut edited = corp;
    let group_pool = ["X", "Y", "G9", "G0", "G1"];
    let tag_pool = ["x", "y", "q", "a", "b"];
    let gnames: Vec<String> = edited.groups.iter().map(|g| g.name.clone()).collect();
    for gi in 0..edited.groups.len() {
        let g = &mut edited.groups[gi];
        if owned.contains(&g.id) && rng.random_bool(0.3) {
            let to = group_pool[rng.random_range(0..group_pool.len())];
            if !gnames.iter().any(|n| n == to) && !edited_group_name_taken(&g.name, to) {
                g.name = to.to_string();
            }
        }
        let g = &mut edited.groups[gi];
        for ti in 0..g.tags.len() {
            if !owned.contains(&g.tags[ti].id) {
                continue;
            }
            if rng.random_bool(0.4) {
                let to = tag_pool[rng.random_range(0..tag_pool.len())];
                if !g.tags.iter().any(|t| t.name == to) {
                    g.tags[ti].name = to.to_string();
                }
            }
            if rng.random_bool(0.3) {
                g.tags[ti].order = 1000 * rng.random_range(1..40u32);
            }
        }
        // Sometimes the console swaps the names of two owned tags.
        let mine: Vec<usize> = (0..g.tags.len())
            .filter(|&t| owned.contains(&g.tags[t].id))
            .collect();
        if mine.len() >= 2 && rng.random_bool(0.2) {
            let (a, b) = (mine[0], mine[1]);
            let name = g.tags[a].name.clone();
            g.tags[a].name = g.tags[b].name.clone();
            g.tags[b].name = name;
        }
    }
    // Sometimes the console then makes a new tag under a renamed tag's old name.
    for (gi, g) in edited.groups.iter_mut().enumerate() {
        let free: Vec<String> = g
            .tags
            .iter()
            .filter_map(|t| bindings.get(&t.id).filter(|b| b.name != t.name))
            .map(|b| b.name.clone())
            .filter(|n| !g.tags.iter().any(|t| t.name == *n))
            .collect();
        if let Some(name) = free.first()
            && rng.random_bool(0.5)
        {
            g.tags.push(RemoteTag {
                id: format!("console{gi}"),
                name: name.clone(),
                order: 500,
                create_time: 0,
            });
        }
    }
    // Group names must stay unique after the console's renames.
    let mut seen = BTreeSet::new();
    for g in &mut edited.groups {
        if !seen.insert(g.name.clone()) {
            let id = g.id.clone();
            g.name = bindings.get(&id).map_or(g.name.clone(), |b| b.name.clone());
        }
    }
    (edited, desired, Owned::Ids(owned), bindings)
}

/// The console refuses a group name another group holds; the generator only avoids
/// names of the original corp, and [`gen_drift_case`] undoes any clash afterwards.
fn edited_group_name_taken(from: &str, to: &str) -> bool {
    from == to
}

/// Whether the file lists the owned item `id` of `corp` under the name it is bound to.
fn listed_in_file(id: &str, corp: &Snapshot, desired: &Desired, bindings: &Bindings) -> bool {
    let Some(b) = bindings.get(id) else {
        return false;
    };
    let lists = |name: &String, prev: &[String]| *name == b.name || prev.contains(&b.name);
    if corp.groups.iter().any(|g| g.id == id) {
        return desired.groups.iter().any(|d| lists(&d.name, &d.previously));
    }
    let Some(g) = corp
        .groups
        .iter()
        .find(|g| g.tags.iter().any(|t| t.id == id))
    else {
        return false;
    };
    let gname = bindings
        .get(&g.id)
        .map_or(g.name.as_str(), |gb| gb.name.as_str());
    desired
        .groups
        .iter()
        .filter(|d| d.name == gname)
        .any(|d| d.tags.iter().any(|t| lists(&t.name, &t.previously)))
}

fn check_drift(seed: u64) -> Result<(), TestCaseError> {
    let (corp, desired, owned, bindings) = gen_drift_case(seed);
    let opts = PlanOptions {
        allow_delete: Some(usize::MAX),
        bindings: bindings.clone(),
        ..PlanOptions::default()
    };
    let p = plan(&desired, &corp, &owned, &opts);
    for step in &p.steps {
        let StepKind::Delete { groups, tags } = &step.kind else {
            continue;
        };
        let mut ids: Vec<&str> = tags.iter().map(|t| t.id.as_str()).collect();
        for dg in groups {
            ids.push(&dg.id);
            if let Some(g) = corp.groups.iter().find(|g| g.id == dg.id) {
                ids.extend(g.tags.iter().map(|t| t.id.as_str()));
            }
        }
        for id in ids {
            prop_assert!(
                !(owned.contains(id) && listed_in_file(id, &corp, &desired, &bindings)),
                "seed {seed}: deletes {id}, which the file lists\n{corp:#?}\n{p:#?}"
            );
        }
    }
    if p.blocked() {
        return Ok(());
    }
    // Applied (the executor records each rename in the binding), it converges.
    let out = simulate(&corp, &p, &owned).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let mut after = bindings.clone();
    for step in &p.steps {
        if let StepKind::Edit {
            id,
            to_name: Some(to),
            ..
        } = &step.kind
            && let Some(b) = after.get_mut(id)
        {
            b.name.clone_from(to);
        }
    }
    let again = plan(
        &desired,
        &out,
        &owned_after(&owned, &out),
        &PlanOptions {
            bindings: after,
            history: history_of(&p.steps),
            ..opts
        },
    );
    prop_assert!(
        again.is_empty(),
        "seed {seed}: not converged\n{p:#?}\n{again:#?}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Console renames and moves of owned items never delete an item the file still
    /// lists under any name, and the plan converges.
    #[test]
    fn console_edits_of_owned_items_never_delete_what_the_file_lists(seed in any::<u64>()) {
        check_drift(seed)?;
    }
}

/// Two cases in one file: the first as the corp's tags, the second (its ids made
/// distinct, as WeCom's are across scopes) as rule group 1's. Names repeat across the two,
/// so tags leaving one scope and arriving in the other (moves) come up often.
fn gen_scoped_case(seed: u64) -> (Desired, Snapshot, Owned) {
    let a = gen_case(seed);
    let b = gen_case(seed.rotate_left(17) ^ 0x5eed);
    let rid = |id: &str| format!("r-{id}");
    let mut rule_groups = b.corp.groups.clone();
    for g in &mut rule_groups {
        g.id = rid(&g.id);
        for t in &mut g.tags {
            t.id = rid(&t.id);
        }
    }
    let mut groups = b.desired.groups.clone();
    for g in &mut groups {
        g.id = g.id.as_deref().map(rid);
        for t in &mut g.tags {
            t.id = t.id.as_deref().map(rid);
        }
    }
    // In two cases of three, a tag of the corp's file moves to the rule group's.
    let mut corp_groups = a.desired.groups.clone();
    if !seed.is_multiple_of(3)
        && let Some(from) = corp_groups
            .iter_mut()
            .find(|g| g.managed && g.tags.len() > 1)
        && let Some(to) = groups.iter_mut().find(|g| g.managed)
        && let Some(t) = from.tags.pop()
        && !to.tags.iter().any(|x| x.name == t.name)
    {
        to.tags.push(DesiredTag {
            id: None,
            previously: Vec::new(),
            ..t
        });
    }
    let desired = Desired {
        groups: corp_groups,
        strategies: Some(vec![crate::desired::model::DesiredRuleGroup {
            rule_group: crate::desired::model::RuleGroupRef::Id(1),
            groups,
        }]),
        ..a.desired.clone()
    };
    let remote = Snapshot {
        groups: a.corp.groups.clone(),
        rule_groups: Some(vec![crate::snapshot::RemoteRuleGroup {
            id: 1,
            name: Some("r".into()),
            parent_id: 0,
            groups: rule_groups,
        }]),
    };
    (desired, remote, a.owned)
}

/// The joined plan of two scopes: well formed, deterministic, and (unblocked) it makes
/// both scopes equal to the file: planning again gives nothing.
fn check_scoped(seed: u64) -> Result<(), TestCaseError> {
    let (d, remote, owned) = gen_scoped_case(seed);
    let opts = PlanOptions {
        allow_delete: Some(usize::MAX),
        ..PlanOptions::default()
    };
    let p = plan(&d, &remote, &owned, &opts);
    prop_assert_eq!(&plan(&d, &remote, &owned, &opts), &p, "not deterministic");
    for (i, s) in p.steps.iter().enumerate() {
        prop_assert_eq!(s.id, i);
        prop_assert!(
            s.depends_on.iter().all(|&x| x < i),
            "bad dependency: {:?}",
            s
        );
    }
    // A corp id never appears in a rule group's step, nor the reverse.
    for s in &p.steps {
        let ids: Vec<&String> = match &s.kind {
            StepKind::Edit { id, .. } => vec![id],
            StepKind::AddTags { group_id, .. } => vec![group_id],
            StepKind::Delete { groups, tags } => groups
                .iter()
                .map(|g| &g.id)
                .chain(tags.iter().map(|t| &t.id))
                .collect(),
            StepKind::AddGroup { .. } => vec![],
        };
        for id in ids {
            prop_assert_eq!(id.starts_with("r-"), !s.scope.is_corp(), "{:?}", s);
        }
    }
    if p.blocked() {
        return Ok(());
    }
    let out = simulate(&remote, &p, &owned)
        .map_err(|e| TestCaseError::fail(format!("simulate: {e}\n{p:#?}")))?;
    let again_opts = PlanOptions {
        history: history_of(&p.steps),
        ..opts
    };
    let again = plan(&d, &out, &owned_after(&owned, &out), &again_opts);
    prop_assert!(
        again.is_empty(),
        "not converged: {:#?}\nfirst: {:#?}",
        again,
        p
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn corp_and_rule_group_plans_join_and_converge(seed in any::<u64>()) {
        check_scoped(seed)?;
    }
}

/// The scoped cases reach what they are for: rule-group steps, and moves between scopes.
#[test]
fn scoped_cases_have_rule_group_steps_and_moves() {
    let (mut in_rule_group, mut moves) = (0, 0);
    for seed in 0..300u64 {
        let (d, remote, owned) = gen_scoped_case(seed);
        let p = plan(&d, &remote, &owned, &PlanOptions::default());
        in_rule_group += usize::from(p.steps.iter().any(|s| !s.scope.is_corp()));
        moves += usize::from(p.steps.iter().any(|s| s.reason.contains("comes from")));
    }
    assert!(
        in_rule_group > 200,
        "{in_rule_group} of 300 with rule-group steps"
    );
    assert!(moves > 10, "{moves} of 300 with a move between scopes");
}
