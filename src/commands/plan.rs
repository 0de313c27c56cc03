//! `tagsync plan`: load the file, read the corp, plan, print; `--out` saves the plan,
//! `--apply` executes it. Exit 0/1/2/3/4.
//!
//! [`make_plan`] returns a [`Planned`] (plan, snapshot, ledger and its path); `run`
//! prints it, stops on a blocked plan (exit 3, nothing sent, nothing saved), saves it for
//! `--out`, and for `--apply` hands it to an [`ApplyJob`] (shared with `tagsync apply`),
//! which executes, verifies and prints the end report (exit 0, 1 or 4).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::args::PlanArgs;
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::apply::{self, ApplyOptions, SavedPlan};
use crate::desired::{self, Desired};
use crate::exit::Exit;
use crate::ledger::Ledger;
use crate::plan::{self, Plan, PlanOptions};
use crate::remote::Snapshot;
use crate::render::Format;
use crate::render::{self, Context};
use crate::sanitize;

/// A plan and everything it was made from.
#[derive(Debug)]
pub struct Planned {
    pub desired: Desired,
    pub snapshot: Snapshot,
    pub plan: Plan,
    pub options: PlanOptions,
    pub ledger: Ledger,
    /// Where to save the ledger; `None`: in memory only (`--emulator` without `--state`).
    pub ledger_path: Option<PathBuf>,
}

/// `tagsync plan`.
pub fn cmd_plan(args: &PlanArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

/// The exit code of a plan that was shown and not applied.
pub fn exit_for(plan: &Plan, detailed_exitcode: bool) -> Exit {
    if plan.blocked() {
        Exit::Blocked
    } else if !plan.is_empty() && detailed_exitcode {
        Exit::Changes
    } else {
        Exit::Success
    }
}

async fn run(args: &PlanArgs) -> Result<Exit, CommandError> {
    let bytes = desired::read_file(&args.config)?;
    let remote = remote_setup::connect(&args.remote).await;
    // A plain plan reads the corp while the file is parsed and validated (the two take
    // about as long for 10,000 tags). Under --apply the corp is read only once the
    // ledger is locked, so that no other writer's changes land between read and lock.
    let early = match &remote {
        Ok(remote) if !args.apply => {
            let client = remote.client.clone();
            Some(tokio::spawn(async move { client.snapshot().await }))
        }
        _ => None,
    };
    // The file's problems come first, as when nothing was read.
    let desired = match desired::load_bytes(&bytes, &args.config.display().to_string()) {
        Ok(desired) => desired,
        Err(diagnostics) => {
            if let Some(task) = early {
                task.abort();
            }
            if let Ok(remote) = remote {
                remote.shutdown().await;
            }
            return Err(diagnostics.into());
        }
    };
    let remote = remote?;
    let snapshot = match early {
        Some(task) => Some(
            task.await
                .map_err(|e| CommandError::Other(format!("reading the corp stopped: {e}")))?,
        ),
        None => None,
    };
    let result = match snapshot.transpose() {
        Err(e) => Err(e.into()),
        Ok(snapshot) => plan_show_apply(args, desired, &bytes, &remote, snapshot).await,
    };
    remote.shutdown().await;
    result
}

async fn plan_show_apply(
    args: &PlanArgs,
    desired: Desired,
    desired_bytes: &[u8],
    remote: &Remote,
    snapshot: Option<Snapshot>,
) -> Result<Exit, CommandError> {
    // Only a run that may write the ledger locks it; a plain plan reads it as it is.
    let _lock = match args.apply {
        true => remote_setup::lock_ledger(&args.remote, &args.config, remote)?,
        false => None,
    };
    let planned = make_plan(args, desired, remote, snapshot).await?;
    let file = args.config.display().to_string();
    let whole_plan = args.summary.as_deref().map(summary_words);
    let ctx = Context {
        corp_id: &remote.corp_id,
        file: &file,
        remote: &planned.snapshot,
        whole_plan: whole_plan.as_deref(),
    };
    let blocked = planned.plan.blocked();
    // A blocked plan still goes to the executor under --apply: it refuses, sending
    // nothing, and the report (exit 3) says so in every format.
    let apply_now = args.apply && !planned.plan.is_empty();
    show(args.format, &planned.plan, &ctx, args.apply, apply_now)?;
    if let Some(path) = &args.summary {
        append_summary(path, &planned.plan, &ctx)?;
    }
    match &args.out {
        Some(_) if blocked => {
            eprintln!("The plan has blocked steps: it was not saved.");
        }
        Some(out) => {
            let mut saved = SavedPlan::new(
                planned.plan.clone(),
                &remote.corp_id,
                &args.config,
                desired_bytes,
                &planned.snapshot,
            );
            saved.allow_delete = args.allow_delete;
            saved.tag_limit = (args.tag_limit != plan::TAG_LIMIT).then_some(args.tag_limit);
            saved
                .save(out)
                .map_err(|e| CommandError::Other(e.to_string()))?;
            let out = sanitize::for_terminal(&out.display().to_string());
            eprintln!("Saved the plan to {out}; apply it with `tagsync apply {out}`.");
        }
        None => {}
    }
    if !apply_now {
        if args.apply {
            eprintln!("Nothing to apply: the corp already equals the file.");
            return Ok(Exit::Success);
        }
        return Ok(exit_for(&planned.plan, args.detailed_exitcode));
    }
    let Planned {
        desired,
        plan,
        options,
        mut ledger,
        ledger_path,
        ..
    } = planned;
    let job = ApplyJob {
        plan: &plan,
        desired: &desired,
        options: &options,
        format: args.format,
        parallelism: args.parallelism,
        ctx: &ctx,
        one_line: false,
    };
    job.run(remote, &mut ledger, ledger_path.as_deref()).await
}

/// An unblocked, non-empty plan to execute, print the end report of, and verify.
pub struct ApplyJob<'a> {
    pub plan: &'a Plan,
    pub desired: &'a Desired,
    pub options: &'a PlanOptions,
    pub format: Format,
    pub parallelism: u16,
    /// The context the plan was rendered with.
    pub ctx: &'a Context<'a>,
    /// JSON on one line (`tagsync watch` prints JSON lines).
    pub one_line: bool,
}

impl ApplyJob<'_> {
    /// Execute and verify, then print the report: after the plan already printed (text,
    /// markdown), or as the `apply` field of the one JSON document. Gives 0, 1, 3 or 4.
    pub async fn run(
        &self,
        remote: &Remote,
        ledger: &mut Ledger,
        ledger_path: Option<&Path>,
    ) -> Result<Exit, CommandError> {
        let report = self.execute(remote, ledger, ledger_path, None).await;
        if self.format == Format::Text {
            print(self.format, "\n")?;
        }
        print(self.format, &self.render(&report))?;
        Ok(report.exit())
    }

    /// Execute and verify. With `interrupted`, the caller handles Ctrl-C and shows no
    /// progress bar (`tagsync fleet` runs many at once); without, this run listens for
    /// Ctrl-C itself and shows a bar on a terminal.
    pub async fn execute(
        &self,
        remote: &Remote,
        ledger: &mut Ledger,
        ledger_path: Option<&Path>,
        interrupted: Option<Arc<AtomicBool>>,
    ) -> apply::ApplyReport {
        let interactive = interrupted.is_none();
        let interrupted = interrupted.unwrap_or_default();
        let mut opts = ApplyOptions {
            parallelism: usize::from(self.parallelism.max(1)),
            progress: None,
            interrupted: Some(interrupted.clone()),
        };
        // First Ctrl-C: send nothing more, let the steps in flight finish and be recorded
        // in the ledger, then report. A second one stops at once (the ledger's pending
        // adds still let the next run claim what was created).
        // One listener for both, registered before anything is sent: a second Ctrl-C that
        // comes right after the first is not lost.
        let on_interrupt = interactive.then(|| on_interrupt(interrupted));
        let bar = (interactive && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(self.plan.steps.len() as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} applying [{bar:30}] {pos}/{len} steps {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        if let Some(bar) = &bar {
            opts.progress = Some(progress_bar(bar.clone()));
        }
        let report = apply::apply(
            self.plan,
            self.desired,
            self.options,
            &remote.client,
            ledger,
            ledger_path,
            &opts,
        )
        .await;
        if let Some(task) = on_interrupt {
            task.abort();
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        report
    }

    /// The end report in this job's format.
    pub fn render(&self, report: &apply::ApplyReport) -> String {
        match self.format {
            Format::Text => render::report::text(report, self.plan, self.ctx),
            Format::Markdown => render::report::markdown(report, self.plan, self.ctx),
            Format::Json if self.one_line => {
                let json = render::json::render_applied(self.plan, self.ctx, report);
                serde_json::from_str::<serde_json::Value>(&json)
                    .map(|v| format!("{v}\n"))
                    .unwrap_or(json)
            }
            Format::Json => render::json::render_applied(self.plan, self.ctx, report),
        }
    }
}

/// Listen for Ctrl-C: the first sets `interrupted`, a second stops the process at once.
pub fn on_interrupt(interrupted: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let mut ctrl_c = interrupts();
    tokio::spawn(async move {
        if ctrl_c.next().await {
            interrupted.store(true, Ordering::SeqCst);
            eprintln!(
                "\ninterrupted: sending nothing more; waiting for the steps in flight \
                 (Ctrl-C again to stop at once)"
            );
            if ctrl_c.next().await {
                crate::ledger::remove_lock_files();
                eprintln!(
                    "stopped at once: the steps in flight may or may not have been done \
                     (the ledger keeps the adds sent, for the next run to claim); plan \
                     again to see what is left"
                );
                std::process::exit(130);
            }
        }
    })
}

/// Ctrl-C, as a stream of interrupts registered when made (on Unix, SIGINT; elsewhere
/// tokio's `ctrl_c`, registered at the first wait).
struct Interrupts {
    #[cfg(unix)]
    sigint: Option<tokio::signal::unix::Signal>,
}

fn interrupts() -> Interrupts {
    Interrupts {
        #[cfg(unix)]
        sigint: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
    }
}

impl Interrupts {
    /// Wait for the next interrupt; `false` when none can be received.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        if let Some(s) = &mut self.sigint {
            return s.recv().await.is_some();
        }
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// Tick `bar` once per step (its length set to the plan's steps by the caller); the
/// message shows the last failure.
fn progress_bar(bar: indicatif::ProgressBar) -> apply::Progress {
    Arc::new(move |o: &apply::StepOutcome| {
        if let apply::StepStatus::Failed(f) = &o.status {
            bar.set_message(format!(
                "step {} failed: {}",
                o.step_id,
                sanitize::for_terminal(&f.errmsg)
            ));
        }
        bar.inc(1);
    })
}

/// Stop when a `strategies:` entry's name finds no rule group or several, or two entries
/// name one rule group.
pub fn rule_group_names(desired: &Desired, snapshot: &Snapshot) -> Result<(), CommandError> {
    let problems = plan::scopes::name_problems(desired, snapshot);
    if problems.is_empty() {
        return Ok(());
    }
    Err(CommandError::Other(format!(
        "the file's `strategies:` cannot be planned: {}",
        problems.join("; ")
    )))
}

/// What a plan is made with besides the file and the corp: where the ledger lives and
/// the planner's options. `tagsync plan` takes them from its arguments ([`PlanInputs::of`]);
/// `tagsync fleet` gives them per corp.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// The ledger file; `None`: in memory only (`--emulator` without `--state`).
    pub ledger_path: Option<PathBuf>,
    /// A run that may write (`--apply`): the ledger is settled and saved before applying.
    pub writing: bool,
    pub allow_delete: Option<usize>,
    pub tag_limit: usize,
}

impl PlanInputs {
    /// The inputs `tagsync plan` (and `watch`) take from their arguments.
    pub fn of(args: &PlanArgs, remote: &Remote) -> Self {
        PlanInputs {
            ledger_path: remote_setup::ledger_path(&args.remote, &args.config, &remote.corp_id),
            writing: args.apply,
            allow_delete: args.allow_delete,
            tag_limit: args.tag_limit,
        }
    }
}

/// Read the corp and the ledger, and plan. Adds an interrupted apply left pending are
/// settled against the corp; the ledger is saved with them only under `--apply` (a plain
/// plan writes nothing: the next apply settles them the same way).
/// `snapshot`: the corp when it was read already (a plain plan reads it while the file
/// is parsed).
pub async fn make_plan(
    args: &PlanArgs,
    desired: Desired,
    remote: &Remote,
    snapshot: Option<Snapshot>,
) -> Result<Planned, CommandError> {
    make_plan_with(&PlanInputs::of(args, remote), desired, remote, snapshot).await
}

/// [`make_plan`] with explicit inputs.
pub async fn make_plan_with(
    inputs: &PlanInputs,
    desired: Desired,
    remote: &Remote,
    snapshot: Option<Snapshot>,
) -> Result<Planned, CommandError> {
    let read = apply::rule_groups_to_read(&desired);
    let snapshot = match (snapshot, &read) {
        (Some(snapshot), None) => snapshot,
        (Some(snapshot), Some(read)) => {
            let (rules, tags) = remote.client.read_rule_groups(read).await?;
            snapshot.with_rule_groups(rules, tags)
        }
        (None, read) => remote.client.snapshot_with(read.as_ref()).await?,
    };
    tracing::info!(
        groups = snapshot.groups.len(),
        tags = snapshot.tag_count(),
        "read the corp"
    );
    rule_group_names(&desired, &snapshot)?;
    let (mut ledger, ledger_path) =
        remote_setup::load_ledger_at(inputs.ledger_path.clone(), remote)?;
    // What was on disk, to tell whether an apply must save: only a writing run needs it.
    let loaded = inputs.writing.then(|| ledger.clone());
    if !ledger.pending.is_empty() {
        let claimed = apply::claim_pending(&mut ledger, &snapshot);
        tracing::info!(
            claimed,
            "settled the adds an interrupted apply left pending"
        );
    }
    match &ledger_path {
        Some(path) => tracing::info!(
            path = %path.display(),
            owned = ledger.owned.len(),
            "read the ownership ledger"
        ),
        None => tracing::info!(
            owned = ledger.owned.len(),
            "no ledger file: the seed's owners stand for it"
        ),
    }
    let options = PlanOptions {
        allow_delete: inputs.allow_delete,
        tag_limit: inputs.tag_limit,
        ..PlanOptions::default()
    };
    let plan = if let Some(loaded) = &loaded {
        let (plan, bindings) = plan::plan_with_ledger(&desired, &snapshot, &ledger, &options);
        remote_setup::verify_new_app(remote, &mut ledger, &snapshot).await?;
        let listed = plan::scopes::listed_rule_group_ids(&desired, &snapshot);
        let bind = (!plan.blocked()).then_some((bindings, listed));
        settle(&mut ledger, loaded, bind, ledger_path.as_deref())?;
        plan
    } else {
        // Nothing is written: the bindings a writing run records are not needed.
        plan::plan_from_ledger(&desired, &snapshot, &ledger, &options)
    };
    Ok(Planned {
        desired,
        snapshot,
        plan,
        options,
        ledger,
        ledger_path,
    })
}

/// Before an apply: with `bind` (the plan's bindings and the ids of the rule groups the
/// file lists, when it is not blocked), record those ids as owned and bind the
/// owned items whose names already agree with the file (a format-1 ledger's ids, a
/// console name the file accepted with `previously`); then save the ledger when that, settled pending adds,
/// the app's fingerprint or an upgrade from format 1 changed it. A ledger that owns
/// nothing and has no file is not created.
pub fn settle(
    ledger: &mut Ledger,
    loaded: &Ledger,
    bind: Option<(plan::Bindings, Vec<String>)>,
    path: Option<&Path>,
) -> Result<(), CommandError> {
    if let Some((bindings, listed)) = bind {
        // Every item of a listed rule group is this app's (WeCom shows no other's):
        // recorded, so that it is bound and its drift put back like a corp tag's.
        ledger.record(listed);
        ledger.bind_new_names(bindings);
    }
    let Some(path) = path else { return Ok(()) };
    let changed = ledger != loaded || ledger.needs_upgrade();
    let nothing = ledger.owned.is_empty() && loaded.read_as.version.is_none();
    if changed && !nothing {
        ledger.save(path)?;
    }
    Ok(())
}

/// Print the plan before it is applied (or not). JSON is one document: when the job will
/// print it with its report (`reported`), nothing is printed here; under `--apply` with
/// nothing to do it carries an empty report, so programs always find the `apply` field.
pub fn show(
    format: Format,
    plan: &Plan,
    ctx: &Context<'_>,
    applying: bool,
    reported: bool,
) -> Result<(), CommandError> {
    if format != Format::Json {
        return print(format, &render::render(format, plan, ctx));
    }
    if reported {
        return Ok(());
    }
    let rendered = if applying && plan.is_empty() {
        render::json::render_applied(plan, ctx, &apply::ApplyReport::nothing_to_do())
    } else {
        render::render(format, plan, ctx)
    };
    print(format, &rendered)
}

/// The most characters `--summary` appends: GitHub keeps 1 MiB of a step's summary, and
/// a character of a tag name takes up to 3 bytes.
pub const SUMMARY_CHARS: usize = 300_000;

/// Where `--summary` writes, in the words a shortened list of the comment uses.
fn summary_words(path: &Path) -> String {
    let github = std::env::var_os("GITHUB_STEP_SUMMARY");
    if github.is_some_and(|g| Path::new(&g) == path) {
        return "the job summary of this CI run".to_string();
    }
    let path = sanitize::for_terminal(&path.display().to_string()).replace('`', "'");
    format!("`{path}`, the whole plan written by `--summary`")
}

/// Append the whole plan (Markdown, up to [`SUMMARY_CHARS`]) to `path`, creating it.
fn append_summary(path: &Path, plan: &Plan, ctx: &Context<'_>) -> Result<(), CommandError> {
    let text = render::markdown::render_capped(
        plan,
        &Context {
            whole_plan: None,
            ..*ctx
        },
        SUMMARY_CHARS,
    );
    let err = |source| CommandError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    file.write_all(text.as_bytes()).map_err(err)?;
    file.write_all(b"\n").map_err(err)
}

/// Write a rendered plan to stdout; text through `anstream` (colour only on a terminal,
/// and never with `NO_COLOR`).
pub fn print(format: Format, rendered: &str) -> Result<(), CommandError> {
    let err = |source| CommandError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    if format == Format::Text {
        let mut out = anstream::stdout().lock();
        out.write_all(rendered.as_bytes()).map_err(err)?;
        out.flush().map_err(err)
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(rendered.as_bytes()).map_err(err)?;
        out.flush().map_err(err)
    }
}
