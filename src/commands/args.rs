//! The command-line arguments of each command (clap derive types). `cli` puts them
//! together into the command line; each `cmd_*` takes its own.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::emulator::{self, Faults};
use crate::render::Format;

/// Where the corp is and how to reach it. Credentials come from the environment only.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    /// API base URL (plain http is refused except for loopback addresses).
    #[arg(long, env = "WECOM_API_BASE", hide_env_values = true)]
    pub api_base: Option<String>,
    /// Read the corp secret from this file instead of WECOM_CORP_SECRET.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// The ownership ledger (default: beside the config file).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Use an in-process emulator seeded from this snapshot file (a demo or a dry run;
    /// credentials then come from the emulator, not the environment).
    #[arg(long, value_name = "SEED")]
    pub emulator: Option<PathBuf>,
}

/// The environment the commands that reach the corp read, shown after their help.
pub const REMOTE_ENV: &str = "\
Environment:
  WECOM_CORP_ID        the corp id (企业ID)
  WECOM_CORP_SECRET    the secret of the app tagsync acts as (or --secret-file)
  WECOM_API_BASE       another API base, e.g. the emulator (https; plain http only on loopback)
  WECOM_SUITE_ID, WECOM_SUITE_SECRET, WECOM_SUITE_TICKET, WECOM_PERMANENT_CODE
                       a third-party app instead of WECOM_CORP_SECRET
  TAGSYNC_RATE_SHARE   percent of WeCom's 10,000 calls a minute per API tagsync may use
                       (default 80; lower it when other apps call the tag API too)
  TAGSYNC_RETRY_BACKOFF_MS
                       retry delays MIN,MAX,LIMIT in ms: first backoff, largest, floor
                       after errcode 45009 (default 250,8000,5000; shorten only for the
                       emulator)
  NO_COLOR             no colour in the text output
  RUST_LOG             the log filter (logs go to stderr)";

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// The desired-state file.
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    /// The desired-state file, given without `-c` (as `tagsync plan tags.yaml`).
    #[arg(value_name = "FILE", conflicts_with = "config")]
    pub file: Option<PathBuf>,
    /// How the plan is printed: text (for a terminal), markdown (a pull-request
    /// comment), json (versioned, for programs).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when the plan has changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Execute the plan just shown.
    #[arg(long)]
    pub apply: bool,
    /// Save the plan to this file for `tagsync apply`. With `--apply`, a record of the
    /// plan applied: once applied it is stale, and `tagsync apply` refuses it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also append the whole plan as Markdown, uncut, to FILE (in GitHub Actions:
    /// `$GITHUB_STEP_SUMMARY`); the PR comment's shortened lists then point there.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Allow up to N deleted or replaced tags past the safety gate.
    #[arg(long, value_name = "N")]
    pub allow_delete: Option<usize>,
    /// The most tags the corp may hold (3000 for some older corps): when the plan's adds
    /// would pass it, its delete runs first.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::plan::TAG_LIMIT,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::plan::TAG_LIMIT as u64)
    )]
    pub tag_limit: usize,
    /// Steps run at once during apply, 1 to 64.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan saved with `tagsync plan --out` (to plan and apply in one go, run
    /// `tagsync plan --apply` instead).
    pub plan: PathBuf,
    /// The desired-state file (default: the path recorded in the saved plan); it must be
    /// byte for byte the file the plan was made from.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// How the report is printed: text (for a terminal), markdown (a pull-request
    /// comment), json (versioned, for programs).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Steps run at once, 1 to 64.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The desired-state file (locates the default ledger; not read).
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    /// Write the file here instead of stdout; an existing file is kept unless --force.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// With --output: replace an existing file (its comments, layout and `previously:`
    /// lists are lost).
    #[arg(long, requires = "output")]
    pub force: bool,
    /// Write the id of every group and tag (`id:`), to pin items or find ids to adopt.
    #[arg(long)]
    pub ids: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Ids of groups or tags to record as owned.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// For a group id: adopt every tag in the group too.
    #[arg(long)]
    pub with_tags: bool,
    /// The desired-state file (locates the default ledger; not read).
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct DisownArgs {
    /// Ids of groups or tags the ledger owns.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// The desired-state file (locates the default ledger; not read).
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Accept the secret this run uses as the ledger's app (after its secret was
    /// rotated): first checks that the secret may edit an item tagsync created.
    #[command(after_help = REMOTE_ENV)]
    Rebind(RebindArgs),
}

#[derive(Debug, Args)]
pub struct RebindArgs {
    /// The desired-state file (locates the default ledger; not read).
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    /// Do not ask for confirmation (for scripts).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Seed snapshot, in the get_corp_tag_list answer shape.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Apps file (YAML): corp_id, apps [{name, secret, legacy?, manage_tags?,
    /// allowed_ips?}], suites?, and limits; every field is in the README ("The apps file").
    #[arg(long)]
    pub apps: Option<PathBuf>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// The fault flags of `tagsync emulator` (flattened into its arguments).
#[derive(Debug, Clone, Default, Args)]
pub struct FaultArgs {
    /// Fixed latency added to every call, in milliseconds (for benchmarks).
    #[arg(long, value_name = "N")]
    pub latency_ms: Option<u64>,
    /// Probability (0 to 1) that a tag call is refused with a retryable errcode
    /// (-1 system busy or 6000 version conflict; nothing is done).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub fault_rate: Option<f64>,
    /// Seed of the random faults: the same seed gives the same faults.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub fault_seed: u64,
}

fn parse_probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a probability between 0 and 1")),
    }
}

impl FaultArgs {
    /// The faults these flags ask for ([`emulator::flag_faults`]).
    pub fn faults(&self) -> Faults {
        emulator::flag_faults(
            self.latency_ms.map(std::time::Duration::from_millis),
            self.fault_rate,
            self.fault_seed,
        )
    }
}

/// The environment `tagsync watch` reads besides the remote one.
pub const WATCH_ENV: &str = "\
Environment:
  WECOM_CALLBACK_TOKEN     the callback URL's Token (admin console: the app's API receiving settings)
  WECOM_CALLBACK_AES_KEY   its EncodingAESKey (43 characters)
  TAGSYNC_TRIGGER_TOKEN    sent as `Authorization: Bearer …` to --trigger-url, when set
  WECOM_CORP_ID, WECOM_CORP_SECRET, WECOM_API_BASE, TAGSYNC_RATE_SHARE,
  TAGSYNC_RETRY_BACKOFF_MS, NO_COLOR, RUST_LOG: as for `tagsync plan`";

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The desired-state file (read again before every plan).
    #[arg(short, long, default_value = "tags.yaml")]
    pub config: PathBuf,
    /// Address to receive WeCom's callbacks on (put a public HTTPS URL in front of it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The path of the callback URL.
    #[arg(long, default_value = "/wecom/callback")]
    pub path: String,
    /// Wait this long after the last event of a burst before reading the corp, in ms.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub debounce_ms: u64,
    /// POST the Markdown plan of each drift to this WeCom group-robot webhook (https;
    /// plain http only on loopback; redirects are not followed).
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
    /// POST `{"event_type":"tagsync-drift",…}` to this URL on each drift (a GitHub
    /// `repository_dispatch` URL, or a GitLab pipeline trigger URL with its token and ref;
    /// https, plain http only on loopback; redirects are not followed).
    #[arg(long, value_name = "URL")]
    pub trigger_url: Option<String>,
    /// The receive id the messages must carry (default: the corp id; a third-party
    /// app's is its suite id).
    #[arg(long)]
    pub receive_id: Option<String>,
    /// Allow up to N deleted or replaced tags past the safety gate.
    #[arg(long, value_name = "N")]
    pub allow_delete: Option<usize>,
    /// Put the corp back to the file when it drifts, as `tagsync plan --apply` would
    /// (the same gates: a blocked plan is reported, never applied). Off by default.
    #[arg(long)]
    pub apply_on_drift: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}
