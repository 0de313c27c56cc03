//! The CI scripts one by one: the PR plan comment, the apply, errors, drift, the sticky
//! comment and the drift issue.

use super::*;

// ---- tagsync-pr.sh ------------------------------------------------------------------

/// Run the PR script with `file` as tags.yaml; the status it printed and its output file.
pub(super) fn pr(kit: &Kit, file: &str) -> (Output, String) {
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
pub(super) fn pr_script_reports_no_changes_and_writes_the_comment() {
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
pub(super) fn pr_script_reports_changes_with_the_plan_and_changes_nothing() {
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
pub(super) fn pr_script_writes_the_whole_plan_to_the_job_summary() {
    let kit = Kit::new(Platform::GitHub);
    kit.adopt_ours();
    kit.write("tags.yaml", CHANGED);
    kit.write("summary.md", "earlier step\n");
    let out = kit.script("tagsync-pr.sh", &[("GITHUB_STEP_SUMMARY", "summary.md")]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let summary = kit.read("summary.md");
    assert!(
        summary.starts_with("earlier step\n"),
        "appended, not replaced: {summary}"
    );
    assert!(summary.contains("普通客户 → 重要客户"), "{summary}");
    assert_eq!(kit.writes(), 0);
}

#[test]
pub(super) fn pr_script_fails_with_3_when_blocked_and_the_comment_says_why() {
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
pub(super) fn pr_script_fails_on_an_invalid_file_with_the_diagnostics_in_the_comment() {
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
pub(super) fn pr_script_fails_when_the_corp_cannot_be_read_and_never_shows_the_secret() {
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
pub(super) fn pr_script_puts_plain_text_logs_in_the_comment_when_the_corp_is_unreachable() {
    let kit = Kit::new(Platform::GitHub);
    kit.write("tags.yaml", SAME);
    // An address nothing listens on, and no test's emulator can take (they bind
    // 127.0.0.1): connection refused, retried, then given up.
    let base = "http://127.0.0.2:1".to_string();
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
pub(super) fn pr_script_says_so_when_tagsync_is_not_installed() {
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

pub(super) fn apply(kit: &Kit, file: &str) -> Output {
    kit.write("tags.yaml", file);
    kit.write("summary.md", "");
    kit.script("tagsync-apply.sh", &[("GITHUB_STEP_SUMMARY", "summary.md")])
}

#[test]
pub(super) fn apply_script_applies_verifies_and_writes_the_job_summary() {
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
pub(super) fn apply_script_fails_with_3_when_blocked_and_sends_nothing() {
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
pub(super) fn apply_script_stops_at_the_delete_gate_until_tagsync_args_allow_it() {
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
pub(super) fn apply_script_passes_on_exit_4_when_a_step_keeps_failing() {
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
pub(super) fn apply_script_exits_1_on_an_error_and_says_so_in_the_summary() {
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
pub(super) struct Failed {
    pub(super) out: Output,
    pub(super) markdown: String,
    pub(super) summary: String,
    pub(super) status: Option<String>,
}

pub(super) fn run_failing(kit: &Kit, script: &str, envs: &[(&str, &str)]) -> Failed {
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
pub(super) fn a_bad_tagsync_args_is_an_error_with_tagsyncs_message_in_the_comment_and_summary() {
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
pub(super) fn an_expected_exit_code_with_no_markdown_is_an_error_too() {
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

pub(super) fn drift(kit: &Kit, file: &str, envs: &[(&str, &str)]) -> (Output, Option<String>) {
    kit.write("tags.yaml", file);
    kit.write("outputs", "");
    let mut all = vec![("GITHUB_OUTPUT", "outputs")];
    all.extend_from_slice(envs);
    let out = kit.script("tagsync-drift.sh", &all);
    let value = value_of(&kit.read("outputs"), "drift").map(String::from);
    (out, value)
}

#[test]
pub(super) fn drift_script_says_whether_the_corp_drifted() {
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
pub(super) fn github_comment_is_created_once_then_updated_in_place() {
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
pub(super) fn github_comment_edits_only_a_comment_by_the_tokens_own_user() {
    use fake_api::{ACTIONS_BOT, GITHUB_PAT, PAT_USER, REVIEWER};
    let kit = Kit::new(Platform::GitHub);
    let quoted = format!("{MARKER}\nquoted by a reviewer, who starts with the marker");
    let by_pat = format!("{MARKER}\nan older plan, posted with a personal token");
    {
        let mut st = lock(&kit.api);
        st.add_comment_by(7, REVIEWER, &quoted);
        st.add_comment_by(7, PAT_USER, &by_pat);
    }
    let body_of = |user: &str| -> Vec<String> {
        lock(&kit.api)
            .comments_on(7)
            .iter()
            .filter(|c| c.user == user)
            .map(|c| c.body.clone())
            .collect()
    };
    let post = |env: &[(&str, &str)], expect: &str| {
        let mut env = env.to_vec();
        env.push(("PR_NUMBER", "7"));
        let out = kit.script("post-comment.sh", &env);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        assert!(
            text(&out.stdout).starts_with(&format!("comment={expect} ")),
            "{}",
            both(&out)
        );
    };
    // The workflow's GITHUB_TOKEN may not read /user: its comments are by
    // github-actions[bot], which has none here yet.
    kit.write("tagsync-plan.md", &format!("{MARKER}\nfirst plan\n"));
    post(&[], "created");
    assert_eq!(body_of(ACTIONS_BOT), [kit.read("tagsync-plan.md")]);
    kit.write("tagsync-plan.md", &format!("{MARKER}\nsecond plan\n"));
    post(&[], "updated");
    assert_eq!(body_of(ACTIONS_BOT), [kit.read("tagsync-plan.md")]);
    assert_eq!(body_of(PAT_USER), [by_pat]);
    // A personal token's user, as GET /user names it, edits its own comment.
    kit.write("tagsync-plan.md", &format!("{MARKER}\nthird plan\n"));
    post(&[("GITHUB_TOKEN", GITHUB_PAT)], "updated");
    assert_eq!(body_of(PAT_USER), [kit.read("tagsync-plan.md")]);
    assert!(body_of(ACTIONS_BOT)[0].contains("second plan"));
    // COMMENT_AUTHOR names the author instead (a GitHub App's token, APP[bot]).
    kit.write("tagsync-plan.md", &format!("{MARKER}\nfourth plan\n"));
    post(&[("COMMENT_AUTHOR", ACTIONS_BOT)], "updated");
    assert!(body_of(ACTIONS_BOT)[0].contains("fourth plan"));
    // Whatever happened, the reviewer's comment is as written.
    assert_eq!(body_of(REVIEWER), [quoted]);
    let st = lock(&kit.api);
    assert_eq!(st.comments_on(7).len(), 3);
    assert!(
        st.requests.iter().any(|r| r == "GET /user"),
        "{:?}",
        st.requests
    );
}

#[test]
pub(super) fn github_comment_errors_name_the_problem() {
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
pub(super) fn gitlab_note_is_created_once_then_updated_in_place() {
    let kit = Kit::new(Platform::GitLab);
    kit.adopt_ours();
    {
        let mut st = lock(&kit.api);
        for i in 0..105 {
            st.add_comment(3, &format!("added {i} commits"));
        }
    }
    // A reviewer's note that quotes the plan from its first line is never edited.
    let quoted = format!("{MARKER}\nquoted by a reviewer");
    lock(&kit.api).add_comment(3, &quoted);
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
        .filter(|c| c.user == fake_api::GITLAB_BOT)
        .collect();
    assert_eq!(ours.len(), 1, "one note");
    assert_eq!(ours[0].body, kit.read("tagsync-plan.md"));
    assert!(ours[0].body.contains("**Blocked:**"));
    assert_eq!(st.comments_on(3).len(), 107);
    assert!(
        st.comments_on(3).iter().any(|c| c.body == quoted),
        "the reviewer's note is as written"
    );
}

// ---- drift-issue.sh -------------------------------------------------------------------

/// Drift, drift again, agreement, agreement again: opened, updated, closed, nothing.
pub(super) fn drift_issue_cycle(kit: &Kit, opened_label: impl Fn(&fake_api::Store) -> usize) {
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
        assert!(
            issues[0].title.ends_with("differ from tags.yaml"),
            "{}",
            issues[0].title
        );
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
pub(super) fn github_drift_issue_is_opened_updated_and_closed() {
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
pub(super) fn the_drift_issue_names_the_configured_file() {
    for platform in [Platform::GitHub, Platform::GitLab] {
        let kit = Kit::new(platform);
        kit.write("tagsync-drift.md", "drift\n");
        let out = kit.script(
            "drift-issue.sh",
            &[("DRIFT", "true"), ("TAGSYNC_CONFIG", "infra/tags.yaml")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        let st = lock(&kit.api);
        let issues = st.labelled("tagsync-drift");
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0].title.ends_with("differ from infra/tags.yaml"),
            "{}",
            issues[0].title
        );
    }
}

#[test]
pub(super) fn gitlab_drift_issue_is_opened_updated_and_closed() {
    let kit = Kit::new(Platform::GitLab);
    drift_issue_cycle(&kit, |st| st.labelled("tagsync-drift").len());
}
