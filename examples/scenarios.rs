//! Apply scenarios against the in-process emulator with 50 ms latency per call, next to
//! the floor (BENCHMARKS.md) and a naive hand-written script.
//!
//! ```text
//! cargo run --release --example scenarios -- [--runs 3] [--parallelism 4]
//!     [--latency-ms 50] [--only NAME]... [--baseline measure|estimate|none]
//! ```
//!
//! For each scenario and run: a fresh emulator (every call, token calls included, waits
//! the latency before it is answered), seeded with a corp of 10000 tags (100 groups of
//! 100, every item owned by tagsync's app and listed in the ledger) or an empty one; then
//! what `tagsync plan --apply` does through the library: [`apply::read_corp`],
//! [`apply::replan`], [`apply::apply`] (execute, then re-read and verify), with the ledger
//! saved to a file after every step as the CLI does. A run counts only when it converged
//! (verify found zero changes left) and the emulator's call log shows exactly the plan's
//! write calls, all answered errcode 0.
//!
//! Times: `read` is the token and the first list, `plan` the planner, `execute` from the
//! start of the apply to its last step's outcome (write calls only), `verify` the re-read
//! and the empty plan after it. The floor counts write calls only:
//!
//! ```text
//! floor = max(ceil(calls / parallelism) × latency, floor((calls of one API − 1) ÷ N) × 60 s)
//! ```
//!
//! with N the client's own limit (8000 calls of one API in any minute, 80% of the
//! vendor's; `remote::limit`): that many go at once, so for every scenario here the
//! first term is the floor. The `ceil` is there because one call cannot take less than
//! the latency (one delete is 50 ms, not 12.5 ms).
//!
//! The baseline is what a hand-written script does, on a fresh emulator with the same
//! seed and the same client: read the corp once, then one call per changed tag in
//! sequence. Bootstrap adds one tag per call (the first of a group creates the group);
//! a rename is one edit; any reorder renumbers every tag of the group, one edit each; a
//! deleted group goes tag by tag (the group vanishes with its last tag). The end state is
//! checked the same way (a fresh plan is empty). `--baseline estimate` sends nothing and
//! counts (calls + 2) × latency (token, list, calls): a lower bound of the real script.

// A benchmark or example may unwrap: a panic ends it with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // shared with benches/plan.rs and examples/plan_memory.rs
#[path = "../benches/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use support::{Edits, Scenario};
use tagsync::apply::{self, ApplyOptions, StepOutcome, VerifyResult};
use tagsync::desired::{self, Desired};
use tagsync::emulator::{self, CallKind, EmulatorConfig, EmulatorHandle, Faults, SeedGroup};
use tagsync::ledger::Ledger;
use tagsync::plan::PlanOptions;
use tagsync::remote::{Client, ClientConfig, Credentials, Secret};
use tagsync::wire;

/// The emulator's default corp, app and secret.
const CORP: &str = "ww-test-corp";
const APP: &str = "tagsync";
const SECRET: &str = "test-secret";
/// The corp every scenario but bootstrap starts from (and bootstrap ends with).
const CORP_TAGS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BaselineMode {
    /// Run the hand-written script against the emulator (about 16 minutes in all).
    Measure,
    /// Count its calls and take (calls + 2) × latency, sending nothing.
    Estimate,
    /// No baseline.
    None,
}

/// Apply scenarios against the emulator with latency; see the example's docs.
#[derive(Debug, Parser)]
struct Args {
    /// Runs of each scenario (the medians are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Steps in flight at once (ApplyOptions::parallelism and the client's concurrency).
    #[arg(long, default_value_t = 4)]
    parallelism: usize,
    /// Latency the emulator adds to every call.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Only these scenarios (repeat the flag); default all.
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// How the naive script's time is obtained (measured once per scenario).
    #[arg(long, value_enum, default_value_t = BaselineMode::Measure)]
    baseline: BaselineMode,
    /// Same as `--baseline estimate` for scripts of more than 1000 calls.
    #[arg(long)]
    skip_slow_baseline: bool,
    /// Keep the ledger in memory (as `--emulator` without `--state` does) instead of
    /// saving it to a file after every step: shows what the saves cost.
    #[arg(long)]
    in_memory_ledger: bool,
}

/// One scenario: the corp it starts from and how the file differs.
struct Case {
    name: &'static str,
    empty_corp: bool,
    edits: Edits,
    /// The fewest calls (the planner's "fewest calls" rule), worked out by hand.
    bound: usize,
    allow_delete: Option<usize>,
}

fn cases() -> Vec<Case> {
    let case = |name, edits, bound| Case {
        name,
        empty_corp: false,
        edits,
        bound,
        allow_delete: None,
    };
    vec![
        Case {
            empty_corp: true,
            ..case("bootstrap-10000", Edits::default(), 100)
        },
        case(
            "rename-500",
            Edits {
                rename_every: Some(20),
                ..Edits::default()
            },
            500,
        ),
        case(
            "reverse-100-tag-group",
            Edits {
                reverse_groups: 1,
                ..Edits::default()
            },
            99,
        ),
        case(
            "move-to-top-in-50-groups",
            Edits {
                move_to_top_groups: 50,
                ..Edits::default()
            },
            50,
        ),
        Case {
            allow_delete: Some(3000),
            ..case(
                "delete-30-groups",
                Edits {
                    drop_last_groups: 30,
                    ..Edits::default()
                },
                1,
            )
        },
    ]
}

impl Case {
    fn seed(&self) -> Vec<SeedGroup> {
        let scenario = if self.empty_corp {
            Scenario::Bootstrap
        } else {
            Scenario::NoChange
        };
        support::owned_seed(CORP_TAGS, scenario, APP)
    }

    fn desired(&self) -> Result<Desired, String> {
        desired::load_str(&support::edited_yaml(CORP_TAGS, &self.edits), "tags.yaml")
            .map_err(|d| format!("{}: the generated file is invalid:\n{d}", self.name))
    }

    fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            allow_delete: self.allow_delete,
            ..PlanOptions::default()
        }
    }

    /// The hand-written script's calls, in the order it sends them.
    fn naive_calls(&self) -> Vec<Naive> {
        let groups = support::groups(CORP_TAGS);
        let mut calls = Vec::new();
        if self.empty_corp {
            for g in 0..groups {
                let count = support::tags_in(g, CORP_TAGS);
                for t in 0..count {
                    let tag = wire::NewTag {
                        name: support::tag_name(g, t),
                        order: Some(support::order_at(t, count)),
                    };
                    calls.push(if t == 0 {
                        Naive::NewGroup {
                            name: support::group_name(g),
                            order: support::order_at(g, groups),
                            tag,
                        }
                    } else {
                        Naive::AddToLastGroup(tag)
                    });
                }
            }
            return calls;
        }
        let edit = |g, t, name, order| {
            Naive::Edit(wire::EditTagRequest {
                id: support::tag_id(g, t),
                name,
                order,
                agentid: None,
            })
        };
        for g in 0..self.edits.kept_groups(CORP_TAGS) {
            let count = support::tags_in(g, CORP_TAGS);
            let order = self.edits.file_order(g, CORP_TAGS);
            let reordered = order.iter().enumerate().any(|(p, &t)| p != t);
            for (position, &t) in order.iter().enumerate() {
                let name = self
                    .edits
                    .renames(t)
                    .then(|| support::renamed(&support::tag_name(g, t)));
                let value = reordered.then(|| support::order_at(position, count));
                if name.is_some() || value.is_some() {
                    calls.push(edit(g, t, name, value));
                }
            }
        }
        for g in self.edits.kept_groups(CORP_TAGS)..groups {
            for t in 0..support::tags_in(g, CORP_TAGS) {
                calls.push(Naive::Delete(support::tag_id(g, t)));
            }
        }
        calls
    }
}

/// One call of the hand-written script.
enum Naive {
    /// A new group with its first tag.
    NewGroup {
        name: String,
        order: u32,
        tag: wire::NewTag,
    },
    /// One more tag into the group the last `NewGroup` made.
    AddToLastGroup(wire::NewTag),
    Edit(wire::EditTagRequest),
    /// One tag by id.
    Delete(String),
}

/// The times of one tagsync run.
#[derive(Debug, Clone, Copy)]
struct Run {
    calls: usize,
    read: Duration,
    plan: Duration,
    execute: Duration,
    verify: Duration,
}

impl Run {
    fn total(&self) -> Duration {
        self.read + self.plan + self.execute + self.verify
    }
}

/// The baseline of one scenario.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    calls: usize,
    wall: Duration,
    estimated: bool,
}

type Failed = Box<dyn std::error::Error>;

async fn start_emulator(case: &Case, latency: Duration) -> Result<EmulatorHandle, Failed> {
    Ok(emulator::start(EmulatorConfig {
        corp_id: CORP.into(),
        seed: case.seed(),
        faults: Faults::none().latency_all(latency, Duration::ZERO),
        ..EmulatorConfig::default()
    })
    .await?)
}

fn client(emu: &EmulatorHandle, concurrency: usize) -> Result<Client, Failed> {
    let credentials = Credentials::Corp {
        corp_id: CORP.into(),
        secret: Secret::new(SECRET),
    };
    let mut config = ClientConfig::new(&emu.base_url(), credentials)?;
    config.concurrency = concurrency;
    Ok(Client::new(config)?)
}

/// Write calls in the emulator's log, and whether all of them answered errcode 0.
fn write_calls(emu: &EmulatorHandle) -> (usize, bool) {
    let writes: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| matches!(c.kind, CallKind::Add | CallKind::Edit | CallKind::Delete))
        .collect();
    let ok = writes.iter().all(|c| c.errcode == Some(0));
    (writes.len(), ok)
}

/// A ledger owning every item our app owns in the emulator (for checking a baseline).
fn ledger_of_dump(emu: &EmulatorHandle) -> Ledger {
    let ours = |o: &Option<String>| o.as_deref() == Some(APP);
    let mut ledger = Ledger::new(CORP);
    for g in emu.dump() {
        if ours(&g.owner) {
            ledger.record([g.group_id.clone()]);
        }
        ledger.record(
            g.tag
                .iter()
                .filter(|t| ours(&t.owner))
                .map(|t| t.id.clone()),
        );
    }
    ledger
}

async fn run_tagsync(case: &Case, args: &Args, dir: &Path) -> Result<Run, Failed> {
    let desired = case.desired()?;
    let options = case.plan_options();
    let emu = start_emulator(case, Duration::from_millis(args.latency_ms)).await?;
    let client = client(&emu, args.parallelism)?;
    let file = dir.join(format!("ledger-{}.json", case.name));
    let ledger_path = (!args.in_memory_ledger).then_some(file.as_path());
    let mut ledger = Ledger::new(CORP);
    ledger.record(ledger_of_dump(&emu).owned);
    if let Some(path) = ledger_path {
        ledger.save(path)?;
    }

    let started = Instant::now();
    let snapshot = apply::read_corp(&client, &desired, &mut ledger, ledger_path).await?;
    let read = started.elapsed();
    let started = Instant::now();
    let plan = apply::replan(&desired, &snapshot, &ledger, &options);
    let plan_time = started.elapsed();
    if plan.blocked() || plan.calls() != case.bound {
        return Err(format!(
            "{}: the plan makes {} calls (bound {}), blocked: {}",
            case.name,
            plan.calls(),
            case.bound,
            plan.blocked()
        )
        .into());
    }

    let last_step: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mark = last_step.clone();
    let opts = ApplyOptions {
        parallelism: args.parallelism,
        progress: Some(Arc::new(move |_: &StepOutcome| {
            if let Ok(mut m) = mark.lock() {
                *m = Some(Instant::now());
            }
        })),
        interrupted: None,
    };
    let started = Instant::now();
    let report = apply::apply(
        &plan,
        &desired,
        &options,
        &client,
        &mut ledger,
        ledger_path,
        &opts,
    )
    .await;
    let ended = Instant::now();
    let last = last_step
        .lock()
        .map_err(|_| "progress lock poisoned")?
        .unwrap_or(started);
    if report.exit_code() != 0 || report.verify != Some(VerifyResult::Converged) {
        return Err(format!("{}: the apply did not converge:\n{report}", case.name).into());
    }
    let (calls, all_ok) = write_calls(&emu);
    if calls != plan.calls() || !all_ok {
        return Err(format!(
            "{}: the emulator saw {calls} write calls (plan: {}), all answered 0: {all_ok}",
            case.name,
            plan.calls()
        )
        .into());
    }
    emu.shutdown().await;
    Ok(Run {
        calls,
        read,
        plan: plan_time,
        execute: last - started,
        verify: ended - last,
    })
}

async fn run_baseline(case: &Case, args: &Args) -> Result<Baseline, Failed> {
    let naive = case.naive_calls();
    let latency = Duration::from_millis(args.latency_ms);
    let estimate =
        args.baseline == BaselineMode::Estimate || (args.skip_slow_baseline && naive.len() > 1000);
    if estimate {
        return Ok(Baseline {
            calls: naive.len(),
            wall: latency * (naive.len() as u32 + 2),
            estimated: true,
        });
    }
    let emu = start_emulator(case, latency).await?;
    let client = client(&emu, 1)?;
    let started = Instant::now();
    // A script reads the corp once to find the ids it changes.
    client.snapshot().await?;
    let mut group_id = String::new();
    for call in &naive {
        match call {
            Naive::NewGroup { name, order, tag } => {
                let req = wire::AddTagRequest {
                    group_name: Some(name.clone()),
                    order: Some(*order),
                    tag: vec![tag.clone()],
                    ..Default::default()
                };
                group_id = client.add(&req).await?.group_id;
            }
            Naive::AddToLastGroup(tag) => {
                let req = wire::AddTagRequest {
                    group_id: Some(group_id.clone()),
                    tag: vec![tag.clone()],
                    ..Default::default()
                };
                client.add(&req).await?;
            }
            Naive::Edit(req) => client.edit(req).await?,
            Naive::Delete(id) => {
                let req = wire::DelTagRequest {
                    tag_id: vec![id.clone()],
                    ..Default::default()
                };
                client.delete(&req).await?;
            }
        }
    }
    let wall = started.elapsed();
    let (calls, all_ok) = write_calls(&emu);
    let snapshot = client.snapshot().await?;
    let check = apply::verify::check(
        &case.desired()?,
        &snapshot,
        &ledger_of_dump(&emu),
        &case.plan_options(),
    );
    if check != VerifyResult::Converged || calls != naive.len() || !all_ok {
        return Err(format!(
            "{}: the baseline sent {calls} calls (all answered 0: {all_ok}) and left: {check}",
            case.name
        )
        .into());
    }
    emu.shutdown().await;
    Ok(Baseline {
        calls,
        wall,
        estimated: false,
    })
}

/// The floor (BENCHMARKS.md) for `calls` write calls of one API. The client's limit is
/// a window of `rate_per_minute` calls in any minute: that many go at once, and each
/// further full window's worth waits a minute.
fn floor(calls: usize, parallelism: usize, latency: Duration, rate_per_minute: u32) -> Duration {
    let waves = calls.div_ceil(parallelism.max(1)) as u32;
    let windows = (calls.saturating_sub(1) / rate_per_minute.max(1) as usize) as u32;
    (latency * waves).max(Duration::from_secs(60) * windows)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        "—".into()
    } else {
        let r = a.as_secs_f64() / b.as_secs_f64();
        if r < 0.1 {
            format!("{r:.4}")
        } else {
            format!("{r:.2}")
        }
    }
}

struct Row {
    case: &'static str,
    bound: usize,
    runs: Vec<Run>,
    floor: Duration,
    baseline: Option<Baseline>,
}

fn print_tables(rows: &[Row], args: &Args, rate: u32) {
    println!(
        "\n{} run(s) each, parallelism {}, latency {} ms, client rate limit {rate} calls per \
         API in any minute; medians\n",
        args.runs, args.parallelism, args.latency_ms,
    );
    println!(
        "| scenario | calls | bound | floor | execute | execute ÷ floor | read + plan | verify \
         | total | total ÷ floor | total ÷ (floor + 3 reads) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    // The issue's floor: the writes, plus the token, the first list and the verify
    // re-read, one latency each.
    let reads = Duration::from_millis(args.latency_ms) * 3;
    for r in rows {
        let m = |f: fn(&Run) -> Duration| median(r.runs.iter().map(f).collect());
        let execute = m(|x| x.execute);
        let total = m(Run::total);
        let calls: Vec<String> = r.runs.iter().map(|x| x.calls.to_string()).collect();
        println!(
            "| {} | {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} |",
            r.case,
            dedup(&calls),
            r.bound,
            secs(r.floor),
            secs(execute),
            ratio(execute, r.floor),
            secs(m(|x| x.read + x.plan)),
            secs(m(|x| x.verify)),
            secs(total),
            ratio(total, r.floor),
            ratio(total, r.floor + reads),
        );
    }
    if rows.iter().all(|r| r.baseline.is_none()) {
        return;
    }
    println!(
        "\n| scenario | baseline calls | baseline wall | tagsync total | tagsync ÷ baseline \
         | speed-up |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let Some(b) = r.baseline else { continue };
        let total = median(r.runs.iter().map(Run::total).collect());
        println!(
            "| {} | {} | {}{} | {} | {} | {:.0}× |",
            r.case,
            b.calls,
            if b.estimated { "≈ " } else { "" },
            secs(b.wall),
            secs(total),
            ratio(total, b.wall),
            b.wall.as_secs_f64() / total.as_secs_f64().max(f64::MIN_POSITIVE),
        );
    }
}

/// Every run's call count is the same; print them all when not.
fn dedup(calls: &[String]) -> String {
    match calls.first() {
        Some(first) if calls.iter().all(|c| c == first) => first.clone(),
        _ => calls.join("/"),
    }
}

async fn run(args: Args) -> Result<(), Failed> {
    let all = cases();
    if let Some(unknown) = args
        .only
        .iter()
        .find(|n| !all.iter().any(|c| c.name == n.as_str()))
    {
        let names: Vec<&str> = all.iter().map(|c| c.name).collect();
        return Err(format!("unknown scenario {unknown:?}; one of {names:?}").into());
    }
    let dir = tempfile::tempdir()?;
    let latency = Duration::from_millis(args.latency_ms);
    let rate = ClientConfig::new(
        "http://127.0.0.1/",
        Credentials::Corp {
            corp_id: CORP.into(),
            secret: Secret::new(SECRET),
        },
    )?
    .rate_per_minute;
    let mut rows = Vec::new();
    for case in all
        .iter()
        .filter(|c| args.only.is_empty() || args.only.iter().any(|n| n == c.name))
    {
        let mut runs = Vec::new();
        for i in 0..args.runs.max(1) {
            let r = run_tagsync(case, &args, dir.path()).await?;
            eprintln!(
                "{} run {}: {} calls, read {}, plan {}, execute {}, verify {}",
                case.name,
                i + 1,
                r.calls,
                secs(r.read),
                secs(r.plan),
                secs(r.execute),
                secs(r.verify)
            );
            runs.push(r);
        }
        let baseline = match args.baseline {
            BaselineMode::None => None,
            _ => {
                let b = run_baseline(case, &args).await?;
                eprintln!(
                    "{} baseline: {} calls, {}{}",
                    case.name,
                    b.calls,
                    secs(b.wall),
                    if b.estimated { " (estimated)" } else { "" }
                );
                Some(b)
            }
        };
        rows.push(Row {
            case: case.name,
            bound: case.bound,
            floor: floor(case.bound, args.parallelism, latency, rate),
            runs,
            baseline,
        });
    }
    print_tables(&rows, &args, rate);
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: no async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
