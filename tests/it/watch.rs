//! `tagsync watch` through the binary: events sealed the way WeCom seals them by an
//! independent implementation (the `openssl` command for AES-256-CBC and SHA-1; only the
//! framing is written here, from the spec) are accepted, a forged signature is refused,
//! a console rename in the emulator (which sends its own callbacks) is reported as drift,
//! and a burst of events costs one re-read of the corp.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::common;
use common::bin::{CORP, Fixture, OURS_VIP, both};
use tagsync::emulator::{self, CallKind, CallbackTarget};

const TOKEN: &str = "wAtChToKeN";

/// 32 fixed key bytes, and the EncodingAESKey that stands for them (base64, no `=`).
fn key() -> (Vec<u8>, String) {
    let bytes: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let out = openssl(&["base64", "-A"], &bytes);
    let b64 = String::from_utf8(out).expect("base64");
    (bytes, b64.trim().trim_end_matches('=').to_string())
}

/// Run `openssl ARGS` with `input` on stdin; its stdout.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs (installed by .ci/run)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// WeCom's envelope by the spec: 16 random bytes, length, message, receive id, PKCS#7
/// to 32 bytes, AES-256-CBC with IV = the key's first 16 bytes (openssl), base64.
fn seal(message: &str) -> String {
    let (key, _) = key();
    let mut plain = vec![0x5a; 16];
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(CORP.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let k = hex(&key);
    let iv = hex(&key[..16]);
    let sealed = openssl(
        &[
            "enc",
            "-aes-256-cbc",
            "-K",
            &k,
            "-iv",
            &iv,
            "-nopad",
            "-a",
            "-A",
        ],
        &plain,
    );
    String::from_utf8(sealed)
        .expect("base64")
        .trim()
        .to_string()
}

/// sha1 of the sorted parts, by openssl.
fn signature(timestamp: &str, nonce: &str, encrypted: &str) -> String {
    let mut parts = [TOKEN, timestamp, nonce, encrypted];
    parts.sort_unstable();
    let out = openssl(&["dgst", "-sha1", "-r"], parts.concat().as_bytes());
    String::from_utf8(out).expect("hex")[..40].to_string()
}

fn event_xml(id: &str, change: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[{id}]]></Id>\
         <TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[{change}]]></ChangeType></xml>"
    )
}

/// A free port on loopback (for the watch the emulator's callbacks go to).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Watch {
    child: Child,
    lines: Receiver<String>,
    url: String,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watch {
    fn start(fx: &Fixture, port: u16, extra: &[&str]) -> Watch {
        let (_, aes_key) = key();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["watch", "--listen", &listen, "--debounce-ms", "200"];
        args.extend_from_slice(extra);
        let mut child = fx
            .command(&args)
            .env("TAGSYNC_TRIGGER_TOKEN", "trigger-token")
            .env("WECOM_CALLBACK_TOKEN", TOKEN)
            .env("WECOM_CALLBACK_AES_KEY", &aes_key)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch starts");
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut first = String::new();
        err.read_line(&mut first).expect("the watching line");
        assert!(first.starts_with("watching: callbacks on "), "{first}");
        std::thread::spawn(move || for _ in err.lines() {});
        let url = format!("http://127.0.0.1:{port}/wecom/callback");
        Watch { child, lines, url }
    }

    /// POST a sealed event, signed with `sign` (None: the right signature).
    fn post(&self, fx: &Fixture, sealed: &str, sign: Option<&str>) -> (u16, String) {
        let (ts, nonce) = ("1700000000", "424242");
        let sig = sign.map_or_else(|| signature(ts, nonce, sealed), str::to_string);
        let body = format!(
            "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID><![CDATA[1]]></AgentID>\
             <Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"
        );
        let url = with_query(
            &self.url,
            &[
                ("msg_signature", sig.as_str()),
                ("timestamp", ts),
                ("nonce", nonce),
            ],
        );
        fx.rt.block_on(async {
            let r = common::http()
                .post(url)
                .body(body)
                .send()
                .await
                .expect("sent");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        })
    }

    /// The next report, waiting at most `limit`.
    fn next(&self, limit: Duration) -> Option<serde_json::Value> {
        let line = self.lines.recv_timeout(limit).ok()?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")))
    }
}

/// A tiny HTTP server on loopback that records each request (request line, headers and
/// body as text) and answers 200: the group robot and the CI trigger.
fn recorder() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            let mut conn = conn;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            while let Ok(n) = conn.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            log.lock()
                .expect("log")
                .push(String::from_utf8_lossy(&buf).to_string());
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (format!("http://{addr}"), seen)
}

/// The body of a GET.
fn get_text(fx: &Fixture, url: &str) -> String {
    fx.rt.block_on(async {
        common::http()
            .get(url)
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .unwrap_or_default()
    })
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> reqwest::Url {
    let mut u = reqwest::Url::parse(url).expect("url");
    u.query_pairs_mut().extend_pairs(pairs);
    u
}

fn lists(fx: &Fixture) -> usize {
    fx.emu()
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::List)
        .count()
}

/// An emulator that sends its callbacks to `port`, our items adopted, and `tags.yaml`
/// equal to the corp.
fn corp_calling(port: u16) -> Fixture {
    let (_, aes_key) = key();
    let fx = Fixture::with_config(emulator::EmulatorConfig {
        corp_id: CORP.into(),
        apps: common::three_apps(),
        seed: common::small_seed(),
        callback: Some(CallbackTarget {
            url: format!("http://127.0.0.1:{port}/wecom/callback"),
            token: TOKEN.into(),
            aes_key,
        }),
        ..Default::default()
    });
    fx.adopt_ours();
    let out = fx.run(&["export", "-o", "tags.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    fx
}

/// An admin-console edit in the emulator (it sends the callback).
fn console_rename(fx: &Fixture, id: &str, name: &str) {
    fx.console_edit(serde_json::json!({"id": id, "name": name}));
}

#[test]
fn watch_reports_a_console_rename_refuses_forgeries_and_reads_once_per_burst() {
    let port = free_port();
    let fx = corp_calling(port);
    let watch = Watch::start(&fx, port, &[]);
    // The first plan finds nothing to report.
    assert!(watch.next(Duration::from_millis(800)).is_none());

    // The URL check: the plaintext of echostr comes back.
    let echo = seal("hello-check");
    let (ts, nonce) = ("1700000001", "7");
    let sig = signature(ts, nonce, &echo);
    let url = with_query(
        &watch.url,
        &[
            ("msg_signature", sig.as_str()),
            ("timestamp", ts),
            ("nonce", nonce),
            ("echostr", echo.as_str()),
        ],
    );
    let answer = get_text(&fx, url.as_str());
    assert_eq!(answer, "hello-check");

    // A forged signature gets no body and causes no read.
    let sealed = seal(&event_xml(OURS_VIP, "update"));
    let before = lists(&fx);
    let (status, body) = watch.post(&fx, &sealed, Some(&"0".repeat(40)));
    assert_eq!((status, body.as_str()), (400, ""));

    // A burst of 1,000 genuine events and no report, since nothing drifted. While events
    // keep coming the corp is read once per ten windows (2 s here), and once after.
    let burst = Instant::now();
    for _ in 0..1000 {
        let (status, body) = watch.post(&fx, &sealed, None);
        assert_eq!((status, body.as_str()), (200, "success"));
    }
    let took = burst.elapsed();
    assert!(watch.next(Duration::from_millis(1500)).is_none());
    let reads = lists(&fx) - before;
    let most = 2 + (took.as_millis() / 2000) as usize;
    assert!(
        (1..=most).contains(&reads),
        "{reads} reads for 1,000 events in {took:?} (at most {most})"
    );
    eprintln!("1,000 events in {took:?}: {reads} reads of the corp");

    // A rename in the admin console: the emulator sends the event, watch reports.
    let started = Instant::now();
    console_rename(&fx, OURS_VIP, "VIP客户");
    let report = watch.next(Duration::from_secs(20)).expect("a drift report");
    let took = started.elapsed();
    assert_eq!(
        report["steps"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(report["steps"][0]["drift"], true, "{report}");
    eprintln!("drift reported {took:?} after the console edit (debounce 200 ms)");
    // Reported once: a second burst with no new change says nothing.
    let (status, _) = watch.post(&fx, &sealed, None);
    assert_eq!(status, 200);
    assert!(watch.next(Duration::from_millis(1200)).is_none());
}

#[test]
fn watch_notifies_the_robot_and_the_trigger_and_answers_health_and_caps_bodies() {
    let port = free_port();
    let fx = corp_calling(port);
    let (base, seen) = recorder();
    let robot = format!("{base}/cgi-bin/webhook/send?key=robot-key");
    let trigger = format!("{base}/repos/acme/tags/dispatches");
    let mut watch = Watch::start(
        &fx,
        port,
        &["--notify-url", &robot, "--trigger-url", &trigger],
    );
    let health = get_text(&fx, &format!("http://127.0.0.1:{port}/healthz"));
    assert_eq!(health, "ok");
    // A body over the cap is refused before it is read.
    let big = fx.rt.block_on(async {
        common::http()
            .post(&watch.url)
            .body("x".repeat(100 * 1024))
            .send()
            .await
            .expect("sent")
            .status()
            .as_u16()
    });
    assert_eq!(big, 413);

    console_rename(&fx, OURS_VIP, "VIP客户");
    let drift = watch.next(Duration::from_secs(20)).expect("the drift");
    assert_eq!(drift["steps"][0]["drift"], true, "{drift}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().expect("log").len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let robot_call = seen
        .iter()
        .find(|r| r.contains("/cgi-bin/webhook/send?key=robot-key"))
        .expect("the robot");
    assert!(
        robot_call.contains("\"msgtype\":\"markdown\""),
        "{robot_call}"
    );
    assert!(robot_call.contains("VIP客户"), "{robot_call}");
    let trigger_call = seen
        .iter()
        .find(|r| r.contains("/repos/acme/tags/dispatches"))
        .expect("the trigger");
    assert!(
        trigger_call.contains("\"event_type\":\"tagsync-drift\""),
        "{trigger_call}"
    );
    assert!(
        trigger_call
            .to_ascii_lowercase()
            .contains("authorization: bearer trigger-token"),
        "{trigger_call}"
    );
    // Stopped by SIGTERM: it exits 0.
    #[cfg(unix)]
    {
        let pid = watch.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let status = watch.child.wait().expect("exits");
        assert_eq!(status.code(), Some(0));
    }
}

#[test]
fn watch_with_apply_on_drift_puts_a_console_rename_back() {
    let port = free_port();
    let fx = corp_calling(port);
    let watch = Watch::start(&fx, port, &["--apply-on-drift"]);
    assert!(watch.next(Duration::from_millis(800)).is_none());
    console_rename(&fx, OURS_VIP, "VIP客户");
    let drift = watch.next(Duration::from_secs(20)).expect("the drift");
    assert_eq!(drift["steps"][0]["drift"], true, "{drift}");
    let applied = watch
        .next(Duration::from_secs(20))
        .expect("the apply's report");
    assert!(applied.get("apply").is_some(), "{applied}");
    // tagsync's own edit comes back as an event: the plan is empty again, said once.
    let settled = watch
        .next(Duration::from_secs(20))
        .expect("the drift undone");
    assert_eq!(
        settled["steps"].as_array().map(Vec::len),
        Some(0),
        "{settled}"
    );
    let names: Vec<String> = fx
        .emu()
        .dump()
        .iter()
        .flat_map(|g| g.tag.iter().map(|t| t.name.clone()))
        .collect();
    assert!(names.contains(&"VIP".to_string()) && !names.contains(&"VIP客户".to_string()));
}

#[test]
fn watch_needs_its_token_and_key_and_says_so() {
    let fx = Fixture::new();
    fx.write("tags.yaml", "version: 1\ngroups: []\n");
    let out = fx
        .command(&["watch", "--listen", "127.0.0.1:0"])
        .env_remove("WECOM_CALLBACK_TOKEN")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("WECOM_CALLBACK_TOKEN is not set"),
        "{}",
        both(&out)
    );
}

#[test]
fn watch_refuses_a_webhook_in_plain_http_off_loopback() {
    let fx = Fixture::new();
    fx.write("tags.yaml", "version: 1\ngroups: []\n");
    for (flag, url, expected) in [
        (
            "--trigger-url",
            "http://ci.example.com/trigger?token=x",
            "--trigger-url uses plain http to a non-loopback host",
        ),
        (
            "--notify-url",
            "ftp://qyapi.weixin.qq.com/robot",
            "--notify-url has scheme `ftp`",
        ),
    ] {
        let out = fx
            .command(&["watch", "--listen", "127.0.0.1:0", flag, url])
            .env("WECOM_CALLBACK_TOKEN", "token")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn the_emulator_sends_a_signed_sealed_event_for_each_item_an_apply_changes() {
    let (base, seen) = recorder();
    let (_, aes_key) = key();
    let fx = Fixture::with_config(emulator::EmulatorConfig {
        corp_id: CORP.into(),
        apps: common::three_apps(),
        seed: common::small_seed(),
        rule_groups: vec![tagsync::wire::RuleGroup {
            strategy_id: 7,
            parent_id: 0,
            strategy_name: "华东销售".into(),
            create_time: 0,
        }],
        callback: Some(CallbackTarget {
            url: format!("{base}/wecom/callback"),
            token: TOKEN.into(),
            aes_key: aes_key.clone(),
        }),
        ..Default::default()
    });
    fx.adopt_ours();
    // A new group with one tag, our tag 普通客户 dropped, and a group in rule group 7.
    let file = "version: 1\ngroups:\n  - name: 新组\n    tags: [甲]\n  - name: 客户等级\n    tags: [VIP]\n  - name: 行业\n    managed: false\n    order: ignore\n    tags: [制造业, 零售]\n  - name: 来源\n    managed: false\n    order: ignore\n    tags: [官网]\nstrategies:\n  - strategy_id: 7\n    groups:\n      - name: 区域\n        tags: [乙]\n";
    let cfg = fx.write("tags.yaml", file);
    let out = fx.run(&["plan", "-c", cfg.to_str().expect("path"), "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().expect("log").len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let crypto = tagsync::wire::callback::Crypto::new(TOKEN, &aes_key, CORP).expect("key");
    let mut events: Vec<(String, String, String, Option<String>)> = seen
        .lock()
        .expect("log")
        .iter()
        .map(|req| {
            let line = req.lines().next().expect("request line");
            let target = line.split_whitespace().nth(1).expect("target");
            let url = reqwest::Url::parse(&format!("http://x{target}")).expect("url");
            let q = |k: &str| {
                url.query_pairs()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
                    .expect(k)
            };
            let body = &req[req.find("\r\n\r\n").expect("body") + 4..];
            let sealed = tagsync::wire::callback::xml_field(body, "Encrypt").expect("Encrypt");
            assert!(crypto.verify(&q("msg_signature"), &q("timestamp"), &q("nonce"), &sealed));
            let xml = String::from_utf8(crypto.decrypt(&sealed).expect("opens")).expect("utf-8");
            let e = tagsync::wire::callback::TagEvent::from_xml(&xml).expect("a tag event");
            (e.tag_type, e.change_type, e.id, e.strategy_id)
        })
        .collect();
    events.sort();
    let mut kinds: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|(t, c, _, s)| (t.as_str(), c.as_str(), s.as_deref()))
        .collect();
    kinds.sort();
    // The rule group's two events carry its StrategyId.
    assert_eq!(
        kinds,
        [
            ("tag", "create", None),
            ("tag", "create", Some("7")),
            ("tag", "delete", None),
            ("tag_group", "create", None),
            ("tag_group", "create", Some("7")),
        ],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(_, c, id, _)| c == "delete" && id == common::bin::OURS_NORMAL)
    );
}
