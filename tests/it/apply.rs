//! The apply engine end to end against the emulator over HTTP: desired → snapshot → plan
//! → execute → verify, with and without injected faults.

use crate::common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scenarios::{
    ADD_INTO_CONSOLE_GROUP, BOOTSTRAP, KEEP_SMALL, assert_all_owned, assert_foreign_untouched,
    assert_no_duplicates, foreign_only, owned_group, owned_in, scenarios, twelve, twenty_percent,
    writes,
};
use common::{small_seed, three_apps};
use tagsync::apply::{self, ApplyOptions, ApplyReport, StepStatus, VerifyResult};
use tagsync::desired::{self, Desired};
use tagsync::emulator::{
    self, CallKind, EmulatorConfig, EmulatorHandle, FaultKind, Faults, ForeignGroupAdds, Profile,
    SeedGroup,
};
use tagsync::ledger::Ledger;
use tagsync::plan::{Plan, PlanOptions, StepKind};
use tagsync::remote::Client;
use tagsync::wire;

use crate::common::bin::CORP;

/// An emulator, our client, and a ledger on disk.
struct Env {
    emu: EmulatorHandle,
    client: Client,
    ledger: Ledger,
    ledger_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn client_for(emu: &EmulatorHandle) -> Client {
    common::client_as(emu, common::SECRET)
}

async fn env_with(config: EmulatorConfig) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger_path = dir.path().join(".tagsync").join("ledger.json");
    let mut ledger = Ledger::new(CORP);
    ledger.record(owned_in(&config.seed));
    ledger.save(&ledger_path).expect("ledger saved");
    let emu = emulator::start(config).await.expect("emulator starts");
    Env {
        client: client_for(&emu),
        emu,
        ledger,
        ledger_path,
        _dir: dir,
    }
}

async fn env(seed: Vec<SeedGroup>) -> Env {
    env_with(EmulatorConfig {
        corp_id: CORP.into(),
        apps: three_apps(),
        seed,
        ..Default::default()
    })
    .await
}

fn desired(yaml: &str) -> Desired {
    match desired::load_str(yaml, "tags.yaml") {
        Ok(d) => d,
        Err(diags) => panic!("test file invalid:\n{diags}"),
    }
}

impl Env {
    /// Read the corp (settling pending adds), plan with the ledger.
    async fn plan(&mut self, d: &Desired, options: &PlanOptions) -> Plan {
        let snapshot = apply::read_corp(&self.client, d, &mut self.ledger, Some(&self.ledger_path))
            .await
            .expect("corp read");
        apply::replan(d, &snapshot, &self.ledger, options)
    }

    async fn apply(&mut self, d: &Desired, options: &PlanOptions) -> (Plan, ApplyReport) {
        let plan = self.plan(d, options).await;
        let report = self.apply_plan(&plan, d, options).await;
        (plan, report)
    }

    /// Execute and verify `plan` with the ledger on disk.
    async fn apply_plan(&mut self, plan: &Plan, d: &Desired, options: &PlanOptions) -> ApplyReport {
        apply::apply(
            plan,
            d,
            options,
            &self.client,
            &mut self.ledger,
            Some(&self.ledger_path),
            &ApplyOptions::default(),
        )
        .await
    }

    /// Apply; when that did not converge (faults), re-plan from a fresh snapshot with
    /// the saved ledger and apply once more, which must converge.
    async fn converge(&mut self, d: &Desired, options: &PlanOptions, label: &str) {
        let (plan, report) = self.apply(d, options).await;
        assert!(!plan.blocked(), "{label}: plan blocked: {plan:?}");
        // The profile matrix appends " under PROFILE" to the scenario's label.
        if let Some(calls) = expected_calls(label.split(" under ").next().unwrap_or(label)) {
            assert_eq!(plan.calls(), calls, "{label}: {plan:#?}");
        }
        if report.exit_code() != 0 {
            // A re-run starts from what is on disk, as a new process would.
            self.ledger = Ledger::load(&self.ledger_path, CORP).expect("ledger loads");
            let (_, again) = self.apply(d, options).await;
            assert_eq!(
                again.exit_code(),
                0,
                "{label}: no convergence after one re-run:\nfirst: {report}\nsecond: {again}"
            );
        }
        self.assert_converged(d, options, label).await;
    }

    /// A fresh plan is empty, the ledger on disk is the one in memory, it holds every id
    /// our app owns, and no name appears twice.
    async fn assert_converged(&mut self, d: &Desired, options: &PlanOptions, label: &str) {
        let on_disk = Ledger::load(&self.ledger_path, CORP).expect("ledger loads");
        assert_eq!(on_disk, self.ledger, "{label}: ledger saved");
        assert!(on_disk.pending.is_empty(), "{label}: nothing left pending");
        self.emu.set_faults(Faults::none());
        let again = self.plan(d, options).await;
        assert!(again.is_empty(), "{label}: not converged: {again:#?}");
        let dump = self.emu.dump();
        assert_all_owned(&dump, &self.ledger.owned, label);
        assert_no_duplicates(&dump, label);
    }
}

/// Names per group, in list order.
fn names(emu: &EmulatorHandle) -> Vec<(String, Vec<String>)> {
    emu.dump()
        .into_iter()
        .map(|g| {
            (
                g.group.group_name,
                g.group.tag.into_iter().map(|t| t.tag.name).collect(),
            )
        })
        .collect()
}

/// Scenarios whose first plan has a known size (the fewest calls).
fn expected_calls(label: &str) -> Option<usize> {
    match label {
        "one tag to the top of 100 (file 0)" => Some(1),
        "swap cycle, then the same file again (file 0)" => Some(3),
        "swap cycle, then the same file again (file 1)" => Some(0),
        "group emptied (deleted with its tags) (file 0)" => Some(1),
        _ => None,
    }
}

async fn run_matrix(faults: impl Fn(u64) -> Faults) {
    for (i, s) in scenarios().into_iter().enumerate() {
        let mut env = env(s.seed.clone()).await;
        let before = env.emu.dump();
        env.emu.set_faults(faults(i as u64));
        for (k, file) in s.files.iter().enumerate() {
            let label = format!("{} (file {k})", s.name);
            env.converge(&desired(file), &s.options, &label).await;
            env.emu.set_faults(faults(100 + i as u64));
        }
        // Foreign items are exactly as before: nothing edited or deleted.
        assert_foreign_untouched(&before, &env.emu.dump(), &env.emu.calls(), s.name);
        env.emu.shutdown().await;
    }
}

/// Runs every scenario against an emulator answering as `profile` (faults from `faults`),
/// each file converging as under the default; except where the profile makes that
/// impossible ([`refused_add`]): there tagsync must fail the step with the server's
/// errcode and say so, run after run, without looping.
async fn run_profile(name: &str, profile: Profile, faults: impl Fn(u64) -> Faults) {
    for (i, s) in scenarios().into_iter().enumerate() {
        let mut env = env_with(EmulatorConfig {
            corp_id: CORP.into(),
            apps: three_apps(),
            seed: s.seed.clone(),
            profile,
            ..Default::default()
        })
        .await;
        let before = env.emu.dump();
        for (k, file) in s.files.iter().enumerate() {
            let label = format!("{} (file {k}) under {name}", s.name);
            let d = desired(file);
            if let Some(code) = refused_add(&profile, s.name) {
                env.emu.set_faults(Faults::none());
                env.assert_add_refused(&d, &s.options, code, &label).await;
            } else {
                env.emu.set_faults(faults(i as u64 * 100 + k as u64));
                env.converge(&d, &s.options, &label).await;
            }
        }
        assert_foreign_untouched(&before, &env.emu.dump(), &env.emu.calls(), s.name);
        env.emu.shutdown().await;
    }
}

/// The errcode tagsync's add gets where a profile refuses it: adds into a console group
/// under `foreign_group_adds: refused` (the ownership errcode).
fn refused_add(profile: &Profile, scenario: &str) -> Option<i64> {
    (profile.foreign_group_adds == ForeignGroupAdds::Refused && scenario == ADD_INTO_CONSOLE_GROUP)
        .then_some(profile.ownership_errcode)
}

impl Env {
    /// Two runs in a row: each sends the refused add once (no retry, no loop), reports it
    /// failed with `code` and the ownership hint, verifies that it is still to do, and
    /// exits 4; nothing else is sent, and nothing changes.
    async fn assert_add_refused(
        &mut self,
        d: &Desired,
        options: &PlanOptions,
        code: i64,
        label: &str,
    ) {
        let before = self.emu.dump();
        for run in 1..=2 {
            let (plan, report) = self.apply(d, options).await;
            assert!(!plan.blocked(), "{label}: {plan:#?}");
            assert_eq!(plan.steps.len(), 1, "{label}: one add: {plan:#?}");
            assert!(matches!(plan.steps[0].kind, StepKind::AddTags { .. }));
            assert_eq!(report.exit_code(), 4, "{label}, run {run}: {report}");
            match &report.steps[0].status {
                StepStatus::Failed(f) => {
                    assert_eq!(f.errcode, Some(code), "{label}: {f:?}");
                    assert_eq!(f.kind, "ownership", "{label}: {f:?}");
                }
                other => panic!("{label}: the add should fail: {other:?}"),
            }
            assert!(
                matches!(&report.verify, Some(VerifyResult::Remaining { steps }) if steps.len() == 1),
                "{label}: {report}"
            );
            let text = report.to_string();
            assert!(text.contains(&format!("errcode {code}")), "{label}: {text}");
            if code == 60011 || code == 301002 {
                assert!(
                    text.contains("refused to add tags into a group this app did not create"),
                    "{label}: the add's own hint: {text}"
                );
            }
            if std::env::var_os("SHOW_PROFILE_EXCEPTIONS").is_some() {
                eprintln!("--- {label}, run {run}:\n{text}");
            }
            let refused = self
                .emu
                .calls()
                .iter()
                .filter(|c| c.kind == CallKind::Add)
                .map(|c| c.errcode)
                .collect::<Vec<_>>();
            assert_eq!(refused, vec![Some(code); run], "{label}: one add a run");
        }
        assert_eq!(writes(&self.emu.calls()), 2, "{label}");
        assert_eq!(self.emu.dump(), before, "{label}: nothing changed");
        assert!(
            self.ledger.pending.is_empty(),
            "{label}: nothing left pending"
        );
    }
}

/// One test per alternative value of each switch (the others at their default), and one
/// with every alternative at once; each runs the scenario matrix without faults, then
/// with the fault mix of one seed (lost answers take the recovery paths the switches
/// touch: re-reads by group id, deletes confirmed by a re-read).
macro_rules! profile_matrix {
    ($($test:ident => $label:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let profile = profile_named($label);
                run_profile($label, profile, |_| Faults::none()).await;
                run_profile($label, profile, |i| twenty_percent(7_000 + i)).await;
            }
        )*

        #[test]
        fn the_profile_matrix_covers_every_alternative() {
            let tested = [$($label),*];
            for (label, _) in Profile::one_at_a_time() {
                assert!(tested.contains(&label), "no matrix test for {label}");
            }
        }
    };
}

fn profile_named(label: &str) -> Profile {
    if label == "every alternative at once" {
        return Profile::all_alternatives();
    }
    let found = Profile::one_at_a_time()
        .into_iter()
        .find(|(l, _)| *l == label);
    found.unwrap_or_else(|| panic!("no profile {label}")).1
}

profile_matrix! {
    profile_name_count_utf16 => "name_count: utf16",
    profile_name_count_bytes => "name_count: bytes",
    profile_name_trim_trimmed => "name_trim: trimmed",
    profile_ownership_errcode_301002 => "ownership_errcode: 301002",
    profile_ownership_errcode_48002 => "ownership_errcode: 48002",
    profile_foreign_group_adds_refused => "foreign_group_adds: refused",
    profile_foreign_group_delete_refused => "foreign_group_delete: refused",
    profile_del_invalid_ids_partial => "del_invalid_ids: partial",
    profile_del_invalid_ids_ignore_deleted => "del_invalid_ids: ignore_deleted",
    profile_merge_order_applied => "merge_order: applied",
    profile_group_deleted_flag_unflagged => "group_deleted_flag: unflagged",
    profile_deleted_false_sent => "deleted_false: sent",
    profile_empty_edit_accepted => "empty_edit: accepted",
    profile_list_ties_newest_first => "list_ties: newest_first",
    profile_unknown_lookup_ids_refused => "unknown_lookup_ids: refused",
    profile_existing_tag_name_skipped => "existing_tag_name: skipped",
    profile_rule_group_names_across_rule_groups => "rule_group_names: across_rule_groups",
    profile_every_alternative_at_once => "every alternative at once",
}

#[tokio::test]
async fn scenario_matrix_applies_and_verifies() {
    run_matrix(|_| Faults::none()).await;
}

#[tokio::test]
async fn scenario_matrix_converges_under_twenty_percent_faults() {
    for seed in 1..=8_u64 {
        run_matrix(|i| twenty_percent(seed * 1000 + i)).await;
    }
}

#[tokio::test]
async fn every_add_answer_lost_still_makes_no_duplicate_and_owns_every_id() {
    let mut env = env(foreign_only()).await;
    let d = desired(BOOTSTRAP);
    env.emu.set_faults(
        Faults::none()
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop)
            .script(CallKind::Add, 1, FaultKind::TruncatedJson),
    );
    let (plan, report) = env.apply(&d, &PlanOptions::default()).await;
    assert_eq!(report.exit_code(), 0, "{report}");
    let adds = plan
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::AddGroup { .. }))
        .count();
    assert_eq!(adds, 2);
    let notes = report
        .steps
        .iter()
        .filter(|s| matches!(&s.status, StepStatus::Applied { note: Some(_) }))
        .count();
    assert_eq!(
        notes, 2,
        "both lost answers were settled by a re-read: {report}"
    );
    // Each add was sent once: the re-read found the group, nothing was sent again.
    let sent = env
        .emu
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Add)
        .count();
    assert_eq!(sent, 2);
    env.assert_converged(&d, &PlanOptions::default(), "lost adds")
        .await;
}

#[tokio::test]
async fn gate_tripped_or_foreign_rename_sends_nothing() {
    let mut env = env(twelve()).await;
    let before = names(&env.emu);
    for file in [
        KEEP_SMALL,
        "
version: 1
groups:
  - name: 客户等级
    tags: [VIP, 普通客户]
  - name: 旧分组
    tags: [旧00, 旧01, 旧02, 旧03, 旧04, 旧05, 旧06, 旧07, 旧08, 旧09, 旧10, 旧11]
  - name: 来源
    tags:
      - name: 官方网站
        previously: [官网]
",
    ] {
        let (plan, report) = env.apply(&desired(file), &PlanOptions::default()).await;
        assert!(plan.blocked(), "{plan:#?}");
        assert!(report.refused);
        assert_eq!(report.exit_code(), 3);
        assert!(report.verify.is_none());
        assert_eq!(report.counts.not_attempted, plan.steps.len());
        assert!(report.to_string().contains("nothing was sent"), "{report}");
    }
    assert_eq!(writes(&env.emu.calls()), 0, "{:?}", env.emu.calls());
    assert_eq!(names(&env.emu), before);
}

#[tokio::test]
async fn a_failed_step_stops_only_its_dependents() {
    // The corp is full: every add fails with 40126 (not retryable).
    let seed = vec![
        owned_group("etG1", "甲", 20, &[("etX", "x"), ("etY", "y")]),
        owned_group("etG2", "乙", 10, &[("etZ", "z")]),
    ];
    let mut env = env_with(EmulatorConfig {
        corp_id: CORP.into(),
        apps: three_apps(),
        seed,
        tag_limit: 3,
        ..Default::default()
    })
    .await;
    let d = desired(
        "
version: 1
groups:
  - name: 甲
    tags: [新, x]
  - name: 乙
    tags:
      - name: z2
        previously: [z]
",
    );
    let (plan, report) = env.apply(&d, &PlanOptions::default()).await;
    let status = |pred: &dyn Fn(&StepKind) -> bool| {
        let s = plan.steps.iter().find(|s| pred(&s.kind)).expect("step");
        (s, &report.steps[s.id].status)
    };
    let (_, add) = status(&|k| matches!(k, StepKind::AddTags { .. }));
    match add {
        StepStatus::Failed(f) => {
            assert_eq!(f.errcode, Some(40126), "{f:?}");
            assert_eq!(f.kind, "limit");
            assert!(f.hint.contains("delete unused tags"), "{f:?}");
        }
        other => panic!("the add should fail: {other:?}"),
    }
    let (del, deleted) = status(&|k| matches!(k, StepKind::Delete { .. }));
    assert!(
        matches!(deleted, StepStatus::NotAttempted { .. }),
        "the delete depends on the add ({:?}): {deleted:?}",
        del.depends_on
    );
    let (rename, renamed) = status(&|k| {
        matches!(
            k,
            StepKind::Edit {
                to_name: Some(_),
                ..
            }
        )
    });
    assert!(
        !rename
            .depends_on
            .iter()
            .any(|d| !matches!(report.steps[*d].status, StepStatus::Applied { .. })),
        "test needs an independent rename"
    );
    assert!(matches!(renamed, StepStatus::Applied { .. }), "{renamed:?}");
    assert_eq!(report.exit_code(), 4, "{report}");
    match &report.verify {
        Some(VerifyResult::Remaining { steps }) => assert!(!steps.is_empty()),
        other => panic!("verify should find what is left: {other:?}"),
    }
    let text = report.to_string();
    assert!(text.contains("errcode 40126"), "{text}");
    assert!(text.contains("not attempted"), "{text}");
    // The rename is recorded, so a re-plan does not undo it.
    assert!(env.ledger.history.applied("etZ", "z", "z2"));
    let y = names(&env.emu);
    assert!(
        y.iter().any(|(g, t)| g == "乙" && t == &["z2".to_string()]),
        "{y:?}"
    );
}

#[tokio::test]
async fn steps_report_progress_and_respect_parallelism_one() {
    let mut env = env(foreign_only()).await;
    let d = desired(BOOTSTRAP);
    let plan = env.plan(&d, &PlanOptions::default()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = ApplyOptions {
        parallelism: 1,
        progress: Some(Arc::new(move |o| {
            sink.lock().expect("lock").push(o.step_id);
        })),
        interrupted: None,
    };
    let report = apply::execute(
        &plan,
        &env.client,
        &mut env.ledger,
        Some(&env.ledger_path),
        &opts,
    )
    .await;
    assert!(report.all_applied(), "{report}");
    let mut got = seen.lock().expect("lock").clone();
    assert_eq!(
        got,
        (0..plan.steps.len()).collect::<Vec<_>>(),
        "in order with one at a time"
    );
    got.dedup();
    assert_eq!(got.len(), plan.steps.len());
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["steps"][0]["status"], "applied");
    assert_eq!(json["counts"]["applied"], plan.steps.len());
}

#[tokio::test]
async fn a_ledger_that_cannot_be_saved_stops_the_apply_before_any_add() {
    let mut env = env(foreign_only()).await;
    let d = desired(BOOTSTRAP);
    let plan = env.plan(&d, &PlanOptions::default()).await;
    assert!(
        plan.steps
            .iter()
            .all(|s| matches!(s.kind, StepKind::AddGroup { .. } | StepKind::AddTags { .. }))
    );
    // The ledger's directory would be a regular file: every save fails.
    let blocker = env._dir.path().join("not-a-directory");
    std::fs::write(&blocker, "x").expect("file written");
    let report = apply::execute(
        &plan,
        &env.client,
        &mut env.ledger,
        Some(&blocker.join("ledger.json")),
        &ApplyOptions::default(),
    )
    .await;
    assert_eq!(report.exit_code(), 1, "{report}");
    assert!(
        report
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not-a-directory"))
    );
    assert_eq!(
        writes(&env.emu.calls()),
        0,
        "no add without its pending entry on disk"
    );
    assert_eq!(report.counts.not_attempted, plan.steps.len());
    assert!(
        env.ledger.pending.is_empty(),
        "no entry of an add never sent"
    );
}

/// A client of another app (`crm`) or of the legacy all-powerful secret.
fn client_as(emu: &EmulatorHandle, secret: &str) -> Client {
    common::client_as(emu, secret)
}

const SAVED_FILE: &str = "
version: 1
groups:
  - name: 客户等级
    tags: [新客户, VIP, 普通客户]
";

/// Plan `SAVED_FILE` on the small seed and save it; returns the env and the plan path.
async fn saved_plan() -> (Env, PathBuf) {
    let env = env(small_seed()).await;
    let snapshot = env.client.snapshot().await.expect("snapshot");
    let plan = apply::replan(
        &desired(SAVED_FILE),
        &snapshot,
        &env.ledger,
        &PlanOptions::default(),
    );
    assert!(!plan.is_empty());
    let saved = apply::SavedPlan::new(
        plan,
        CORP,
        std::path::Path::new("tags.yaml"),
        SAVED_FILE.as_bytes(),
        &snapshot,
    );
    let path = env.ledger_path.with_file_name("plan.json");
    saved.save(&path).expect("saved");
    (env, path)
}

#[tokio::test]
async fn a_fresh_saved_plan_applies() {
    let (mut env, path) = saved_plan().await;
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\"format_version\": 1"), "{text}");
    assert!(!text.contains(common::SECRET) && !text.to_lowercase().contains("token"));
    let saved = apply::SavedPlan::load(&path).expect("loads");
    let snapshot = env.client.snapshot().await.expect("snapshot");
    apply::saved::check_fresh(&saved, CORP, SAVED_FILE.as_bytes(), &snapshot).expect("fresh");
    let d = desired(SAVED_FILE);
    let report = env
        .apply_plan(&saved.plan, &d, &PlanOptions::default())
        .await;
    assert_eq!(report.exit_code(), 0, "{report}");
    env.assert_converged(&d, &PlanOptions::default(), "saved plan")
        .await;
}

#[tokio::test]
async fn a_stale_saved_plan_is_refused_saying_what_changed() {
    let (env, path) = saved_plan().await;
    let saved = apply::SavedPlan::load(&path).expect("loads");
    let check = |bytes: &[u8], snap| apply::saved::check_fresh(&saved, CORP, bytes, snap);

    // The file changed.
    let snapshot = env.client.snapshot().await.expect("snapshot");
    let edited = SAVED_FILE.replace("新客户", "新客");
    let e = check(edited.as_bytes(), &snapshot).expect_err("stale");
    assert_eq!(
        e.changes,
        vec!["the desired file changed since the plan was made"]
    );
    assert!(e.to_string().contains("nothing was sent"), "{e}");

    // Another app (the admin's legacy secret) renamed one of the touched tags.
    let admin = client_as(&env.emu, common::LEGACY_SECRET);
    admin
        .edit(&wire::EditTagRequest {
            id: "etTagVip000000000000000000000000".into(),
            name: Some("贵宾".into()),
            order: None,
            agentid: None,
        })
        .await
        .expect("renamed by the admin");
    let snapshot = env.client.snapshot().await.expect("snapshot");
    let e = check(SAVED_FILE.as_bytes(), &snapshot).expect_err("stale");
    assert_eq!(
        e.changes,
        vec![
            "tag etTagVip000000000000000000000000 in group \"客户等级\" was renamed from \
             \"VIP\" to \"贵宾\" remotely"
        ],
        "{e}"
    );

    // Another app added a tag with the name the plan adds.
    let crm = client_as(&env.emu, common::OTHER_SECRET);
    crm.add(&wire::AddTagRequest {
        group_id: Some("etGroupOurs00000000000000000000".into()),
        tag: vec![wire::NewTag {
            name: "新客户".into(),
            order: None,
        }],
        ..Default::default()
    })
    .await
    .expect("added by crm");
    let snapshot = env.client.snapshot().await.expect("snapshot");
    let e = check(SAVED_FILE.as_bytes(), &snapshot).expect_err("stale");
    assert!(
        e.changes.iter().any(|c| c
            == "a new remote tag \"新客户\" is in group \"客户等级\", a name the plan will add"),
        "{e}"
    );

    // A change in a group the plan does not touch does not matter; another corp does.
    let mut elsewhere = env.client.snapshot().await.expect("snapshot");
    let untouched = elsewhere.groups.iter_mut().find(|g| g.name == "行业");
    untouched.expect("行业").name = "产业".into();
    let e = apply::saved::check_fresh(&saved, "ww-other", SAVED_FILE.as_bytes(), &elsewhere)
        .expect_err("other corp");
    assert!(e.changes[0].contains("ww-other"), "{e}");
    assert!(!e.to_string().contains("产业"), "{e}");

    // A group the plan touches deleted; a future format refused.
    let mut gone = elsewhere.clone();
    gone.groups.retain(|g| g.name != "客户等级");
    let e = check(SAVED_FILE.as_bytes(), &gone).expect_err("stale");
    assert!(e.changes[0].contains("was deleted remotely"), "{e}");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("\"format_version\": 1", "\"format_version\": 2"),
    )
    .expect("write");
    let e = apply::SavedPlan::load(&path).expect_err("version 2");
    assert!(e.to_string().contains("format_version 2"), "{e}");
}

/// Waits until the emulator has answered calls matching `done` (polling its call log).
async fn until_calls(emu: &EmulatorHandle, done: impl Fn(&[emulator::CallRecord]) -> bool) {
    while !done(&emu.calls()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

const CRASH_FILE: &str = "
version: 1
groups:
  - name: 客户级别
    previously: [客户等级]
    tags:
      - 新客户
      - name: 贵宾
        previously: [VIP]
      - 普通客户
  - name: 来源渠道
    tags: [官网, 展会, 转介绍]
  - name: 地区
    tags: [华东, 华南, 华北, 西部]
";

impl Env {
    /// Execute `plan`, dropping the future (as a killed process would stop) once `cut`
    /// holds for the call log. Returns whether the cut happened before the end.
    async fn execute_until(
        &mut self,
        plan: &Plan,
        cut: impl Fn(&[emulator::CallRecord]) -> bool,
    ) -> bool {
        let opts = ApplyOptions {
            parallelism: 1,
            ..ApplyOptions::default()
        };
        let run = apply::execute(
            plan,
            &self.client,
            &mut self.ledger,
            Some(&self.ledger_path),
            &opts,
        );
        tokio::select! {
            _ = run => false,
            () = until_calls(&self.emu, cut) => true,
        }
    }

    /// What a new process finds: the ledger on disk.
    fn restart(&mut self) {
        self.ledger = Ledger::load(&self.ledger_path, CORP).expect("ledger loads");
    }
}

#[tokio::test]
async fn an_apply_stopped_after_any_number_of_calls_resumes_without_duplicates() {
    let d = desired(CRASH_FILE);
    let options = PlanOptions::default();
    for k in 1..=4 {
        let mut env = env(small_seed()).await;
        // Writes are slow and one at a time, so the cut (polled every millisecond) always
        // comes well before the next answer, however loaded the machine.
        let slow = Duration::from_millis(200);
        let mut faults =
            Faults::none().latency_all(Duration::from_millis(5), Duration::from_millis(20));
        for kind in [CallKind::Add, CallKind::Edit, CallKind::Delete] {
            faults = faults.latency(kind, slow, Duration::from_millis(20));
        }
        env.emu.set_faults(faults);
        let plan = env.plan(&d, &options).await;
        assert!(plan.calls() > k, "k={k}: the plan is long enough to cut");
        let cut = env.execute_until(&plan, |c| writes(c) >= k).await;
        assert!(cut, "k={k}: stopped before the end");
        env.restart();
        env.emu.set_faults(Faults::none());
        let (_, report) = env.apply(&d, &options).await;
        assert_eq!(report.exit_code(), 0, "k={k}: {report}");
        env.assert_converged(&d, &options, &format!("cut after {k} calls"))
            .await;
        env.emu.shutdown().await;
    }
}

#[tokio::test]
async fn an_add_committed_but_never_recorded_is_claimed_from_the_pending_list() {
    let d = desired(CRASH_FILE);
    let options = PlanOptions::default();
    let mut env = env(small_seed()).await;
    // The first add commits and loses its answer; the re-read that would settle it is
    // slow, and the process stops during it.
    env.emu.set_faults(
        Faults::none()
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop)
            .latency(CallKind::List, Duration::from_secs(1), Duration::ZERO),
    );
    let plan = env.plan(&d, &options).await;
    env.emu.set_faults(
        Faults::none()
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop)
            .latency(CallKind::List, Duration::from_secs(1), Duration::ZERO),
    );
    let committed = |c: &[emulator::CallRecord]| {
        c.iter()
            .any(|r| r.kind == CallKind::Add && r.fault == Some(FaultKind::CommitThenDrop))
    };
    assert!(env.execute_until(&plan, committed).await);
    env.restart();
    assert!(
        !env.ledger.pending.is_empty(),
        "the add in flight is on disk"
    );
    let calls = env.emu.calls();
    let lost: Vec<_> = calls.iter().filter(|r| r.fault.is_some()).collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    let names: Vec<&str> = lost[0].body["tag"]
        .as_array()
        .expect("tags sent")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    // The next run reads the corp and claims what the lost add made.
    env.emu.set_faults(Faults::none());
    let replanned = env.plan(&d, &options).await;
    assert!(env.ledger.pending.is_empty());
    let dump = env.emu.dump();
    for name in &names {
        let t = dump.iter().flat_map(|g| &g.tag).find(|t| t.name == *name);
        let t = t.expect("the lost add committed");
        assert!(env.ledger.owned.contains(&t.id), "{name} claimed");
    }
    assert!(
        replanned.calls() < plan.calls(),
        "the lost add is not planned again"
    );
    let (_, report) = env.apply(&d, &options).await;
    assert_eq!(report.exit_code(), 0, "{report}");
    env.assert_converged(&d, &options, "pending add").await;
}

#[tokio::test]
async fn an_add_whose_answer_and_reread_are_both_lost_stays_pending_for_the_next_run() {
    let d = desired(CRASH_FILE);
    let options = PlanOptions::default();
    let mut env = env(small_seed()).await;
    let plan = env.plan(&d, &options).await;
    // The first add commits and loses its answer; the re-read that would settle it gets
    // a captive portal's page (not retried).
    env.emu.set_faults(
        Faults::none()
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop)
            .script(CallKind::List, 1, FaultKind::NotJson),
    );
    let report = env.apply_plan(&plan, &d, &options).await;
    assert_eq!(report.exit_code(), 4, "{report}");
    let calls = env.emu.calls();
    let lost = calls
        .iter()
        .find(|r| r.fault == Some(FaultKind::CommitThenDrop))
        .expect("the add was lost");
    let names: Vec<&str> = lost.body["tag"]
        .as_array()
        .expect("tags sent")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let dump = env.emu.dump();
    let ids: Vec<String> = names
        .iter()
        .map(|n| {
            let t = dump.iter().flat_map(|g| &g.tag).find(|t| t.name == *n);
            t.expect("the lost add committed").id.clone()
        })
        .collect();
    let made = |ledger: &Ledger| {
        ids.iter()
            .map(|id| ledger.owned.contains(id))
            .collect::<Vec<bool>>()
    };
    env.restart();
    assert!(
        made(&env.ledger).iter().all(|owned| !owned),
        "the answer was lost"
    );
    assert_eq!(
        env.ledger.pending.len(),
        1,
        "the unsettled add stays pending"
    );
    env.emu.set_faults(Faults::none());
    env.plan(&d, &options).await;
    assert!(
        made(&env.ledger).iter().all(|owned| *owned),
        "the next run claims what the add made"
    );
    let (_, report) = env.apply(&d, &options).await;
    assert_eq!(report.exit_code(), 0, "{report}");
    env.assert_converged(&d, &options, "unsettled add").await;
}

#[tokio::test]
async fn a_plan_with_out_of_order_step_ids_or_dependencies_is_refused_unsent() {
    let d = desired(CRASH_FILE);
    let mut env = env(small_seed()).await;
    let plan = env.plan(&d, &PlanOptions::default()).await;
    assert!(plan.steps.len() > 2, "{plan:#?}");
    let mut bad_id = plan.clone();
    bad_id.steps[0].id = 99;
    let mut forward = plan.clone();
    forward.steps[0].depends_on.push(1);
    let mut beyond = plan.clone();
    beyond.steps[1].depends_on.push(plan.steps.len() + 5);
    for (label, damaged) in [("id", bad_id), ("forward", forward), ("beyond", beyond)] {
        let report = apply::execute(
            &damaged,
            &env.client,
            &mut env.ledger,
            Some(&env.ledger_path),
            &ApplyOptions::default(),
        )
        .await;
        let error = report.error.clone().unwrap_or_default();
        assert!(error.contains("out of order"), "{label}: {report}");
        assert_eq!(report.exit_code(), 1, "{label}");
        assert_eq!(report.counts.applied, 0, "{label}");
        assert_eq!(writes(&env.emu.calls()), 0, "{label}: nothing was sent");
    }
}

/// Every step applied, but the re-read after the last one fails (HTTP 500 past every
/// retry): the report says the corp could not be verified, and the exit code is 4.
#[tokio::test]
async fn a_failed_re_read_after_apply_exits_4() {
    let mut env = env(Vec::new()).await;
    let d = desired("version: 1\ngroups:\n  - name: G\n    tags: [a, b]\n");
    let options = PlanOptions::default();
    let plan = env.plan(&d, &options).await;
    assert_eq!(plan.calls(), 1, "{plan:#?}");
    // From now on every list call fails, more times than the client retries.
    env.emu
        .set_faults(Faults::none().script(CallKind::List, 1_000, FaultKind::Http500));
    let report = env.apply_plan(&plan, &d, &options).await;
    assert_eq!(report.counts.applied, 1, "{report}");
    assert!(
        matches!(report.verify, Some(VerifyResult::ReadFailed { .. })),
        "{report}"
    );
    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(report.to_string().contains("could not re-read"), "{report}");
    // The ids of the add are in the ledger all the same.
    assert_eq!(env.ledger.owned.len(), 3, "the group and its two tags");
}

/// WeCom gone mid-apply (nothing listens at the API base): the first step that cannot
/// reach it, after its retries, stops the run; the other steps are not sent and are
/// reported as such (exit 4), instead of each retrying in turn.
#[tokio::test]
async fn an_unreachable_wecom_stops_the_apply_after_one_step() {
    let mut env = env(Vec::new()).await;
    let file: String = (0..30)
        .map(|i| format!("  - name: G{i}\n    tags: [t]\n"))
        .collect();
    let d = desired(&format!("version: 1\ngroups:\n{file}"));
    let plan = env.plan(&d, &PlanOptions::default()).await;
    assert_eq!(plan.calls(), 30);
    // An address nothing listens on, and no test's emulator can take (they bind
    // 127.0.0.1): every connection is refused.
    let mut config = common::client_config(&env.emu, common::SECRET);
    config.api_base = tagsync::remote::parse_api_base("http://127.0.0.2:1/cgi-bin/").expect("base");
    let dead_client = Client::new(config).expect("client");
    let opts = ApplyOptions {
        parallelism: 1,
        ..ApplyOptions::default()
    };
    let report = apply::execute(
        &plan,
        &dead_client,
        &mut env.ledger,
        Some(&env.ledger_path),
        &opts,
    )
    .await;
    assert_eq!(report.counts.failed, 1, "{report}");
    assert_eq!(report.counts.not_attempted, 29, "{report}");
    assert_eq!(report.exit_code(), 4);
    assert!(
        report.to_string().contains("WeCom could not be reached"),
        "{report}"
    );
    assert!(
        env.emu
            .calls()
            .iter()
            .all(|c| c.kind == CallKind::List || c.kind.is_token_call()),
        "no write reached the emulator"
    );
}

/// Another app (here an admin) makes a group of the same name between the read and the
/// add: WeCom merges the add into that group. The tags are ours, the group is not, and
/// the report says so.
#[tokio::test]
async fn an_add_merged_into_a_group_made_meanwhile_does_not_claim_that_group() {
    let mut env = env(Vec::new()).await;
    let d = desired(
        "version: 1\ngroups:\n  - name: 新组\n    tags: [N1]\n  - name: 另组\n    tags: [M1]\n",
    );
    let options = PlanOptions::default();
    let plan = env.plan(&d, &options).await;
    assert_eq!(plan.calls(), 2, "{plan:#?}");
    common::add_as_admin(&env.emu, "新组", "别人的").await;
    let report = env.apply_plan(&plan, &d, &options).await;
    assert_eq!(report.counts.applied, 2, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("group `新组` already existed when the add arrived"),
        "{text}"
    );
    let groups = env.emu.dump();
    let theirs = groups
        .iter()
        .find(|g| g.group_name == "新组")
        .expect("新组");
    let ours = groups
        .iter()
        .find(|g| g.group_name == "另组")
        .expect("另组");
    let n1 = theirs
        .tag
        .iter()
        .find(|t| t.name == "N1")
        .expect("N1 went in");
    assert!(!env.ledger.owned.contains(&theirs.group_id), "not claimed");
    assert!(env.ledger.owned.contains(&n1.id), "the tag made is ours");
    assert!(
        env.ledger.owned.contains(&ours.group_id),
        "a group really made is ours"
    );
}

/// An add answered errcode 0 with an answer that cannot be trusted (two tags, one id) is
/// a lost answer, not a failure: the group is re-read and what is there is claimed (here
/// the broken answer committed nothing, so the add is sent again).
#[tokio::test]
async fn an_add_answer_that_cannot_be_trusted_is_settled_by_a_re_read() {
    let mut env = env(Vec::new()).await;
    let d = desired("version: 1\ngroups:\n  - name: 新组\n    tags: [N1, N2]\n");
    let options = PlanOptions::default();
    let plan = env.plan(&d, &options).await;
    env.emu
        .set_faults(Faults::none().script(CallKind::Add, 1, FaultKind::RepeatedId));
    let report = env.apply_plan(&plan, &d, &options).await;
    assert_eq!(report.counts.applied, 1, "{report}");
    assert!(
        matches!(report.verify, Some(VerifyResult::Converged)),
        "{report}"
    );
    let group = env
        .emu
        .dump()
        .into_iter()
        .find(|g| g.group_name == "新组")
        .expect("made once");
    assert!(env.ledger.owned.contains(&group.group_id), "{report}");
    for t in &group.tag {
        assert!(env.ledger.owned.contains(&t.id), "{} owned", t.name);
    }
    assert!(
        !env.ledger.owned.contains("etBROKENT"),
        "nothing of the broken answer"
    );
}
