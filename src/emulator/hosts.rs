//! Several corps in one emulator (`corps:` in the apps file), so that a fleet is tested
//! end to end against one server.
//!
//! Each corp is a whole emulator state of its own ([`Shared`]: its apps, suites, tokens,
//! limits, faults and call log); this layer only picks the corp of each request:
//! - `gettoken`: the `corpid` of the query (an unknown one goes to the first corp, which
//!   answers 40013);
//! - the tag calls: the token, which starts with its corp's mark (`c7.` for the eighth
//!   corp; a token without a known mark goes to the first corp, which refuses it);
//! - `get_suite_token`: the first corp the suite is installed in;
//! - `get_corp_token`: the `auth_corpid` of the body. A suite token is valid in every
//!   corp the suite is installed in, as WeCom's is: the one given is exchanged for the
//!   same suite's token of that corp before the corp checks the permanent code.
//! - `GET /emulator/state?corpid=…` and `POST /emulator/console/edit_corp_tag?corpid=…`:
//!   that corp (the first without `corpid`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::routing::any;
use serde::{Deserialize, Serialize};

use super::answer::{html_response, parse_query};
use super::config::{
    AppEntry, AppsFile, CallKind, EmulatorConfig, EmulatorError, SeedFile, Suite, load_seed_file,
};
use super::profile::Profile;
use super::server::{AppState, DRAIN_BODY_BYTES, tag_call, token_call};
use super::shared::Shared;
use crate::wire;

/// An apps file that lists corps: each corp its apps, suites and seed; the limits at the
/// top apply to every corp.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpsFile {
    pub corps: Vec<CorpEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<usize>,
    /// Every corp's, unless the corp gives its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// One corp of a [`CorpsFile`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpEntry {
    pub corp_id: String,
    pub apps: Vec<AppEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<Suite>,
    /// A seed snapshot, relative to the apps file (several corps may share one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

impl CorpsFile {
    /// One configuration per corp; seeds are read relative to `dir` (each file once).
    pub fn configs(self, dir: &Path) -> Result<Vec<EmulatorConfig>, EmulatorError> {
        let mut seeds: HashMap<PathBuf, SeedFile> = HashMap::new();
        let mut out = Vec::with_capacity(self.corps.len());
        for corp in self.corps {
            let mut config = EmulatorConfig::default();
            AppsFile {
                corp_id: corp.corp_id,
                apps: corp.apps,
                suites: corp.suites,
                token_lifetime_secs: self.token_lifetime_secs,
                tag_limit: corp.tag_limit,
                rate_limit_per_minute: self.rate_limit_per_minute,
                concurrency_limit: self.concurrency_limit,
                profile: corp.profile.or(self.profile),
                callback: None,
            }
            .apply_to(&mut config);
            if let Some(seed) = corp.seed {
                let path = dir.join(seed);
                if !seeds.contains_key(&path) {
                    let file = load_seed_file(&path)?;
                    seeds.insert(path.clone(), file);
                }
                if let Some(file) = seeds.get(&path) {
                    config.seed = file.tag_group.clone();
                    config.rule_groups = file.strategy.clone();
                }
            }
            out.push(config);
        }
        Ok(out)
    }
}

/// The corps one emulator hosts.
pub(crate) struct Hosts {
    pub(crate) corps: Vec<Arc<Shared>>,
    by_id: HashMap<String, usize>,
}

impl Hosts {
    pub(crate) fn new(configs: Vec<EmulatorConfig>) -> Result<Self, String> {
        if configs.is_empty() {
            return Err("no corps: give at least one".into());
        }
        let mut corps = Vec::with_capacity(configs.len());
        let mut by_id = HashMap::new();
        for (i, config) in configs.into_iter().enumerate() {
            let id = config.corp_id.clone();
            if by_id.insert(id.clone(), i).is_some() {
                return Err(format!("corp id {id:?} is listed twice"));
            }
            let mut shared = Shared::new(config).map_err(|e| format!("corp {id:?}: {e}"))?;
            shared.token_prefix = format!("c{i}.");
            corps.push(Arc::new(shared));
        }
        Ok(Hosts { corps, by_id })
    }

    fn by_corp(&self, corp_id: Option<&String>) -> Option<&Arc<Shared>> {
        match corp_id {
            None => self.corps.first(),
            Some(id) => self.by_id.get(id).map(|&i| &self.corps[i]),
        }
    }

    /// The corp that issued `token` (the first when none did).
    fn by_token(&self, token: Option<&String>) -> &Arc<Shared> {
        let index = token
            .and_then(|t| t.strip_prefix('c')?.split_once('.'))
            .and_then(|(i, _)| i.parse::<usize>().ok());
        index
            .and_then(|i| self.corps.get(i))
            .unwrap_or(&self.corps[0])
    }

    /// `get_corp_token`: the corp of `auth_corpid`, and the query with the suite token
    /// exchanged for the same suite's token in that corp (when the given one is live).
    fn corp_token_route(&self, query: Option<String>, body: &[u8]) -> (AppState, Option<String>) {
        let target = serde_json::from_slice::<wire::CorpTokenRequest>(body)
            .ok()
            .and_then(|r| self.by_id.get(&r.auth_corpid).copied())
            .map_or_else(|| self.corps[0].clone(), |i| self.corps[i].clone());
        let parsed = parse_query(query.clone());
        let token = parsed.get("suite_access_token");
        let issuer = self.by_token(token);
        let suite_id = token
            .and_then(|t| issuer.owner_of(&issuer.suite_tokens, t))
            .flatten()
            .map(|i| issuer.suites[i].suite_id.clone());
        let exchanged = suite_id
            .and_then(|id| target.suites.iter().position(|s| s.suite_id == id))
            .map(|i| {
                format!(
                    "suite_access_token={}",
                    target.issue(&target.suite_tokens, i).0
                )
            });
        (target, exchanged.or(query))
    }
}

/// Reads the apps file at `path` as a [`CorpsFile`] when it lists `corps`; `None` when it
/// is an apps file of one corp.
pub fn load_corps(path: &Path) -> Result<Option<CorpsFile>, EmulatorError> {
    let text = super::config::read_text(path)?;
    let keys: Result<BTreeMap<String, serde::de::IgnoredAny>, _> = serde_saphyr::from_str(&text);
    if !keys.is_ok_and(|k| k.contains_key("corps")) {
        return Ok(None);
    }
    serde_saphyr::from_str(&text)
        .map(Some)
        .map_err(|e| super::config::apps_format(path, &e))
}

/// The router of an emulator hosting `hosts`: the routes of one corp's (`server`), each
/// request handed to its corp.
pub(crate) fn router(hosts: Arc<Hosts>) -> Router {
    let route = |kind: CallKind| {
        any(
            move |State(h): State<Arc<Hosts>>,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  method: Method,
                  RawQuery(q): RawQuery,
                  body: Body| async move {
                let raw = axum::body::to_bytes(body, DRAIN_BODY_BYTES).await;
                let query = parse_query(q.clone());
                match kind {
                    CallKind::GetToken => {
                        let s = h.by_corp(query.get("corpid")).unwrap_or(&h.corps[0]);
                        token_call(s.clone(), kind, method, q, raw.unwrap_or_default()).await
                    }
                    CallKind::GetSuiteToken => {
                        let raw = raw.unwrap_or_default();
                        let suite = serde_json::from_slice::<wire::SuiteTokenRequest>(&raw).ok();
                        let s = suite
                            .and_then(|r| {
                                h.corps
                                    .iter()
                                    .find(|c| c.suites.iter().any(|s| s.suite_id == r.suite_id))
                            })
                            .unwrap_or(&h.corps[0]);
                        token_call(s.clone(), kind, method, q, raw).await
                    }
                    CallKind::GetCorpToken => {
                        let raw = raw.unwrap_or_default();
                        let (s, q) = h.corp_token_route(q, &raw);
                        token_call(s, kind, method, q, raw).await
                    }
                    _ => {
                        let s = h.by_token(query.get("access_token")).clone();
                        tag_call(s, kind, peer.ip(), method, q, raw).await
                    }
                }
            },
        )
    };
    let path = |kind: CallKind| format!("/cgi-bin/{}", kind.path());
    let corp_of = |h: &Hosts, q: Option<String>| h.by_corp(parse_query(q).get("corpid")).cloned();
    CallKind::ALL
        .into_iter()
        .fold(Router::new(), |r, kind| r.route(&path(kind), route(kind)))
        .route(
            super::STATE_PATH,
            axum::routing::get(
                move |State(h): State<Arc<Hosts>>, RawQuery(q): RawQuery| async move {
                    match corp_of(&h, q) {
                        Some(s) => axum::Json(super::SeedFile::new(s.dump())).into_response(),
                        None => html_response(StatusCode::NOT_FOUND, "no such corp"),
                    }
                },
            ),
        )
        .route(
            super::CONSOLE_EDIT_PATH,
            axum::routing::post(
                move |State(h): State<Arc<Hosts>>, RawQuery(q): RawQuery, body: Body| async move {
                    let raw = axum::body::to_bytes(body, super::MAX_BODY_BYTES).await;
                    let req = raw.ok().and_then(|b| serde_json::from_slice(&b).ok());
                    let answer = match (corp_of(&h, q), req) {
                        (None, _) => serde_json::json!({"errcode": 40013, "errmsg": "invalid corpid"}),
                        (_, None) => serde_json::json!({"errcode": 40058, "errmsg": "the body is not an edit_corp_tag body"}),
                        (Some(s), Some(req)) => match s.console_edit(&req) {
                            Ok(()) => serde_json::json!({"errcode": 0, "errmsg": "ok"}),
                            Err(e) => serde_json::json!({"errcode": e.errcode, "errmsg": e.errmsg}),
                        },
                    };
                    axum::Json(answer).into_response()
                },
            ),
        )
        .fallback(|| async { html_response(StatusCode::NOT_FOUND, "404 Not Found") })
        .with_state(hosts)
}

use axum::response::IntoResponse;
