//! The emulator's change callbacks: after every change made through it (any app's call,
//! or an admin-console edit) it POSTs WeCom's encrypted `change_external_tag` events to
//! the configured URL, so `tagsync watch` is tested end to end.
//!
//! Plain `http://` only (the emulator is a local test server), one connection per event,
//! sent in the background in the order the changes were made; a failed delivery is
//! dropped (WeCom retries three times; tests that need retries send their own).

use std::io::Write as _;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::wire::callback::{Crypto, TagEvent, envelope};

/// Where and how the events go.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    corp_id: String,
    queue: tokio::sync::mpsc::UnboundedSender<TagEvent>,
}

impl Sender {
    /// Inside a runtime: the task that delivers events starts now.
    pub(crate) fn start(target: &super::CallbackTarget, corp_id: &str) -> Result<Sender, String> {
        let url = reqwest::Url::parse(&target.url)
            .ok()
            .filter(|u| u.scheme() == "http" && u.host_str().is_some())
            .ok_or_else(|| format!("callback url {:?} is not an http:// URL", target.url))?;
        let crypto = Crypto::new(&target.token, &target.aes_key, corp_id)
            .map_err(|e| format!("callback aes_key: {e}"))?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "callbacks need the async runtime".to_string())?;
        let (queue, mut events) = tokio::sync::mpsc::unbounded_channel::<TagEvent>();
        let corp = corp_id.to_string();
        runtime.spawn(async move {
            while let Some(e) = events.recv().await {
                let _ = deliver(&url, &crypto, &corp, &e).await;
            }
        });
        Ok(Sender {
            corp_id: corp_id.to_string(),
            queue,
        })
    }

    /// Queue events (in order); nothing waits for them.
    /// Each change: the id, `tag` or `tag_group`, the change type, and the rule group
    /// of a rule-group tag.
    pub(crate) fn send(&self, changes: Vec<(String, &'static str, &'static str, Option<u64>)>) {
        let now = super::answer::unix_now();
        for (id, tag_type, change_type, strategy) in changes {
            let _ = self.queue.send(TagEvent {
                to: self.corp_id.clone(),
                create_time: now,
                id,
                tag_type: tag_type.into(),
                change_type: change_type.into(),
                strategy_id: strategy.map(|s| s.to_string()),
            });
        }
    }
}

/// POST one event, signed and sealed as WeCom does.
async fn deliver(
    url: &reqwest::Url,
    crypto: &Crypto,
    corp_id: &str,
    e: &TagEvent,
) -> std::io::Result<()> {
    let random: [u8; 16] = rand::random();
    let sealed = crypto.encrypt(e.to_xml().as_bytes(), random);
    let timestamp = super::answer::unix_now().to_string();
    let nonce = rand::random::<u32>().to_string();
    let signature = crypto.sign(&timestamp, &nonce, &sealed);
    let body = envelope(corp_id, &sealed);
    let mut target = url.clone();
    target
        .query_pairs_mut()
        .append_pair("msg_signature", &signature)
        .append_pair("timestamp", &timestamp)
        .append_pair("nonce", &nonce);
    let host = target.host_str().unwrap_or("127.0.0.1").to_string();
    let port = target.port_or_known_default().unwrap_or(80);
    let mut path = target.path().to_string();
    if let Some(q) = target.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut req = Vec::new();
    write!(
        req,
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut conn = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    conn.write_all(&req).await?;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        conn.read_to_end(&mut answer),
    )
    .await;
    Ok(())
}
