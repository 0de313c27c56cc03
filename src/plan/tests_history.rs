//! Identity from the ledger's rename history: interrupted cycles resumed however their
//! temporary name was chosen, reverted renames renamed back, and `previously` entries a
//! past swap carried out not mistaken for a rename to accept.

use super::testutil::*;
use super::*;
use crate::desired::model::Ownership;

/// A plan with this history and these bindings, tagsync owning `owned`.
fn plan_remembering(
    d: &crate::desired::model::Desired,
    s: &crate::snapshot::Snapshot,
    owned: &[&str],
    history: &[(&str, &str, &str)],
    bindings: &[(&str, &str)],
) -> Plan {
    let mut h = History::default();
    for (id, from, to) in history {
        h.record(id, from, to);
    }
    let options = PlanOptions {
        history: h,
        bindings: bindings
            .iter()
            .map(|(id, name)| (id.to_string(), Binding::group(*name, None)))
            .collect(),
        ..PlanOptions::default()
    };
    plan(d, s, &owns(owned), &options)
}

/// `(id, from, to)` of each rename, and whether anything is added or deleted.
fn renames(p: &Plan) -> Vec<(String, String, String)> {
    p.steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Edit {
                id,
                from_name,
                to_name: Some(to),
                ..
            } => Some((id.clone(), from_name.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

fn adds_or_deletes(p: &Plan) -> bool {
    p.steps
        .iter()
        .any(|s| !matches!(s.kind, StepKind::Edit { .. }))
}

/// Group `G` with `A` and `B` swapping names.
fn swap_a_b() -> crate::desired::model::Desired {
    desired(
        Ownership::Ledger,
        vec![group("G", vec![renamed("B", "A"), renamed("A", "B")])],
    )
}

fn r(id: &str, from: &str, to: &str) -> (String, String, String) {
    (id.into(), from.into(), to.into())
}

#[test]
fn a_swap_interrupted_and_then_reverted_renames_the_temporary_item_back() {
    // The swap A <-> B ran its first half (t1: A → ~~B) and stopped; the file went back.
    let s = snap(&[("g", "G", 1, &[("t1", "~~B", 20), ("t2", "B", 10)])]);
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![tag("A"), tag("B")])],
    );
    let p = plan_remembering(
        &d,
        &s,
        &["g", "t1", "t2"],
        &[("t1", "A", "~~B")],
        &[("t1", "~~B"), ("t2", "B")],
    );
    assert_eq!(renames(&p), vec![r("t1", "~~B", "A")], "{p:#?}");
    assert!(!adds_or_deletes(&p), "{p:#?}");
    assert!(
        p.notes.iter().any(|n| n
            == "tag `~~B` in group `G` was renamed by tagsync from `A`, the name the file gives again: it is renamed back (same id, its customers kept), not deleted and made anew"),
        "{:#?}",
        p.notes
    );
}

#[test]
fn a_group_swap_interrupted_and_then_reverted_keeps_both_groups() {
    let s = snap(&[
        ("g1", "~~Y", 20, &[("t1", "a", 1)]),
        ("g2", "Y", 10, &[("t2", "b", 1)]),
    ]);
    let d = desired(
        Ownership::Ledger,
        vec![group("X", vec![tag("a")]), group("Y", vec![tag("b")])],
    );
    let p = plan_remembering(
        &d,
        &s,
        &["g1", "g2", "t1", "t2"],
        &[("g1", "X", "~~Y")],
        &[],
    );
    assert_eq!(renames(&p), vec![r("g1", "~~Y", "X")], "{p:#?}");
    assert!(!adds_or_deletes(&p), "{p:#?}");
}

#[test]
fn a_cycle_through_a_fallback_temporary_name_resumes() {
    // `~~B` was taken, so the first half went to `~~tagsync-1`; no name says where it
    // was going, the history does.
    let s = snap(&[(
        "g",
        "G",
        1,
        &[
            ("t0", "~~B", 30),
            ("t1", "~~tagsync-1", 20),
            ("t2", "B", 10),
        ],
    )]);
    let d = desired(
        Ownership::Ledger,
        vec![group(
            "G",
            vec![tag("~~B"), renamed("B", "A"), renamed("A", "B")],
        )],
    );
    let p = plan_remembering(
        &d,
        &s,
        &["g", "t0", "t1", "t2"],
        &[("t1", "A", "~~tagsync-1")],
        &[],
    );
    assert!(!adds_or_deletes(&p), "{p:#?}");
    let mut got = renames(&p);
    got.sort();
    assert_eq!(
        got,
        vec![r("t1", "~~tagsync-1", "B"), r("t2", "B", "A")],
        "{p:#?}"
    );
}

#[test]
fn a_reverted_rename_is_a_rename_back_even_past_several_renames() {
    let s = snap(&[("g", "G", 1, &[("t1", "C", 10)])]);
    let history = [("t1", "A", "B"), ("t1", "B", "C")];
    for back_to in ["A", "B"] {
        let d = desired(Ownership::Ledger, vec![group("G", vec![tag(back_to)])]);
        let p = plan_remembering(&d, &s, &["g", "t1"], &history, &[("t1", "C")]);
        assert_eq!(renames(&p), vec![r("t1", "C", back_to)], "{p:#?}");
        assert!(!adds_or_deletes(&p), "{p:#?}");
    }
    // A new item of the old name beside the renamed one is an add.
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![tag("C"), tag("A")])],
    );
    let p = plan_remembering(&d, &s, &["g", "t1"], &history, &[("t1", "C")]);
    assert!(renames(&p).is_empty(), "{p:#?}");
    assert_eq!(p.summary().add_tags, 1, "{p:#?}");
}

#[test]
fn a_console_swap_back_under_a_carried_out_swap_is_drift_put_back() {
    // The file swapped A and B and tagsync applied it; then both names were swapped back
    // in the console. The file's `previously` entries are the spent swap's.
    let s = snap(&[("g", "G", 1, &[("t1", "A", 20), ("t2", "B", 10)])]);
    let d = swap_a_b();
    let p = plan_remembering(
        &d,
        &s,
        &["g", "t1", "t2"],
        &[("t1", "A", "~~B"), ("t1", "~~B", "B"), ("t2", "B", "A")],
        &[("t1", "B"), ("t2", "A")],
    );
    assert!(!adds_or_deletes(&p), "{p:#?}");
    let ids: Vec<String> = renames(&p).into_iter().map(|(id, ..)| id).collect();
    assert!(
        ids.contains(&"t1".to_string()) && ids.contains(&"t2".into()),
        "{p:#?}"
    );
    assert!(p.steps.iter().any(|s| s.drift), "drift is marked: {p:#?}");
    // Once put back, planning again changes nothing.
    let back = snap(&[("g", "G", 1, &[("t1", "B", 20), ("t2", "A", 10)])]);
    let p = plan_remembering(
        &d,
        &back,
        &["g", "t1", "t2"],
        &[("t1", "A", "B"), ("t2", "B", "A")],
        &[("t1", "B"), ("t2", "A")],
    );
    assert!(renames(&p).is_empty() && !adds_or_deletes(&p), "{p:#?}");
}

#[test]
fn history_keeps_the_names_between_and_forgets_them_on_return() {
    let mut h = History::default();
    h.record("t", "A", "~~B");
    h.record("t", "~~B", "B");
    h.record("t", "B", "C");
    let rec = &h.renamed["t"];
    assert_eq!((rec.from.as_str(), rec.to.as_str()), ("A", "C"));
    assert_eq!(rec.via, vec!["~~B".to_string(), "B".to_string()]);
    assert!(rec.was("B") && rec.was("A") && !rec.was("C"));
    assert!(h.carried_out("A", "C", "other") && !h.carried_out("A", "C", "t"));
    h.record("t", "C", "A");
    assert!(h.renamed["t"].via.is_empty());
    for i in 0..20 {
        h.record("u", &format!("n{i}"), &format!("n{}", i + 1));
    }
    assert_eq!(h.renamed["u"].via.len(), History::VIA_KEPT);
    assert_eq!(h.renamed["u"].via.last().map(String::as_str), Some("n19"));
}

#[test]
fn previously_naming_a_tag_of_another_group_blocks_its_delete() {
    let s = snap(&[
        ("g1", "渠道", 20, &[("t1", "官网", 2), ("t2", "小程序", 1)]),
        ("g2", "等级", 10, &[("t3", "A", 1)]),
    ]);
    let owned = ["g1", "g2", "t1", "t2", "t3"];
    let d = desired(
        Ownership::Ledger,
        vec![
            group("渠道", vec![tag("官网")]),
            group("等级", vec![tag("A"), renamed("微信小程序", "小程序")]),
        ],
    );
    let p = plan_remembering(&d, &s, &owned, &[], &[]);
    assert!(p.blocked(), "{p:#?}");
    let delete = p
        .steps
        .iter()
        .find(|s| matches!(s.kind, StepKind::Delete { .. }))
        .expect("a delete");
    let blocked = delete.blocked.as_ref().expect("the delete is blocked");
    assert!(
        blocked
            .reason
            .contains("but `小程序` is in group `渠道`: WeCom cannot move a tag"),
        "{blocked:?}"
    );
    assert!(
        !p.notes.iter().any(|n| n.contains("matches nothing")),
        "no false 'matches nothing': {:#?}",
        p.notes
    );
    // The tag stays listed in its group: nothing is deleted, the entry is only noted.
    let d = desired(
        Ownership::Ledger,
        vec![
            group("渠道", vec![tag("官网"), tag("小程序")]),
            group("等级", vec![tag("A"), renamed("微信小程序", "小程序")]),
        ],
    );
    let p = plan_remembering(&d, &s, &owned, &[], &[]);
    assert!(!p.blocked(), "{p:#?}");
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("names a tag of group `渠道`; a tag cannot move")),
        "{:#?}",
        p.notes
    );
}

#[test]
fn a_name_left_by_two_items_points_back_to_the_last_one_only() {
    // X left `A` (A → B); a new `A` was made and left it too (Y: A → C).
    let s = snap(&[(
        "g",
        "G",
        1,
        &[("x", "B", 30), ("y", "C", 20), ("z", "Z", 10)],
    )]);
    let owned = ["g", "x", "y", "z"];
    let history = [("x", "A", "B"), ("y", "A", "C")];
    let bound = [("x", "B"), ("y", "C"), ("z", "Z")];
    // The last pull request reverted, B dropped: C goes back to A.
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![tag("A"), tag("Z")])],
    );
    let p = plan_remembering(&d, &s, &owned, &history, &bound);
    assert_eq!(renames(&p), vec![r("y", "C", "A")], "{p:#?}");
    assert_eq!(p.summary().delete_tags, 1, "B goes: {p:#?}");
    // B dropped, C kept, a new A: the name A was reused after X left it, so it does not
    // point back to X; names decide.
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![tag("A"), tag("C"), tag("Z")])],
    );
    let p = plan_remembering(&d, &s, &owned, &history, &bound);
    assert!(renames(&p).is_empty(), "{p:#?}");
    assert_eq!(p.summary().add_tags, 1, "{p:#?}");
    // Two that cannot be told apart (a ledger from before `seq`): no guess.
    let mut h = History::default();
    h.record("x", "A", "B");
    h.record("y", "A", "C");
    for r in h.renamed.values_mut() {
        r.seq = 0;
    }
    let options = PlanOptions {
        history: h,
        ..PlanOptions::default()
    };
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![tag("A"), tag("Z")])],
    );
    let p = plan(&d, &s, &owns(&owned), &options);
    assert!(renames(&p).is_empty(), "{p:#?}");
}

#[test]
fn previously_across_groups_blocks_when_the_target_is_new_or_the_source_goes_whole() {
    let s = snap(&[("g1", "H", 20, &[("h", "h", 2), ("m", "m", 1)])]);
    let owned = ["g1", "h", "m"];
    let blocked_delete = |p: &Plan| {
        p.steps.iter().any(|s| {
            matches!(s.kind, StepKind::Delete { .. })
                && s.blocked
                    .as_ref()
                    .is_some_and(|b| b.reason.contains("but `m` is in group `H`"))
        })
    };
    // a) into a new group.
    let d = desired(
        Ownership::Ledger,
        vec![
            group("H", vec![tag("h")]),
            group("N", vec![renamed("mm", "m")]),
        ],
    );
    let p = plan_remembering(&d, &s, &owned, &[], &[]);
    assert!(blocked_delete(&p), "{p:#?}");
    // b) its group left out of the file whole.
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![renamed("mm", "m")])],
    );
    let p = plan_remembering(&d, &s, &owned, &[], &[]);
    assert!(blocked_delete(&p), "{p:#?}");
}

#[test]
fn a_swap_whose_last_record_was_lost_with_bindings_kept_is_done() {
    // B listed first: `a` went A → ~~B (recorded, bound ~~B), `b` B → A (recorded),
    // `a` ~~B → B ran but its record was lost to a kill.
    let s = snap(&[("g", "G", 1, &[("a", "B", 20), ("b", "A", 10)])]);
    let d = swap_a_b();
    let p = plan_remembering(
        &d,
        &s,
        &["g", "a", "b"],
        &[("a", "A", "~~B"), ("b", "B", "A")],
        &[("a", "~~B"), ("b", "A")],
    );
    assert!(renames(&p).is_empty() && !adds_or_deletes(&p), "{p:#?}");
}

#[test]
fn a_name_held_now_by_another_item_is_not_taken_back() {
    // `r` was renamed A → B by tagsync; since, an admin made another `A`.
    let s = snap(&[("g", "G", 1, &[("r", "B", 20), ("x", "A", 10)])]);
    let d = desired(Ownership::Ledger, vec![group("G", vec![tag("A")])]);
    let p = plan_remembering(&d, &s, &["g", "r"], &[("r", "A", "B")], &[("r", "B")]);
    assert!(renames(&p).is_empty(), "the holder of `A` keeps it: {p:#?}");
    // A swap stopped after its first half, then a file keeping `B` where it is: the
    // temporary item is not handed `B` (its holder stays), it goes back to `A`.
    let s = snap(&[("g", "G", 1, &[("a", "~~B", 20), ("b", "B", 10)])]);
    let d = desired(
        Ownership::Ledger,
        vec![group("G", vec![renamed("B", "A"), tag("A")])],
    );
    let p = plan_remembering(
        &d,
        &s,
        &["g", "a", "b"],
        &[("a", "A", "~~B")],
        &[("a", "~~B"), ("b", "B")],
    );
    assert_eq!(renames(&p), vec![r("a", "~~B", "A")], "{p:#?}");
    assert!(!adds_or_deletes(&p), "{p:#?}");
}

#[test]
fn previously_naming_a_tag_that_two_other_groups_hold_blocks_the_one_deleted() {
    let s = snap(&[
        ("g1", "K", 30, &[("k1", "m", 1), ("k2", "k", 2)]),
        ("g2", "H", 20, &[("h1", "h", 2), ("m1", "m", 1)]),
    ]);
    // K keeps its `m`; H's `m` is dropped while a new group claims `m` as an old name.
    let d = desired(
        Ownership::Ledger,
        vec![
            group("K", vec![tag("m"), tag("k")]),
            group("H", vec![tag("h")]),
            group("N", vec![renamed("mm", "m")]),
        ],
    );
    let p = plan_remembering(&d, &s, &["g1", "g2", "k1", "k2", "h1", "m1"], &[], &[]);
    assert!(p.blocked(), "{p:#?}");
}
