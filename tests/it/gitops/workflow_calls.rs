//! The workflows call the scripts as the README says (their steps, inputs and secrets).

use super::*;

// ---- the workflows call the scripts ---------------------------------------------------

pub(super) fn yaml(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `bash ci/NAME.sh` in a command line: NAME.sh.
pub(super) fn scripts_called(line: &str) -> Vec<String> {
    line.split("bash ci/")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// Every script a command line calls exists in one of `dirs` of examples/.
pub(super) fn assert_scripts_exist(line: &str, dirs: &[&str]) {
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
pub(super) fn assert_does_work_through_scripts(line: &str, dirs: &[&str]) -> Vec<String> {
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
pub(super) fn github_runs(workflow: &Value) -> (Vec<String>, Vec<String>) {
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
pub(super) fn github_workflows_have_the_described_triggers_and_call_the_scripts() {
    let plan = yaml("examples/github/tagsync-plan.yml");
    assert!(plan["on"]["pull_request"].is_object(), "{plan}");
    assert_eq!(plan["permissions"]["pull-requests"], "write");
    assert_eq!(
        plan["concurrency"]["cancel-in-progress"], true,
        "one run per pull request"
    );
    let (_, called) = github_runs(&plan);
    assert_eq!(called, ["tagsync-pr.sh", "post-comment.sh"]);
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
    assert_eq!(called, ["tagsync-apply.sh", "tagsync-commit-ledger.sh"]);
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
    // `tagsync watch --trigger-url` sends event_type tagsync-drift (commands/watch.rs).
    assert_eq!(
        drift["on"]["repository_dispatch"]["types"][0], "tagsync-drift",
        "the drift job starts on watch's trigger"
    );
    assert_eq!(drift["permissions"]["issues"], "write");
    let (_, called) = github_runs(&drift);
    assert_eq!(called, ["tagsync-drift.sh", "drift-issue.sh"]);
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

    // Every job installs the release binary with the action at one pinned release (this
    // crate's version), before the first script that runs tagsync: nothing is built, and
    // no cache is needed. Building from source is the action's input `from-source`.
    let pin = format!("OWNER/tagsync@v{}", env!("CARGO_PKG_VERSION"));
    for (w, job) in [(&plan, "plan"), (&apply, "apply"), (&drift, "drift")] {
        let steps = w["jobs"][job]["steps"].as_array().expect("steps");
        let at = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred).expect(job);
        let install = at(&|s| s["uses"] == pin.as_str());
        let first_use = at(&|s| s["run"].as_str().is_some_and(|r| r.contains("tagsync-")));
        assert!(install < first_use, "{job}");
        assert_eq!(steps[install]["with"]["from-source"], "auto", "{job}");
        let text = w.to_string();
        assert!(
            !text.contains("cargo") && !text.contains("actions/cache"),
            "{job}: nothing is built or cached"
        );
    }
    assert!(
        yaml("action.yml")["inputs"]["from-source"].is_object(),
        "the input the workflows set is the action's"
    );

    // The secrets the README names are the ones the workflows read.
    for w in [&plan, &apply, &drift] {
        let text = w.to_string();
        assert!(text.contains("${{ secrets.WECOM_CORP_ID }}"));
        assert!(text.contains("${{ secrets.WECOM_CORP_SECRET }}"));
    }
}

#[test]
pub(super) fn the_gitlab_pipeline_has_the_described_jobs_and_calls_the_scripts() {
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
    // Every job runs in tagsync's image at one pinned release (this crate's version),
    // with a shell as its entrypoint: nothing to install, nothing built, no cache.
    let image = &ci["default"]["image"];
    assert_eq!(
        image["name"],
        format!("ghcr.io/OWNER/tagsync:{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(image["entrypoint"], serde_json::json!([""]));
    assert!(ci["default"]["before_script"].is_null());
    assert!(ci["default"]["cache"].is_null());
    // Building from source instead is one `extends:` away: the pinned build, cached.
    let source = &ci[".tagsync-from-source"];
    for line in lines(source, "before_script") {
        assert_does_work_through_scripts(&line, &["ci", "gitlab"]);
    }
    assert_eq!(
        lines(source, "before_script").last().map(String::as_str),
        Some("bash ci/tagsync-install.sh")
    );
    assert_eq!(source["cache"]["key"], "tagsync-$TAGSYNC_REV");
    let root = source["variables"]["TAGSYNC_ROOT"]
        .as_str()
        .expect("TAGSYNC_ROOT");
    let cached = source["cache"]["paths"][0].as_str().expect("a path");
    assert_eq!(
        root,
        format!("$CI_PROJECT_DIR/{}", cached.trim_end_matches('/'))
    );
    assert_eq!(
        source["variables"]["TAGSYNC"].as_str(),
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
pub(super) fn the_gitlab_fleet_pipeline_shards_merges_and_commits_through_the_scripts() {
    let ci = yaml("examples/gitlab/tagsync-fleet.gitlab-ci.yml");
    let script = |job: &str| -> Vec<String> {
        ci[job]["script"]
            .as_array()
            .unwrap_or_else(|| panic!("{job} has a script"))
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .collect()
    };
    let calls = |job: &str| -> Vec<String> {
        script(job)
            .iter()
            .flat_map(|l| assert_does_work_through_scripts(l, &["ci", "gitlab"]))
            .collect()
    };
    // The same shards plan and apply (`parallel:` gives the script CI_NODE_INDEX/TOTAL).
    assert_eq!(ci["fleet-plan"]["parallel"], ci["fleet-apply"]["parallel"]);
    assert!(ci["fleet-plan"]["parallel"].as_u64().is_some_and(|n| n > 1));
    assert_eq!(calls("fleet-plan"), ["tagsync-fleet.sh"]);
    assert_eq!(ci["fleet-plan"]["variables"]["TAGSYNC_FLEET_MODE"], "plan");
    assert_eq!(calls("fleet-apply"), ["tagsync-fleet.sh"]);
    assert_eq!(
        ci["fleet-apply"]["variables"]["TAGSYNC_FLEET_MODE"],
        "apply"
    );
    assert_eq!(
        ci["fleet-apply"]["variables"]["TAGSYNC_LEDGER_OUT"],
        "ledgers"
    );
    // The note and the ledgers come after every shard, whatever they exited with.
    for (job, needs) in [
        ("fleet-comment", "fleet-plan"),
        ("fleet-ledgers", "fleet-apply"),
    ] {
        assert_eq!(ci[job]["needs"], serde_json::json!([needs]), "{job}");
        assert_eq!(ci[job]["rules"][0]["when"], "always", "{job}");
        assert!(ci[job]["after_script"].is_null(), "{job}");
        assert_eq!(
            script(job).last().map(String::as_str),
            Some("exit \"$rc\""),
            "{job}"
        );
    }
    assert_eq!(
        calls("fleet-comment"),
        ["tagsync-fleet-merge.sh", "post-note.sh"]
    );
    assert!(script("fleet-comment")[1].starts_with("MARKER='<!-- tagsync-fleet -->'"));
    assert_eq!(
        calls("fleet-ledgers"),
        ["tagsync-fleet-merge.sh", "tagsync-fleet-ledgers.sh"]
    );
    // Merge requests plan; pushes to the default branch apply.
    let rule = |job: &str| {
        ci[job]["rules"][0]["if"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(rule("fleet-plan").contains("merge_request_event"));
    assert!(
        rule("fleet-apply").contains("$CI_DEFAULT_BRANCH") && rule("fleet-apply").contains("push")
    );
    assert_eq!(
        ci["default"]["image"]["name"],
        format!("ghcr.io/OWNER/tagsync:{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
pub(super) fn every_script_of_the_kit_is_called_by_a_workflow() {
    let mut called: Vec<String> = Vec::new();
    for w in [
        "examples/github/tagsync-plan.yml",
        "examples/github/tagsync-apply.yml",
        "examples/github/tagsync-drift.yml",
        "examples/github/tagsync-fleet.yml",
        "examples/github/tagsync-fleet-apply.yml",
        "examples/gitlab/.gitlab-ci.yml",
        "examples/gitlab/tagsync-fleet.gitlab-ci.yml",
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

/// Every value of a key ending in `_env` in `v`: the variables a fleet file names.
fn env_names(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v.as_str() {
                    Some(name) if k.ends_with("_env") => {
                        out.insert(name.to_string());
                    }
                    _ => env_names(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| env_names(v, out)),
        _ => {}
    }
}

#[test]
pub(super) fn the_github_fleet_workflows_pass_only_the_secrets_the_fleet_file_names() {
    let mut wanted = std::collections::BTreeSet::new();
    env_names(&yaml("examples/fleet/fleet.yaml"), &mut wanted);
    assert!(wanted.len() >= 4, "{wanted:?}");
    for w in [
        "examples/github/tagsync-fleet.yml",
        "examples/github/tagsync-fleet-apply.yml",
    ] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(w))
            .expect("workflow");
        // The YAML, less its comments (which may name the alternative).
        let code: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        assert!(
            !code.iter().any(|l| l.contains("toJSON(secrets)")),
            "{w}: every repository secret reaches a step"
        );
        let workflow = yaml(w);
        let mut steps = workflow["jobs"]
            .as_object()
            .expect("jobs")
            .values()
            .flat_map(|j| j["steps"].as_array().into_iter().flatten())
            .filter(|s| s["run"] == "bash ci/tagsync-fleet.sh");
        let step = steps.next().unwrap_or_else(|| panic!("{w}: no shard step"));
        assert!(steps.next().is_none(), "{w}: one shard step");
        let mut passed = std::collections::BTreeSet::new();
        for (k, v) in step["env"].as_object().expect("env") {
            if let Some(name) = v
                .as_str()
                .and_then(|v| v.strip_prefix("${{ secrets."))
                .and_then(|v| v.strip_suffix(" }}"))
            {
                assert_eq!(k, name, "{w}: the variable is named as its secret");
                passed.insert(name.to_string());
            }
        }
        assert_eq!(passed, wanted, "{w}: the secrets the step passes");
        // Nowhere else in the workflow does a secret appear.
        assert_eq!(
            code.iter()
                .map(|l| l.matches("secrets.").count())
                .sum::<usize>(),
            wanted.len(),
            "{w}: a secret outside the shard step"
        );
    }
}
