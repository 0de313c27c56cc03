//! The WeCom client against the emulator, over HTTP on loopback, with the emulator's
//! fault injection for the bad answers.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tagsync::emulator::{
    self, App, AppAccess, CallKind, EmulatorConfig, EmulatorHandle, FaultKind, Faults, Suite,
};
use tagsync::remote::{
    Call, Client, ClientConfig, ClientError, Credentials, ErrorKind, Secret, Snapshot,
};
use tagsync::wire;

use crate::common::bin::CORP;
use crate::common::{self, SECRET};

async fn start(config: EmulatorConfig) -> EmulatorHandle {
    emulator::start(config).await.expect("the emulator starts")
}

async fn emulator() -> EmulatorHandle {
    start(EmulatorConfig::default()).await
}

/// Fast backoff so retries do not slow the suite; everything else default.
fn config_with(handle: &EmulatorHandle, secret: &str) -> ClientConfig {
    common::client_config(handle, secret)
}

fn client(handle: &EmulatorHandle) -> Client {
    common::client_as(handle, SECRET)
}

fn add_request(group: &str, tags: &[&str]) -> wire::AddTagRequest {
    wire::AddTagRequest {
        group_name: Some(group.into()),
        tag: tags
            .iter()
            .map(|t| wire::NewTag {
                name: (*t).into(),
                order: None,
            })
            .collect(),
        ..Default::default()
    }
}

fn rename(id: &str, name: &str) -> wire::EditTagRequest {
    wire::EditTagRequest {
        id: id.into(),
        name: Some(name.into()),
        ..Default::default()
    }
}

/// One group of three tags, made through the client.
async fn seed(client: &Client) -> wire::TagGroup {
    client
        .add(&add_request("客户等级", &["重要", "普通", "潜在"]))
        .await
        .expect("seed add")
}

fn names(snapshot: &Snapshot) -> Vec<(String, Vec<String>)> {
    snapshot
        .groups
        .iter()
        .map(|g| {
            (
                g.name.clone(),
                g.tags.iter().map(|t| t.name.clone()).collect(),
            )
        })
        .collect()
}

fn dumped_names(handle: &EmulatorHandle) -> Vec<(String, Vec<String>)> {
    handle
        .dump()
        .into_iter()
        .map(|g| {
            (
                g.group.group_name,
                g.group.tag.into_iter().map(|t| t.tag.name).collect(),
            )
        })
        .collect()
}

fn calls_of(handle: &EmulatorHandle, kind: CallKind) -> usize {
    handle.calls().iter().filter(|c| c.kind == kind).count()
}

fn faults() -> Faults {
    Faults::none()
}

#[tokio::test]
async fn add_list_edit_delete_round_trip() {
    let handle = emulator().await;
    let client = client(&handle);
    let group = seed(&client).await;
    assert_eq!(group.group_name, "客户等级");
    assert_eq!(group.tag.len(), 3);
    assert!(group.tag.iter().all(|t| !t.id.is_empty()));

    let snap = client.snapshot().await.unwrap();
    assert_eq!(names(&snap), dumped_names(&handle));
    assert_eq!(snap.tag_count(), 3);

    let by_group = client
        .list(&wire::TagListRequest {
            group_id: vec![group.group_id.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_group.len(), 1);
    assert_eq!(by_group[0].group_id, group.group_id);

    client
        .edit(&rename(&group.tag[0].id, "最重要"))
        .await
        .unwrap();
    client
        .delete(&wire::DelTagRequest {
            tag_id: vec![group.tag[1].id.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let snap = client.snapshot().await.unwrap();
    assert_eq!(
        names(&snap),
        vec![(
            "客户等级".to_string(),
            vec!["最重要".to_string(), "潜在".to_string()]
        )]
    );
    assert_eq!(names(&snap), dumped_names(&handle));

    let stats = client.stats();
    assert_eq!(
        (
            stats.gettoken,
            stats.add,
            stats.list,
            stats.edit,
            stats.delete
        ),
        (1, 1, 3, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.tag_calls(), 6);
}

#[tokio::test]
async fn vendor_errors_are_classified_and_explained() {
    let mut config = EmulatorConfig::default();
    config.apps.push(App {
        name: "other".into(),
        secret: "other-secret".into(),
        legacy: false,
    });
    let handle = start(config).await;
    let ours = client(&handle);
    let theirs = Client::new(config_with(&handle, "other-secret")).unwrap();
    let foreign = seed(&theirs).await;

    // Ownership: another app's tag.
    let e = ours
        .edit(&rename(&foreign.tag[0].id, "x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ownership, "{e}");
    assert_eq!(e.call(), Some(Call::Edit));
    assert!(e.errmsg().is_some_and(|m| !m.is_empty()), "{e:?}");
    assert!(e.to_string().contains("did not create"), "{e}");

    // Invalid request: an id that does not exist.
    let e = ours
        .delete(&wire::DelTagRequest {
            tag_id: vec!["etDOESNOTEXIST".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e}");
    assert_eq!(e.errcode(), Some(40068));

    // A bad secret: one gettoken, no loop, a clear message.
    let bad = Client::new(config_with(&handle, "wrong-secret")).unwrap();
    let e = bad.snapshot().await.unwrap_err();
    assert_eq!(e.errcode(), Some(40001), "{e}");
    assert_eq!(e.kind(), ErrorKind::Token);
    assert!(e.to_string().contains("WECOM_CORP_SECRET"), "{e}");
    assert_eq!(bad.stats().gettoken, 1);
    assert_eq!(bad.stats().list, 0);
}

#[tokio::test]
async fn html_502_is_retried() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    handle.set_faults(faults().script(CallKind::List, 2, FaultKind::BadGateway));
    let snap = client.snapshot().await.unwrap();
    assert_eq!(names(&snap), dumped_names(&handle));
    assert_eq!(client.stats().list, 3);
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn html_502_past_the_retry_count_gives_up() {
    let handle = emulator().await;
    let mut config = config_with(&handle, SECRET);
    config.max_retries = 2;
    let client = Client::new(config).unwrap();
    handle.set_faults(faults().script(CallKind::List, 10, FaultKind::BadGateway));
    let e = client.snapshot().await.unwrap_err();
    assert!(
        matches!(e, ClientError::GaveUp { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Retryable);
    assert!(e.to_string().contains("HTTP status 502"), "{e}");
    assert_eq!(client.stats().list, 3);
}

#[tokio::test]
async fn truncated_json_on_a_read_is_retried() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    handle.set_faults(faults().script(CallKind::List, 1, FaultKind::TruncatedJson));
    let snap = client.snapshot().await.unwrap();
    assert_eq!(snap.tag_count(), 3);
    assert_eq!(client.stats().list, 2);
}

#[tokio::test]
async fn truncated_json_on_add_is_ambiguous_and_not_resent() {
    let handle = emulator().await;
    let client = client(&handle);
    handle.set_faults(faults().script(CallKind::Add, 1, FaultKind::TruncatedJson));
    let e = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert!(e.to_string().contains("may have been made"), "{e}");
    assert_eq!(calls_of(&handle, CallKind::Add), 1);
    // It was committed: a re-read finds it.
    let snap = client.snapshot().await.unwrap();
    assert_eq!(
        names(&snap),
        vec![("来源".to_string(), vec!["官网".to_string()])]
    );
}

#[tokio::test]
async fn http_500_on_add_is_ambiguous_and_not_resent() {
    let handle = emulator().await;
    let client = client(&handle);
    handle.set_faults(faults().script(CallKind::Add, 1, FaultKind::Http500));
    let e = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert_eq!(calls_of(&handle, CallKind::Add), 1);
    assert_eq!(client.stats().add, 1);
}

#[tokio::test]
async fn system_busy_five_times_in_a_row_then_success() {
    let handle = emulator().await;
    let client = client(&handle); // default: 5 retries
    handle.set_faults(
        faults()
            .script(CallKind::Add, 5, FaultKind::SystemBusy)
            .script(CallKind::List, 5, FaultKind::SystemBusy),
    );
    // -1 answers say nothing was done: add is retried, and exactly one group results.
    seed(&client).await;
    assert_eq!(calls_of(&handle, CallKind::Add), 6);
    let snap = client.snapshot().await.unwrap();
    assert_eq!(snap.groups.len(), 1);
    assert_eq!(snap.tag_count(), 3);
    assert_eq!(client.stats().retries, 10);

    // A sixth -1 in a row is past the retry count.
    handle.set_faults(faults().script(CallKind::List, 6, FaultKind::SystemBusy));
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.errcode(), Some(-1), "{e}");
    assert!(
        matches!(e, ClientError::GaveUp { attempts: 6, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn concurrency_limit_answers_lower_the_cap() {
    let handle = emulator().await;
    let client = client(&handle);
    assert_eq!(client.stats().concurrency, 4);
    seed(&client).await;
    handle.set_faults(faults().script(CallKind::List, 2, FaultKind::ConcurrencyLimit));
    let snap = client.snapshot().await.unwrap();
    assert_eq!(snap.tag_count(), 3);
    let stats = client.stats();
    assert_eq!((stats.concurrency, stats.retries, stats.list), (2, 2, 3));
    // Still at least one.
    handle.set_faults(faults().script(CallKind::List, 5, FaultKind::ConcurrencyLimit));
    client.snapshot().await.unwrap();
    assert_eq!(client.stats().concurrency, 1);
}

#[tokio::test]
async fn token_expiring_between_two_calls_is_refreshed_once() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    handle.expire_tokens();
    let snap = client.snapshot().await.unwrap();
    assert_eq!(snap.tag_count(), 3);
    let stats = client.stats();
    assert_eq!(stats.gettoken, 2, "{stats:?}");
    assert_eq!(stats.token_refreshes, 1);
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.list, 2);
}

#[tokio::test]
async fn frequency_limit_longer_than_the_budget_gives_up() {
    let handle = emulator().await;
    let mut config = config_with(&handle, SECRET);
    config.max_retries = 10_000;
    config.min_backoff = Duration::from_millis(2);
    config.max_backoff = Duration::from_millis(10);
    config.limit_backoff = Duration::from_millis(3);
    config.retry_budget = Duration::from_millis(60);
    let client = Client::new(config).unwrap();
    handle.set_faults(faults().script(CallKind::List, 100_000, FaultKind::FrequencyLimit));
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.errcode(), Some(45009), "{e}");
    assert_eq!(e.kind(), ErrorKind::Retryable);
    assert!(matches!(e, ClientError::GaveUp { .. }), "{e:?}");
    assert!(e.to_string().contains("frequency limit"), "{e}");
    // Bounded by the time budget long before the retry count.
    assert!(client.stats().list < 100, "{:?}", client.stats());
}

#[tokio::test]
async fn dropped_connection_after_add_commit_is_ambiguous() {
    let handle = emulator().await;
    let client = client(&handle);
    handle.set_faults(faults().script(CallKind::Add, 1, FaultKind::CommitThenDrop));
    let e = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert_eq!(e.call(), Some(Call::Add));
    assert_eq!(calls_of(&handle, CallKind::Add), 1);
    assert_eq!(
        dumped_names(&handle),
        vec![("来源".to_string(), vec!["官网".to_string()])]
    );
}

#[tokio::test]
async fn dropped_connection_after_delete_commit_is_resent_and_reported_ambiguous() {
    let handle = emulator().await;
    let client = client(&handle);
    let group = seed(&client).await;
    handle.set_faults(faults().script(CallKind::Delete, 1, FaultKind::CommitThenDrop));
    let e = client
        .delete(&wire::DelTagRequest {
            tag_id: vec![group.tag[0].id.clone()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    // The resend found the tag gone (40068): the first call most likely did it.
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert!(e.to_string().contains("40068"), "{e}");
    assert_eq!(calls_of(&handle, CallKind::Delete), 2);
    assert_eq!(
        dumped_names(&handle),
        vec![(
            "客户等级".to_string(),
            vec!["普通".to_string(), "潜在".to_string()]
        )]
    );
}

#[tokio::test]
async fn dropped_connection_after_edit_commit_is_resent() {
    let handle = emulator().await;
    let client = client(&handle);
    let group = seed(&client).await;
    handle.set_faults(faults().script(CallKind::Edit, 1, FaultKind::CommitThenDrop));
    let result = client
        .edit(&wire::EditTagRequest {
            id: group.tag[0].id.clone(),
            order: Some(7),
            ..Default::default()
        })
        .await;
    // Setting the same order again is harmless: the resend succeeds.
    result.unwrap();
    assert_eq!(calls_of(&handle, CallKind::Edit), 2);
    let dump = handle.dump();
    assert_eq!(
        dump[0]
            .tag
            .iter()
            .find(|t| t.id == group.tag[0].id)
            .map(|t| t.order),
        Some(7)
    );
}

#[tokio::test]
async fn two_hundred_reads_under_twenty_percent_system_busy() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    client
        .add(&add_request("来源", &["官网", "展会"]))
        .await
        .unwrap();
    let expected = client.snapshot().await.unwrap();
    assert_eq!(expected.tag_count(), 5);
    handle.set_faults(
        faults()
            .with_seed(20)
            .random(CallKind::List, FaultKind::SystemBusy, 0.2),
    );
    for i in 0..200 {
        let snap = client
            .snapshot()
            .await
            .unwrap_or_else(|e| panic!("read {i}: {e}"));
        assert_eq!(snap, expected, "read {i}");
    }
    let stats = client.stats();
    let busy = handle
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::List && c.errcode == Some(-1))
        .count() as u64;
    // The faults did fire, and every one of them was retried.
    assert!(busy > 10, "{busy} faults");
    assert_eq!(stats.retries, busy);
    assert_eq!(stats.list, 201 + busy);
}

#[tokio::test]
async fn concurrency_stays_under_the_cap() {
    let handle = start(EmulatorConfig {
        // One more than the client's cap, for the moment between an answer and the
        // release of its slot.
        concurrency_limit: Some(3),
        faults: faults().latency(CallKind::List, Duration::from_millis(5), Duration::ZERO),
        ..Default::default()
    })
    .await;
    let mut client_config = config_with(&handle, SECRET);
    client_config.concurrency = 2;
    client_config.max_retries = 0;
    let client = Client::new(client_config).unwrap();
    seed(&client).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.snapshot().await })
        })
        .collect();
    for t in tasks {
        let snap = t.await.unwrap().unwrap();
        assert_eq!(snap.tag_count(), 3);
    }
    assert_eq!(client.stats().list, 16);
}

/// Collects everything `tracing` writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_failing_run_never_shows_the_token_or_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .finish();
    // current_thread runtime: every task of this test logs into this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let handle = emulator().await;
    let mut config = config_with(&handle, SECRET);
    config.max_retries = 2;
    let client = Client::new(config).unwrap();
    let group = seed(&client).await;

    let mut errors: Vec<ClientError> = Vec::new();
    handle.set_faults(
        faults()
            .script(CallKind::List, 3, FaultKind::TruncatedJson)
            .script(CallKind::Add, 1, FaultKind::CommitThenDrop)
            .script(CallKind::Edit, 3, FaultKind::Http500)
            .script(CallKind::Delete, 1, FaultKind::CommitThenDrop),
    );
    errors.push(client.snapshot().await.unwrap_err());
    errors.push(
        client
            .add(&add_request("来源", &["官网"]))
            .await
            .unwrap_err(),
    );
    let edit = rename(&group.tag[0].id, "新");
    errors.push(client.edit(&edit).await.unwrap_err());
    let del = wire::DelTagRequest {
        tag_id: vec![group.tag[1].id.clone()],
        ..Default::default()
    };
    errors.push(client.delete(&del).await.unwrap_err());
    handle.expire_tokens();
    handle.set_faults(faults().script(CallKind::List, 3, FaultKind::BadGateway));
    errors.push(client.snapshot().await.unwrap_err());
    let bad = Client::new(config_with(&handle, "wrong-secret")).unwrap();
    errors.push(bad.snapshot().await.unwrap_err());

    // The emulator hands the same token out again within its lifetime.
    let url = format!(
        "{}gettoken?corpid={CORP}&corpsecret={SECRET}",
        handle.base_url()
    );
    tagsync::remote::install_crypto_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer: wire::TokenResponse = http.get(url).send().await.unwrap().json().await.unwrap();
    let token = answer.access_token.expect("a token");
    assert!(token.len() >= 16);

    let mut seen = capture.text();
    for e in &errors {
        seen.push_str(&format!("\n{e}\n{e:?}\n"));
    }
    seen.push_str(&format!("{client:?} {:?}", client.config()));
    assert!(
        seen.contains("retrying"),
        "the run logged its retries:\n{seen}"
    );
    assert!(seen.contains("may have been made"), "{seen}");
    assert!(!seen.contains(&token), "the token leaked:\n{seen}");
    assert!(!seen.contains(SECRET), "the secret leaked:\n{seen}");
    assert!(
        !seen.contains("access_token="),
        "a URL query leaked:\n{seen}"
    );
    assert!(!seen.contains("corpsecret="), "a URL query leaked:\n{seen}");
}

#[tokio::test]
async fn request_timeouts_are_retried_for_reads_and_ambiguous_for_add() {
    let handle = start(EmulatorConfig {
        faults: faults()
            .latency(CallKind::List, Duration::from_secs(2), Duration::ZERO)
            .latency(CallKind::Add, Duration::from_secs(2), Duration::ZERO),
        ..Default::default()
    })
    .await;
    let mut config = config_with(&handle, SECRET);
    config.request_timeout = Duration::from_millis(100);
    config.max_retries = 1;
    let client = Client::new(config).unwrap();
    let e = client.snapshot().await.unwrap_err();
    assert!(
        matches!(e, ClientError::GaveUp { attempts: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
    assert_eq!(client.stats().list, 2);

    let e = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert_eq!(client.stats().add, 1);
}

#[tokio::test]
async fn a_wrong_api_base_path_is_fatal_with_a_hint() {
    let handle = emulator().await;
    let base = handle.base_url().replace("/cgi-bin/", "/elsewhere/");
    let credentials = Credentials::Corp {
        corp_id: CORP.into(),
        secret: Secret::new(SECRET),
    };
    let client = Client::new(ClientConfig::new(&base, credentials).unwrap()).unwrap();
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
    assert!(e.to_string().contains("--api-base"), "{e}");
    assert_eq!(client.stats().gettoken, 1);
}

#[tokio::test]
async fn optional_fields_never_go_on_the_wire() {
    let handle = emulator().await;
    let client = client(&handle);
    let group = seed(&client).await;
    client
        .edit(&rename(&group.tag[0].id, "新名"))
        .await
        .unwrap();
    client.snapshot().await.unwrap();
    let bodies: Vec<(CallKind, serde_json::Value)> = handle
        .calls()
        .into_iter()
        .map(|c| (c.kind, c.body))
        .collect();
    let body = |kind| {
        bodies
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    assert_eq!(
        body(CallKind::Add),
        serde_json::json!({"group_name": "客户等级", "tag": [{"name": "重要"}, {"name": "普通"}, {"name": "潜在"}]})
    );
    assert_eq!(
        body(CallKind::Edit),
        serde_json::json!({"id": group.tag[0].id, "name": "新名"})
    );
    assert_eq!(body(CallKind::List), serde_json::json!({}));
}

// --- Answers of the wrong shape (fault injection) -------------------------------------

/// An answer that is JSON but not the call's shape is not WeCom: fatal, not retried,
/// and for add not reported as a lost answer (the emulator did not commit it).
#[tokio::test]
async fn a_json_answer_with_the_wrong_shape_is_fatal_and_not_retried() {
    let handle = emulator().await;
    let client = client(&handle);
    let group = seed(&client).await;
    let before = handle.dump();
    handle.set_faults(
        faults()
            .script(CallKind::List, 1, FaultKind::WrongShape)
            .script(CallKind::Add, 1, FaultKind::WrongShape)
            .script(CallKind::Edit, 1, FaultKind::WrongShape),
    );
    let list = client.snapshot().await.unwrap_err();
    let add = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    let edit = client
        .edit(&wire::EditTagRequest {
            id: group.tag[0].id.clone(),
            order: Some(3),
            ..Default::default()
        })
        .await
        .unwrap_err();
    for (e, call) in [(&list, Call::List), (&add, Call::Add), (&edit, Call::Edit)] {
        assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
        assert_eq!(e.call(), Some(call), "{e}");
        assert!(matches!(e, ClientError::Decode { .. }), "{e:?}");
        assert!(e.to_string().contains("not what WeCom sends"), "{e}");
    }
    assert!(edit.to_string().contains("errcode"), "{edit}");
    let stats = client.stats();
    assert_eq!((stats.list, stats.add, stats.edit), (1, 2, 1), "{stats:?}");
    assert_eq!(stats.retries, 0, "{stats:?}");
    assert_eq!(handle.dump(), before, "nothing was committed");
    // The faults are used up: the same calls work again.
    assert_eq!(client.snapshot().await.unwrap().tag_count(), 3);
}

#[tokio::test]
async fn a_token_answer_with_the_wrong_shape_is_fatal() {
    let handle = emulator().await;
    handle.set_faults(faults().script(CallKind::GetToken, 1, FaultKind::WrongShape));
    let client = client(&handle);
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
    assert_eq!(e.call(), Some(Call::GetToken), "{e}");
    assert!(e.to_string().contains("not what WeCom sends"), "{e}");
    let stats = client.stats();
    assert_eq!((stats.gettoken, stats.list, stats.retries), (1, 0, 0));
}

#[tokio::test]
async fn a_non_json_200_answer_is_fatal_with_a_hint() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    handle.set_faults(faults().script(CallKind::List, 1, FaultKind::NotJson));
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("not JSON") && text.contains("--api-base"),
        "{e}"
    );
    assert_eq!((client.stats().list, client.stats().retries), (1, 0));
}

// --- Third-party apps: the suite token flow -----------------------------------------

const SUITE_ID: &str = "wwsuite-test";
const SUITE_SECRET: &str = "suite-secret-value";
const SUITE_TICKET: &str = "suite-ticket-value";
const PERMANENT_CODE: &str = "permanent-code-value";

/// The default corp with one suite whose permanent code gives tokens of `tagsync`.
fn suite_config() -> EmulatorConfig {
    EmulatorConfig {
        suites: vec![Suite {
            suite_id: SUITE_ID.into(),
            suite_secret: SUITE_SECRET.into(),
            suite_ticket: SUITE_TICKET.into(),
            permanent_code: PERMANENT_CODE.into(),
            app: "tagsync".into(),
        }],
        ..Default::default()
    }
}

fn suite_client(handle: &EmulatorHandle, secret: &str, ticket: &str, code: &str) -> Client {
    let credentials = Credentials::Suite {
        suite_id: SUITE_ID.into(),
        suite_secret: Secret::new(secret),
        suite_ticket: Secret::new(ticket),
        auth_corp_id: CORP.into(),
        permanent_code: Secret::new(code),
    };
    let mut config = ClientConfig::new(&handle.base_url(), credentials).unwrap();
    config.min_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(4);
    Client::new(config).unwrap()
}

#[tokio::test]
async fn suite_flow_end_to_end() {
    let handle = start(suite_config()).await;
    let client = suite_client(&handle, SUITE_SECRET, SUITE_TICKET, PERMANENT_CODE);
    let group = seed(&client).await;
    let snap = client.snapshot().await.unwrap();
    assert_eq!(names(&snap), dumped_names(&handle));
    // The token is the app's: what it made belongs to `tagsync`, and the app's own
    // secret may change it.
    let dump = handle.dump();
    assert_eq!(dump[0].owner.as_deref(), Some("tagsync"));
    assert!(
        dump[0]
            .tag
            .iter()
            .all(|t| t.owner.as_deref() == Some("tagsync"))
    );
    let by_secret = Client::new(config_with(&handle, SECRET)).unwrap();
    by_secret
        .edit(&rename(&group.tag[0].id, "最重要"))
        .await
        .unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.get_suite_token, stats.get_corp_token, stats.gettoken),
        (1, 1, 0),
        "{stats:?}"
    );
    // get_corp_token answered without errcode, as WeCom does.
    let corp_token = handle
        .calls()
        .into_iter()
        .find(|c| c.kind == CallKind::GetCorpToken)
        .expect("logged");
    assert_eq!(corp_token.errcode, None);
    assert_eq!(corp_token.app.as_deref(), Some("tagsync"));

    // An expired token is renewed through both suite calls.
    handle.expire_tokens();
    assert_eq!(client.snapshot().await.unwrap().tag_count(), 3);
    let stats = client.stats();
    assert_eq!((stats.get_suite_token, stats.get_corp_token), (2, 2));
    assert_eq!(stats.token_refreshes, 1);
}

#[tokio::test]
async fn suite_credentials_refused_are_token_errors_that_name_the_variable() {
    let handle = start(suite_config()).await;
    let cases = [
        (
            SUITE_SECRET.replace("value", "wrong"),
            SUITE_TICKET.to_owned(),
            PERMANENT_CODE.to_owned(),
            40001,
            "WECOM_SUITE_SECRET",
            Call::GetSuiteToken,
        ),
        (
            SUITE_SECRET.to_owned(),
            "stale-ticket".to_owned(),
            PERMANENT_CODE.to_owned(),
            40085,
            "WECOM_SUITE_TICKET",
            Call::GetSuiteToken,
        ),
        (
            SUITE_SECRET.to_owned(),
            SUITE_TICKET.to_owned(),
            "other-corps-code".to_owned(),
            40084,
            "WECOM_PERMANENT_CODE",
            Call::GetCorpToken,
        ),
    ];
    for (secret, ticket, code, want, variable, call) in cases {
        let client = suite_client(&handle, &secret, &ticket, &code);
        let e = client.snapshot().await.unwrap_err();
        assert_eq!(e.errcode(), Some(want), "{e}");
        assert_eq!(e.kind(), ErrorKind::Token, "{e}");
        assert_eq!(e.call(), Some(call), "{e}");
        let text = format!("{e} {e:?}");
        assert!(text.contains(variable), "{text}");
        for secret in [&secret, &ticket, &code] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        // Not retried: one request each, and no tag call.
        let stats = client.stats();
        let corp_calls = u64::from(call == Call::GetCorpToken);
        assert_eq!(
            (
                stats.get_suite_token,
                stats.get_corp_token,
                stats.list,
                stats.retries
            ),
            (1, corp_calls, 0, 0),
            "{stats:?}"
        );
    }
}

// --- App permissions ----------------------------------------------------------------

#[tokio::test]
async fn missing_permissions_are_permission_errors_with_a_hint_and_not_retried() {
    let mut config = EmulatorConfig {
        seed: vec![],
        ..Default::default()
    };
    let app = |name: &str, secret: &str| App {
        name: name.into(),
        secret: secret.into(),
        legacy: false,
    };
    config.apps.push(app("reader", "reader-secret"));
    config.apps.push(app("elsewhere", "elsewhere-secret"));
    config.apps.push(app("here", "here-secret"));
    let only = |ip: &str| AppAccess {
        allowed_ips: Some(vec![ip.parse().unwrap()]),
        ..Default::default()
    };
    config.access.insert(
        "reader".into(),
        AppAccess {
            manage_tags: false,
            allowed_ips: None,
        },
    );
    config.access.insert("elsewhere".into(), only("10.1.2.3"));
    config.access.insert("here".into(), only("127.0.0.1"));
    let handle = start(config).await;
    seed(&client(&handle)).await;

    // Without the tag permission: reading works, changing is 48002.
    let reader = Client::new(config_with(&handle, "reader-secret")).unwrap();
    assert_eq!(reader.snapshot().await.unwrap().tag_count(), 3);
    let e = reader
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    assert_eq!(e.errcode(), Some(48002));
    assert!(e.to_string().contains("可调用接口的应用"), "{e}");
    let stats = reader.stats();
    assert_eq!((stats.add, stats.retries), (1, 0), "{stats:?}");

    // Outside the trusted IPs: every tag call is 60020.
    let elsewhere = Client::new(config_with(&handle, "elsewhere-secret")).unwrap();
    let e = elsewhere.snapshot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    assert_eq!(e.errcode(), Some(60020));
    assert!(e.to_string().contains("trusted-IP"), "{e}");
    let stats = elsewhere.stats();
    assert_eq!((stats.list, stats.retries), (1, 0), "{stats:?}");

    // Inside them: allowed.
    let here = Client::new(config_with(&handle, "here-secret")).unwrap();
    here.add(&add_request("来源", &["官网"])).await.unwrap();
    assert_eq!(here.snapshot().await.unwrap().tag_count(), 4);
}

// --- The rate limiter -----------------------------------------------------------------

/// The client's limiter holds calls back instead of letting them run into the
/// emulator's frequency limit: at 1 call per minute, of three lists fired at once one
/// is sent and two wait (for a minute, longer than this test runs).
#[tokio::test]
async fn the_rate_limiter_holds_calls_back_before_they_reach_wecom() {
    let handle = start(EmulatorConfig {
        rate_limit_per_minute: Some(1),
        ..Default::default()
    })
    .await;
    let mut config = config_with(&handle, SECRET);
    config.rate_per_minute = 1;
    let client = Client::new(config).unwrap();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.snapshot().await })
        })
        .collect();
    // Hang guard only: the two held calls are seen waiting long before this. The
    // emulator logs a call when it answers it, after the client counted it as sent.
    tokio::time::timeout(Duration::from_secs(30), async {
        while client.stats().rate_waits < 2
            || client.stats().list < 1
            || calls_of(&handle, CallKind::List) < 1
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("two calls wait for the limiter");
    let mut done = 0;
    for t in &tasks {
        if t.is_finished() {
            done += 1;
        }
    }
    let stats = client.stats();
    assert_eq!((stats.list, stats.rate_waits), (1, 2), "{stats:?}");
    assert!(done <= 1);
    let refused = handle
        .calls()
        .iter()
        .filter(|c| c.errcode == Some(wire::errcode::FREQUENCY_LIMIT))
        .count();
    assert_eq!(refused, 0, "the emulator's limit was never hit");
    assert_eq!(calls_of(&handle, CallKind::List), 1);
    for t in tasks {
        t.abort();
    }
}

// --- A broken or hostile server ------------------------------------------------------

/// Two tags sharing one id: a delete of one would be a delete of the other, so the
/// answer is refused before anything is planned, naming the call.
#[tokio::test]
async fn a_list_answer_giving_two_tags_one_id_is_refused() {
    let handle = emulator().await;
    let client = client(&handle);
    seed(&client).await;
    handle.set_faults(
        faults()
            .script(CallKind::List, 1, FaultKind::RepeatedId)
            .script(CallKind::Add, 1, FaultKind::RepeatedId),
    );
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.call()),
        (ErrorKind::Fatal, Some(Call::List)),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("get_corp_tag_list: the answer is not what WeCom sends (the id etBROKENT is given to two items"),
        "{e}"
    );
    let e = client
        .add(&add_request("来源", &["官网"]))
        .await
        .unwrap_err();
    assert_eq!(e.call(), Some(Call::Add), "{e}");
    assert!(
        e.to_string()
            .contains("the id etBROKENT is given to two items"),
        "{e}"
    );
    assert_eq!(client.stats().retries, 0);
}

/// An answer past any real one is refused as it arrives (here sent without a length),
/// not buffered whole.
#[tokio::test]
async fn an_oversized_answer_is_refused_unread() {
    let handle = emulator().await;
    let client = client(&handle);
    handle.set_faults(faults().script(CallKind::List, 1, FaultKind::Oversized));
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.call()),
        (ErrorKind::Fatal, Some(Call::List)),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("the answer passes 16 MB, more than any WeCom answer"),
        "{e}"
    );
    // The fault is used up: the next list is read.
    client.snapshot().await.expect("a normal answer");
}

/// A vendor message is cut to a bounded length in the error.
#[tokio::test]
async fn a_flood_of_errmsg_is_cut_in_the_error() {
    let handle = emulator().await;
    let client = client(&handle);
    handle.set_faults(faults().script(CallKind::List, 1, FaultKind::FloodedErrmsg));
    let e = client.snapshot().await.unwrap_err();
    assert_eq!(e.errcode(), Some(40058), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(" more characters)"),
        "{}",
        &text[text.len() - 300..]
    );
    assert!(text.len() < 1_500, "{} bytes", text.len());
}
