//! The ledger travelling through git, the pinned install, and the comment size of a
//! 10000-tag bootstrap.

use super::*;

// ---- tagsync-commit-ledger.sh: the ledger travels through git -------------------------

pub(super) fn git(dir: &Path, args: &[&str]) -> String {
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
pub(super) fn git_repo(kit: &Kit, platform_dir: &str, tags: &str) -> PathBuf {
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
pub(super) const ADDS: &str = "version: 1\ngroups:\n  - name: 新分组\n    tags: [甲, 乙]\n";

#[test]
pub(super) fn the_ledger_committed_back_lets_the_next_run_own_what_apply_created() {
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
pub(super) fn the_ledger_of_a_config_in_a_subdirectory_or_at_state_is_the_one_committed() {
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
pub(super) fn the_install_script_builds_the_pinned_commit_once() {
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
pub(super) fn a_10000_tag_bootstrap_plan_and_its_apply_report_fit_in_one_comment() {
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
