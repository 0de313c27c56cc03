//! `tagsync plan` (with `--apply`, `--out`), `apply`, `export` and `adopt` run as a
//! process against the emulator: exit codes 0/1/2/3/4, output snapshots (temp paths and ports filtered), the demo command.
//!
//! Most tests start an emulator in this process (`emulator::start`) and point the child at
//! it with `--api-base` and `WECOM_CORP_ID`/`WECOM_CORP_SECRET`; some use `--emulator SEED`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::bin::{Fixture, OURS_VIP, both, text};
use tagsync::emulator::{self, SeedFile};

/// Snapshot a run whole: its exit code, stdout and stderr (temp paths and ports
/// filtered), so a change to any of them shows in review.
fn snapshot_run(name: &str, fx: &Fixture, out: &Output) {
    let whole = format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let filters = fx.filters();
    let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(name, whole);
    });
}

const SAME: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n";
const CHANGED: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags:\n      - VIP\n      - name: 重要客户\n        previously: [重点客户]\n      - 普通客户\n      - 潜在客户\n";
/// Renames a tag of the admin-console group: not owned, so blocked.
const FOREIGN_RENAME: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 行业\n    tags:\n      - name: 制造\n        previously: [制造业]\n      - 零售\n";

#[test]
fn exit_0_when_the_corp_equals_the_file() {
    let (fx, cfg) = Fixture::owning_ours_with(SAME);
    let cfg = cfg.as_str();
    for extra in [&[][..], &["--detailed-exitcode"][..]] {
        let mut args = vec!["plan", "-c", cfg];
        args.extend_from_slice(extra);
        let out = fx.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("No changes"));
    }
    let out = fx.run(&["plan", "-c", cfg]);
    snapshot_run("plan_no_changes", &fx, &out);
}

#[test]
fn exit_2_only_with_detailed_exitcode_and_nothing_is_sent() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let cfg = cfg.as_str();
    let before = fx.emu().dump();
    let out = fx.run(&["plan", "-c", cfg, "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = fx.run(&["plan", "-c", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\u{1b}'), "no colour when not a terminal");
    snapshot_run("plan_changes_text", &fx, &out);
    assert_eq!(fx.emu().dump(), before, "plan changes nothing");
    let changes = fx
        .emu()
        .calls()
        .iter()
        .filter(|c| c.kind != emulator::CallKind::List && c.kind != emulator::CallKind::GetToken)
        .count();
    assert_eq!(changes, 0, "only gettoken and list were called");

    let md = fx.run(&["plan", "-c", cfg, "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(0));
    snapshot_run("plan_changes_markdown", &fx, &md);
    let json = fx.run(&["plan", "-c", cfg, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["format_version"], 2);
    assert_eq!(v["changes"], true);
    assert_eq!(v["corp_id"], "ww-test-corp");
}

#[test]
fn exit_3_when_a_step_is_blocked() {
    let (fx, cfg) = Fixture::owning_ours_with(FOREIGN_RENAME);
    let out = fx.run(&["plan", "-c", cfg.as_str()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("blocked: not owned"), "{stdout}");
    assert!(stdout.contains("fix:"), "{stdout}");
    snapshot_run("plan_blocked", &fx, &out);
}

#[test]
fn without_the_ledger_our_items_are_foreign_and_a_rename_is_blocked() {
    let fx = Fixture::new();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags:\n      - name: VIP客户\n        previously: [VIP]\n      - 普通客户\n",
    );
    let cfg = cfg.to_str().expect("path");
    assert_eq!(fx.run(&["plan", "-c", cfg]).status.code(), Some(3));
    fx.adopt_ours();
    let out = fx.run(&["plan", "-c", cfg, "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("VIP → VIP客户"));
}

#[test]
fn exit_1_on_a_bad_file_with_diagnostics() {
    let fx = Fixture::new();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: G\n    tag: [a]\n",
    );
    let out = fx.run(&["plan", "-c", cfg.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tags.yaml:4:5"), "{stderr}");
    // A plain plan reads the corp while it parses the file (src/commands/plan.rs), so a
    // read may have started; nothing is ever written for a bad file.
    assert_eq!(fx.writes(), 0, "nothing is written for a bad file");
}

#[test]
fn exit_1_on_a_bad_answer_with_the_client_message_and_no_secret() {
    let fx = Fixture::new();
    let cfg = fx.write("tags.yaml", SAME);
    let out = fx.run_with_secret(
        "wrong-secret-value",
        &["plan", "-c", cfg.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("40001"), "{stderr}");
    assert!(!stderr.contains("wrong-secret-value"), "{stderr}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn missing_credentials_are_an_error_that_names_the_variable() {
    let fx = Fixture::new();
    let cfg = fx.write("tags.yaml", SAME);
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["plan", "-c", cfg.to_str().expect("path"), "--api-base"])
        .arg(fx.emu().base_url())
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_CORP_SECRET")
        .env_remove("WECOM_SUITE_ID")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("WECOM_CORP_ID"),
        "{}",
        text(&out.stderr)
    );
    // Both missing are named at once.
    assert!(
        text(&out.stderr).contains("WECOM_CORP_ID and WECOM_CORP_SECRET are not set"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_apply_executes_verifies_and_then_plans_to_zero() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let cfg = cfg.as_str();
    let out = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("verified: the corp equals the file"),
        "{stdout}"
    );
    snapshot_run("apply_text", &fx, &out);
    let names: Vec<String> = fx
        .emu()
        .dump()
        .iter()
        .filter(|g| g.group_name == "客户等级")
        .flat_map(|g| g.tag.iter().map(|t| t.name.clone()))
        .collect();
    assert_eq!(names, ["VIP", "重要客户", "普通客户", "潜在客户"]);
    let again = fx.run(&["plan", "-c", cfg, "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    let apply_again = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(apply_again.status.code(), Some(0));
    assert!(text(&apply_again.stderr).contains("Nothing to apply"));
}

#[test]
fn plan_apply_json_is_one_document_with_the_report() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let out = fx.run(&["plan", "-c", cfg.as_str(), "--apply", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["format_version"], 2);
    let steps = v["steps"].as_array().expect("steps").len();
    assert!(steps > 0);
    assert_eq!(v["apply"]["exit_code"], 0);
    assert_eq!(v["apply"]["counts"]["applied"], steps);
    assert_eq!(v["apply"]["verify"]["status"], "converged");

    // Again: nothing to do, and the document still has its `apply` field.
    let out = fx.run(&["plan", "-c", cfg.as_str(), "--apply", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["changes"], false);
    assert_eq!(v["apply"]["exit_code"], 0);
    assert_eq!(v["apply"]["steps"], serde_json::json!([]));
    assert_eq!(v["apply"]["counts"]["applied"], 0);
}

#[test]
fn a_blocked_plan_with_apply_or_out_sends_no_write_and_saves_nothing() {
    let (fx, cfg) = Fixture::owning_ours_with(FOREIGN_RENAME);
    let before = fx.emu().dump();
    let out = fx.run(&["plan", "-c", cfg.as_str(), "--apply", "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("nothing was sent"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("not saved"),
        "{}",
        text(&out.stderr)
    );
    let json = fx.run(&["plan", "-c", cfg.as_str(), "--apply", "--format", "json"]);
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one document");
    assert_eq!(v["blocked"], true);
    assert_eq!(v["apply"]["refused"], true);
    assert_eq!(v["apply"]["exit_code"], 3);
    assert_eq!(fx.writes(), 0, "the emulator's call log has no write");
    assert_eq!(fx.emu().dump(), before);
    assert!(!fx.dir.path().join("plan.json").exists());
}

#[test]
fn a_step_that_keeps_failing_gives_exit_4_and_names_the_errcode() {
    let fx = Fixture::new();
    fx.adopt_ours();
    // Every edit fails with a system error, past the client's retries.
    fx.emu().set_faults(emulator::Faults::default().script(
        emulator::CallKind::Edit,
        1000,
        emulator::FaultKind::SystemBusy,
    ));
    let cfg = fx.write("tags.yaml", CHANGED);
    let cfg = cfg.to_str().expect("path");
    let out = fx.run(&["plan", "-c", cfg, "--apply", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("### Apply incomplete"), "{stdout}");
    assert!(stdout.contains("errcode `-1`"), "{stdout}");
    fx.emu().set_faults(emulator::Faults::default());
    let rerun = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun.stdout));
}

#[test]
fn a_saved_plan_applies_when_fresh_and_is_refused_when_the_corp_changed() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let cfg = cfg.as_str();
    let out = fx.run(&["plan", "-c", cfg, "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fx.writes(), 0, "--out alone sends nothing");
    let saved = std::fs::read_to_string(fx.dir.path().join("plan.json")).expect("saved");
    assert!(
        !saved.contains(common::SECRET),
        "no secret in the plan file"
    );
    // Someone adds a tag to a group the plan does not touch: the calls are the same, so
    // the plan still applies (its unmanaged count, shown afresh, has grown).
    fx.rt
        .block_on(common::add_as_admin(fx.emu(), "行业", "教育"));
    let out = fx.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Apply complete"));
    // Applied a second time: stale, but the corp already equals the file, which is said
    // as such (not as console edits of what the plan itself changed).
    let writes_before = fx.writes();
    let again = fx.run(&["apply", "plan.json"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("Nothing to apply: the corp already equals")
            && stderr.contains("plan.json was applied before"),
        "{stderr}"
    );
    assert!(!stderr.contains("stale"), "{stderr}");
    assert_eq!(fx.writes(), writes_before, "nothing sent");

    // A new plan, then someone renames a tag it touches in the admin console.
    let cfg2 = fx.write("tags2.yaml", SAME);
    let out = fx.run(&[
        "plan",
        "-c",
        cfg2.to_str().expect("path"),
        "--out",
        "plan2.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    fx.rt.block_on(common::rename_as_admin(
        fx.emu(),
        "潜在客户",
        "潜在客户(旧)",
    ));
    let writes_before = fx.writes();
    let out = fx.run(&["apply", "plan2.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("stale"), "{stderr}");
    assert!(stderr.contains("潜在客户"), "names what changed: {stderr}");
    assert_eq!(fx.writes(), writes_before, "a stale plan sends nothing");
}

#[test]
fn export_writes_a_file_that_plans_to_zero_changes() {
    let fx = Fixture::new();
    fx.adopt_ours();
    let out = fx.run(&["export"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    assert!(exported.starts_with("# yaml-language-server: $schema=tagsync.schema.json\n"));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("warning"), "no warning: {stderr}");
    // The groups others made are read-only, and the note says how to take them over.
    assert!(
        stderr.starts_with("note: 2 of 3 groups are exported `managed: false`"),
        "{stderr}"
    );
    snapshot_run("export", &fx, &out);
    let cfg = fx.write("exported.yaml", &exported);
    tagsync::desired::load(&cfg).unwrap_or_else(|d| panic!("{d}"));
    let plan = fx.run(&[
        "plan",
        "-c",
        cfg.to_str().expect("path"),
        "--detailed-exitcode",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stdout));
}

#[test]
fn adopt_refuses_unknown_ids_and_records_nothing() {
    let fx = Fixture::new();
    let out = fx.run(&["adopt", OURS_VIP, "etNoSuchTag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("etNoSuchTag"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !fx.dir.path().join(".tagsync").exists(),
        "no ledger written"
    );
    let ok = fx.run(&["adopt", OURS_VIP]);
    assert_eq!(ok.status.code(), Some(0));
    let ledger = tagsync::ledger::Ledger::load(
        &fx.dir.path().join(".tagsync/ledger-ww-test-corp.json"),
        "ww-test-corp",
    )
    .expect("ledger");
    assert!(ledger.owned.contains(OURS_VIP));
    snapshot_run("adopt", &fx, &ok);
}

fn seed_file(dir: &Path) -> PathBuf {
    let p = dir.join("seed.json");
    let json = serde_json::to_string_pretty(&SeedFile::new(common::small_seed())).expect("json");
    std::fs::write(&p, json).expect("write seed");
    p
}

#[test]
fn emulator_flag_plans_against_an_in_process_emulator() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed_file(dir.path());
    let cfg = dir.path().join("tags.yaml");
    std::fs::write(&cfg, CHANGED).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(&cfg)
        .arg("--emulator")
        .arg(&seed)
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_CORP_SECRET")
        .output()
        .expect("run");
    // The seed's owners stand for the ledger: our tags may be renamed.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("add 2 tags to 客户等级"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !dir.path().join(".tagsync").exists(),
        "--emulator writes no ledger"
    );
}

#[test]
fn the_readme_demo_shows_a_real_unblocked_plan() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args([
            "plan",
            "-c",
            "tags.yaml.example",
            "--emulator",
            "examples/corp.json",
            "--detailed-exitcode",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("潜在客户 → 意向客户"), "{stdout}");
    assert!(
        stdout.contains("group 跟进阶段 → Sales pipeline"),
        "{stdout}"
    );
    assert!(stdout.contains("Unmanaged"), "{stdout}");
    assert!(stdout.contains("File-level view"), "{stdout}");
    assert!(!stdout.contains("blocked"), "{stdout}");
}

#[test]
fn the_delete_gate_blocks_with_exit_3_until_allow_delete() {
    let dir = tempfile::tempdir().expect("dir");
    let old: Vec<_> = (0..12)
        .map(|i| {
            common::tag(
                &format!("etOld{i:027}"),
                &format!("旧标签{i}"),
                100 - i,
                Some("tagsync"),
            )
        })
        .collect();
    let mut seed = common::small_seed();
    seed.push(common::group(
        "etGroupOld00000000000000000000000",
        "旧分组",
        5,
        Some("tagsync"),
        old,
    ));
    let seed_path = dir.path().join("seed.json");
    std::fs::write(
        &seed_path,
        serde_json::to_string(&SeedFile::new(seed)).expect("json"),
    )
    .expect("write seed");
    let cfg = dir.path().join("tags.yaml");
    std::fs::write(&cfg, SAME).expect("write");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(["plan", "--detailed-exitcode", "-c"])
            .arg(&cfg)
            .arg("--emulator")
            .arg(&seed_path)
            .args(extra)
            .output()
            .expect("run")
    };
    let blocked = run(&["--format", "json"]);
    assert_eq!(blocked.status.code(), Some(3), "{}", text(&blocked.stderr));
    let v: serde_json::Value = serde_json::from_slice(&blocked.stdout).expect("json");
    assert_eq!(v["blocked"], true);
    let fix = v["steps"][0]["blocked"]["fix"].as_str().expect("a fix");
    assert!(fix.contains("--allow-delete 12"), "{fix}");
    let too_few = run(&["--allow-delete", "11"]);
    assert_eq!(too_few.status.code(), Some(3), "{}", text(&too_few.stderr));
    let shown = text(&too_few.stdout);
    assert!(
        shown.contains("deletes or replaces 12 tags")
            && shown.contains("`--allow-delete 11` allows only 11"),
        "{shown}"
    );
    let allowed = run(&["--allow-delete", "12"]);
    assert_eq!(allowed.status.code(), Some(2), "{}", text(&allowed.stdout));
    assert!(text(&allowed.stdout).contains("delete 12 tags and 1 group"));
}

#[test]
fn a_new_group_above_an_ignored_console_group_shows_above_it() {
    // The file puts 新分组 between 客户等级 (ours, order 30) and the admin's 行业
    // (order 20, `order: ignore`): it gets an order between the two.
    let fx = Fixture::new();
    fx.adopt_ours();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  \
         - name: 新分组\n    tags: [甲]\n  - name: 行业\n    managed: false\n    \
         order: ignore\n    tags: [制造业, 零售]\n  - name: 来源\n    managed: false\n    \
         order: ignore\n    tags: [官网]\n",
    );
    let out = fx.run(&["plan", "-c", cfg.to_str().expect("path"), "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let dump = fx.emu().dump();
    let order = |name: &str| {
        dump.iter()
            .find(|g| g.group_name == name)
            .map(|g| g.order)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert!(
        order("客户等级") > order("新分组") && order("新分组") > order("行业"),
        "{} {} {}",
        order("客户等级"),
        order("新分组"),
        order("行业")
    );
}

#[test]
fn a_missing_seed_is_an_error_naming_the_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args([
            "plan",
            "-c",
            "tags.yaml.example",
            "--emulator",
            "no/such/seed.json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no/such/seed.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_argument_exits_1_not_2_which_means_changes() {
    for args in [
        &["plan", "--bogus"][..],
        &["plan", "--parallelism", "0"],
        &["plan", "--allow-delete", "x"],
        &["completions", "nosh"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(args)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("error:"), "{args:?}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("--help")
        .output()
        .expect("run");
    assert_eq!(help.status.code(), Some(0));
}

#[test]
fn man_prints_exit_codes_and_environment_and_writes_one_page_per_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("man")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "WECOM_CORP_SECRET",
        "SUBCOMMANDS",
    ] {
        assert!(page.contains(section), "{section}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for name in [
        "tagsync",
        "tagsync-plan",
        "tagsync-apply",
        "tagsync-emulator",
    ] {
        let page = std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(page.contains(".TH"), "{name}.1 is roff");
    }
    let plan = std::fs::read_to_string(dir.path().join("tagsync-plan.1")).expect("page");
    assert!(
        plan.contains("allow\\-delete"),
        "the plan page lists its options"
    );
    // Every page names only pages that were written (SUBCOMMANDS and SEE ALSO), and every
    // page but tagsync.1 is named by another: nested commands get pages too.
    let pages: std::collections::BTreeMap<String, String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let page = std::fs::read_to_string(&path).expect("page");
            // roff writes `-` as `\-`.
            (name, page.replace("\\-", "-"))
        })
        .collect();
    let mut named = std::collections::BTreeSet::new();
    for (name, page) in &pages {
        for (at, _) in page.match_indices("tagsync") {
            let rest = &page[at..];
            let len = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(rest.len());
            if rest[len..].starts_with("(1)") {
                let target = &rest[..len];
                assert!(
                    pages.contains_key(target),
                    "{name}.1 refers to {target}(1), which was not written"
                );
                if target != name {
                    named.insert(target.to_string());
                }
            }
        }
    }
    for name in pages.keys().filter(|n| *n != "tagsync") {
        assert!(named.contains(name), "no page refers to {name}(1)");
    }
    for name in [
        "tagsync-fleet-plan",
        "tagsync-ledger-rebind",
        "tagsync-watch",
    ] {
        assert!(
            pages.contains_key(name),
            "{name}.1 is missing: {:?}",
            pages.keys()
        );
    }
    assert!(
        !pages.keys().any(|n| n.ends_with("-help")),
        "no page for clap's help command: {:?}",
        pages.keys()
    );
    let see_also = pages["tagsync"]
        .split(".SH \"SEE ALSO\"")
        .nth(1)
        .expect("tagsync.1 has SEE ALSO");
    for cmd in ["watch", "fleet", "ledger", "plan"] {
        assert!(
            see_also.contains(&format!("tagsync-{cmd}(1)")),
            "{cmd}: {see_also}"
        );
    }
    let fleet_plan = &pages["tagsync-fleet-plan"];
    assert!(fleet_plan.contains("--shard"), "{fleet_plan}");
    assert!(
        fleet_plan.contains("tagsync fleet plan"),
        "its usage: {fleet_plan}"
    );
}

#[test]
fn help_describes_every_option_and_the_environment_and_hides_its_values() {
    let help_of = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(args)
            .arg("--help")
            .env("WECOM_API_BASE", "http://127.0.0.1:9/secret-path")
            .output()
            .expect("run");
        let help = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{help}");
        help
    };
    // Every variable the client reads is in the Environment section of every command
    // that reaches a corp.
    let tuning = [
        tagsync::remote::ENV_RATE_SHARE,
        tagsync::remote::ENV_RETRY_BACKOFF_MS,
    ];
    for cmd in [
        &["plan"][..],
        &["apply"],
        &["export"],
        &["adopt"],
        &["disown"],
        &["ledger", "rebind"],
    ] {
        let help = help_of(cmd);
        let cmd = cmd.join(" ");
        for needle in [
            "\nEnvironment:\n",
            "WECOM_CORP_ID",
            "WECOM_CORP_SECRET",
            "[env: WECOM_API_BASE]",
        ]
        .into_iter()
        .chain(tuning)
        {
            assert!(help.contains(needle), "{cmd}: {needle} missing:\n{help}");
        }
        assert!(
            !help.contains("secret-path"),
            "{cmd} shows the value:\n{help}"
        );
        if cmd == "plan" || cmd == "apply" {
            assert!(help.contains("1 to 64"), "{help}");
            let format = help
                .lines()
                .find(|l| l.trim_start().starts_with("--format"))
                .expect("--format");
            assert!(format.contains("text"), "{format}");
            assert!(
                !format.trim_end().ends_with(']') || format.contains("How"),
                "{help}"
            );
        }
    }
    for cmd in [&["watch"][..], &["fleet", "plan"], &["fleet", "apply"]] {
        let help = help_of(cmd);
        let section = help
            .split("\nEnvironment:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{cmd:?}: no Environment section:\n{help}"));
        for needle in tuning {
            assert!(
                section.contains(needle),
                "{cmd:?}: {needle} missing:\n{help}"
            );
        }
    }
    let mut man = Command::new(env!("CARGO_BIN_EXE_tagsync"));
    let man = text(&man.arg("man").output().expect("run").stdout);
    for needle in tuning {
        assert!(
            man.contains(&format!(".TP\n{needle}\n")),
            "tagsync.1: {needle}"
        );
    }
    // An error's usage line is the command's, whatever the environment holds.
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["plan", "--bogus"])
        .env("WECOM_API_BASE", "http://127.0.0.1:9")
        .output()
        .expect("run");
    let err = text(&out.stderr);
    assert!(
        err.contains("Usage: tagsync plan [OPTIONS] [FILE]\n"),
        "{err}"
    );
}

#[test]
fn the_file_may_be_given_without_c_and_a_bare_apply_points_at_plan_apply() {
    let fx = Fixture::new();
    let cfg = fx.write(
        "mine.yaml",
        "version: 1\ngroups:\n  - name: A\n    tags: [a]\n",
    );
    let cfg = cfg.to_str().expect("path");
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["validate", cfg])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("mine.yaml: ok"),
        "{}",
        both(&out)
    );
    let out = fx.run(&["plan", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(text(&out.stdout).contains("add group A"), "{}", both(&out));
    // Both ways at once is a usage error, not a guess.
    let out = fx.run(&["plan", cfg, "-c", cfg]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let out = fx.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("to plan and apply in one go, run `tagsync plan --apply`"),
        "{}",
        both(&out)
    );
}

#[test]
fn a_wrong_corp_id_names_wecom_corp_id() {
    let fx = Fixture::new();
    let out = fx
        .command(&["export"])
        .env("WECOM_CORP_ID", "ww-no-such-corp")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(err.contains("check WECOM_CORP_ID"), "{err}");
}

#[test]
fn a_hand_edited_saved_plan_is_refused_before_anything_is_sent() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let out = fx.run(&["plan", "-c", cfg.as_str(), "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = fx.dir.path().join("plan.json");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("saved")).expect("json");
    let before = fx.emu().dump();
    let group_id = before
        .iter()
        .find(|g| g.group_name == "客户等级")
        .map(|g| g.group_id.clone())
        .expect("our group");

    // A delete of the group the file keeps, appended by hand; then a step whose id is out
    // of range (which once reached an index and panicked).
    let mut with_delete = original.clone();
    let steps = with_delete["plan"]["steps"].as_array_mut().expect("steps");
    let n = steps.len();
    steps.push(serde_json::json!({
        "id": n,
        "kind": {"type": "delete", "groups": [{"id": group_id, "name": "客户等级", "tags": []}], "tags": []},
        "reason": "added by hand",
        "depends_on": [],
        "blocked": null,
        "destructive": true
    }));
    let mut bad_id = original.clone();
    bad_id["plan"]["steps"][0]["id"] = serde_json::json!(99);
    for (label, edited) in [("an added delete", with_delete), ("a bad step id", bad_id)] {
        std::fs::write(&path, edited.to_string()).expect("write");
        let out = fx.run(&["apply", "plan.json"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{label}: {stderr}");
        assert!(
            stderr.contains("does not hold the calls"),
            "{label}: {stderr}"
        );
        assert_eq!(fx.writes(), 0, "{label}: nothing was sent");
        assert_eq!(fx.emu().dump(), before, "{label}");
    }
    // Words are never taken from the file: a forged note is not shown, and the calls,
    // being the planner's own, run.
    let mut forged_note = original.clone();
    forged_note["plan"]["notes"] = serde_json::json!(["All clear: this plan deletes nothing."]);
    std::fs::write(&path, forged_note.to_string()).expect("write");
    let out = fx.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("All clear"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_second_writer_of_the_ledger_stops_at_once_and_a_plain_plan_still_runs() {
    let (fx, cfg) = Fixture::owning_ours_with(CHANGED);
    let cfg = cfg.as_str();
    let ledger = fx.ledger_path();
    let before = std::fs::read(&ledger).expect("ledger");
    // This test process stands for another tagsync run that is applying.
    let held = tagsync::ledger::LedgerLock::acquire(&ledger).expect("lock");
    for args in [
        vec!["plan", "-c", cfg, "--apply"],
        vec!["adopt", "-c", cfg, "etNOPE"],
    ] {
        let out = fx.run(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "another tagsync run (pid {}) is writing the ownership ledger",
                std::process::id()
            )),
            "{args:?}: {stderr}"
        );
        assert_eq!(fx.writes(), 0, "{args:?}: nothing was sent");
    }
    let out = fx.run(&["plan", "-c", cfg, "--out", "plan.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a plain plan takes no lock: {}",
        text(&out.stderr)
    );
    let out = fx.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is writing the ownership ledger"));
    assert_eq!(fx.writes(), 0);
    assert_eq!(
        std::fs::read(&ledger).expect("ledger"),
        before,
        "ledger untouched"
    );
    drop(held);
    let out = fx.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = ledger.parent().expect("dir");
    let left: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "only the ledger is left: {left:?}");
}

#[test]
fn a_plain_plan_settles_pending_adds_in_memory_and_only_apply_writes_them() {
    let fx = Fixture::new();
    let path = fx.ledger_path();
    // An apply was killed after sending the add of VIP and before recording its answer.
    let mut ledger = tagsync::ledger::Ledger::new(common::bin::CORP);
    ledger.record([common::bin::OURS_GROUP.to_string()]);
    ledger.pending.push(tagsync::ledger::PendingAdd {
        step: 0,
        group_id: Some(common::bin::OURS_GROUP.into()),
        group_name: "客户等级".into(),
        names: vec!["VIP".into()],
        strategy_id: None,
    });
    ledger.save(&path).expect("ledger");
    let before = std::fs::read(&path).expect("read");
    // Renaming VIP needs it owned: the plan is unblocked only if the pending add was claimed.
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags:\n      - name: 贵宾\n        previously: [VIP]\n      - 普通客户\n",
    );
    let cfg = cfg.to_str().expect("path");
    let out = fx.run(&["plan", "-c", cfg, "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "plan wrote the ledger"
    );
    let out = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = tagsync::ledger::Ledger::load(&path, common::bin::CORP).expect("ledger");
    assert!(after.pending.is_empty(), "{after:?}");
    assert!(after.owned.contains(OURS_VIP), "{after:?}");
}

#[test]
fn a_full_corp_gets_its_delete_first_with_tag_limit() {
    // The corp holds 5 tags and may hold no more: the file swaps one of ours for a new one.
    let fx = Fixture::with_config(emulator::EmulatorConfig {
        corp_id: common::bin::CORP.into(),
        apps: common::three_apps(),
        seed: common::small_seed(),
        tag_limit: 5,
        ..Default::default()
    });
    fx.adopt_ours();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 贵宾客户]\n",
    );
    let cfg = cfg.to_str().expect("path");
    let names = || -> Vec<String> {
        fx.emu()
            .dump()
            .iter()
            .filter(|g| g.group_name == "客户等级")
            .flat_map(|g| g.tag.iter().map(|t| t.name.clone()))
            .collect()
    };
    // Believing the corp has room, the add goes first and WeCom refuses it; the delete
    // waits for it, so nothing is lost.
    let out = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("40126"), "{}", text(&out.stdout));
    assert_eq!(names(), ["VIP", "普通客户"]);
    // Told the limit, tagsync deletes first and then adds.
    let out = fx.run(&["plan", "-c", cfg, "--apply", "--tag-limit", "5"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("pass its 5 tag limit"), "{stdout}");
    assert!(
        stdout.contains("verified: the corp equals the file"),
        "{stdout}"
    );
    assert_eq!(names(), ["VIP", "贵宾客户"]);

    // Every old tag of the group goes and a new one comes, the corp still full: one old
    // tag is kept until the new one is in, so the group (and its id) survives.
    let group_id = fx
        .emu()
        .dump()
        .iter()
        .find(|g| g.group_name == "客户等级")
        .map(|g| g.group_id.clone());
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [金卡客户]\n",
    );
    let cfg = cfg.to_str().expect("path");
    let out = fx.run(&["plan", "-c", cfg, "--apply", "--tag-limit", "5"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("so the server does not remove the group"),
        "{stdout}"
    );
    assert_eq!(names(), ["金卡客户"]);
    let now = fx.emu().dump();
    let kept = now.iter().find(|g| g.group_name == "客户等级");
    assert_eq!(kept.map(|g| g.group_id.clone()), group_id, "same group");
}

#[test]
fn applying_a_saved_plan_with_nothing_to_do_prints_one_json_document_with_its_report() {
    let (fx, cfg) = Fixture::owning_ours_with(SAME);
    let out = fx.run(&["plan", "-c", cfg.as_str(), "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = fx.run(&["apply", "plan.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["changes"], false);
    assert_eq!(v["apply"]["exit_code"], 0);
    assert_eq!(v["apply"]["steps"], serde_json::json!([]));
    assert_eq!(fx.writes(), 0);
}

#[test]
fn a_refused_connection_says_once_what_is_retried_and_logs_plainly() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["export", "--api-base", "http://127.0.0.2:1"])
        .env("WECOM_CORP_ID", "ww1")
        .env("WECOM_CORP_SECRET", "s")
        .env("TAGSYNC_RETRY_BACKOFF_MS", common::bin::FAST_RETRIES)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let warns: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warns.len(), 1, "{err}");
    assert!(warns[0].contains("retrying, at most"), "{err}");
    assert!(err.contains("gave up after"), "{err}");

    // -v logs tagsync's own lines in words, not the HTTP stack's debug forms.
    let fx = Fixture::new();
    fx.adopt_ours();
    let out = fx.run(&["export", "-vv"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(err.contains("sending"), "{err}");
    assert!(!err.contains("Some("), "{err}");
    assert!(
        !err.contains("connection"),
        "hyper's logs only from -vvv: {err}"
    );
}

#[test]
fn a_bad_rate_share_is_refused_before_anything_is_sent() {
    let fx = Fixture::new();
    let out = fx
        .command(&["export"])
        .env("TAGSYNC_RATE_SHARE", "0")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("TAGSYNC_RATE_SHARE=\"0\" is not a percentage from 1 to 100"),
        "{}",
        both(&out)
    );
    assert_eq!(fx.emu().calls().len(), 0);
    let out = fx
        .command(&["export"])
        .env("TAGSYNC_RATE_SHARE", "50")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}
