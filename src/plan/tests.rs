//! Focused tests, one per planner rule.

use std::collections::BTreeSet;

use super::testutil::*;
use super::*;
use crate::desired::model::{Order, Ownership};

fn all() -> Owned {
    Owned::All
}

fn ids(v: &[&str]) -> Owned {
    Owned::Ids(v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
}

/// Whether every note is a "looks like a rename" hint (plans that delete and add tags in
/// one group carry one).
fn only_rename_hints(notes: &[String]) -> bool {
    notes.iter().all(|n| n.contains("looks like a rename"))
}

fn opts() -> PlanOptions {
    PlanOptions::default()
}

/// Plan, simulate, and check that planning again (with the renames recorded) gives nothing.
fn converge(d: &crate::desired::model::Desired, s: &Snapshot, owned: &Owned) -> (Plan, Snapshot) {
    let p = plan(d, s, owned, &opts());
    assert!(!p.blocked(), "unexpected blocked plan: {p:#?}");
    for st in &p.steps {
        assert!(!st.reason.is_empty(), "step without reason: {st:?}");
        assert!(st.depends_on.iter().all(|&d| d < st.id));
    }
    let out = simulate(s, &p, owned).unwrap_or_else(|e| panic!("simulate: {e}\n{p:#?}"));
    let mut owned2 = owned.clone();
    for g in &out.groups {
        owned2.insert(g.id.clone());
        for t in &g.tags {
            if t.id.starts_with("sim-") {
                owned2.insert(t.id.clone());
            }
        }
    }
    let again_opts = PlanOptions {
        history: history_of(&p.steps),
        ..opts()
    };
    let again = plan(d, &out, &owned2, &again_opts);
    assert!(again.is_empty(), "not converged: {again:#?}");
    (p, out)
}

use crate::snapshot::Snapshot;

#[test]
fn swap_goes_through_one_temporary_name() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 20), ("t2", "B", 10)])]);
    let d = desired(
        Ownership::All,
        vec![group("G", vec![renamed("B", "A"), renamed("A", "B")])],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 3, "{p:#?}");
    assert!(p.steps.iter().any(|s| s.reason.contains("temporary name")));
    assert_eq!(find_tag(&out, "G", "B").map(|t| t.id.as_str()), Some("t1"));
    assert_eq!(find_tag(&out, "G", "A").map(|t| t.id.as_str()), Some("t2"));
}

#[test]
fn chain_keeps_ids_without_temporary_names() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 20), ("t2", "B", 10)])]);
    let d = desired(
        Ownership::All,
        vec![group("G", vec![renamed("B", "A"), renamed("C", "B")])],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 2);
    // B→C must run before A→B.
    assert!(p.steps[1].depends_on.contains(&0));
    assert_eq!(find_tag(&out, "G", "B").map(|t| t.id.as_str()), Some("t1"));
    assert_eq!(find_tag(&out, "G", "C").map(|t| t.id.as_str()), Some("t2"));
}

#[test]
fn group_swap_keeps_ids() {
    let s = snap(&[
        ("g1", "X", 20, &[("t1", "a", 1)]),
        ("g2", "Y", 10, &[("t2", "b", 1)]),
    ]);
    let mut x = group("Y", vec![tag("a")]);
    x.previously = vec!["X".into()];
    let mut y = group("X", vec![tag("b")]);
    y.previously = vec!["Y".into()];
    let (p, out) = converge(&desired(Ownership::All, vec![x, y]), &s, &all());
    assert_eq!(p.calls(), 3);
    assert_eq!(
        out.groups
            .iter()
            .find(|g| g.name == "Y")
            .map(|g| g.id.as_str()),
        Some("g1")
    );
}

#[test]
fn moving_one_tag_to_the_top_of_100_is_one_call() {
    let tags: Vec<(String, String, u32)> = (0..100)
        .map(|i| (format!("t{i}"), format!("n{i}"), 1000 - i as u32))
        .collect();
    let specs: Vec<(&str, &str, u32)> = tags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    let s = snap(&[("g", "G", 1, &specs)]);
    let mut names: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
    let last = names.pop().unwrap_or_default();
    names.insert(0, last);
    let d = desired(
        Ownership::All,
        vec![group("G", names.iter().map(|n| tag(n)).collect())],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1);
    let top = out.groups[0]
        .tags
        .iter()
        .max_by_key(|t| t.order)
        .map(|t| t.name.as_str());
    assert_eq!(top, Some("n99"));
}

#[test]
fn tag_moving_group_is_a_destructive_replace() {
    let s = snap(&[
        ("g1", "G1", 20, &[("t1", "a", 2), ("t2", "b", 1)]),
        ("g2", "G2", 10, &[("t3", "c", 1)]),
    ]);
    let mut moved = tag("b");
    moved.id = Some("t2".into());
    let d = desired(
        Ownership::All,
        vec![
            group("G1", vec![tag("a")]),
            group("G2", vec![tag("c"), moved]),
        ],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 2, "{p:#?}");
    assert!(p.steps.iter().all(|s| s.destructive));
    assert!(
        matches!(&p.steps[0].kind, StepKind::AddTags { tags, .. } if tags[0].replaces.as_deref() == Some("t2"))
    );
    assert!(
        matches!(&p.steps[1].kind, StepKind::Delete { tags, .. } if tags[0].moved_to.as_deref() == Some("G2"))
    );
    assert!(p.steps[1].depends_on.contains(&0));
    assert!(find_tag(&out, "G2", "b").is_some_and(|t| t.id != "t2"));
}

#[test]
fn group_emptied_by_deletes_is_refilled_first() {
    let s = snap(&[("g", "G", 1, &[("t1", "old", 1)])]);
    let d = desired(Ownership::Ledger, vec![group("G", vec![tag("new")])]);
    let owned = ids(&["g", "t1"]);
    let (p, out) = converge(&d, &s, &owned);
    assert_eq!(p.calls(), 2);
    assert!(matches!(p.steps[0].kind, StepKind::AddTags { .. }));
    assert!(p.steps[1].depends_on.contains(&0));
    assert_eq!(out.groups[0].id, "g", "the group keeps its id");
}

#[test]
fn whole_unlisted_group_is_deleted_by_group_id() {
    let s = snap(&[
        ("g1", "Keep", 20, &[("t1", "a", 1)]),
        ("g2", "Gone", 10, &[("t2", "b", 2), ("t3", "c", 1)]),
    ]);
    let d = desired(Ownership::All, vec![group("Keep", vec![tag("a")])]);
    let (p, _) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1);
    match &p.steps[0].kind {
        StepKind::Delete { groups, tags } => {
            assert_eq!(groups.len(), 1);
            assert!(tags.is_empty());
        }
        other => panic!("expected delete, got {other:?}"),
    }
    assert_eq!(p.deleted_tag_count(), 2);
}

#[test]
fn gate_blocks_more_than_ten_deletes_unless_allowed() {
    let tags: Vec<(String, String, u32)> = (0..12)
        .map(|i| (format!("t{i}"), format!("n{i}"), 100 - i))
        .collect();
    let specs: Vec<(&str, &str, u32)> = tags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    let s = snap(&[("g", "G", 1, &specs), ("k", "K", 2, &[("x", "x", 1)])]);
    let d = desired(Ownership::All, vec![group("K", vec![tag("x")])]);
    let p = plan(&d, &s, &all(), &opts());
    assert!(p.blocked());
    let b = p.steps[0]
        .blocked
        .as_ref()
        .map(|b| (b.reason.clone(), b.fix.clone()));
    assert!(
        b.as_ref()
            .is_some_and(|(r, f)| r.contains("12") && f.contains("--allow-delete 12")),
        "{b:?}"
    );
    let allowed = PlanOptions {
        allow_delete: Some(12),
        ..opts()
    };
    assert!(!plan(&d, &s, &all(), &allowed).blocked());
    let too_few = PlanOptions {
        allow_delete: Some(11),
        ..opts()
    };
    let p = plan(&d, &s, &all(), &too_few);
    let b = p.steps[0].blocked.as_ref().map(|b| b.reason.clone());
    assert!(
        b.as_ref()
            .is_some_and(|r| r.contains("deletes or replaces 12 tags")
                && r.contains("`--allow-delete 11` allows only 11")),
        "{b:?}"
    );
}

#[test]
fn gate_blocks_over_a_quarter_of_owned_tags() {
    let tags: Vec<(String, String, u32)> = (0..20)
        .map(|i| (format!("t{i}"), format!("n{i}"), 100 - i))
        .collect();
    let specs: Vec<(&str, &str, u32)> = tags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    let s = snap(&[("g", "G", 1, &specs)]);
    let keep = |n: usize| {
        desired(
            Ownership::All,
            vec![group("G", (n..20).map(|i| tag(&format!("n{i}"))).collect())],
        )
    };
    assert!(
        !plan(&keep(5), &s, &all(), &opts()).blocked(),
        "5 of 20 is 25%: allowed"
    );
    let p = plan(&keep(6), &s, &all(), &opts());
    assert!(p.blocked());
    assert!(
        p.steps
            .iter()
            .any(|s| s.blocked.as_ref().is_some_and(|b| b.reason.contains("25%")))
    );
}

#[test]
fn foreign_tag_edit_is_blocked_with_a_hint() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 1)])]);
    let d = desired(Ownership::Ledger, vec![group("G", vec![renamed("B", "A")])]);
    let p = plan(&d, &s, &ids(&["g"]), &opts());
    assert_eq!(p.calls(), 1);
    let b = p.steps[0]
        .blocked
        .as_ref()
        .map(|b| b.fix.clone())
        .unwrap_or_default();
    assert!(
        b.contains("tagsync adopt t1") && b.contains("ownership: all"),
        "{b}"
    );
    assert!(matches!(
        simulate(&s, &p, &ids(&["g"])),
        Err(SimError::Blocked(0))
    ));
}

#[test]
fn foreign_unlisted_items_are_summarised_not_deleted() {
    let s = snap(&[
        ("g1", "Ours", 20, &[("t1", "a", 2), ("f1", "theirs", 1)]),
        ("g2", "Console", 10, &[("f2", "x", 2), ("f3", "y", 1)]),
    ]);
    let d = desired(Ownership::Ledger, vec![group("Ours", vec![tag("a")])]);
    let owned = ids(&["g1", "t1"]);
    let (p, _) = converge(&d, &s, &owned);
    assert!(p.is_empty());
    assert_eq!(p.unmanaged.groups, vec!["Console".to_string()]);
    assert_eq!(
        p.unmanaged.tags,
        vec![UnmanagedTag {
            group: "Ours".into(),
            name: "theirs".into()
        }]
    );
    assert_eq!(p.unmanaged.tag_count, 3);
}

#[test]
fn old_and_new_name_both_present_keeps_the_current_one() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 2), ("t2", "B", 1)])]);
    let d = desired(Ownership::All, vec![group("G", vec![renamed("B", "A")])]);
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1);
    assert!(
        p.steps[0].reason.contains("keeps that item"),
        "{}",
        p.steps[0].reason
    );
    assert_eq!(find_tag(&out, "G", "B").map(|t| t.id.as_str()), Some("t2"));
}

#[test]
fn unmanaged_group_missing_tag_is_blocked_and_never_edited() {
    let s = snap(&[("g", "RO", 1, &[("t1", "a", 1), ("t2", "b", 2)])]);
    let mut ro = group("RO", vec![tag("a"), tag("b"), tag("c")]);
    ro.managed = false;
    let d = desired(Ownership::All, vec![ro]);
    let p = plan(&d, &s, &all(), &opts());
    assert_eq!(p.calls(), 1, "no reorder in a read-only group: {p:#?}");
    assert!(matches!(p.steps[0].kind, StepKind::AddTags { .. }));
    assert!(
        p.steps[0]
            .blocked
            .as_ref()
            .is_some_and(|b| b.reason.contains("managed: false"))
    );
}

#[test]
fn delete_runs_first_when_it_frees_a_name() {
    let s = snap(&[
        ("g1", "X", 20, &[("t1", "a", 1)]),
        ("g2", "Y", 10, &[("t2", "b", 1)]),
    ]);
    let mut g = group("Y", vec![tag("a")]);
    g.id = Some("g1".into());
    let d = desired(Ownership::All, vec![g]);
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 2);
    assert!(matches!(p.steps[0].kind, StepKind::Delete { .. }));
    assert!(p.steps[1].depends_on.contains(&0));
    assert_eq!(out.groups[0].id, "g1");
}

#[test]
fn explicit_and_ignored_orders() {
    let s = snap(&[("g", "G", 5, &[("t1", "a", 1), ("t2", "b", 9)])]);
    let mut a = tag("a");
    a.order = Order::Value(7);
    let mut g = group("G", vec![a, tag("b")]);
    g.order = Order::Ignore;
    let (p, out) = converge(&desired(Ownership::All, vec![g]), &s, &all());
    assert_eq!(p.calls(), 1);
    assert_eq!(find_tag(&out, "G", "a").map(|t| t.order), Some(7));
    assert_eq!(find_tag(&out, "G", "b").map(|t| t.order), Some(9));
}

#[test]
fn a_new_group_above_an_ignored_one_is_placed_above_it() {
    // The file: A (ordered), New, B (order: ignore). New goes between A and B.
    let s = snap(&[
        ("ga", "A", 30, &[("t1", "a", 1)]),
        ("gb", "B", 20, &[("t2", "b", 1)]),
    ]);
    let mut b = group("B", vec![tag("b")]);
    b.order = Order::Ignore;
    let d = desired(
        Ownership::All,
        vec![group("A", vec![tag("a")]), group("New", vec![tag("n")]), b],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1, "{p:#?}");
    let new = out.groups.iter().find(|g| g.name == "New").map(|g| g.order);
    assert!(new.is_some_and(|o| 20 < o && o < 30), "{new:?}");
    // With no room between them, the new group goes below A as before.
    let tight = snap(&[
        ("ga", "A", 21, &[("t1", "a", 1)]),
        ("gb", "B", 20, &[("t2", "b", 1)]),
    ]);
    let (p, out) = converge(&d, &tight, &all());
    assert_eq!(p.calls(), 1, "{p:#?}");
    let new = out.groups.iter().find(|g| g.name == "New").map(|g| g.order);
    assert!(new.is_some_and(|o| o < 21), "{new:?}");
}

#[test]
fn new_group_with_tags_is_one_call_and_plan_round_trips_json() {
    let s = snap(&[("g", "G", 5, &[("t1", "a", 1)])]);
    let d = desired(
        Ownership::All,
        vec![
            group("New", vec![tag("x"), tag("y"), tag("z")]),
            group("G", vec![tag("a")]),
        ],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1);
    let new = out.groups.iter().find(|g| g.name == "New").map(|g| g.order);
    assert!(new.is_some_and(|o| o > 5));
    let json = serde_json::to_string(&p).unwrap_or_default();
    let back: Plan = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(back, p);
}

#[test]
fn export_plans_to_nothing() {
    let s = snap(&[
        ("g1", "Ours", 20, &[("t1", "a", 2), ("f1", "theirs", 2)]),
        ("g2", "Console", 20, &[("f2", "x", 2), ("f3", "y", 1)]),
    ]);
    let owned = ids(&["g1", "t1"]);
    let d = export(&s, &owned);
    assert!(
        !d.groups
            .iter()
            .find(|g| g.name == "Console")
            .is_some_and(|g| g.managed)
    );
    assert!(plan(&d, &s, &owned, &opts()).is_empty());
}

#[test]
fn shadowed_foreign_item_stays_with_a_note() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 2), ("t2", "B", 1)])]);
    let d = desired(Ownership::Ledger, vec![group("G", vec![renamed("B", "A")])]);
    let p = plan(&d, &s, &ids(&["g", "t2"]), &opts());
    assert!(p.is_empty());
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("`A`") && n.contains("does not own")),
        "{:?}",
        p.notes
    );
    assert_eq!(p.unmanaged.tags.len(), 1);
}

#[test]
fn delete_reason_is_capped_but_lists_every_item() {
    let tags: Vec<(String, String, u32)> = (0..8)
        .map(|i| (format!("t{i}"), format!("n{i}"), 100 - i))
        .collect();
    let specs: Vec<(&str, &str, u32)> = tags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    let s = snap(&[("g", "G", 1, &specs)]);
    let d = desired(Ownership::All, vec![group("G", vec![tag("n0")])]);
    let (p, _) = converge(&d, &s, &all());
    assert!(
        p.steps[0].reason.ends_with("and 2 more"),
        "{}",
        p.steps[0].reason
    );
    assert!(matches!(&p.steps[0].kind, StepKind::Delete { tags, .. } if tags.len() == 7));
}

#[test]
fn summary_counts_renames_adds_and_replaces() {
    let (s, d) = rename_and_move();
    let (p, _) = converge(&d, &s, &all());
    let sum = p.summary();
    assert_eq!(
        (sum.renames, sum.add_tags, sum.replaces, sum.delete_tags),
        (1, 1, 1, 1)
    );
}

#[test]
fn swap_interrupted_after_the_temporary_rename_resumes() {
    let s = snap(&[("g", "G", 1, &[("t1", "A", 20), ("t2", "B", 10)])]);
    let d = desired(
        Ownership::All,
        vec![group("G", vec![renamed("B", "A"), renamed("A", "B")])],
    );
    let p = plan(&d, &s, &all(), &opts());
    assert!(
        matches!(&p.steps[0].kind, StepKind::Edit { to_name: Some(n), .. } if n == "~~B"),
        "{p:#?}"
    );
    // Only the first step ran.
    let first = Plan {
        steps: p.steps[..1].to_vec(),
        ..Plan::default()
    };
    let half = simulate(&s, &first, &all()).unwrap_or_default();
    let h1 = PlanOptions {
        history: history_of(&first.steps),
        ..opts()
    };
    let p2 = plan(&d, &half, &all(), &h1);
    assert!(p2.deleted_tag_count() == 0 && p2.calls() == 2, "{p2:#?}");
    let out = simulate(&half, &p2, &all()).unwrap_or_default();
    let all_steps: Vec<Step> = first.steps.iter().chain(&p2.steps).cloned().collect();
    let h2 = PlanOptions {
        history: history_of(&all_steps),
        ..opts()
    };
    assert!(plan(&d, &out, &all(), &h2).is_empty());
    // Without the record, the applied swap is ambiguous and would be swapped back.
    assert_eq!(plan(&d, &out, &all(), &opts()).calls(), 3);
    assert_eq!(find_tag(&out, "G", "B").map(|t| t.id.as_str()), Some("t1"));
    assert_eq!(find_tag(&out, "G", "A").map(|t| t.id.as_str()), Some("t2"));
}

/// A process killed after a step's call committed and before the ledger recorded it:
/// for every crash point of a swap and of a cycle of three, with or without the record
/// of the last committed step, the next plan finishes without a delete and the plan
/// after that (with what was recorded) is empty: nothing is swapped back.
#[test]
fn rename_cycles_killed_at_any_step_with_its_record_lost_resume_and_stay_applied() {
    let swap = (
        snap(&[("g", "G", 1, &[("t1", "A", 20), ("t2", "B", 10)])]),
        desired(
            Ownership::All,
            vec![group("G", vec![renamed("B", "A"), renamed("A", "B")])],
        ),
    );
    let three = (
        snap(&[(
            "g",
            "G",
            1,
            &[("t1", "A", 30), ("t2", "B", 20), ("t3", "C", 10)],
        )]),
        desired(
            Ownership::All,
            vec![group(
                "G",
                vec![renamed("B", "A"), renamed("C", "B"), renamed("A", "C")],
            )],
        ),
    );
    for (s, d) in [swap, three] {
        let p = plan(&d, &s, &all(), &opts());
        for committed in 1..=p.steps.len() {
            for lost in [false, true] {
                let label = format!(
                    "{} of {} steps, record lost: {lost}",
                    committed,
                    p.steps.len()
                );
                let ran = Plan {
                    steps: p.steps[..committed].to_vec(),
                    ..Plan::default()
                };
                let state = simulate(&s, &ran, &all()).unwrap_or_else(|e| panic!("{label}: {e}"));
                let recorded = if lost {
                    &ran.steps[..committed - 1]
                } else {
                    &ran.steps[..]
                };
                let resumed = plan(
                    &d,
                    &state,
                    &all(),
                    &PlanOptions {
                        history: history_of(recorded),
                        ..opts()
                    },
                );
                assert_eq!(resumed.deleted_tag_count(), 0, "{label}: {resumed:#?}");
                let end =
                    simulate(&state, &resumed, &all()).unwrap_or_else(|e| panic!("{label}: {e}"));
                let all_recorded: Vec<Step> =
                    recorded.iter().chain(&resumed.steps).cloned().collect();
                let again = plan(
                    &d,
                    &end,
                    &all(),
                    &PlanOptions {
                        history: history_of(&all_recorded),
                        ..opts()
                    },
                );
                assert!(again.is_empty(), "{label}: swapped back: {again:#?}");
                for t in &d.groups[0].tags {
                    let want = &t.previously[0];
                    let id = find_tag(&s, "G", want).map(|t| t.id.clone());
                    let now = find_tag(&end, "G", &t.name).map(|t| t.id.clone());
                    assert_eq!(now, id, "{label}: {} is the item once named {want}", t.name);
                }
            }
        }
    }
}

#[test]
fn move_interrupted_after_the_add_resumes_by_deleting_the_old_tag() {
    let s = snap(&[
        ("g1", "G1", 20, &[("t1", "a", 2), ("t2", "b", 1)]),
        ("g2", "G2", 10, &[("t3", "c", 2), ("new", "b", 1)]),
    ]);
    let mut moved = tag("b");
    moved.id = Some("t2".into());
    let d = desired(
        Ownership::All,
        vec![
            group("G1", vec![tag("a")]),
            group("G2", vec![tag("c"), moved]),
        ],
    );
    let (p, out) = converge(&d, &s, &all());
    assert_eq!(p.calls(), 1, "only the delete is left: {p:#?}");
    assert!(
        p.steps[0].reason.contains("move half done"),
        "{}",
        p.steps[0].reason
    );
    assert_eq!(
        find_tag(&out, "G2", "b").map(|t| t.id.as_str()),
        Some("new")
    );
}

#[test]
fn explicit_group_order_and_read_only_rename_is_blocked() {
    let s = snap(&[
        ("g1", "G1", 5, &[("t1", "a", 1)]),
        ("g2", "Console", 9, &[("t2", "b", 1)]),
    ]);
    let mut g1 = group("G1", vec![tag("a")]);
    g1.order = Order::Value(42);
    let (p, out) = converge(
        &desired(Ownership::Ledger, vec![g1.clone()]),
        &s,
        &ids(&["g1", "t1"]),
    );
    assert_eq!(p.calls(), 1);
    assert_eq!(
        out.groups.iter().find(|g| g.id == "g1").map(|g| g.order),
        Some(42)
    );
    let mut ro = group("Renamed", vec![tag("b")]);
    ro.previously = vec!["Console".into()];
    ro.managed = false;
    let p = plan(&desired(Ownership::All, vec![g1, ro]), &s, &all(), &opts());
    let edit = p
        .steps
        .iter()
        .find(|s| matches!(&s.kind, StepKind::Edit { id, .. } if id == "g2"));
    assert!(
        edit.is_some_and(|s| s
            .blocked
            .as_ref()
            .is_some_and(|b| b.reason.contains("managed: false"))),
        "{p:#?}"
    );
}

#[test]
fn near_the_tag_limit_the_delete_runs_before_the_adds() {
    let s = snap(&[
        (
            "g1",
            "Old",
            1,
            &[("t1", "a", 1), ("t2", "b", 2), ("t3", "c", 3)],
        ),
        ("g2", "Keep", 2, &[("t4", "d", 1)]),
    ]);
    let d = desired(
        Ownership::All,
        vec![group("Keep", vec![tag("d"), tag("e"), tag("f")])],
    );
    let is_delete = |st: &Step| matches!(st.kind, StepKind::Delete { .. });
    // Room enough: the delete waits for everything else.
    let p = plan(&d, &s, &all(), &opts());
    let last = p.steps.last().expect("steps");
    assert!(is_delete(last) && !last.depends_on.is_empty(), "{p:#?}");
    // 4 tags + 2 added > 5: the delete goes first and the add waits for it.
    let tight = PlanOptions {
        tag_limit: 5,
        ..opts()
    };
    let p = plan(&d, &s, &all(), &tight);
    let del = p.steps.iter().position(is_delete).expect("a delete");
    assert!(p.steps[del].depends_on.is_empty(), "{p:#?}");
    assert!(
        p.steps[del].reason.contains("pass its 5 tag limit"),
        "{}",
        p.steps[del].reason
    );
    let add = p
        .steps
        .iter()
        .position(|st| matches!(st.kind, StepKind::AddTags { .. }))
        .expect("an add");
    assert!(p.steps[add].depends_on.contains(&del), "{p:#?}");
    assert_eq!(p.calls(), 3, "the same calls, in another order");
    assert!(
        p.notes.is_empty(),
        "it fits once the delete ran: {:?}",
        p.notes
    );
    simulate(&s, &p, &all()).expect("simulates");
    // Over the limit even after the delete: said in a note.
    let p = plan(
        &d,
        &s,
        &all(),
        &PlanOptions {
            tag_limit: 2,
            ..opts()
        },
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("would hold 3 tags after") && n.contains("40126")),
        "{:?}",
        p.notes
    );
}

#[test]
fn a_full_corp_replacing_a_whole_group_keeps_one_old_tag_until_the_new_ones_are_in() {
    // 10 tags, limit 10: group A loses one tag, and group B's two tags give way to two
    // new ones.
    let others: Vec<(String, String, u32)> = (0..8)
        .map(|i| (format!("a{i}"), format!("A{i}"), 100 - i))
        .collect();
    let others: Vec<(&str, &str, u32)> = others
        .iter()
        .map(|(id, n, o)| (id.as_str(), n.as_str(), *o))
        .collect();
    let s = snap(&[
        ("ga", "A", 2, &others),
        ("gb", "B", 1, &[("b1", "b1", 2), ("b2", "b2", 1)]),
    ]);
    let a_tags = (0..7).map(|i| tag(&format!("A{i}"))).collect();
    let d = desired(
        Ownership::All,
        vec![group("A", a_tags), group("B", vec![tag("b3"), tag("b4")])],
    );
    let full = PlanOptions {
        tag_limit: 10,
        ..opts()
    };
    let p = plan(&d, &s, &all(), &full);
    assert!(only_rename_hints(&p.notes), "{:?}", p.notes);
    let deletes: Vec<&Step> = p
        .steps
        .iter()
        .filter(|st| matches!(st.kind, StepKind::Delete { .. }))
        .collect();
    assert_eq!(deletes.len(), 2, "{p:#?}");
    let add = p
        .steps
        .iter()
        .find(|st| matches!(st.kind, StepKind::AddTags { .. }))
        .expect("an add");
    assert!(add.depends_on.contains(&deletes[0].id), "{p:#?}");
    assert!(deletes[1].depends_on.contains(&add.id), "{p:#?}");
    assert!(
        deletes[1]
            .reason
            .contains("so the server does not remove the group")
    );
    let StepKind::Delete { tags: kept, .. } = &deletes[1].kind else {
        unreachable!()
    };
    let own = format!("tag `{}` in group `B`:", kept[0].name);
    assert!(!deletes[0].reason.contains(&own), "{}", deletes[0].reason);
    assert!(
        deletes[0].reason.contains("keeps `"),
        "{}",
        deletes[0].reason
    );
    // Counted step by step: never more than 10 tags; and B keeps its id.
    let mut count = s.tag_count();
    for st in &p.steps {
        match &st.kind {
            StepKind::AddTags { tags, .. } => count += tags.len(),
            StepKind::Delete { tags, groups } => {
                count -= tags.len() + groups.iter().map(|g| g.tags.len()).sum::<usize>()
            }
            _ => {}
        }
        assert!(count <= 10, "{count} tags after step {}: {p:#?}", st.id);
    }
    let out = simulate(&s, &p, &all()).expect("simulates");
    let b = out
        .groups
        .iter()
        .find(|g| g.name == "B")
        .map(|g| g.id.as_str());
    assert_eq!(b, Some("gb"));

    // Without A's tag to delete there is no room for both new tags: one delete, after
    // the add (so B never vanishes), and a note that says what to do.
    let a_all = (0..8).map(|i| tag(&format!("A{i}"))).collect();
    let d = desired(
        Ownership::All,
        vec![group("A", a_all), group("B", vec![tag("b3"), tag("b4")])],
    );
    let p = plan(&d, &s, &all(), &full);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("would reach 11 tags") && n.contains("Add fewer new tags")),
        "{:?}",
        p.notes
    );
    // With one new tag, it fits: the keeper makes room for it.
    let d = desired(
        Ownership::All,
        vec![
            group("A", (0..8).map(|i| tag(&format!("A{i}"))).collect()),
            group("B", vec![tag("b3")]),
        ],
    );
    let p = plan(&d, &s, &all(), &full);
    assert!(only_rename_hints(&p.notes), "{:?}", p.notes);
    assert_eq!(p.calls(), 3, "{p:#?}");
}

#[test]
fn a_full_corp_never_keeps_an_old_tag_whose_name_an_add_needs() {
    // X moves from A to B (pinned by id) and a new X is made in A; C loses C2. The old X
    // is A's only tag: it cannot be A's keeper, since the new X needs its name.
    let s = snap(&[
        ("ga", "A", 3, &[("x1", "X", 1)]),
        ("gb", "B", 2, &[("b1", "b", 1)]),
        ("gc", "C", 1, &[("c1", "C1", 2), ("c2", "C2", 1)]),
    ]);
    let mut moved = tag("X");
    moved.id = Some("x1".into());
    let d = desired(
        Ownership::All,
        vec![
            group("A", vec![tag("X")]),
            group("B", vec![tag("b"), moved]),
            group("C", vec![tag("C1")]),
        ],
    );
    for limit in [4, 5, 10_000] {
        let p = plan(
            &d,
            &s,
            &all(),
            &PlanOptions {
                tag_limit: limit,
                allow_delete: Some(10),
                ..opts()
            },
        );
        let deletes = p
            .steps
            .iter()
            .filter(|st| matches!(st.kind, StepKind::Delete { .. }))
            .count();
        assert_eq!(deletes, 1, "limit {limit}: {p:#?}");
        if !p.blocked() {
            simulate(&s, &p, &all()).unwrap_or_else(|e| panic!("limit {limit}: {e}\n{p:#?}"));
        }
    }
}

/// The most tags the corp holds while `p`'s steps run one by one in plan order.
fn peak_in_order(s: &Snapshot, p: &Plan) -> usize {
    let mut count = s.tag_count();
    let mut peak = count;
    for st in &p.steps {
        match &st.kind {
            StepKind::AddTags { tags, .. } | StepKind::AddGroup { tags, .. } => count += tags.len(),
            StepKind::Delete { tags, groups } => {
                count -= tags.len() + groups.iter().map(|g| g.tags.len()).sum::<usize>()
            }
            StepKind::Edit { .. } => {}
        }
        peak = peak.max(count);
    }
    peak
}

#[test]
fn a_full_corp_orders_adds_around_keepers_to_stay_within_the_limit() {
    let full = PlanOptions {
        tag_limit: 4,
        allow_delete: Some(10),
        ..opts()
    };
    // Both groups lose every tag and get one new one; a new group comes too. The new
    // group waits for the second delete.
    let s = snap(&[
        ("ga", "A", 2, &[("a1", "A1", 2), ("a2", "A2", 1)]),
        ("gb", "B", 1, &[("b1", "B1", 2), ("b2", "B2", 1)]),
    ]);
    let d = desired(
        Ownership::All,
        vec![
            group("A", vec![tag("N1")]),
            group("B", vec![tag("M1")]),
            group("G", vec![tag("G1")]),
        ],
    );
    let p = plan(&d, &s, &all(), &full);
    assert!(only_rename_hints(&p.notes), "{:?}\n{p:#?}", p.notes);
    assert!(peak_in_order(&s, &p) <= 4, "{p:#?}");
    let new_group = p
        .steps
        .iter()
        .find(|st| matches!(st.kind, StepKind::AddGroup { .. }))
        .expect("the new group");
    let second = p
        .steps
        .iter()
        .filter(|st| matches!(st.kind, StepKind::Delete { .. }))
        .nth(1)
        .expect("a second delete");
    assert!(new_group.depends_on.contains(&second.id), "{p:#?}");
    simulate(&s, &p, &all()).expect("simulates");

    // B's only tag moves to A, so B has no keeper: its add runs before the first delete;
    // A keeps one old tag.
    let s = snap(&[
        ("ga", "A", 2, &[("a1", "A1", 2), ("a2", "A2", 1)]),
        ("gb", "B", 1, &[("x", "X", 1)]),
    ]);
    let mut moved = tag("X");
    moved.id = Some("x".into());
    let d = desired(
        Ownership::All,
        vec![
            group("A", vec![moved, tag("N1")]),
            group("B", vec![tag("Y")]),
        ],
    );
    let p = plan(&d, &s, &all(), &full);
    assert!(only_rename_hints(&p.notes), "{:?}\n{p:#?}", p.notes);
    assert!(peak_in_order(&s, &p) <= 4, "{p:#?}");
    simulate(&s, &p, &all()).expect("simulates");
}

#[test]
fn under_ownership_all_a_delete_of_what_others_made_says_why_it_may_go() {
    let s = snap(&[("g1", "G", 1, &[("t1", "ours", 2), ("t2", "theirs", 1)])]);
    let d = desired(Ownership::All, vec![group("G", vec![tag("keep")])]);
    // The ledger knows t1 only; `ownership: all` lets this app delete t2 too.
    let ledger = Owned::Ids(["t1".to_string()].into());
    let p = plan(&d, &s, &ledger, &opts());
    let del = p
        .steps
        .iter()
        .find(|s| matches!(s.kind, StepKind::Delete { .. }))
        .expect("a delete");
    assert!(
        del.reason
            .contains("`ours` in group `G`: not in the file; tagsync created it"),
        "{}",
        del.reason
    );
    assert!(
        del.reason.contains(
            "`theirs` in group `G`: not in the file; `ownership: all` lets this app delete it"
        ),
        "{}",
        del.reason
    );
}
