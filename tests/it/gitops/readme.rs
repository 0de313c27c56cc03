//! The README names what the workflows need, and quotes the demo plan's real comment.

use super::*;

// ---- the README names what the workflows need -----------------------------------------

#[test]
pub(super) fn the_readme_names_every_secret_and_variable_the_workflows_read() {
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

// ---- the README's sample pull-request comment is the demo's real comment ----------------

/// How the sample starts: the comment's hidden first line, quoted inside step 5's list item.
const SAMPLE_INDENT: &str = "   >";

/// The part of the comment the README quotes: every line above the folded details, then
/// one line standing for the fold. Each README line is [`SAMPLE_INDENT`], then a space
/// and the comment's line (none for an empty one).
fn readme_sample(comment: &str) -> Vec<String> {
    let fold = comment
        .lines()
        .position(|l| l.starts_with("<details><summary>"))
        .expect("the comment folds its steps into <details>");
    let lines: Vec<&str> = comment.lines().collect();
    let steps = lines[fold]
        .trim_start_matches("<details><summary>")
        .trim_end_matches("</summary>");
    let mut above: Vec<&str> = lines[..fold].to_vec();
    while above.last().is_some_and(|l| l.is_empty()) {
        above.pop();
    }
    let folded =
        format!("▸ {steps} *(folded: each call with its reason, then the file-level diff)*");
    above
        .into_iter()
        .chain(["", folded.as_str()])
        .map(|l| match l {
            "" => SAMPLE_INDENT.to_string(),
            l => format!("{SAMPLE_INDENT} {l}"),
        })
        .collect()
}

/// `UPDATE_README=1 cargo test --locked --test it readme_sample` writes the real comment
/// into the README instead of comparing.
#[test]
pub(super) fn the_readme_sample_comment_is_the_demo_plans_real_comment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["plan", "-c", "tags.yaml.example", "--emulator"])
        .arg("examples/corp.json")
        .args(["--format", "markdown"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run tagsync");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let expected = readme_sample(&text(&out.stdout));

    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README");
    let lines: Vec<&str> = readme.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == format!("{SAMPLE_INDENT} {MARKER}"))
        .expect("the README quotes a plan comment, from its hidden first line");
    let len = lines[start..]
        .iter()
        .take_while(|l| l.starts_with(SAMPLE_INDENT))
        .count();
    let found = &lines[start..start + len];
    assert!(
        readme.contains(
            "`tagsync plan -c tags.yaml.example --emulator examples/corp.json --format markdown`"
        ),
        "the README names the command the sample comes from"
    );
    if std::env::var_os("UPDATE_README").is_some_and(|v| v == "1") {
        let mut new: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        new.splice(start..start + len, expected);
        std::fs::write(&path, new.join("\n") + "\n").expect("write the README");
        return;
    }
    assert!(
        found == expected.as_slice(),
        "README.md:{}: the sample comment is not the demo's real one; if the comment changed \
         on purpose, run `UPDATE_README=1 cargo test --locked --test it readme_sample` and \
         review the diff of README.md\n{}",
        start + 1,
        similar::TextDiff::from_lines(&(found.join("\n") + "\n"), &(expected.join("\n") + "\n"))
            .unified_diff()
            .header("README.md", "the real comment")
    );
}
