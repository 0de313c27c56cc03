//! The HTTP face of the emulator: routes, token auth, limits, the call log; the answers
//! are shaped in `answer`, the faults chosen in `faults`.
//!
//! Answers are HTTP 200 with `errcode`/`errmsg` as WeCom gives them, except: unknown paths
//! get HTTP 404 with an HTML page (as a web front end would answer; no errcode), a
//! successful `get_corp_token` (no errcode, as WeCom answers it), and the injected faults
//! (500, 502 HTML, 200 HTML, JSON of the wrong shape, truncated JSON, dropped connection).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use tokio::time::Instant;

use super::answer::{
    Json, committed_answer, errcode_of, error_json, fault_answer, html_response, json_response,
    parse_query, to_json, unix_now,
};
use super::config::CallKind;
use super::shared::{CallRecord, Change, Shared, lock};
use super::state::{ApiError, Caller};
use crate::wire::{self, Family, errcode};

/// Bodies up to this size are read; larger ones answer 40058.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Bodies are drained up to this size so the client can read the answer.
pub(super) const DRAIN_BODY_BYTES: usize = 16 * 1024 * 1024;

impl Shared {
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
        let reads = [
            CallKind::List,
            CallKind::StrategyList,
            CallKind::RuleGroups,
            CallKind::RuleGroup,
        ];
        if !reads.contains(&kind) && !access.manage_tags {
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
        let family = kind.tag_call().map_or(Family::Corp, |(_, f)| f);
        if caller.legacy && (family == Family::Strategy || kind.tag_call().is_none()) {
            // Since 2023-12-01 the system "客户联系" secret may not call the rule-group
            // APIs (wecom-api.md); the errcode is the usual "not permitted" one (a guess).
            return Err(ApiError::new(
                errcode::API_NOT_PERMITTED,
                "api forbidden: the customer-contact system secret may not call the rule-group APIs",
            ));
        }
        match kind.tag_call().map_or(kind, |(call, _)| call) {
            CallKind::RuleGroups => {
                let req: wire::RuleGroupListRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                Ok(to_json(&corp.rule_group_page(&req)?))
            }
            CallKind::RuleGroup => {
                let req: wire::RuleGroupGetRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                Ok(to_json(&wire::RuleGroupGetResponse {
                    status: wire::Status::ok(),
                    strategy: Some(corp.rule_group(req.strategy_id)?),
                }))
            }
            CallKind::List => {
                let req: wire::TagListRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                let tag_group = corp.list_in(family, &req, &caller)?;
                let answer = wire::TagListResponse {
                    status: wire::Status::ok(),
                    tag_group,
                };
                if corp.sends_deleted_false() {
                    return Ok(to_json(&with_deleted_false(&answer)));
                }
                Ok(to_json(&answer))
            }
            CallKind::Add => {
                let req: wire::AddTagRequest = serde_json::from_value(body.clone()).map_err(bad)?;
                let scope = req.strategy_id.filter(|_| family == Family::Strategy);
                let new_group = req.group_id.is_none()
                    && !req
                        .group_name
                        .as_deref()
                        .is_some_and(|n| corp.has_live_group_named(n, scope));
                let group = corp.add_in(family, &req, &caller, unix_now())?;
                self.changed(
                    &corp,
                    Change::Added {
                        group: &group,
                        new_group,
                    },
                );
                Ok(to_json(&wire::AddTagResponse {
                    status: wire::Status::ok(),
                    tag_group: Some(group),
                }))
            }
            CallKind::Edit => {
                let req: wire::EditTagRequest =
                    serde_json::from_value(body.clone()).map_err(bad)?;
                corp.edit_in(family, &req, &caller)?;
                self.changed(&corp, Change::Edit(&req.id));
                Ok(to_json(&wire::Status::ok()))
            }
            CallKind::Delete => {
                let req: wire::DelTagRequest = serde_json::from_value(body.clone()).map_err(bad)?;
                corp.del_in(family, &req, &caller)?;
                self.changed(
                    &corp,
                    Change::Deleted {
                        groups: &req.group_id,
                        tags: &req.tag_id,
                    },
                );
                Ok(to_json(&wire::Status::ok()))
            }
            _ => Err(ApiError::invalid_param("not a tag call")),
        }
    }
}

/// A list answer with `"deleted": false` written on every group and tag not deleted.
fn with_deleted_false(answer: &wire::TagListResponse) -> serde_json::Value {
    let mut v = serde_json::to_value(answer).unwrap_or_default();
    let set = |item: &mut serde_json::Value| {
        if let Some(map) = item.as_object_mut() {
            map.entry("deleted")
                .or_insert(serde_json::Value::Bool(false));
        }
    };
    if let Some(groups) = v.get_mut("tag_group").and_then(|g| g.as_array_mut()) {
        for g in groups {
            set(g);
            if let Some(tags) = g.get_mut("tag").and_then(|t| t.as_array_mut()) {
                tags.iter_mut().for_each(set);
            }
        }
    }
    v
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

pub(super) type AppState = Arc<Shared>;

/// Where the emulator answers its state dump (GET; no token, it is a local test server).
pub const STATE_PATH: &str = "/emulator/state";

/// Where the emulator takes an admin-console edit (POST, an `edit_corp_tag` body; no
/// token): renames or reorders any item regardless of who created it, as a corp admin
/// can in the WeCom admin console. Answers `{errcode, errmsg}` like an API call.
pub const CONSOLE_EDIT_PATH: &str = "/emulator/console/edit_corp_tag";

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
    let path = |kind: CallKind| format!("/cgi-bin/{}", kind.path());
    CallKind::ALL
        .into_iter()
        .fold(Router::new(), |r, kind| r.route(&path(kind), route(kind)))
        // Not a WeCom path: the live state in the seed shape (with owners), so a running
        // `tagsync emulator` can be inspected, and its answer used as a `--seed`.
        .route(
            STATE_PATH,
            axum::routing::get(
                |State(s): State<AppState>| async move { axum::Json(s.seed_file()) },
            ),
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
pub(super) async fn token_call(
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
            Err(ApiError::new(errcode::REQUIRE_POST, "require POST method")),
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
pub(super) async fn tag_call(
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
        return answer(
            &s,
            rec,
            ApiError::new(errcode::REQUIRE_POST, "require POST method"),
        );
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
