//! The state the server's handlers and the [`EmulatorHandle`](super::EmulatorHandle)
//! share: the corp, the apps and their tokens, the limits' counters, the faults and the
//! call log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::config::{App, AppAccess, CallKind, EmulatorConfig, Suite};
use super::faults::FaultState;
use super::faults::{FaultKind, Faults};
use super::state::{ApiError, Caller, Corp};
use crate::wire;

/// The name the admin console acts under (it never owns anything).
const CONSOLE: &str = "admin console";

/// An access token (of an app) or a suite access token (of a suite).
pub(super) struct Token {
    /// The index of the app, or of the suite.
    pub(super) app: usize,
    pub(super) issued: Instant,
    pub(super) revoked: bool,
}

/// One call as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub kind: CallKind,
    /// The app whose token (or secret) was used; `None` when unknown.
    pub app: Option<String>,
    /// The JSON request body (`Null` for the token calls, whose bodies hold secrets, and
    /// for bodies that are not JSON).
    pub body: serde_json::Value,
    /// The errcode answered (for a committed call whose answer was spoiled: the errcode it
    /// would have had); `None` when the answer had no integer errcode (HTTP 500/502, an
    /// HTML page, a wrong shape, a successful `get_corp_token`).
    pub errcode: Option<i64>,
    pub fault: Option<FaultKind>,
}

/// Everything the server and the handle share.
pub(crate) struct Shared {
    pub(super) corp_id: String,
    pub(super) apps: Vec<App>,
    /// By app index.
    pub(super) access: Vec<AppAccess>,
    pub(super) suites: Vec<Suite>,
    pub(super) token_lifetime: Duration,
    pub(super) rate_limit: Option<u32>,
    pub(super) concurrency_limit: Option<usize>,
    pub(super) corp: Mutex<Corp>,
    pub(super) tokens: Mutex<HashMap<String, Token>>,
    pub(super) suite_tokens: Mutex<HashMap<String, Token>>,
    pub(super) windows: Mutex<HashMap<usize, (Instant, u32)>>,
    pub(super) in_flight: Mutex<HashMap<usize, usize>>,
    pub(super) faults: Mutex<FaultState>,
    pub(super) calls: Mutex<VecDeque<CallRecord>>,
    /// Change callbacks, when configured.
    pub(super) callbacks: Option<super::callbacks::Sender>,
    /// Put before every token this corp issues (`c7.` for the eighth corp of an emulator
    /// hosting several: the token tells which corp a call is for); empty for one corp.
    pub(super) token_prefix: String,
}

/// The call log keeps the most recent calls only, so a long-running emulator stays small.
pub const CALL_LOG_CAP: usize = 100_000;

/// Locks a mutex; a poisoned one still holds consistent data (every change is made in
/// one step after all checks), so its content is used.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Result<Self, String> {
        config.validate_apps().map_err(|e| e.to_string())?;
        let corp = Corp::with_profile(&config.seed, config.tag_limit, config.profile)?
            .with_rule_groups(config.rule_groups.clone())?;
        let callbacks = match &config.callback {
            Some(target) => Some(super::callbacks::Sender::start(target, &config.corp_id)?),
            None => None,
        };
        let access = config
            .apps
            .iter()
            .map(|a| config.access.get(&a.name).cloned().unwrap_or_default())
            .collect();
        Ok(Shared {
            corp_id: config.corp_id,
            apps: config.apps,
            access,
            suites: config.suites,
            token_lifetime: config.token_lifetime,
            rate_limit: config.rate_limit_per_minute,
            concurrency_limit: config.concurrency_limit,
            corp: Mutex::new(corp),
            tokens: Mutex::new(HashMap::new()),
            suite_tokens: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultState::new(config.faults)),
            calls: Mutex::new(VecDeque::new()),
            callbacks,
            token_prefix: String::new(),
        })
    }

    pub(crate) fn dump(&self) -> Vec<super::SeedGroup> {
        lock(&self.corp).dump()
    }

    /// The whole state in the seed file's shape: tag groups (with owners) and rule groups.
    pub(crate) fn seed_file(&self) -> super::SeedFile {
        let corp = lock(&self.corp);
        super::SeedFile {
            strategy: corp.rule_groups().to_vec(),
            ..super::SeedFile::new(corp.dump())
        }
    }

    pub(crate) fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).iter().cloned().collect()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = FaultState::new(faults);
    }

    /// A rename or reorder made in the admin console: allowed on any item, whoever
    /// created it; not a call of any app (not logged, no limits, no faults).
    pub(crate) fn console_edit(&self, req: &wire::EditTagRequest) -> Result<(), ApiError> {
        let console = Caller {
            app: CONSOLE.into(),
            legacy: true,
        };
        let mut corp = lock(&self.corp);
        corp.edit_any(req, &console)?;
        self.changed(&corp, Change::Edit(&req.id));
        Ok(())
    }

    /// Send the callbacks of a change that was made (nothing when none are configured).
    pub(super) fn changed(&self, corp: &Corp, change: Change<'_>) {
        let Some(sender) = &self.callbacks else {
            return;
        };
        let events = match change {
            Change::Added { group, new_group } => {
                let mut v = Vec::new();
                if new_group {
                    v.push((group.group_id.clone(), "tag_group", "create"));
                }
                v.extend(group.tag.iter().map(|t| (t.id.clone(), "tag", "create")));
                v
            }
            Change::Edit(id) => {
                vec![(id.to_string(), corp.kind_of(id).unwrap_or("tag"), "update")]
            }
            Change::Deleted { groups, tags } => groups
                .iter()
                .map(|g| (g.clone(), "tag_group", "delete"))
                .chain(tags.iter().map(|t| (t.clone(), "tag", "delete")))
                .collect(),
        };
        let events = events
            .into_iter()
            .map(|(id, tag_type, change)| {
                let strategy = corp.strategy_of(&id);
                (id, tag_type, change, strategy)
            })
            .collect();
        sender.send(events);
    }

    pub(crate) fn expire_tokens(&self) {
        for map in [&self.tokens, &self.suite_tokens] {
            for t in lock(map).values_mut() {
                t.revoked = true;
            }
        }
    }

    pub(super) fn record(&self, rec: CallRecord) {
        let mut calls = lock(&self.calls);
        if calls.len() >= CALL_LOG_CAP {
            calls.pop_front();
        }
        calls.push_back(rec);
    }
}

/// A change made, as the callbacks describe it.
pub(super) enum Change<'a> {
    Added {
        group: &'a wire::TagGroup,
        new_group: bool,
    },
    Edit(&'a str),
    Deleted {
        groups: &'a [String],
        tags: &'a [String],
    },
}
