//! The GitOps kit (examples/ci, examples/github, examples/gitlab) run as a user's CI runs
//! it: the scripts are copied into `ci/` of a temporary repository and run with bash,
//! with `TAGSYNC` pointing at this build, against the emulator (over HTTP, through
//! `WECOM_API_BASE`) and a small fake of the GitHub and GitLab REST APIs
//! (`GITHUB_API_URL`, `CI_API_V4_URL`). Also: the workflows call those scripts and have
//! the triggers the README describes, and a 10000-tag bootstrap plan fits in one comment.

use crate::common;
mod fake_api;
mod ledger_and_install;
mod readme;
mod scripts;
mod workflow_calls;
mod workflow_runs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::bin::{FAST_RETRIES, Fixture, both, text};
use fake_api::{GITHUB_TOKEN, GITLAB_TOKEN, Shared, lock};
use serde_json::Value;
use tagsync::emulator::{self, EmulatorHandle, SeedGroup};
#[allow(unused_imports)]
use {ledger_and_install::*, readme::*, scripts::*, workflow_calls::*, workflow_runs::*};

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
