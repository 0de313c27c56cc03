//! `tagsync validate`: every rule of the file format (README, "File format") and every kind of bad input.
//!
//! Each fixture under `tests/fixtures/invalid/` breaks one rule and says where with
//! `# expect: LINE:COLUMN message fragment` lines; the test checks that exactly those
//! diagnostics come out, then snapshots the rendered text. Large or binary inputs are
//! generated here instead of committed.

use std::path::Path;
use std::process::Command;

use tagsync::desired::{Diagnostics, MAX_FILE_BYTES, Order, Ownership, load, load_bytes, load_str};

/// The `# expect:` lines of a fixture.
fn expectations(src: &str) -> Vec<(usize, usize, String)> {
    src.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let (pos, fragment) = rest.split_once(' ').unwrap_or((rest, ""));
            let (line, col) = pos.split_once(':').expect("LINE:COLUMN");
            (
                line.parse().expect("line number"),
                col.parse().expect("column number"),
                fragment.to_owned(),
            )
        })
        .collect()
}

fn assert_expected(diags: &Diagnostics, expected: &[(usize, usize, String)]) {
    let rendered = diags.to_string();
    for (line, col, fragment) in expected {
        assert!(
            diags.items.iter().any(|d| d.pos.line == *line
                && d.pos.column == *col
                && d.message.contains(fragment.as_str())),
            "expected a diagnostic at {line}:{col} containing {fragment:?}; got:\n{rendered}"
        );
        assert!(
            rendered.contains(&format!(":{line}:{col}\n")),
            "rendered output lacks {line}:{col}:\n{rendered}"
        );
    }
    assert_eq!(
        diags.items.len(),
        expected.len(),
        "unexpected extra diagnostics:\n{rendered}"
    );
}

fn check_fixture(name: &str) {
    let path = format!("tests/fixtures/invalid/{name}.yaml");
    let src = std::fs::read_to_string(&path).expect("fixture is readable");
    let expected = expectations(&src);
    assert!(!expected.is_empty(), "{path} has no `# expect:` line");
    let diags = load(Path::new(&path)).expect_err("an invalid fixture must not validate");
    assert_expected(&diags, &expected);
    insta::assert_snapshot!(name, diags.to_string());
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                check_fixture(stringify!($name));
            }
        )*
    };
}

fixtures!(
    duplicate_id,
    duplicate_key,
    duplicate_key_and_more,
    empty_group,
    group_name_twice,
    group_name_twice_in_rule_group,
    group_without_tags,
    groups_missing,
    many_problems,
    multiple_documents,
    name_bidi,
    name_control_character,
    name_empty,
    name_null,
    name_surrounding_spaces,
    name_tilde_or_null,
    name_too_long,
    name_zero_width,
    order_ignore_conflict,
    order_mixed,
    order_negative,
    order_not_a_number,
    order_too_large,
    order_unmanaged,
    ownership_unknown,
    previously_claimed_twice,
    previously_own_name,
    previously_unmanaged,
    rule_group_bad_id,
    rule_group_listed_twice,
    rule_group_named_both_ways,
    rule_group_without_groups,
    syntax_error,
    tabs_for_indentation,
    tag_name_twice_in_group,
    typo_and_five_more,
    unknown_key,
    unknown_tag_key,
    version_2,
    version_missing,
    wrong_type_managed,
    wrong_type_tags,
    wrong_type_unknown_key_bad_order,
);

#[test]
fn every_fixture_file_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir("tests/fixtures/invalid")
        .expect("fixture directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".yaml")
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = FIXTURES.to_vec();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn the_example_validates_clean_and_means_what_it_says() {
    let d = load(Path::new("tags.yaml.example")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.version, 1);
    assert_eq!(d.ownership, Ownership::Ledger);
    assert!(d.groups.len() >= 5);
    let level = &d.groups[0];
    assert_eq!(level.name, "客户等级");
    assert_eq!(level.tags[0].name, "VIP");
    assert_eq!(level.tags[1].name, "重要客户");
    assert_eq!(level.tags[1].previously, vec!["重点客户".to_owned()]);
    assert!(d.groups.iter().any(|g| !g.managed));
    assert!(d.groups.iter().any(|g| g.order == Order::Ignore));
    assert!(
        d.groups
            .iter()
            .flat_map(|g| &g.tags)
            .any(|t| t.order == Order::Value(300))
    );
    assert!(d.groups.iter().any(|g| g.id.is_some()));
    assert!(d.groups.iter().any(|g| g.name.is_ascii()));
}

#[test]
fn valid_fixtures_validate_clean() {
    for entry in std::fs::read_dir("tests/fixtures/valid").expect("fixture directory") {
        let path = entry.expect("dir entry").path();
        if let Err(e) = load(&path) {
            panic!("{} should be valid:\n{e}", path.display());
        }
    }
}

#[test]
fn swaps_and_chains_are_valid_renames() {
    let d = load(Path::new("tests/fixtures/valid/swap_and_chain.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let tags = &d.groups[0].tags;
    assert_eq!(tags[0].name, "A");
    assert_eq!(tags[0].previously, ["B"]);
    assert_eq!(tags[1].previously, ["A"]);
}

#[test]
fn limits_are_inclusive_and_plain_scalars_keep_their_spelling() {
    let d = load(Path::new("tests/fixtures/valid/limits.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ownership, Ownership::All);
    assert_eq!(d.groups[0].name.chars().count(), 30);
    assert_eq!(d.groups[0].order, Order::Value(u32::MAX));
    assert_eq!(d.groups[0].tags[0].order, Order::Value(0));
    let names: Vec<&str> = d.groups[1].tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["2024", "0012", "yes", "no", "on", "1_000"]);
}

#[test]
fn not_utf8_points_at_the_first_bad_byte() {
    // "你好" in GBK.
    let bytes = b"version: 1\ngroups:\n  - name: \xC4\xE3\xBA\xC3\n    tags: [x]\n";
    let diags = load_bytes(bytes, "gbk.yaml").expect_err("GBK is not UTF-8");
    assert_expected(&diags, &[(3, 11, "not valid UTF-8".to_owned())]);
    insta::assert_snapshot!(diags.to_string());
}

#[test]
fn a_leading_bom_is_accepted() {
    let src = std::fs::read_to_string("tags.yaml.example").expect("example");
    let with_bom = format!("\u{FEFF}{src}");
    assert_eq!(
        load_str(&with_bom, "bom.yaml").unwrap_or_else(|e| panic!("{e}")),
        load_str(&src, "plain.yaml").unwrap_or_else(|e| panic!("{e}"))
    );
}

#[test]
fn columns_after_a_bom_are_not_shifted() {
    let diags = load_bytes("\u{FEFF}version: 2\ngroups: []\n".as_bytes(), "bom.yaml")
        .expect_err("version 2");
    assert_expected(&diags, &[(1, 10, "unsupported file version 2".to_owned())]);
}

#[test]
fn a_bom_inside_the_document_is_an_error() {
    let diags = load_str("version: 1\ngroups:\n  \u{FEFF}- name: a\n", "bom.yaml")
        .expect_err("a BOM after the start is not whitespace");
    assert_eq!(diags.items.len(), 1, "{diags}");
    assert_eq!(diags.items[0].pos.line, 3, "{diags}");
}

#[test]
fn empty_and_comment_only_files_are_reported() {
    for (name, src) in [
        ("empty.yaml", ""),
        ("blank.yaml", "\n  \n\n"),
        ("comment.yaml", "# only a comment\n"),
    ] {
        let diags = load_str(src, name).expect_err("nothing to validate");
        assert_expected(&diags, &[(1, 1, "the file is empty".to_owned())]);
    }
    let diags = load_str("# only a comment\n", "comment.yaml").expect_err("empty");
    insta::assert_snapshot!(diags.to_string());
}

#[test]
fn a_20_mb_file_is_refused_without_parsing() {
    let line = "  - name: 客户等级\n    tags: [VIP]\n";
    let mut src = String::from("version: 1\ngroups:\n");
    while src.len() < 20 * 1024 * 1024 {
        src.push_str(line);
    }
    let diags = load_str(&src, "big.yaml").expect_err("too large");
    assert_eq!(diags.items.len(), 1, "{diags}");
    assert!(
        diags.items[0].message.contains("larger than 8 MiB"),
        "{diags}"
    );
    // No place in the file to point at.
    assert!(!diags.items[0].pos.is_known(), "{diags}");
    insta::assert_snapshot!(diags.to_string());

    // From disk, only the first MAX_FILE_BYTES + 1 bytes are read.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, &src).expect("write");
    let diags = load(&path).expect_err("too large");
    assert!(diags.items[0].message.contains("larger than"), "{diags}");
    assert!(src.len() > MAX_FILE_BYTES);
}

#[test]
fn deep_flow_nesting_fails_fast() {
    let depth = 100_000;
    let src = format!(
        "version: 1\ngroups: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let diags = load_str(&src, "deep.yaml").expect_err("too deep");
    assert_eq!(diags.items.len(), 1, "{diags}");
    assert_eq!(diags.items[0].pos.line, 2, "{diags}");
    insta::assert_snapshot!(diags.to_string());
}

#[test]
fn deep_block_nesting_fails_fast() {
    let mut src = String::from("version: 1\ngroups:\n");
    for i in 0..2_000 {
        src.push_str(&" ".repeat(i * 2));
        src.push_str("-\n");
    }
    let diags = load_str(&src, "deep.yaml").expect_err("too deep");
    assert_eq!(diags.items.len(), 1, "{diags}");
}

#[test]
fn an_alias_bomb_fails_fast() {
    // Type-correct amplification: every group's tags are an alias of one big list.
    let tags: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
    let mut src = format!(
        "version: 1\ngroups:\n  - name: g0\n    tags: &t [{}]\n",
        tags.join(", ")
    );
    for i in 1..5_000 {
        src.push_str(&format!("  - {{name: g{i}, tags: *t}}\n"));
    }
    let diags = load_str(&src, "bomb.yaml").expect_err("amplification");
    assert_eq!(diags.items.len(), 1, "{diags}");
    assert!(diags.items[0].message.contains("alias"), "{diags}");
    insta::assert_snapshot!(diags.to_string());
}

#[test]
fn too_many_aliases_are_refused() {
    let aliases = ["*n"; 3_000].join(", ");
    let src = format!(
        "version: 1\ngroups:\n  - name: g0\n    tags: [&n x]\n  - name: g1\n    tags: [{aliases}]\n"
    );
    let diags = load_str(&src, "aliases.yaml").expect_err("too many aliases");
    assert_eq!(diags.items.len(), 1, "{diags}");
    assert!(diags.items[0].message.contains("parser limit"), "{diags}");
}

#[test]
fn the_classic_billion_laughs_is_refused() {
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let alias = format!("*a{}", i - 1);
        let items = [alias.as_str(); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    // At the top level, and as a list where names are expected.
    let top = format!("version: 1\n{bomb}");
    let mut nested =
        String::from("version: 1\ngroups:\n  - name: g\n    tags: [x]\n    previously:\n");
    for line in bomb.lines() {
        let value = line.split_once(": ").map_or(line, |(_, v)| v);
        nested.push_str(&format!("      - {value}\n"));
    }
    for src in [top, nested] {
        let diags = load_str(&src, "bomb.yaml").expect_err("bomb");
        assert_eq!(diags.items.len(), 1, "{diags}");
    }
}

fn file_with_tags(n: usize) -> String {
    let mut src = String::from("version: 1\ngroups:\n");
    for g in 0..n.div_ceil(100) {
        src.push_str(&format!("  - name: 分组{g}\n    tags:\n"));
        for t in 0..(n - g * 100).min(100) {
            src.push_str(&format!("      - 标签{t}\n"));
        }
    }
    src
}

#[test]
fn ten_thousand_tags_are_fine_and_one_more_is_not() {
    let ok = load_str(&file_with_tags(10_000), "ok.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok.groups.iter().map(|g| g.tags.len()).sum::<usize>(),
        10_000
    );

    let diags = load_str(&file_with_tags(10_001), "big.yaml").expect_err("10001 tags");
    // The 10001st tag is the only tag of the 101st group (line 2 + 100 × 102 + 3).
    assert_expected(&diags, &[(10_205, 9, "more than 10000 tags".to_owned())]);
    insta::assert_snapshot!(diags.to_string());
}

#[test]
fn ten_thousand_tags_with_every_field_fit_the_parser_limits() {
    let mut src = String::from("version: 1\ngroups:\n");
    for g in 0..100 {
        src.push_str(&format!("  - name: 分组{g}\n    id: group{g}\n    tags:\n"));
        for t in 0..100 {
            src.push_str(&format!(
                "      - {{name: 标签{t}, id: tag{g}-{t}, previously: [旧标签{t}, 老标签{t}], order: {t}}}\n"
            ));
        }
    }
    let d = load_str(&src, "full.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.groups.iter().map(|g| g.tags.len()).sum::<usize>(), 10_000);
    assert_eq!(d.groups[99].tags[99].previously, ["旧标签99", "老标签99"]);
}

#[test]
fn thirty_chinese_characters_are_fine() {
    let name: String = "一二三四五六七八九十".repeat(3);
    let src = format!("version: 1\ngroups:\n  - name: g\n    tags: [{name}]\n");
    let d = load_str(&src, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.groups[0].tags[0].name, name);
}

#[test]
fn the_same_tag_name_in_two_groups_is_fine() {
    let src = "version: 1\ngroups:\n  - name: a\n    tags: [VIP]\n  - name: b\n    tags: [VIP]\n";
    assert!(load_str(src, "t.yaml").is_ok());
}

fn tagsync(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(args)
        .output()
        .expect("run tagsync")
}

#[test]
fn cli_validate_exits_0_on_the_example_and_1_on_errors() {
    let ok = tagsync(&["validate", "-c", "tags.yaml.example"]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok (6 groups"));

    let bad = tagsync(&[
        "validate",
        "-c",
        "tests/fixtures/invalid/many_problems.yaml",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("many_problems.yaml:8:10"), "{stderr}");
    assert!(stderr.contains("has 6 problems"), "{stderr}");

    let missing = tagsync(&["validate", "-c", "tests/fixtures/no-such-file.yaml"]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("cannot open"), "{stderr}");
    assert!(stderr.contains("check the path given to -c"), "{stderr}");
    assert!(!stderr.contains(":1:1"), "{stderr}");
}

#[test]
fn cli_validate_without_c_and_without_tags_yaml_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .arg("validate")
        .current_dir(dir.path())
        .output()
        .expect("run tagsync");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // No `-c` was given, so no talk of "the path given to -c", and no made-up position.
    assert!(!stderr.contains("given to -c"), "{stderr}");
    assert!(!stderr.contains("tags.yaml:1:1"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn cli_schema_matches_the_committed_schema_file() {
    let out = tagsync(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tagsync.schema.json").expect("tagsync.schema.json"),
    )
    .expect("committed schema is JSON");
    assert_eq!(
        printed, committed,
        "run `cargo run -- schema > tagsync.schema.json`"
    );
}

#[test]
fn cli_diagnostics_for_a_temp_file_are_stable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tags.yaml");
    std::fs::write(
        &path,
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, VIP]\n",
    )
    .expect("write");
    let path_str = path.to_str().expect("UTF-8 temp path");
    let out = tagsync(&["validate", "-c", path_str]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let dir_str = dir.path().to_str().expect("UTF-8 temp path");
    insta::with_settings!({filters => vec![(regex_escape(dir_str).as_str(), "[TMP]")]}, {
        insta::assert_snapshot!(stderr);
    });
}

/// Escape a literal for insta's regex filters.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[test]
fn a_name_tagsync_sends_is_held_to_30_utf16_units() {
    let fifteen = "😀".repeat(15);
    let sixteen = "😀".repeat(16);
    let ok = format!("version: 1\ngroups:\n  - name: g\n    tags: [\"{fifteen}\"]\n");
    load_str(&ok, "ok.yaml").unwrap_or_else(|e| panic!("{e}"));
    let bad = format!("version: 1\ngroups:\n  - name: g\n    tags: [\"{sixteen}\"]\n");
    let diags = load_str(&bad, "bad.yaml").expect_err("32 UTF-16 units");
    let shown = diags.to_string();
    assert!(
        shown.contains("is 16 characters but 32 UTF-16 units long"),
        "{shown}"
    );
    assert!(shown.contains("may count twice"), "{shown}");
    // A console group's names are only compared, never sent: counted as characters.
    let read_only = format!(
        "version: 1\ngroups:\n  - name: g\n    managed: false\n    order: ignore\n    tags: [\"{sixteen}\"]\n"
    );
    load_str(&read_only, "ro.yaml").unwrap_or_else(|e| panic!("{e}"));
}
