//! The HTTP face of the emulator: routes, token auth, limits, the fault layer, the call log.
//!
//! Answers are HTTP 200 with `errcode`/`errmsg` as WeCom gives them, except: unknown paths
//! get HTTP 404 with an HTML page (as a web front end would answer; no errcode), a
//! successful `get_corp_token` (no errcode, as WeCom answers it), and the injected faults
//! (500, 502 HTML, 200 HTML, JSON of the wrong shape, truncated JSON, dropped connection).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::config::{
    App, AppAccess, CallKind, EmulatorConfig, FaultKind, Faults, ScriptedFault, Suite,
};
use super::state::{ApiError, Caller, Corp};
use crate::wire::{self, errcode};

/// Bodies up to this size are read; larger ones answer 40058.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Bodies are drained up to this size so the client can read the answer.
const DRAIN_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Codes the emulator answers that the client does not branch on.
const INVALID_CORPID: i64 = 40013;
const MISSING_CORPID: i64 = 41002;
const MISSING_SECRET: i64 = 41004;
const REQUIRE_POST: i64 = 43002;

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

/// An access token (of an app) or a suite access token (of a suite).
struct Token {
    /// The index of the app, or of the suite.
    app: usize,
    issued: Instant,
    revoked: bool,
}

struct FaultState {
    faults: Faults,
    scripted: VecDeque<ScriptedFault>,
    rngs: HashMap<CallKind, StdRng>,
}

impl FaultState {
    fn new(faults: Faults) -> Self {
        let rngs = CallKind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let seed = faults.seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1));
                (*k, StdRng::seed_from_u64(seed))
            })
            .collect();
        FaultState {
            scripted: faults.scripted.iter().cloned().collect(),
            faults,
            rngs,
        }
    }

    /// The latency and the fault (if any) of the next call of `kind`.
    fn decide(&mut self, kind: CallKind) -> (Duration, Option<FaultKind>) {
        let mut fault = None;
        if let Some(pos) = self
            .scripted
            .iter()
            .position(|s| s.kind == kind && s.count > 0)
        {
            let s = &mut self.scripted[pos];
            s.count -= 1;
            fault = Some(s.fault);
            if s.count == 0 {
                self.scripted.remove(pos);
            }
        }
        let Some(kf) = self.faults.per_kind.get(&kind) else {
            return (Duration::ZERO, fault);
        };
        let Some(rng) = self.rngs.get_mut(&kind) else {
            return (kf.latency.fixed, fault);
        };
        let jitter_ns = u64::try_from(kf.latency.jitter.as_nanos()).unwrap_or(u64::MAX);
        let latency = kf.latency.fixed + Duration::from_nanos(rng.random_range(0..=jitter_ns));
        for (f, p) in &kf.random {
            let fired = rng.random_bool(p.clamp(0.0, 1.0));
            if fired && fault.is_none() {
                fault = Some(*f);
            }
        }
        (latency, fault)
    }
}

/// Everything the server and the handle share.
pub(crate) struct Shared {
    corp_id: String,
    apps: Vec<App>,
    /// By app index.
    access: Vec<AppAccess>,
    suites: Vec<Suite>,
    token_lifetime: Duration,
    rate_limit: Option<u32>,
    concurrency_limit: Option<usize>,
    corp: Mutex<Corp>,
    tokens: Mutex<HashMap<String, Token>>,
    suite_tokens: Mutex<HashMap<String, Token>>,
    windows: Mutex<HashMap<usize, (Instant, u32)>>,
    in_flight: Mutex<HashMap<usize, usize>>,
    faults: Mutex<FaultState>,
    calls: Mutex<VecDeque<CallRecord>>,
}

/// The call log keeps the most recent calls only, so a long-running emulator stays small.
pub const CALL_LOG_CAP: usize = 100_000;

/// Locks a mutex; a poisoned one still holds consistent data (every change is made in
/// one step after all checks), so its content is used.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Result<Self, String> {
        config.validate_apps().map_err(|e| e.to_string())?;
        let corp = Corp::from_seed(&config.seed, config.tag_limit)?;
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
        })
    }

    pub(crate) fn dump(&self) -> Vec<super::SeedGroup> {
        lock(&self.corp).dump()
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
        lock(&self.corp).edit(req, &console)
    }

    pub(crate) fn expire_tokens(&self) {
        for map in [&self.tokens, &self.suite_tokens] {
            for t in lock(map).values_mut() {
                t.revoked = true;
            }
        }
    }

    fn record(&self, rec: CallRecord) {
        let mut calls = lock(&self.calls);
        if calls.len() >= CALL_LOG_CAP {
            calls.pop_front();
        }
        calls.push_back(rec);
    }

    /// The app a token belongs to.
    fn authenticate(&self, query: &HashMap<String, String>) -> Result<usize, ApiError> {
        let token = match query.get("access_token") {
            Some(t) if !t.is_empty() => t,
            _ => {
                return Err(ApiError::new(
                    errcode::MISSING_ACCESS_TOKEN,
                    "access_token missing",
                ));
            }
        };
        match self.owner_of(&self.tokens, token) {
            None => Err(ApiError::new(
                errcode::INVALID_ACCESS_TOKEN,
                "invalid access_token",
            )),
            Some(None) => Err(ApiError::new(
                errcode::ACCESS_TOKEN_EXPIRED,
                "access_token expired",
            )),
            Some(Some(app)) => Ok(app),
        }
    }

    /// Whose token this is: `None` unknown, `Some(None)` expired or revoked.
    fn owner_of(&self, map: &Mutex<HashMap<String, Token>>, token: &str) -> Option<Option<usize>> {
        let map = lock(map);
        let t = map.get(token)?;
        let live = !t.revoked && t.issued.elapsed() < self.token_lifetime;
        Some(live.then_some(t.app))
    }

    /// The app's trusted IPs (60020) and its tag-management permission (48002).
    fn check_access(&self, app: usize, kind: CallKind, peer: IpAddr) -> Result<(), ApiError> {
        let Some(access) = self.access.get(app) else {
            return Ok(());
        };
        let peer = peer.to_canonical();
        if let Some(ips) = &access.allowed_ips
            && !ips.iter().any(|ip| ip.to_canonical() == peer)
        {
            return Err(ApiError::new(
                errcode::IP_NOT_TRUSTED,
                format!("not allow to access from your ip {peer}: not in the app's trusted IPs"),
            ));
        }
        if kind != CallKind::List && !access.manage_tags {
            return Err(ApiError::new(
                errcode::API_NOT_PERMITTED,
                "api forbidden: the app may not manage corp customer tags",
            ));
        }
        Ok(())
    }

    /// 45009 when the app has used up its calls of the current minute.
    fn check_rate(&self, app: usize) -> Result<(), ApiError> {
        let Some(limit) = self.rate_limit else {
            return Ok(());
        };
        let mut windows = lock(&self.windows);
        let now = Instant::now();
        let w = windows.entry(app).or_insert((now, 0));
        if now.duration_since(w.0) >= Duration::from_secs(60) {
            *w = (now, 0);
        }
        w.1 += 1;
        if w.1 > limit {
            return Err(ApiError::new(
                errcode::FREQUENCY_LIMIT,
                format!("api freq out of limit: more than {limit} calls per minute"),
            ));
        }
        Ok(())
    }

    fn gettoken(&self, query: &HashMap<String, String>) -> (Option<usize>, Result<Json, ApiError>) {
        let corp_id = query.get("corpid").filter(|s| !s.is_empty());
        let secret = query.get("corpsecret").filter(|s| !s.is_empty());
        let Some(corp_id) = corp_id else {
            return (None, Err(ApiError::new(MISSING_CORPID, "corpid missing")));
        };
        let Some(secret) = secret else {
            return (
                None,
                Err(ApiError::new(MISSING_SECRET, "corpsecret missing")),
            );
        };
        if *corp_id != self.corp_id {
            return (None, Err(ApiError::new(INVALID_CORPID, "invalid corpid")));
        }
        let Some(app) = self.apps.iter().position(|a| &a.secret == secret) else {
            return (
                None,
                Err(ApiError::new(
                    errcode::INVALID_SECRET,
                    "invalid credential: corpsecret",
                )),
            );
        };
        let (token, expires_in) = self.issue(&self.tokens, app);
        let answer = wire::TokenResponse {
            status: wire::Status::ok(),
            access_token: Some(token),
            expires_in: Some(expires_in),
        };
        (Some(app), Ok(to_json(&answer)))
    }

    /// A token of `owner` and its seconds left. Within its lifetime, the owner's token is
    /// given again (as WeCom does for `gettoken`).
    fn issue(&self, map: &Mutex<HashMap<String, Token>>, owner: usize) -> (String, u64) {
        let mut tokens = lock(map);
        let reuse = tokens.iter().find_map(|(tok, t)| {
            let age = t.issued.elapsed();
            (t.app == owner && !t.revoked && age < self.token_lifetime)
                .then(|| (tok.clone(), self.token_lifetime - age))
        });
        let (token, left) = reuse.unwrap_or_else(|| {
            let tok = new_token();
            tokens.insert(
                tok.clone(),
                Token {
                    app: owner,
                    issued: Instant::now(),
                    revoked: false,
                },
            );
            (tok, self.token_lifetime)
        });
        (token, left.as_secs().max(1))
    }

    /// `service/get_suite_token`: the suite's id, secret and current ticket.
    fn suite_token(&self, body: &[u8]) -> Result<Json, ApiError> {
        let req: wire::SuiteTokenRequest = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_param(format!("bad body: {e}")))?;
        let Some(suite) = self.suites.iter().position(|s| s.suite_id == req.suite_id) else {
            return Err(ApiError::new(errcode::INVALID_SUITE_ID, "invalid suite_id"));
        };
        let s = &self.suites[suite];
        if s.suite_secret != req.suite_secret {
            return Err(ApiError::new(
                errcode::INVALID_SECRET,
                "invalid credential: suite_secret",
            ));
        }
        if s.suite_ticket != req.suite_ticket {
            return Err(ApiError::new(
                errcode::INVALID_SUITE_TICKET,
                "invalid suite_ticket",
            ));
        }
        let (token, expires_in) = self.issue(&self.suite_tokens, suite);
        Ok(to_json(&wire::SuiteTokenResponse {
            status: wire::Status::ok(),
            suite_access_token: Some(token),
            expires_in: Some(expires_in),
        }))
    }

    /// `service/get_corp_token`: the token of the suite's app in this corp. Its success
    /// answer has no errcode, as WeCom's has none.
    fn corp_token(
        &self,
        query: &HashMap<String, String>,
        body: &[u8],
    ) -> (Option<usize>, Result<Json, ApiError>) {
        let token = query.get("suite_access_token").map_or("", String::as_str);
        let suite = match self.owner_of(&self.suite_tokens, token) {
            None => {
                let e = ApiError::new(errcode::INVALID_SUITE_TOKEN, "invalid suite_access_token");
                return (None, Err(e));
            }
            Some(None) => {
                let e = ApiError::new(errcode::SUITE_TOKEN_EXPIRED, "suite_access_token expired");
                return (None, Err(e));
            }
            Some(Some(suite)) => &self.suites[suite],
        };
        let req: wire::CorpTokenRequest = match serde_json::from_slice(body) {
            Ok(req) => req,
            Err(e) => return (None, Err(ApiError::invalid_param(format!("bad body: {e}")))),
        };
        let app = self.apps.iter().position(|a| a.name == suite.app);
        let (Some(app), true) = (
            app,
            req.auth_corpid == self.corp_id && req.permanent_code == suite.permanent_code,
        ) else {
            let e = ApiError::new(
                errcode::INVALID_PERMANENT_CODE,
                "invalid permanent_code for this suite and auth_corpid",
            );
            return (None, Err(e));
        };
        let (token, expires_in) = self.issue(&self.tokens, app);
        let answer = serde_json::json!({"access_token": token, "expires_in": expires_in});
        (Some(app), Ok(to_json(&answer)))
    }

    fn caller(&self, app: usize) -> Caller {
        let a = &self.apps[app];
        Caller {
            app: a.name.clone(),
            legacy: a.legacy,
        }
    }

    /// Runs one tag call against the corp.
    fn execute(
        &self,
        kind: CallKind,
        app: usize,
        body: &serde_json::Value,
    ) -> Result<Json, ApiError> {
        let caller = self.caller(app);
        let bad = |e: serde_json::Error| ApiError::invalid_param(format!("bad body: {e}"));
        let mut corp = lock(&self.corp);
        match kind {
            CallKind::List => {
                let req: wire::TagListRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                let tag_group = corp.list(&req);
                Ok(to_json(&wire::TagListResponse {
                    status: wire::Status::ok(),
                    tag_group,
                }))
            }
            CallKind::Add => {
                let req: wire::AddTagRequest = serde_json::from_value(body.clone()).map_err(bad)?;
                let group = corp.add(&req, &caller, unix_now())?;
                Ok(to_json(&wire::AddTagResponse {
                    status: wire::Status::ok(),
                    tag_group: Some(group),
                }))
            }
            CallKind::Edit => {
                let req: wire::EditTagRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                corp.edit(&req, &caller)?;
                Ok(to_json(&wire::Status::ok()))
            }
            CallKind::Del => {
                let req: wire::DelTagRequest = serde_json::from_value(body.clone()).map_err(bad)?;
                corp.del(&req, &caller)?;
                Ok(to_json(&wire::Status::ok()))
            }
            CallKind::GetToken | CallKind::GetSuiteToken | CallKind::GetCorpToken => {
                Err(ApiError::invalid_param("not a tag call"))
            }
        }
    }
}

/// A serialised JSON answer and its errcode.
struct Json {
    errcode: i64,
    bytes: Vec<u8>,
}

fn to_json<T: Serialize>(value: &T) -> Json {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| {
        br#"{"errcode":-1,"errmsg":"system error: answer not serialisable"}"#.to_vec()
    });
    let errcode = serde_json::from_slice::<wire::Status>(&bytes)
        .map(|s| s.errcode)
        .unwrap_or(-1);
    Json { errcode, bytes }
}

/// The integer errcode of an answer, if it has one.
fn errcode_of(bytes: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()?
        .get("errcode")?
        .as_i64()
}

/// An error answer; the message ends like WeCom's (hint, caller IP, help link), so
/// clients see realistic text, which they must not parse.
fn error_json(e: &ApiError) -> Json {
    let hint: u32 = rand::rng().random();
    let errmsg = format!(
        "{}, hint: [{}_{hint:08x}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
        e.errmsg,
        unix_now(),
        e.errcode
    );
    Json {
        errcode: e.errcode,
        bytes: serde_json::to_vec(&wire::Status::error(e.errcode, errmsg)).unwrap_or_default(),
    }
}

fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..64)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn parse_query(raw: Option<String>) -> HashMap<String, String> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        bytes,
    )
        .into_response()
}

fn html_response(status: StatusCode, title: &str) -> Response {
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// A body that announces `len` bytes and then fails: hyper drops the connection.
struct Dropped {
    len: u64,
}

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "emulator fault: connection dropped after commit",
        ))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// Well-formed JSON whose shape is wrong for an answer to `kind`.
fn wrong_shape(kind: CallKind) -> &'static [u8] {
    match kind {
        CallKind::GetToken => {
            br#"{"errcode":0,"errmsg":"ok","access_token":12345,"expires_in":"7200"}"#
        }
        CallKind::GetSuiteToken => {
            br#"{"errcode":0,"errmsg":"ok","suite_access_token":false,"expires_in":7200}"#
        }
        CallKind::GetCorpToken => br#"{"access_token":["x"],"expires_in":7200}"#,
        CallKind::List => br#"{"errcode":0,"errmsg":"ok","tag_group":"oops"}"#,
        CallKind::Add => br#"{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":1}]}"#,
        CallKind::Edit | CallKind::Del => br#"{"errcode":"0","errmsg":"ok"}"#,
    }
}

/// The answer of a call of `kind` hit by a fault that answers instead of it.
fn fault_answer(kind: CallKind, fault: FaultKind) -> (Option<i64>, Response) {
    let status = |code: i64, msg: &str| {
        let bytes = error_json(&ApiError::new(code, msg)).bytes;
        (Some(code), json_response(StatusCode::OK, bytes))
    };
    match fault {
        FaultKind::SystemBusy => status(errcode::SYSTEM_BUSY, "system busy"),
        FaultKind::VersionConflict => {
            status(errcode::DATA_VERSION_CONFLICT, "data version conflict")
        }
        FaultKind::FrequencyLimit => status(errcode::FREQUENCY_LIMIT, "api freq out of limit"),
        FaultKind::ConcurrencyLimit => {
            status(errcode::CONCURRENCY_LIMIT, "api concurrent out of limit")
        }
        FaultKind::Http500 => (
            None,
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error",
            ),
        ),
        FaultKind::BadGateway | FaultKind::TruncatedJson | FaultKind::CommitThenDrop => (
            None,
            html_response(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        ),
        FaultKind::WrongShape => {
            let bytes = wrong_shape(kind);
            (
                errcode_of(bytes),
                json_response(StatusCode::OK, bytes.to_vec()),
            )
        }
        FaultKind::NotJson => (
            None,
            html_response(StatusCode::OK, "Network login required"),
        ),
    }
}

/// The answer of a committed call, spoiled by `fault` when it is one that commits.
fn committed_answer(json: Json, fault: Option<FaultKind>) -> Response {
    match fault {
        Some(FaultKind::TruncatedJson) => {
            let mut bytes = json.bytes;
            bytes.truncate((bytes.len() / 2).max(1));
            json_response(StatusCode::OK, bytes)
        }
        Some(FaultKind::CommitThenDrop) => {
            let len = json.bytes.len() as u64;
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
                .body(Body::new(Dropped { len }))
                .unwrap_or_else(|_| html_response(StatusCode::BAD_GATEWAY, "502 Bad Gateway"))
        }
        _ => json_response(StatusCode::OK, json.bytes),
    }
}

/// Counts a call in flight for one app until dropped.
struct InFlight<'a> {
    shared: &'a Shared,
    app: usize,
}

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared, app: usize) -> Result<Self, ApiError> {
        let mut map = lock(&shared.in_flight);
        let n = map.entry(app).or_insert(0);
        if shared.concurrency_limit.is_some_and(|limit| *n >= limit) {
            return Err(ApiError::new(
                errcode::CONCURRENCY_LIMIT,
                "api concurrent out of limit",
            ));
        }
        *n += 1;
        Ok(InFlight { shared, app })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.shared.in_flight).get_mut(&self.app) {
            *n = n.saturating_sub(1);
        }
    }
}

type AppState = Arc<Shared>;

/// Where the emulator answers its state dump (GET; no token, it is a local test server).
pub const STATE_PATH: &str = "/emulator/state";

/// Where the emulator takes an admin-console edit (POST, an `edit_corp_tag` body; no
/// token): renames or reorders any item regardless of who created it, as a corp admin
/// can in the WeCom admin console. Answers `{errcode, errmsg}` like an API call.
pub const CONSOLE_EDIT_PATH: &str = "/emulator/console/edit_corp_tag";

/// The name the admin console acts under (it never owns anything).
const CONSOLE: &str = "admin console";

pub(crate) fn router(shared: AppState) -> Router {
    let route = |kind: CallKind| {
        any(
            move |State(s): State<AppState>,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  method: Method,
                  RawQuery(q): RawQuery,
                  body: Body| async move {
                let raw = axum::body::to_bytes(body, DRAIN_BODY_BYTES).await;
                if kind.is_token_call() {
                    token_call(s, kind, method, q, raw.unwrap_or_default()).await
                } else {
                    tag_call(s, kind, peer.ip(), method, q, raw).await
                }
            },
        )
    };
    let path = |kind: CallKind| {
        let p = match kind {
            CallKind::GetToken => wire::path::GET_TOKEN,
            CallKind::GetSuiteToken => wire::path::GET_SUITE_TOKEN,
            CallKind::GetCorpToken => wire::path::GET_CORP_TOKEN,
            CallKind::List => wire::path::GET_CORP_TAG_LIST,
            CallKind::Add => wire::path::ADD_CORP_TAG,
            CallKind::Edit => wire::path::EDIT_CORP_TAG,
            CallKind::Del => wire::path::DEL_CORP_TAG,
        };
        format!("/cgi-bin/{p}")
    };
    CallKind::ALL
        .into_iter()
        .fold(Router::new(), |r, kind| r.route(&path(kind), route(kind)))
        // Not a WeCom path: the live state in the seed shape (with owners), so a running
        // `tagsync emulator` can be inspected, and its answer used as a `--seed`.
        .route(
            STATE_PATH,
            axum::routing::get(|State(s): State<AppState>| async move {
                axum::Json(super::SeedFile::new(s.dump()))
            }),
        )
        .route(
            CONSOLE_EDIT_PATH,
            axum::routing::post(|State(s): State<AppState>, body: Body| async move {
                let raw = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
                let answer = match raw.ok().and_then(|b| serde_json::from_slice(&b).ok()) {
                    None => Err(ApiError::invalid_param(
                        "the body is not an edit_corp_tag body",
                    )),
                    Some(req) => s.console_edit(&req),
                };
                let json = match answer {
                    Ok(()) => serde_json::json!({"errcode": 0, "errmsg": "ok"}),
                    Err(e) => serde_json::json!({"errcode": e.errcode, "errmsg": e.errmsg}),
                };
                axum::Json(json)
            }),
        )
        .fallback(|| async { html_response(StatusCode::NOT_FOUND, "404 Not Found") })
        .with_state(shared)
}

/// `gettoken` (any method, as WeCom takes GET), `get_suite_token`, `get_corp_token`.
async fn token_call(
    s: AppState,
    kind: CallKind,
    method: Method,
    query: Option<String>,
    raw: Bytes,
) -> Response {
    let query = parse_query(query);
    let (latency, fault) = lock(&s.faults).decide(kind);
    tokio::time::sleep(latency).await;
    let mut rec = CallRecord {
        kind,
        app: None,
        body: serde_json::Value::Null,
        errcode: None,
        fault,
    };
    if let Some(f) = fault.filter(|f| !f.commits()) {
        let (code, resp) = fault_answer(kind, f);
        rec.errcode = code;
        s.record(rec);
        return resp;
    }
    let (app, answer) = match kind {
        CallKind::GetToken => s.gettoken(&query),
        _ if method != Method::POST => (
            None,
            Err(ApiError::new(REQUIRE_POST, "require POST method")),
        ),
        CallKind::GetSuiteToken => (None, s.suite_token(&raw)),
        CallKind::GetCorpToken => s.corp_token(&query, &raw),
        _ => (None, Err(ApiError::invalid_param("not a token call"))),
    };
    rec.app = app.map(|i| s.apps[i].name.clone());
    let json = answer.unwrap_or_else(|e| error_json(&e));
    rec.errcode = errcode_of(&json.bytes);
    s.record(rec);
    committed_answer(json, fault)
}

/// One of the four tag calls. The body was read (and so drained) first, so that even a
/// refused call is answered cleanly.
async fn tag_call(
    s: AppState,
    kind: CallKind,
    peer: IpAddr,
    method: Method,
    query: Option<String>,
    raw: Result<Bytes, axum::Error>,
) -> Response {
    let query = parse_query(query);
    let body_json: Result<serde_json::Value, ApiError> = match &raw {
        Ok(b) if b.len() > MAX_BODY_BYTES => Err(ApiError::invalid_param(format!(
            "body is {} bytes, more than {MAX_BODY_BYTES}",
            b.len()
        ))),
        Ok(b) => serde_json::from_slice(b)
            .map_err(|e| ApiError::invalid_param(format!("body is not valid JSON: {e}"))),
        Err(_) => Err(ApiError::invalid_param("body too large or unreadable")),
    };
    let mut rec = CallRecord {
        kind,
        app: None,
        body: body_json.as_ref().ok().cloned().unwrap_or_default(),
        errcode: None,
        fault: None,
    };
    let answer = |s: &Shared, mut rec: CallRecord, e: ApiError| {
        rec.errcode = Some(e.errcode);
        s.record(rec);
        json_response(StatusCode::OK, error_json(&e).bytes)
    };
    let app = match s.authenticate(&query) {
        Ok(app) => app,
        Err(e) => return answer(&s, rec, e),
    };
    rec.app = Some(s.apps[app].name.clone());
    if let Err(e) = s.check_access(app, kind, peer) {
        return answer(&s, rec, e);
    }
    if method != Method::POST {
        return answer(&s, rec, ApiError::new(REQUIRE_POST, "require POST method"));
    }
    if let Err(e) = s.check_rate(app) {
        return answer(&s, rec, e);
    }
    let _in_flight = match InFlight::enter(&s, app) {
        Ok(guard) => guard,
        Err(e) => return answer(&s, rec, e),
    };
    let (latency, fault) = lock(&s.faults).decide(kind);
    rec.fault = fault;
    tokio::time::sleep(latency).await;
    if let Some(f) = fault.filter(|f| !f.commits()) {
        let (code, resp) = fault_answer(kind, f);
        rec.errcode = code;
        s.record(rec);
        return resp;
    }
    let body_json = match body_json {
        Ok(v) => v,
        Err(e) => return answer(&s, rec, e),
    };
    let json = s
        .execute(kind, app, &body_json)
        .unwrap_or_else(|e| error_json(&e));
    rec.errcode = Some(json.errcode);
    s.record(rec);
    committed_answer(json, fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(token: &str) -> HashMap<String, String> {
        HashMap::from([("access_token".to_owned(), token.to_owned())])
    }

    /// A token issued `age` ago, without waiting for it.
    fn shared_with_token(age: Duration) -> Shared {
        let shared = Shared::new(EmulatorConfig::default()).unwrap();
        let issued = Instant::now().checked_sub(age).unwrap();
        lock(&shared.tokens).insert(
            "tok".into(),
            Token {
                app: 0,
                issued,
                revoked: false,
            },
        );
        shared
    }

    #[test]
    fn tokens_live_for_their_lifetime_only() {
        let young = shared_with_token(Duration::from_secs(7100));
        assert_eq!(young.authenticate(&query("tok")), Ok(0));
        let (_, answer) = young.gettoken(&HashMap::from([
            ("corpid".to_owned(), "ww-test-corp".to_owned()),
            ("corpsecret".to_owned(), "test-secret".to_owned()),
        ]));
        let answer: wire::TokenResponse = serde_json::from_slice(&answer.unwrap().bytes).unwrap();
        assert_eq!(answer.access_token.as_deref(), Some("tok"));
        assert!(answer.expires_in.unwrap() <= 100, "the seconds left");

        let old = shared_with_token(Duration::from_secs(7300));
        let err = old.authenticate(&query("tok")).unwrap_err();
        assert_eq!(err.errcode, errcode::ACCESS_TOKEN_EXPIRED);
        assert_eq!(
            old.authenticate(&query("other")).unwrap_err().errcode,
            errcode::INVALID_ACCESS_TOKEN
        );
    }

    #[test]
    fn fault_flags_give_the_asked_rate_on_tag_calls_only() {
        let faults = super::super::flag_faults(Some(Duration::from_millis(7)), Some(0.2), 11);
        let mut state = FaultState::new(faults);
        let n = 20_000;
        let mut fired = 0;
        for _ in 0..n {
            let (latency, fault) = state.decide(CallKind::Add);
            assert_eq!(latency, Duration::from_millis(7));
            match fault {
                None => {}
                Some(FaultKind::SystemBusy | FaultKind::VersionConflict) => fired += 1,
                Some(other) => panic!("not in the mix: {other:?}"),
            }
        }
        // Deterministic for this seed; the bounds are those of the rate, not of luck.
        let rate = f64::from(fired) / f64::from(n);
        assert!((0.18..0.22).contains(&rate), "{rate}");
        for _ in 0..100 {
            let (latency, fault) = state.decide(CallKind::GetToken);
            assert_eq!((latency, fault), (Duration::from_millis(7), None));
        }
        let none = super::super::flag_faults(None, None, 0);
        assert_eq!(none, Faults::none());
    }

    #[test]
    fn scripted_faults_run_out_and_random_ones_follow_the_seed() {
        let faults = Faults::none()
            .script(CallKind::Add, 2, FaultKind::SystemBusy)
            .random(CallKind::List, FaultKind::Http500, 0.5)
            .latency(
                CallKind::List,
                Duration::from_millis(5),
                Duration::from_millis(5),
            );
        let mut a = FaultState::new(faults.clone());
        let mut b = FaultState::new(faults);
        let adds: Vec<_> = (0..3).map(|_| a.decide(CallKind::Add).1).collect();
        assert_eq!(
            adds,
            [
                Some(FaultKind::SystemBusy),
                Some(FaultKind::SystemBusy),
                None
            ]
        );
        for _ in 0..20 {
            let (la, fa) = a.decide(CallKind::List);
            assert_eq!((la, fa), b.decide(CallKind::List));
            assert!(la >= Duration::from_millis(5) && la <= Duration::from_millis(10));
        }
    }
}
