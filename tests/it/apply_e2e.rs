//! `tagsync plan --apply` end to end: the binary against an emulator in this process.
//! The planner's scenario matrix applied and verified, the same under 20%
//! faults of every kind, a SIGKILL in the middle of a long apply and during its adds,
//! foreign items never touched, and a gate-blocked plan that sends nothing.
//!
//! Every check is on the end state (the emulator's dump and call log, the ledger file,
//! exit codes), never on timing or on where a kill landed.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use common::bin::{Fixture, both};
use common::scenarios::{
    ABSORBED, KEEP_SMALL, MIXED, OURS, assert_all_owned, assert_foreign_untouched,
    assert_no_duplicates, every_fault, fault_mix, mixed, owned_group, owned_in, scenarios, twelve,
    writes,
};
use common::small_seed;
use tagsync::emulator::{CallKind, CallRecord, FaultKind, Faults, SeedGroup};
use tagsync::ledger::Ledger;

/// A corp seeded with `seed`, whose items of our app are in the ledger (as an earlier
/// apply would have left it), and the config file `tags.yaml`.
struct Corp {
    fx: Fixture,
    config: PathBuf,
    ledger: PathBuf,
    /// The ledger is given with `--state` (else it is the default one beside the file).
    state: bool,
}

impl Corp {
    /// The ledger in its default place beside the file.
    fn new(seed: Vec<SeedGroup>) -> Corp {
        Corp::with_ledger(seed, None)
    }

    /// The ledger at `state` (relative to the temp dir), given with `--state`.
    fn with_ledger(seed: Vec<SeedGroup>, state: Option<&str>) -> Corp {
        let owned = owned_in(&seed);
        let fx = Fixture::with_seed(seed);
        let ledger = match state {
            Some(rel) => fx.dir.path().join(rel),
            None => fx.ledger_path(),
        };
        fx.own(&ledger, owned);
        Corp {
            config: fx.dir.path().join("tags.yaml"),
            fx,
            ledger,
            state: state.is_some(),
        }
    }

    /// `plan -c tags.yaml [--state LEDGER] ARGS`.
    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["plan", "-c", self.config.to_str().expect("utf-8 path")];
        if self.state {
            all.extend(["--state", self.ledger.to_str().expect("utf-8 path")]);
        }
        all.extend_from_slice(args);
        all
    }

    /// Runs `tagsync plan` with `file` as tags.yaml and these arguments.
    fn plan(&self, file: &str, args: &[&str]) -> Output {
        std::fs::write(&self.config, file).expect("write tags.yaml");
        self.fx.run(&self.args(args))
    }

    fn ledger(&self) -> Ledger {
        Ledger::load(&self.ledger, common::bin::CORP).expect("ledger loads")
    }

    /// Without faults: a second plan finds nothing to do (exit 0 with
    /// `--detailed-exitcode`), the emulator's state is the file, no name is there twice,
    /// the ledger has nothing pending and owns every id our app made.
    fn assert_converged(&self, file: &str, label: &str) {
        self.fx.emu().set_faults(Faults::none());
        let again = self.plan(file, &["--detailed-exitcode"]);
        assert_eq!(again.status.code(), Some(0), "{label}: {}", both(&again));
        let dump = self.fx.emu().dump();
        assert_dump_is_file(&dump, file, label);
        assert_no_duplicates(&dump, label);
        let ledger = self.ledger();
        assert!(ledger.pending.is_empty(), "{label}: {:?}", ledger.pending);
        assert_all_owned(&dump, &ledger.owned, label);
    }
}

/// The managed groups of `file` are in the dump in the file's order, each with exactly
/// the file's tags in the file's order (besides foreign tags the file does not name,
/// which are left alone); no group of ours is outside the file, unless it holds only
/// another app's tags (tagsync deletes the tags it owns there, never the group).
fn assert_dump_is_file(dump: &[SeedGroup], file: &str, label: &str) {
    let desired = tagsync::desired::load_str(file, "tags.yaml")
        .unwrap_or_else(|d| panic!("{label}: test file invalid:\n{d}"));
    let managed: Vec<_> = desired.groups.iter().filter(|g| g.managed).collect();
    let mut last = None;
    for g in &managed {
        let at = dump.iter().position(|d| d.group_name == g.name);
        let at = at.unwrap_or_else(|| panic!("{label}: group {:?} missing", g.name));
        let want: Vec<&str> = g.tags.iter().map(|t| t.name.as_str()).collect();
        let names: Vec<&str> = dump[at]
            .tag
            .iter()
            .filter(|t| t.owner.as_deref() == Some(OURS) || want.contains(&t.name.as_str()))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, want, "{label}: tags of {:?}", g.name);
        assert!(
            last.is_none_or(|l| l < at),
            "{label}: group {:?} out of the file's order",
            g.name
        );
        last = Some(at);
    }
    for d in dump.iter().filter(|d| d.owner.as_deref() == Some(OURS)) {
        if managed.iter().any(|g| g.name == d.group_name) {
            continue;
        }
        // A group of ours the file drops stays only for another app's tags in it.
        let ours: Vec<&str> = d
            .tag
            .iter()
            .filter(|t| t.owner.as_deref() == Some(OURS))
            .map(|t| t.name.as_str())
            .collect();
        assert!(
            ours.is_empty() && !d.tag.is_empty(),
            "{label}: our group {:?} is not in the file (our tags left: {ours:?})",
            d.group_name
        );
    }
}

/// `--allow-delete N` when the scenario allows deletes.
fn allow_args(allow: Option<usize>) -> Vec<String> {
    allow
        .map(|n| vec!["--allow-delete".to_string(), n.to_string()])
        .unwrap_or_default()
}

/// Runs every scenario's files through `tagsync plan --apply` and checks the end state.
///
/// Without `fault_seed`, each first run must exit 0. With it, every call kind fails 20%
/// of the time with any fault the emulator has (streams seeded from `fault_seed`, a
/// fresh one per file), steps run one at a time so that the faults land on the same
/// calls on every test run, and a first run may end:
/// - 0: done;
/// - 4: a step failed or verification found work left; one re-run finishes;
/// - 1: a wrong answer (not retried) to the first read; nothing was sent; one re-run
///   finishes.
///
/// Returns how many first runs ended with each exit code.
fn run_matrix(fault_seed: Option<u64>) -> BTreeMap<i32, usize> {
    let mut exits = BTreeMap::new();
    for (i, s) in scenarios().into_iter().enumerate() {
        let corp = Corp::new(s.seed.clone());
        let before = corp.fx.emu().dump();
        let allow = allow_args(s.options.allow_delete);
        let mut args = vec!["--apply"];
        args.extend(allow.iter().map(String::as_str));
        if fault_seed.is_some() {
            args.extend(["--parallelism", "1"]);
        }
        for (k, file) in s.files.iter().enumerate() {
            let label = format!("{} (file {k})", s.name);
            let stream = fault_seed.map(|seed| seed + i as u64 * 100 + k as u64);
            let faults = |kinds: &[FaultKind], salt: u64| match stream {
                Some(seed) => fault_mix(seed + salt, kinds, 0.2),
                None => Faults::none(),
            };
            corp.fx.emu().set_faults(faults(&every_fault(), 0));
            let sent_before = corp.fx.writes();
            let first = corp.plan(file, &args);
            let code = first.status.code().unwrap_or(-1);
            *exits.entry(code).or_insert(0) += 1;
            match code {
                0 => {}
                4 | 1 if fault_seed.is_some() => {
                    if code == 1 {
                        let sent = corp.fx.writes() - sent_before;
                        assert_eq!(sent, 0, "{label}: exit 1 after sending: {}", both(&first));
                    }
                    // Still under the faults the client absorbs.
                    corp.fx.emu().set_faults(faults(&ABSORBED, 50));
                    let second = corp.plan(file, &args);
                    assert_eq!(
                        second.status.code(),
                        Some(0),
                        "{label}: no convergence after one re-run\nfirst: {}\nsecond: {}",
                        both(&first),
                        both(&second)
                    );
                }
                _ => panic!("{label}: first run: {}", both(&first)),
            }
            corp.assert_converged(file, &label);
        }
        assert_foreign_untouched(
            &before,
            &corp.fx.emu().dump(),
            &corp.fx.emu().calls(),
            s.name,
        );
    }
    exits
}

#[test]
fn the_scenario_matrix_applies_verifies_and_plans_to_zero() {
    let exits = run_matrix(None);
    assert_eq!(exits.keys().collect::<Vec<_>>(), [&0]);
}

#[test]
fn the_matrix_converges_under_twenty_percent_faults_of_every_kind() {
    let mut exits = BTreeMap::new();
    for seed in [7_u64, 1009, 40_961, 77_777] {
        for (code, n) in run_matrix(Some(seed)) {
            *exits.entry(code).or_insert(0) += n;
        }
    }
    // The seeds are chosen so that each way a first run can end happens at least once
    // (the runs are deterministic): otherwise a re-run path would go untested.
    for code in [0, 1, 4] {
        assert!(exits.get(&code).is_some_and(|n| *n > 0), "{exits:?}");
    }
}

/// Spawns tagsync with its output going to files in the temp dir (a pipe nobody reads
/// could block it).
fn spawn(corp: &Corp, file: &str, args: &[&str]) -> Child {
    std::fs::write(&corp.config, file).expect("write tags.yaml");
    let out = |name: &str| {
        Stdio::from(std::fs::File::create(corp.fx.dir.path().join(name)).expect("output file"))
    };
    corp.fx
        .command(&corp.args(args))
        .stdout(out("killed.stdout"))
        .stderr(out("killed.stderr"))
        .spawn()
        .expect("spawn tagsync")
}

/// How long a test waits for the child to reach a point before it fails (not a timing
/// assertion: the points come in well under a second; this only bounds a hang).
const PATIENCE: Duration = Duration::from_secs(120);

/// Polls the emulator's call log until `enough` holds, then kills the child (SIGKILL on
/// Unix). Panics with the child's output if it ended first, or after [`PATIENCE`].
fn kill_when(corp: &Corp, mut child: Child, enough: impl Fn(&[CallRecord]) -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child never reached the point of the kill in {PATIENCE:?}");
        }
        if enough(&corp.fx.emu().calls()) {
            child.kill().expect("kill");
            child.wait().expect("reaped");
            return;
        }
        if let Some(status) = child.try_wait().expect("child status") {
            let read = |n: &str| std::fs::read_to_string(corp.fx.dir.path().join(n));
            panic!(
                "tagsync ended ({status}) before the kill:\n{:?}\n{:?}",
                read("killed.stdout"),
                read("killed.stderr")
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// After a kill: a re-run exits 0 and the corp is the file, no name twice, every id our
/// app made (the seed's and the run's) owned by the ledger.
fn rerun_after_kill(corp: &Corp, file: &str, label: &str) {
    corp.fx.emu().set_faults(Faults::none());
    let out = corp.plan(file, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{label}: {}", both(&out));
    corp.assert_converged(file, label);
}

/// Ten groups of ours with fifty tags each, and a file renaming all 500 tags.
fn five_hundred() -> (Vec<SeedGroup>, String) {
    let mut seed = small_seed();
    let mut file = String::from("version: 1\ngroups:\n");
    for g in 0..10 {
        let tags: Vec<(String, String)> = (0..50)
            .map(|t| (format!("etK{g:02}{t:02}"), format!("旧{g}-{t}")))
            .collect();
        let pairs: Vec<(&str, &str)> = tags.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        seed.push(owned_group(
            &format!("etKG{g:02}"),
            &format!("组{g}"),
            100 - g,
            &pairs,
        ));
        file.push_str(&format!("  - name: 组{g}\n    tags:\n"));
        for (_, name) in &tags {
            let new = name.replace('旧', "新");
            file.push_str(&format!(
                "      - name: {new}\n        previously: [{name}]\n"
            ));
        }
    }
    // Our group of the small seed comes after them, as in the corp.
    file.push_str("  - name: 客户等级\n    tags: [VIP, 普通客户]\n");
    (seed, file)
}

#[test]
fn sigkill_halfway_through_500_renames_then_a_rerun_finishes_the_file() {
    let (seed, file) = five_hundred();
    let corp = Corp::with_ledger(seed, Some("state/ledger.json"));
    let planned = corp.plan(&file, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&planned.stdout).expect("JSON plan");
    assert_eq!(
        v["steps"].as_array().map(Vec::len),
        Some(500),
        "one edit per tag"
    );
    corp.fx
        .emu()
        .set_faults(Faults::none().latency_all(Duration::from_millis(5), Duration::from_millis(5)));
    let child = spawn(&corp, &file, &["--apply"]);
    kill_when(&corp, child, |calls| writes(calls) >= 250);
    rerun_after_kill(&corp, &file, "after a kill amid renames");
    let dump = corp.fx.emu().dump();
    let tags: usize = dump.iter().map(|g| g.tag.len()).sum();
    assert_eq!(
        tags,
        500 + 2 + 3,
        "no tag made or lost: ours and the foreign ones"
    );
    assert!(
        !corp.fx.ledger_path().exists(),
        "the ledger is the one --state names"
    );
}

/// Our seed group with a new tag, then thirty new groups of three tags each: adds into
/// a group that exists and into new ones.
fn thirty_new_groups() -> String {
    let mut file = String::from(
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户, 潜在客户]\n",
    );
    for g in 0..30 {
        file.push_str(&format!(
            "  - name: 新组{g}\n    tags: [甲{g}, 乙{g}, 丙{g}]\n"
        ));
    }
    file
}

#[test]
fn sigkill_after_an_add_committed_and_before_it_was_recorded_then_a_rerun_claims_it() {
    let corp = Corp::new(small_seed());
    let file = thirty_new_groups();
    // The first add commits and loses its answer; the re-read that would settle it is
    // slow, and the process is killed while it waits: the add is on the corp and only
    // pending in the ledger. The other adds run meanwhile.
    corp.fx.emu().set_faults(
        Faults::none()
            .latency_all(Duration::from_millis(5), Duration::ZERO)
            .latency(CallKind::List, Duration::from_millis(500), Duration::ZERO)
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop),
    );
    let child = spawn(&corp, &file, &["--apply"]);
    kill_when(&corp, child, |calls| {
        calls
            .iter()
            .any(|c| c.kind == CallKind::Add && c.fault == Some(FaultKind::CommitThenDrop))
    });
    rerun_after_kill(&corp, &file, "after a kill amid adds");
    let adds = corp
        .fx
        .emu()
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Add)
        .count();
    assert!(adds >= 31, "every add sent: {adds}");
}

/// A change the file asks of a foreign item: what, the item's id, the file's part.
struct ForeignChange {
    what: &'static str,
    id: &'static str,
    part: &'static str,
}

/// Changes the plan must block (the item is not ours): a rename, a reorder, a group's
/// rename.
const BLOCKED_FOREIGN_CHANGES: [ForeignChange; 3] = [
    ForeignChange {
        what: "rename an admin tag",
        id: "etTagMaking000000000000000000000",
        part: "  - name: 行业\n    tags:\n      - name: 制造\n        previously: [制造业]\n      - 零售\n",
    },
    ForeignChange {
        what: "reorder admin tags",
        id: "etTagRetail000000000000000000000",
        part: "  - name: 行业\n    tags: [零售, 制造业]\n",
    },
    ForeignChange {
        what: "rename another app's group",
        id: "etGroupCrm000000000000000000000",
        part: "  - name: 渠道\n    previously: [来源]\n    tags: [官网]\n",
    },
];

/// The small seed's group of ours, reordered, then `part`.
fn with_our_reorder(part: &str) -> String {
    format!("version: 1\ngroups:\n  - name: 客户等级\n    tags: [普通客户, VIP]\n{part}")
}

#[test]
fn a_plan_that_would_change_a_foreign_item_is_blocked_whole_and_sends_nothing() {
    for ForeignChange { what, id, part } in BLOCKED_FOREIGN_CHANGES {
        let corp = Corp::new(small_seed());
        let before = corp.fx.emu().dump();
        let out = corp.plan(
            &with_our_reorder(part),
            &["--apply", "--allow-delete", "10"],
        );
        assert_eq!(out.status.code(), Some(3), "{what}: {}", both(&out));
        assert!(
            common::bin::text(&out.stdout).contains("not owned"),
            "{what}: {}",
            both(&out)
        );
        let calls = corp.fx.emu().calls();
        assert_eq!(writes(&calls), 0, "{what}: not even our reorder is sent");
        assert!(
            !calls.iter().any(|c| c.body.to_string().contains(id)),
            "{what}: {id} was sent"
        );
        assert_eq!(corp.fx.emu().dump(), before, "{what}: nothing changed");
    }
}

#[test]
fn foreign_items_left_out_of_the_file_stay_with_allow_delete() {
    // 来源 (another app's) is in the file without its tag 官网; 行业 (the admin's) is
    // not in the file at all. Neither is deleted: they are not ours, so the plan leaves
    // them alone and applies the rest.
    let file = with_our_reorder("  - name: 来源\n    tags: [官网新]\n");
    let corp = Corp::new(small_seed());
    let before = corp.fx.emu().dump();
    let out = corp.plan(&file, &["--apply", "--allow-delete", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let label = "foreign items left out";
    corp.assert_converged(&file, label);
    let web = corp
        .fx
        .emu()
        .dump()
        .into_iter()
        .find(|g| g.group_name == "来源");
    let web: Vec<String> = web
        .expect("来源")
        .group
        .tag
        .into_iter()
        .map(|t| t.tag.name)
        .collect();
    assert!(web.contains(&"官网".to_string()), "{label}: {web:?}");
    let calls = corp.fx.emu().calls();
    assert!(calls.iter().all(|c| c.kind != CallKind::Delete), "{label}");
    assert_foreign_untouched(&before, &corp.fx.emu().dump(), &calls, label);
}

#[test]
fn a_gate_blocked_plan_sends_no_write_and_exits_3() {
    let corp = Corp::new(twelve());
    let before = corp.fx.emu().dump();
    for args in [&["--apply"][..], &["--apply", "--allow-delete", "11"][..]] {
        let out = corp.plan(KEEP_SMALL, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", both(&out));
        assert!(
            common::bin::text(&out.stdout).contains("nothing was sent"),
            "{}",
            both(&out)
        );
        assert_eq!(corp.fx.writes(), 0, "{args:?}: the call log has no write");
        assert_eq!(corp.fx.emu().dump(), before);
    }
    let kinds: Vec<CallKind> = corp.fx.emu().calls().iter().map(|c| c.kind).collect();
    assert!(
        kinds
            .iter()
            .all(|k| matches!(k, CallKind::GetToken | CallKind::List)),
        "{kinds:?}"
    );
    // The gate was the only reason: allowed, the same file applies.
    let out = corp.plan(KEEP_SMALL, &["--apply", "--allow-delete", "12"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    corp.assert_converged(KEEP_SMALL, "twelve deletes allowed");
}

#[test]
fn sigkill_after_each_write_of_a_mixed_plan_then_a_rerun_finishes_the_file() {
    let options_allow = ["--allow-delete", "3"];
    for k in 1..=15 {
        let corp = Corp::new(mixed());
        corp.fx
            .emu()
            .set_faults(Faults::none().latency_all(Duration::from_millis(3), Duration::ZERO));
        let mut args = vec!["--apply", "--parallelism", "1"];
        args.extend(options_allow);
        let child = spawn(&corp, MIXED, &args);
        kill_when(&corp, child, |calls| writes(calls) >= k);
        corp.fx.emu().set_faults(Faults::none());
        let out = corp.plan(MIXED, &args);
        assert_eq!(out.status.code(), Some(0), "k={k}: {}", both(&out));
        corp.assert_converged(MIXED, &format!("killed after {k} writes"));
    }
}

/// `tagsync plan --apply` of 500 renames (5 ms a call, ledger at `state/ledger.json`),
/// returned once `writes` of them are answered and it is still running.
#[cfg(unix)]
fn applying_500_renames(writes_done: usize) -> (Corp, String, std::process::Child) {
    let (seed, file) = five_hundred();
    let corp = Corp::with_ledger(seed, Some("state/ledger.json"));
    corp.fx
        .emu()
        .set_faults(Faults::none().latency_all(Duration::from_millis(5), Duration::from_millis(5)));
    let mut child = spawn(&corp, &file, &["--apply"]);
    let deadline = std::time::Instant::now() + PATIENCE;
    while writes(&corp.fx.emu().calls()) < writes_done {
        assert!(
            child.try_wait().expect("child status").is_none(),
            "tagsync ended before the interrupt"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {writes_done} writes in {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    (corp, file, child)
}

/// Send SIGINT, as Ctrl-C does.
#[cfg(unix)]
fn interrupt(child: &std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
}

/// Ctrl-C (SIGINT) amid 500 renames: tagsync sends nothing more, lets the steps in flight
/// finish, records them, reports the rest as not attempted (exit 4); a re-run finishes.
#[cfg(unix)]
#[test]
fn sigint_stops_sending_records_what_was_done_and_a_rerun_finishes() {
    let (corp, file, child) = applying_500_renames(100);
    interrupt(&child);
    let mut child = child;
    let status = child.wait().expect("reaped");
    let read = |n: &str| std::fs::read_to_string(corp.fx.dir.path().join(n)).expect("output");
    assert_eq!(status.code(), Some(4), "{}", read("killed.stderr"));
    let stdout = read("killed.stdout");
    assert!(
        stdout.contains("interrupted before this step was sent"),
        "{stdout}"
    );
    assert!(read("killed.stderr").contains("interrupted"));
    let done = writes(&corp.fx.emu().calls());
    assert!(done < 500, "it stopped sending: {done} writes");
    let ledger = corp.ledger();
    assert!(
        ledger.pending.is_empty(),
        "every step in flight was settled"
    );
    rerun_after_kill(&corp, &file, "after an interrupt");
}

/// A second Ctrl-C stops at once (exit 130) and leaves no lock file beside the ledger;
/// the next run claims what was created and finishes.
#[cfg(unix)]
#[test]
fn a_second_sigint_exits_130_without_leaving_the_lock_file() {
    let (corp, file, mut child) = applying_500_renames(100);
    let lock = corp.fx.dir.path().join("state/.ledger.json.lock");
    assert!(lock.exists(), "the lock is held while applying");
    // Slow calls from now on, so that steps are still in flight at the second interrupt.
    corp.fx.emu().set_faults(
        Faults::none().latency_all(Duration::from_millis(2_000), Duration::from_millis(5)),
    );
    interrupt(&child);
    // The second Ctrl-C only after tagsync said it took the first (one sent before it
    // listens again would be taken as the first).
    let stderr = corp.fx.dir.path().join("killed.stderr");
    let deadline = std::time::Instant::now() + PATIENCE;
    while !std::fs::read_to_string(&stderr).is_ok_and(|e| e.contains("Ctrl-C again")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first interrupt was not acknowledged in {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(&child);
    let status = child.wait().expect("reaped");
    let read = |n: &str| std::fs::read_to_string(corp.fx.dir.path().join(n)).expect("output");
    assert_eq!(status.code(), Some(130), "{}", read("killed.stderr"));
    assert!(
        read("killed.stderr").contains("stopped at once")
            && read("killed.stderr").contains("plan again to see what is left"),
        "{}",
        read("killed.stderr")
    );
    assert!(!lock.exists(), "the lock file was removed");
    rerun_after_kill(&corp, &file, "after a second interrupt");
}
