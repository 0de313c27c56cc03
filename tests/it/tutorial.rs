//! The tutorial `docs/ten-minutes.md` runs as written.
//!
//! Every ```` ```sh ```` block of the page runs, in order, in one bash process (so `cd`,
//! variables and the background emulator carry over from block to block), in a fresh
//! directory holding a copy of `examples/`, with the built tagsync first on PATH, the
//! environment emptied but for PATH and HOME, and NO_COLOR=1. What each block prints
//! (stdout and stderr together) must equal the ```` ```text ```` block after it, once
//! ports and made-up ids are normalised. A ```` ```sh silent ```` block must print nothing;
//! a ```` ```sh no-run ```` block is not run; every ```` ```text ```` block is the output
//! of the `sh` block just before it.
//!
//! `UPDATE_TUTORIAL=1 cargo test --locked tutorial` writes the real output into the page
//! instead of comparing.
//!
//! Cleanup: bash runs in a process group of its own, ends with a trap that signals that
//! group (the emulator the page starts in the background is in it), and the test kills
//! the group itself when bash overruns its time or the test panics while bash runs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ten-minutes.md");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
/// The whole page takes a few seconds; this only stops a hung command.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A fenced block of the page: lines `open` (the opening fence) to `close` (the closing
/// fence), 0-based.
#[derive(Debug)]
struct Block {
    info: String,
    open: usize,
    close: usize,
}

impl Block {
    fn body<'a>(&self, lines: &[&'a str]) -> Vec<&'a str> {
        lines[self.open + 1..self.close].to_vec()
    }
}

/// A block that runs, and where its output is written.
#[derive(Debug)]
struct Step {
    /// Index in the page's blocks of the `sh` block.
    sh: usize,
    /// Index of the `text` block after it; `None` for `sh silent`.
    text: Option<usize>,
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        match &open {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((i, info.trim().to_string()));
                }
            }
            Some((start, info)) => {
                if line.trim_end() == "```" {
                    out.push(Block {
                        info: info.clone(),
                        open: *start,
                        close: i,
                    });
                    open = None;
                }
            }
        }
    }
    if let Some((start, _)) = open {
        panic!("{DOC}:{}: a fenced block is never closed", start + 1);
    }
    out
}

/// The runnable blocks and their outputs; panics on a page that breaks the conventions.
fn steps(lines: &[&str], blocks: &[Block]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut outputs = BTreeSet::new();
    for (i, b) in blocks.iter().enumerate() {
        let at = b.open + 1;
        let next = blocks.get(i + 1).filter(|n| {
            n.info == "text"
                && lines[b.close + 1..n.open]
                    .iter()
                    .all(|l| l.trim().is_empty())
        });
        match b.info.as_str() {
            "sh" => {
                assert!(
                    next.is_some(),
                    "{DOC}:{at}: a ```sh block is followed by a ```text block with its output \
                     (or is ```sh silent, or ```sh no-run)"
                );
                outputs.insert(i + 1);
                steps.push(Step {
                    sh: i,
                    text: Some(i + 1),
                });
            }
            "sh silent" => {
                assert!(
                    next.is_none(),
                    "{DOC}:{at}: a ```sh silent block prints nothing: no ```text after it"
                );
                steps.push(Step { sh: i, text: None });
            }
            "sh no-run" => {}
            "text" => assert!(
                outputs.contains(&i),
                "{DOC}:{at}: a ```text block that follows no ```sh block"
            ),
            info if info.starts_with("sh") || info == "bash" || info == "console" => {
                panic!("{DOC}:{at}: unknown block `{info}`: use sh, sh silent or sh no-run")
            }
            _ => {}
        }
    }
    assert!(!steps.is_empty(), "{DOC}: no ```sh block");
    steps
}

/// Kills bash's process group if bash was not reaped: on a timeout, or on a panic while it
/// runs. Once bash is reaped its group may not exist any more, and its id could be reused.
struct Group(Option<Child>);

impl Group {
    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the script; returns stdout (stderr is merged into it by the script) and bash's
/// own stderr.
fn run_bash(script: &str, dir: &Path) -> (String, String) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tagsync"))
        .parent()
        .expect("the binary's directory");
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut dirs = vec![bin_dir.to_path_buf()];
            dirs.extend(std::env::split_paths(&p));
            std::env::join_paths(dirs).expect("PATH")
        }
        None => bin_dir.as_os_str().to_owned(),
    };
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(home) = std::env::var_os("HOME") {
        cmd.env("HOME", home);
    }
    let mut child = cmd.spawn().expect("run bash");
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("stdout")));
    let err = reader(Box::new(child.stderr.take().expect("stderr")));
    let mut group = Group(Some(child));
    let started = Instant::now();
    let mut timed_out = false;
    loop {
        let child = group.0.as_mut().expect("bash");
        if child.try_wait().expect("wait for bash").is_some() {
            // Reaped: its EXIT trap already signalled the group.
            group.0 = None;
            break;
        }
        if started.elapsed() > TIMEOUT {
            group.kill();
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (out, err) = (
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    );
    assert!(
        !timed_out,
        "the tutorial did not finish within {TIMEOUT:?}; what it printed:\n{out}\n{err}"
    );
    (out, err)
}

/// The ids of the seed: any other id in the output was made up by the emulator.
fn seed_ids() -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{EXAMPLES}/corp.json")).expect("corp.json");
    let seed: serde_json::Value = serde_json::from_str(&text).expect("corp.json is JSON");
    let mut ids = BTreeSet::new();
    for g in seed["tag_group"].as_array().expect("tag_group") {
        ids.insert(g["group_id"].as_str().expect("group_id").to_string());
        for t in g["tag"].as_array().expect("tag") {
            ids.insert(t["id"].as_str().expect("id").to_string());
        }
    }
    ids
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// What varies from run to run, made constant: the work directory, the emulator's port
/// (`127.0.0.1:PORT`) and ids the emulator made up (`<new id N>`, numbered in order of
/// appearance over the whole page). tagsync prints no times or durations here.
struct Normaliser {
    dir: String,
    seed: BTreeSet<String>,
    new_ids: BTreeMap<String, usize>,
}

impl Normaliser {
    fn apply(&mut self, s: &str) -> String {
        let s = s.replace(&self.dir, "<tmp>");
        let s = replace_port(&s);
        self.replace_ids(&s)
    }

    fn replace_ids(&mut self, s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < chars.len() {
            let starts = chars[i] == 'e'
                && chars.get(i + 1) == Some(&'t')
                && (i == 0 || !is_id_char(chars[i - 1]));
            if starts {
                let end = i + 32;
                let whole = end <= chars.len()
                    && chars[i + 2..end].iter().all(|c| is_id_char(*c))
                    && chars.get(end).is_none_or(|c| !is_id_char(*c));
                if whole {
                    let id: String = chars[i..end].iter().collect();
                    if self.seed.contains(&id) {
                        out.push_str(&id);
                    } else {
                        let n = self.new_ids.len() + 1;
                        let n = *self.new_ids.entry(id).or_insert(n);
                        out.push_str(&format!("<new id {n}>"));
                    }
                    i = end;
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

fn replace_port(s: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(HOST) {
        let after = &rest[at + HOST.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&rest[..at + HOST.len()]);
        if digits > 0 {
            out.push_str("PORT");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Splits the script's output at the markers: one string per step, trailing newlines
/// removed.
fn split_outputs(out: &str, marker: &str, steps: usize) -> Vec<String> {
    let mut outputs: Vec<Option<String>> = vec![None; steps];
    let mut current: Option<usize> = None;
    let mut buf = String::new();
    let mut ended = false;
    for line in out.split_inclusive('\n') {
        if let Some(tag) = line.trim_end_matches('\n').strip_prefix(marker) {
            if let Some(c) = current.take() {
                outputs[c] = Some(buf.trim_end_matches('\n').to_string());
            }
            buf.clear();
            match tag.trim() {
                "end" => ended = true,
                n => current = Some(n.parse().expect("step number")),
            }
        } else if current.is_some() {
            buf.push_str(line);
        } else {
            assert!(
                line.trim().is_empty() || ended,
                "output outside any block: {line}"
            );
        }
    }
    if let Some(c) = current {
        outputs[c] = Some(buf.trim_end_matches('\n').to_string());
    }
    outputs
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.unwrap_or_else(|| {
                panic!(
                    "block {} never ran (the script stopped before it):\n{out}",
                    i + 1
                )
            })
        })
        .collect()
}

#[test]
fn the_ten_minute_tutorial_runs_as_written() {
    let doc = std::fs::read_to_string(DOC).expect("read the tutorial");
    let lines: Vec<&str> = doc.lines().collect();
    let blocks = blocks(&lines);
    let steps = steps(&lines, &blocks);

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().canonicalize().expect("temp dir path");
    std::fs::create_dir(dir.join("examples")).expect("mkdir examples");
    for f in ["corp.json", "apps.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/{f}"), dir.join("examples").join(f)).expect("copy");
    }

    let marker = format!("@@tutorial-block-{}@@ ", std::process::id());
    // `kill -TERM 0` on exit: whatever the page left running, in bash's process group.
    let mut script = String::from("exec 2>&1\ntrap 'kill -TERM 0 2>/dev/null' EXIT\n");
    for (n, step) in steps.iter().enumerate() {
        script.push_str(&format!("printf '\\n%s\\n' '{marker}{n}'\n"));
        for line in blocks[step.sh].body(&lines) {
            script.push_str(line);
            script.push('\n');
        }
    }
    script.push_str(&format!("printf '\\n%s\\n' '{marker}end'\n"));

    let started = Instant::now();
    let (out, err) = run_bash(&script, &dir);
    let took = started.elapsed();
    assert!(
        err.trim().is_empty(),
        "bash wrote to its own stderr:\n{err}"
    );
    let mut normaliser = Normaliser {
        dir: dir.display().to_string(),
        seed: seed_ids(),
        new_ids: BTreeMap::new(),
    };
    let outputs: Vec<String> = split_outputs(&out, marker.trim_end(), steps.len())
        .iter()
        .map(|o| normaliser.apply(o))
        .collect();

    if std::env::var_os("UPDATE_TUTORIAL").is_some_and(|v| v == "1") {
        update(&doc, &lines, &blocks, &steps, &outputs);
        eprintln!("UPDATE_TUTORIAL=1: wrote the outputs into {DOC} (ran in {took:?})");
        return;
    }

    let mut failures = Vec::new();
    for (step, actual) in steps.iter().zip(&outputs) {
        let sh = &blocks[step.sh];
        let expected = match step.text {
            Some(t) => blocks[t].body(&lines).join("\n"),
            None => String::new(),
        };
        let expected = expected.trim_end_matches('\n');
        if expected != actual {
            let (expected, actual) = (format!("{expected}\n"), format!("{actual}\n"));
            let diff = similar::TextDiff::from_lines(&expected, &actual)
                .unified_diff()
                .header("docs/ten-minutes.md", "actual output")
                .to_string();
            failures.push(format!(
                "block at docs/ten-minutes.md:{}:\n{}\n{diff}",
                sh.open + 1,
                sh.body(&lines).join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the tutorial's output differs in {} block(s); if tagsync's messages changed on \
         purpose, run `UPDATE_TUTORIAL=1 cargo test --locked tutorial` and review the diff \
         of docs/ten-minutes.md\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        took < Duration::from_secs(15),
        "the tutorial took {took:?}; keep it under 15 s"
    );
}

/// Writes `outputs` into the page: each `sh` block's `text` block gets its output; a block
/// that printed nothing becomes `sh silent` (no `text` block), and a `sh silent` block that
/// printed something becomes `sh` with a `text` block.
fn update(doc: &str, lines: &[&str], blocks: &[Block], steps: &[Step], outputs: &[String]) {
    for o in outputs {
        assert!(
            !o.lines().any(|l| l.starts_with("```")),
            "an output holds a code fence; the page cannot show it:\n{o}"
        );
    }
    // Replacements of line ranges [from, to), applied from the bottom up.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for (step, out) in steps.iter().zip(outputs) {
        let sh = &blocks[step.sh];
        let text_block = |out: &str| {
            let mut v = vec![String::new(), "```text".to_string()];
            v.extend(out.lines().map(str::to_string));
            v.push("```".to_string());
            v
        };
        match (step.text, out.is_empty()) {
            (Some(t), false) => {
                let t = &blocks[t];
                let body = out.lines().map(str::to_string).collect();
                edits.push((t.open + 1, t.close, body));
            }
            (Some(t), true) => {
                // Drop the text block and the blank lines before it.
                edits.push((sh.close + 1, blocks[t].close + 1, Vec::new()));
                edits.push((sh.open, sh.open + 1, vec!["```sh silent".to_string()]));
            }
            (None, false) => {
                edits.push((sh.close + 1, sh.close + 1, text_block(out)));
                edits.push((sh.open, sh.open + 1, vec!["```sh".to_string()]));
            }
            (None, true) => {}
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut new: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for (from, to, with) in edits {
        new.splice(from..to, with);
    }
    let mut text = new.join("\n");
    if doc.ends_with('\n') {
        text.push('\n');
    }
    std::fs::write(DOC, text).expect("write the tutorial");
}
