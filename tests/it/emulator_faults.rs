//! Fault injection: each fault happens, and leaves the corp consistent.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;
use tagsync::emulator::{CallKind, EmulatorConfig, FaultKind, Faults};
use tagsync::wire::{errcode as code, path};

fn add_body(name: &str) -> Value {
    json!({"group_name": "新组", "tag": [{"name": name}]})
}

fn has_tag(emu: &Emu, name: &str) -> bool {
    emu.handle
        .dump()
        .iter()
        .flat_map(|g| &g.tag)
        .any(|t| t.name == name)
}

async fn post_add(emu: &Emu, token: &str, name: &str) -> reqwest::Response {
    emu.post_raw(
        path::ADD_CORP_TAG,
        Some(token),
        serde_json::to_vec(&add_body(name)).unwrap(),
    )
    .await
}

/// Faults that answer instead of the call: the answer, and nothing changed.
#[tokio::test]
async fn refusing_faults_answer_and_change_nothing() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let cases = [
        (FaultKind::SystemBusy, Some(code::SYSTEM_BUSY), 200),
        (
            FaultKind::VersionConflict,
            Some(code::DATA_VERSION_CONFLICT),
            200,
        ),
        (FaultKind::FrequencyLimit, Some(code::FREQUENCY_LIMIT), 200),
        (
            FaultKind::ConcurrencyLimit,
            Some(code::CONCURRENCY_LIMIT),
            200,
        ),
        (FaultKind::Http500, None, 500),
        (FaultKind::BadGateway, None, 502),
        (FaultKind::WrongShape, Some(0), 200),
        (FaultKind::NotJson, None, 200),
    ];
    for (fault, want, status) in cases {
        emu.handle
            .set_faults(Faults::none().script(CallKind::Add, 1, fault));
        let resp = post_add(&emu, &token, "甲").await;
        assert_eq!(resp.status().as_u16(), status, "{fault:?}");
        let text = resp.text().await.unwrap();
        match want {
            Some(c) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(errcode(&v), c, "{fault:?}");
            }
            None => assert!(
                serde_json::from_str::<Value>(&text).is_err(),
                "{fault:?}: not JSON"
            ),
        }
        assert_eq!(emu.handle.dump(), small_seed(), "{fault:?} changed nothing");
        let last = emu.handle.calls().pop().unwrap();
        assert_eq!(
            (last.kind, last.fault, last.errcode),
            (CallKind::Add, Some(fault), want)
        );
    }
    // The script is used up: the next add goes through.
    let v: Value = post_add(&emu, &token, "甲").await.json().await.unwrap();
    assert_eq!(errcode(&v), 0);
    assert!(has_tag(&emu, "甲"));
}

#[tokio::test]
async fn truncated_json_commits_the_change() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    emu.handle
        .set_faults(Faults::none().script(CallKind::Add, 1, FaultKind::TruncatedJson));
    let resp = post_add(&emu, &token, "乙").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "cut JSON: {text}"
    );
    assert!(text.starts_with('{'));
    assert!(has_tag(&emu, "乙"), "the add was committed");
    let again: Value = post_add(&emu, &token, "乙").await.json().await.unwrap();
    assert_eq!(
        errcode(&again),
        code::TAG_NAME_EXISTS,
        "a blind resend is refused"
    );
}

#[tokio::test]
async fn dropped_connection_after_commit_keeps_the_change() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    emu.handle
        .set_faults(Faults::none().script(CallKind::Add, 1, FaultKind::CommitThenDrop));
    let url = emu.url_q(path::ADD_CORP_TAG, &[("access_token", token.as_str())]);
    let outcome = fetch_whole(emu.http.post(url).json(&add_body("丙"))).await;
    assert!(outcome.is_err(), "the client sees a broken connection");
    assert!(has_tag(&emu, "丙"), "the add was committed");
    let list = emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await;
    assert!(list.to_string().contains("丙"), "and the list shows it");
    let calls = emu.handle.calls();
    let add = calls.iter().find(|c| c.kind == CallKind::Add).unwrap();
    assert_eq!(
        (add.errcode, add.fault),
        (Some(0), Some(FaultKind::CommitThenDrop))
    );
}

#[tokio::test]
async fn dropped_delete_is_committed_too() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    emu.handle
        .set_faults(Faults::none().script(CallKind::Delete, 1, FaultKind::CommitThenDrop));
    let url = emu.url_q(path::DEL_CORP_TAG, &[("access_token", token.as_str())]);
    let group = small_seed()[0].group_id.clone();
    let outcome = fetch_whole(emu.http.post(url).json(&json!({"group_id": [group]}))).await;
    assert!(outcome.is_err());
    assert!(emu.handle.dump().iter().all(|g| g.group_id != group));
}

#[tokio::test]
async fn scripts_count_calls_of_their_kind_only() {
    let emu = start(EmulatorConfig {
        faults: Faults::none().script(CallKind::Edit, 2, FaultKind::SystemBusy),
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    for _ in 0..3 {
        assert_eq!(
            errcode(&emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await),
            0
        );
    }
    let body = json!({"id": "etNope00000000000000000000000000", "name": "x"});
    let codes = [
        errcode(&emu.call(path::EDIT_CORP_TAG, &token, body.clone()).await),
        errcode(&emu.call(path::EDIT_CORP_TAG, &token, body.clone()).await),
        errcode(&emu.call(path::EDIT_CORP_TAG, &token, body).await),
    ];
    assert_eq!(
        codes,
        [code::SYSTEM_BUSY, code::SYSTEM_BUSY, code::INVALID_TAG_ID]
    );
}

#[tokio::test]
async fn gettoken_can_fail_too() {
    let emu = start(EmulatorConfig {
        faults: Faults::none().script(CallKind::GetToken, 1, FaultKind::SystemBusy),
        ..Default::default()
    })
    .await;
    assert_eq!(
        errcode(&emu.gettoken_raw("ww-test-corp", SECRET).await),
        code::SYSTEM_BUSY
    );
    assert_eq!(errcode(&emu.gettoken_raw("ww-test-corp", SECRET).await), 0);
}

/// The pattern of random faults of one emulator run: true where a fault fired.
async fn random_pattern(seed: u64) -> Vec<bool> {
    let emu = start(EmulatorConfig {
        faults: Faults::none()
            .with_seed(seed)
            .random(CallKind::List, FaultKind::SystemBusy, 0.5),
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    let mut out = Vec::new();
    for _ in 0..40 {
        let v = emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await;
        out.push(errcode(&v) == code::SYSTEM_BUSY);
    }
    assert_eq!(
        emu.handle
            .calls()
            .iter()
            .filter(|c| c.fault.is_some())
            .count(),
        out.iter().filter(|f| **f).count(),
        "the log says which calls a fault hit"
    );
    out
}

#[tokio::test]
async fn random_faults_are_deterministic_from_the_seed() {
    let a = random_pattern(7).await;
    assert_eq!(a, random_pattern(7).await, "same seed, same faults");
    assert!(
        a.iter().any(|f| *f) && a.iter().any(|f| !*f),
        "p = 0.5 mixes: {a:?}"
    );
    assert_ne!(a, random_pattern(8).await, "another seed, other faults");
}

#[tokio::test]
async fn random_faults_of_probability_one_always_fire() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    emu.handle
        .set_faults(Faults::none().random(CallKind::Add, FaultKind::VersionConflict, 1.0));
    for name in ["a", "b", "c"] {
        let v: Value = post_add(&emu, &token, name).await.json().await.unwrap();
        assert_eq!(errcode(&v), code::DATA_VERSION_CONFLICT);
    }
    assert_eq!(emu.handle.dump(), small_seed());
    emu.handle.set_faults(Faults::none());
    let v: Value = post_add(&emu, &token, "a").await.json().await.unwrap();
    assert_eq!(errcode(&v), 0, "faults changed at runtime");
}

/// Latency is shown by its effect, not by timing: a call held by it still counts
/// against the concurrency limit when a second call arrives.
#[tokio::test]
async fn latency_holds_calls_in_flight() {
    let emu = start(EmulatorConfig {
        concurrency_limit: Some(1),
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    emu.handle.set_faults(Faults::none().latency(
        CallKind::Add,
        Duration::from_millis(300),
        Duration::from_millis(100),
    ));
    // Both adds are held at least 300 ms, so they overlap whoever arrives first.
    let (a, b) = tokio::join!(post_add(&emu, &token, "慢"), post_add(&emu, &token, "快"));
    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    let mut codes = [errcode(&a), errcode(&b)];
    codes.sort();
    assert_eq!(codes, [0, code::CONCURRENCY_LIMIT]);
    assert!(
        has_tag(&emu, "慢") != has_tag(&emu, "快"),
        "only the admitted add ran"
    );
}

/// A wrong-shape answer is JSON, but not the call's wire shape, for every kind of call.
#[tokio::test]
async fn wrong_shape_answers_do_not_fit_the_wire_types() {
    use tagsync::wire;
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let mut faults = Faults::none();
    for kind in CallKind::ALL {
        faults = faults.script(kind, 1, FaultKind::WrongShape);
    }
    emu.handle.set_faults(faults);
    let text = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "JSON: {text}");
        text
    };
    let get = emu.http.get(emu.url_q(
        path::GET_TOKEN,
        &[("corpid", emu.corp_id.as_str()), ("corpsecret", SECRET)],
    ));
    let t = text(get.send().await.unwrap()).await;
    assert!(
        serde_json::from_str::<wire::TokenResponse>(&t).is_err(),
        "{t}"
    );
    for p in [path::GET_SUITE_TOKEN, path::GET_CORP_TOKEN] {
        let t = text(emu.http.post(emu.url(p)).body("{}").send().await.unwrap()).await;
        let fits = match p {
            path::GET_SUITE_TOKEN => serde_json::from_str::<wire::SuiteTokenResponse>(&t).is_ok(),
            _ => serde_json::from_str::<wire::TokenResponse>(&t).is_ok(),
        };
        assert!(!fits, "{p}: {t}");
    }
    for (p, body) in [
        (path::GET_CORP_TAG_LIST, json!({})),
        (path::ADD_CORP_TAG, add_body("丁")),
        (path::EDIT_CORP_TAG, json!({"id": "etX", "name": "x"})),
        (path::DEL_CORP_TAG, json!({"tag_id": ["etX"]})),
        (path::GET_STRATEGY_TAG_LIST, json!({})),
        (
            path::ADD_STRATEGY_TAG,
            json!({"strategy_id": 1, "group_name": "g", "tag": [{"name": "t"}]}),
        ),
        (path::EDIT_STRATEGY_TAG, json!({"id": "etX", "name": "x"})),
        (path::DEL_STRATEGY_TAG, json!({"tag_id": ["etX"]})),
        (path::STRATEGY_LIST, json!({})),
        (path::STRATEGY_GET, json!({"strategy_id": 1})),
    ] {
        let resp = emu
            .post_raw(p, Some(&token), serde_json::to_vec(&body).unwrap())
            .await;
        let t = text(resp).await;
        let fits = match p {
            path::GET_CORP_TAG_LIST | path::GET_STRATEGY_TAG_LIST => {
                serde_json::from_str::<wire::TagListResponse>(&t).is_ok()
            }
            path::ADD_CORP_TAG | path::ADD_STRATEGY_TAG => {
                serde_json::from_str::<wire::AddTagResponse>(&t).is_ok()
            }
            path::STRATEGY_LIST => serde_json::from_str::<wire::RuleGroupListResponse>(&t).is_ok(),
            path::STRATEGY_GET => serde_json::from_str::<wire::RuleGroupGetResponse>(&t).is_ok(),
            _ => serde_json::from_str::<wire::Status>(&t).is_ok(),
        };
        assert!(!fits, "{p}: {t}");
    }
    assert_eq!(emu.handle.dump(), small_seed(), "nothing changed");
    let faulted = emu
        .handle
        .calls()
        .iter()
        .filter(|c| c.fault.is_some())
        .count();
    assert_eq!(faulted, CallKind::ALL.len());
}
