//! The README names what the workflows need.

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
