//! Peak memory of planning a 10000-tag corp (target: under 50 MB; BENCHMARKS.md).
//!
//! Two steps, so the measured process holds only what planning needs:
//!
//! ```text
//! cargo build --release --example plan_memory
//! target/release/examples/plan_memory gen DIR [SCENARIO] [TAGS]
//! /usr/bin/time -v target/release/examples/plan_memory plan DIR
//! ```
//!
//! `gen` writes `DIR/tags.yaml`, `DIR/corp.json` (the `get_corp_tag_list` answer, also the
//! emulator's seed format: every item has `"owner": "tagsync"`, the emulator's app) and the
//! ledger `DIR/.tagsync/ledger-ww-test-corp.json` (tagsync owns every item;
//! `ww-test-corp` is the emulator's corp when it has no apps file).
//! SCENARIO is one of `no-change`, `rename-5%`, `reverse-one-group`, `move-one-to-top`,
//! `bootstrap` (default `rename-5%`); TAGS defaults to 10000.
//!
//! `plan` does what `tagsync plan -c DIR/tags.yaml --emulator DIR/corp.json` does minus
//! HTTP and rendering: load and validate the file, read the ledger, parse the list
//! answer, plan; it prints the plan's summary. Once the CLI is wired, measure it directly
//! with the same files (see BENCHMARKS.md).

// A benchmark or example may unwrap: a panic ends it with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // shared with benches/plan.rs; each uses a part
#[path = "../benches/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use support::Scenario;
use tagsync::desired;
use tagsync::emulator::SeedFile;
use tagsync::ledger::Ledger;
use tagsync::plan::{self, PlanOptions};
use tagsync::remote::Snapshot;
use tagsync::wire;

/// The emulator's corp and app when it is started without an apps file.
const CORP_ID: &str = "ww-test-corp";
const APP: &str = "tagsync";
const USAGE: &str = "usage: plan_memory gen DIR [SCENARIO] [TAGS] | plan_memory plan DIR";

struct Files {
    tags: PathBuf,
    corp: PathBuf,
    ledger: PathBuf,
}

impl Files {
    fn in_dir(dir: &Path) -> Files {
        let tags = dir.join("tags.yaml");
        Files {
            ledger: Ledger::default_path(&tags, CORP_ID),
            corp: dir.join("corp.json"),
            tags,
        }
    }
}

fn generate(dir: &Path, scenario: Scenario, tags: usize) -> Result<(), String> {
    let files = Files::in_dir(dir);
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&files.tags, &support::desired_yaml(tags, scenario))?;
    let seed = SeedFile::new(support::owned_seed(tags, scenario, APP));
    let seed = serde_json::to_string(&seed).map_err(|e| format!("cannot encode: {e}"))?;
    write(&files.corp, &seed)?;
    let mut ledger = Ledger::new(CORP_ID);
    ledger.record(support::owned_ids(tags, scenario));
    ledger
        .save(&files.ledger)
        .map_err(|e| format!("cannot save the ledger: {e}"))?;
    println!(
        "{}: {} tags, scenario {}; the plan must make {} calls",
        dir.display(),
        tags,
        scenario.name(),
        scenario.expected_calls(tags)
    );
    Ok(())
}

fn plan_files(dir: &Path) -> Result<(), String> {
    let files = Files::in_dir(dir);
    let desired = desired::load(&files.tags)
        .map_err(|d| format!("{} is invalid ({} problems)", files.tags.display(), d.len()))?;
    let ledger =
        Ledger::load(&files.ledger, CORP_ID).map_err(|e| format!("cannot read the ledger: {e}"))?;
    let text = std::fs::read_to_string(&files.corp)
        .map_err(|e| format!("cannot read {}: {e}", files.corp.display()))?;
    let answer: wire::TagListResponse = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a list answer: {e}", files.corp.display()))?;
    drop(text);
    let snapshot = Snapshot::from_wire(answer.tag_group);
    let options = PlanOptions {
        history: ledger.history.clone(),
        ..PlanOptions::default()
    };
    let p = plan::plan(&desired, &snapshot, &ledger.owned(), &options);
    println!(
        "{} tags in the corp, {} in the file: {} calls, blocked: {}",
        snapshot.tag_count(),
        desired.groups.iter().map(|g| g.tags.len()).sum::<usize>(),
        p.calls(),
        p.blocked()
    );
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [cmd, dir, rest @ ..] if cmd == "gen" && rest.len() <= 2 => {
            let scenario = match rest.first() {
                Some(name) => Scenario::from_name(name)
                    .ok_or_else(|| format!("unknown scenario {name:?}\n{USAGE}"))?,
                None => Scenario::Rename5Percent,
            };
            let tags = match rest.get(1) {
                Some(n) => n
                    .parse()
                    .map_err(|_| format!("TAGS must be a number, not {n:?}"))?,
                None => 10_000,
            };
            generate(Path::new(dir), scenario, tags)
        }
        [cmd, dir] if cmd == "plan" => plan_files(Path::new(dir)),
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
