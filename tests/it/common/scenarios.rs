//! The apply scenario matrix shared by the library-level tests (`tests/apply.rs`) and the
//! binary-level ones (`tests/apply_e2e.rs`), the fault mix they run under, and the checks
//! of an end state: foreign items untouched, no name twice, every id tagsync made owned.

use std::collections::{BTreeSet, HashSet};

use tagsync::emulator::{CallKind, CallRecord, FaultKind, Faults, SeedGroup};
use tagsync::plan::PlanOptions;

use super::{group, small_seed, tag};

/// The emulator app tagsync logs in as in these tests.
pub const OURS: &str = "tagsync";

fn ours(owner: &Option<String>) -> bool {
    owner.as_deref() == Some(OURS)
}

/// A group of ours whose tags (id, name) are listed in this order.
pub fn owned_group(id: &str, name: &str, order: u32, tags: &[(&str, &str)]) -> SeedGroup {
    let n = tags.len() as u32;
    group(
        id,
        name,
        order,
        Some(OURS),
        tags.iter()
            .enumerate()
            .map(|(i, (id, name))| tag(id, name, (n - i as u32) * 10, Some(OURS)))
            .collect(),
    )
}

/// The ids of a seed or dump that our app created: what the ledger must hold.
pub fn owned_in(seed: &[SeedGroup]) -> Vec<String> {
    seed.iter()
        .flat_map(|g| {
            let group = ours(&g.owner).then(|| g.group_id.clone());
            group.into_iter().chain(
                g.tag
                    .iter()
                    .filter(|t| ours(&t.owner))
                    .map(|t| t.id.clone()),
            )
        })
        .collect()
}

/// The items of a seed or dump that are not ours (another app's, or the admin's).
pub fn foreign(dump: &[SeedGroup]) -> Vec<SeedGroup> {
    dump.iter()
        .filter(|g| !ours(&g.owner))
        .cloned()
        .map(|mut g| {
            g.tag.retain(|t| !ours(&t.owner));
            g
        })
        .collect()
}

/// The foreign items of `before` are all still in `after` exactly as they were, and no
/// edit or delete in `calls` names one of them.
pub fn assert_foreign_untouched(
    before: &[SeedGroup],
    after: &[SeedGroup],
    calls: &[CallRecord],
    label: &str,
) {
    let before = foreign(before);
    let after = foreign(after);
    for g in &before {
        let now = after.iter().find(|a| a.group_id == g.group_id);
        let now = now.unwrap_or_else(|| panic!("{label}: foreign group {} gone", g.group_id));
        assert_eq!(now.group_name, g.group_name, "{label}");
        assert_eq!(now.order, g.order, "{label}");
        for t in &g.tag {
            assert!(
                now.tag.contains(t),
                "{label}: foreign tag {} changed: {:?}",
                t.id,
                now.tag
            );
        }
    }
    let foreign_ids: BTreeSet<&str> = before
        .iter()
        .flat_map(|g| {
            std::iter::once(g.group_id.as_str()).chain(g.tag.iter().map(|t| t.id.as_str()))
        })
        .collect();
    for c in calls {
        if matches!(c.kind, CallKind::Edit | CallKind::Delete) {
            let body = c.body.to_string();
            for id in &foreign_ids {
                assert!(!body.contains(id), "{label}: {id} sent in {body}");
            }
        }
    }
}

/// No group name twice in the corp, no tag name twice in a group.
pub fn assert_no_duplicates(dump: &[SeedGroup], label: &str) {
    let mut groups = HashSet::new();
    for g in dump {
        assert!(
            groups.insert(&g.group_name),
            "{label}: group {:?} twice",
            g.group_name
        );
        let mut names = HashSet::new();
        for t in &g.tag {
            assert!(
                names.insert(&t.name),
                "{label}: {:?} twice in {:?}",
                t.name,
                g.group_name
            );
        }
    }
}

/// Every id our app created in `dump` is in `owned` (the ledger).
pub fn assert_all_owned(dump: &[SeedGroup], owned: &BTreeSet<String>, label: &str) {
    for id in owned_in(dump) {
        assert!(
            owned.contains(&id),
            "{label}: {id} made by tagsync is not in the ledger"
        );
    }
}

/// Write calls (add, edit, delete) in a call log.
pub fn writes(calls: &[CallRecord]) -> usize {
    calls
        .iter()
        .filter(|c| matches!(c.kind, CallKind::Add | CallKind::Edit | CallKind::Delete))
        .count()
}

/// A scenario: a seed and files applied one after the other.
pub struct Scenario {
    pub name: &'static str,
    pub seed: Vec<SeedGroup>,
    pub files: Vec<String>,
    pub options: PlanOptions,
}

/// The small seed without our group.
pub fn foreign_only() -> Vec<SeedGroup> {
    small_seed().into_iter().skip(1).collect()
}

pub const BOOTSTRAP: &str = "
version: 1
groups:
  - name: 客户等级
    tags: [VIP, 重要客户, 普通客户]
  - name: 来源渠道
    tags: [官网, 展会, 转介绍]
  - name: 行业
    managed: false
    tags: [制造业, 零售]
";

/// One group of ours with 100 tags T000..T099 in that order.
pub fn hundred() -> Vec<SeedGroup> {
    let ids: Vec<(String, String)> = (0..100)
        .map(|i| (format!("etT{i:03}"), format!("T{i:03}")))
        .collect();
    let pairs: Vec<(&str, &str)> = ids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    vec![owned_group("etBig", "大组", 5, &pairs)]
}

/// `hundred` with T099 moved to the top.
pub fn hundred_top() -> String {
    let mut s = String::from("version: 1\ngroups:\n  - name: 大组\n    tags:\n      - T099\n");
    for i in 0..99 {
        s.push_str(&format!("      - T{i:03}\n"));
    }
    s
}

/// The small seed plus a group of ours with twelve tags.
pub fn twelve() -> Vec<SeedGroup> {
    let ids: Vec<(String, String)> = (0..12)
        .map(|i| (format!("etOld{i:02}"), format!("旧{i:02}")))
        .collect();
    let pairs: Vec<(&str, &str)> = ids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut seed = small_seed();
    seed.push(owned_group("etOldGroup", "旧分组", 1, &pairs));
    seed
}

/// Our group of the small seed as it is; anything else of ours goes.
pub const KEEP_SMALL: &str = "
version: 1
groups:
  - name: 客户等级
    tags: [VIP, 普通客户]
";

pub fn scenarios() -> Vec<Scenario> {
    let allow = |n| PlanOptions {
        allow_delete: Some(n),
        ..PlanOptions::default()
    };
    vec![
        Scenario {
            name: "new corp bootstrap",
            seed: foreign_only(),
            files: vec![BOOTSTRAP.into()],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "renames of a group and a tag, an add between",
            seed: small_seed(),
            files: vec![
                "
version: 1
groups:
  - name: 客户级别
    previously: [客户等级]
    tags:
      - VIP
      - 重要客户
      - name: 一般客户
        previously: [普通客户]
"
                .into(),
            ],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "swap cycle, then the same file again",
            seed: vec![owned_group(
                "etG",
                "分组",
                5,
                &[("etA", "A"), ("etB", "B"), ("etC", "C")],
            )],
            files: vec![
                "
version: 1
groups:
  - name: 分组
    tags:
      - name: B
        previously: [A]
      - name: A
        previously: [B]
      - C
"
                .into();
                2
            ],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "rename cycle of three, groups reordered",
            seed: vec![
                owned_group(
                    "etG1",
                    "一",
                    20,
                    &[("etA", "a"), ("etB", "b"), ("etC", "c")],
                ),
                owned_group("etG2", "二", 10, &[("etD", "d")]),
            ],
            files: vec![
                "
version: 1
groups:
  - name: 二
    tags: [d]
  - name: 一
    tags:
      - name: b
        previously: [a]
      - name: c
        previously: [b]
      - name: a
        previously: [c]
"
                .into(),
            ],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "one tag to the top of 100",
            seed: hundred(),
            files: vec![hundred_top()],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "tag moving group (replace)",
            seed: vec![
                owned_group("etG1", "甲", 20, &[("etX", "x"), ("etY", "y")]),
                owned_group("etG2", "乙", 10, &[("etZ", "z")]),
            ],
            files: vec![
                "
version: 1
groups:
  - name: 甲
    tags: [x]
  - name: 乙
    tags: [z, y]
"
                .into(),
            ],
            options: allow(1),
        },
        Scenario {
            name: "foreign groups left out of the file stay",
            seed: small_seed(),
            files: vec![
                "
version: 1
groups:
  - name: 客户等级
    tags: [普通客户, VIP, 新客户]
"
                .into(),
            ],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "group emptied (deleted with its tags)",
            seed: {
                let mut s = small_seed();
                s.push(owned_group(
                    "etGone",
                    "旧",
                    1,
                    &[("etO1", "o1"), ("etO2", "o2")],
                ));
                s
            },
            files: vec![KEEP_SMALL.into()],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "renames, a swap, reorders, adds, a move and a deleted group at once",
            seed: mixed(),
            files: vec![MIXED.into()],
            options: allow(3),
        },
        Scenario {
            name: "twelve deletes with --allow-delete 12",
            seed: twelve(),
            files: vec![KEEP_SMALL.into()],
            options: allow(12),
        },
        Scenario {
            name: ADD_INTO_CONSOLE_GROUP,
            seed: small_seed(),
            files: vec![
                "
version: 1
groups:
  - name: 客户等级
    tags: [VIP, 普通客户]
  - name: 行业
    order: ignore
    tags: [制造业, 零售, 服务业]
"
                .into(),
            ],
            options: PlanOptions::default(),
        },
        Scenario {
            name: "our group holding another app's tag, dropped",
            seed: {
                let mut s = small_seed();
                let mut g = owned_group("etMixed", "混合", 1, &[("etM1", "m1"), ("etM2", "m2")]);
                g.tag.push(tag("etCrmIn", "crm的", 0, Some("crm")));
                s.push(g);
                s
            },
            files: vec![KEEP_SMALL.into()],
            options: PlanOptions::default(),
        },
    ]
}

/// The scenario that adds a tag into a group the admin console created (which a server
/// refusing adds into foreign groups cannot let converge).
pub const ADD_INTO_CONSOLE_GROUP: &str = "a tag added into the console's group";

/// Four groups of ours: 产品 (p0..p9), 阶段 (s0..s5), 地区 (r0..r3), 旧组 (o0, o1).
pub fn mixed() -> Vec<SeedGroup> {
    let group_of = |id: &str, name: &str, order: u32, prefix: &str, n: usize| {
        let tags: Vec<(String, String)> = (0..n)
            .map(|i| (format!("et{prefix}{i}"), format!("{prefix}{i}")))
            .collect();
        let pairs: Vec<(&str, &str)> = tags.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        owned_group(id, name, order, &pairs)
    };
    let mut seed = small_seed();
    seed.extend([
        group_of("etGp", "产品", 90, "p", 10),
        group_of("etGs", "阶段", 80, "s", 6),
        group_of("etGr", "地区", 70, "r", 4),
        group_of("etGo", "旧组", 60, "o", 2),
    ]);
    seed
}

/// For [`mixed`]: 产品 renames half its tags, is reversed, gains two and loses p9 to
/// 地区; 阶段 is renamed and swaps s2 and s3; a new group 渠道; 旧组 goes.
pub const MIXED: &str = "
version: 1
groups:
  - name: 渠道
    tags: [线上, 线下, 代理]
  - name: 产品
    tags:
      - 新品A
      - p8
      - p7
      - p6
      - p5
      - name: P4
        previously: [p4]
      - name: P3
        previously: [p3]
      - name: P2
        previously: [p2]
      - name: P1
        previously: [p1]
      - name: P0
        previously: [p0]
      - 新品B
  - name: 销售阶段
    previously: [阶段]
    tags:
      - s0
      - s1
      - name: s3
        previously: [s2]
      - name: s2
        previously: [s3]
      - s4
      - s5
  - name: 地区
    tags: [r0, r1, r2, r3, p9]
  - name: 客户等级
    tags: [VIP, 普通客户]
";

/// The faults that the client and the executor absorb within one run: errcodes that
/// are retried, HTTP errors, and answers lost after the change was committed.
pub const ABSORBED: [FaultKind; 8] = [
    FaultKind::SystemBusy,
    FaultKind::VersionConflict,
    FaultKind::FrequencyLimit,
    FaultKind::ConcurrencyLimit,
    FaultKind::Http500,
    FaultKind::BadGateway,
    FaultKind::TruncatedJson,
    FaultKind::CommitThenDrop,
];

/// The wrong answers (HTML with HTTP 200, JSON of the wrong shape): the client does not
/// retry them, since no retry makes a captive portal or a broken proxy go away.
pub const WRONG_ANSWERS: [FaultKind; 2] = [FaultKind::NotJson, FaultKind::WrongShape];

/// Every fault the emulator injects: [`ABSORBED`] and [`WRONG_ANSWERS`].
pub fn every_fault() -> Vec<FaultKind> {
    [&ABSORBED[..], &WRONG_ANSWERS[..]].concat()
}

/// Every call kind fails with probability `rate`, each of `kinds` equally likely,
/// deterministic from `seed`.
pub fn fault_mix(seed: u64, kinds: &[FaultKind], rate: f64) -> Faults {
    let each = rate / kinds.len() as f64;
    let mut f = Faults::none().with_seed(seed);
    for call in CallKind::ALL {
        for (i, fault) in kinds.iter().enumerate() {
            // The first that fires wins: p_i = each / (1 - each * i) gives `each` apiece.
            f = f.random(call, *fault, each / (1.0 - each * i as f64));
        }
    }
    f
}

/// 20% of every call kind fails with one of the [`ABSORBED`] faults.
pub fn twenty_percent(seed: u64) -> Faults {
    fault_mix(seed, &ABSORBED, 0.2)
}
