//! Property tests of the desired-state loader: no input makes it panic, every
//! diagnostic points inside the file, and on well-formed documents the verdict agrees
//! with an independent statement of the name rules.

use std::collections::HashSet;

use proptest::prelude::*;
use tagsync::desired::{Diagnostics, MAX_NAME_CHARS, load_bytes, load_str};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Rendering must not panic either, and every position must be inside the file.
fn check_diagnostics(d: &Diagnostics, src_lines: usize) -> Result<(), TestCaseError> {
    prop_assert!(!d.is_empty());
    let text = d.to_string();
    prop_assert!(text.contains("error: "));
    for item in &d.items {
        prop_assert!(item.pos.line >= 1 && item.pos.line <= src_lines.max(1) + 1);
        prop_assert!(item.pos.column >= 1);
        prop_assert!(!item.help.is_empty());
    }
    Ok(())
}

const KEYS: &[&str] = &[
    "version",
    "ownership",
    "groups",
    "name",
    "id",
    "previously",
    "managed",
    "order",
    "tags",
    "tag",
    "x",
];
const VALUES: &[&str] = &[
    "",
    "1",
    "2",
    "-1",
    "4294967296",
    "ignore",
    "all",
    "ledger",
    "true",
    "null",
    "VIP",
    "客户等级",
    "[a, b]",
    "[]",
    "{name: a}",
    "{",
    "]",
    "&a x",
    "*a",
    "&b [1, 2]",
    "*b",
    "'q",
    "\"\\u202e\"",
    "\"\\e\"",
    "- x",
    "|",
    ">",
    "!!str 5",
    "<<: *b",
    "#",
    "%YAML 1.2",
    "---",
    "...",
    "\t",
    "1.5",
    "0x1F",
    "~",
];

fn yaml_line() -> impl Strategy<Value = String> {
    (
        0usize..8,
        any::<bool>(),
        prop::sample::select(KEYS),
        prop::sample::select(VALUES),
    )
        .prop_map(|(indent, dash, key, value)| {
            format!(
                "{}{}{key}: {value}",
                " ".repeat(indent),
                if dash { "- " } else { "" }
            )
        })
}

/// One character of every Unicode general category (surrogates cannot be characters),
/// and the blank-looking and emoji cases the name rule names.
const EVERY_CATEGORY: &[char] = &[
    'A',
    'a',
    '\u{01C5}',
    '\u{02B0}',
    '客', // Lu Ll Lt Lm Lo
    '\u{0301}',
    '\u{0903}',
    '\u{20DD}', // Mn Mc Me
    '7',
    '\u{216B}',
    '\u{00BD}', // Nd Nl No
    '_',
    '-',
    '(',
    ')',
    '\u{00AB}',
    '\u{00BB}',
    '!', // Pc Pd Ps Pe Pi Pf Po
    '+',
    '$',
    '^',
    '\u{00A9}', // Sm Sc Sk So
    ' ',
    '\u{3000}',
    '\u{2028}',
    '\u{2029}', // Zs Zs Zl Zp
    '\u{0007}',
    '\u{200E}',
    '\u{E000}',
    '\u{0378}',
    '\u{FFFE}', // Cc Cf Co Cn Cn
    '\u{3164}',
    '\u{2800}',
    '\u{115F}',
    '\u{FE0F}',
    '\u{2764}',
    '\u{1F600}',
    '\u{E0041}',
];

/// Characters for names: mostly ordinary, sometimes the ones the rules reject, and
/// sometimes one of every Unicode general category.
fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![
        40 => prop::sample::select(&['a', 'B', '7', '客', '户', '等', '级', '-', '_', '·'][..]),
        1 => prop::sample::select(
            &[' ', '\t', '\u{3000}', '\u{1b}', '\u{7f}', '\u{85}', '\u{200b}', '\u{202e}', '\u{2066}', '\u{feff}'][..]
        ),
        3 => prop::sample::select(EVERY_CATEGORY),
    ]
}

fn name() -> impl Strategy<Value = String> {
    // Mostly short names, so that whole documents are often valid; sometimes long ones.
    prop_oneof![
        9 => prop::collection::vec(name_char(), 1..8),
        1 => prop::collection::vec(name_char(), 0..34),
    ]
    .prop_map(|cs| cs.into_iter().collect())
}

/// A YAML double-quoted scalar; anything not plainly printable is escaped.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if tagsync::sanitize::is_unsafe_char(c) || (c.is_whitespace() && c != ' ') => {
                if (c as u32) > 0xFFFF {
                    out.push_str(&format!("\\U{:08X}", c as u32))
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The name rules of the file format, stated apart from the validator (the character
/// classes are the sanitizer's, which every output uses too).
fn name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.chars().count() <= MAX_NAME_CHARS
        && n.trim() == n
        && tagsync::sanitize::first_unsafe(n).is_none()
        && tagsync::sanitize::has_visible_char(n)
}

fn all_distinct<'a>(names: impl IntoIterator<Item = &'a String>) -> bool {
    let mut seen = HashSet::new();
    names.into_iter().all(|n| seen.insert(n))
}

/// A file of these groups and tags, all names quoted; with `unknown_in`, that group
/// also has an unknown key `colour` after its tags.
fn document(groups: &[(String, Vec<String>)], unknown_in: Option<usize>) -> String {
    let mut src = String::from("version: 1\ngroups:\n");
    if groups.is_empty() {
        src.push_str("  []\n");
    }
    for (i, (g, tags)) in groups.iter().enumerate() {
        src.push_str(&format!("  - name: {}\n    tags:\n", quoted(g)));
        for t in tags {
            src.push_str(&format!("      - {}\n", quoted(t)));
        }
        if tags.is_empty() {
            src.push_str("      []\n");
        }
        if unknown_in == Some(i) {
            src.push_str("    colour: blue\n");
        }
    }
    src
}

/// The messages of a verdict, sorted; none for a valid file.
fn messages(src: &str) -> Vec<String> {
    let mut m: Vec<String> = match load_str(src, "gen.yaml") {
        Ok(_) => Vec::new(),
        Err(d) => d.items.into_iter().map(|i| i.message).collect(),
    };
    m.sort();
    m
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        if let Err(d) = load_bytes(&bytes, "fuzz.yaml") {
            check_diagnostics(&d, lines)?;
        }
    }

    #[test]
    fn yaml_shaped_documents_never_panic(lines in prop::collection::vec(yaml_line(), 0..30)) {
        let src = lines.join("\n");
        if let Err(d) = load_str(&src, "fuzz.yaml") {
            check_diagnostics(&d, lines.len())?;
        }
    }

    #[test]
    fn edited_example_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(VALUES)), 1..6)
    ) {
        let mut src: Vec<char> = include_str!("../../tags.yaml.example").chars().collect();
        for (at, kind, text) in edits {
            let i = at.index(src.len() + 1);
            match kind {
                0 => { src.insert(i.min(src.len()), text.chars().next().unwrap_or(' ')); }
                1 => { if i < src.len() { src.remove(i); } }
                _ => { src.splice(i.min(src.len())..i.min(src.len()), text.chars()); }
            }
        }
        let src: String = src.into_iter().collect();
        if let Err(d) = load_str(&src, "edited.yaml") {
            check_diagnostics(&d, src.lines().count())?;
        }
    }

    #[test]
    fn verdict_matches_the_name_rules(
        groups in prop::collection::vec((name(), prop::collection::vec(name(), 0..5)), 0..4)
    ) {
        let src = document(&groups, None);
        let expected_ok = groups.iter().all(|(g, tags)| {
            name_ok(g) && !tags.is_empty() && tags.iter().all(|t| name_ok(t)) && all_distinct(tags)
        }) && all_distinct(groups.iter().map(|(g, _)| g));
        match load_str(&src, "gen.yaml") {
            Ok(d) => {
                prop_assert!(expected_ok, "accepted:\n{src}");
                // Nothing a name holds is escaped in output: what is accepted shows as is.
                for (g, tags) in &groups {
                    for n in std::iter::once(g).chain(tags) {
                        prop_assert_eq!(&tagsync::sanitize::for_terminal(n), n);
                    }
                }
                let got: Vec<(String, Vec<String>)> = d
                    .groups
                    .into_iter()
                    .map(|g| (g.name, g.tags.into_iter().map(|t| t.name).collect()))
                    .collect();
                prop_assert_eq!(got, groups);
            }
            Err(d) => {
                prop_assert!(!expected_ok, "rejected:\n{src}\n{d}");
                check_diagnostics(&d, src.lines().count())?;
            }
        }
    }

    #[test]
    fn an_unknown_key_hides_no_other_problem(
        groups in prop::collection::vec((name(), prop::collection::vec(name(), 0..5)), 1..4),
        at in any::<prop::sample::Index>(),
    ) {
        let at = at.index(groups.len());
        let mut expected = messages(&document(&groups, None));
        expected.push("unknown key `colour` in a group".to_owned());
        expected.sort();
        let with_typo = document(&groups, Some(at));
        prop_assert_eq!(messages(&with_typo), expected, "{}", with_typo);
    }
}
