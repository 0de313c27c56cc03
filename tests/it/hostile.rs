//! Hostile input, through the binary: a hand-edited plan file, files that are not
//! files, floods of problems, names that look like something they are not.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::bin::{Fixture, both, text};

/// Run tagsync with `args` in `dir`, killed (and the test failed) if it takes longer
/// than `limit`: a hang is the failure these tests look for.
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tagsync");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("status").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("tagsync still running after {limit:?}: it blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `tagsync validate` of a file holding `text`.
fn validate(text: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tags.yaml");
    std::fs::write(&path, text).expect("write");
    let mut c = tagsync();
    c.args(["validate", "-c"]).arg(&path);
    run_bounded(c, Duration::from_secs(60))
}

fn tagsync() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tagsync"));
    c.env("NO_COLOR", "1").env_remove("RUST_LOG");
    c
}

#[test]
fn a_plan_file_pointing_at_another_file_never_shows_its_content() {
    let (fx, cfg) = Fixture::owning_ours_with(
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户, 新的]\n",
    );
    let out = fx.run(&["plan", "-c", &cfg, "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let secret = fx.write("wecom.secret", "SUPERSECRET-4711\nversion: 1\n");
    let path = fx.dir.path().join("plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("plan")).expect("json");
    plan["desired_path"] = serde_json::Value::String(secret.display().to_string());
    std::fs::write(&path, plan.to_string()).expect("write");
    let writes = fx.writes();
    let out = fx.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let all = both(&out);
    assert!(!all.contains("SUPERSECRET"), "{all}");
    assert!(
        all.contains("the desired file changed since the plan was made"),
        "{all}"
    );
    assert_eq!(fx.writes(), writes, "nothing sent");
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("tags.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let mut c = tagsync();
        c.args(["validate", "-c"]).arg(path);
        let out = run_bounded(c, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains("not a regular file") || err.contains("not a file of yours"),
            "{}",
            both(&out)
        );
    }
    // A secret file that never ends.
    let cfg = dir.path().join("real.yaml");
    std::fs::write(&cfg, "version: 1\ngroups: []\n").expect("write");
    let mut c = tagsync();
    c.args(["plan", "-c"])
        .arg(&cfg)
        .args([
            "--secret-file",
            "/dev/zero",
            "--api-base",
            "http://127.0.0.1:9/",
        ])
        .env("WECOM_CORP_ID", "ww1");
    let out = run_bounded(c, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("not a file of yours"),
        "{}",
        both(&out)
    );
}

/// A desired file that is a link to the process's environment (a pull request can
/// commit one): refused, and no secret is shown.
#[cfg(target_os = "linux")]
#[test]
fn a_link_to_the_environment_is_refused_and_shows_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("tags.yaml");
    std::os::unix::fs::symlink("/proc/self/environ", &link).expect("symlink");
    let mut c = tagsync();
    c.args(["plan", "-c"])
        .arg(&link)
        .env("WECOM_CORP_ID", "ww1")
        .env("WECOM_CORP_SECRET", "S3cr3tValue123xyz");
    let out = run_bounded(c, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(!both(&out).contains("S3cr3tValue123xyz"), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("not a file of yours"),
        "{}",
        both(&out)
    );
}

#[test]
fn a_flood_of_problems_shows_the_first_hundred_and_counts_the_rest() {
    let mut file = String::from("version: 1\ngroups:\n  - name: G\n    tags:\n");
    for i in 0..300 {
        file.push_str(&format!("      - {{name: t{i}, colour: red}}\n"));
    }
    let out = validate(&file);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.matches("error: unknown key").count(), 100, "{err}");
    assert!(err.contains("… and 200 more problems not shown"), "{err}");
    assert!(err.contains("has 300 problems"), "{err}");
}

#[test]
fn an_order_in_quotes_is_reported_as_a_string() {
    let out = validate("version: 1\ngroups:\n  - name: G\n    order: \"5\"\n    tags: [a]\n");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("order \"5\" is a string, not a number"),
        "{err}"
    );
    assert!(!err.contains("outside"), "{err}");
}

#[test]
fn a_dotted_localhost_is_not_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("tags.yaml");
    std::fs::write(&cfg, "version: 1\ngroups: []\n").expect("write");
    let mut c = tagsync();
    c.args(["plan", "-c"])
        .arg(&cfg)
        .args(["--api-base", "http://localhost.:9/cgi-bin/"])
        .env("WECOM_CORP_ID", "ww1")
        .env("WECOM_CORP_SECRET", "s");
    let out = run_bounded(c, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("plain http"), "{}", both(&out));
}

#[test]
fn invisible_and_blank_looking_names_are_refused() {
    // A Hangul filler as a group, a braille blank as a tag; then the other invisibles,
    // each in an otherwise ordinary name.
    let out = validate("version: 1\ngroups:\n  - name: \"\\u3164\"\n    tags: [\"\\u2800\"]\n");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("U+3164"), "{}", both(&out));
    assert!(text(&out.stderr).contains("U+2800"), "{}", both(&out));
    for esc in [
        "\\u061C",
        "\\u2028",
        "\\u2029",
        "\\u00AD",
        "\\u180E",
        "\\uFFF9",
        "\\U000E0041",
        "\\u206A",
        "\\uFE0F",
        "\\u115F",
        "\\uFFA0",
        "\\uFFFE",
        "\\U0010FFFF",
        "\\uE000",
    ] {
        let out = validate(&format!(
            "version: 1\ngroups:\n  - name: G\n    tags: [\"a{esc}b\"]\n"
        ));
        assert_eq!(out.status.code(), Some(1), "{esc}: {}", both(&out));
        assert!(
            text(&out.stderr).contains("invisible or control character"),
            "{esc}: {}",
            both(&out)
        );
        // The diagnostic shows the character escaped, never raw.
        assert!(
            !text(&out.stderr).contains(&format!("a{}b", unescape(esc))),
            "{esc}"
        );
    }
    // An emoji with its variation selector is a name like any other.
    let out = validate("version: 1\ngroups:\n  - name: G\n    tags: [\"\\u2764\\uFE0F 客户\"]\n");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

/// The character a YAML escape stands for.
fn unescape(esc: &str) -> char {
    let hex = esc.trim_start_matches("\\u").trim_start_matches("\\U");
    char::from_u32(u32::from_str_radix(hex, 16).expect("hex")).expect("char")
}

/// WeCom gone mid-apply (the emulator stopped after a few writes): tagsync stops
/// sending after one call's retries and reports the rest as not attempted (exit 4).
#[test]
fn a_wecom_gone_mid_apply_stops_the_run() {
    let mut fx = Fixture::new();
    let file: String = (0..30)
        .map(|i| format!("  - name: G{i}\n    tags: [t]\n"))
        .collect();
    let cfg = fx.write("tags.yaml", &format!("version: 1\ngroups:\n{file}"));
    fx.emu().set_faults(
        tagsync::emulator::Faults::none().latency_all(Duration::from_millis(100), Duration::ZERO),
    );
    let child = fx
        .command(&[
            "plan",
            "-c",
            cfg.to_str().expect("utf-8"),
            "--apply",
            "--parallelism",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while fx.writes() < 3 {
        assert!(start.elapsed() < Duration::from_secs(120), "no writes");
        std::thread::sleep(Duration::from_millis(10));
    }
    fx.stop_emulator();
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    let report = text(&out.stdout);
    assert!(
        report.contains("WeCom could not be reached"),
        "{}",
        both(&out)
    );
    let not_sent = report
        .matches("not sent: WeCom could not be reached")
        .count();
    assert!(
        not_sent >= 20,
        "{not_sent} steps reported not sent:\n{}",
        both(&out)
    );
}

/// A corp name that would mention people or link an issue in a PR comment does not.
#[test]
fn corp_names_mention_nobody_in_the_markdown() {
    use crate::common::{group, tag};
    let fx = Fixture::with_seed(vec![group(
        "etGroupMentions000000000000000",
        "@everyone",
        1,
        None,
        vec![tag("etTagIssue0000000000000000000000", "#123", 1, None)],
    )]);
    let cfg = fx.write("tags.yaml", "version: 1\ngroups: []\n");
    let out = fx.run(&[
        "plan",
        "-c",
        cfg.to_str().expect("utf-8"),
        "--format",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let md = text(&out.stdout);
    assert!(md.contains("@<!-- -->everyone"), "{md}");
    assert!(!md.contains("@everyone"), "{md}");
}

/// Under `ownership: all`, a delete of what another app made says why it may go.
#[test]
fn ownership_all_says_why_it_may_delete_what_others_made() {
    let fx = Fixture::new();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\nownership: all\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 行业\n    tags: [制造业]\n",
    );
    let out = fx.run_with_secret(
        crate::common::LEGACY_SECRET,
        &[
            "plan",
            "-c",
            cfg.to_str().expect("utf-8"),
            "--allow-delete",
            "10",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("`ownership: all` lets this app delete it"),
        "{}",
        both(&out)
    );
}

/// A message that quotes the desired file never shows the value of a secret variable,
/// whatever the file holds.
#[test]
fn a_diagnostic_quoting_a_secret_shows_it_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("tags.yaml");
    std::fs::write(&cfg, "version: 1\nS3cr3tValue123xyz: oops\ngroups: []\n").expect("write");
    let mut c = tagsync();
    c.args(["plan", "-c"])
        .arg(&cfg)
        .env("WECOM_CORP_ID", "ww1")
        .env("WECOM_CORP_SECRET", "S3cr3tValue123xyz");
    let out = run_bounded(c, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(err.contains("unknown key"), "{err}");
    assert!(
        !err.contains("S3cr3tValue123xyz") && err.contains("***"),
        "{err}"
    );
}

#[test]
fn a_broken_list_answer_stops_the_run_before_any_call_that_changes_something() {
    use tagsync::emulator::{CallKind, FaultKind, Faults};
    // The file drops a tag tagsync owns: a delete would be planned from a sound answer.
    let (fx, cfg) =
        Fixture::owning_ours_with("version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP]\n");
    for fault in [
        FaultKind::RepeatedId,
        FaultKind::Oversized,
        FaultKind::FloodedErrmsg,
    ] {
        fx.emu()
            .set_faults(Faults::default().script(CallKind::List, 1, fault));
        let writes = fx.writes();
        let out = fx.run(&["plan", "-c", &cfg, "--apply", "--allow-delete", "5"]);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {}", both(&out));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("error: get_corp_tag_list: "),
            "{fault:?}: {stderr:.300}"
        );
        assert!(stderr.len() < 2_000, "{fault:?}: {} bytes", stderr.len());
        assert!(out.stdout.is_empty(), "{fault:?}: no plan shown");
        assert_eq!(fx.writes(), writes, "{fault:?}: nothing sent");
    }
    // A sound answer again: the delete is planned and applied.
    fx.emu().set_faults(Faults::default());
    let out = fx.run(&["plan", "-c", &cfg, "--apply", "--allow-delete", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn a_secret_pasted_with_a_trailing_newline_still_works() {
    let (fx, cfg) = Fixture::owning_ours_with(
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n",
    );
    let pasted = format!("{}\n", crate::common::SECRET);
    let out = fx.run_with_secret(&pasted, &["plan", "-c", &cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}
