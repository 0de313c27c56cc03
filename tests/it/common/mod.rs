//! Helpers for the emulator tests: start one, get tokens, call it over HTTP.
#![allow(dead_code)]

pub mod bin;
pub mod scenarios;

use serde_json::{Value, json};
use std::time::Duration;
use tagsync::emulator::{self, App, EmulatorConfig, EmulatorHandle, SeedGroup, SeedTag};

use tagsync::remote::{Client, ClientConfig, Credentials, Secret};
use tagsync::wire;

pub const SECRET: &str = "test-secret";
pub const OTHER_SECRET: &str = "other-secret";
pub const LEGACY_SECRET: &str = "legacy-secret";

/// The apps of most tests: ours (`tagsync`), another app, and the legacy secret.
pub fn three_apps() -> Vec<App> {
    let app = |name: &str, secret: &str, legacy| App {
        name: name.into(),
        secret: secret.into(),
        legacy,
    };
    vec![
        app("tagsync", SECRET, false),
        app("crm", OTHER_SECRET, false),
        app("legacy", LEGACY_SECRET, true),
    ]
}

pub fn tag(id: &str, name: &str, order: u32, owner: Option<&str>) -> SeedTag {
    SeedTag {
        tag: wire::Tag {
            id: id.into(),
            name: name.into(),
            create_time: 1_600_000_000,
            order,
            deleted: false,
        },
        owner: owner.map(String::from),
    }
}

pub fn group(
    id: &str,
    name: &str,
    order: u32,
    owner: Option<&str>,
    tags: Vec<SeedTag>,
) -> SeedGroup {
    SeedGroup {
        group: wire::TagGroup {
            group_id: id.into(),
            group_name: name.into(),
            create_time: 1_600_000_000,
            order,
            deleted: false,
            tag: tags,
            strategy_id: None,
        },
        owner: owner.map(String::from),
    }
}

/// A corp: 客户等级 (ours, 2 tags), 行业 (admin console), 来源 (the other app).
pub fn small_seed() -> Vec<SeedGroup> {
    vec![
        group(
            "etGroupOurs00000000000000000000",
            "客户等级",
            30,
            Some("tagsync"),
            vec![
                tag(
                    "etTagVip000000000000000000000000",
                    "VIP",
                    2,
                    Some("tagsync"),
                ),
                tag(
                    "etTagNormal000000000000000000000",
                    "普通客户",
                    1,
                    Some("tagsync"),
                ),
            ],
        ),
        group(
            "etGroupAdmin0000000000000000000",
            "行业",
            20,
            None,
            vec![
                tag("etTagMaking000000000000000000000", "制造业", 0, None),
                tag("etTagRetail000000000000000000000", "零售", 0, None),
            ],
        ),
        group(
            "etGroupCrm000000000000000000000",
            "来源",
            10,
            Some("crm"),
            vec![tag(
                "etTagWeb0000000000000000000000000",
                "官网",
                0,
                Some("crm"),
            )],
        ),
    ]
}

pub struct Emu {
    pub handle: EmulatorHandle,
    pub http: reqwest::Client,
    pub corp_id: String,
}

/// A plain HTTP client for calls the tests make themselves (rustls's provider installed
/// first, as tagsync's client does).
pub fn http() -> reqwest::Client {
    tagsync::remote::install_crypto_provider();
    reqwest::Client::new()
}

pub async fn start(config: EmulatorConfig) -> Emu {
    let corp_id = config.corp_id.clone();
    let handle = emulator::start(config).await.expect("emulator starts");
    Emu {
        handle,
        http: http(),
        corp_id,
    }
}

/// Three apps and the small seed.
pub async fn start_small() -> Emu {
    start(EmulatorConfig {
        apps: three_apps(),
        seed: small_seed(),
        ..Default::default()
    })
    .await
}

impl Emu {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.handle.base_url(), path)
    }

    /// The URL of `path` with these query parameters.
    pub fn url_q(&self, path: &str, query: &[(&str, &str)]) -> String {
        url::Url::parse_with_params(&self.url(path), query)
            .expect("valid URL")
            .to_string()
    }

    /// `gettoken` with this secret; the raw JSON answer.
    pub async fn gettoken_raw(&self, corp_id: &str, secret: &str) -> Value {
        fetch_json(self.http.get(self.url_q(
            wire::path::GET_TOKEN,
            &[("corpid", corp_id), ("corpsecret", secret)],
        )))
        .await
    }

    pub async fn token(&self, secret: &str) -> String {
        let v = self.gettoken_raw(&self.corp_id, secret).await;
        assert_eq!(v["errcode"], 0, "{v}");
        v["access_token"].as_str().expect("token").to_owned()
    }

    /// POSTs raw bytes to `path` with this token (`None`: no token in the query).
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let url = match token {
            Some(t) => self.url_q(path, &[("access_token", t)]),
            None => self.url(path),
        };
        self.http
            .post(url)
            .body(body)
            .send()
            .await
            .expect("answered")
    }

    /// POSTs JSON to `path` and returns the JSON answer.
    pub async fn call(&self, path: &str, token: &str, body: Value) -> Value {
        let bytes = serde_json::to_vec(&body).expect("body");
        let resp = self.post_raw(path, Some(token), bytes).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("JSON answer")
    }

    /// Calls with the token of `secret`.
    pub async fn call_as(&self, secret: &str, path: &str, body: Value) -> Value {
        let token = self.token(secret).await;
        self.call(path, &token, body).await
    }

    pub async fn list_all(&self) -> Value {
        self.call_as(SECRET, wire::path::GET_CORP_TAG_LIST, json!({}))
            .await
    }
}

/// Sends a request and reads its JSON answer (panics on a broken answer: tests only).
pub async fn fetch_json(req: reqwest::RequestBuilder) -> Value {
    req.send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON answer")
}

/// Sends a request and reads the whole answer; `Err` when the connection broke.
pub async fn fetch_whole(req: reqwest::RequestBuilder) -> Result<(), reqwest::Error> {
    req.send().await?.bytes().await.map(|_| ())
}

pub fn errcode(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or(i64::MIN)
}

/// Rename the tag named `from` to `to` as the admin console would: through the legacy
/// secret, which may edit anything.
pub async fn rename_as_admin(emu: &EmulatorHandle, from: &str, to: &str) {
    let legacy = admin(emu);
    let snapshot = legacy.snapshot().await.expect("list");
    let id = snapshot
        .groups
        .iter()
        .flat_map(|g| &g.tags)
        .find(|t| t.name == from)
        .map(|t| t.id.clone())
        .unwrap_or_else(|| panic!("no tag {from}"));
    legacy
        .edit(&wire::EditTagRequest {
            id,
            name: Some(to.into()),
            order: None,
            agentid: None,
        })
        .await
        .expect("edit");
}

/// The client's configuration for `emu` as the app of `secret`, with short retry delays
/// so that injected faults do not slow the suite.
pub fn client_config(emu: &EmulatorHandle, secret: &str) -> ClientConfig {
    let credentials = Credentials::Corp {
        corp_id: bin::CORP.into(),
        secret: Secret::new(secret),
    };
    let mut c = ClientConfig::new(&emu.base_url(), credentials).expect("loopback base");
    c.min_backoff = Duration::from_millis(1);
    c.max_backoff = Duration::from_millis(4);
    c.limit_backoff = Duration::from_millis(1);
    c
}

/// A client of `emu` as the app of `secret` ([`client_config`]).
pub fn client_as(emu: &EmulatorHandle, secret: &str) -> Client {
    Client::new(client_config(emu, secret)).expect("client")
}

/// A client with the legacy secret, standing for the admin console.
fn admin(emu: &EmulatorHandle) -> Client {
    client_as(emu, LEGACY_SECRET)
}

/// Add the tag `name` to the group named `group` (made when missing), as the admin
/// console would.
pub async fn add_as_admin(emu: &EmulatorHandle, group: &str, name: &str) {
    admin(emu)
        .add(&wire::AddTagRequest {
            group_id: None,
            group_name: Some(group.into()),
            order: None,
            tag: vec![wire::NewTag {
                name: name.into(),
                order: None,
            }],
            agentid: None,
            strategy_id: None,
        })
        .await
        .expect("add");
}
