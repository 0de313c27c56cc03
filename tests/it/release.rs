//! Distribution (issue #21): scripts/install.sh (what the GitHub Action runs) against a
//! local release served over HTTP, the action, the release workflow, the binstall
//! metadata, the container build file and the pre-commit hooks agree with each other.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::bin::{both, text};

const VERSION: &str = "0.1.0";
/// The targets a release has binaries for, as scripts/install.sh names them.
const TARGETS: [&str; 4] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> serde_json::Value {
    serde_saphyr::from_str(&repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A temp directory with a release `releases/v0.1.0/` served over HTTP on loopback, fake
/// `uname` and `cargo` on PATH (the machine's answers, and a build that logs its
/// arguments), and the install root `root/`.
struct Release {
    dir: tempfile::TempDir,
    base: String,
    _rt: tokio::runtime::Runtime,
}

impl Release {
    /// The release with an archive for every target (each holding a fake `tagsync` that
    /// prints `tagsync VERSION`) and a SHA256SUMS for them.
    fn new() -> Release {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let served = dir.path().join("releases");
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let file = served.join(uri.path().trim_start_matches('/'));
            async move {
                match std::fs::read(&file) {
                    Ok(bytes) => (axum::http::StatusCode::OK, bytes),
                    Err(_) => (axum::http::StatusCode::NOT_FOUND, b"Not Found".to_vec()),
                }
            }
        });
        rt.spawn(async move { axum::serve(listener, app).await });
        let r = Release { dir, base, _rt: rt };
        write_executable(
            &r.path("tools/uname"),
            "#!/bin/sh\ncase \"$1\" in -s) echo \"${FAKE_OS:-Linux}\" ;; -m) echo \"${FAKE_ARCH:-x86_64}\" ;; *) echo \"${FAKE_OS:-Linux}\" ;; esac\n",
        );
        write_executable(
            &r.path("tools/cargo"),
            "#!/usr/bin/env bash\necho \"$*\" >>\"$CARGO_LOG\"\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\" && printf '#!/bin/sh\\necho \"tagsync built\"\\n' >\"$2/bin/tagsync\" && chmod +x \"$2/bin/tagsync\"\n",
        );
        for target in TARGETS {
            r.add_archive(target, VERSION, &format!("tagsync {VERSION}"));
        }
        r.write_sums();
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn release_dir(&self) -> PathBuf {
        self.path(&format!("releases/v{VERSION}"))
    }

    /// `tagsync-VERSION-TARGET.tar.gz` with `tagsync-VERSION-TARGET/tagsync` printing `says`.
    fn add_archive(&self, target: &str, version: &str, says: &str) {
        let name = format!("tagsync-{version}-{target}");
        let staging = self.path(&format!("staging/{name}"));
        write_executable(
            &staging.join("tagsync"),
            &format!("#!/bin/sh\necho '{says}'\n"),
        );
        std::fs::write(staging.join("README.md"), "# tagsync\n").expect("readme");
        std::fs::create_dir_all(self.release_dir()).expect("mkdir");
        let out = Command::new("tar")
            .arg("-czf")
            .arg(self.release_dir().join(format!("{name}.tar.gz")))
            .arg("-C")
            .arg(self.path("staging"))
            .arg(&name)
            .output()
            .expect("tar");
        assert!(out.status.success(), "{}", both(&out));
    }

    /// SHA256SUMS of every archive, as `sha256sum` writes it.
    fn write_sums(&self) {
        let mut lines = String::new();
        let mut names: Vec<String> = std::fs::read_dir(self.release_dir())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tar.gz"))
            .collect();
        names.sort();
        for name in names {
            let bytes = std::fs::read(self.release_dir().join(&name)).expect("read");
            lines.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
        }
        std::fs::write(self.release_dir().join("SHA256SUMS"), lines).expect("sums");
    }

    /// `bash scripts/install.sh` with a clean environment and `envs`: the release at
    /// TAGSYNC_RELEASES, the install root `root/`, a GitHub runner's PATH and output files.
    fn install(&self, envs: &[(&str, &str)]) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
        let path = format!(
            "{}:{}",
            self.path("tools").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.arg(script)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("CARGO_LOG", self.path("cargo.log"))
            .env("GITHUB_PATH", self.path("github_path"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("TAGSYNC_RELEASES", &self.base)
            .env("TAGSYNC_ROOT", self.path("root"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    }

    fn installed(&self) -> PathBuf {
        self.path("root/bin/tagsync")
    }

    fn cargo_log(&self) -> String {
        std::fs::read_to_string(self.path("cargo.log")).unwrap_or_default()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }
}

fn run(bin: &Path) -> String {
    let out = Command::new(bin).arg("--version").output().expect("run");
    text(&out.stdout).trim().to_string()
}

#[test]
fn the_install_script_downloads_checks_and_installs_the_binary_of_each_platform() {
    let r = Release::new();
    for (os, arch, target) in [
        ("Linux", "x86_64", "x86_64-unknown-linux-musl"),
        ("Linux", "aarch64", "aarch64-unknown-linux-musl"),
        ("Linux", "arm64", "aarch64-unknown-linux-musl"),
        ("Darwin", "x86_64", "x86_64-apple-darwin"),
        ("Darwin", "arm64", "aarch64-apple-darwin"),
    ] {
        let _ = std::fs::remove_dir_all(r.path("root"));
        let out = r.install(&[
            ("TAGSYNC_VERSION", "v0.1.0"),
            ("FAKE_OS", os),
            ("FAKE_ARCH", arch),
        ]);
        assert_eq!(out.status.code(), Some(0), "{os} {arch}: {}", both(&out));
        assert_eq!(
            text(&out.stdout).lines().next(),
            Some(format!("tagsync=downloaded {VERSION} {target}").as_str()),
            "{}",
            both(&out)
        );
        assert_eq!(run(&r.installed()), format!("tagsync {VERSION}"));
    }
    assert_eq!(r.cargo_log(), "", "nothing was built");
    // On PATH for the next steps, and the action's outputs.
    assert!(
        r.read("github_path")
            .lines()
            .all(|l| l == r.path("root/bin").to_string_lossy())
    );
    let outputs = r.read("github_output");
    assert!(outputs.contains("how=downloaded\n"), "{outputs}");
    assert!(
        outputs.contains(&format!("version={VERSION}\n")),
        "{outputs}"
    );
    assert!(
        outputs.contains(&format!("path={}\n", r.installed().display())),
        "{outputs}"
    );

    // Again (a self-hosted runner's tool cache): kept, nothing downloaded.
    std::fs::remove_dir_all(r.release_dir()).expect("rm");
    let out = r.install(&[("TAGSYNC_VERSION", VERSION)]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync=cached 0.1.0"),
        "{}",
        both(&out)
    );
}

#[test]
fn a_checksum_mismatch_is_refused_and_nothing_is_installed() {
    let r = Release::new();
    // The archive changed after SHA256SUMS was written (a tampered or broken download).
    r.add_archive("x86_64-unknown-linux-musl", VERSION, "tagsync 0.1.0 (evil)");
    let out = r.install(&[("TAGSYNC_VERSION", VERSION)]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("checksum mismatch for tagsync-0.1.0-x86_64-unknown-linux-musl.tar.gz")
            && err.contains("nothing was installed"),
        "{err}"
    );
    assert!(!r.installed().exists(), "nothing installed");
    assert!(!r.path("root").exists(), "not even the directory");
    assert_eq!(r.cargo_log(), "", "no fallback to a build either");
    assert_eq!(r.read("github_path"), "");

    // A binary that is not the version asked for: refused too.
    let r = Release::new();
    r.add_archive("x86_64-unknown-linux-musl", VERSION, "tagsync 0.0.9");
    r.write_sums();
    let out = r.install(&[("TAGSYNC_VERSION", VERSION)]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("says `tagsync 0.0.9`, not `tagsync 0.1.0`"),
        "{}",
        both(&out)
    );
    assert!(!r.installed().exists());
}

#[test]
fn an_unknown_platform_or_a_missing_binary_falls_back_to_a_build_from_source() {
    let r = Release::new();
    // No binary for FreeBSD: cargo builds the same tag from git.
    let out = r.install(&[
        ("TAGSYNC_VERSION", VERSION),
        ("TAGSYNC_REPOSITORY", "acme/tagsync"),
        ("FAKE_OS", "FreeBSD"),
        ("FAKE_ARCH", "amd64"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync=built 0.1.0 source"),
        "{}",
        both(&out)
    );
    assert!(
        text(&out.stderr).contains("no release binary for FreeBSD amd64"),
        "{}",
        both(&out)
    );
    let root = r.path("root");
    assert_eq!(
        r.cargo_log().trim(),
        format!(
            "install --locked --force --root {} --git https://github.com/acme/tagsync --tag v0.1.0 tagsync",
            root.display()
        )
    );
    assert!(r.read("github_output").contains("how=built\n"));

    // From the action's own checkout (.../_actions/OWNER/NAME/REF): the version is its
    // Cargo.toml's and the build is that checkout; a Linux on riscv64.
    let action = r.path("_work/_actions/acme/tagsync/v0.1.0");
    std::fs::create_dir_all(&action).expect("mkdir");
    std::fs::write(
        action.join("Cargo.toml"),
        "[package]\nname = \"tagsync\"\nversion = \"0.1.0\"\n\n[dependencies]\nx = { version = \"9\" }\n",
    )
    .expect("write");
    std::fs::remove_dir_all(&root).expect("rm");
    let action_str = action.to_str().expect("utf-8");
    let out = r.install(&[("TAGSYNC_SOURCE", action_str), ("FAKE_ARCH", "riscv64")]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync=built 0.1.0"),
        "{}",
        both(&out)
    );
    assert_eq!(
        r.cargo_log().lines().nth(1),
        Some(
            format!(
                "install --locked --force --root {} --path {action_str}",
                root.display()
            )
            .as_str()
        )
    );

    // A release without this platform's archive in its SHA256SUMS: built as well.
    std::fs::remove_dir_all(&root).expect("rm");
    std::fs::remove_file(
        r.release_dir()
            .join("tagsync-0.1.0-aarch64-unknown-linux-musl.tar.gz"),
    )
    .expect("rm");
    r.write_sums();
    let out = r.install(&[("TAGSYNC_SOURCE", action_str), ("FAKE_ARCH", "aarch64")]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("release v0.1.0 has no tagsync-0.1.0-aarch64"),
        "{}",
        both(&out)
    );
    assert_eq!(r.cargo_log().lines().count(), 3);

    // No release of that version at all (HTTP 404): built.
    let out = r.install(&[("TAGSYNC_SOURCE", action_str), ("TAGSYNC_VERSION", "0.2.0")]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no release v0.2.0"),
        "{}",
        both(&out)
    );
    assert_eq!(r.cargo_log().lines().count(), 4);

    // `never`: fail rather than build; `always`: build even where a binary exists.
    let out = r.install(&[
        ("TAGSYNC_SOURCE", action_str),
        ("FAKE_OS", "FreeBSD"),
        ("TAGSYNC_FROM_SOURCE", "never"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no binary for FreeBSD"),
        "{}",
        both(&out)
    );
    std::fs::remove_dir_all(&root).expect("rm");
    let out = r.install(&[
        ("TAGSYNC_SOURCE", action_str),
        ("TAGSYNC_FROM_SOURCE", "always"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with("tagsync=built"),
        "{}",
        both(&out)
    );
    assert_eq!(r.cargo_log().lines().count(), 5);

    // Without cargo the fallback says what is missing.
    std::fs::create_dir_all(r.path("no-cargo")).expect("mkdir");
    std::fs::copy(r.path("tools/uname"), r.path("no-cargo/uname")).expect("copy");
    let out = r.install(&[
        ("TAGSYNC_SOURCE", action_str),
        ("FAKE_OS", "FreeBSD"),
        (
            "PATH",
            &format!("{}:/usr/bin:/bin", r.path("no-cargo").display()),
        ),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("cargo is not installed"),
        "{}",
        both(&out)
    );
}

#[test]
fn the_action_checkout_names_the_releases_of_its_repository() {
    let r = Release::new();
    let action = r.path("_work/_actions/acme/tagsync/v0.1.0");
    std::fs::create_dir_all(&action).expect("mkdir");
    std::fs::write(
        action.join("Cargo.toml"),
        "[package]\nversion = \"0.1.0\"\n",
    )
    .expect("w");
    // A curl that cannot reach anything, and says where it was asked to go.
    write_executable(
        &r.path("tools/curl"),
        "#!/bin/sh\nfor a; do last=$a; done\necho \"curl: ${last:-?}\" >&2\nexit 7\n",
    );
    let mut cmd_env = vec![("TAGSYNC_SOURCE", action.to_str().expect("utf-8"))];
    cmd_env.push(("TAGSYNC_RELEASES", ""));
    let out = r.install(&cmd_env);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains(
            "could not download https://github.com/acme/tagsync/releases/download/v0.1.0/SHA256SUMS (curl exit 7)"
        ),
        "{}",
        both(&out)
    );
    assert_eq!(
        r.cargo_log(),
        "",
        "a network failure is not a missing release"
    );

    // Settings that cannot work are refused before anything is fetched.
    for (envs, says) in [
        (vec![], "set TAGSYNC_VERSION"),
        (vec![("TAGSYNC_VERSION", "latest")], "not a release version"),
        (
            vec![
                ("TAGSYNC_VERSION", VERSION),
                ("TAGSYNC_FROM_SOURCE", "maybe"),
            ],
            "none of auto, always, never",
        ),
    ] {
        let out = r.install(&envs);
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        assert!(text(&out.stderr).contains(says), "{says}: {}", both(&out));
    }
}

#[test]
fn the_action_runs_the_install_script_with_its_inputs() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1);
    let step = &steps[0];
    assert_eq!(step["shell"], "bash");
    assert_eq!(
        step["run"],
        "bash \"$GITHUB_ACTION_PATH/scripts/install.sh\""
    );
    let env = &step["env"];
    assert_eq!(env["TAGSYNC_VERSION"], "${{ inputs.version }}");
    assert_eq!(env["TAGSYNC_FROM_SOURCE"], "${{ inputs.from-source }}");
    assert_eq!(env["TAGSYNC_RELEASES"], "${{ inputs.releases-url }}");
    assert_eq!(env["TAGSYNC_SOURCE"], "${{ github.action_path }}");
    assert_eq!(action["inputs"]["from-source"]["default"], "auto");
    // Every setting the action passes is one the script reads.
    let script = repo_file("scripts/install.sh");
    for (name, _) in env.as_object().expect("env") {
        assert!(script.contains(&format!("#   {name} ")), "{name}");
    }
    // Its outputs are what the script writes to $GITHUB_OUTPUT.
    for (name, out) in action["outputs"].as_object().expect("outputs") {
        assert_eq!(
            out["value"],
            format!("${{{{ steps.install.outputs.{name} }}}}")
        );
        assert!(script.contains(&format!("{name}=%s")), "{name}");
    }
    assert_eq!(step["id"], "install");
}

#[test]
fn the_release_workflow_builds_the_archives_the_script_binstall_and_the_image_expect() {
    let w = yaml(".github/workflows/release.yml");
    assert!(
        w["on"]["push"]["tags"][0]
            .as_str()
            .is_some_and(|t| t.starts_with('v')),
        "{w}"
    );
    let matrix: Vec<&str> = w["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter_map(|m| m["target"].as_str())
        .collect();
    assert_eq!(matrix, TARGETS);
    let script = repo_file("scripts/install.sh");
    for t in TARGETS {
        assert!(script.contains(&format!("target={t} ;;")), "{t}");
    }
    let text = w.to_string();
    assert!(
        text.contains("name=tagsync-$VERSION-${{ matrix.target }}"),
        "the archive's name"
    );
    assert!(text.contains("cp target/${{ matrix.target }}/release/tagsync README.md"));
    assert!(text.contains("sha256sum -- *.tar.gz >SHA256SUMS"));
    assert!(text.contains("cargo build --release --locked --target ${{ matrix.target }}"));
    assert!(
        text.contains("static(-pie)? linked"),
        "the Linux binaries are checked to be static"
    );
    // Only the release job may write to the repository.
    assert_eq!(w["permissions"]["contents"], "read");
    assert_eq!(w["jobs"]["release"]["permissions"]["contents"], "write");
    // The image takes the release's binaries, as the Dockerfile's `prebuilt` stage reads
    // them.
    let image = w["jobs"]["image"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action"))
        })
        .expect("the image step");
    assert_eq!(image["with"]["build-args"], "BINARY=prebuilt");
    assert!(text.contains(r#"mkdir -p \"dist/$arch\""#), "{text}");
    assert!(repo_file("Dockerfile").contains("COPY dist/${TARGETARCH}/tagsync /tagsync"));

    // cargo binstall finds the same archives.
    let cargo = repo_file("Cargo.toml");
    let binstall = cargo
        .split("[package.metadata.binstall]")
        .nth(1)
        .expect("the binstall table");
    assert!(
        binstall
            .contains("/releases/download/v{ version }/{ name }-{ version }-{ target }.tar.gz\""),
        "{binstall}"
    );
    assert!(
        binstall.contains("bin-dir = \"{ name }-{ version }-{ target }/{ bin }{ binary-ext }\"")
    );
    assert!(binstall.contains("pkg-fmt = \"tgz\""));
}

/// The instructions of the final stage of the Dockerfile, continuation lines joined.
fn dockerfile_stages() -> Vec<Vec<String>> {
    let text = repo_file("Dockerfile").replace("\\\n", " ");
    let mut stages: Vec<Vec<String>> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("FROM ") {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push(line.to_string());
        }
    }
    stages
}

#[test]
fn the_container_image_is_small_static_and_not_root() {
    let stages = dockerfile_stages();
    let last = stages.last().expect("stages");
    // A small base, pinned to a release (not `latest`, not a moving major).
    let from = last[0].strip_prefix("FROM ").expect("FROM");
    let (image, tag) = from.split_once(':').expect("a tag");
    assert_eq!(image, "alpine", "{from}");
    assert!(
        tag.split('.').count() >= 2 && tag.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{from}"
    );
    // Runs as an unprivileged user, and nothing after that switches back.
    let user = last
        .iter()
        .rposition(|l| l.starts_with("USER "))
        .expect("a USER");
    let uid = last[user]["USER ".len()..].split(':').next().expect("uid");
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u >= 1000),
        "{}",
        last[user]
    );
    assert!(last[user..].iter().all(|l| !l.starts_with("RUN ")));
    // The binary comes from a stage building it static, or from the release's static
    // binaries; and the image checks it runs with no loader beside it.
    assert!(last.iter().any(|l| l.starts_with("COPY --from=binary ")));
    let source = stages
        .iter()
        .find(|s| s[0].ends_with(" AS source"))
        .expect("the source stage");
    assert!(source[0].contains("-alpine"), "musl: {}", source[0]);
    assert!(
        source
            .iter()
            .any(|l| l.contains("cargo build --release --locked"))
    );
    assert!(last.iter().any(|l| l.contains("tagsync\", \"--version\"]")));
    // The kit's scripts run in it (GitLab): bash, curl, jq, git, and CA roots.
    let apk = last
        .iter()
        .find(|l| l.contains("apk add"))
        .expect("apk add");
    for pkg in ["bash", "ca-certificates", "curl", "git", "jq"] {
        assert!(apk.split_whitespace().any(|w| w == pkg), "{pkg}");
    }
    assert!(
        last.iter()
            .any(|l| l.starts_with("ENTRYPOINT [\"/usr/local/bin/tagsync\"]"))
    );

    // The build context: no target/ or .git, but what `cargo build` needs.
    let ignore = repo_file(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(rules[0], "*", "everything is left out unless named");
    for needed in ["Cargo.toml", "Cargo.lock", "src/", "benches/"] {
        assert!(rules.contains(&format!("!{needed}").as_str()), "{needed}");
    }
}

#[test]
fn the_pre_commit_hooks_validate_each_desired_file() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "tagsync-validate",
            "tagsync-validate-system",
            "tagsync-fleet-validate",
            "tagsync-fleet-validate-system"
        ]
    );
    let (fleet_hooks, hooks): (Vec<_>, Vec<_>) = hooks
        .iter()
        .partition(|h| h["id"].as_str().is_some_and(|id| id.contains("fleet")));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("infra")).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tags.yaml.example"),
        dir.path().join("tags.yaml"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("infra/tags.yaml"),
        "version: 1\ngroups:\n  - name: G\n    tag: [a]\n",
    )
    .expect("write");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tagsync"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    fleet_hooks_validate_the_fleet(&fleet_hooks, &path);
    for hook in hooks {
        let entry = hook["entry"].as_str().expect("entry");
        files_match(
            hook,
            &[
                ("tags.yaml", true),
                ("infra/tags.yml", true),
                ("other.yaml", false),
                ("mytags.yaml", false),
                ("fleet.yaml", false),
            ],
        );
        // pre-commit runs `ENTRY FILE…` from the repository's root.
        let hook_run = |files: &[&str]| {
            Command::new("bash")
                .arg("-c")
                .arg(format!("{entry} \"$@\""))
                .arg("-")
                .args(files)
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .output()
                .expect("run the hook")
        };
        let out = hook_run(&["tags.yaml"]);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        let out = hook_run(&["infra/tags.yaml", "tags.yaml"]);
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        assert!(both(&out).contains("infra/tags.yaml"), "{}", both(&out));
    }
}

/// The hook's `files` matches each name that should, and only those. pre-commit reads it
/// as a Python regex; these are also POSIX EREs, which bash's `=~` matches.
fn files_match(hook: &serde_json::Value, cases: &[(&str, bool)]) {
    let files = hook["files"].as_str().expect("files");
    for (name, matches) in cases {
        let out = Command::new("bash")
            .args(["-c", "[[ $1 =~ $2 ]]", "-", name, files])
            .output()
            .expect("bash");
        assert_eq!(out.status.success(), *matches, "{files} on {name}");
    }
}

/// The fleet hooks run once, with no file names (`pass_filenames: false`), in a copy of
/// examples/fleet: clean, then with a corp's file broken.
fn fleet_hooks_validate_the_fleet(hooks: &[&serde_json::Value], path: &str) {
    assert_eq!(hooks.len(), 2);
    let dir = tempfile::tempdir().expect("temp dir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    std::fs::create_dir_all(dir.path().join("corps")).expect("mkdir");
    for f in [
        "fleet.yaml",
        "base.yaml",
        "corps/acme.yaml",
        "corps/initech.yaml",
    ] {
        std::fs::copy(from.join(f), dir.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    for hook in hooks {
        assert_eq!(hook["pass_filenames"], false, "{hook}");
        files_match(
            hook,
            &[
                ("fleet.yaml", true),
                ("base.yml", true),
                ("corps/acme.yaml", true),
                ("infra/corps/acme.yaml", true),
                ("tags.yaml", false),
                ("myfleet.yaml", false),
                ("corps/acme.json", false),
            ],
        );
        let args: Vec<&str> = hook["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("an argument"))
            .collect();
        let entry = hook["entry"].as_str().expect("entry");
        let run = || {
            Command::new("bash")
                .arg("-c")
                .arg(format!("{entry} \"$@\""))
                .arg("-")
                .args(&args)
                .current_dir(dir.path())
                .env("PATH", path)
                .env("NO_COLOR", "1")
                .output()
                .expect("run the hook")
        };
        let out = run();
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        let good = std::fs::read(dir.path().join("corps/acme.yaml")).expect("read");
        std::fs::write(
            dir.path().join("corps/acme.yaml"),
            "version: 1\ngroups:\n  - name: G\n    tag: [a]\n",
        )
        .expect("write");
        let out = run();
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        assert!(both(&out).contains("corps/acme.yaml"), "{}", both(&out));
        std::fs::write(dir.path().join("corps/acme.yaml"), good).expect("write");
    }
}
