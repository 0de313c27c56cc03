//! Running a fleet: every corp planned (and applied) through the same functions as
//! `tagsync plan` / `plan --apply` ([`make_plan_with`], [`ApplyJob`]), at most N corps at
//! once, each with its own client (so its own rate limiter), ledger and lock. One corp's
//! failure is that corp's result; the others run on.
//!
//! Each corp's output is rendered as soon as it is done and its plan and snapshot
//! dropped, so memory grows with the corps in flight, not with the fleet.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tracing::Instrument;

use super::file::{CredentialRef, Fleet, FleetCorp, SecretRef};
use super::output::{CorpResult, Outcome, Sections};
use super::spill::Spill;
use crate::commands::plan::{ApplyJob, PlanInputs, Planned, exit_for, make_plan_with};
use crate::commands::remote_setup::Remote;
use crate::commands::{CommandError, redact_env_secrets};
use crate::desired::{self, merge::Part};
use crate::exit::Exit;
use crate::ledger::{Ledger, LedgerLock};
use crate::remote::{
    Client, ClientConfig, ClientError, Credentials, DEFAULT_API_BASE, ErrorKind, Secret,
};
use crate::render::{Context, Format};

/// How the fleet is run (from the command line).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub apply: bool,
    pub format: Format,
    pub concurrency: usize,
    /// The ledgers' directory (default: `.tagsync/` beside the fleet file).
    pub state: Option<PathBuf>,
    /// `--api-base`: every corp's API base.
    pub api_base: Option<String>,
    /// `WECOM_API_BASE`: the API base of corps the file gives none.
    pub env_api_base: Option<String>,
    pub allow_delete: Option<usize>,
    pub parallelism: u16,
    pub detailed_exitcode: bool,
    /// The HTTP clients the corps share, one per API base.
    pub http: SharedHttp,
}

/// One HTTP client (TLS set-up, connection pool) per API base, shared by the corps: the
/// CA roots are loaded once, and connections are reused from corp to corp. Each corp's
/// [`Client`] keeps its own token, rate limiter and retries.
#[derive(Debug, Clone, Default)]
pub struct SharedHttp(Arc<Mutex<std::collections::HashMap<String, reqwest::Client>>>);

impl SharedHttp {
    fn for_config(&self, config: &ClientConfig) -> Result<reqwest::Client, ClientError> {
        let key = config.api_base.as_str().to_owned();
        if let Some(http) = lock(&self.0).get(&key) {
            return Ok(http.clone());
        }
        let http = Client::http_for(config)?;
        Ok(lock(&self.0).entry(key).or_insert(http).clone())
    }
}

/// Run `corps` of `fleet` (already chosen by the shard), at most `opts.concurrency` at
/// once: their rows in the order of `corps`, and their output in `opts.format`, kept in
/// a [`Spill`] as each corp is done. `interrupted` (Ctrl-C) stops starting corps and
/// sending steps.
pub async fn run_fleet(
    fleet: &Fleet,
    corps: Vec<FleetCorp>,
    opts: &RunOptions,
    interrupted: Arc<AtomicBool>,
) -> Result<(Vec<CorpResult>, Spill), CommandError> {
    let n = corps.len();
    let spill = Spill::new(n)
        .map_err(|e| CommandError::Other(format!("cannot make a temporary file: {e}")))?;
    let spill = Arc::new(Mutex::new(spill));
    let corps = Arc::new(corps);
    let rows: Arc<Mutex<Vec<Option<CorpResult>>>> =
        Arc::new(Mutex::new((0..n).map(|_| None).collect()));
    let job = {
        let (corps, opts, interrupted) = (corps.clone(), opts.clone(), interrupted.clone());
        let fleet_path = fleet.path.clone();
        move |i: usize| {
            let (corps, opts, interrupted) = (corps.clone(), opts.clone(), interrupted.clone());
            let fleet_path = fleet_path.clone();
            let corp = &corps[i];
            // Every log line of this corp's run names it.
            let span = tracing::info_span!("corp", id = %corp.id);
            async move {
                let corp = &corps[i];
                if interrupted.load(Ordering::SeqCst) {
                    CorpResult::failed(corp, "interrupted before this corp was started".into())
                } else {
                    run_corp(corp, &fleet_path, &opts, interrupted).await
                }
            }
            .instrument(span)
        }
    };
    let done = {
        let (corps, rows, spill, format) =
            (corps.clone(), rows.clone(), spill.clone(), opts.format);
        move |i: usize, result: Result<CorpResult, String>| {
            let corp = &corps[i];
            let mut row = result.unwrap_or_else(|stopped| CorpResult::failed(corp, stopped));
            tracing::info!(corp = %corp.id, result = row.result.word(), "corp done");
            let kept = lock(&spill).put(i, row.parts(format));
            if let Err(e) = kept {
                row = CorpResult::failed(corp, format!("cannot keep this corp's output: {e}"));
                let _ = lock(&spill).put(i, row.parts(format));
            }
            lock(&rows)[i] = Some(row);
        }
    };
    // Each corp in its own task: should a corp's run panic, that corp fails and the
    // others run on (`pool`).
    super::pool::run_each(n, opts.concurrency, job, done).await;
    let mut spill = lock(&spill);
    let rows = std::mem::take(&mut *lock(&rows))
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                let mut r = CorpResult::failed(&corps[i], "this corp's run stopped".into());
                let _ = spill.put(i, r.parts(opts.format));
                r
            })
        })
        .collect();
    let spill = std::mem::replace(
        &mut *spill,
        Spill::new(0)
            .map_err(|e| CommandError::Other(format!("cannot make a temporary file: {e}")))?,
    );
    Ok((rows, spill))
}

/// A mutex's content, poisoned or not (every change is one assignment).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a corp's ledger is: `DIR/ledger-CORP.json` with `--state DIR`, else the same
/// file a single `tagsync plan` beside the fleet file would use.
pub fn ledger_path(state: Option<&Path>, fleet_file: &Path, corp_id: &str) -> PathBuf {
    let default = Ledger::default_path(fleet_file, corp_id);
    match (state, default.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => default,
    }
}

/// One corp: its result, never an error (an error is the corp's result). Secrets are
/// redacted from everything it says.
async fn run_corp(
    corp: &FleetCorp,
    fleet_file: &Path,
    opts: &RunOptions,
    interrupted: Arc<AtomicBool>,
) -> CorpResult {
    let secrets = match resolve(&corp.credentials, &corp.corp_id) {
        Ok(c) => c,
        Err(message) => return CorpResult::failed(corp, message),
    };
    let values: Vec<String> = secret_values(&secrets);
    let result = match plan_corp(corp, fleet_file, opts, secrets, interrupted).await {
        Ok(result) => result,
        Err(CommandError::Client(e)) if e.kind() == ErrorKind::Token => {
            let text = error_text(&CommandError::Client(e));
            let hint = format!(
                "\n(in the fleet: check corp `{}`'s corp_id and the secret its credential reference names)",
                corp.id
            );
            CorpResult::failed(corp, text + &hint)
        }
        Err(e) => CorpResult::failed(corp, error_text(&e)),
    };
    result.redacted(&values)
}

fn error_text(e: &CommandError) -> String {
    let text = match e {
        CommandError::Desired(d) => d.to_string(),
        other => crate::sanitize::for_terminal(&other.to_string()),
    };
    redact_env_secrets(&text)
}

async fn plan_corp(
    corp: &FleetCorp,
    fleet_file: &Path,
    opts: &RunOptions,
    credentials: Credentials,
    interrupted: Arc<AtomicBool>,
) -> Result<CorpResult, CommandError> {
    let desired = load_desired(&corp.files)?;
    let base = opts
        .api_base
        .as_deref()
        .or(corp.api_base.as_deref())
        .or(opts.env_api_base.as_deref())
        .unwrap_or(DEFAULT_API_BASE);
    let mut config = ClientConfig::new(base, credentials)?;
    config.tune_from_env()?;
    let http = opts.http.for_config(&config)?;
    let remote = Remote::from_client(Client::with_http(config, http)?);
    let path = ledger_path(opts.state.as_deref(), fleet_file, &corp.corp_id);
    let _lock = match opts.apply {
        true => Some(LedgerLock::acquire(&path)?),
        false => None,
    };
    let inputs = PlanInputs {
        ledger_path: Some(path),
        writing: opts.apply,
        // The command line's `--allow-delete` (this run's decision) wins over the file's.
        allow_delete: opts.allow_delete.or(corp.allow_delete),
        tag_limit: crate::plan::TAG_LIMIT,
    };
    let planned = make_plan_with(&inputs, desired, &remote, None).await?;
    let file = files_label(&corp.files);
    let Planned {
        desired,
        snapshot,
        plan,
        options,
        mut ledger,
        ledger_path,
    } = planned;
    let ctx = Context {
        corp_id: &remote.corp_id,
        file: &file,
        remote: &snapshot,
        whole_plan: None,
    };
    let report = if opts.apply && !plan.is_empty() {
        let job = ApplyJob {
            plan: &plan,
            desired: &desired,
            options: &options,
            format: opts.format,
            parallelism: opts.parallelism,
            ctx: &ctx,
            one_line: false,
        };
        let report = job
            .execute(
                &remote,
                &mut ledger,
                ledger_path.as_deref(),
                Some(interrupted),
            )
            .await;
        Some(report)
    } else {
        None
    };
    let exit = match &report {
        Some(r) => r.exit(),
        None if opts.apply => Exit::Success,
        None => exit_for(&plan, opts.detailed_exitcode),
    };
    let outcome = Outcome::of(&plan, report.as_ref(), opts.apply);
    let sections = Sections::render(opts.format, &plan, &ctx, report.as_ref());
    let files = corp.files.iter().map(|f| f.display().to_string()).collect();
    Ok(CorpResult::new(corp, files, &plan, outcome, exit, sections))
}

/// The corp's files as one name (`base.yaml + corps/acme.yaml`).
pub fn files_label(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The corp's desired files, read and merged in order.
pub fn load_desired(files: &[PathBuf]) -> Result<desired::Desired, CommandError> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        // The path came from the fleet file, not from `-c`: the fix is there.
        let bytes = desired::read_file(f).map_err(|mut d| {
            for item in &mut d.items {
                item.help = "check the corp's `files:` (and `defaults.files`) in the fleet file: \
                             paths are relative to it, each a readable regular file"
                    .into();
            }
            d
        })?;
        parts.push(Part {
            name: f.display().to_string(),
            bytes,
        });
    }
    Ok(desired::load_merged(&parts)?)
}

/// The credentials a corp's references point at. Messages name the reference, never the
/// value.
pub fn resolve(credentials: &CredentialRef, corp_id: &str) -> Result<Credentials, String> {
    match credentials {
        CredentialRef::Secret(r) => Ok(Credentials::Corp {
            corp_id: corp_id.to_owned(),
            secret: read_secret(r, "the app secret")?,
        }),
        CredentialRef::Suite {
            suite_id,
            suite_secret,
            suite_ticket,
            permanent_code,
        } => Ok(Credentials::Suite {
            suite_id: suite_id.clone(),
            suite_secret: read_secret(suite_secret, "the suite secret")?,
            suite_ticket: read_secret(suite_ticket, "the latest suite ticket")?,
            auth_corp_id: corp_id.to_owned(),
            permanent_code: read_secret(permanent_code, "the corp's permanent code")?,
        }),
    }
}

fn read_secret(r: &SecretRef, what: &str) -> Result<Secret, String> {
    match r {
        SecretRef::Env(name) => match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(format!("{name} is not set: it must hold {what}")),
        },
        SecretRef::File(path) => {
            let max = crate::safe_read::SECRET_FILE_MAX;
            let text = crate::safe_read::read_to_string(path, max)
                .map_err(|e| format!("cannot read {what} from {}: {e}", path.display()))?;
            match text.lines().next().map(str::trim) {
                Some(s) if !s.is_empty() => Ok(Secret::new(s)),
                _ => Err(format!(
                    "{} is empty: its first line must hold {what}",
                    path.display()
                )),
            }
        }
    }
}

fn secret_values(c: &Credentials) -> Vec<String> {
    match c {
        Credentials::Corp { secret, .. } => vec![secret.expose().to_owned()],
        Credentials::Suite {
            suite_secret,
            suite_ticket,
            permanent_code,
            ..
        } => [suite_secret, suite_ticket, permanent_code]
            .iter()
            .map(|s| s.expose().to_owned())
            .collect(),
    }
}
