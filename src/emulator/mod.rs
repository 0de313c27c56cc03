//! A faithful, stateful local WeCom server (axum) for tests and the demo.
//!
//! It shares only [`crate::wire`] with the client. [`start`] runs one in-process on a
//! free loopback port and returns an [`EmulatorHandle`]; `tagsync emulator` runs one
//! until stopped ([`cmd_emulator`]).
//!
//! Choices where WeCom's documentation is silent (see also `state` and `server`; the ones
//! about the tag calls are switchable, [`Profile`], and listed with their sources in
//! `docs/emulator-fidelity.md`):
//! - list order: larger `order` first, ties by earlier `create_time`, then creation order;
//! - unknown paths: HTTP 404 with an HTML page, no errcode; non-POST tag calls: 43002;
//! - list filters: ids that never existed are left out of the answer (no error);
//! - an edit that gives neither `name` nor `order`: 40058;
//! - deleting a group needs ownership of the group only (its tags go with it);
//! - items made with the legacy secret are owned by the legacy app's name: other apps
//!   may not change them;
//! - a name is checked only for length (1..=30 characters); no trimming;
//! - `gettoken` within a token's lifetime answers the same token with the seconds left
//!   (WeCom does so); other errors there: 40013 wrong corp id, 41002/41004 missing
//!   corp id/secret;
//! - the call log keeps the last [`CALL_LOG_CAP`] calls; unknown paths are not
//!   logged (they are no call kind);
//! - frequency window: fixed, one minute from the app's first call in it.
//! - `"group_id": ""` and unknown/deleted ids: 40068;
//! - a body that is not JSON, has wrong types, lacks a field or exceeds
//!   [`MAX_BODY_BYTES`]: 40058 (checked after the token).
//! - third-party apps ([`Suite`], `suites:` in the apps file): each suite has one fixed
//!   valid ticket and one permanent code, for this corp only, that gives tokens of one
//!   app of the corp (what they make that app owns). `get_suite_token` and
//!   `get_corp_token` are POST only (else 43002); suite tokens live as long as access
//!   tokens and are given again within their lifetime, like `gettoken`'s. Codes (the spec
//!   lists none; these are WeCom's global ones): unknown suite id 40086, wrong suite
//!   secret 40001, wrong ticket 40085, unknown suite token 40082, expired one 42009,
//!   a permanent code not of this suite or an `auth_corpid` not this corp 40084, a bad
//!   body 40058. `get_corp_token` answers `{access_token, expires_in}` only, with no
//!   errcode, as the spec says WeCom does.
//! - app access ([`AppAccess`], `manage_tags` and `allowed_ips` in the apps file):
//!   checked right after the token, before the method, the limits and the faults (a
//!   refused call uses up no scripted fault). Outside `allowed_ips`: 60020 on every tag
//!   call (token calls are not checked); IPv4-mapped IPv6 addresses match their IPv4
//!   form. Without `manage_tags`: 48002 on add, edit and delete; list works.
//! - the call log keeps no body of a token call (their bodies hold secrets).
//! - `WrongShape` answers are HTTP 200 JSON that does not fit the call's shape (per
//!   kind: `"access_token":12345`, `"tag_group":"oops"`, `"errcode":"0"`, …); `NotJson`
//!   is an HTTP 200 HTML page. Both answer instead of the call (nothing is committed).
//! - the admin console ([`CONSOLE_EDIT_PATH`], [`EmulatorHandle::console_edit`]): an
//!   `edit_corp_tag` body without a token, applied whoever owns the item (as a corp admin
//!   can in the WeCom console); it is no app's call, so it is not logged, limited or
//!   faulted, and the item keeps its owner.
//! - `tagsync emulator --fault-rate P`: random -1 and 6000 on the tag calls only, so
//!   that a call fails with probability P; token calls get none ([`flag_faults`]).

mod answer;
mod callbacks;
mod config;
mod faults;
mod hosts;
mod profile;
mod server;
mod shared;
mod state;
mod tokens;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    App, AppAccess, AppEntry, AppsFile, CallKind, CallbackTarget, EmulatorConfig, EmulatorError,
    SeedFile, SeedGroup, SeedTag, Suite, load_apps, load_seed, load_seed_file,
};
pub use faults::{FaultKind, Faults, KindFaults, Latency, ScriptedFault};
pub use hosts::{CorpEntry, CorpsFile, load_corps};
pub use profile::{
    DelInvalidIds, DeletedFalse, EmptyEdit, ExistingTagName, ForeignGroupAdds, ForeignGroupDelete,
    GroupDeletedFlag, ListTies, MergeOrder, NameCount, NameTrim, Profile, RuleGroupNames,
    UnknownLookupIds,
};
pub use server::{CONSOLE_EDIT_PATH, MAX_BODY_BYTES, STATE_PATH};
pub use shared::{CALL_LOG_CAP, CallRecord};
pub use state::MAX_NAME_CHARS;

/// A running emulator. Dropping it without [`EmulatorHandle::shutdown`] leaves the
/// server running until the runtime ends.
pub struct EmulatorHandle {
    addr: SocketAddr,
    /// The corp (the first, when it hosts several).
    shared: Arc<shared::Shared>,
    /// Every corp, when it hosts several.
    hosts: Option<Arc<hosts::Hosts>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts an emulator on a free port of 127.0.0.1.
pub async fn start(config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
    start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
}

/// Starts an emulator on `addr` (port 0: a free port).
pub async fn start_on(addr: SocketAddr, config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
    let shared = Arc::new(shared::Shared::new(config).map_err(invalid)?);
    serve(addr, server::router(shared.clone()), shared, None).await
}

/// Starts an emulator hosting several corps on `addr` (see `hosts`: a request's token or
/// corp id says which corp it is for).
pub async fn start_corps_on(
    addr: SocketAddr,
    configs: Vec<EmulatorConfig>,
) -> std::io::Result<EmulatorHandle> {
    let hosts = Arc::new(hosts::Hosts::new(configs).map_err(invalid)?);
    let first = hosts.corps[0].clone();
    serve(addr, hosts::router(hosts.clone()), first, Some(hosts)).await
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

async fn serve(
    addr: SocketAddr,
    router: axum::Router,
    shared: Arc<shared::Shared>,
    hosts: Option<Arc<hosts::Hosts>>,
) -> std::io::Result<EmulatorHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(EmulatorHandle {
        addr,
        shared,
        hosts,
        stop: Some(stop),
        task,
    })
}

impl EmulatorHandle {
    /// The API base, e.g. `http://127.0.0.1:PORT/cgi-bin/` (join `wire::path::*` onto it).
    pub fn base_url(&self) -> String {
        format!("http://{}/cgi-bin/", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live state with owners, in list order.
    pub fn dump(&self) -> Vec<SeedGroup> {
        self.shared.dump()
    }

    /// One corp of an emulator hosting several (`None`: no such corp; an emulator of one
    /// corp answers for its corp id only).
    fn corp(&self, corp_id: &str) -> Option<&shared::Shared> {
        match &self.hosts {
            Some(h) => h.corps.iter().find(|c| c.corp_id == corp_id).map(|c| &**c),
            None => (self.shared.corp_id == corp_id).then_some(&*self.shared),
        }
    }

    /// [`EmulatorHandle::dump`] of one corp.
    pub fn dump_corp(&self, corp_id: &str) -> Option<Vec<SeedGroup>> {
        self.corp(corp_id).map(|c| c.dump())
    }

    /// [`EmulatorHandle::calls`] of one corp.
    pub fn calls_corp(&self, corp_id: &str) -> Option<Vec<CallRecord>> {
        self.corp(corp_id).map(|c| c.calls())
    }

    /// Rename or reorder any item as the admin console would (see [`CONSOLE_EDIT_PATH`]);
    /// `Err` carries the errcode and message the API would answer.
    pub fn console_edit(&self, req: &crate::wire::EditTagRequest) -> Result<(), (i64, String)> {
        self.shared
            .console_edit(req)
            .map_err(|e| (e.errcode, e.errmsg))
    }

    /// Every call answered so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.calls()
    }

    /// Replaces the faults (scripts and random streams start afresh).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Makes every token issued so far answer 42001.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Stops the server; waits up to 5 s for calls in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// The corps of the files `tagsync emulator` takes: one corp ([`config_from_files`]), or
/// each corp of an apps file that lists `corps` (then `seed` must be `None`: each corp
/// names its own).
pub fn configs_from_files(
    seed: Option<&Path>,
    apps: Option<&Path>,
) -> Result<Vec<EmulatorConfig>, EmulatorError> {
    let corps = apps.map(load_corps).transpose()?.flatten();
    match (corps, apps) {
        (Some(_), Some(_)) if seed.is_some() => Err(EmulatorError::InvalidApps(
            "--seed is for an emulator of one corp: with `corps:`, give each corp its `seed:`"
                .into(),
        )),
        (Some(corps), Some(path)) => corps.configs(path.parent().unwrap_or(Path::new(""))),
        _ => Ok(vec![config_from_files(seed, apps)?]),
    }
}

/// The configuration of the files `tagsync emulator` takes: defaults, then the apps file
/// (corp id, apps, limits), then the seed.
pub fn config_from_files(
    seed: Option<&Path>,
    apps: Option<&Path>,
) -> Result<EmulatorConfig, EmulatorError> {
    let mut config = EmulatorConfig::default();
    if let Some(path) = apps {
        load_apps(path)?.apply_to(&mut config);
    }
    if let Some(path) = seed {
        let file = load_seed_file(path)?;
        config.seed = file.tag_group;
        config.rule_groups = file.strategy;
    }
    Ok(config)
}

/// The faults of `tagsync emulator`'s flags: a fixed `latency`, and random refusals of
/// the tag calls with probability `rate`. The random mix is of errcodes that prove nothing
/// was done (-1, 6000), in equal parts, so that together they fire with the given rate;
/// 45009, 45033 and HTTP errors are left out because they change the client's pacing or
/// make an add ambiguous (the [`Faults`] builder has them).
pub fn flag_faults(latency: Option<Duration>, rate: Option<f64>, seed: u64) -> Faults {
    let mut faults = Faults::none().with_seed(seed);
    if let Some(latency) = latency {
        faults = faults.latency_all(latency, Duration::ZERO);
    }
    if let Some(rate) = rate.filter(|p| *p > 0.0) {
        let mix = [FaultKind::SystemBusy, FaultKind::VersionConflict];
        // Checked in turn, the first that fires wins: each fires with q so that
        // 1 - (1 - q)^n = rate.
        let q = 1.0 - (1.0 - rate).powf(1.0 / mix.len() as f64);
        for kind in CallKind::TAG_CALLS {
            for fault in mix {
                faults = faults.random(kind, fault, q);
            }
        }
    }
    faults
}
