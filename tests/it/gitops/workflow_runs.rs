//! The workflows themselves, run step by step by a small stand-in for GitHub Actions and
//! GitLab CI.

use super::*;

// ---- the workflows themselves, step by step -------------------------------------------

/// How a job's step ended: its name and exit code (`None`: skipped), and its output.
pub(super) struct StepRun {
    pub(super) name: String,
    pub(super) code: Option<i32>,
    pub(super) output: String,
}

pub(super) fn step<'a>(runs: &'a [StepRun], name: &str) -> &'a StepRun {
    runs.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

/// `${{ expr }}` replaced by `value(expr)`.
pub(super) fn expand(text: &str, value: &dyn Fn(&str) -> String) -> String {
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
pub(super) fn should_run(cond: Option<&str>, failed: bool, outcomes: &[(String, bool)]) -> bool {
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
pub(super) fn run_github_job(
    kit: &Kit,
    dir: &Path,
    workflow: &str,
    job: &str,
    pr: &str,
) -> Vec<StepRun> {
    run_github_job_with(kit, dir, workflow, job, pr, &[])
}

/// [`run_github_job`] with repository variables (`vars.NAME`) set to `vars`; unset ones
/// are empty, as on GitHub, but `WECOM_API_BASE` is the emulator.
pub(super) fn run_github_job_with(
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
pub(super) fn the_github_plan_workflow_comments_once_and_fails_the_check_when_blocked() {
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
pub(super) fn the_github_apply_workflow_applies_commits_the_ledger_and_fails_when_blocked() {
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
pub(super) fn the_github_drift_workflow_opens_then_closes_the_issue() {
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
pub(super) fn the_github_drift_workflow_reads_the_ledger_tagsync_args_names_and_fails_on_a_bad_one()
{
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
pub(super) fn run_gitlab_job(kit: &Kit, dir: &Path, job: &str, envs: &[(&str, &str)]) -> Output {
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
pub(super) fn gitlab_push_to(kit: &Kit) -> Vec<(String, String)> {
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

pub(super) fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
pub(super) fn the_gitlab_jobs_post_the_note_apply_and_push_the_ledger_and_keep_the_drift_issue() {
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
pub(super) fn the_gitlab_jobs_fail_when_the_note_or_the_ledger_cannot_be_pushed() {
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

pub(super) fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
