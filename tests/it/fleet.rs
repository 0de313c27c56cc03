//! `tagsync fleet` through the binary against one emulator hosting every corp (issue
//! #19, "Done when"): a 20-corp fleet with a shared base file and per-corp additions
//! plans and applies; a corp with a bad secret and one with a blocked plan are reported
//! while the other 18 apply and verify; `--shard` partitions are disjoint and cover the
//! fleet; merge conflicts name both files and lines; a secret written in the fleet file
//! is refused; no secret appears in any output.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use tagsync::emulator::{self, App, EmulatorConfig, EmulatorHandle, SeedGroup, Suite};
use tagsync::ledger::{Ledger, app_fingerprint};

use crate::common::bin::{FAST_RETRIES, both, regex_escape, text};
use crate::common::{group, tag};

const CORPS: usize = 20;
/// The corp whose secret variable holds a wrong secret.
const BAD_SECRET: usize = 3;
/// The corp whose plan deletes 12 owned tags (more than the gate's 10).
const BLOCKED: usize = 7;
/// Corps of a third-party app (the suite flow with their permanent codes).
const SUITE_CORPS: [usize; 2] = [18, 19];
const SUITE_ID: &str = "wwsuite-fleet";
const SUITE_SECRET: &str = "suite-secret-value-0001";
const SUITE_TICKET: &str = "suite-ticket-value-0001";

fn corp_id(i: usize) -> String {
    format!("ww-fleet-{i:02}")
}
fn label(i: usize) -> String {
    format!("corp{i:02}")
}
fn secret(i: usize) -> String {
    format!("fleet-secret-{i:02}-s3cr3t")
}
fn permanent_code(i: usize) -> String {
    format!("fleet-permanent-code-{i:02}")
}

/// The blocked corp's seed: a group of 12 tags tagsync made, which no file lists.
fn blocked_seed() -> Vec<SeedGroup> {
    let tags = (0..12)
        .map(|t| {
            tag(
                &format!("etOld{t:02}"),
                &format!("旧标签{t}"),
                100 - t,
                Some("tagsync"),
            )
        })
        .collect();
    vec![group("etOldGroup", "旧分组", 10, Some("tagsync"), tags)]
}

/// One emulator hosting `configs` on a free loopback port, and the runtime it runs on.
fn start_corps(configs: Vec<EmulatorConfig>) -> (tokio::runtime::Runtime, EmulatorHandle) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let emu = rt
        .block_on(emulator::start_corps_on(addr, configs))
        .unwrap();
    (rt, emu)
}

struct FleetFx {
    rt: tokio::runtime::Runtime,
    emu: Option<EmulatorHandle>,
    dir: tempfile::TempDir,
}

impl FleetFx {
    /// 20 corps in one emulator; the fleet file, a base file and each corp's additions.
    fn new() -> FleetFx {
        let configs = (0..CORPS)
            .map(|i| EmulatorConfig {
                corp_id: corp_id(i),
                apps: vec![App {
                    name: "tagsync".into(),
                    secret: secret(i),
                    legacy: false,
                }],
                suites: if SUITE_CORPS.contains(&i) {
                    vec![Suite {
                        suite_id: SUITE_ID.into(),
                        suite_secret: SUITE_SECRET.into(),
                        suite_ticket: SUITE_TICKET.into(),
                        permanent_code: permanent_code(i),
                        app: "tagsync".into(),
                    }]
                } else {
                    Vec::new()
                },
                seed: if i == BLOCKED {
                    blocked_seed()
                } else {
                    Vec::new()
                },
                ..Default::default()
            })
            .collect();
        let (rt, emu) = start_corps(configs);
        let fx = FleetFx {
            rt,
            emu: Some(emu),
            dir: tempfile::tempdir().unwrap(),
        };
        fx.write(
            "base.yaml",
            "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 来源渠道\n    tags: [官网, 展会]\n",
        );
        let mut fleet = String::from(
            "version: 1\ndefaults:\n  concurrency: 4\n  files: [base.yaml]\n  suite:\n    suite_id: wwsuite-fleet\n    secret_env: FLEET_SUITE_SECRET\n    ticket_env: FLEET_SUITE_TICKET\ncorps:\n",
        );
        for i in 0..CORPS {
            fx.write(
                &format!("corps/{}.yaml", label(i)),
                &format!(
                    "version: 1\ngroups:\n  - name: 客户等级\n    tags: [金牌{i}]\n  - name: 专属{i}\n    tags: [a{i}, b{i}]\n"
                ),
            );
            let credentials = if SUITE_CORPS.contains(&i) {
                format!("permanent_code_env: FLEET_CODE_{i:02}")
            } else {
                format!("secret_env: FLEET_SECRET_{i:02}")
            };
            fleet.push_str(&format!(
                "  - id: {}\n    corp_id: {}\n    {credentials}\n    files: [corps/{}.yaml]\n",
                label(i),
                corp_id(i),
                label(i)
            ));
            // A gate of its own, too low for its deletes: the command line must win.
            if i == BLOCKED {
                fleet.push_str("    allow_delete: 5\n");
            }
        }
        fx.write("fleet.yaml", &fleet);
        // The blocked corp's ledger: tagsync made the 12 tags and their group.
        let path = Ledger::default_path(&fx.dir.path().join("fleet.yaml"), &corp_id(BLOCKED));
        let mut ledger = Ledger::new(corp_id(BLOCKED));
        ledger.app = Some(app_fingerprint(&corp_id(BLOCKED), &secret(BLOCKED)));
        ledger.record(
            (0..12)
                .map(|t| format!("etOld{t:02}"))
                .chain(["etOldGroup".into()]),
        );
        ledger.save(&path).unwrap();
        fx
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().unwrap()
    }

    /// `tagsync fleet ARGS` with every corp's secret in its variable (a wrong one for
    /// the bad-secret corp).
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tagsync"));
        c.arg("fleet").args(args);
        if matches!(args.first(), Some(&"plan" | &"apply")) {
            c.arg("--api-base").arg(self.emu().base_url());
        }
        c.env("TAGSYNC_RETRY_BACKOFF_MS", FAST_RETRIES)
            .env("FLEET_SUITE_SECRET", SUITE_SECRET)
            .env("FLEET_SUITE_TICKET", SUITE_TICKET)
            .env_remove("WECOM_API_BASE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        for i in 0..CORPS {
            let value = if i == BAD_SECRET {
                "wrong-secret-value".to_string()
            } else {
                secret(i)
            };
            c.env(format!("FLEET_SECRET_{i:02}"), value);
            c.env(format!("FLEET_CODE_{i:02}"), permanent_code(i));
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert_no_secret(&out);
        out
    }

    /// The live groups of a corp: names and tag names, in list order.
    fn groups(&self, i: usize) -> Vec<(String, BTreeSet<String>)> {
        self.emu()
            .dump_corp(&corp_id(i))
            .unwrap()
            .iter()
            .map(|g| {
                let tags = g.tag.iter().map(|t| t.name.clone()).collect();
                (g.group_name.clone(), tags)
            })
            .collect()
    }
}

impl Drop for FleetFx {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

/// No secret, suite secret, ticket or permanent code in either stream.
fn assert_no_secret(out: &Output) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let mut secrets: Vec<String> = (0..CORPS)
        .flat_map(|i| [secret(i), permanent_code(i)])
        .collect();
    secrets.extend([
        SUITE_SECRET.into(),
        SUITE_TICKET.into(),
        "wrong-secret-value".into(),
    ]);
    for s in secrets {
        assert!(
            !all.contains(&s),
            "a secret in the output: {s}\n{}",
            both(out)
        );
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", both(out)))
}

/// Each corp's `result` by label.
fn results(doc: &Value) -> Vec<(String, String)> {
    doc["corps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            (id, c["result"].as_str().unwrap().to_string())
        })
        .collect()
}

fn expected_groups(i: usize) -> Vec<(String, BTreeSet<String>)> {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    vec![
        (
            "客户等级".into(),
            set(&["VIP", "普通客户", &format!("金牌{i}")]),
        ),
        ("来源渠道".into(), set(&["官网", "展会"])),
        (
            format!("专属{i}"),
            set(&[&format!("a{i}"), &format!("b{i}")]),
        ),
    ]
}

#[test]
fn a_fleet_of_20_plans_and_applies_past_a_bad_secret_and_a_blocked_corp() {
    let fx = FleetFx::new();

    // With every log on (the HTTP stack's too): still no secret on either stream.
    let out = fx.run(&["plan", "--format", "json", "-vvv"]);
    assert!(
        text(&out.stderr).contains("gettoken"),
        "the logs name the calls"
    );
    assert!(
        text(&out.stderr).contains(&format!("corp{{id={}}}: read the corp", label(0))),
        "each corp's log lines name it"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the worst corp: an error\n{}",
        both(&out)
    );
    let doc = json(&out);
    assert!(
        text(&out.stdout).starts_with("{\n  \"format_version\": 1,\n"),
        "{}",
        both(&out)
    );
    assert!(doc.get("shard").is_none(), "no shard: no `shard`");
    assert_eq!(doc["exit"], 1);
    assert_eq!(doc["kind"], "tagsync-fleet");
    assert_eq!(doc["mode"], "plan");
    let planned = results(&doc);
    assert_eq!(planned.len(), CORPS);
    for (i, (id, result)) in planned.iter().enumerate() {
        assert_eq!(id, &label(i), "fleet order");
        let expected = match i {
            BAD_SECRET => "error",
            BLOCKED => "blocked",
            _ => "changes",
        };
        assert_eq!(result, expected, "{id}");
    }
    let bad = &doc["corps"][BAD_SECRET];
    assert!(bad["error"].as_str().unwrap().contains("40001"), "{bad}");
    let blocked = &doc["corps"][BLOCKED];
    assert_eq!(
        blocked["deletes"], 13,
        "the old group and its 12 tags: {blocked}"
    );
    assert_eq!(blocked["plan"]["blocked"], true);
    // Each corp's plan is the JSON plan document of `tagsync plan`, of the merged files.
    let first = &doc["corps"][0];
    assert_eq!(first["plan"]["format_version"], 2);
    assert_eq!(first["plan"]["file"], "base.yaml + corps/corp00.yaml");
    assert_eq!(
        (first["calls"].as_u64(), first["adds"].as_u64()),
        (Some(3), Some(10))
    );
    // Nothing was sent by the plan.
    for i in 0..CORPS {
        let writes = fx.emu().calls_corp(&corp_id(i)).unwrap();
        assert!(
            writes
                .iter()
                .all(|c| c.kind.is_token_call() || c.kind == emulator::CallKind::List)
        );
    }

    let out = fx.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("tagsync fleet apply: 20 corps: 1 error, 1 blocked, 18 applied"),
        "{stdout}"
    );
    let row = |id: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
    };
    assert!(row("corp03").ends_with("  error"), "{stdout}");
    assert!(
        row("corp07").ends_with("13        1      0  blocked"),
        "{stdout}"
    );
    for i in 0..CORPS {
        match i {
            BAD_SECRET => assert!(fx.groups(i).is_empty(), "nothing reached corp {i}"),
            BLOCKED => assert_eq!(fx.groups(i).len(), 1, "the blocked corp is untouched"),
            _ => assert_eq!(fx.groups(i), expected_groups(i), "corp {i}"),
        }
    }

    // Converged: a new plan has nothing to do but the two corps that could not apply.
    let out = fx.run(&["plan", "--format", "json", "--detailed-exitcode"]);
    let doc = json(&out);
    for (i, (_, result)) in results(&doc).iter().enumerate() {
        let expected = match i {
            BAD_SECRET => "error",
            BLOCKED => "blocked",
            _ => "no_changes",
        };
        assert_eq!(result, expected, "corp {i}");
    }
    // Each applied corp has its own ledger, with no secret in it.
    for i in (0..CORPS).filter(|i| ![BAD_SECRET, BLOCKED].contains(i)) {
        let path = Ledger::default_path(&fx.dir.path().join("fleet.yaml"), &corp_id(i));
        let ledger = std::fs::read_to_string(&path).unwrap();
        assert!(!ledger.contains(&secret(i)) && !ledger.contains(&permanent_code(i)));
        assert_eq!(
            Ledger::load(&path, &corp_id(i)).unwrap().owned.len(),
            10,
            "3 groups, 7 tags: corp {i}"
        );
    }

    // The blocked corp applies once its deletes are allowed, through the same gates: the
    // command line's `--allow-delete` over the corp's own `allow_delete: 5`.
    let out = fx.run(&["apply", "--allow-delete", "12", "--format", "markdown"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the bad secret is still bad\n{}",
        both(&out)
    );
    assert!(
        text(&out.stdout).starts_with("<!-- tagsync-fleet -->\n"),
        "{}",
        both(&out)
    );
    assert_eq!(fx.groups(BLOCKED), expected_groups(BLOCKED));
}

fn shard_ids(fx: &FleetFx, shard: &str) -> (Vec<String>, PathBuf) {
    let out = fx.run(&["plan", "--format", "json", "--shard", shard]);
    let doc = json(&out);
    assert_eq!(doc["shard"], shard);
    let path = fx.write(
        &format!("shard-{}.json", shard.replace('/', "-of-")),
        &text(&out.stdout),
    );
    (results(&doc).into_iter().map(|(id, _)| id).collect(), path)
}

#[test]
fn shards_are_disjoint_cover_the_fleet_and_merge_into_one_summary() {
    let fx = FleetFx::new();
    for n in [2, 3, 5] {
        let mut all = Vec::new();
        let mut files = Vec::new();
        for k in 1..=n {
            let (ids, path) = shard_ids(&fx, &format!("{k}/{n}"));
            all.extend(ids);
            files.push(path);
        }
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(all.len(), CORPS, "disjoint: {all:?}");
        assert_eq!(unique.len(), CORPS, "covering: {all:?}");
        if n == 3 {
            let mut args = vec!["merge".to_string()];
            args.extend(files.iter().map(|f| f.display().to_string()));
            let merged = fx.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(merged.status.code(), Some(0), "{}", both(&merged));
            let md = text(&merged.stdout);
            assert!(md.starts_with("<!-- tagsync-fleet -->\n## tagsync fleet plan: 20 corps: 1 error, 1 blocked, 18 changes"), "{md}");
            for i in 0..CORPS {
                assert!(
                    md.contains(&format!("| {} |", label(i))),
                    "{} in the table",
                    label(i)
                );
            }
            // A shard missing (its job failed or was cancelled) is said, and fails.
            let partial = fx.run(&[
                "merge",
                files[0].to_str().unwrap(),
                files[2].to_str().unwrap(),
            ]);
            assert_eq!(partial.status.code(), Some(1), "{}", both(&partial));
            assert!(
                text(&partial.stdout).contains("INCOMPLETE: no output of shard 2/3"),
                "{}",
                both(&partial)
            );
            // The same shard twice is refused.
            let twice = fx.run(&[
                "merge",
                files[0].to_str().unwrap(),
                files[0].to_str().unwrap(),
            ]);
            assert_eq!(twice.status.code(), Some(1));
            assert!(
                text(&twice.stderr).contains("is in both"),
                "{}",
                both(&twice)
            );
        }
    }
    // Stable by label: adding a corp moves no other corp between shards.
    let (before, _) = shard_ids(&fx, "2/3");
    let fleet = std::fs::read_to_string(fx.dir.path().join("fleet.yaml")).unwrap();
    fx.write(
        "fleet.yaml",
        &format!("{fleet}  - id: newcomer\n    corp_id: ww-new\n    secret_env: NEW_SECRET\n"),
    );
    let (after, _) = shard_ids(&fx, "2/3");
    let after: Vec<&String> = after.iter().filter(|id| *id != "newcomer").collect();
    assert_eq!(after, before.iter().collect::<Vec<_>>());
}

/// A fleet file and desired files in a temp dir, for the offline checks.
fn offline(
    files: &[(&str, &str)],
    args: &[&str],
) -> (Output, Vec<(String, &'static str)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("fleet")
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let filters = vec![(regex_escape(&dir.path().display().to_string()), "[TMP]")];
    (out, filters, dir)
}

#[test]
fn merge_conflicts_name_both_files_and_lines() {
    let (out, filters, _dir) = offline(
        &[
            (
                "fleet.yaml",
                "version: 1\ndefaults:\n  files: [base.yaml]\ncorps:\n  - id: acme\n    corp_id: ww-acme\n    secret_env: ACME_SECRET\n    files: [corps/acme.yaml]\n  - id: good\n    corp_id: ww-good\n    secret_env: GOOD_SECRET\n",
            ),
            (
                "base.yaml",
                "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 行业\n    managed: false\n    tags: [制造业]\n",
            ),
            (
                "corps/acme.yaml",
                "version: 1\ngroups:\n  - name: 客户等级\n    order: ignore\n    tags: [VIP, 金牌]\n  - name: 行业\n    managed: true\n    tags: [零售]\n",
            ),
        ],
        &["validate"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    insta::with_settings!({filters => filters.iter().map(|(a, b)| (a.as_str(), *b)).collect::<Vec<_>>()}, {
        insta::assert_snapshot!(text(&out.stderr));
    });
}

#[test]
fn a_secret_written_in_the_fleet_file_is_refused_without_showing_it() {
    let (out, filters, _dir) = offline(
        &[
            (
                "base.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a]\n",
            ),
            (
                "fleet.yaml",
                "version: 1\ndefaults:\n  files: [base.yaml]\ncorps:\n  - id: acme\n    corp_id: ww-acme\n    secret: hunter2-literal-secret\n  - id: acme\n    corp_id: ww-other\n    secret_env: OTHER\n    colour: blue\n",
            ),
        ],
        &["plan"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    insta::with_settings!({filters => filters.iter().map(|(a, b)| (a.as_str(), *b)).collect::<Vec<_>>()}, {
        insta::assert_snapshot!(stderr);
    });
    assert!(out.stdout.is_empty(), "nothing planned");
}

#[test]
fn a_secret_in_place_of_a_variable_name_or_under_an_unknown_key_is_never_shown() {
    let (out, _, _dir) = offline(
        &[
            (
                "base.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a]\n",
            ),
            (
                "fleet.yaml",
                "version: 1\ndefaults:\n  files: [base.yaml]\ncorps:\n  - id: acme\n    corp_id: ww.d\n    secret_env: hunter2SecretValue\n  - id: other\n    corp_id: ww_d\n    secret_env: OTHER\n    credentials:\n      app_secret: hunter3-nested\n",
            ),
        ],
        &["plan"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let all = both(&out);
    assert!(
        !all.contains("hunter2") && !all.contains("hunter3"),
        "{all}"
    );
    assert!(all.contains("must name an environment variable"), "{all}");
    assert!(all.contains("unknown key `credentials`"), "{all}");
    assert!(
        all.contains("the corps `ww.d` and `ww_d` would share one ledger file"),
        "{all}"
    );
}

#[test]
fn the_fleet_comment_fits_the_limit_by_shortening_the_largest_plans_first() {
    let fx = FleetFx::new();
    let big = |n: usize| {
        let tags: Vec<String> = (0..n).map(|t| format!("批量标签{t:04}")).collect();
        format!(
            "version: 1\ngroups:\n  - name: 大分组\n    tags: [{}]\n",
            tags.join(", ")
        )
    };
    fx.write("corps/corp05.yaml", &big(3000));
    fx.write("corps/corp06.yaml", &big(300));
    let out = fx.run(&["plan", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let md = text(&out.stdout);
    assert!(
        md.chars().count() <= tagsync::render::markdown::MAX_CHARS,
        "{}",
        md.chars().count()
    );
    let section = |id: &str| {
        let start = md
            .find(&format!("<details><summary>{id} ("))
            .unwrap_or_else(|| panic!("{id}: {md}"));
        let end = md[start..]
            .find("\n</details>\n\n<details><summary>corp")
            .map_or(md.len(), |e| start + e);
        md[start..end].to_string()
    };
    // The largest plan is cut, until the comment fits; the others are whole.
    let largest = section("corp05");
    assert!(
        largest.chars().count() < 5_000,
        "corp05 shortened: {largest}"
    );
    assert!(
        largest.contains("批量标签0000") && !largest.contains("批量标签2999"),
        "{largest}"
    );
    assert!(
        section("corp00").contains("File-level view"),
        "{}",
        section("corp00")
    );
    assert!(
        section("corp19").contains("金牌19"),
        "{}",
        section("corp19")
    );
}

/// The kit's scripts (examples/ci) run in the fixture's directory, with the secrets as
/// `toJSON(secrets)` gives them (the bad-secret corp's wrong).
struct Kit<'a> {
    fx: &'a FleetFx,
    secrets: serde_json::Map<String, Value>,
}

impl<'a> Kit<'a> {
    fn new(fx: &'a FleetFx) -> Self {
        let mut secrets = serde_json::Map::new();
        for i in 0..CORPS {
            let value = if i == BAD_SECRET {
                "wrong-secret-value".into()
            } else {
                secret(i)
            };
            secrets.insert(format!("FLEET_SECRET_{i:02}"), value.into());
            secrets.insert(format!("FLEET_CODE_{i:02}"), permanent_code(i).into());
        }
        secrets.insert("FLEET_SUITE_SECRET".into(), SUITE_SECRET.into());
        secrets.insert("FLEET_SUITE_TICKET".into(), SUITE_TICKET.into());
        secrets.insert("github_token".into(), "not-a-variable-name-ok".into());
        Kit { fx, secrets }
    }

    fn run(&self, script: &str, env: &[(&str, String)]) -> Output {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
        let mut c = Command::new("bash");
        c.arg(dir.join(script))
            .env("TAGSYNC", env!("CARGO_BIN_EXE_tagsync"))
            .env("WECOM_API_BASE", self.fx.emu().base_url())
            .env("TAGSYNC_RETRY_BACKOFF_MS", FAST_RETRIES)
            .env(
                "TAGSYNC_SECRETS_JSON",
                Value::Object(self.secrets.clone()).to_string(),
            )
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .current_dir(self.fx.dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_no_secret(&out);
        out
    }
}

#[test]
fn the_kit_plans_shards_with_secrets_from_json_and_merges_them_into_one_comment() {
    let fx = FleetFx::new();
    let kit = Kit::new(&fx);
    let bash = |script: &str, env: &[(&str, String)]| kit.run(script, env);
    std::fs::create_dir_all(fx.dir.path().join("shards")).unwrap();
    for k in 1..=3 {
        let out = bash(
            "tagsync-fleet.sh",
            &[
                ("TAGSYNC_SHARD", format!("{k}/3")),
                ("TAGSYNC_FLEET_OUT", format!("shards/shard-{k}.json")),
            ],
        );
        // The bad secret's shard is an error (1), the blocked corp's is blocked (3); a
        // shard with changes only succeeds (0): the comment shows them.
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{}",
            both(&out)
        );
        assert!(text(&out.stdout).contains("status="), "{}", both(&out));
    }
    let out = bash("tagsync-fleet-merge.sh", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let md = std::fs::read_to_string(fx.dir.path().join("tagsync-fleet.md")).unwrap();
    assert!(md.starts_with("<!-- tagsync-fleet -->\n## tagsync fleet plan: 20 corps: 1 error, 1 blocked, 18 changes"), "{md}");
    for s in kit.secrets.values() {
        assert!(!md.contains(s.as_str().unwrap()), "a secret in the comment");
    }
    // Nothing reached any corp but reads.
    for i in 0..CORPS {
        let calls = fx.emu().calls_corp(&corp_id(i)).unwrap();
        assert!(
            calls
                .iter()
                .all(|c| c.kind.is_token_call() || c.kind == emulator::CallKind::List)
        );
    }
}

#[test]
fn the_kit_applies_shards_and_hands_over_each_corps_ledger_once() {
    let fx = FleetFx::new();
    let kit = Kit::new(&fx);
    let bash = |script: &str, env: &[(&str, String)]| kit.run(script, env);
    let mut gathered: Vec<String> = Vec::new();
    for k in 1..=3 {
        let out = bash(
            "tagsync-fleet.sh",
            &[
                ("TAGSYNC_FLEET_MODE", "apply".into()),
                ("TAGSYNC_SHARD", format!("{k}/3")),
                ("TAGSYNC_FLEET_OUT", format!("shard-{k}.json")),
                ("TAGSYNC_LEDGER_OUT", format!("out/ledgers-{k}")),
            ],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{}",
            both(&out)
        );
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(fx.dir.path().join(format!("shard-{k}.json"))).unwrap(),
        )
        .unwrap();
        let shard_corps: BTreeSet<String> = doc["corps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["corp_id"].as_str().unwrap().to_string())
            .collect();
        for entry in std::fs::read_dir(fx.dir.path().join(format!("out/ledgers-{k}"))).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let corp = name
                .trim_start_matches("ledger-")
                .trim_end_matches(".json")
                .to_string();
            assert!(shard_corps.contains(&corp), "{name} is not of shard {k}");
            let kept = std::fs::read(fx.dir.path().join(".tagsync").join(&name)).unwrap();
            assert_eq!(
                std::fs::read(entry.path()).unwrap(),
                kept,
                "{name} as tagsync left it"
            );
            gathered.push(corp);
        }
    }
    gathered.sort();
    // Every corp's ledger once, but the bad secret's (nothing was applied there).
    let expected: Vec<String> = (0..CORPS)
        .filter(|&i| i != BAD_SECRET)
        .map(corp_id)
        .collect();
    assert_eq!(gathered, expected);
    for i in (0..CORPS).filter(|i| ![BAD_SECRET, BLOCKED].contains(i)) {
        assert_eq!(fx.groups(i), expected_groups(i), "corp {i}");
    }
    // The last job: a fresh checkout (no .tagsync) gathers the shards' ledgers and commits
    // them back in one commit.
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", both(&out));
        text(&out.stdout)
    };
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    std::fs::remove_dir_all(fx.dir.path().join(".tagsync")).unwrap();
    git(fx.dir.path(), &["init", "-q", "-b", "main"]);
    git(fx.dir.path(), &["add", "fleet.yaml"]);
    git(fx.dir.path(), &["commit", "-q", "-m", "fleet"]);
    let url = remote.path().display().to_string();
    git(fx.dir.path(), &["remote", "add", "origin", &url]);
    git(fx.dir.path(), &["push", "-q", "origin", "main"]);
    let out = bash(
        "tagsync-fleet-ledgers.sh",
        &[
            ("TAGSYNC_LEDGERS_IN", "out".into()),
            ("TAGSYNC_PUSH_BRANCH", "main".into()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).contains(&format!("gathered={}", expected.len())),
        "{}",
        both(&out)
    );
    let files = git(remote.path(), &["ls-tree", "-r", "--name-only", "main"]);
    let committed = files
        .lines()
        .filter(|f| f.starts_with(".tagsync/ledger-"))
        .count();
    assert_eq!(committed, expected.len(), "{files}");
}

#[test]
fn the_readme_fleet_file_is_valid() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let example = readme
        .split("```yaml\n# fleet.yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the README's fleet file");
    let base = "version: 1\ngroups:\n  - name: A\n    tags: [a]\n";
    let (out, _, _dir) = offline(
        &[
            ("fleet.yaml", example),
            ("base.yaml", base),
            (
                "corps/acme.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [b]\n",
            ),
        ],
        &["validate"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("2 corps, every desired file valid"),
        "{}",
        both(&out)
    );
}

#[test]
fn the_fleet_schema_accepts_the_readme_fleet_file_and_refuses_a_secret_in_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["fleet", "schema"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    let example = readme
        .split("```yaml\n# fleet.yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    let as_json = |yaml: &str| -> Value { serde_saphyr::from_str(yaml).unwrap() };
    let valid = |yaml: &str| crate::schema::valid(&schema, &schema, &as_json(yaml));
    assert!(valid(example), "the README's fleet file");
    let corp = "version: 1\ncorps:\n  - id: acme\n    corp_id: ww1\n";
    assert!(valid(&format!("{corp}    secret_env: ACME_SECRET\n")));
    assert!(
        !valid(&format!("{corp}    secret: hunter2\n")),
        "a literal secret"
    );
    // (The evaluator reads no `pattern`: the variable-name rule is in the schema.)
    let secret_env = &schema["$defs"]["Corp"]["properties"]["secret_env"];
    assert_eq!(
        secret_env["pattern"], "^[A-Z_][A-Z0-9_]*$",
        "{secret_env}: the parser's rule (upper case), not a looser one"
    );
    // The parser refuses `key: ~` for every fleet key; so does the schema.
    for null in [
        "version: 1\ndefaults: ~\ncorps:\n  - {id: a, corp_id: b, secret_env: C}\n",
        "version: 1\ncorps:\n  - {id: a, corp_id: b, secret_env: C, allow_delete: ~}\n",
        "version: 1\ncorps:\n  - {id: a, corp_id: b, secret_env: C, files: ~}\n",
    ] {
        assert!(!valid(null), "{null}");
    }
    assert!(!valid("version: 1\ncorps: []\n"), "no corps");
    assert!(!valid(
        "version: 2\ncorps:\n  - {id: a, corp_id: b, secret_env: C}\n"
    ));
}

/// Kills the child at the end of the test.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_emulator_binary_hosts_every_corp_of_an_apps_file() {
    let dir = tempfile::tempdir().unwrap();
    let seed = r#"{"tag_group":[{"group_id":"etG1","group_name":"甲组","create_time":1,"order":1,"tag":[{"id":"etT1","name":"甲","create_time":1,"order":1}]}]}"#;
    std::fs::write(dir.path().join("a.json"), seed).unwrap();
    std::fs::write(
        dir.path().join("apps.yaml"),
        "corps:\n  - corp_id: wwA\n    apps: [{name: tagsync, secret: secret-a}]\n    seed: a.json\n  - corp_id: wwB\n    apps: [{name: tagsync, secret: secret-b}]\n",
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["emulator", "--apps", "apps.yaml", "--seed", "a.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("give each corp its `seed:`"),
        "{}",
        both(&refused)
    );

    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(["emulator", "--apps", "apps.yaml", "--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = crate::common::http();
        let get = |path: &str| {
            let http = http.clone();
            let url = format!("{base}{path}");
            async move { http.get(url).send().await.unwrap() }
        };
        let token = |corp: &str, secret: &str| {
            let path = format!("/cgi-bin/gettoken?corpid={corp}&corpsecret={secret}");
            let get = get(&path);
            async move { get.await.json::<Value>().await.unwrap() }
        };
        let list = |token: String| {
            let http = http.clone();
            let url =
                format!("{base}/cgi-bin/externalcontact/get_corp_tag_list?access_token={token}");
            async move {
                http.post(url)
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        let a = token("wwA", "secret-a").await;
        let b = token("wwB", "secret-b").await;
        assert_eq!(
            token("wwA", "secret-b").await["errcode"],
            40001,
            "each corp its own apps"
        );
        let (a, b) = (
            a["access_token"].as_str().unwrap(),
            b["access_token"].as_str().unwrap(),
        );
        assert_eq!(list(a.into()).await["tag_group"][0]["group_name"], "甲组");
        assert_eq!(list(b.into()).await["tag_group"], serde_json::json!([]));
        let state: Value = get("/emulator/state?corpid=wwA")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(state["tag_group"][0]["tag"][0]["name"], "甲");
        assert_eq!(get("/emulator/state?corpid=nope").await.status(), 404);
    });
}

#[test]
fn the_readme_demo_fleet_plans_and_applies_against_its_emulator() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let configs =
        emulator::configs_from_files(None, Some(&root.join("examples/fleet/apps.yaml"))).unwrap();
    let (rt, emu) = start_corps(configs);
    // The variables as the README exports them.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let export = readme
        .split("export WECOM_API_BASE=http://127.0.0.1:18090/cgi-bin/")
        .nth(1)
        .unwrap();
    let export: String = export
        .split("\ntagsync fleet plan")
        .next()
        .unwrap()
        .replace("\\\n", " ");
    let vars: Vec<(&str, &str)> = export
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    assert_eq!(vars.len(), 5, "{export}");
    let state = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(args)
            .arg("-f")
            .arg(root.join("examples/fleet/fleet.yaml"))
            .arg("--state")
            .arg(state.path())
            .envs(vars.iter().copied())
            .env("WECOM_API_BASE", emu.base_url())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        for (_, secret) in &vars {
            assert!(!text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret));
        }
        out
    };
    let out = run(&["fleet", "plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync fleet plan: 3 corps: 3 changes"),
        "{}",
        both(&out)
    );
    let out = run(&["fleet", "apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let out = run(&["fleet", "plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync fleet plan: 3 corps: 3 no changes"),
        "{}",
        both(&out)
    );
    let acme = emu.dump_corp("ww-demo-acme").unwrap();
    let names: Vec<&str> = acme.iter().map(|g| g.group_name.as_str()).collect();
    assert_eq!(names, ["客户等级", "来源渠道", "行业"]);
    rt.block_on(emu.shutdown());
}

#[test]
fn a_shard_stopped_by_an_invalid_fleet_file_puts_its_message_in_the_comment() {
    let fx = FleetFx::new();
    let kit = Kit::new(&fx);
    fx.write(
        "broken.yaml",
        "version: 1\ncorps:\n  - id: acme\n    colour: blue\n",
    );
    std::fs::create_dir_all(fx.dir.path().join("shards")).unwrap();
    let out = kit.run(
        "tagsync-fleet.sh",
        &[
            ("TAGSYNC_FLEET", "broken.yaml".into()),
            ("TAGSYNC_SHARD", "1/1".into()),
            ("TAGSYNC_FLEET_OUT", "shards/shard-1.json".into()),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(!fx.dir.path().join("shards/shard-1.json").exists());
    let merged = kit.run("tagsync-fleet-merge.sh", &[]);
    assert_eq!(merged.status.code(), Some(1), "{}", both(&merged));
    let md = std::fs::read_to_string(fx.dir.path().join("tagsync-fleet.md")).unwrap();
    assert!(md.contains("the shard stopped before any corp"), "{md}");
    assert!(md.contains("unknown key `colour`"), "{md}");
}

#[test]
fn a_missing_corp_file_points_at_the_fleet_file() {
    let (out, _, _dir) = offline(
        &[(
            "fleet.yaml",
            "version: 1\ncorps:\n  - id: acme\n    corp_id: ww-acme\n    secret_env: ACME\n    files: [corps/nope.yaml]\n",
        )],
        &["validate"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(err.contains("corps/nope.yaml"), "{err}");
    assert!(err.contains("check the corp's `files:`"), "{err}");
    assert!(!err.contains("given to -c"), "{err}");
}

#[test]
fn validate_checks_the_credentials_only_when_asked_and_never_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put(
        "base.yaml",
        "version: 1\ngroups:\n  - name: A\n    tags: [a]\n",
    );
    put("acme.secret", "acme-file-secret-value\n");
    put("empty.secret", "\n");
    put(
        "fleet.yaml",
        "version: 1\ndefaults:\n  files: [base.yaml]\ncorps:\n  - id: acme\n    corp_id: ww-acme\n    secret_file: acme.secret\n  - id: beta\n    corp_id: ww-beta\n    secret_env: TAGSYNC_TEST_BETA_SECRET\n  - id: gamma\n    corp_id: ww-gamma\n    secret_env: TAGSYNC_TEST_GAMMA_SECRET\n  - id: delta\n    corp_id: ww-delta\n    secret_file: empty.secret\n",
    );
    let validate = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(["fleet", "validate", "-f"])
            .arg(dir.path().join("fleet.yaml"))
            .args(extra)
            .env("NO_COLOR", "1")
            .env("TAGSYNC_TEST_BETA_SECRET", "beta-env-secret-value")
            .env_remove("TAGSYNC_TEST_GAMMA_SECRET")
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    };
    // Offline and without secrets (a PR job from a fork): the files alone.
    let plain = validate(&[]);
    assert_eq!(plain.status.code(), Some(0), "{}", both(&plain));
    let checked = validate(&["--check-credentials"]);
    assert_eq!(checked.status.code(), Some(1), "{}", both(&checked));
    let err = text(&checked.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].ends_with("fleet.yaml:11: corp gamma: TAGSYNC_TEST_GAMMA_SECRET is not set: it must hold the app secret"),
        "{err}"
    );
    assert!(lines[1].contains("fleet.yaml:14: corp delta: "), "{err}");
    assert!(
        lines[1].ends_with("empty.secret is empty: its first line must hold the app secret"),
        "{err}"
    );
    assert_eq!(lines[2], "error: 2 of 4 corps lack their credentials here");
    // The secret file is found beside the fleet file, not in the working directory.
    assert!(!err.contains("acme"), "{err}");
    for secret in ["acme-file-secret-value", "beta-env-secret-value"] {
        assert!(!both(&checked).contains(secret), "{secret} shown");
    }
}
