//! Snapshots of every renderer (text without colour, markdown, json) on a matrix of
//! scenarios, rendered from `plan::plan` directly (pure, no network).

use tagsync::desired::{self, Desired};
use tagsync::plan::{self, Owned, Plan, PlanOptions};
use tagsync::remote::{RemoteGroup, RemoteTag, Snapshot};
use tagsync::render::{self, Context, Format, markdown};

/// `(group id, name, order, [(tag id, name, order)])`
type G<'a> = (&'a str, &'a str, u32, Vec<(&'a str, &'a str, u32)>);

fn snap(groups: Vec<G<'_>>) -> Snapshot {
    Snapshot {
        groups: groups
            .into_iter()
            .map(|(id, name, order, tags)| RemoteGroup {
                id: id.into(),
                name: name.into(),
                order,
                create_time: 0,
                tags: tags
                    .into_iter()
                    .map(|(id, name, order)| RemoteTag {
                        id: id.into(),
                        name: name.into(),
                        order,
                        create_time: 0,
                    })
                    .collect(),
            })
            .collect(),
        rule_groups: None,
    }
}

fn file(yaml: &str) -> Desired {
    desired::load_str(yaml, "tags.yaml").unwrap_or_else(|d| panic!("{d}"))
}

fn owned(ids: &[&str]) -> Owned {
    Owned::Ids(ids.iter().map(|s| s.to_string()).collect())
}

struct Scenario {
    name: &'static str,
    desired: Desired,
    remote: Snapshot,
    owned: Owned,
}

fn scenarios() -> Vec<Scenario> {
    let hundred: Vec<(String, String, u32)> = (1..=100)
        .map(|i| (format!("t{i:03}"), format!("tag-{i:03}"), (101 - i) * 10))
        .collect();
    let mut top_file = String::from("version: 1\ngroups:\n  - name: G\n    tags: [tag-100");
    for i in 1..=99 {
        top_file.push_str(&format!(", tag-{i:03}"));
    }
    top_file.push_str("]\n");
    let fifteen: Vec<(String, String, u32)> = (1..=15)
        .map(|i| (format!("old{i:02}"), format!("old-{i:02}"), 100 - i))
        .collect();
    vec![
        Scenario {
            name: "new_corp",
            desired: file(
                "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 重要客户, 普通客户]\n  - name: 来源渠道\n    tags: [官网, 展会]\n",
            ),
            remote: snap(vec![]),
            owned: owned(&[]),
        },
        Scenario {
            name: "renames",
            desired: file(
                "version: 1\ngroups:\n  - name: 客户等级\n    previously: [等级]\n    tags:\n      - VIP\n      - name: 重要客户\n        previously: [重点客户]\n",
            ),
            remote: snap(vec![(
                "g1",
                "等级",
                100,
                vec![("t1", "VIP", 20), ("t2", "重点客户", 10)],
            )]),
            owned: owned(&["g1", "t1", "t2"]),
        },
        Scenario {
            name: "swap_cycle",
            desired: file(
                "version: 1\ngroups:\n  - name: G\n    tags:\n      - name: A\n        previously: [B]\n      - name: B\n        previously: [A]\n",
            ),
            remote: snap(vec![(
                "g1",
                "G",
                100,
                vec![("t1", "A", 20), ("t2", "B", 10)],
            )]),
            owned: owned(&["g1", "t1", "t2"]),
        },
        Scenario {
            name: "top_of_100",
            desired: file(&top_file),
            remote: snap(vec![(
                "g1",
                "G",
                100,
                hundred
                    .iter()
                    .map(|(id, n, o)| (id.as_str(), n.as_str(), *o))
                    .collect(),
            )]),
            owned: {
                let mut ids: Vec<&str> = vec!["g1"];
                ids.extend(hundred.iter().map(|(id, _, _)| id.as_str()));
                owned(&ids)
            },
        },
        Scenario {
            name: "tag_moves_group",
            desired: file(
                "version: 1\ngroups:\n  - name: G1\n    tags: [a]\n  - name: G2\n    tags:\n      - c\n      - name: b\n        id: t2\n",
            ),
            remote: snap(vec![
                ("g1", "G1", 200, vec![("t1", "a", 20), ("t2", "b", 10)]),
                ("g2", "G2", 100, vec![("t3", "c", 10)]),
            ]),
            owned: owned(&["g1", "g2", "t1", "t2", "t3"]),
        },
        Scenario {
            name: "foreign_tags",
            desired: file("version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 新客户]\n"),
            remote: snap(vec![
                (
                    "g1",
                    "客户等级",
                    300,
                    vec![("t1", "VIP", 20), ("t9", "CRM 标签", 10)],
                ),
                (
                    "g2",
                    "兴趣爱好",
                    200,
                    vec![("t2", "旅行", 20), ("t3", "美食", 10)],
                ),
                ("g3", "行业", 100, vec![("t4", "零售", 10)]),
            ]),
            owned: owned(&["g1", "t1"]),
        },
        Scenario {
            name: "not_owned_rename",
            desired: file(
                "version: 1\ngroups:\n  - name: G\n    tags:\n      - name: 重要客户\n        previously: [重点客户]\n",
            ),
            remote: snap(vec![("g1", "G", 100, vec![("t1", "重点客户", 10)])]),
            owned: owned(&[]),
        },
        Scenario {
            name: "group_emptied",
            desired: file("version: 1\ngroups:\n  - name: Keep\n    tags: [k]\n"),
            remote: snap(vec![
                ("g1", "Keep", 200, vec![("t1", "k", 10)]),
                ("g2", "Old", 100, vec![("t2", "x", 20), ("t3", "y", 10)]),
            ]),
            owned: owned(&["g1", "t1", "g2", "t2", "t3"]),
        },
        Scenario {
            name: "gate_tripped",
            desired: file("version: 1\ngroups:\n  - name: Keep\n    tags: [k]\n"),
            remote: snap(vec![
                ("g1", "Keep", 200, vec![("t1", "k", 10)]),
                (
                    "g2",
                    "Old",
                    100,
                    fifteen
                        .iter()
                        .map(|(id, n, o)| (id.as_str(), n.as_str(), *o))
                        .collect(),
                ),
            ]),
            owned: {
                let mut ids: Vec<&str> = vec!["g1", "t1", "g2"];
                ids.extend(fifteen.iter().map(|(id, _, _)| id.as_str()));
                owned(&ids)
            },
        },
        Scenario {
            name: "no_changes",
            desired: file("version: 1\ngroups:\n  - name: G\n    tags: [a, b]\n"),
            remote: snap(vec![(
                "g1",
                "G",
                100,
                vec![("t1", "a", 20), ("t2", "b", 10)],
            )]),
            owned: owned(&[]),
        },
        Scenario {
            name: "hostile_remote_names",
            desired: file("version: 1\ngroups:\n  - name: G\n    tags: [a]\n"),
            remote: snap(vec![
                (
                    "g1",
                    "G",
                    200,
                    vec![("t1", "a", 20), ("t2", "x\u{1b}[31m*evil*|<b>", 10)],
                ),
                (
                    "g2",
                    "bidi\u{202e}txt.exe `code`",
                    100,
                    vec![("t3", "[link](x)", 10)],
                ),
            ]),
            owned: owned(&["g1", "t1", "t2"]),
        },
    ]
}

fn plan_of(s: &Scenario) -> Plan {
    plan::plan(&s.desired, &s.remote, &s.owned, &PlanOptions::default())
}

/// The context of a plan of `remote` (for other test modules).
pub(crate) fn context(remote: &Snapshot) -> Context<'_> {
    Context {
        corp_id: "ww-corp",
        file: "tags.yaml",
        remote,
        whole_plan: None,
    }
}

/// A corp whose file drops `deletes` owned tags and renames `renames` (for other test
/// modules): the corp, the file and what tagsync owns.
pub(crate) fn big_case(deletes: usize, renames: usize) -> (Snapshot, Desired, Owned) {
    let s = big(&[], deletes, renames, true);
    (s.remote, s.desired, s.owned)
}

/// `n` owned groups `组0`… of three tags; the file renames the first tag of each, drops
/// the second and adds one: one delete across groups, then a rename and an add per group
/// (for other test modules).
pub(crate) fn many_groups_case(n: usize) -> (Snapshot, Desired, Owned) {
    let ids: Vec<[String; 4]> = (0..n)
        .map(|g| ["g", "a", "b", "c"].map(|x| format!("{x}{g}")))
        .collect();
    let names: Vec<String> = (0..n).map(|g| format!("组{g}")).collect();
    let remote = snap(
        ids.iter()
            .zip(&names)
            .map(|(id, name)| {
                let tags = vec![
                    (id[1].as_str(), "甲", 3),
                    (id[2].as_str(), "乙", 2),
                    (id[3].as_str(), "丙", 1),
                ];
                (id[0].as_str(), name.as_str(), 1, tags)
            })
            .collect(),
    );
    let mut yaml = String::from("version: 1\ngroups:\n");
    for name in &names {
        yaml.push_str(&format!(
            "  - name: {name}\n    tags:\n      - name: 甲二\n        previously: [甲]\n      - 丙\n      - 丁\n"
        ));
    }
    let all: Vec<&str> = ids.iter().flatten().map(String::as_str).collect();
    (remote, file(&yaml), owned(&all))
}

/// An empty corp and a file of 100 groups of 100 tags: a 10,000-tag bootstrap.
pub(crate) fn bootstrap_case() -> (Snapshot, Desired, Owned) {
    let new: Vec<(String, usize)> = (0..100).map(|i| (format!("组{i:03}"), 100)).collect();
    let s = big(&new, 0, 0, false);
    (s.remote, s.desired, s.owned)
}

fn ctx(s: &Scenario) -> Context<'_> {
    Context {
        corp_id: "ww-corp",
        file: "tags.yaml",
        remote: &s.remote,
        whole_plan: None,
    }
}

#[test]
fn text_snapshots() {
    for s in scenarios() {
        let out = render::render(Format::Text, &plan_of(&s), &ctx(&s));
        let plain = anstream::adapter::strip_str(&out).to_string();
        assert!(
            !plain.contains('\u{1b}'),
            "{}: escape left in {plain}",
            s.name
        );
        insta::assert_snapshot!(format!("text_{}", s.name), plain);
    }
}

#[test]
fn text_is_styled_for_a_terminal_and_plain_once_stripped() {
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == "renames")
        .expect("scenario");
    let raw = render::render(Format::Text, &plan_of(&s), &ctx(&s));
    assert!(raw.contains("\u{1b}["), "styles for a terminal: {raw:?}");
    let plain = anstream::adapter::strip_str(&raw).to_string();
    assert!(plain.contains("~ 等级: 重点客户 → 重要客户"), "{plain}");
}

#[test]
fn markdown_snapshots() {
    for s in scenarios() {
        let out = render::render(Format::Markdown, &plan_of(&s), &ctx(&s));
        assert!(out.starts_with(markdown::MARKER), "{}", s.name);
        insta::assert_snapshot!(format!("markdown_{}", s.name), out);
    }
}

#[test]
fn json_snapshots() {
    for s in scenarios() {
        let out = render::render(Format::Json, &plan_of(&s), &ctx(&s));
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["format_version"], 2);
        let steps = v["steps"].as_array().expect("steps");
        assert!(
            steps
                .iter()
                .all(|st| st["reason"].as_str().is_some_and(|r| !r.is_empty())),
            "{}: every change has a reason",
            s.name
        );
        insta::assert_snapshot!(format!("json_{}", s.name), out);
    }
}

#[test]
fn the_scenarios_mean_what_their_names_say() {
    let by_name = |n: &str| {
        let s = scenarios().into_iter().find(|s| s.name == n).expect(n);
        plan_of(&s)
    };
    assert!(by_name("gate_tripped").blocked());
    assert!(by_name("not_owned_rename").blocked());
    assert!(by_name("no_changes").is_empty());
    assert_eq!(by_name("top_of_100").calls(), 1);
    assert!(!by_name("top_of_100").blocked());
    assert_eq!(by_name("swap_cycle").calls(), 3);
    assert_eq!(by_name("tag_moves_group").summary().replaces, 1);
    assert_eq!(by_name("group_emptied").summary().delete_groups, 1);
    assert!(!by_name("foreign_tags").unmanaged.is_empty());
}

#[test]
fn text_sanitises_remote_strings_and_markdown_escapes_them() {
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == "hostile_remote_names")
        .expect("scenario");
    let p = plan_of(&s);
    let text =
        anstream::adapter::strip_str(&render::render(Format::Text, &p, &ctx(&s))).to_string();
    assert!(text.contains("x\\u{1b}[31m"), "{text}");
    assert!(text.contains("\\u{202e}"), "{text}");
    let md = render::render(Format::Markdown, &p, &ctx(&s));
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'));
    // Outside code fences (where Markdown is interpreted) nothing is left raw.
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            assert!(!line.contains("<b>"), "{line}");
            assert!(!line.contains("[link](x)"), "{line}");
            assert!(!line.contains("*evil*"), "{line}");
        }
    }
    assert!(md.contains("&lt;b\\>"), "{md}");
}

/// A desired file of new groups: `(group name, tag names)`.
fn yaml_of(groups: &[(String, Vec<String>)]) -> String {
    let mut y = String::from("version: 1\ngroups:\n");
    for (g, tags) in groups {
        y.push_str(&format!("  - name: {g}\n    tags: [{}]\n", tags.join(", ")));
    }
    y
}

/// `count` tag names `prefix-0000`...
fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i:04}")).collect()
}

/// A corp with one owned group `Old` of `old` owned tags (`旧标签-0000`...) that the file
/// drops (one delete, blocked by the gate above 10) and `renames` owned tags the file
/// renames; the file adds the `new` groups (name, tag count). With `keep`, the file keeps
/// `Old` with a tag `keep`; without it, `Old` goes with its tags.
fn big(new: &[(String, usize)], old: usize, renames: usize, keep: bool) -> Scenario {
    let mut yaml = yaml_of(
        &new.iter()
            .map(|(g, n)| (g.clone(), names(&format!("{g}标签"), *n)))
            .collect::<Vec<_>>(),
    );
    if keep || renames > 0 {
        yaml.push_str("  - name: Old\n    tags:\n      - keep\n");
        for i in 0..renames {
            yaml.push_str(&format!(
                "      - name: 新名-{i:02}\n        previously: [旧名-{i:02}]\n"
            ));
        }
    }
    let mut tags: Vec<(String, String)> = (0..old)
        .map(|i| (format!("o{i:04}"), format!("旧标签-{i:04}")))
        .collect();
    tags.extend((0..renames).map(|i| (format!("r{i:02}"), format!("旧名-{i:02}"))));
    tags.push(("o-keep".into(), "keep".into()));
    let remote = if tags.len() == 1 && !keep {
        snap(vec![])
    } else {
        snap(vec![(
            "g-old",
            "Old",
            1,
            tags.iter()
                .enumerate()
                .map(|(i, (id, n))| (id.as_str(), n.as_str(), 100_000 - i as u32))
                .collect(),
        )])
    };
    let mut ids: Vec<&str> = vec!["g-old"];
    ids.extend(tags.iter().map(|(id, _)| id.as_str()));
    Scenario {
        name: "big",
        desired: file(&yaml),
        owned: owned(&ids),
        remote,
    }
}

/// The checks every capped comment passes; returns its length in characters.
fn assert_capped(md: &str, p: &Plan, cap: usize) -> usize {
    let n = md.chars().count();
    assert!(n <= cap, "{n} > {cap}");
    assert!(md.starts_with(markdown::MARKER), "{md}");
    assert!(
        !md.contains("_Cut at"),
        "the last-resort cut never runs: {md}"
    );
    // Code fences are balanced and <details> is closed.
    let fences = md.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences % 2, 0, "{md}");
    assert!(md.trim_end().ends_with("</details>"), "{md}");
    for s in p.steps.iter().filter(|s| s.destructive) {
        assert!(
            md.contains(&format!("\n{}. **{}** ", s.id + 1, render::verb(s))),
            "destructive step {} missing",
            s.id + 1
        );
    }
    n
}

fn assert_has(md: &str, needles: &[&str]) {
    for n in needles {
        assert!(md.contains(n), "{n:?} missing from {md}");
    }
}

/// Every step's headline line is in the comment.
fn assert_every_step_listed(md: &str, p: &Plan) {
    for s in &p.steps {
        assert!(
            md.contains(&format!("\n{}. **{}** ", s.id + 1, render::verb(s))),
            "step {} missing",
            s.id + 1
        );
    }
    assert!(!md.contains("not shown_"), "no step left out");
}

#[test]
fn markdown_cap_keeps_every_step_the_delete_and_part_of_the_diff() {
    // The reviewer's plan: one group of 3000 new tags, 40 groups of 60, one delete.
    let mut new = vec![("大组".to_string(), 3000)];
    new.extend((0..40).map(|i| (format!("组{i:02}"), 60)));
    let s = big(&new, 5, 7, true);
    let p = plan_of(&s);
    assert_eq!(p.steps.len(), 49, "the reviewer's 49 steps");
    let md = markdown::render(&p, &ctx(&s));
    let n = assert_capped(&md, &p, markdown::MAX_CHARS);
    eprintln!("49 steps: {n} characters");
    assert!(n > markdown::MAX_CHARS - 2_000, "uses the budget: {n}");
    assert_every_step_listed(&md, &p);
    // The delete, with every item.
    let delete = p.steps.iter().find(|s| render::action(s) == "delete");
    let delete = delete.expect("a delete step");
    assert!(
        md.contains(&format!("{}. **delete** 5 tags", delete.id + 1)),
        "{md}"
    );
    for i in 0..5 {
        assert!(md.contains(&format!("   - Old: 旧标签\\-{i:04}\n")), "{md}");
    }
    // Part of the diff, cut by lines inside its fence, and the note says so truthfully.
    assert_has(
        &md,
        &[
            "#### File-level view\n\n```diff\n--- corp (now)",
            "_File-level view cut after ",
            "_Shortened to fit GitHub's comment limit: ",
            "list only their first ",
            "; the file-level diff is cut after ",
            "\n   - … and ",
        ],
    );
    // Below its cap the plan is whole, with no note.
    let whole = markdown::render_capped(&p, &ctx(&s), usize::MAX);
    assert!(!whole.contains("Shortened"));
    assert!(whole.chars().count() > 100_000);
}

#[test]
fn markdown_bootstrap_of_10000_tags_lists_every_step() {
    let new: Vec<(String, usize)> = (0..100).map(|i| (format!("组{i:03}"), 100)).collect();
    let s = big(&new, 0, 0, false);
    let p = plan_of(&s);
    assert_eq!(p.steps.len(), 100);
    let md = markdown::render(&p, &ctx(&s));
    let n = assert_capped(&md, &p, markdown::MAX_CHARS);
    eprintln!("10000-tag bootstrap: {n} characters");
    assert!(n > markdown::MAX_CHARS - 2_000, "uses the budget: {n}");
    assert_every_step_listed(&md, &p);
    // The last step's items too.
    assert_has(
        &md,
        &[
            "100 steps list only their first ",
            "   - 组099标签\\-0000 (order",
        ],
    );
    // A small cap still lists every step (by headline) and says what it left out.
    let small = markdown::render_capped(&p, &ctx(&s), 8_000);
    assert_capped(&small, &p, 8_000);
    assert_every_step_listed(&small, &p);
    assert!(
        small.contains("100 steps list none of their items"),
        "{small}"
    );
}

#[test]
fn markdown_cap_with_3000_blocked_deletes() {
    let s = big(&[("新组".to_string(), 3)], 3000, 0, true);
    let p = plan_of(&s);
    assert!(p.blocked());
    let delete = p.steps.iter().find(|s| render::action(s) == "delete");
    let delete = delete.expect("a delete step");
    assert!(delete.blocked.is_some() && delete.destructive);
    for cap in [markdown::MAX_CHARS, 5_000] {
        let md = markdown::render_capped(&p, &ctx(&s), cap);
        let n = assert_capped(&md, &p, cap);
        eprintln!("3000 blocked deletes, cap {cap}: {n} characters");
        assert_every_step_listed(&md, &p);
        // The gate's reason stays above the details.
        assert_has(
            &md,
            &[
                "**delete** 3000 tags (one call) ⚠️ destructive ⛔ blocked",
                "   - Old: 旧标签\\-0000\n",
                "1 destructive or blocked step lists only its first ",
                "**safety gate: ",
            ],
        );
    }
}

#[test]
fn markdown_leaves_steps_out_only_when_their_headlines_cannot_fit() {
    let n = 3000;
    let tags: Vec<(String, String, u32)> = (0..n)
        .map(|i| (format!("t{i}"), format!("旧名{i}"), 10_000 - i))
        .collect();
    let yaml = format!(
        "version: 1\ngroups:\n  - name: G\n    tags:\n{}",
        (0..n)
            .map(|i| format!("      - name: 新名{i}\n        previously: [旧名{i}]\n"))
            .collect::<String>()
    );
    let s = Scenario {
        name: "many_blocked",
        desired: file(&yaml),
        remote: snap(vec![(
            "g1",
            "G",
            100,
            tags.iter()
                .map(|(id, n, o)| (id.as_str(), n.as_str(), *o))
                .collect(),
        )]),
        owned: owned(&[]),
    };
    let p = plan_of(&s);
    assert_eq!(p.blocked_steps().count(), n as usize);
    for cap in [markdown::MAX_CHARS, 5_000] {
        let md = markdown::render_capped(&p, &ctx(&s), cap);
        let len = assert_capped(&md, &p, cap);
        eprintln!("3000 blocked renames, cap {cap}: {len} characters");
        assert!(
            md.contains("1. **rename** G: 旧名0 → 新名0 ⛔ blocked\n"),
            "{md}"
        );
        let hidden = md
            .split("_Shortened to fit GitHub's comment limit: ")
            .nth(1)
            .and_then(|r| r.split(" of 3000 steps are not shown").next())
            .and_then(|k| k.parse::<usize>().ok())
            .expect("the note says how many steps are left out");
        let shown = md.lines().filter(|l| l.contains(" **rename** ")).count();
        assert_eq!(shown + hidden, 3000, "{md}");
        assert!(
            md.contains(&format!("_… steps {}–3000 not shown_", shown + 1)),
            "{md}"
        );
        assert!(
            md.contains("- and "),
            "the blocked list above is shortened too"
        );
    }
}

#[test]
fn markdown_lists_what_a_delete_removes_even_when_step_headlines_are_left_out() {
    // 3000 renames (too many headlines for one comment) and a delete of 300 tags.
    let s = big(&[], 300, 3000, true);
    let p = plan_of(&s);
    assert!(p.steps.len() > 3000);
    let md = markdown::render(&p, &ctx(&s));
    assert_capped(&md, &p, markdown::MAX_CHARS);
    assert!(md.contains(" steps are not shown"), "headlines left out");
    let delete = p.steps.iter().find(|s| render::action(s) == "delete");
    let delete = delete.expect("a delete step");
    assert!(
        md.contains(&format!("{}. **delete** 300 tags", delete.id + 1)),
        "{md}"
    );
    for i in 0..300 {
        assert!(
            md.contains(&format!("   - Old: 旧标签\\-{i:04}\n")),
            "item {i}"
        );
    }
    assert!(!md.contains("none of its items"), "{md}");
}

#[test]
fn markdown_fits_every_cap_and_keeps_destructive_steps() {
    // Sizes from tiny to huge (groups x tags added, tags deleted, renames, Old kept);
    // caps from small to GitHub's.
    let sizes = [
        (1, 1, 0, 0, false),
        (3, 40, 2, 1, true),
        (12, 150, 30, 5, false),
        (60, 90, 400, 30, true),
        (5, 1900, 1500, 0, true),
        (400, 3, 0, 60, true),
    ];
    for (groups, per, old, renames, keep) in sizes {
        let new: Vec<(String, usize)> = (0..groups).map(|i| (format!("g{i}"), per)).collect();
        let s = big(&new, old, renames, keep);
        let p = plan_of(&s);
        let total = p.steps.len();
        let whole = markdown::render_capped(&p, &ctx(&s), usize::MAX);
        assert!(!whole.contains("Shortened"));
        for cap in [3_000, 7_000, 20_000, markdown::MAX_CHARS] {
            let case = format!("{groups}x{per}, {old} deleted, {renames} renamed, cap {cap}");
            let md = markdown::render_capped(&p, &ctx(&s), cap);
            let n = assert_capped(&md, &p, cap);
            let shown = p
                .steps
                .iter()
                .filter(|s| md.contains(&format!("\n{}. **{}** ", s.id + 1, render::verb(s))))
                .count();
            if shown < total {
                let said = format!("{} of {total} steps are not shown", total - shown);
                assert!(md.contains(&said), "{case}: {md}");
                assert!(
                    cap < markdown::MAX_CHARS,
                    "{case}: headlines are short, {shown} of {total}"
                );
            }
            if whole.chars().count() <= cap {
                assert_eq!(md, whole, "{case}");
            } else {
                assert!(md.contains("_Shortened to fit"), "{case}: {md}");
                // Shortening leaves little of the budget unused.
                assert!(n + 1_500 > cap, "{case}: {n}");
            }
        }
    }
}

#[test]
fn every_json_field_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string("README.md").expect("README");
    let section = readme
        .split("### JSON plan format")
        .nth(1)
        .expect("a JSON plan format section");
    let mut seen = std::collections::BTreeSet::new();
    for s in scenarios() {
        let v: serde_json::Value =
            serde_json::from_str(&render::render(Format::Json, &plan_of(&s), &ctx(&s)))
                .expect("json");
        let obj = v.as_object().expect("object");
        for (k, val) in obj {
            seen.insert(format!("`{k}`"));
            if k == "steps" {
                for st in val.as_array().expect("array") {
                    for (sk, sv) in st.as_object().expect("step") {
                        seen.insert(format!("`steps[].{sk}`"));
                        if sk == "call" {
                            for ck in sv.as_object().expect("call").keys() {
                                seen.insert(format!("`{ck}`"));
                            }
                        }
                    }
                }
            }
        }
    }
    for key in &seen {
        assert!(
            section.contains(key.as_str()),
            "README does not document {key}"
        );
    }
    assert!(seen.contains("`steps[].reason`"));
}

#[test]
fn every_apply_report_field_is_documented_in_the_readme() {
    use tagsync::apply::{ApplyReport, Counts, Failure, StepOutcome, StepStatus, VerifyResult};
    let readme = std::fs::read_to_string("README.md").expect("README");
    let section = readme
        .split("### JSON plan format")
        .nth(1)
        .expect("a JSON plan format section");
    let steps = vec![
        StepOutcome {
            step_id: 0,
            status: StepStatus::Applied {
                note: Some("settled by re-reading".into()),
            },
        },
        StepOutcome {
            step_id: 1,
            status: StepStatus::Failed(Failure {
                errcode: Some(-1),
                errmsg: "system busy".into(),
                hint: "run again".into(),
                kind: "retryable".into(),
                call: None,
            }),
        },
        StepOutcome {
            step_id: 2,
            status: StepStatus::NotAttempted {
                reason: "step 1 failed".into(),
            },
        },
    ];
    let report = ApplyReport {
        refused: false,
        counts: Counts::of(&steps),
        steps,
        error: Some("cannot write the ledger".into()),
        verify: Some(VerifyResult::Converged),
        made_groups: Vec::new(),
    };
    let s = scenarios().into_iter().next().expect("a scenario");
    let doc = render::json::render_applied(&plan_of(&s), &ctx(&s), &report);
    let v: serde_json::Value = serde_json::from_str(&doc).expect("json");
    let apply = v["apply"].as_object().expect("an apply object");
    assert_eq!(apply["exit_code"], 1, "stopped outside the steps");
    let mut keys: Vec<String> = apply.keys().map(|k| format!("`apply.{k}`")).collect();
    for st in apply["steps"].as_array().expect("steps") {
        for k in st.as_object().expect("step").keys() {
            keys.push(format!("`apply.steps[].{k}`"));
        }
    }
    assert!(keys.len() >= 14, "{keys:?}");
    for key in &keys {
        assert!(
            section.contains(key.as_str()),
            "README does not document {key}"
        );
    }
}

#[test]
fn a_delete_of_several_items_gives_one_reason_per_line() {
    let (remote, desired, owned) = many_groups_case(2);
    let p = tagsync::plan::plan(&desired, &remote, &owned, &Default::default());
    let text =
        anstream::adapter::strip_str(&render::text::render(&p, &context(&remote))).to_string();
    for g in ["组0", "组1"] {
        let line =
            format!("\n      tag `乙` in group `{g}`: not in the file; tagsync created it\n");
        assert!(text.contains(&line), "{line:?} not in:\n{text}");
    }
    let md = markdown::render(&p, &context(&remote));
    assert!(
        md.contains("tagsync created it</em><br><em>tag <code>乙</code>"),
        "{md}"
    );
}
