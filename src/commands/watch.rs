//! `tagsync watch`: drift in seconds. WeCom pushes a `change_external_tag` event to the
//! app's callback URL for every change to the corp's tags, by anyone. This command
//! answers the URL check, verifies and decrypts every event (`wire::callback`), and
//! debounces a burst into one re-read of the corp and one plan. Each time the plan
//! changes it reports once: the plan's JSON as one line on stdout, and optionally the
//! Markdown plan to a WeCom group robot and a POST to a trigger URL (CI). It applies
//! nothing unless `--apply-on-drift`: then a drift that passes the plan's gates is put
//! back as `tagsync plan --apply` would (lock, re-read, apply, verify), and the apply's
//! JSON report is one more line.
//!
//! Decisions where the spec is silent:
//! - The file is read again before every plan (a deploy or `git pull` changes it).
//! - A report is made when the plan differs from the last one reported, including when
//!   it becomes empty again (the drift was undone), so a consumer can close its issue.
//! - The first plan runs at start, so drift that happened while nothing listened is
//!   reported too.
//! - A burst is read once `--debounce-ms` passed without a new event, but at the latest
//!   after ten such windows, so a steady stream still gets read.
//! - A refused callback (bad signature, wrong receiver, not XML) gets HTTP 400 and no
//!   body; the log names the reason, never the payload, token or key.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use tokio::sync::Notify;

use super::args::{PlanArgs, WatchArgs};
use super::plan::{ApplyJob, make_plan};
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::desired;
use crate::exit::Exit;
use crate::render::{self, Context, Format};
use crate::wire::callback::{Crypto, TagEvent, xml_field};

/// The token and key of the callback URL.
pub const ENV_CALLBACK_TOKEN: &str = "WECOM_CALLBACK_TOKEN";
pub const ENV_CALLBACK_AES_KEY: &str = "WECOM_CALLBACK_AES_KEY";
/// Sent as a bearer token to `--trigger-url`.
pub const ENV_TRIGGER_TOKEN: &str = "TAGSYNC_TRIGGER_TOKEN";

/// The most a callback body may hold (WeCom's are well under 2 kB).
const BODY_MAX: usize = 64 * 1024;
/// A group robot takes at most 4096 bytes of Markdown; a character may be 3.
const ROBOT_CHARS: usize = 1300;

/// `tagsync watch`.
pub fn cmd_watch(args: &WatchArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

/// What the callback handlers share with the worker that plans.
struct Shared {
    crypto: Crypto,
    /// Events accepted so far.
    events: AtomicU64,
    wake: Notify,
}

/// The query of a callback.
#[derive(Default)]
struct Signed {
    msg_signature: String,
    timestamp: String,
    nonce: String,
    echostr: Option<String>,
}

impl Signed {
    fn parse(query: Option<String>) -> Signed {
        let mut s = Signed::default();
        let Some(q) = query else { return s };
        let Ok(url) = reqwest::Url::parse(&format!("http://callback/?{q}")) else {
            return s;
        };
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "msg_signature" => s.msg_signature = v.into_owned(),
                "timestamp" => s.timestamp = v.into_owned(),
                "nonce" => s.nonce = v.into_owned(),
                "echostr" => s.echostr = Some(v.into_owned()),
                _ => {}
            }
        }
        s
    }
}

async fn run(args: &WatchArgs) -> Result<Exit, CommandError> {
    let secret = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                CommandError::Other(format!(
                    "{name} is not set: it must hold the callback URL's {} (the app's API \
                     receiving settings in the WeCom admin console)",
                    if name == ENV_CALLBACK_TOKEN {
                        "Token"
                    } else {
                        "EncodingAESKey"
                    }
                ))
            })
    };
    for (flag, url) in [
        ("--notify-url", &args.notify_url),
        ("--trigger-url", &args.trigger_url),
    ] {
        if let Some(url) = url {
            crate::remote::base_url::check_webhook_url(flag, url).map_err(CommandError::Other)?;
        }
    }
    let token = secret(ENV_CALLBACK_TOKEN)?;
    let key = secret(ENV_CALLBACK_AES_KEY)?;
    // The file must be valid to start; later edits are read before each plan.
    load_desired(&args.config)?;
    let remote = remote_setup::connect(&args.remote).await?;
    let receive_id = args.receive_id.clone().unwrap_or(remote.corp_id.clone());
    let crypto = Crypto::new(&token, &key, &receive_id)
        .map_err(|e| CommandError::Other(format!("{ENV_CALLBACK_AES_KEY}: {e}")))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CommandError::Other(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CommandError::Other(format!("cannot listen on {}: {e}", args.listen)))?;
    let shared = Arc::new(Shared {
        crypto,
        events: AtomicU64::new(0),
        wake: Notify::new(),
    });
    let path = if args.path.starts_with('/') {
        args.path.clone()
    } else {
        format!("/{}", args.path)
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(&path, get(url_check).post(event))
        .layer(DefaultBodyLimit::max(BODY_MAX))
        .with_state(shared.clone());
    eprintln!("watching: callbacks on http://{addr}{path}; health on http://{addr}/healthz");
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(super::emulator::wait_for_stop())
            .await
    });
    let worker = Worker::new(args, &remote);
    let watched = worker.run(&shared, server).await;
    remote.shutdown().await;
    watched
}

/// The URL check: verify, decrypt `echostr`, answer its plaintext.
async fn url_check(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Vec<u8>, StatusCode> {
    let q = Signed::parse(query);
    let echo = q.echostr.as_deref().ok_or(StatusCode::BAD_REQUEST)?;
    if !shared
        .crypto
        .verify(&q.msg_signature, &q.timestamp, &q.nonce, echo)
    {
        tracing::warn!("refused a URL check: the signature does not match");
        return Err(StatusCode::BAD_REQUEST);
    }
    shared.crypto.decrypt(echo).map_err(|e| {
        tracing::warn!("refused a URL check: {e}");
        StatusCode::BAD_REQUEST
    })
}

/// An event: verify, decrypt, and wake the worker; answer at once.
async fn event(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<&'static str, StatusCode> {
    let q = Signed::parse(query);
    let refuse = |why: &str| {
        tracing::warn!("refused a callback: {why}");
        StatusCode::BAD_REQUEST
    };
    let encrypted = xml_field(&body, "Encrypt").ok_or_else(|| refuse("no <Encrypt> element"))?;
    if !shared
        .crypto
        .verify(&q.msg_signature, &q.timestamp, &q.nonce, &encrypted)
    {
        return Err(refuse("the signature does not match"));
    }
    let plain = shared
        .crypto
        .decrypt(&encrypted)
        .map_err(|e| refuse(&e.to_string()))?;
    let xml = String::from_utf8(plain).map_err(|_| refuse("the message is not UTF-8"))?;
    match TagEvent::from_xml(&xml) {
        Some(e) => {
            tracing::info!(
                id = %crate::sanitize::for_terminal(&e.id),
                change = %crate::sanitize::for_terminal(&e.change_type),
                "tag event"
            );
            shared.events.fetch_add(1, Ordering::Relaxed);
            shared.wake.notify_one();
        }
        None => tracing::info!("an event other than change_external_tag: ignored"),
    }
    Ok("success")
}

/// Reads the corp after each burst and reports each new plan.
struct Worker<'a> {
    args: PlanArgs,
    remote: &'a Remote,
    debounce: Duration,
    notify_url: Option<String>,
    trigger_url: Option<String>,
    apply_on_drift: bool,
    http: Option<reqwest::Client>,
    /// The steps of the last plan reported, as JSON.
    last: Option<String>,
}

impl<'a> Worker<'a> {
    fn new(args: &WatchArgs, remote: &'a Remote) -> Worker<'a> {
        let plan_args = PlanArgs {
            config: args.config.clone(),
            file: None,
            format: Format::Json,
            detailed_exitcode: false,
            apply: false,
            out: None,
            summary: None,
            allow_delete: args.allow_delete,
            tag_limit: crate::plan::TAG_LIMIT,
            parallelism: 1,
            remote: args.remote.clone(),
        };
        let http = (args.notify_url.is_some() || args.trigger_url.is_some())
            .then(|| {
                crate::remote::install_crypto_provider();
                // No redirects: a redirect could carry the plan or the trigger token to a
                // host the flags did not name. A client that cannot be built that way
                // sends nothing (never a default one, which follows redirects).
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| tracing::error!("no webhook will be called: {e}"))
                    .ok()
            })
            .flatten();
        Worker {
            args: plan_args,
            remote,
            debounce: Duration::from_millis(args.debounce_ms),
            notify_url: args.notify_url.clone(),
            trigger_url: args.trigger_url.clone(),
            apply_on_drift: args.apply_on_drift,
            http,
            last: None,
        }
    }

    async fn run(
        mut self,
        shared: &Shared,
        mut server: tokio::task::JoinHandle<std::io::Result<()>>,
    ) -> Result<Exit, CommandError> {
        self.check().await;
        loop {
            tokio::select! {
                done = &mut server => {
                    let stopped = |e: &dyn std::fmt::Display| {
                        CommandError::Other(format!("the callback server stopped: {e}"))
                    };
                    return match done {
                        Ok(Ok(())) => Ok(Exit::Success),
                        Ok(Err(e)) => Err(stopped(&e)),
                        Err(e) => Err(stopped(&e)),
                    };
                }
                () = shared.wake.notified() => {}
            }
            // Let the burst settle: read once no event came for a window (at most ten).
            for _ in 0..10 {
                let seen = shared.events.load(Ordering::Relaxed);
                tokio::time::sleep(self.debounce).await;
                if shared.events.load(Ordering::Relaxed) == seen {
                    break;
                }
            }
            self.check().await;
        }
    }

    /// Read the file and the corp, plan, and report when the plan changed.
    async fn check(&mut self) {
        let desired = match load_desired(&self.args.config) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return;
            }
        };
        let planned = match make_plan(&self.args, desired, self.remote, None).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return;
            }
        };
        let steps = serde_json::to_string(&planned.plan.steps).unwrap_or_default();
        if self.last.as_deref() == Some(steps.as_str()) {
            return;
        }
        let first = self.last.is_none();
        self.last = Some(steps);
        if first && planned.plan.is_empty() {
            tracing::info!("the corp equals the file");
            return;
        }
        let file = self.args.config.display().to_string();
        let ctx = Context {
            corp_id: &self.remote.corp_id,
            file: &file,
            remote: &planned.snapshot,
            whole_plan: None,
        };
        let json = render::json::render(&planned.plan, &ctx);
        let line = serde_json::from_str::<serde_json::Value>(&json)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| json.replace('\n', " "));
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
        if planned.plan.is_empty() {
            return;
        }
        if self.apply_on_drift && !planned.plan.blocked() {
            self.apply().await;
        }
        let Some(http) = &self.http else { return };
        if let Some(url) = &self.notify_url {
            let md = render::markdown::render_capped(&planned.plan, &ctx, ROBOT_CHARS);
            let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": md}});
            post(http, url, &body, None, "the robot").await;
        }
        if let Some(url) = &self.trigger_url {
            let body = serde_json::json!({
                "event_type": "tagsync-drift",
                "client_payload": {"corp_id": self.remote.corp_id, "calls": planned.plan.calls()},
            });
            let token = std::env::var(ENV_TRIGGER_TOKEN)
                .ok()
                .filter(|t| !t.is_empty());
            post(http, url, &body, token.as_deref(), "the trigger").await;
        }
    }
}

impl Worker<'_> {
    /// `tagsync plan --apply`: lock the ledger, read the corp again, plan, and apply
    /// what passes the gates; the report is one JSON line.
    async fn apply(&self) {
        let mut args = self.args.clone();
        args.apply = true;
        let run = async {
            let _lock = remote_setup::lock_ledger(&args.remote, &args.config, self.remote)?;
            let desired = load_desired(&args.config)?;
            let planned = make_plan(&args, desired, self.remote, None).await?;
            if planned.plan.is_empty() || planned.plan.blocked() {
                return Ok(Exit::Success);
            }
            let file = args.config.display().to_string();
            let ctx = Context {
                corp_id: &self.remote.corp_id,
                file: &file,
                remote: &planned.snapshot,
                whole_plan: None,
            };
            let mut ledger = planned.ledger;
            let job = ApplyJob {
                plan: &planned.plan,
                desired: &planned.desired,
                options: &planned.options,
                format: Format::Json,
                parallelism: 4,
                ctx: &ctx,
                one_line: true,
            };
            job.run(self.remote, &mut ledger, planned.ledger_path.as_deref())
                .await
        };
        match run.await {
            Ok(exit) if exit != Exit::Success => {
                eprintln!(
                    "warning: the apply on drift ended with exit code {}",
                    exit as i32
                );
            }
            Ok(_) => {}
            Err(e) => eprintln!("error: the apply on drift: {e}"),
        }
    }
}

/// The desired file, read and validated.
fn load_desired(config: &std::path::Path) -> Result<desired::Desired, CommandError> {
    let bytes = desired::read_file(config)?;
    Ok(desired::load_bytes(&bytes, &config.display().to_string())?)
}

/// POST `body`; a failure is logged (without the URL's query, which may hold a token).
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    bearer: Option<&str>,
    what: &str,
) {
    let mut req = http.post(url).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) if r.status().is_success() => tracing::info!("notified {what}"),
        Ok(r) => eprintln!("warning: {what} answered HTTP {}", r.status()),
        Err(e) => eprintln!("warning: cannot reach {what}: {}", e.without_url()),
    }
}
