//! Reading the desired-state file: bytes (bounded) → YAML tree ([`Node`]) → shaped
//! ([`raw::shape`]) → checked ([`validate::check`]) → [`Desired`], or every problem at
//! once as [`Diagnostics`].

use std::path::Path;

use serde_saphyr::{Budget, DuplicateKeyPolicy, NonFiniteFloatPolicy, Options};

use super::diagnostic::{Diagnostic, Diagnostics, Pos};
use super::model::Desired;
use super::raw::{self, Node};
use super::validate;

/// The desired-state file used when `-c` is not given.
pub const DEFAULT_FILE: &str = "tags.yaml";
/// Largest accepted file. 10000 tags of 30 Chinese characters with old names and ids
/// fit in a few MiB; anything past this is not a tag list.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Read and check a desired-state file.
pub fn load(path: &Path) -> Result<Desired, Diagnostics> {
    let bytes = read_file(path)?;
    load_bytes(&bytes, &path.display().to_string())
}

/// Read a desired-state file's bytes (at most [`MAX_FILE_BYTES`] + 1 of them, so that
/// [`load_bytes`] reports a file too large without reading it all).
pub fn read_file(path: &Path) -> Result<Vec<u8>, Diagnostics> {
    let name = path.display().to_string();
    let fail = |msg: String, help: &str| {
        Diagnostics::new(&name, "", vec![Diagnostic::new(msg, Pos::NONE, help)])
    };
    // A regular file only, and no more than one byte past the limit (so that a file
    // too large is reported as such by `load_bytes`).
    crate::safe_read::read(path, MAX_FILE_BYTES as u64 + 1).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_FILE) {
            // The default of `-c`: the user most likely gave no path at all.
            fail(
                format!("no {DEFAULT_FILE} in the current directory"),
                "pass -c FILE, or run tagsync where tags.yaml is (`tagsync export -o tags.yaml` writes one from the corp)",
            )
        } else if e.kind() == std::io::ErrorKind::InvalidData {
            // Larger than the limit plus one: too large, whatever its size.
            too_large(&name)
        } else {
            fail(
                format!("cannot open {name}: {e}"),
                "check the path given to -c: a readable regular file",
            )
        }
    })
}

/// Check a desired-state file given as bytes (not yet known to be UTF-8).
pub fn load_bytes(bytes: &[u8], file_name: &str) -> Result<Desired, Diagnostics> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(file_name));
    }
    match std::str::from_utf8(bytes) {
        Ok(src) => load_str(src, file_name),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            let lossy = String::from_utf8_lossy(bytes);
            let d = Diagnostic::new(
                "the file is not valid UTF-8",
                Pos::new(line, column, 1),
                "save the file as UTF-8 (not GBK or UTF-16)",
            )
            .label("invalid byte here");
            Err(Diagnostics::new(file_name, &lossy, vec![d]))
        }
    }
}

fn too_large(name: &str) -> Diagnostics {
    let d = Diagnostic::new(
        format!(
            "{} is larger than {} MiB",
            name,
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        Pos::NONE,
        "a desired-state file of 10000 tags is a few MiB; check that this is the right file",
    );
    Diagnostics::new(name, "", vec![d])
}

/// Check a desired-state file given as text; `file_name` is used in diagnostics.
pub fn load_str(src: &str, file_name: &str) -> Result<Desired, Diagnostics> {
    if src.len() > MAX_FILE_BYTES {
        return Err(too_large(file_name));
    }
    // A UTF-8 byte-order mark (Windows editors write one) is allowed at the start.
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    let fail = |items: Vec<Diagnostic>| Diagnostics::new(file_name, src, items);
    if is_blank(src) {
        return Err(fail(vec![Diagnostic::new(
            "the file is empty",
            Pos::START,
            "start from `tagsync export` or tags.yaml.example: `version: 1` and a `groups:` list",
        )]));
    }
    let root: Node = serde_saphyr::from_str_with_options(src, options())
        .map_err(|e| fail(vec![parse_error(&e, src)]))?;
    let mut problems = Vec::new();
    let raw = raw::shape(&root, src, &mut problems);
    let desired = validate::check(raw, &mut problems);
    if problems.is_empty() {
        Ok(desired)
    } else {
        Err(fail(problems))
    }
}

/// Only whitespace and comments.
fn is_blank(src: &str) -> bool {
    src.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Parser limits: a hostile file (alias bomb, deep nesting) fails fast instead of
/// eating memory or time. Real files are shallow (six levels) and small.
pub fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 32;
    budget.max_documents = 1;
    budget.max_nodes = 400_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = 100_000;
    budget.flow_nesting_limit = 32;
    let mut opts = Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts.leading_zero_numbers_as_strings = true;
    opts.underscored_numbers_as_strings = true;
    // `Y`, `no`, `on` are names, not YAML 1.1 booleans.
    opts.strict_booleans = true;
    // Repeated keys reach `raw::shape`, which reports them with every other problem.
    opts.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    // `.nan` or `.inf` where a name or an order is expected is reported, not fatal.
    opts.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    opts
}

/// A YAML syntax error or a parser limit as a diagnostic. These stop the parse, so the
/// help says that other problems show once this one is fixed.
pub fn parse_error(e: &serde_saphyr::Error, src: &str) -> Diagnostic {
    let mut pos = e
        .location()
        .and_then(|l| Pos::from_location(&l))
        .unwrap_or(Pos::START);
    pos.len = 1;
    let rendered = e
        .render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        })
        .to_string();
    let message = friendly(&strip_location_suffix(&rendered));
    let help = format!(
        "{}; YAML errors stop the check, so other problems show once this is fixed",
        parse_help(&message)
    );
    let line = src.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    if message.contains("tab")
        && let Some(i) = line.chars().position(|c| c == '\t')
    {
        // The parser reports the position after the tab; point at the tab itself.
        pos.column = i + 1;
    }
    // The parser stumbles where an unclosed `[` or `{` stops making sense, often lines
    // later: point at the bracket too (for a syntax error, not a parser limit).
    let syntax = parse_help(&message) == SYNTAX_HELP;
    match unclosed_flow(src, pos).filter(|(open, _)| syntax && open.line < pos.line) {
        Some((open, bracket)) => {
            let close = if bracket == '[' { ']' } else { '}' };
            Diagnostic::new(
                message,
                pos,
                format!(
                    "the `{bracket}` on line {} is never closed: add the `{close}` where its list \
                     ends; YAML errors stop the check, so other problems show once this is fixed",
                    open.line
                ),
            )
            .note(open, format!("`{bracket}` opened here"))
        }
        None => Diagnostic::new(message, pos, help),
    }
}

/// The innermost `[` or `{` opened before `until` and not closed by then, with its
/// position: counted only where a flow collection may start (after `:`, `-`, `,`, `[`,
/// `{` or at the start of a line), outside quotes and comments.
fn unclosed_flow(src: &str, until: Pos) -> Option<(Pos, char)> {
    let mut open: Vec<(Pos, char)> = Vec::new();
    for (l, line) in src.lines().enumerate().take(until.line) {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut last_sign = None; // the last non-space character before this one
        for (c_idx, c) in line.chars().enumerate() {
            if l + 1 == until.line && c_idx + 1 >= until.column {
                break;
            }
            match quote {
                Some(q) => {
                    if c == q && !(q == '"' && prev == '\\') {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if prev.is_whitespace() || c_idx == 0 => break,
                    '\'' | '"' if at_value_start(last_sign) => quote = Some(c),
                    '[' | '{' if at_value_start(last_sign) => {
                        let pos = Pos {
                            line: l + 1,
                            column: c_idx + 1,
                            len: 1,
                        };
                        open.push((pos, c));
                    }
                    ']' | '}' => {
                        open.pop();
                    }
                    _ => {}
                },
            }
            prev = c;
            if !c.is_whitespace() {
                last_sign = Some(c);
            }
        }
    }
    open.pop()
}

/// Whether a scalar or collection may start after `last` (the last non-space character).
fn at_value_start(last: Option<char>) -> bool {
    matches!(last, None | Some(':' | '-' | ',' | '[' | '{' | '?'))
}

/// Parser wording made plain for users.
fn friendly(msg: &str) -> String {
    if msg.starts_with("alias replay limit exceeded") {
        return "too many alias expansions: YAML aliases (`*name`) expand to more than 100000 nodes"
            .to_owned();
    }
    if let Some(what) = msg.strip_prefix("budget breached: ") {
        let what = what.split_whitespace().next().unwrap_or(what);
        if what == "Documents" {
            return "more than one YAML document (a second `---`)".to_owned();
        }
        return format!("the file exceeds a parser limit ({what})");
    }
    match msg {
        "recursion limit exceeded" => "the file is nested too deeply".to_owned(),
        _ => msg.to_owned(),
    }
}

/// The parser appends " at line L column C"; the diagnostic shows that itself.
fn strip_location_suffix(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

fn parse_help(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("more than one yaml document") {
        "keep the whole desired state in one YAML document"
    } else if m.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation"
    } else if m.contains("parser limit") || m.contains("alias") || m.contains("nested too deeply") {
        "the file is nested too deeply or expands too many aliases; write the lists out plainly"
    } else {
        SYNTAX_HELP
    }
}

const SYNTAX_HELP: &str = "fix the YAML syntax at this position";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_bracket_is_pointed_at_where_it_opens() {
        let src = "version: 1\ngroups:\n  - name: a\n    tags: [x\n  - name: b\n";
        let d = load_str(src, "t.yaml").expect_err("unclosed");
        let item = &d.items[0];
        assert_eq!(item.notes.len(), 1, "{d}");
        assert_eq!(
            (item.notes[0].pos.line, item.notes[0].pos.column),
            (4, 11),
            "{d}"
        );
        assert!(
            item.help.contains("the `[` on line 4 is never closed"),
            "{d}"
        );
        let shown = d.to_string();
        assert!(
            shown.contains("t.yaml:4:11") || shown.contains("4 |"),
            "{shown}"
        );
    }

    #[test]
    fn brackets_inside_names_quotes_and_comments_are_not_openers() {
        for line in [
            "    tags: [\"a[b\", 'c{d', e[f] # [ not this\n",
            "    tags:\n      - a[b\n      - it's [x\n",
        ] {
            assert_eq!(
                unclosed_flow(
                    line,
                    Pos {
                        line: 9,
                        column: 1,
                        len: 1
                    }
                ),
                None,
                "{line}"
            );
        }
    }

    #[test]
    fn duplicate_keys_in_flow_maps_name_both_places() {
        let src = "version: 1\ngroups:\n  - {name: a, tags: [x], name: b}\n";
        let d = load_str(src, "t.yaml").expect_err("duplicate key");
        assert_eq!(d.items.len(), 1, "{d}");
        let item = &d.items[0];
        assert!(item.message.contains("duplicate key `name`"), "{d}");
        assert_eq!(item.notes.len(), 1, "{d}");
        assert_eq!((item.notes[0].pos.line, item.notes[0].pos.column), (3, 6));
    }

    #[test]
    fn duplicate_top_level_keys_name_both_places() {
        let src = "version: 1\ngroups: []\n# comment\n\nversion: 1\n";
        let d = load_str(src, "t.yaml").expect_err("duplicate key");
        let item = &d.items[0];
        assert_eq!((item.pos.line, item.pos.column), (5, 1), "{d}");
        assert_eq!(
            (item.notes[0].pos.line, item.notes[0].pos.column),
            (1, 1),
            "{d}"
        );
    }

    /// (line, column, message) of each diagnostic.
    fn found(src: &str) -> Vec<(usize, usize, String)> {
        let d = load_str(src, "t.yaml").expect_err("invalid");
        d.items
            .iter()
            .map(|i| (i.pos.line, i.pos.column, i.message.clone()))
            .collect()
    }

    #[test]
    fn a_file_that_is_not_a_map_is_one_problem() {
        let got = found("- a\n- b\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].2.starts_with("the file must be a map"), "{got:?}");
    }

    #[test]
    fn mistyped_top_level_keys_are_not_also_missing() {
        let got = found("version: one\ngroups: VIP\nownership: [all]\n");
        let messages: Vec<&str> = got.iter().map(|g| g.2.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`version` must be a whole number, found a string",
                "`groups` must be a list, found a string",
                "`ownership` must be `ledger` or `all`, found a list",
            ],
            "{got:?}"
        );
    }

    #[test]
    fn group_items_that_are_not_maps_do_not_stop_the_rest() {
        let got = found("version: 1\ngroups:\n  - 客户等级\n  - name: b\n    tags: [x, x]\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].0, got[0].1), (3, 5), "{got:?}");
        assert!(got[0].2.starts_with("a group must be a map"), "{got:?}");
        assert_eq!((got[1].0, got[1].1), (5, 15), "{got:?}");
    }

    #[test]
    fn names_never_sent_may_keep_what_the_console_allowed() {
        let src = "version: 1\ngroups:\n  - name: \"行业 \"\n    managed: false\n    tags: [\"制造业\\t\"]\n  - name: a\n    tags:\n      - {name: b, previously: [\"b \"]}\n";
        let d = load_str(src, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.groups[0].name, "行业 ");
        assert_eq!(d.groups[0].tags[0].name, "制造业\t");
        assert_eq!(d.groups[1].tags[0].previously, ["b "]);
        // The same names in a managed group are refused (the tab is both whitespace
        // around the name and a control character).
        let managed = src.replace("    managed: false\n", "");
        assert_eq!(found(&managed).len(), 3, "{:?}", found(&managed));
    }

    #[test]
    fn an_order_too_large_for_any_integer_is_out_of_range() {
        let got = found(
            "version: 1\ngroups:\n  - name: a\n    order: 99999999999999999999999999999999999999999\n    tags: [x]\n",
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].2.contains("is outside [0, 2^32)"), "{got:?}");
    }

    #[test]
    fn errors_are_reported_in_file_order() {
        let src =
            "version: 1\ngroups:\n  - name: b\n    tags: []\n  - name: \"\"\n    tags: [x, x]\n";
        let d = load_str(src, "t.yaml").expect_err("invalid");
        let lines: Vec<usize> = d.items.iter().map(|i| i.pos.line).collect();
        assert_eq!(lines, [4, 5, 6], "{d}");
    }
}
