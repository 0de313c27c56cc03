//! The GitOps kit (examples/ci, examples/github, examples/gitlab) run as a user's CI runs
//! it: the scripts are copied into `ci/` of a temporary repository and run with bash,
//! with `TAGSYNC` pointing at this build, against the emulator (over HTTP, through
//! `WECOM_API_BASE`) and a small fake of the GitHub and GitLab REST APIs
//! (`GITHUB_API_URL`, `CI_API_V4_URL`). Also: the workflows call those scripts and have
//! the triggers the README describes, and a 10000-tag bootstrap plan fits in one comment.

use crate::common;
#[path = "gitops/fake_api.rs"]
mod fake_api;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::bin::{FAST_RETRIES, Fixture, both, text};
use fake_api::{GITHUB_TOKEN, GITLAB_TOKEN, Shared, lock};
use serde_json::Value;
use tagsync::emulator::{self, EmulatorHandle, SeedGroup};

const MARKER: &str = "<!-- tagsync-plan -->";

/// The corp equals this file (once our seed items are owned).
const SAME: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n";
/// A rename and two adds in our group.
const CHANGED: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags:\n      - VIP\n      - name: 重要客户\n        previously: [普通客户]\n      - 潜在客户\n";
/// Renames a tag of a group the admin console made: not owned, so blocked.
const FOREIGN_RENAME: &str = "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 行业\n    tags:\n      - name: 制造\n        previously: [制造业]\n      - 零售\n";
/// `tag:` is not a field.
const INVALID: &str = "version: 1\ngroups:\n  - name: G\n    tag: [a]\n";

#[derive(Clone, Copy, PartialEq)]
enum Platform {
    GitHub,
    GitLab,
}

/// A user's repository (the fixture's temp directory) with the kit copied into `ci/`,
/// the emulator, and the fake API.
struct Kit {
    fx: Fixture,
    api: Shared,
    api_base: String,
}

impl Kit {
    fn new(platform: Platform) -> Kit {
        Kit::with_seed(platform, common::small_seed())
    }

    fn with_seed(platform: Platform, seed: Vec<SeedGroup>) -> Kit {
        require_tools();
        let fx = Fixture::with_seed(seed);
        let api: Shared = Arc::new(Mutex::new(fake_api::Store::default()));
        let listener = fx
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the fake API");
        let api_base = format!(
            "http://{}",
            listener.local_addr().expect("the fake API's address")
        );
        let app = fake_api::router(api.clone());
        fx.rt.spawn(async move { axum::serve(listener, app).await });
        let platform_dir = match platform {
            Platform::GitHub => "github",
            Platform::GitLab => "gitlab",
        };
        copy_scripts(&["ci", platform_dir], &fx.dir.path().join("ci"));
        Kit { fx, api, api_base }
    }

    fn emu(&self) -> &EmulatorHandle {
        self.fx.emu()
    }

    fn root(&self) -> &Path {
        self.fx.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write a file");
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// bash in `dir` with a clean environment, as a CI runner gives it: the platforms'
    /// own variables (API URLs, repository, project), tagsync on hand (`TAGSYNC`, as the
    /// install step would), and `WECOM_API_BASE` at the emulator; no secret or token.
    fn bash(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("bash");
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TAGSYNC", env!("CARGO_BIN_EXE_tagsync"))
            .env("WECOM_API_BASE", self.emu().base_url())
            .env("TAGSYNC_RETRY_BACKOFF_MS", FAST_RETRIES)
            .env("GITHUB_API_URL", &self.api_base)
            .env("GITHUB_REPOSITORY", "acme/tags")
            .env("CI_API_V4_URL", format!("{}/api/v4", self.api_base))
            .env("CI_PROJECT_ID", "42");
        cmd
    }

    /// `bash ci/SCRIPT` in the repository with the secrets and tokens, and `envs`.
    fn script(&self, script: &str, envs: &[(&str, &str)]) -> Output {
        let mut cmd = self.bash(self.root());
        cmd.arg(format!("ci/{script}"))
            .env("WECOM_CORP_ID", "ww-test-corp")
            .env("WECOM_CORP_SECRET", common::SECRET)
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
            .env("GITLAB_TOKEN", GITLAB_TOKEN);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    }

    /// Record our seed items as owned, as `tagsync adopt` does for a user.
    fn adopt_ours(&self) {
        self.fx.adopt_ours();
    }

    /// Adds, edits and deletes the emulator has answered.
    fn writes(&self) -> usize {
        self.fx.writes()
    }

    /// Tag names of a live group in the emulator.
    fn tags_of(&self, group: &str) -> Vec<String> {
        self.emu()
            .dump()
            .iter()
            .filter(|g| g.group_name == group && !g.deleted)
            .flat_map(|g| g.tag.iter().filter(|t| !t.deleted).map(|t| t.name.clone()))
            .collect()
    }
}

/// The scripts need these (as a CI runner has them); `.ci/run` installs what is missing.
fn require_tools() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        for tool in ["bash", "curl", "jq", "git"] {
            let found = Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                found,
                "{tool} is needed to run the example scripts (.ci/run installs it)"
            );
        }
    });
}

/// Copy `examples/DIR/*.sh` for each DIR into `to`, as the README tells a user to.
fn copy_scripts(dirs: &[&str], to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir ci");
    for dir in dirs {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(dir);
        for entry in std::fs::read_dir(&from).expect("examples dir") {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "sh") {
                let name = path.file_name().expect("file name");
                std::fs::copy(&path, to.join(name)).expect("copy a script");
            }
        }
    }
}

/// The value of `key=` in the lines of `s`.
fn value_of<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

// ---- tagsync-pr.sh ------------------------------------------------------------------

/// Run the PR script with `file` as tags.yaml; the status it printed and its output file.
fn pr(kit: &Kit, file: &str) -> (Output, String) {
    kit.write("tags.yaml", file);
    kit.write("outputs", "");
    let out = kit.script("tagsync-pr.sh", &[("GITHUB_OUTPUT", "outputs")]);
    let outputs = kit.read("outputs");
    assert_eq!(
        value_of(&text(&out.stdout), "status"),
        value_of(&outputs, "status"),
        "the status is printed and written to $GITHUB_OUTPUT: {}",
        both(&out)
    );
    let status = value_of(&outputs, "status").unwrap_or_default().to_string();
    (out, status)
}

#[test]
fn pr_script_reports_no_changes_and_writes_the_comment() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let (out, status) = pr(&kit, SAME);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(status, "no-changes");
    let comment = kit.read("tagsync-plan.md");
    assert_eq!(comment.lines().next(), Some(MARKER), "{comment}");
    assert!(comment.contains("**No changes**"), "{comment}");
}

#[test]
fn pr_script_reports_changes_with_the_plan_and_changes_nothing() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let before = kit.emu().dump();
    let (out, status) = pr(&kit, CHANGED);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(status, "changes");
    let comment = kit.read("tagsync-plan.md");
    assert_eq!(comment.lines().next(), Some(MARKER));
    assert!(comment.contains("普通客户 → 重要客户"), "{comment}");
    assert!(comment.contains("潜在客户"), "{comment}");
    assert!(comment.contains("| API calls | 2 |"), "{comment}");
    assert_eq!(kit.emu().dump(), before, "a pull request changes nothing");
    assert_eq!(kit.writes(), 0);
}

#[test]
fn pr_script_fails_with_3_when_blocked_and_the_comment_says_why() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let (out, status) = pr(&kit, FOREIGN_RENAME);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert_eq!(status, "blocked");
    let comment = kit.read("tagsync-plan.md");
    assert_eq!(comment.lines().next(), Some(MARKER));
    assert!(comment.contains("**Blocked:**"), "{comment}");
    assert!(comment.contains("制造业 → 制造"), "{comment}");
    assert_eq!(kit.writes(), 0);
}

#[test]
fn pr_script_fails_on_an_invalid_file_with_the_diagnostics_in_the_comment() {
    let kit = Kit::new(Platform::GitHub);
    let (out, status) = pr(&kit, INVALID);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert_eq!(status, "invalid");
    let comment = kit.read("tagsync-plan.md");
    assert_eq!(comment.lines().next(), Some(MARKER));
    assert!(comment.contains("`tags.yaml` is not valid"), "{comment}");
    assert!(comment.contains("tags.yaml:4:5"), "{comment}");
    assert!(
        text(&out.stderr).contains("tags.yaml:4:5"),
        "and in the job log: {}",
        both(&out)
    );
    assert!(
        kit.emu().calls().is_empty(),
        "an invalid file reads nothing"
    );
}

#[test]
fn pr_script_fails_when_the_corp_cannot_be_read_and_never_shows_the_secret() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tags.yaml", SAME);
    kit.write("outputs", "");
    let out = kit.script(
        "tagsync-pr.sh",
        &[
            ("GITHUB_OUTPUT", "outputs"),
            ("WECOM_CORP_SECRET", "a-wrong-secret-value"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert_eq!(value_of(&kit.read("outputs"), "status"), Some("error"));
    let comment = kit.read("tagsync-plan.md");
    assert_eq!(comment.lines().next(), Some(MARKER));
    assert!(comment.contains("the plan failed (exit 1)"), "{comment}");
    assert!(comment.contains("40001"), "the vendor's errcode: {comment}");
    assert!(!comment.contains("a-wrong-secret-value"), "{comment}");
    assert!(!both(&out).contains("a-wrong-secret-value"));
}

#[test]
fn pr_script_puts_plain_text_logs_in_the_comment_when_the_corp_is_unreachable() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tags.yaml", SAME);
    // A port nothing listens on: connection refused, retried, then given up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    // As on a CI runner: no terminal, and no NO_COLOR either.
    let out = kit
        .bash(kit.root())
        .arg("ci/tagsync-pr.sh")
        .env_remove("NO_COLOR")
        .env("WECOM_API_BASE", &base)
        .env("WECOM_CORP_ID", "ww-test-corp")
        .env("WECOM_CORP_SECRET", common::SECRET)
        .output()
        .expect("run bash");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let comment = kit.read("tagsync-plan.md");
    assert!(comment.contains("the plan failed (exit 1)"), "{comment}");
    assert!(
        comment.contains("retrying"),
        "the logs are in the comment: {comment}"
    );
    assert!(!comment.contains('\u{1b}'), "no colour codes: {comment}");
}

#[test]
fn pr_script_says_so_when_tagsync_is_not_installed() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tags.yaml", SAME);
    let out = kit.script("tagsync-pr.sh", &[("TAGSYNC", "no-such-tagsync")]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert_eq!(value_of(&text(&out.stdout), "status"), Some("error"));
    let comment = kit.read("tagsync-plan.md");
    assert!(comment.starts_with(MARKER), "{comment}");
    assert!(comment.contains("tagsync is not installed"), "{comment}");
}

// ---- tagsync-apply.sh ---------------------------------------------------------------

fn apply(kit: &Kit, file: &str) -> Output {
    kit.write("tags.yaml", file);
    kit.write("summary.md", "");
    kit.script("tagsync-apply.sh", &[("GITHUB_STEP_SUMMARY", "summary.md")])
}

#[test]
fn apply_script_applies_verifies_and_writes_the_job_summary() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let out = apply(&kit, CHANGED);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(kit.tags_of("客户等级"), ["VIP", "重要客户", "潜在客户"]);
    let summary = kit.read("summary.md");
    assert!(summary.starts_with(MARKER), "{summary}");
    assert!(summary.contains("### Apply complete"), "{summary}");
    assert!(
        summary.contains("Verified: the corp equals the file."),
        "{summary}"
    );
    assert!(
        summary.contains("**tagsync:** applied and verified."),
        "{summary}"
    );
    assert!(
        summary.starts_with(&kit.read("tagsync-apply.md")),
        "{summary}"
    );
    // The ledger now owns the added tag: the next plan may rename it.
    let ledger = kit.read(".tagsync/ledger-ww-test-corp.json");
    let added = kit
        .emu()
        .dump()
        .iter()
        .flat_map(|g| g.tag.clone())
        .find(|t| t.name == "潜在客户")
        .expect("added");
    assert!(ledger.contains(&added.id), "{ledger}");

    let again = apply(&kit, CHANGED);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(kit.read("summary.md").contains("**No changes**"));
}

#[test]
fn apply_script_fails_with_3_when_blocked_and_sends_nothing() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let before = kit.emu().dump();
    let out = apply(&kit, FOREIGN_RENAME);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let summary = kit.read("summary.md");
    assert!(
        summary.starts_with(MARKER),
        "the plan is in the summary: {summary}"
    );
    assert!(summary.contains("**Blocked:**"), "{summary}");
    assert!(summary.contains("nothing was sent"), "{summary}");
    assert_eq!(kit.writes(), 0);
    assert_eq!(kit.emu().dump(), before);
}

#[test]
fn apply_script_stops_at_the_delete_gate_until_tagsync_args_allow_it() {
    let kit = Kit::new(Platform::GitHub);
    // tagsync creates a group of 12 tags, so it owns them...
    let mut twelve = String::from("version: 1\ngroups:\n  - name: 旧分组\n    tags:\n");
    for i in 0..12 {
        twelve.push_str(&format!("      - 旧标签{i}\n"));
    }
    let out = apply(&kit, &twelve);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(kit.tags_of("旧分组").len(), 12);
    // ...then the file drops them: 12 deletes are past the gate of 10.
    let writes = kit.writes();
    let out = apply(
        &kit,
        "version: 1\ngroups:\n  - name: 新分组\n    tags: [甲]\n",
    );
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let summary = kit.read("summary.md");
    assert!(summary.contains("**Blocked:**"), "{summary}");
    // Markdown-escaped: it renders as `--allow-delete 12`.
    assert!(
        summary.contains(r"\-\-allow\-delete 12"),
        "the fix is named: {summary}"
    );
    assert_eq!(kit.writes(), writes, "nothing was sent, not even the add");
    assert_eq!(kit.tags_of("旧分组").len(), 12);

    kit.write("summary.md", "");
    let out = kit.script(
        "tagsync-apply.sh",
        &[
            ("GITHUB_STEP_SUMMARY", "summary.md"),
            ("TAGSYNC_ARGS", "--allow-delete 12"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(kit.tags_of("旧分组").is_empty());
    assert_eq!(kit.tags_of("新分组"), ["甲"]);
}

#[test]
fn apply_script_passes_on_exit_4_when_a_step_keeps_failing() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    kit.emu().set_faults(emulator::Faults::default().script(
        emulator::CallKind::Edit,
        1000,
        emulator::FaultKind::SystemBusy,
    ));
    let out = apply(&kit, CHANGED);
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    let summary = kit.read("summary.md");
    assert!(summary.contains("### Apply incomplete"), "{summary}");
    assert!(summary.contains("errcode `-1`"), "{summary}");
    assert!(summary.contains("partly applied"), "{summary}");
    // The add went through; the rename is what is left.
    assert!(kit.tags_of("客户等级").contains(&"潜在客户".to_string()));
    kit.emu().set_faults(emulator::Faults::default());
    let rerun = apply(&kit, CHANGED);
    assert_eq!(rerun.status.code(), Some(0), "{}", both(&rerun));
    assert_eq!(kit.tags_of("客户等级"), ["VIP", "重要客户", "潜在客户"]);
}

#[test]
fn apply_script_exits_1_on_an_error_and_says_so_in_the_summary() {
    let kit = Kit::new(Platform::GitHub);
    let out = apply(&kit, INVALID);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        kit.read("summary.md").contains("apply failed (exit 1)"),
        "{}",
        kit.read("summary.md")
    );
}

// ---- a failed or empty plan is an error in every script ------------------------------

/// The Markdown file, the summary and the status of one run of `script`.
struct Failed {
    out: Output,
    markdown: String,
    summary: String,
    status: Option<String>,
}

fn run_failing(kit: &Kit, script: &str, envs: &[(&str, &str)]) -> Failed {
    kit.write("outputs", "");
    kit.write("summary.md", "");
    let mut all = vec![
        ("GITHUB_OUTPUT", "outputs"),
        ("GITHUB_STEP_SUMMARY", "summary.md"),
    ];
    all.extend_from_slice(envs);
    let out = kit.script(script, &all);
    let markdown = match script {
        "tagsync-pr.sh" => "tagsync-plan.md",
        "tagsync-drift.sh" => "tagsync-drift.md",
        _ => "tagsync-apply.md",
    };
    let outputs = kit.read("outputs");
    assert!(value_of(&outputs, "drift").is_none(), "{outputs}");
    Failed {
        markdown: kit.read(markdown),
        summary: kit.read("summary.md"),
        status: value_of(&outputs, "status").map(String::from),
        out,
    }
}

#[test]
fn a_bad_tagsync_args_is_an_error_with_tagsyncs_message_in_the_comment_and_summary() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    kit.write("tags.yaml", CHANGED);
    for script in ["tagsync-pr.sh", "tagsync-drift.sh", "tagsync-apply.sh"] {
        let run = run_failing(&kit, script, &[("TAGSYNC_ARGS", "--no-such-flag")]);
        let all = both(&run.out);
        assert_eq!(run.out.status.code(), Some(1), "{script}: {all}");
        assert_eq!(run.status.as_deref(), Some("error"), "{script}: {all}");
        assert!(
            run.markdown.starts_with(MARKER),
            "{script}: {}",
            run.markdown
        );
        assert!(
            run.markdown.contains("--no-such-flag"),
            "{script}: clap's message: {}",
            run.markdown
        );
        if script != "tagsync-pr.sh" {
            assert!(
                run.summary.contains("--no-such-flag"),
                "{script}: {}",
                run.summary
            );
        }
    }
    // The comment is a real one: posting it works (it failed on the empty file before).
    let post = kit.script("post-comment.sh", &[("PR_NUMBER", "7")]);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
    assert_eq!(kit.writes(), 0);
}

#[test]
fn an_expected_exit_code_with_no_markdown_is_an_error_too() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tags.yaml", SAME);
    // A tagsync that validates the file, then prints no plan and exits with a code the
    // script would otherwise take for a result.
    kit.write(
        "fake-tagsync",
        "#!/usr/bin/env bash\n[ \"$1\" = validate ] && exit 0\necho 'fake: printed nothing' >&2\nexit \"$FAKE_EXIT\"\n",
    );
    make_executable(&kit.path("fake-tagsync"));
    let fake = kit.path("fake-tagsync");
    let fake = fake.to_str().expect("utf-8 path");
    for (script, codes) in [
        ("tagsync-pr.sh", [0, 2, 3]),
        ("tagsync-drift.sh", [0, 2, 3]),
        ("tagsync-apply.sh", [0, 3, 4]),
    ] {
        for code in codes {
            let code = code.to_string();
            let run = run_failing(&kit, script, &[("TAGSYNC", fake), ("FAKE_EXIT", &code)]);
            let all = both(&run.out);
            assert_eq!(run.out.status.code(), Some(1), "{script} {code}: {all}");
            assert_eq!(
                run.status.as_deref(),
                Some("error"),
                "{script} {code}: {all}"
            );
            assert!(
                run.markdown.starts_with(MARKER)
                    && run.markdown.contains("no Markdown was printed")
                    && run.markdown.contains("fake: printed nothing"),
                "{script} {code}: {}",
                run.markdown
            );
        }
    }
    // Drift: no `drift=` answer, so the issue step refuses to run on it.
    let run = run_failing(
        &kit,
        "tagsync-drift.sh",
        &[("TAGSYNC", fake), ("FAKE_EXIT", "2")],
    );
    assert!(
        run.summary.contains("fake: printed nothing"),
        "{}",
        run.summary
    );
}

// ---- tagsync-drift.sh ---------------------------------------------------------------

fn drift(kit: &Kit, file: &str, envs: &[(&str, &str)]) -> (Output, Option<String>) {
    kit.write("tags.yaml", file);
    kit.write("outputs", "");
    let mut all = vec![("GITHUB_OUTPUT", "outputs")];
    all.extend_from_slice(envs);
    let out = kit.script("tagsync-drift.sh", &all);
    let value = value_of(&kit.read("outputs"), "drift").map(String::from);
    (out, value)
}

#[test]
fn drift_script_says_whether_the_corp_drifted() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let (out, value) = drift(&kit, SAME, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(value.as_deref(), Some("false"));
    assert!(text(&out.stdout).contains("drift=false"));

    let (out, value) = drift(&kit, CHANGED, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "drift is not a failure: {}",
        both(&out)
    );
    assert_eq!(value.as_deref(), Some("true"));
    let body = kit.read("tagsync-drift.md");
    assert!(
        body.starts_with(MARKER) && body.contains("潜在客户"),
        "{body}"
    );

    let (out, value) = drift(&kit, FOREIGN_RENAME, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        value.as_deref(),
        Some("true"),
        "blocked changes are drift too"
    );

    let (out, value) = drift(&kit, SAME, &[("WECOM_CORP_SECRET", "wrong")]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert_eq!(value, None, "no answer when the check itself failed");
    assert_eq!(kit.writes(), 0, "the drift check changes nothing");
}

// ---- post-comment.sh, post-note.sh: one sticky comment --------------------------------

#[test]
fn github_comment_is_created_once_then_updated_in_place() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    {
        // A busy pull request: tagsync's comment will be on the second page.
        let mut st = lock(&kit.api);
        for i in 0..120 {
            st.add_comment(7, &format!("review comment {i}"));
        }
        st.add_comment(7, &format!("quoting the bot: {MARKER} is not at the start"));
        st.add_comment(8, &format!("{MARKER}\nanother pull request's plan"));
    }
    let env = [("PR_NUMBER", "7")];
    let (out, _) = pr(&kit, CHANGED);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let post = kit.script("post-comment.sh", &env);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
    assert!(
        text(&post.stdout).starts_with("comment=created "),
        "{}",
        both(&post)
    );
    let ours = |kit: &Kit| -> Vec<String> {
        lock(&kit.api)
            .comments_on(7)
            .iter()
            .filter(|c| c.body.starts_with(MARKER))
            .map(|c| c.body.clone())
            .collect()
    };
    assert_eq!(ours(&kit), [kit.read("tagsync-plan.md")]);

    // The next push: a different plan replaces the comment's text.
    let (out, _) = pr(&kit, SAME);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let post = kit.script("post-comment.sh", &env);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
    assert!(
        text(&post.stdout).starts_with("comment=updated "),
        "{}",
        both(&post)
    );
    let bodies = ours(&kit);
    assert_eq!(bodies.len(), 1, "still one comment");
    assert!(bodies[0].contains("**No changes**"), "{}", bodies[0]);
    let st = lock(&kit.api);
    assert_eq!(st.comments_on(7).len(), 122);
    assert_eq!(
        st.comments_on(8).len(),
        1,
        "other pull requests are left alone"
    );
    let id = st
        .comments_on(7)
        .iter()
        .find(|c| c.body.starts_with(MARKER))
        .map(|c| c.id)
        .expect("ours");
    let patch = format!("PATCH /repos/acme/tags/issues/comments/{id}");
    assert!(st.requests.contains(&patch), "{:?}", st.requests);
}

#[test]
fn github_comment_errors_name_the_problem() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tagsync-plan.md", &format!("{MARKER}\nplan\n"));
    let out = kit.script(
        "post-comment.sh",
        &[("PR_NUMBER", "7"), ("GITHUB_TOKEN", "expired")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(stderr.contains("Bad credentials"), "{stderr}");
    assert!(
        !stderr.contains("expired"),
        "the token is not printed: {stderr}"
    );

    let out = kit.script("post-comment.sh", &[("GITHUB_TOKEN", GITHUB_TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("PR_NUMBER"), "{}", both(&out));

    std::fs::remove_file(kit.path("tagsync-plan.md")).expect("rm");
    let out = kit.script("post-comment.sh", &[("PR_NUMBER", "7")]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("tagsync-plan.md is missing"));
    assert!(lock(&kit.api).comments.is_empty());
}

#[test]
fn gitlab_note_is_created_once_then_updated_in_place() {
    let kit = Kit::new(Platform::GitLab);
    kit.adopt_ours();
    {
        let mut st = lock(&kit.api);
        for i in 0..105 {
            st.add_comment(3, &format!("added {i} commits"));
        }
    }
    let env = [("CI_MERGE_REQUEST_IID", "3")];
    let (out, _) = pr(&kit, CHANGED);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let post = kit.script("post-note.sh", &env);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
    assert!(
        text(&post.stdout).starts_with("note=created "),
        "{}",
        both(&post)
    );

    let (out, _) = pr(&kit, FOREIGN_RENAME);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let post = kit.script("post-note.sh", &env);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
    assert!(
        text(&post.stdout).starts_with("note=updated "),
        "{}",
        both(&post)
    );
    let st = lock(&kit.api);
    let ours: Vec<_> = st
        .comments_on(3)
        .into_iter()
        .filter(|c| c.body.starts_with(MARKER))
        .collect();
    assert_eq!(ours.len(), 1, "one note");
    assert_eq!(ours[0].body, kit.read("tagsync-plan.md"));
    assert!(ours[0].body.contains("**Blocked:**"));
    assert_eq!(st.comments_on(3).len(), 106);
}

// ---- drift-issue.sh -------------------------------------------------------------------

/// Drift, drift again, agreement, agreement again: opened, updated, closed, nothing.
fn drift_issue_cycle(kit: &Kit, opened_label: impl Fn(&fake_api::Store) -> usize) {
    kit.adopt_ours();
    let (_, value) = drift(kit, CHANGED, &[]);
    assert_eq!(value.as_deref(), Some("true"));
    let run = |drift: &str| {
        let out = kit.script("drift-issue.sh", &[("DRIFT", drift)]);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        text(&out.stdout)
    };
    assert!(run("true").starts_with("issue=opened "));
    {
        let st = lock(&kit.api);
        let issues = st.labelled("tagsync-drift");
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].body, kit.read("tagsync-drift.md"));
        assert!(issues[0].open);
        assert_eq!(opened_label(&st), 1);
    }

    let (_, value) = drift(kit, FOREIGN_RENAME, &[]);
    assert_eq!(value.as_deref(), Some("true"));
    assert!(run("true").starts_with("issue=updated "));
    {
        let st = lock(&kit.api);
        let issues = st.labelled("tagsync-drift");
        assert_eq!(issues.len(), 1, "still one issue");
        assert!(
            issues[0].body.contains("**Blocked:**"),
            "{}",
            issues[0].body
        );
    }

    let (_, value) = drift(kit, SAME, &[]);
    assert_eq!(value.as_deref(), Some("false"));
    assert!(run("false").starts_with("issue=closed "));
    {
        let st = lock(&kit.api);
        let issues = st.labelled("tagsync-drift");
        assert_eq!(issues.len(), 1);
        assert!(!issues[0].open, "closed once the corp equals the file");
        let number = issues[0].number;
        assert!(
            st.comments_on(number)
                .iter()
                .any(|c| c.body.contains("equals the file again")),
            "the close says why"
        );
    }
    assert_eq!(run("false").trim(), "issue=none");

    let out = kit.script("drift-issue.sh", &[("DRIFT", "")]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("DRIFT must be true or false"));
}

#[test]
fn github_drift_issue_is_opened_updated_and_closed() {
    let kit = Kit::new(Platform::GitHub);
    // An open pull request with the label is not the drift issue.
    lock(&kit.api).add_issue(500, &["tagsync-drift"], true);
    drift_issue_cycle(&kit, |st| {
        st.labels.iter().filter(|l| *l == "tagsync-drift").count()
    });
    let st = lock(&kit.api);
    assert!(st.issues.iter().any(|i| i.number == 500 && i.open));
}

#[test]
fn gitlab_drift_issue_is_opened_updated_and_closed() {
    let kit = Kit::new(Platform::GitLab);
    drift_issue_cycle(&kit, |st| st.labelled("tagsync-drift").len());
}

// ---- tagsync-commit-ledger.sh: the ledger travels through git -------------------------

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "someone")
        .env("GIT_AUTHOR_EMAIL", "someone@example.invalid")
        .env("GIT_COMMITTER_NAME", "someone")
        .env("GIT_COMMITTER_EMAIL", "someone@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", both(&out));
    text(&out.stdout)
}

/// A bare `remote.git` beside the kit's repository, and a clone `work` holding the kit of
/// `platform_dir` and `tags` as `tags.yaml`, pushed to main.
fn git_repo(kit: &Kit, platform_dir: &str, tags: &str) -> PathBuf {
    let root = kit.root();
    let work = kit.path("work");
    git(root, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    git(root, &["clone", "-q", "remote.git", "work"]);
    copy_scripts(&["ci", platform_dir], &work.join("ci"));
    std::fs::write(work.join("tags.yaml"), tags).expect("write");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "tags"]);
    git(&work, &["push", "-q", "origin", "main"]);
    work
}

/// Adds a group of two tags to the small seed (nothing to adopt).
const ADDS: &str = "version: 1\ngroups:\n  - name: 新分组\n    tags: [甲, 乙]\n";

#[test]
fn the_ledger_committed_back_lets_the_next_run_own_what_apply_created() {
    let kit = Kit::new(Platform::GitHub);
    let root = kit.root();
    let remote = root.join("remote.git");
    let work = git_repo(&kit, "github", ADDS);
    let run = |dir: &Path, script: &str| {
        kit.bash(dir)
            .arg(format!("ci/{script}"))
            .env("WECOM_CORP_ID", "ww-test-corp")
            .env("WECOM_CORP_SECRET", common::SECRET)
            .env("GITHUB_REF_NAME", "main")
            .output()
            .expect("run bash")
    };

    let unchanged = run(&work, "tagsync-commit-ledger.sh");
    assert_eq!(unchanged.status.code(), Some(0), "{}", both(&unchanged));
    assert_eq!(
        text(&unchanged.stdout).trim(),
        "ledger=unchanged",
        "no .tagsync yet"
    );

    let out = run(&work, "tagsync-apply.sh");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    // Meanwhile someone merges another change to main.
    git(root, &["clone", "-q", "remote.git", "other"]);
    let other = kit.path("other");
    std::fs::write(other.join("README"), "hello\n").expect("write");
    git(&other, &["add", "README"]);
    git(&other, &["commit", "-q", "-m", "readme"]);
    git(&other, &["push", "-q", "origin", "main"]);

    let out = run(&work, "tagsync-commit-ledger.sh");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        text(&out.stdout).trim(),
        "ledger=committed",
        "{}",
        both(&out)
    );
    let log = git(&remote, &["log", "--format=%s", "main"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "tagsync: update the ownership ledger [skip ci]",
            "readme",
            "tags"
        ],
        "rebased onto the moved branch"
    );
    let again = run(&work, "tagsync-commit-ledger.sh");
    assert_eq!(text(&again.stdout).trim(), "ledger=unchanged");

    // A later run on a fresh machine: the ledger came with the checkout, so renaming a
    // tag that apply created is a change, not a step blocked as foreign.
    git(root, &["clone", "-q", "remote.git", "next"]);
    let next = kit.path("next");
    assert!(next.join(".tagsync/ledger-ww-test-corp.json").exists());
    let rename = "version: 1\ngroups:\n  - name: 新分组\n    tags:\n      - name: 丙\n        previously: [甲]\n      - 乙\n";
    std::fs::write(next.join("tags.yaml"), rename).expect("write");
    let out = run(&next, "tagsync-pr.sh");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(value_of(&text(&out.stdout), "status"), Some("changes"));
    // Without the ledger the same plan is blocked.
    std::fs::remove_dir_all(next.join(".tagsync")).expect("rm ledger");
    let out = run(&next, "tagsync-pr.sh");
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert_eq!(value_of(&text(&out.stdout), "status"), Some("blocked"));
}

#[test]
fn the_ledger_of_a_config_in_a_subdirectory_or_at_state_is_the_one_committed() {
    let kit = Kit::new(Platform::GitHub);
    let remote = kit.path("remote.git");
    let work = git_repo(&kit, "github", "version: 1\ngroups: []\n");
    let run = |script: &str, envs: &[(&str, &str)]| {
        let mut cmd = kit.bash(&work);
        cmd.arg(format!("ci/{script}"))
            .env("WECOM_CORP_ID", "ww-test-corp")
            .env("WECOM_CORP_SECRET", common::SECRET)
            .env("GITHUB_REF_NAME", "main");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    };
    let committed = || git(&remote, &["ls-tree", "-r", "--name-only", "main"]);

    // infra/tags.yaml: tagsync writes infra/.tagsync/, and that is what is committed.
    std::fs::create_dir_all(work.join("infra")).expect("mkdir");
    std::fs::write(work.join("infra/tags.yaml"), ADDS).expect("write");
    let infra = [("TAGSYNC_CONFIG", "infra/tags.yaml")];
    let out = run("tagsync-apply.sh", &infra);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        work.join("infra/.tagsync/ledger-ww-test-corp.json")
            .is_file()
    );
    // A lock file a killed run left behind is not committed with the ledger.
    std::fs::write(
        work.join("infra/.tagsync/.ledger-ww-test-corp.json.lock"),
        "12345",
    )
    .expect("write");
    let out = run("tagsync-commit-ledger.sh", &infra);
    assert_eq!(
        text(&out.stdout).trim(),
        "ledger=committed",
        "{}",
        both(&out)
    );
    assert!(
        committed().contains("infra/.tagsync/ledger-ww-test-corp.json")
            && !committed().contains(".lock"),
        "{}",
        committed()
    );

    // --state PATH in TAGSYNC_ARGS: that file is the ledger.
    let rename = "version: 1\ngroups:\n  - name: 新分组\n    tags:\n      - name: 丙\n        previously: [甲]\n      - 乙\n";
    std::fs::write(work.join("infra/tags.yaml"), rename).expect("write");
    std::fs::create_dir_all(work.join("state")).expect("mkdir");
    std::fs::copy(
        work.join("infra/.tagsync/ledger-ww-test-corp.json"),
        work.join("state/ledger.json"),
    )
    .expect("copy the ledger");
    let state = [
        ("TAGSYNC_CONFIG", "infra/tags.yaml"),
        ("TAGSYNC_ARGS", "--state state/ledger.json"),
    ];
    let out = run("tagsync-apply.sh", &state);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(kit.tags_of("新分组"), ["丙", "乙"]);
    let out = run("tagsync-commit-ledger.sh", &state);
    assert_eq!(
        text(&out.stdout).trim(),
        "ledger=committed",
        "{}",
        both(&out)
    );
    assert!(committed().contains("state/ledger.json"), "{}", committed());
    let out = run(
        "tagsync-commit-ledger.sh",
        &[("TAGSYNC_ARGS", "--state=state/ledger.json")],
    );
    assert_eq!(
        text(&out.stdout).trim(),
        "ledger=unchanged",
        "{}",
        both(&out)
    );

    // A ledger outside the repository cannot be committed: said, and the step fails.
    let outside = kit.path("elsewhere.json");
    std::fs::write(&outside, "{}").expect("write");
    let args = format!("--state {}", outside.display());
    let out = run("tagsync-commit-ledger.sh", &[("TAGSYNC_ARGS", &args)]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("outside the repository"),
        "{}",
        both(&out)
    );
}

// ---- tagsync-install.sh: one pinned build, cached -----------------------------------

#[test]
fn the_install_script_builds_the_pinned_commit_once() {
    let kit = Kit::new(Platform::GitHub);
    // A `cargo` that logs its arguments and leaves a binary where `cargo install` would.
    let tools = kit.path("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    std::fs::write(
        tools.join("cargo"),
        "#!/usr/bin/env bash\necho \"$*\" >>\"$CARGO_LOG\"\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\" && printf '#!/bin/sh\\n' >\"$2/bin/tagsync\" && chmod +x \"$2/bin/tagsync\"\n",
    )
    .expect("write");
    make_executable(&tools.join("cargo"));
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let install = |envs: &[(&str, &str)]| {
        let mut cmd = kit.bash(kit.root());
        cmd.arg("ci/tagsync-install.sh")
            .env("PATH", &path)
            .env("CARGO_LOG", kit.path("cargo.log"))
            .env("TAGSYNC_GIT", "https://git.example/tagsync.git");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    };
    let log = || std::fs::read_to_string(kit.path("cargo.log")).unwrap_or_default();

    let out = install(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("TAGSYNC_REV"), "{}", both(&out));
    assert_eq!(log(), "", "nothing is built unpinned");

    let sha = "0123456789abcdef0123456789abcdef01234567";
    let out = install(&[("TAGSYNC_REV", sha)]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(text(&out.stdout).trim(), format!("tagsync=built {sha}"));
    let root = kit.path(".cargo");
    assert_eq!(
        log().trim(),
        format!(
            "install --locked --force --root {} --git https://git.example/tagsync.git --rev {sha} tagsync",
            root.display()
        )
    );
    assert!(root.join("bin/tagsync").is_file());

    // The cache restored that build: nothing is built.
    let out = install(&[("TAGSYNC_REV", sha)]);
    assert_eq!(text(&out.stdout).trim(), format!("tagsync=cached {sha}"));
    assert_eq!(log().lines().count(), 1);

    // Another pin, a tag, into TAGSYNC_ROOT: built again.
    let out = install(&[("TAGSYNC_REV", "v0.2.0"), ("TAGSYNC_ROOT", "build")]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        log()
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("--root build ") && l.ends_with("--tag v0.2.0 tagsync")),
        "{}",
        log()
    );
    assert!(kit.path("build/bin/tagsync").is_file());
}

// ---- the comment size on a 10000-tag bootstrap ----------------------------------------

#[test]
fn a_10000_tag_bootstrap_plan_and_its_apply_report_fit_in_one_comment() {
    let kit = Kit::with_seed(Platform::GitHub, Vec::new());
    let mut file = String::from("version: 1\ngroups:\n");
    for g in 0..100 {
        file.push_str(&format!("  - name: 分组{g:03}\n    tags:\n"));
        for t in 0..100 {
            file.push_str(&format!("      - 标签{g:03}-{t:03}\n"));
        }
    }
    let (out, status) = pr(&kit, &file);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(status, "changes");
    let comment = kit.read("tagsync-plan.md");
    let limit = fake_api::BODY_LIMIT;
    assert!(
        comment.chars().count() <= limit,
        "{} characters",
        comment.chars().count()
    );
    assert!(comment.starts_with(MARKER));
    assert!(
        comment.contains("| API calls | 100 |"),
        "the summary is whole"
    );
    assert!(
        comment.contains("_Shortened to fit GitHub's comment limit: "),
        "and the comment says what it shortened"
    );
    // The fake refuses what GitHub refuses (over 65,536 characters): this one is taken.
    let post = kit.script("post-comment.sh", &[("PR_NUMBER", "1")]);
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));

    let out = apply(&kit, &file);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let report = kit.read("tagsync-apply.md");
    assert!(
        report.chars().count() <= limit,
        "{} characters",
        report.chars().count()
    );
    assert!(
        report.contains("### Apply complete"),
        "the report is appended"
    );
    assert!(report.contains("| 100 | 0 | 0 |"), "{report}");
    let tags: usize = kit.emu().dump().iter().map(|g| g.tag.len()).sum();
    assert_eq!(tags, 10_000);
    // Posting the apply's Markdown as a comment works too.
    let post = kit.script(
        "post-comment.sh",
        &[("PR_NUMBER", "1"), ("BODY_FILE", "tagsync-apply.md")],
    );
    assert_eq!(post.status.code(), Some(0), "{}", both(&post));
}

// ---- the workflows call the scripts ---------------------------------------------------

fn yaml(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `bash ci/NAME.sh` in a command line: NAME.sh.
fn scripts_called(line: &str) -> Vec<String> {
    line.split("bash ci/")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// Every script a command line calls exists in one of `dirs` of examples/.
fn assert_scripts_exist(line: &str, dirs: &[&str]) {
    for s in scripts_called(line) {
        let found = dirs.iter().any(|d| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(d)
                .join(&s)
                .is_file()
        });
        assert!(found, "{line}: ci/{s} is not in examples/{dirs:?}");
    }
}

/// A command line that does work calls a script; the only others install tagsync.
fn assert_does_work_through_scripts(line: &str, dirs: &[&str]) -> Vec<String> {
    assert_scripts_exist(line, dirs);
    let called = scripts_called(line);
    let install = line.starts_with("apt-get ");
    let checkout = line.starts_with("git fetch -q origin \"$CI_COMMIT_BRANCH\"");
    // GitLab: the exit code kept from the step before a step that runs whatever it was.
    let kept_exit = line == "exit \"$rc\"";
    assert!(
        !called.is_empty() || install || checkout || kept_exit,
        "a step that does work inline instead of calling a script: {line}"
    );
    called
}

/// Every `run:` of a GitHub workflow, and the scripts they call.
fn github_runs(workflow: &Value) -> (Vec<String>, Vec<String>) {
    let mut runs = Vec::new();
    let mut called = Vec::new();
    let jobs = workflow["jobs"].as_object().expect("jobs");
    for job in jobs.values() {
        for step in job["steps"].as_array().expect("steps") {
            if let Some(run) = step["run"].as_str() {
                called.extend(assert_does_work_through_scripts(
                    run.trim(),
                    &["ci", "github"],
                ));
                runs.push(run.trim().to_string());
            }
        }
    }
    (runs, called)
}

#[test]
fn github_workflows_have_the_described_triggers_and_call_the_scripts() {
    let plan = yaml("examples/github/tagsync-plan.yml");
    assert!(plan["on"]["pull_request"].is_object(), "{plan}");
    assert_eq!(plan["permissions"]["pull-requests"], "write");
    assert_eq!(
        plan["concurrency"]["cancel-in-progress"], true,
        "one run per pull request"
    );
    let (_, called) = github_runs(&plan);
    assert_eq!(
        called,
        ["tagsync-install.sh", "tagsync-pr.sh", "post-comment.sh"]
    );
    let steps = plan["jobs"]["plan"]["steps"].as_array().expect("steps");
    let post = steps
        .iter()
        .find(|s| s["run"] == "bash ci/post-comment.sh")
        .expect("post step");
    assert!(
        post["if"].as_str().is_some_and(|c| c.contains("always()")),
        "the comment is posted also when the plan step failed"
    );
    assert_eq!(post["env"]["GITHUB_TOKEN"], "${{ github.token }}");

    assert!(
        plan["jobs"]["plan"]["if"]
            .as_str()
            .is_some_and(|c| c.contains("head.repo.full_name == github.repository")),
        "pull requests from forks (no secrets) are skipped"
    );

    let apply = yaml("examples/github/tagsync-apply.yml");
    assert_eq!(apply["on"]["push"]["branches"], serde_json::json!(["main"]));
    assert_eq!(
        apply["jobs"]["apply"]["if"], "github.ref_name == github.event.repository.default_branch",
        "the branch is named once, in the trigger"
    );
    // A pull request that only commits `tagsync adopt` output is applied after the merge:
    // apply runs on every path the plan runs on but the plan workflow itself.
    let paths = |w: &Value, event: &str| -> Vec<String> {
        w["on"][event]["paths"]
            .as_array()
            .expect("paths")
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    };
    assert_eq!(paths(&apply, "push"), ["tags.yaml", ".tagsync/**"]);
    for p in paths(&plan, "pull_request") {
        assert!(
            paths(&apply, "push").contains(&p) || p.starts_with(".github/"),
            "{p}"
        );
    }
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    assert_eq!(apply["permissions"]["contents"], "write");
    let (_, called) = github_runs(&apply);
    assert_eq!(
        called,
        [
            "tagsync-install.sh",
            "tagsync-apply.sh",
            "tagsync-commit-ledger.sh"
        ]
    );
    let steps = apply["jobs"]["apply"]["steps"].as_array().expect("steps");
    let commit = steps
        .iter()
        .find(|s| s["run"] == "bash ci/tagsync-commit-ledger.sh")
        .expect("ledger step");
    assert!(
        commit["if"]
            .as_str()
            .is_some_and(|c| c.contains("always()")),
        "the ledger is committed whatever the apply's exit"
    );

    let drift = yaml("examples/github/tagsync-drift.yml");
    let cron = drift["on"]["schedule"][0]["cron"].as_str().expect("a cron");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert_eq!(drift["permissions"]["issues"], "write");
    let (_, called) = github_runs(&drift);
    assert_eq!(
        called,
        ["tagsync-install.sh", "tagsync-drift.sh", "drift-issue.sh"]
    );
    let steps = drift["jobs"]["drift"]["steps"].as_array().expect("steps");
    let issue = steps.last().expect("the issue step");
    assert_eq!(issue["env"]["DRIFT"], "${{ steps.drift.outputs.drift }}");
    assert!(steps.iter().any(|s| s["id"] == "drift"));

    // The three jobs read the same file and ledger with the same arguments (the comment
    // shows what apply does; drift reads the ledger apply writes): one `env` for all.
    assert_eq!(plan["env"]["TAGSYNC_ARGS"], "${{ vars.TAGSYNC_ARGS }}");
    assert_eq!(plan["env"]["TAGSYNC_CONFIG"], "tags.yaml");
    assert_eq!(apply["env"], plan["env"]);
    assert_eq!(drift["env"], plan["env"]);

    // Every job builds the pinned commit once, then restores it from a cache keyed on it.
    for (w, job) in [(&plan, "plan"), (&apply, "apply"), (&drift, "drift")] {
        let steps = w["jobs"][job]["steps"].as_array().expect("steps");
        let at = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred).expect(job);
        let restore = at(&|s| s["uses"] == "actions/cache/restore@v4");
        let install = at(&|s| s["run"] == "bash ci/tagsync-install.sh");
        let save = at(&|s| s["uses"] == "actions/cache/save@v4");
        let first_use = at(&|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("tagsync-") && !r.contains("install"))
        });
        assert!(
            restore < install && install < save && save < first_use,
            "{job}"
        );
        let key = steps[restore]["with"]["key"].as_str().expect("key");
        assert!(key.contains("${{ vars.TAGSYNC_REV }}"), "{key}");
        assert_eq!(
            steps[install]["env"]["TAGSYNC_REV"],
            "${{ vars.TAGSYNC_REV }}"
        );
        assert_eq!(steps[restore]["with"]["path"], steps[save]["with"]["path"]);
        assert!(
            steps[save]["if"]
                .as_str()
                .is_some_and(|c| c.contains("cache-hit != 'true'")),
            "{job}"
        );
    }

    // The secrets the README names are the ones the workflows read.
    for w in [&plan, &apply, &drift] {
        let text = w.to_string();
        assert!(text.contains("${{ secrets.WECOM_CORP_ID }}"));
        assert!(text.contains("${{ secrets.WECOM_CORP_SECRET }}"));
        assert!(text.contains("${{ vars.TAGSYNC_GIT }}"));
    }
}

#[test]
fn the_gitlab_pipeline_has_the_described_jobs_and_calls_the_scripts() {
    let ci = yaml("examples/gitlab/.gitlab-ci.yml");
    let lines = |job: &Value, key: &str| -> Vec<String> {
        job[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let calls = |job: &Value| -> Vec<String> {
        ["script", "after_script"]
            .iter()
            .flat_map(|k| lines(job, k))
            .filter(|l| l != "cat drift.env")
            .flat_map(|l| assert_does_work_through_scripts(&l, &["ci", "gitlab"]))
            .collect()
    };
    for line in lines(&ci["default"], "before_script") {
        assert_does_work_through_scripts(&line, &["ci", "gitlab"]);
    }
    let plan = &ci["plan"];
    assert!(
        plan["rules"][0]["if"]
            .as_str()
            .is_some_and(|r| r.contains("merge_request_event")),
        "{plan}"
    );
    // No after_script: GitLab ignores its failures (a note not posted, a ledger not
    // pushed, and the job green). The step's exit code is kept for after the next one.
    for job in ["plan", "apply", "drift"] {
        assert!(ci[job]["after_script"].is_null(), "{job}");
    }
    assert_eq!(
        lines(plan, "script"),
        [
            "rc=0; bash ci/tagsync-pr.sh || rc=$?",
            "bash ci/post-note.sh",
            "exit \"$rc\""
        ],
        "posted whatever the exit"
    );
    assert_eq!(calls(plan), ["tagsync-pr.sh", "post-note.sh"]);
    assert_eq!(
        lines(&ci["default"], "before_script")
            .last()
            .map(String::as_str),
        Some("bash ci/tagsync-install.sh")
    );
    assert_eq!(ci["default"]["cache"]["key"], "tagsync-$TAGSYNC_REV");
    let root = ci["variables"]["TAGSYNC_ROOT"]
        .as_str()
        .expect("TAGSYNC_ROOT");
    let cached = ci["default"]["cache"]["paths"][0].as_str().expect("a path");
    assert_eq!(
        root,
        format!("$CI_PROJECT_DIR/{}", cached.trim_end_matches('/'))
    );
    assert_eq!(
        ci["variables"]["TAGSYNC"].as_str(),
        Some(format!("{root}/bin/tagsync").as_str())
    );

    let apply = &ci["apply"];
    let rule = apply["rules"][0]["if"].as_str().expect("a rule");
    assert!(
        rule.contains("$CI_DEFAULT_BRANCH") && rule.contains("push"),
        "{rule}"
    );
    assert_eq!(apply["resource_group"], "tagsync-apply");
    assert_eq!(
        calls(apply),
        ["tagsync-apply.sh", "tagsync-commit-ledger.sh"]
    );
    assert_eq!(
        lines(apply, "script")[1..],
        [
            "rc=0; bash ci/tagsync-apply.sh || rc=$?",
            "bash ci/tagsync-commit-ledger.sh",
            "exit \"$rc\""
        ]
    );
    // As on GitHub: applied after a merge that changes the file or only the ledger.
    assert_eq!(
        apply["rules"][0]["changes"],
        serde_json::json!(["tags.yaml", ".tagsync/**/*"])
    );

    let drift = &ci["drift"];
    assert!(
        drift["rules"][0]["if"]
            .as_str()
            .is_some_and(|r| r.contains("schedule")),
        "{drift}"
    );
    assert_eq!(calls(drift), ["tagsync-drift.sh", "drift-issue.sh"]);
}

#[test]
fn every_script_of_the_kit_is_called_by_a_workflow() {
    let mut called: Vec<String> = Vec::new();
    for w in [
        "examples/github/tagsync-plan.yml",
        "examples/github/tagsync-apply.yml",
        "examples/github/tagsync-drift.yml",
        "examples/gitlab/.gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(w))
            .expect("workflow");
        called.extend(text.lines().flat_map(scripts_called));
    }
    for dir in ["ci", "github", "gitlab"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(dir);
        for entry in std::fs::read_dir(path).expect("dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if !name.ends_with(".sh") {
                continue;
            }
            if name == "tagsync-api.sh" || name == "tagsync-common.sh" {
                continue; // sourced by the other scripts, not called
            }
            assert!(
                called.contains(&name),
                "examples/{dir}/{name} is called by no workflow"
            );
        }
    }
}

// ---- the workflows themselves, step by step -------------------------------------------

/// How a job's step ended: its name and exit code (`None`: skipped), and its output.
struct StepRun {
    name: String,
    code: Option<i32>,
    output: String,
}

fn step<'a>(runs: &'a [StepRun], name: &str) -> &'a StepRun {
    runs.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

/// `${{ expr }}` replaced by `value(expr)`.
fn expand(text: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 3..];
        let j = after.find("}}").expect("an expression is closed");
        out.push_str(&value(after[..j].trim()));
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// A step's `if:`, for the conditions the examples use.
fn should_run(cond: Option<&str>, failed: bool, outcomes: &[(String, bool)]) -> bool {
    let Some(cond) = cond else { return !failed };
    let mut always = false;
    let mut holds = true;
    for term in cond.split("&&").map(str::trim) {
        if term == "always()" {
            always = true;
        } else if let Some(id) = term
            .strip_prefix("steps.")
            .and_then(|t| t.strip_suffix(".outcome != 'skipped'"))
        {
            holds &= outcomes.iter().any(|(ran, _)| ran == id);
        } else {
            panic!("the test does not know the condition `{term}`");
        }
    }
    holds && (always || !failed)
}

/// Run one job of a GitHub workflow as Actions would, in `dir`: each `run:` step with
/// `bash -eo pipefail`, its `env:` with the expressions filled in (secrets, token, pull
/// request number, earlier steps' outputs), `if:` honoured, `$GITHUB_OUTPUT` per step and
/// one `$GITHUB_STEP_SUMMARY` (`summary.md`). The workflow's `env:` goes to every step,
/// under the step's own. `uses:` steps (checkout, cache) and the install step are
/// skipped: the checkout is `dir`, and `TAGSYNC` is this build.
fn run_github_job(kit: &Kit, dir: &Path, workflow: &str, job: &str, pr: &str) -> Vec<StepRun> {
    run_github_job_with(kit, dir, workflow, job, pr, &[])
}

/// [`run_github_job`] with repository variables (`vars.NAME`) set to `vars`; unset ones
/// are empty, as on GitHub, but `WECOM_API_BASE` is the emulator.
fn run_github_job_with(
    kit: &Kit,
    dir: &Path,
    workflow: &str,
    job: &str,
    pr: &str,
    vars: &[(&str, &str)],
) -> Vec<StepRun> {
    let w = yaml(workflow);
    let steps = w["jobs"][job]["steps"].as_array().expect("steps");
    let summary = dir.join("summary.md");
    let mut outputs: Vec<(String, String)> = Vec::new(); // ("id.key", value)
    let mut outcomes: Vec<(String, bool)> = Vec::new(); // (id, succeeded)
    let mut failed = false;
    let mut runs = Vec::new();
    for (i, st) in steps.iter().enumerate() {
        let name = st["name"].as_str().unwrap_or("checkout").to_string();
        let Some(run) = st["run"].as_str() else {
            continue;
        };
        if run == "bash ci/tagsync-install.sh" {
            continue;
        }
        if !should_run(st["if"].as_str(), failed, &outcomes) {
            runs.push(StepRun {
                name,
                code: None,
                output: String::new(),
            });
            continue;
        }
        let value = |expr: &str| -> String {
            match expr {
                "secrets.WECOM_CORP_ID" => "ww-test-corp".into(),
                "secrets.WECOM_CORP_SECRET" => common::SECRET.into(),
                "github.token" => GITHUB_TOKEN.into(),
                "github.event.pull_request.number" => pr.into(),
                "vars.WECOM_API_BASE" => kit.emu().base_url(),
                other => match (other.strip_prefix("steps."), other.strip_prefix("vars.")) {
                    (Some(key), _) => outputs
                        .iter()
                        .find(|(k, _)| k.replacen(".", ".outputs.", 1) == key)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                    (None, Some(name)) => vars
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default(),
                    (None, None) => panic!("the test does not know ${{{{ {other} }}}}"),
                },
            }
        };
        let output_file = dir.join(format!(".github-output-{i}"));
        std::fs::write(&output_file, "").expect("output file");
        let mut cmd = kit.bash(dir);
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", run])
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_REF_NAME", "main");
        for env in [&w["env"], &st["env"]] {
            for (k, v) in env.as_object().into_iter().flatten() {
                cmd.env(k, expand(v.as_str().unwrap_or_default(), &value));
            }
        }
        let out = cmd.output().expect("run a step");
        let ok = out.status.success();
        failed |= !ok;
        if let Some(id) = st["id"].as_str() {
            outcomes.push((id.to_string(), ok));
            let written = std::fs::read_to_string(&output_file).unwrap_or_default();
            for line in written.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    outputs.push((format!("{id}.{k}"), v.to_string()));
                }
            }
        }
        runs.push(StepRun {
            name,
            code: out.status.code(),
            output: both(&out),
        });
    }
    runs
}

#[test]
fn the_github_plan_workflow_comments_once_and_fails_the_check_when_blocked() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let dir = kit.root();
    let plan = "examples/github/tagsync-plan.yml";
    kit.write("tags.yaml", CHANGED);
    let runs = run_github_job(&kit, dir, plan, "plan", "7");
    assert_eq!(
        step(&runs, "Plan").code,
        Some(0),
        "{}",
        step(&runs, "Plan").output
    );
    let post = step(&runs, "Post the plan as the pull request's comment");
    assert_eq!(post.code, Some(0), "{}", post.output);
    assert!(post.output.contains("comment=created"), "{}", post.output);

    kit.write("tags.yaml", FOREIGN_RENAME);
    let runs = run_github_job(&kit, dir, plan, "plan", "7");
    assert_eq!(
        step(&runs, "Plan").code,
        Some(3),
        "the check fails when blocked"
    );
    let post = step(&runs, "Post the plan as the pull request's comment");
    assert_eq!(
        post.code,
        Some(0),
        "and the comment is still posted: {}",
        post.output
    );
    assert!(post.output.contains("comment=updated"), "{}", post.output);
    let st = lock(&kit.api);
    assert_eq!(st.comments_on(7).len(), 1);
    assert!(st.comments_on(7)[0].body.contains("**Blocked:**"));
    assert_eq!(kit.writes(), 0);
}

#[test]
fn the_github_apply_workflow_applies_commits_the_ledger_and_fails_when_blocked() {
    let kit = Kit::new(Platform::GitHub);
    let work = git_repo(&kit, "github", ADDS);
    let apply = "examples/github/tagsync-apply.yml";
    let runs = run_github_job(&kit, &work, apply, "apply", "");
    assert_eq!(
        step(&runs, "Apply").code,
        Some(0),
        "{}",
        step(&runs, "Apply").output
    );
    assert_eq!(kit.tags_of("新分组"), ["甲", "乙"]);
    let commit = step(&runs, "Commit the ownership ledger");
    assert_eq!(commit.code, Some(0), "{}", commit.output);
    assert!(
        commit.output.contains("ledger=committed"),
        "{}",
        commit.output
    );
    let remote = kit.path("remote.git");
    let files = git(&remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        files.contains(".tagsync/ledger-ww-test-corp.json"),
        "{files}"
    );
    let summary = std::fs::read_to_string(work.join("summary.md")).expect("summary");
    assert!(summary.contains("### Apply complete"), "{summary}");

    // A merge that renames a tag of the admin console's group: blocked, the job fails,
    // the plan is in the summary, nothing is sent, and the ledger step still runs.
    std::fs::write(work.join("tags.yaml"), FOREIGN_RENAME).expect("write");
    std::fs::remove_file(work.join("summary.md")).expect("rm");
    let writes = kit.writes();
    let runs = run_github_job(&kit, &work, apply, "apply", "");
    assert_eq!(
        step(&runs, "Apply").code,
        Some(3),
        "{}",
        step(&runs, "Apply").output
    );
    let commit = step(&runs, "Commit the ownership ledger");
    assert_eq!(commit.code, Some(0), "{}", commit.output);
    assert!(
        commit.output.contains("ledger=unchanged"),
        "{}",
        commit.output
    );
    let summary = std::fs::read_to_string(work.join("summary.md")).expect("summary");
    assert!(
        summary.starts_with(MARKER) && summary.contains("**Blocked:**"),
        "{summary}"
    );
    assert_eq!(kit.writes(), writes, "nothing was sent");
}

#[test]
fn the_github_drift_workflow_opens_then_closes_the_issue() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    let dir = kit.root();
    let drift = "examples/github/tagsync-drift.yml";
    kit.write("tags.yaml", CHANGED);
    let runs = run_github_job(&kit, dir, drift, "drift", "");
    let issue = step(&runs, "Open, update or close the drift issue");
    assert_eq!(issue.code, Some(0), "{}", issue.output);
    assert!(issue.output.contains("issue=opened"), "{}", issue.output);
    assert_eq!(lock(&kit.api).labelled("tagsync-drift").len(), 1);

    kit.write("tags.yaml", SAME);
    let runs = run_github_job(&kit, dir, drift, "drift", "");
    let issue = step(&runs, "Open, update or close the drift issue");
    assert!(issue.output.contains("issue=closed"), "{}", issue.output);
    assert!(
        lock(&kit.api)
            .labelled("tagsync-drift")
            .iter()
            .all(|i| !i.open)
    );
}

#[test]
fn the_github_drift_workflow_reads_the_ledger_tagsync_args_names_and_fails_on_a_bad_one() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    // The ledger kept elsewhere, as `--state` in the repository variable says.
    std::fs::create_dir_all(kit.path("state")).expect("mkdir");
    std::fs::rename(kit.fx.ledger_path(), kit.path("state/ours.json")).expect("move");
    kit.write("tags.yaml", CHANGED);
    let drift = |args: &str| {
        let vars = [("TAGSYNC_ARGS", args)];
        let drift = "examples/github/tagsync-drift.yml";
        run_github_job_with(&kit, kit.root(), drift, "drift", "", &vars)
    };
    let runs = drift("--state state/ours.json");
    let issue = step(&runs, "Open, update or close the drift issue");
    assert_eq!(issue.code, Some(0), "{}", issue.output);
    let body = lock(&kit.api).labelled("tagsync-drift")[0].body.clone();
    assert!(body.contains("普通客户 → 重要客户"), "{body}");
    assert!(
        !body.contains("**Blocked:**"),
        "our tags are ours with that ledger: {body}"
    );

    let runs = drift("--bogus");
    let plan = step(&runs, "Plan");
    assert_eq!(plan.code, Some(1), "{}", plan.output);
    assert!(plan.output.contains("status=error"), "{}", plan.output);
    assert_eq!(
        step(&runs, "Open, update or close the drift issue").code,
        None,
        "the issue is left alone"
    );
    let summary = kit.read("summary.md");
    assert!(summary.contains("the drift check failed"), "{summary}");
    assert!(summary.contains("--bogus"), "{summary}");
}

/// Run one job of the GitLab pipeline as a runner would, in `dir`: the pipeline's and the
/// job's `variables`, then `script` in one `bash -eo pipefail`. There is no `after_script`
/// (GitLab ignores its failures). `default.before_script` (the install) is skipped, and
/// so are the variables that point at its build: `TAGSYNC` is this build. The CI/CD
/// variables are set as a project would have them.
fn run_gitlab_job(kit: &Kit, dir: &Path, job: &str, envs: &[(&str, &str)]) -> Output {
    let ci = yaml("examples/gitlab/.gitlab-ci.yml");
    let job = &ci[job];
    assert!(job["after_script"].is_null(), "{job}");
    let mut exports = String::new();
    for vars in [&ci["variables"], &job["variables"]] {
        for (k, v) in vars.as_object().into_iter().flatten() {
            if k != "TAGSYNC" && k != "TAGSYNC_ROOT" {
                exports.push_str(&format!(
                    "export {k}=\"{}\"\n",
                    v.as_str().unwrap_or_default()
                ));
            }
        }
    }
    let script = job["script"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    let mut cmd = kit.bash(dir);
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(format!("{exports}{script}"))
        .env("WECOM_CORP_ID", "ww-test-corp")
        .env("WECOM_CORP_SECRET", common::SECRET)
        .env("GITLAB_TOKEN", GITLAB_TOKEN)
        .env("CI_COMMIT_BRANCH", "main")
        .env("CI_DEFAULT_BRANCH", "main")
        .env("CI_SERVER_PROTOCOL", "https")
        .env("CI_SERVER_HOST", "gitlab.example")
        .env("CI_SERVER_PORT", "443")
        .env("CI_PROJECT_PATH", "acme/tags");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run a job")
}

/// The apply job pushes the ledger to the URL built from the CI variables and the token;
/// these git settings send that URL to the bare repository `remote.git` instead.
fn gitlab_push_to(kit: &Kit) -> Vec<(String, String)> {
    let remote = kit.path("remote.git");
    let remote = remote.to_str().expect("utf-8 path");
    vec![
        ("GIT_CONFIG_COUNT".into(), "1".into()),
        (
            "GIT_CONFIG_KEY_0".into(),
            format!("url.file://{remote}.insteadOf"),
        ),
        (
            "GIT_CONFIG_VALUE_0".into(),
            "https://oauth2:gl-test-token@gitlab.example:443/acme/tags.git".into(),
        ),
    ]
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn the_gitlab_jobs_post_the_note_apply_and_push_the_ledger_and_keep_the_drift_issue() {
    let kit = Kit::new(Platform::GitLab);
    let work = git_repo(&kit, "gitlab", ADDS);
    let mr = [("CI_MERGE_REQUEST_IID", "3")];
    let job = run_gitlab_job(&kit, &work, "plan", &mr);
    assert_eq!(job.status.code(), Some(0), "{}", both(&job));
    assert!(text(&job.stdout).contains("note=created"), "{}", both(&job));
    std::fs::write(work.join("tags.yaml"), INVALID).expect("write");
    let job = run_gitlab_job(&kit, &work, "plan", &mr);
    assert_eq!(job.status.code(), Some(1), "an invalid file fails the job");
    assert!(text(&job.stdout).contains("note=updated"), "{}", both(&job));
    assert!(
        lock(&kit.api).comments_on(3)[0]
            .body
            .contains("is not valid"),
        "the note says why"
    );
    git(&work, &["checkout", "-q", "tags.yaml"]);

    let push_to = gitlab_push_to(&kit);
    let job = run_gitlab_job(&kit, &work, "apply", &pairs(&push_to));
    assert_eq!(job.status.code(), Some(0), "{}", both(&job));
    assert!(
        text(&job.stdout).contains("### Apply complete"),
        "the report is in the log"
    );
    assert_eq!(kit.tags_of("新分组"), ["甲", "乙"]);
    assert!(
        text(&job.stdout).contains("ledger=committed"),
        "{}",
        both(&job)
    );
    let log = git(
        &kit.path("remote.git"),
        &["log", "--format=%s", "-1", "main"],
    );
    assert_eq!(log.trim(), "tagsync: update the ownership ledger [skip ci]");

    // Someone renames a tag in the admin console: the nightly job opens the issue.
    let script = run_gitlab_job(&kit, &work, "drift", &[]);
    assert_eq!(script.status.code(), Some(0), "{}", both(&script));
    assert!(
        text(&script.stdout).contains("issue=none"),
        "{}",
        both(&script)
    );
    kit.fx
        .rt
        .block_on(common::rename_as_admin(kit.emu(), "甲", "甲（改）"));
    let script = run_gitlab_job(&kit, &work, "drift", &[]);
    assert_eq!(script.status.code(), Some(0), "{}", both(&script));
    assert!(
        text(&script.stdout).contains("drift=true"),
        "{}",
        both(&script)
    );
    assert!(
        text(&script.stdout).contains("issue=opened"),
        "{}",
        both(&script)
    );
    let st = lock(&kit.api);
    let issues = st.labelled("tagsync-drift");
    assert_eq!(issues.len(), 1);
    // tagsync created 甲: the console's rename is drift, renamed back (same id).
    assert!(
        issues[0].body.contains("新分组: 甲（改） → 甲"),
        "{}",
        issues[0].body
    );
    assert!(
        issues[0].body.contains("renamed outside tagsync"),
        "{}",
        issues[0].body
    );
}

#[test]
fn the_gitlab_jobs_fail_when_the_note_or_the_ledger_cannot_be_pushed() {
    let kit = Kit::new(Platform::GitLab);
    let work = git_repo(&kit, "gitlab", ADDS);
    let mr = [("CI_MERGE_REQUEST_IID", "3")];
    // The plan is fine but the note cannot be posted: the job fails, and says why.
    let job = run_gitlab_job(
        &kit,
        &work,
        "plan",
        &[("CI_MERGE_REQUEST_IID", "3"), ("GITLAB_TOKEN", "revoked")],
    );
    assert_ne!(job.status.code(), Some(0), "{}", both(&job));
    assert!(
        text(&job.stdout).contains("status=changes"),
        "{}",
        both(&job)
    );
    assert!(text(&job.stderr).contains("HTTP 401"), "{}", both(&job));
    // Blocked: the note is posted, and the job keeps the plan's exit code.
    std::fs::write(work.join("tags.yaml"), FOREIGN_RENAME).expect("write");
    let job = run_gitlab_job(&kit, &work, "plan", &mr);
    assert_eq!(job.status.code(), Some(3), "{}", both(&job));
    assert!(text(&job.stdout).contains("note=created"), "{}", both(&job));

    // Blocked on apply: nothing sent, the ledger step still runs, the job exits 3.
    git(&work, &["commit", "-q", "-am", "rename"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let push_to = gitlab_push_to(&kit);
    let writes = kit.writes();
    let job = run_gitlab_job(&kit, &work, "apply", &pairs(&push_to));
    assert_eq!(job.status.code(), Some(3), "{}", both(&job));
    assert!(
        text(&job.stdout).contains("ledger=unchanged"),
        "{}",
        both(&job)
    );
    assert_eq!(kit.writes(), writes);

    // The apply creates tags but the branch refuses the ledger: the job fails (it would
    // be green from after_script, and the ledger lost).
    std::fs::write(work.join("tags.yaml"), ADDS).expect("write");
    git(&work, &["commit", "-q", "-am", "adds"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let hook = kit.path("remote.git/hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n").expect("hook");
    make_executable(&hook);
    let job = run_gitlab_job(&kit, &work, "apply", &pairs(&push_to));
    assert_eq!(job.status.code(), Some(1), "{}", both(&job));
    assert!(
        text(&job.stdout).contains("### Apply complete"),
        "{}",
        both(&job)
    );
    assert_eq!(kit.tags_of("新分组"), ["甲", "乙"]);
    assert!(
        text(&job.stderr).contains("could not push the ledger"),
        "{}",
        both(&job)
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

// ---- install: completions and the man page --------------------------------------------

#[test]
fn completions_and_the_man_page_are_printed_and_a_closed_pipe_is_no_crash() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", both(&out));
        let script = text(&out.stdout);
        assert!(
            script.contains("validate") && script.contains("plan"),
            "{shell}"
        );
    }
    let man = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("man")
        .output()
        .expect("run");
    assert_eq!(man.status.code(), Some(0), "{}", both(&man));
    assert!(text(&man.stdout).contains(".TH tagsync 1"));

    // `tagsync completions fish | head -3`: the reader goes away first.
    for args in [&["completions", "fish"][..], &["man"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", both(&out));
        assert!(!text(&out.stderr).contains("panicked"), "{}", both(&out));
    }
}

// ---- the README names what the workflows need -----------------------------------------

#[test]
fn the_readme_names_every_secret_and_variable_the_workflows_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let section = readme
        .split("## Use it in CI (GitOps)")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has the GitOps section");
    let mut names = Vec::new();
    for w in ["tagsync-plan.yml", "tagsync-apply.yml", "tagsync-drift.yml"] {
        let text = std::fs::read_to_string(root.join("examples/github").join(w)).expect("yml");
        for prefix in ["secrets.", "vars."] {
            for part in text.split(prefix).skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    // The GitLab pipeline reads its CI/CD variables as $NAME.
    names.extend(["GITLAB_TOKEN", "TAGSYNC_GIT", "TAGSYNC_REV", "TAGSYNC_ARGS"].map(String::from));
    assert!(names.len() > 4);
    for name in names {
        assert!(
            section.contains(&format!("`{name}`")),
            "the README's GitOps section does not name `{name}`"
        );
    }
    // And the files it tells the user to copy exist.
    for path in [
        "examples/ci",
        "examples/github",
        "examples/gitlab/.gitlab-ci.yml",
    ] {
        assert!(section.contains(path), "{path}");
        assert!(root.join(path).exists(), "{path}");
    }
}
