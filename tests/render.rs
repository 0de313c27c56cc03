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

fn ctx(s: &Scenario) -> Context<'_> {
    Context {
        corp_id: "ww-corp",
        file: "tags.yaml",
        remote: &s.remote,
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
        assert_eq!(v["format_version"], 1);
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

#[test]
fn markdown_is_cut_at_the_cap_with_a_note() {
    let names: Vec<String> = (0..2000).map(|i| format!("新标签-{i:04}")).collect();
    let yaml = format!(
        "version: 1\ngroups:\n{}",
        names
            .chunks(10)
            .enumerate()
            .map(|(i, c)| format!("  - name: 组{i:03}\n    tags: [{}]\n", c.join(", ")))
            .collect::<String>()
    );
    let s = Scenario {
        name: "big",
        desired: file(&yaml),
        remote: snap(vec![]),
        owned: owned(&[]),
    };
    let p = plan_of(&s);
    let full = markdown::render(&p, &ctx(&s));
    assert!(full.chars().count() <= markdown::MAX_CHARS);
    assert!(full.contains("Cut at 60000 characters"), "{full}");
    assert!(full.trim_end().ends_with("for the whole plan._"));
    assert!(full.contains("</details>"));
    let small = markdown::render_capped(&p, &ctx(&s), 3_000);
    assert!(small.chars().count() <= 3_000, "{}", small.chars().count());
    assert!(small.starts_with(markdown::MARKER));
    assert!(small.contains("| groups to add | 200 |"), "{small}");
}

#[test]
fn markdown_stays_under_the_cap_with_thousands_of_blocked_steps() {
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
    let md = markdown::render_capped(&p, &ctx(&s), 5_000);
    assert!(md.chars().count() <= 5_000, "{}", md.chars().count());
    assert!(md.starts_with(markdown::MARKER));
    assert!(md.contains("Cut at 5000 characters"), "{md}");
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
