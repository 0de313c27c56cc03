//! Running the `tagsync` binary against an emulator started in the test process.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use tagsync::emulator::{self, EmulatorConfig, EmulatorHandle, SeedGroup};
use tagsync::ledger::Ledger;

use super::{SECRET, small_seed, three_apps};

/// The corp id of the test emulators.
pub const CORP: &str = "ww-test-corp";
pub const OURS_GROUP: &str = "etGroupOurs00000000000000000000";
pub const OURS_VIP: &str = "etTagVip000000000000000000000000";
pub const OURS_NORMAL: &str = "etTagNormal000000000000000000000";

/// Short retry delays for the child (see `TAGSYNC_RETRY_BACKOFF_MS`): faults injected
/// by the emulator are retried at once instead of after seconds.
pub const FAST_RETRIES: &str = "1,4,1";

/// An emulator, a temp directory, and a way to run the binary.
pub struct Fixture {
    pub rt: tokio::runtime::Runtime,
    emu: Option<EmulatorHandle>,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// The three apps and the small seed.
    pub fn new() -> Fixture {
        Fixture::with_seed(small_seed())
    }

    /// The three apps and this seed.
    pub fn with_seed(seed: Vec<SeedGroup>) -> Fixture {
        Fixture::with_config(EmulatorConfig {
            corp_id: CORP.into(),
            apps: three_apps(),
            seed,
            ..Default::default()
        })
    }

    pub fn with_config(config: EmulatorConfig) -> Fixture {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let emu = rt
            .block_on(emulator::start(config))
            .expect("emulator starts");
        Fixture {
            rt,
            emu: Some(emu),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().expect("running")
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }

    /// tagsync with these arguments, the emulator's API base and credentials (secret
    /// `secret`), short retry delays, no colour, in the temp directory.
    pub fn command_with_secret(&self, secret: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tagsync"));
        c.args(args)
            .arg("--api-base")
            .arg(self.emu().base_url())
            .env("WECOM_CORP_ID", CORP)
            .env("WECOM_CORP_SECRET", secret)
            .env("TAGSYNC_RETRY_BACKOFF_MS", FAST_RETRIES)
            .env_remove("WECOM_API_BASE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        c
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_with_secret(SECRET, args)
    }

    pub fn run_with_secret(&self, secret: &str, args: &[&str]) -> Output {
        self.command_with_secret(secret, args)
            .output()
            .expect("run tagsync")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_secret(SECRET, args)
    }

    /// Record our seed items of the small seed as owned (through `tagsync adopt`).
    pub fn adopt_ours(&self) {
        let out = self.run(&["adopt", OURS_GROUP, OURS_VIP, OURS_NORMAL]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }

    /// A fixture whose seed items tagsync owns, with `file` as its `tags.yaml`; and the
    /// path of that file.
    pub fn owning_ours_with(file: &str) -> (Fixture, String) {
        let fx = Fixture::new();
        fx.adopt_ours();
        let cfg = fx.write("tags.yaml", file);
        let cfg = cfg.to_str().expect("utf-8 path").to_string();
        (fx, cfg)
    }

    /// The default ledger of a config file in the temp directory.
    pub fn ledger_path(&self) -> PathBuf {
        Ledger::default_path(&self.dir.path().join("tags.yaml"), CORP)
    }

    /// Write a ledger at `path` owning `ids`, as an earlier apply would have left it
    /// (with our app's fingerprint).
    pub fn own(&self, path: &std::path::Path, ids: impl IntoIterator<Item = String>) {
        let mut ledger = Ledger::new(CORP);
        ledger.app = Some(tagsync::ledger::app_fingerprint(CORP, SECRET));
        ledger.record(ids);
        ledger.save(path).expect("ledger saved");
    }

    /// The ids the ledger at `path` owns.
    pub fn owned(&self, path: &std::path::Path) -> BTreeSet<String> {
        Ledger::load(path, CORP).expect("ledger loads").owned
    }

    /// Write calls (add, edit, delete) the emulator has answered so far.
    pub fn writes(&self) -> usize {
        super::scenarios::writes(&self.emu().calls())
    }

    /// Filters for the temp dir and the emulator's port.
    pub fn filters(&self) -> Vec<(String, &'static str)> {
        let dir = self.dir.path().display().to_string();
        vec![
            (regex_escape(&dir), "[TMP]"),
            (r"127\.0\.0\.1:\d+".to_string(), "127.0.0.1:[PORT]"),
        ]
    }
}

impl Fixture {
    /// An admin-console edit (an `edit_corp_tag` body, any item of either family, whoever
    /// made it), over HTTP to the emulator's console endpoint; it must succeed.
    pub fn console_edit(&self, body: serde_json::Value) {
        let url = format!(
            "http://{}{}",
            self.emu().addr(),
            emulator::CONSOLE_EDIT_PATH
        );
        let answer: serde_json::Value = self.rt.block_on(async {
            super::http()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("console edit sent")
                .json()
                .await
                .expect("JSON answer")
        });
        assert_eq!(answer["errcode"], 0, "{answer}");
    }

    /// Stop the emulator, as if WeCom went away (what it logged stays readable only
    /// until then).
    pub fn stop_emulator(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Both streams of a run, for assertion messages.
pub fn both(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

pub fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}
