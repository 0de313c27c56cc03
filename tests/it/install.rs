//! Installing: shell completions and the man pages.

use std::process::Command;

use crate::common::bin::{both, text};

#[test]
fn completions_and_the_man_page_are_printed_and_a_closed_pipe_is_no_crash() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", both(&out));
        let script = text(&out.stdout);
        assert!(
            script.contains("validate") && script.contains("plan"),
            "{shell}"
        );
    }
    let man = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("man")
        .output()
        .expect("run");
    assert_eq!(man.status.code(), Some(0), "{}", both(&man));
    assert!(text(&man.stdout).contains(".TH tagsync 1"));

    // `tagsync completions fish | head -3`: the reader goes away first.
    for args in [&["completions", "fish"][..], &["man"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", both(&out));
        assert!(!text(&out.stderr).contains("panicked"), "{}", both(&out));
    }
}
