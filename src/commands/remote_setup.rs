//! Reaching the corp: a [`Client`] from the remote arguments, or an in-process emulator.
//!
//! Decisions:
//! - `--emulator SEED` starts an emulator seeded from SEED with the default emulator
//!   apps ([`emulator::config_from_files`]`(SEED, None)`) and logs in as its `tagsync` app;
//!   `--api-base`, `WECOM_API_BASE` and the credential variables are then ignored.
//! - The ledger with `--emulator`: the seed says which items the `tagsync` app created
//!   (`owner`), and those are owned, as if the ledger of a past apply were present; a
//!   `--state` file, when given, is read and added to that. Without `--state`, nothing is
//!   written to disk by `plan` (a demo leaves no files behind).
//! - Otherwise the ledger is `--state`, or [`Ledger::default_path`] beside the config file.
//! - **One app per ledger:** the app is fingerprinted from its credentials
//!   ([`ledger::app_fingerprint`] of the secret; of the suite id for a third-party app,
//!   whose permanent code differs per corp but whose suite is the app). A ledger on disk
//!   written by another app is refused by [`load_ledger`] before any call that writes.

use std::path::{Path, PathBuf};

use super::CommandError;
use super::args::RemoteArgs;
use crate::emulator::{self, EmulatorHandle};
use crate::ledger::{self, Ledger, LedgerLock};
use crate::remote::{Client, ClientConfig, Credentials, ErrorKind, Secret, Snapshot};
use crate::sanitize::for_terminal;
use crate::wire;

/// The emulator app tagsync logs in as with `--emulator`.
pub const EMULATOR_APP: &str = "tagsync";

/// A connected corp: the client, the corp id, and the emulator when one was started.
#[derive(Debug)]
pub struct Remote {
    pub client: Client,
    pub corp_id: String,
    /// Ids the seed records as created by the `tagsync` app (`--emulator` only).
    pub seeded_owned: Vec<String>,
    /// The fingerprint of the app these credentials belong to (never the secret).
    pub app: String,
    emulator: Option<EmulatorHandle>,
}

/// The app fingerprint of `credentials` (see the module docs).
pub fn app_of(credentials: &Credentials) -> String {
    match credentials {
        Credentials::Corp { corp_id, secret } => ledger::app_fingerprint(corp_id, secret.expose()),
        Credentials::Suite {
            suite_id,
            auth_corp_id,
            ..
        } => ledger::app_fingerprint(auth_corp_id, &format!("suite:{suite_id}")),
    }
}

impl Remote {
    /// Whether this corp is an in-process emulator.
    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// Stop the emulator, if one was started.
    pub async fn shutdown(self) {
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
    }
}

impl Remote {
    /// A corp reached with `config` (no emulator).
    pub fn from_config(config: ClientConfig) -> Result<Remote, CommandError> {
        Ok(Remote::from_client(Client::new(config)?))
    }

    /// A corp reached with `client` (no emulator).
    pub fn from_client(client: Client) -> Remote {
        let credentials = &client.config().credentials;
        let corp_id = match credentials {
            Credentials::Corp { corp_id, .. } => corp_id.clone(),
            Credentials::Suite { auth_corp_id, .. } => auth_corp_id.clone(),
        };
        let app = app_of(credentials);
        Remote {
            client,
            corp_id,
            seeded_owned: Vec::new(),
            app,
            emulator: None,
        }
    }
}

/// Build the client (and start the emulator for `--emulator`). Call inside a runtime.
pub async fn connect(args: &RemoteArgs) -> Result<Remote, CommandError> {
    let Some(seed) = &args.emulator else {
        let config = ClientConfig::from_env(args.api_base.as_deref(), args.secret_file.as_deref())?;
        return Remote::from_config(config);
    };
    let config = emulator::config_from_files(Some(seed), None)?;
    let app = config
        .apps
        .iter()
        .find(|a| a.name == EMULATOR_APP)
        .ok_or_else(|| {
            CommandError::Other(format!("the emulator has no app named `{EMULATOR_APP}`"))
        })?;
    let credentials = Credentials::Corp {
        corp_id: config.corp_id.clone(),
        secret: Secret::new(app.secret.clone()),
    };
    let corp_id = config.corp_id.clone();
    let app = app_of(&credentials);
    let seeded_owned = config
        .seed
        .iter()
        .flat_map(|g| {
            let group = (g.owner.as_deref() == Some(EMULATOR_APP)).then(|| g.group_id.clone());
            let tags = g
                .tag
                .iter()
                .filter(|t| t.owner.as_deref() == Some(EMULATOR_APP))
                .map(|t| t.id.clone());
            group.into_iter().chain(tags)
        })
        .collect();
    let handle = emulator::start(config).await.map_err(|e| {
        CommandError::Other(format!(
            "cannot start the emulator for {}: {e}",
            seed.display()
        ))
    })?;
    let client = Client::new(ClientConfig::new(&handle.base_url(), credentials)?)?;
    Ok(Remote {
        client,
        corp_id,
        seeded_owned,
        app,
        emulator: Some(handle),
    })
}

/// Where the ledger lives: `--state`, else beside the config file. `None` with
/// `--emulator` and no `--state` (in memory only).
pub fn ledger_path(args: &RemoteArgs, config: &Path, corp_id: &str) -> Option<PathBuf> {
    match (&args.state, &args.emulator) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(Ledger::default_path(config, corp_id)),
    }
}

/// For a run that may write the ledger: lock it (see [`LedgerLock`]) before reading it;
/// `None` when the ledger lives in memory.
pub fn lock_ledger(
    args: &RemoteArgs,
    config: &Path,
    remote: &Remote,
) -> Result<Option<LedgerLock>, CommandError> {
    Ok(ledger_path(args, config, &remote.corp_id)
        .map(|p| LedgerLock::acquire(&p))
        .transpose()?)
}

/// The ledger of the corp (see the module docs for `--emulator`), and its path. A
/// ledger written by another app is refused ([`ledger::LedgerError::OtherApp`]); one that
/// names no app yet records this one (saved with the next write).
pub fn load_ledger(
    args: &RemoteArgs,
    config: &Path,
    remote: &Remote,
) -> Result<(Ledger, Option<PathBuf>), CommandError> {
    load_ledger_at(ledger_path(args, config, &remote.corp_id), remote)
}

/// [`load_ledger`] from an explicit path (`None`: in memory only).
pub fn load_ledger_at(
    path: Option<PathBuf>,
    remote: &Remote,
) -> Result<(Ledger, Option<PathBuf>), CommandError> {
    let (mut ledger, path) = read_ledger(path, remote)?;
    if let Some(p) = &path {
        ledger.check_app(&remote.app, p)?;
    }
    Ok((ledger, path))
}

/// [`load_ledger`] without the app check (for `tagsync ledger rebind`).
pub fn load_ledger_of_any_app(
    args: &RemoteArgs,
    config: &Path,
    remote: &Remote,
) -> Result<(Ledger, Option<PathBuf>), CommandError> {
    read_ledger(ledger_path(args, config, &remote.corp_id), remote)
}

/// The ledger at `path` (`None`: a new one in memory) with the seed's owned ids.
fn read_ledger(
    path: Option<PathBuf>,
    remote: &Remote,
) -> Result<(Ledger, Option<PathBuf>), CommandError> {
    let mut ledger = match &path {
        Some(p) => Ledger::load(p, &remote.corp_id)?,
        None => Ledger::new(remote.corp_id.clone()),
    };
    ledger.record(remote.seeded_owned.iter().cloned());
    Ok((ledger, path))
}

/// A live item to probe: its id, order and how to show it.
struct Probe {
    id: String,
    order: u32,
    label: String,
}

/// Up to `n` live items to probe (tags first) that the ledger owns (`mine`) or not.
fn probes(snap: &Snapshot, mine: bool, ledger: &Ledger, n: usize) -> Vec<Probe> {
    let tags = snap.groups.iter().flat_map(|g| {
        g.tags
            .iter()
            .filter(move |t| ledger.owned.contains(&t.id) == mine)
            .map(move |t| Probe {
                id: t.id.clone(),
                order: t.order,
                label: format!(
                    "tag {} / {} ({})",
                    for_terminal(&g.name),
                    for_terminal(&t.name),
                    for_terminal(&t.id)
                ),
            })
    });
    let groups = snap
        .groups
        .iter()
        .filter(|g| ledger.owned.contains(&g.id) == mine)
        .map(|g| Probe {
            id: g.id.clone(),
            order: g.order,
            label: format!("group {} ({})", for_terminal(&g.name), for_terminal(&g.id)),
        });
    tags.chain(groups).take(n).collect()
}

/// Whether a no-op edit (the order it has) of `p` is accepted: `Some(true)` yes,
/// `Some(false)` refused as not this app's; any other failure is an error.
async fn may_edit(remote: &Remote, p: &Probe) -> Result<bool, CommandError> {
    let req = wire::EditTagRequest {
        id: p.id.clone(),
        name: None,
        order: Some(p.order),
        agentid: None,
    };
    match remote.client.edit(&req).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::Ownership => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// What probing a secret found ([`same_app`]).
#[derive(Debug)]
pub enum AppCheck {
    /// The ledger owns nothing live: nothing could be checked.
    Nothing,
    /// It may edit `0` (owned), and was refused an item the ledger does not own: the
    /// ledger's app, certainly.
    Same(String),
    /// It may edit `0` (owned) and every item tried that the ledger does not own (`1` of
    /// them): the ledger's app, if that app made those too, or the legacy all-powerful
    /// secret, which is no app's.
    SameOrLegacy(String, usize),
}

/// How many items the ledger does not own a check tries (no-op edits) before it
/// calls a secret possibly the legacy one.
const FOREIGN_PROBES: usize = 5;

/// Check that the secret `remote` uses is the app that made what `ledger` owns (see
/// `rebind`): a no-op edit of an owned item must be accepted (else an error naming it);
/// with `foreign`, then edits of items the ledger does not own tell a normal app (one is
/// refused) from one that may edit everything tried.
pub async fn same_app(
    remote: &Remote,
    ledger: &Ledger,
    snapshot: &Snapshot,
    foreign: bool,
) -> Result<AppCheck, CommandError> {
    let Some(mine) = probes(snapshot, true, ledger, 1).into_iter().next() else {
        return Ok(AppCheck::Nothing);
    };
    if !may_edit(remote, &mine).await? {
        return Err(CommandError::Other(format!(
            "this secret may not edit {}, which the ledger's app created: it belongs to another app. Nothing was changed; use the secret of the app that created the tags",
            mine.label
        )));
    }
    if !foreign {
        return Ok(AppCheck::Same(mine.label));
    }
    let theirs = probes(snapshot, false, ledger, FOREIGN_PROBES);
    for p in &theirs {
        if !may_edit(remote, p).await? {
            return Ok(AppCheck::Same(mine.label));
        }
    }
    Ok(AppCheck::SameOrLegacy(mine.label, theirs.len()))
}

/// Before a run writes: when [`load_ledger`] just recorded this app for a ledger that
/// owns ids without naming its app (format 1, or written before apps were recorded),
/// check with [`same_app`] that it is the app that made them; then the record stands.
pub async fn verify_new_app(
    remote: &Remote,
    ledger: &mut Ledger,
    snapshot: &Snapshot,
) -> Result<(), CommandError> {
    if !ledger.read_as.app_unverified {
        return Ok(());
    }
    same_app(remote, ledger, snapshot, false).await.map_err(|e| {
        CommandError::Other(format!(
            "the ownership ledger names no app yet, and this secret is not the app that made what it owns: {e}"
        ))
    })?;
    ledger.read_as.app_unverified = false;
    Ok(())
}
