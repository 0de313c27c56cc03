//! Unit tests of the pieces that need no server: pending claims, effect checks, the
//! report's exit codes and text, saved-plan freshness messages.

use std::path::Path;
use std::sync::Arc;

use super::saved::{SavedPlan, check_fresh};
use super::send::effect_missing;
use super::*;
use crate::desired::{DesiredGroup, DesiredTag};
use crate::ledger::PendingAdd;
use crate::plan::testutil::snap;
use crate::plan::{self, DeletedTag, Owned, StepKind, Target};
use crate::remote::RemoteGroup;

fn pending(step: usize, group_id: Option<&str>, group: &str, names: &[&str]) -> PendingAdd {
    PendingAdd {
        step,
        group_id: group_id.map(String::from),
        group_name: group.into(),
        names: names.iter().map(|n| n.to_string()).collect(),
        strategy_id: None,
    }
}

#[test]
fn pending_adds_are_claimed_only_where_they_landed() {
    let remote = snap(&[
        ("g1", "新组", 1, &[("t1", "a", 0), ("t2", "b", 0)]),
        ("g2", "旧组", 1, &[("t3", "c", 0), ("t4", "d", 0)]),
        ("g3", "别组", 1, &[("t5", "c", 0)]),
    ]);
    let mut ledger = Ledger::new("ww");
    ledger.pending = vec![
        pending(0, None, "新组", &["a", "b"]),
        pending(1, Some("g2"), "旧组", &["c", "x"]),
        pending(2, None, "从未创建", &["z"]),
    ];
    assert_eq!(claim_pending(&mut ledger, &remote), 4);
    let owned: Vec<&str> = ledger.owned.iter().map(String::as_str).collect();
    assert_eq!(
        owned,
        ["g1", "t1", "t2", "t3"],
        "not g2, t4, nor t5 of another group"
    );
    assert!(ledger.pending.is_empty());
}

#[test]
fn a_pending_new_group_found_holding_others_tags_is_not_claimed() {
    // Another app made `新组` between the read and the add; WeCom put `a` into it.
    let remote = snap(&[("g9", "新组", 1, &[("f1", "theirs", 0), ("t1", "a", 0)])]);
    let mut ledger = Ledger::new("ww");
    ledger.pending = vec![pending(0, None, "新组", &["a"])];
    assert_eq!(claim_pending(&mut ledger, &remote), 1);
    let owned: Vec<&str> = ledger.owned.iter().map(String::as_str).collect();
    assert_eq!(owned, ["t1"], "the tag made, not their group");
}

fn edit(target: Target, id: &str, to_name: Option<&str>, to_order: Option<u32>) -> StepKind {
    StepKind::Edit {
        id: id.into(),
        target,
        group: "g".into(),
        from_name: "old".into(),
        to_name: to_name.map(String::from),
        from_order: 0,
        to_order,
    }
}

#[test]
fn an_effect_is_checked_against_a_reread() {
    let remote = snap(&[("g1", "G", 5, &[("t1", "new", 7)])]);
    assert_eq!(
        effect_missing(&edit(Target::Tag, "t1", Some("new"), Some(7)), &remote),
        None
    );
    assert_eq!(
        effect_missing(&edit(Target::Group, "g1", Some("G"), None), &remote),
        None
    );
    let wrong = effect_missing(&edit(Target::Tag, "t1", Some("other"), None), &remote);
    assert!(wrong.is_some_and(|w| w.contains("\"new\"")));
    let order = effect_missing(&edit(Target::Tag, "t1", None, Some(3)), &remote);
    assert!(order.is_some_and(|w| w.contains("order 7")));
    let gone = effect_missing(&edit(Target::Tag, "t9", None, Some(3)), &remote);
    assert!(gone.is_some_and(|w| w.contains("no longer exists")));
    let del = |id: &str| StepKind::Delete {
        groups: Vec::new(),
        tags: vec![DeletedTag {
            id: id.into(),
            name: "n".into(),
            group: "G".into(),
            moved_to: None,
        }],
    };
    assert_eq!(effect_missing(&del("t9"), &remote), None);
    assert!(effect_missing(&del("t1"), &remote).is_some_and(|w| w.contains("t1")));
}

fn outcome(id: usize, status: StepStatus) -> StepOutcome {
    StepOutcome {
        step_id: id,
        status,
    }
}

fn report(steps: Vec<StepOutcome>, verify: Option<VerifyResult>) -> ApplyReport {
    ApplyReport {
        refused: false,
        counts: Counts::of(&steps),
        steps,
        error: None,
        verify,
        made_groups: Vec::new(),
    }
}

#[test]
fn exit_codes_and_summary() {
    let applied = || outcome(0, StepStatus::Applied { note: None });
    assert_eq!(report(vec![], None).exit_code(), 0);
    let ok = report(vec![applied()], Some(VerifyResult::Converged));
    assert_eq!(ok.exit_code(), 0);
    assert_eq!(
        ok.to_string(),
        "1 applied, 0 failed, 0 not attempted; verified: the corp equals the file"
    );
    let left = VerifyResult::Remaining {
        steps: vec!["rename \u{1b}[31mx".into()],
    };
    let drift = report(vec![applied()], Some(left));
    assert_eq!(drift.exit_code(), 4);
    assert!(!drift.to_string().contains('\u{1b}'), "sanitised");
    let failed = report(
        vec![
            outcome(
                0,
                StepStatus::Failed(Failure {
                    errcode: Some(40126),
                    errmsg: "tag count exceed".into(),
                    hint: "delete unused tags".into(),
                    kind: "limit".into(),
                    call: None,
                }),
            ),
            outcome(
                1,
                StepStatus::NotAttempted {
                    reason: "step 0 it depends on was not applied".into(),
                },
            ),
        ],
        None,
    );
    assert_eq!(failed.exit_code(), 4);
    let text = failed.to_string();
    assert!(
        text.contains("step 0: failed (errcode 40126): tag count exceed; delete unused tags"),
        "{text}"
    );
    assert!(
        text.ends_with("0 applied, 1 failed, 1 not attempted"),
        "{text}"
    );
    let mut refused = report(vec![], None);
    refused.refused = true;
    assert_eq!(refused.exit_code(), 3);
    let mut broken = report(vec![applied()], None);
    broken.error = Some("disk full".into());
    assert_eq!(broken.exit_code(), 1);
    let json = serde_json::to_value(&failed).expect("json");
    assert_eq!(json["steps"][0]["status"], "failed");
    assert_eq!(json["steps"][0]["errcode"], 40126);
    assert_eq!(json["steps"][1]["status"], "not_attempted");
}

#[tokio::test]
async fn a_blocked_plan_is_refused_without_a_client_call() {
    // The client points at a port nothing listens on: any call would fail.
    let config = crate::remote::ClientConfig::new(
        "http://127.0.0.1:9/cgi-bin/",
        crate::remote::Credentials::Corp {
            corp_id: "ww".into(),
            secret: crate::remote::Secret::new("s"),
        },
    )
    .expect("config");
    let client = Client::new(config).expect("client");
    let remote = snap(&[("g1", "G", 5, &[("t1", "x", 7)])]);
    // A rename of a foreign tag: blocked.
    let mut t = DesiredTag::named("y");
    t.previously = vec!["x".into()];
    let d = crate::desired::Desired {
        version: 1,
        ownership: Default::default(),
        groups: vec![DesiredGroup::named("G", vec![t])],
        strategies: None,
    };
    let p = plan::plan(&d, &remote, &Owned::default(), &Default::default());
    assert!(p.blocked());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.json");
    let mut ledger = Ledger::new("ww");
    let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = ticks.clone();
    let opts = ApplyOptions {
        progress: Some(Arc::new(move |_: &StepOutcome| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })),
        ..ApplyOptions::default()
    };
    let r = execute(&p, &client, &mut ledger, Some(&path), &opts).await;
    assert!(r.refused && r.exit_code() == 3);
    assert_eq!(client.stats().tag_calls(), 0);
    assert!(!path.exists(), "nothing written either");
    assert_eq!(
        ticks.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no step reported"
    );
    match &r.steps[0].status {
        StepStatus::NotAttempted { reason } => assert!(reason.starts_with("blocked: "), "{reason}"),
        other => panic!("{other:?}"),
    }

    // Unsettled adds of an interrupted run: nothing is sent either.
    let d = crate::desired::Desired {
        groups: vec![DesiredGroup::named("G", vec![DesiredTag::named("x")])],
        ..d
    };
    let p = plan::plan(
        &d,
        &Snapshot::default(),
        &Owned::default(),
        &Default::default(),
    );
    assert!(!p.is_empty() && !p.blocked());
    ledger.pending = vec![pending(0, None, "G", &["x"])];
    let r = execute(&p, &client, &mut ledger, Some(&path), &opts).await;
    assert_eq!(r.exit_code(), 1);
    assert!(r.to_string().contains("interrupted run"), "{r}");
    assert_eq!(client.stats().tag_calls(), 0);
}

fn saved_for(remote: &Snapshot, groups: Vec<DesiredGroup>) -> SavedPlan {
    let d = crate::desired::Desired {
        version: 1,
        ownership: crate::desired::Ownership::All,
        groups,
        strategies: None,
    };
    let p = plan::plan(&d, remote, &Owned::All, &Default::default());
    assert!(!p.is_empty());
    SavedPlan::new(p, "ww", Path::new("tags.yaml"), b"file", remote)
}

#[test]
fn freshness_names_each_change() {
    let remote = snap(&[
        ("g1", "甲", 20, &[("t1", "a", 2), ("t2", "b", 1)]),
        ("g2", "乙", 10, &[("t3", "c", 0)]),
        ("g3", "丙", 5, &[("t4", "d", 0)]),
    ]);
    let tags = |names: &[&str]| names.iter().map(|n| DesiredTag::named(*n)).collect();
    let saved = saved_for(
        &remote,
        vec![
            DesiredGroup::named("甲", tags(&["a", "b", "new"])),
            DesiredGroup::named("乙", tags(&["c"])),
            DesiredGroup::named("丙", tags(&["d"])),
            DesiredGroup::named("丁", tags(&["e"])),
        ],
    );
    assert_eq!(check_fresh(&saved, "ww", b"file", &remote), Ok(()));
    // Unchanged by a change in an untouched group.
    let mut other = remote.clone();
    other.groups[2].tags[0].name = "dd".into();
    assert_eq!(check_fresh(&saved, "ww", b"file", &other), Ok(()));

    let mut moved = remote.clone();
    let t2 = moved.groups[0].tags.remove(1);
    moved.groups[1].tags.push(t2);
    moved.groups[0].order = 21;
    moved.groups[0].tags[0].order = 9;
    moved.groups.push(RemoteGroup {
        id: "g9".into(),
        name: "丁".into(),
        order: 0,
        create_time: 0,
        tags: Vec::new(),
    });
    let e = check_fresh(&saved, "ww", b"file", &moved).expect_err("stale");
    assert_eq!(
        e.changes,
        [
            "group \"甲\" was reordered remotely (20 → 21)",
            "tag \"a\" in group \"甲\" was reordered remotely (2 → 9)",
            "tag \"b\" (t2) moved from group \"甲\" to \"乙\" remotely",
            "a new remote group is named \"丁\", a name the plan gives",
        ],
        "{e}"
    );
    let mut gone = remote.clone();
    gone.groups[0].tags.remove(0);
    gone.groups[0].name = "甲甲".into();
    let e = check_fresh(&saved, "ww", b"changed", &gone).expect_err("stale");
    assert_eq!(
        e.changes,
        [
            "the desired file changed since the plan was made",
            "group g1 was renamed from \"甲\" to \"甲甲\" remotely",
            "tag \"a\" (t1) in group \"甲\" was deleted remotely",
        ],
        "{e}"
    );
}

#[test]
fn saved_plan_round_trips_and_refuses_garbage() {
    let remote = snap(&[("g1", "甲", 20, &[("t1", "a", 2)])]);
    let saved = saved_for(
        &remote,
        vec![DesiredGroup::named("甲", vec![DesiredTag::named("z")])],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.json");
    saved.save(&path).expect("save");
    assert_eq!(SavedPlan::load(&path).expect("load"), saved);
    std::fs::write(&path, "{\"format_version\": 1}").expect("write");
    let e = SavedPlan::load(&path).expect_err("incomplete");
    assert!(e.to_string().contains("is not a saved plan"), "{e}");
    let e = SavedPlan::load(&dir.path().join("missing.json")).expect_err("missing");
    assert!(e.to_string().contains("cannot read the saved plan"), "{e}");
}
