//! The one place tagsync talks to WeCom.
//!
//! - **Tokens**: fetched on first use, cached, renewed shortly before `expires_in` runs
//!   out; on 40014/42001 the token is dropped and the call is repeated once with a fresh
//!   one. 40001 (bad secret) stops at once: retrying it gets the IP banned.
//! - **Retries** (exponential backoff with jitter, bounded by `max_retries` and
//!   `retry_budget`): errcodes -1, 6000, 45009, 45033; HTTP 5xx; timeouts, refused and
//!   dropped connections; truncated bodies.
//! - **Lost answers** (request sent, no complete answer: timeout, dropped connection,
//!   truncated body, HTTP 5xx):
//!   - `add_corp_tag` is never resent: the error is [`ErrorKind::Ambiguous`] and the
//!     caller re-reads the group. Only failures that prove nothing was done are retried
//!     for add: a refused connection and the retryable errcodes (-1, 6000, 45009, 45033).
//!   - `edit_corp_tag` and `del_corp_tag` are resent: neither creates anything, and
//!     repeating one that was already applied leaves the same end state. If the resent
//!     call is then refused in a way the first call's success explains (40068: the id is
//!     gone; 40071: the name is already taken — by the item itself), the result is
//!     reported as [`ErrorKind::Ambiguous`] rather than as a failure, so the caller
//!     re-reads instead of reporting a false error.
//! - **Limits**: a rate limit per API shaped like the vendor's window (at most 80% of its
//!   10,000 calls in any minute, by default; see [`super::limit`]) and a
//!   cap on calls in flight, lowered by one on each 45033 (down to one). After 45009 the
//!   next attempt waits at least `limit_backoff`. Calls the limiter holds back are
//!   counted in [`ClientStats::rate_waits`].
//! - **Wrong answers** (not JSON, or JSON of the wrong shape, with HTTP 200) are not
//!   WeCom: [`ErrorKind::Fatal`], not retried.
//! - **Third-party apps**: `get_suite_token` then `get_corp_token` on every token fetch;
//!   their refusals (bad suite secret, ticket, permanent code) are [`ErrorKind::Token`]
//!   with a hint naming the variable to check, and are not retried.
//! - **Redaction**: the access token rides in the URL query, so no URL is ever kept in an
//!   error (`reqwest::Error::without_url`) or logged, and every free-text part of an error
//!   is scrubbed of the secrets and tokens this client knows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Mutex, Semaphore};

use super::limit::Limiter;

use super::config::ClientConfig;
use super::credentials::{Credentials, Secret};
use super::decode::{Answer, decode};
use super::error::{Call, ClientError};
use super::redact::Redactor;
use super::retry::{Attempts, explained_by_commit, lost_detail};
use super::transport;
use crate::snapshot::Snapshot;
use crate::wire::{self, Family, errcode};

/// The longest a token is kept, whatever `expires_in` says (WeCom's last 7200 s; a server
/// answering more, up to `u64::MAX`, must not overflow the clock).
const MAX_TOKEN_LIFETIME: u64 = 24 * 60 * 60;

/// How long a token is used: until 5 minutes before it expires, or a fifth of its
/// lifetime before if that is shorter. A missing `expires_in` reads as WeCom's 7200 s;
/// more than a day reads as a day.
fn token_use_time(expires_in: Option<u64>) -> Duration {
    let lifetime = Duration::from_secs(expires_in.unwrap_or(7200).min(MAX_TOKEN_LIFETIME));
    let margin = (lifetime / 5).min(Duration::from_secs(300));
    lifetime - margin
}

/// Requests sent so far (every attempt counts), retries and token refreshes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub gettoken: u64,
    pub get_suite_token: u64,
    pub get_corp_token: u64,
    pub list: u64,
    pub add: u64,
    pub edit: u64,
    pub delete: u64,
    /// Attempts repeated after a retryable failure.
    pub retries: u64,
    /// Tokens dropped after 40014/42001.
    pub token_refreshes: u64,
    /// Requests the rate limiter held back (its quota was used up when they came).
    pub rate_waits: u64,
    /// The cap on calls in flight now (lowered by one on each 45033, down to 1).
    pub concurrency: usize,
}

impl ClientStats {
    /// Requests to the four tag calls.
    pub fn tag_calls(&self) -> u64 {
        self.list + self.add + self.edit + self.delete
    }
}

/// The WeCom client. Cheap to clone; clones share token, limits and statistics.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.inner.config.api_base.as_str())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: ClientConfig,
    http: reqwest::Client,
    token: Mutex<Option<CachedToken>>,
    limiters: Vec<Limiter>,
    in_flight: Semaphore,
    /// Permits of `in_flight` not yet forgotten.
    concurrency: std::sync::atomic::AtomicUsize,
    sent: [AtomicU64; Call::ALL.len()],
    retries: AtomicU64,
    refreshes: AtomicU64,
    rate_waits: AtomicU64,
    redactor: Redactor,
}

struct CachedToken {
    token: Secret,
    renew_at: Instant,
    generation: u64,
}

/// Install rustls's crypto provider for the process (ring; see Cargo.toml), once. Every
/// reqwest client needs it before it is built: [`Client::new`] calls this, and code that
/// builds a reqwest client of its own (tests, benchmarks) must call it first.
pub fn install_crypto_provider() {
    // Err when a provider is installed already: then there is nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let http = Client::http_for(&config)?;
        Client::with_http(config, http)
    }

    /// The HTTP client (TLS set-up, connection pool) a [`Client`] of `config` uses. Clients
    /// of one API base and the same timeouts may share one (`tagsync fleet`: the CA roots
    /// loaded once, connections to WeCom reused across corps); tokens, rate limits and
    /// retries stay each client's own.
    pub fn http_for(config: &ClientConfig) -> Result<reqwest::Client, ClientError> {
        let config_error = |message: String| ClientError::Config { message };
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect would carry the token in its URL to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tagsync/", env!("CARGO_PKG_VERSION")));
        if config.api_base.scheme() == "http" {
            // Loopback only (checked by parse_api_base): never through a proxy, and no
            // TLS, so the system's CA roots are not loaded (a fixed cost of every run
            // against the emulator).
            builder = builder.no_proxy().tls_certs_only([]);
        }
        builder
            .build()
            .map_err(|e| config_error(format!("cannot set up HTTP: {}", e.without_url())))
    }

    /// A client of `config` over `http` (from [`Client::http_for`] of a config with the
    /// same API base and timeouts).
    pub fn with_http(config: ClientConfig, http: reqwest::Client) -> Result<Client, ClientError> {
        let config_error = |message: String| ClientError::Config { message };
        if config.rate_per_minute == 0 {
            return Err(config_error("rate_per_minute must be at least 1".into()));
        }
        if config.concurrency == 0 {
            return Err(config_error("concurrency must be at least 1".into()));
        }
        let limiters = Call::ALL
            .iter()
            .map(|_| Limiter::new(config.rate_per_minute))
            .collect();
        let redactor = Redactor::new(&config.credentials);
        Ok(Client {
            inner: Arc::new(Inner {
                in_flight: Semaphore::new(config.concurrency),
                concurrency: std::sync::atomic::AtomicUsize::new(config.concurrency),
                config,
                http,
                token: Mutex::new(None),
                limiters,
                sent: Default::default(),
                retries: AtomicU64::new(0),
                refreshes: AtomicU64::new(0),
                rate_waits: AtomicU64::new(0),
                redactor,
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Read tags: all live tags when both id lists are empty.
    pub async fn list(
        &self,
        req: &wire::TagListRequest,
    ) -> Result<Vec<wire::TagGroup>, ClientError> {
        self.list_in(Family::Corp, req).await
    }

    /// [`Client::list`] of either family (`get_strategy_tag_list` answers only this
    /// app's rule-group tags, of the rule group `strategy_id` names when given).
    pub async fn list_in(
        &self,
        family: Family,
        req: &wire::TagListRequest,
    ) -> Result<Vec<wire::TagGroup>, ClientError> {
        let call = Call::List.in_family(family);
        let answer: wire::TagListResponse = self.tag_call(call, req).await?;
        super::answer::check_list(call, &answer.tag_group)?;
        Ok(answer.tag_group)
    }

    /// Every live group and tag.
    pub async fn snapshot(&self) -> Result<Snapshot, ClientError> {
        let groups = self.list(&wire::TagListRequest::default()).await?;
        Ok(Snapshot::from_wire(groups))
    }

    /// Create tags; the answer holds the group and only the tags just created. A lost
    /// answer is [`ErrorKind::Ambiguous`] and is not resent.
    pub async fn add(&self, req: &wire::AddTagRequest) -> Result<wire::TagGroup, ClientError> {
        self.add_in(Family::Corp, req).await
    }

    /// [`Client::add`] of either family (`add_strategy_tag` needs `strategy_id`).
    pub async fn add_in(
        &self,
        family: Family,
        req: &wire::AddTagRequest,
    ) -> Result<wire::TagGroup, ClientError> {
        let call = Call::Add.in_family(family);
        let refuse = |reason: &str| ClientError::NotSent {
            call,
            reason: reason.into(),
        };
        if req.tag.is_empty() {
            return Err(refuse("a group cannot be created without tags"));
        }
        if req.group_id.as_deref() == Some("") {
            return Err(refuse("the group id is empty"));
        }
        if req.group_id.is_none() && req.group_name.as_deref().is_none_or(str::is_empty) {
            return Err(refuse("neither a group id nor a group name"));
        }
        if family == Family::Strategy && req.strategy_id.is_none() {
            return Err(refuse("no rule group (strategy_id)"));
        }
        let answer: wire::AddTagResponse = self.tag_call(call, req).await?;
        let group = answer.tag_group.ok_or_else(|| ClientError::Decode {
            call,
            detail: "missing field `tag_group`".into(),
            truncated: false,
        })?;
        // WeCom said errcode 0, so the tags were most likely made: an answer that cannot
        // be trusted is a lost answer (the executor re-reads the group and claims what
        // is there), not a failure that would leave made tags unowned.
        super::answer::check_list(call, std::slice::from_ref(&group)).map_err(|e| {
            ClientError::Ambiguous {
                call,
                detail: format!("its answer cannot be trusted: {e}"),
            }
        })?;
        Ok(group)
    }

    /// Rename and/or reorder one tag or group.
    pub async fn edit(&self, req: &wire::EditTagRequest) -> Result<(), ClientError> {
        self.edit_in(Family::Corp, req).await
    }

    /// [`Client::edit`] of either family.
    pub async fn edit_in(
        &self,
        family: Family,
        req: &wire::EditTagRequest,
    ) -> Result<(), ClientError> {
        let call = Call::Edit.in_family(family);
        if req.id.is_empty() || (req.name.is_none() && req.order.is_none()) {
            return Err(ClientError::NotSent {
                call,
                reason: "it needs an id and a name or an order".into(),
            });
        }
        let _: wire::Status = self.tag_call(call, req).await?;
        Ok(())
    }

    /// Delete tags and/or groups.
    pub async fn delete(&self, req: &wire::DelTagRequest) -> Result<(), ClientError> {
        self.delete_in(Family::Corp, req).await
    }

    /// [`Client::delete`] of either family.
    pub async fn delete_in(
        &self,
        family: Family,
        req: &wire::DelTagRequest,
    ) -> Result<(), ClientError> {
        let call = Call::Delete.in_family(family);
        if req.tag_id.is_empty() && req.group_id.is_empty() {
            return Err(ClientError::NotSent {
                call,
                reason: "no tag or group id".into(),
            });
        }
        let _: wire::Status = self.tag_call(call, req).await?;
        Ok(())
    }

    pub fn stats(&self) -> ClientStats {
        let sent = |c: Call| self.inner.sent[c.index()].load(Ordering::Relaxed);
        ClientStats {
            gettoken: sent(Call::GetToken),
            get_suite_token: sent(Call::GetSuiteToken),
            get_corp_token: sent(Call::GetCorpToken),
            list: sent(Call::List),
            add: sent(Call::Add),
            edit: sent(Call::Edit),
            delete: sent(Call::Delete),
            retries: self.inner.retries.load(Ordering::Relaxed),
            token_refreshes: self.inner.refreshes.load(Ordering::Relaxed),
            rate_waits: self.inner.rate_waits.load(Ordering::Relaxed),
            concurrency: self.inner.concurrency.load(Ordering::Relaxed),
        }
    }

    /// A tag call with token handling, retries and the lost-answer rules.
    pub(super) async fn tag_call<A: Answer>(
        &self,
        call: Call,
        body: &impl Serialize,
    ) -> Result<A, ClientError> {
        let body = self.encode(call, body)?;
        let mut attempts = Attempts::new(call, &self.inner.config);
        let mut refreshed = false;
        let mut lost_before = false;
        loop {
            let (token, generation) = self.token().await?;
            let result = self
                .send::<A>(call, &[("access_token", token.expose())], Some(&body))
                .await;
            drop(token);
            let err = match result {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            let code = err.errcode();
            if matches!(
                code,
                Some(errcode::INVALID_ACCESS_TOKEN | errcode::ACCESS_TOKEN_EXPIRED)
            ) && !refreshed
            {
                refreshed = true;
                tracing::info!(call = %call, errcode = code, "access token refused; fetching a new one");
                self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
                self.invalidate(generation).await;
                continue;
            }
            if code == Some(errcode::CONCURRENCY_LIMIT) {
                self.lower_concurrency();
            }
            if err.answer_lost() {
                if call.tag_call().is_some_and(|(c, _)| c == Call::Add) {
                    return Err(self.scrub(ClientError::Ambiguous {
                        call,
                        detail: lost_detail(&err),
                    }));
                }
                lost_before = true;
            } else if lost_before && explained_by_commit(call, &err) {
                return Err(self.scrub(ClientError::Ambiguous {
                    call,
                    detail: format!("the resent call was refused: {err}"),
                }));
            }
            attempts.next(err, &self.inner.retries).await?;
        }
    }

    /// After 45033: one call fewer in flight from now on (never below one).
    fn lower_concurrency(&self) {
        let inner = &self.inner;
        let lowered = inner
            .concurrency
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > 1).then(|| n - 1)
            });
        if let Ok(before) = lowered {
            // A permit held by another call now is forgotten when one is free: take it
            // back from the semaphore as soon as it is.
            if inner.in_flight.forget_permits(1) == 0 {
                let client = self.clone();
                tokio::spawn(async move {
                    if let Ok(permit) = client.inner.in_flight.acquire().await {
                        permit.forget();
                    }
                });
            }
            tracing::warn!(
                concurrency = before - 1,
                "WeCom's concurrency limit was hit; fewer calls at once from now on"
            );
        }
    }

    fn encode(&self, call: Call, body: &impl Serialize) -> Result<Vec<u8>, ClientError> {
        serde_json::to_vec(body).map_err(|e| ClientError::Config {
            message: format!("{call}: cannot encode the request: {e}"),
        })
    }

    /// One HTTP request and its decoded answer; errors are scrubbed of secrets.
    async fn send<A: Answer>(
        &self,
        call: Call,
        query: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<A, ClientError> {
        let inner = &self.inner;
        inner.limiters[call.index()]
            .acquire(|| {
                inner.rate_waits.fetch_add(1, Ordering::Relaxed);
            })
            .await;
        let _permit = inner
            .in_flight
            .acquire()
            .await
            .map_err(|_| ClientError::Config {
                message: "the client was shut down".into(),
            })?;
        let mut url = inner
            .config
            .api_base
            .join(call.path())
            .map_err(|e| ClientError::Config {
                message: format!("{call}: cannot build the URL: {e}"),
            })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let request = match body {
            Some(body) => inner
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
            None => inner.http.get(url),
        };
        inner.sent[call.index()].fetch_add(1, Ordering::Relaxed);
        tracing::debug!(call = %call, "sending");
        let result = async {
            let response = request
                .send()
                .await
                .map_err(|e| transport::error(call, e))?;
            let status = response.status();
            let bytes = transport::read_bounded(call, response).await?;
            if !status.is_success() {
                return Err(ClientError::Http {
                    call,
                    status: status.as_u16(),
                });
            }
            decode::<A>(call, &bytes)
        }
        .await;
        result.map_err(|e| self.scrub(e))
    }

    fn scrub(&self, err: ClientError) -> ClientError {
        err.redact(|s| self.inner.redactor.redact(s))
    }

    /// The cached token, or a fresh one. Holding the lock while fetching makes
    /// concurrent callers wait for one fetch instead of each starting their own.
    async fn token(&self) -> Result<(Secret, u64), ClientError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok((c.token.clone(), c.generation));
        }
        let (token, expires_in) = self.fetch_token().await?;
        let generation = cached.as_ref().map_or(1, |c| c.generation + 1);
        *cached = Some(CachedToken {
            token: token.clone(),
            renew_at: Instant::now() + token_use_time(expires_in),
            generation,
        });
        tracing::debug!(generation, "fetched an access token");
        Ok((token, generation))
    }

    /// Drop the cached token if it is still the one that was refused.
    async fn invalidate(&self, generation: u64) {
        let mut cached = self.inner.token.lock().await;
        if cached.as_ref().is_some_and(|c| c.generation == generation) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<(Secret, Option<u64>), ClientError> {
        let answer: wire::TokenResponse = match &self.inner.config.credentials {
            Credentials::Corp { corp_id, secret } => {
                let query = [
                    ("corpid", corp_id.as_str()),
                    ("corpsecret", secret.expose()),
                ];
                self.token_call(Call::GetToken, &query, None).await?
            }
            Credentials::Suite {
                suite_id,
                suite_secret,
                suite_ticket,
                auth_corp_id,
                permanent_code,
            } => {
                let body = self.encode(
                    Call::GetSuiteToken,
                    &wire::SuiteTokenRequest {
                        suite_id: suite_id.clone(),
                        suite_secret: suite_secret.expose().to_owned(),
                        suite_ticket: suite_ticket.expose().to_owned(),
                    },
                )?;
                let suite: wire::SuiteTokenResponse = self
                    .token_call(Call::GetSuiteToken, &[], Some(&body))
                    .await?;
                let suite_token = Secret::new(suite.suite_access_token.unwrap_or_default());
                self.remember(&suite_token);
                let body = self.encode(
                    Call::GetCorpToken,
                    &wire::CorpTokenRequest {
                        auth_corpid: auth_corp_id.clone(),
                        permanent_code: permanent_code.expose().to_owned(),
                    },
                )?;
                let query = [("suite_access_token", suite_token.expose())];
                self.token_call(Call::GetCorpToken, &query, Some(&body))
                    .await?
            }
        };
        let token = Secret::new(answer.access_token.unwrap_or_default());
        self.remember(&token);
        Ok((token, answer.expires_in))
    }

    fn remember(&self, token: &Secret) {
        let base = self.inner.config.credentials.secrets().len();
        self.inner.redactor.remember(base, token);
    }

    /// A token call: retried like the others; nothing to lose, since it changes nothing.
    async fn token_call<A: Answer>(
        &self,
        call: Call,
        query: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<A, ClientError> {
        let mut attempts = Attempts::new(call, &self.inner.config);
        loop {
            match self.send::<A>(call, query, body).await {
                Ok(answer) => return Ok(answer),
                Err(err) => attempts.next(err, &self.inner.retries).await?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::base_url::DEFAULT_API_BASE;
    use super::super::config::{ENV_RETRY_BACKOFF_MS, choose_api_base};
    use super::super::credentials::Credentials;
    use super::super::error::ErrorKind;
    use super::*;

    fn config() -> ClientConfig {
        config_at("http://127.0.0.1:9/cgi-bin/")
    }

    fn config_at(base: &str) -> ClientConfig {
        ClientConfig::new(
            base,
            Credentials::Corp {
                corp_id: "ww1".into(),
                secret: Secret::new("s3cr3t-value"),
            },
        )
        .unwrap()
    }

    #[test]
    fn backoff_ms_sets_the_three_delays_and_refuses_bad_values() {
        let mut c = config();
        c.set_backoff_ms(" 1, 4 ,2").expect("valid");
        assert_eq!(c.min_backoff, Duration::from_millis(1));
        assert_eq!(c.max_backoff, Duration::from_millis(4));
        assert_eq!(c.limit_backoff, Duration::from_millis(2));
        for bad in ["1,4", "1,4,2,3", "a,4,2", "5,4,1", "-1,4,2", ""] {
            let e = c.set_backoff_ms(bad).expect_err(bad);
            assert!(e.to_string().contains(ENV_RETRY_BACKOFF_MS), "{e}");
        }
        assert_eq!(
            c.min_backoff,
            Duration::from_millis(1),
            "unchanged on error"
        );
    }

    #[test]
    fn backoff_is_bounded_in_count_and_time() {
        let mut c = config();
        c.max_retries = 4;
        c.min_backoff = Duration::from_millis(100);
        c.max_backoff = Duration::from_millis(300);
        c.retry_budget = Duration::from_secs(10);
        let delays: Vec<Duration> = c.backoff().collect();
        assert_eq!(delays.len(), 4, "{delays:?}");
        for d in &delays {
            // Jitter adds up to one more delay on top of the capped delay.
            assert!(*d >= Duration::from_millis(100), "{delays:?}");
            assert!(*d <= Duration::from_millis(600), "{delays:?}");
        }
        c.max_retries = 100;
        c.retry_budget = Duration::from_secs(2);
        let total: Duration = c.backoff().sum();
        assert!(total <= Duration::from_secs(2), "{total:?}");
    }

    #[test]
    fn backoff_grows() {
        let mut c = config();
        c.max_retries = 3;
        c.min_backoff = Duration::from_millis(100);
        c.max_backoff = Duration::from_secs(100);
        let delays: Vec<Duration> = c.backoff().collect();
        // Without jitter 100, 200, 400: with jitter each stays in [base, 2*base).
        assert!(delays[2] >= Duration::from_millis(400), "{delays:?}");
        assert!(delays[0] < Duration::from_millis(200), "{delays:?}");
    }

    #[test]
    fn client_and_error_cross_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Client>();
        shareable::<ClientError>();
        let c = Client::new(config()).unwrap();
        let _clone: Client = c.clone();
    }

    #[test]
    fn tokens_are_renewed_before_expiry() {
        assert_eq!(token_use_time(Some(7200)), Duration::from_secs(6900));
        assert_eq!(token_use_time(None), Duration::from_secs(6900));
        assert_eq!(token_use_time(Some(100)), Duration::from_secs(80));
        assert_eq!(token_use_time(Some(0)), Duration::ZERO);
        // A server's huge `expires_in` is capped: adding it to the clock cannot panic.
        let huge = token_use_time(Some(u64::MAX));
        assert_eq!(huge, Duration::from_secs(MAX_TOKEN_LIFETIME - 300));
        let _ = Instant::now() + huge;
    }

    #[test]
    fn api_base_flag_wins_over_env() {
        assert_eq!(
            choose_api_base(Some("https://a/"), Some("https://b/")),
            "https://a/"
        );
        assert_eq!(choose_api_base(None, Some("https://b/")), "https://b/");
        assert_eq!(choose_api_base(Some(" "), Some("")), DEFAULT_API_BASE);
        assert_eq!(choose_api_base(None, None), DEFAULT_API_BASE);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = config();
        let text = format!("{c:?} {:?}", Client::new(c.clone()).unwrap());
        assert!(!text.contains("s3cr3t-value"), "{text}");
    }

    #[test]
    fn redactor_scrubs_secrets_and_tokens() {
        let c = config();
        let r = Redactor::new(&c.credentials);
        r.remember(1, &Secret::new("TOKEN123"));
        assert_eq!(
            r.redact("corpsecret=s3cr3t-value&access_token=TOKEN123"),
            "corpsecret=***&access_token=***"
        );
        for i in 0..20 {
            r.remember(1, &Secret::new(format!("tok{i:02}")));
        }
        // The credentials stay; old tokens roll off.
        assert_eq!(r.redact("s3cr3t-value tok19"), "*** ***");
    }

    #[test]
    fn redactor_scrubs_the_encoded_forms_of_a_secret() {
        let c = ClientConfig::new(
            "http://127.0.0.1:9/cgi-bin/",
            Credentials::Corp {
                corp_id: "ww1".into(),
                secret: Secret::new("a+b/c=d e\"f"),
            },
        )
        .expect("config");
        let r = Redactor::new(&c.credentials);
        for written in [
            "a+b/c=d e\"f",
            "a%2Bb%2Fc%3Dd+e%22f",
            "a%2Bb%2Fc%3Dd%20e%22f",
            r#"a+b/c=d e\"f"#,
        ] {
            let out = r.redact(&format!("corpsecret={written}&x=1"));
            assert_eq!(out, "corpsecret=***&x=1", "{written}");
        }
    }

    #[test]
    fn decode_classifies_bad_answers() {
        let e =
            decode::<wire::TagListResponse>(Call::List, br#"{"errcode":0,"tag_gr"#).unwrap_err();
        assert!(e.answer_lost() && e.kind() == ErrorKind::Retryable, "{e}");
        let e = decode::<wire::TagListResponse>(Call::List, b"<html>502</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
        let e = decode::<wire::TagListResponse>(Call::List, br#"{"errcode":0,"errmsg":"ok"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("missing field `tag_group`"), "{e}");
        let e = decode::<wire::TagListResponse>(Call::List, br#"{"tag_group":"x"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
        let e = decode::<wire::TagListResponse>(Call::List, br#"[1]"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
        let e =
            decode::<wire::Status>(Call::Edit, br#"{"errcode":60011,"errmsg":"no"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Ownership, "{e}");
        // An error answer need not carry the success field.
        let e =
            decode::<wire::TokenResponse>(Call::GetToken, br#"{"errcode":40001,"errmsg":"bad"}"#)
                .unwrap_err();
        assert_eq!(e.errcode(), Some(40001));
        // A missing errcode reads as 0.
        let t = decode::<wire::TokenResponse>(
            Call::GetCorpToken,
            br#"{"access_token":"x","expires_in":7200}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.as_deref(), Some("x"));
    }

    #[test]
    fn commit_explains_only_matching_refusals() {
        let api = |code| ClientError::Api {
            call: Call::Delete,
            errcode: code,
            errmsg: String::new(),
        };
        assert!(explained_by_commit(Call::Delete, &api(40068)));
        assert!(explained_by_commit(Call::Edit, &api(40071)));
        assert!(!explained_by_commit(Call::Delete, &api(40071)));
        assert!(!explained_by_commit(Call::Edit, &api(48002)));
    }

    #[test]
    fn zero_limits_are_refused() {
        let mut c = config();
        c.rate_per_minute = 0;
        assert!(Client::new(c).is_err());
        let mut c = config();
        c.concurrency = 0;
        assert!(Client::new(c).is_err());
    }

    #[tokio::test]
    async fn refused_connection_is_retried_then_reported_without_secrets() {
        // A port that was just free: connecting to it is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut c = config_at(&format!("http://127.0.0.1:{port}/cgi-bin/"));
        c.max_retries = 2;
        c.min_backoff = Duration::from_millis(1);
        c.max_backoff = Duration::from_millis(2);
        let client = Client::new(c).unwrap();
        let e = client.snapshot().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Retryable, "{e}");
        assert_eq!(e.call(), Some(Call::GetToken), "{e}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("corpsecret"), "{text}");
        assert_eq!(client.stats().gettoken, 3);
        assert_eq!(client.stats().retries, 2);
    }

    #[tokio::test]
    async fn invalid_requests_are_not_sent() {
        let client = Client::new(config()).unwrap();
        let add = wire::AddTagRequest {
            group_id: Some(String::new()),
            tag: vec![wire::NewTag {
                name: "t".into(),
                order: None,
            }],
            ..Default::default()
        };
        let e = client.add(&add).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert_eq!(
            e.to_string(),
            "add_corp_tag not sent: the group id is empty"
        );
        let empty = wire::AddTagRequest {
            group_name: Some("g".into()),
            ..Default::default()
        };
        assert!(client.add(&empty).await.is_err());
        assert!(
            client
                .delete(&wire::DelTagRequest::default())
                .await
                .is_err()
        );
        let edit = wire::EditTagRequest {
            id: "et1".into(),
            ..Default::default()
        };
        assert!(client.edit(&edit).await.is_err());
        let stats = client.stats();
        assert_eq!(stats.tag_calls() + stats.gettoken, 0, "{stats:?}");
    }
}
