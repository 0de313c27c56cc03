//! Rule-group (strategy) tags: the emulator's rule-group calls, and tagsync managing corp
//! tags and two rule groups from one file, through the binary, against the emulator.

use crate::common;

use common::bin::{CORP, Fixture, text};
use common::{LEGACY_SECRET, OTHER_SECRET, SECRET, errcode, group, start, tag, three_apps};
use serde_json::{Value, json};
use tagsync::emulator::{CallKind, EmulatorConfig, SeedGroup};
use tagsync::wire::{self, path};

/// Rule groups 1 (华东销售) and 2 (华南销售), first-level; 3 (上海门店), a child of 1.
fn rule_groups() -> Vec<wire::RuleGroup> {
    let rule = |id: u64, parent_id: u64, name: &str| wire::RuleGroup {
        strategy_id: id,
        parent_id,
        strategy_name: name.into(),
        create_time: 1_651_000_000,
    };
    vec![
        rule(1, 0, "华东销售"),
        rule(2, 0, "华南销售"),
        rule(3, 1, "上海门店"),
    ]
}

/// A rule-group tag group of `owner` in rule group `strategy`.
fn in_rule_group(strategy: u64, mut g: SeedGroup) -> SeedGroup {
    g.group.strategy_id = Some(strategy);
    g
}

fn config(seed: Vec<SeedGroup>) -> EmulatorConfig {
    EmulatorConfig {
        corp_id: CORP.into(),
        apps: three_apps(),
        seed,
        rule_groups: rule_groups(),
        ..Default::default()
    }
}

/// Another app's group in rule group 1: invisible to tagsync.
fn crm_group() -> SeedGroup {
    in_rule_group(
        1,
        group(
            "etCrmRule000000000000000000000",
            "华东活动",
            10,
            Some("crm"),
            vec![tag(
                "etCrmRuleTag0000000000000000000",
                "会员日",
                1,
                Some("crm"),
            )],
        ),
    )
}

#[tokio::test]
async fn the_emulator_answers_the_rule_group_calls_as_documented() {
    let emu = start(EmulatorConfig {
        tag_limit: 4,
        ..config(vec![crm_group()])
    })
    .await;
    let ours = emu.token(SECRET).await;
    // The rule groups: ids page by page, each one read by id.
    let page = emu
        .call(path::STRATEGY_LIST, &ours, json!({"limit": 2}))
        .await;
    assert_eq!(
        page["strategy"],
        json!([{"strategy_id": 1}, {"strategy_id": 2}]),
        "{page}"
    );
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let rest = emu
        .call(path::STRATEGY_LIST, &ours, json!({"cursor": cursor}))
        .await;
    assert_eq!(rest["strategy"], json!([{"strategy_id": 3}]), "{rest}");
    assert!(rest.get("next_cursor").is_none(), "{rest}");
    let child = emu
        .call(path::STRATEGY_GET, &ours, json!({"strategy_id": 3}))
        .await;
    assert_eq!(child["strategy"]["parent_id"], 1, "{child}");
    assert_eq!(child["strategy"]["strategy_name"], "上海门店");
    // An app sees only the rule-group tags it created.
    let list = emu
        .call(path::GET_STRATEGY_TAG_LIST, &ours, json!({}))
        .await;
    assert_eq!(list["tag_group"], json!([]), "{list}");
    let theirs = emu
        .call_as(OTHER_SECRET, path::GET_STRATEGY_TAG_LIST, json!({}))
        .await;
    assert_eq!(theirs["tag_group"][0]["strategy_id"], 1, "{theirs}");
    // Adds: a rule group is required, and only a first-level one holds tags.
    let add = |strategy: Value, group: &str, tags: Value| {
        let mut body = json!({"group_name": group, "tag": tags});
        if !strategy.is_null() {
            body["strategy_id"] = strategy;
        }
        body
    };
    let no_rule = emu
        .call(
            path::ADD_STRATEGY_TAG,
            &ours,
            add(Value::Null, "g", json!([{"name": "a"}])),
        )
        .await;
    assert_eq!(errcode(&no_rule), 40058, "{no_rule}");
    let child_add = emu
        .call(
            path::ADD_STRATEGY_TAG,
            &ours,
            add(json!(3), "g", json!([{"name": "a"}])),
        )
        .await;
    assert_eq!(errcode(&child_add), 40058, "{child_add}");
    let made = emu
        .call(
            path::ADD_STRATEGY_TAG,
            &ours,
            add(json!(1), "g", json!([{"name": "a"}])),
        )
        .await;
    assert_eq!(errcode(&made), 0, "{made}");
    assert_eq!(made["tag_group"]["strategy_id"], 1, "{made}");
    let tag_id = made["tag_group"]["tag"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A group name is unique within its rule group only (the emulator's choice).
    let other_rule = emu
        .call(
            path::ADD_STRATEGY_TAG,
            &ours,
            add(json!(2), "g", json!([{"name": "b"}])),
        )
        .await;
    assert_eq!(errcode(&other_rule), 0, "{other_rule}");
    assert_ne!(
        other_rule["tag_group"]["group_id"],
        made["tag_group"]["group_id"]
    );
    // The quota is shared with corp tags: 1 (crm) + 2 (ours) + 1 corp tag = 4 = limit.
    let corp = emu
        .call(
            path::ADD_CORP_TAG,
            &ours,
            json!({"group_name": "g", "tag": [{"name": "c"}]}),
        )
        .await;
    assert_eq!(errcode(&corp), 0, "{corp}");
    let full = emu
        .call(
            path::ADD_STRATEGY_TAG,
            &ours,
            add(json!(2), "h", json!([{"name": "d"}])),
        )
        .await;
    assert_eq!(errcode(&full), 40126, "{full}");
    // Each family's calls see only their own ids.
    let cross = emu
        .call(
            path::EDIT_CORP_TAG,
            &ours,
            json!({"id": tag_id, "name": "x"}),
        )
        .await;
    assert_eq!(errcode(&cross), 40068, "{cross}");
    let cross = emu
        .call(path::DEL_CORP_TAG, &ours, json!({"tag_id": [tag_id]}))
        .await;
    assert_eq!(errcode(&cross), 40068, "{cross}");
    let edit = emu
        .call(
            path::EDIT_STRATEGY_TAG,
            &ours,
            json!({"id": tag_id, "name": "x"}),
        )
        .await;
    assert_eq!(errcode(&edit), 0, "{edit}");
    let filtered = emu
        .call(
            path::GET_STRATEGY_TAG_LIST,
            &ours,
            json!({"strategy_id": 1}),
        )
        .await;
    assert_eq!(
        filtered["tag_group"].as_array().unwrap().len(),
        1,
        "{filtered}"
    );
    assert_eq!(filtered["tag_group"][0]["tag"][0]["name"], "x");
    // Another app may not change ours; the legacy secret may not call them at all.
    let foreign = emu
        .call_as(
            OTHER_SECRET,
            path::DEL_STRATEGY_TAG,
            json!({"tag_id": [tag_id]}),
        )
        .await;
    // (the ownership refusal, as for corp tags: which errcode WeCom gives is a guess)
    assert_eq!(errcode(&foreign), 60011, "{foreign}");
    let legacy = emu
        .call_as(LEGACY_SECRET, path::GET_STRATEGY_TAG_LIST, json!({}))
        .await;
    assert_eq!(errcode(&legacy), 48002, "{legacy}");
    // Deleting a group's last tag deletes the group.
    let del = emu
        .call(path::DEL_STRATEGY_TAG, &ours, json!({"tag_id": [tag_id]}))
        .await;
    assert_eq!(errcode(&del), 0, "{del}");
    let left = emu
        .call(
            path::GET_STRATEGY_TAG_LIST,
            &ours,
            json!({"strategy_id": 1}),
        )
        .await;
    assert_eq!(left["tag_group"], json!([]), "{left}");
}

const BOOTSTRAP: &str = "version: 1
groups:
  - name: 客户等级
    tags: [VIP, 普通客户]
  - name: 来源
    tags: [官网]
strategies:
  - strategy_id: 1
    groups:
      - name: 华东重点行业
        tags: [汽车零部件, 跨境电商, 纺织]
  - name: 华南销售
    groups:
      - name: 华南渠道
        tags: [经销商, 直营店]
      - name: 华南活动
        tags: [春茶节]
";

/// Writes (adds, edits, deletes) of either family in the emulator's log.
fn writes(fx: &Fixture) -> Vec<CallKind> {
    fx.emu()
        .calls()
        .iter()
        .filter(|c| c.errcode == Some(0))
        .map(|c| c.kind)
        .filter(|k| {
            k.tag_call()
                .is_some_and(|(call, _)| call != wire::Call::List)
        })
        .collect()
}

fn json_plan(fx: &Fixture, cfg: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["plan", "-c", cfg, "--format", "json"];
    args.extend_from_slice(extra);
    let out = fx.run(&args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

fn apply(fx: &Fixture, cfg: &str, extra: &[&str]) {
    let mut args = vec!["plan", "-c", cfg, "--apply"];
    args.extend_from_slice(extra);
    let out = fx.run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("verified"),
        "{}",
        text(&out.stdout)
    );
}

/// The live rule-group tags of our app: (rule group, group, tag) → id.
fn strategy_ids(fx: &Fixture) -> Vec<(u64, String, String, String)> {
    fx.emu()
        .dump()
        .into_iter()
        .filter(|g| g.owner.as_deref() == Some("tagsync"))
        .filter_map(|g| g.strategy_id.map(|s| (s, g)))
        .flat_map(|(s, g)| {
            g.tag
                .iter()
                .map(|t| (s, g.group_name.clone(), t.name.clone(), t.id.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn id_of(fx: &Fixture, name: &str) -> String {
    strategy_ids(fx)
        .into_iter()
        .find(|(_, _, n, _)| n == name)
        .map(|(_, _, _, id)| id)
        .unwrap_or_else(|| panic!("no rule-group tag {name}"))
}

/// A fixture bootstrapped with [`BOOTSTRAP`] (its config path too).
fn bootstrapped() -> (Fixture, String) {
    let fx = Fixture::with_config(config(vec![crm_group()]));
    let cfg = fx.write("tags.yaml", BOOTSTRAP);
    let cfg = cfg.to_str().unwrap().to_owned();
    apply(&fx, &cfg, &[]);
    (fx, cfg)
}

#[test]
fn corp_and_two_rule_groups_bootstrap_in_one_call_per_group_and_replan_empty() {
    let fx = Fixture::with_config(config(vec![crm_group()]));
    let cfg = fx.write("tags.yaml", BOOTSTRAP);
    let cfg = cfg.to_str().unwrap();
    let (code, plan) = json_plan(&fx, cfg, &["--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert_eq!(plan["format_version"], 2);
    // One add per group, whatever its scope: 2 corp groups, 1 + 2 rule-group groups.
    assert_eq!(plan["calls"], 5, "{plan}");
    let scopes: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["scope"])
        .collect();
    assert_eq!(scopes.iter().filter(|s| s["kind"] == "corp").count(), 2);
    assert_eq!(
        scopes
            .iter()
            .filter(|s| s["strategy_id"] == 2 && s["name"] == "华南销售")
            .count(),
        2,
        "{plan}"
    );
    apply(&fx, cfg, &[]);
    let sent = writes(&fx);
    assert_eq!(
        sent.iter().filter(|k| **k == CallKind::StrategyAdd).count(),
        3,
        "{sent:?}"
    );
    assert_eq!(
        sent.iter().filter(|k| **k == CallKind::Add).count(),
        2,
        "{sent:?}"
    );
    // The rule groups got their own tags, next to the other app's group.
    let ours = strategy_ids(&fx);
    assert_eq!(ours.iter().filter(|(s, ..)| *s == 1).count(), 3, "{ours:?}");
    assert_eq!(ours.iter().filter(|(s, ..)| *s == 2).count(), 3, "{ours:?}");
    let before = fx.emu().calls().len();
    let (code, again) = json_plan(&fx, cfg, &["--detailed-exitcode"]);
    assert_eq!((code, &again["calls"]), (0, &json!(0)), "{again}");
    assert!(
        fx.emu().calls()[before..].iter().all(|c| !matches!(
            c.kind,
            CallKind::Add
                | CallKind::Edit
                | CallKind::Delete
                | CallKind::StrategyAdd
                | CallKind::StrategyEdit
                | CallKind::StrategyDelete
        )),
        "a plan writes nothing"
    );
}

#[test]
fn renames_reorders_and_deletes_in_a_rule_group_keep_ids_as_for_corp_tags() {
    let (fx, cfg) = bootstrapped();
    let renamed = id_of(&fx, "跨境电商");
    let kept = id_of(&fx, "纺织");
    let file = BOOTSTRAP
        .replace(
            "        tags: [汽车零部件, 跨境电商, 纺织]",
            "        tags:\n          - 纺织\n          - {name: 跨境贸易, previously: [跨境电商]}",
        )
        .replace("    tags: [VIP, 普通客户]", "    tags: [普通客户, VIP]");
    fx.write("tags.yaml", &file);
    let (code, plan) = json_plan(&fx, &cfg, &[]);
    assert_eq!(code, 0, "{plan}");
    let steps = plan["steps"].as_array().unwrap();
    let in_rule = |s: &&Value| s["scope"]["strategy_id"] == 1;
    let rename = steps
        .iter()
        .filter(in_rule)
        .find(|s| s["call"]["to_name"] == "跨境贸易")
        .unwrap_or_else(|| panic!("a rename: {plan}"));
    assert_eq!(
        rename["call"]["id"],
        renamed.as_str(),
        "the same id is renamed"
    );
    let delete = steps
        .iter()
        .filter(in_rule)
        .find(|s| s["call"]["type"] == "delete")
        .unwrap_or_else(|| panic!("a delete: {plan}"));
    assert_eq!(delete["call"]["tags"][0]["name"], "汽车零部件");
    assert_eq!(delete["destructive"], true);
    assert!(
        steps
            .iter()
            .filter(in_rule)
            .any(|s| s["action"] == "reorder" || s["action"] == "rename_reorder"),
        "纺织 moves to the top: {plan}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s["scope"]["kind"] == "corp" && s["call"]["type"] == "edit"),
        "the corp's reorder too: {plan}"
    );
    apply(&fx, &cfg, &[]);
    assert_eq!(id_of(&fx, "跨境贸易"), renamed, "renamed in place");
    assert_eq!(id_of(&fx, "纺织"), kept);
    assert!(
        strategy_ids(&fx)
            .iter()
            .all(|(_, _, n, _)| n != "汽车零部件")
    );
    let (code, again) = json_plan(&fx, &cfg, &["--detailed-exitcode"]);
    assert_eq!(code, 0, "{again}");
}

#[test]
fn a_console_rename_in_a_rule_group_is_drift_renamed_back() {
    let (fx, cfg) = bootstrapped();
    let id = id_of(&fx, "纺织");
    fx.console_edit(json!({"id": id, "name": "纺织品"}));
    let (_, plan) = json_plan(&fx, &cfg, &[]);
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{plan}");
    assert_eq!(steps[0]["drift"], true, "{plan}");
    assert_eq!(steps[0]["call"]["id"], id.as_str());
    assert_eq!(steps[0]["call"]["to_name"], "纺织");
    assert_eq!(steps[0]["scope"]["strategy_id"], 1);
    apply(&fx, &cfg, &[]);
    assert_eq!(id_of(&fx, "纺织"), id);
}

#[test]
fn the_delete_gate_counts_every_scope_together() {
    let (fx, cfg) = bootstrapped();
    let many: Vec<String> = (1..=6).map(|i| format!("区{i}")).collect();
    let list = many.join(", ");
    // Grow both scopes by six tags, then drop them all: 12 deletes, 6 in each.
    let grown = BOOTSTRAP
        .replace("    tags: [官网]", &format!("    tags: [官网, {list}]"))
        .replace(
            "        tags: [春茶节]",
            &format!("        tags: [春茶节, {list}]"),
        );
    fx.write("tags.yaml", &grown);
    apply(&fx, &cfg, &[]);
    fx.write("tags.yaml", BOOTSTRAP);
    let (code, plan) = json_plan(&fx, &cfg, &[]);
    assert_eq!(code, 3, "{plan}");
    assert_eq!(plan["summary"]["delete_tags"], 12, "{plan}");
    let blocked: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["blocked"].is_null())
        .collect();
    assert_eq!(blocked.len(), 2, "both deletes, one per scope: {plan}");
    assert!(
        blocked[0]["blocked"]["reason"]
            .as_str()
            .unwrap()
            .contains("12 tags")
    );
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    apply(&fx, &cfg, &["--allow-delete", "12"]);
    assert!(
        strategy_ids(&fx)
            .iter()
            .all(|(_, _, n, _)| !n.starts_with('区'))
    );
}

#[test]
fn a_missing_or_second_level_rule_group_blocks_its_adds_and_a_bad_name_stops() {
    let fx = Fixture::with_config(config(vec![]));
    let file = "version: 1
groups: []
strategies:
  - strategy_id: 9
    groups:
      - name: 无处
        tags: [a]
  - strategy_id: 3
    groups:
      - name: 门店
        tags: [b]
";
    let cfg = fx.write("tags.yaml", file);
    let (code, plan) = json_plan(&fx, cfg.to_str().unwrap(), &[]);
    assert_eq!(code, 3, "{plan}");
    let reasons: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["blocked"]["reason"].as_str().unwrap_or_default())
        .collect();
    assert!(
        reasons[0].contains("no rule group with strategy_id 9"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("not a first-level rule group"),
        "{reasons:?}"
    );
    assert!(writes(&fx).is_empty());
    // A name that finds no rule group is an error before any plan.
    let cfg = fx.write(
        "named.yaml",
        "version: 1\ngroups: []\nstrategies:\n  - name: 西北销售\n    groups: []\n",
    );
    let out = fx.run(&["plan", "-c", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no rule group is named `西北销售`"), "{err}");
    assert!(err.contains("3 rule groups"), "{err}");
}

#[test]
fn two_rule_groups_of_one_name_make_the_name_ambiguous() {
    let mut cfg = config(vec![]);
    cfg.rule_groups.push(wire::RuleGroup {
        strategy_id: 4,
        parent_id: 0,
        strategy_name: "华南销售".into(),
        create_time: 0,
    });
    let fx = Fixture::with_config(cfg);
    let file = fx.write(
        "tags.yaml",
        "version: 1\ngroups: []\nstrategies:\n  - name: 华南销售\n    groups: []\n",
    );
    let out = fx.run(&["plan", "-c", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("2 rule groups are named `华南销售` (ids 2, 4)"),
        "{err}"
    );
}

#[test]
fn a_tag_moved_between_scopes_is_a_gated_replace() {
    let (fx, cfg) = bootstrapped();
    // 来源 grows to 11 tags; then all of them leave the corp for rule group 2: the corp's
    // group goes, and each tag is a replace that the gate counts (11 > 10).
    let names: Vec<String> = (1..=10).map(|i| format!("渠道{i:02}")).collect();
    let list = format!("官网, {}", names.join(", "));
    fx.write(
        "tags.yaml",
        &BOOTSTRAP.replace("    tags: [官网]", &format!("    tags: [{list}]")),
    );
    apply(&fx, &cfg, &[]);
    let moved = BOOTSTRAP
        .replace("  - name: 来源\n    tags: [官网]\n", "")
        .replace(
            "        tags: [经销商, 直营店]",
            &format!("        tags: [经销商, 直营店, {list}]"),
        );
    fx.write("tags.yaml", &moved);
    let (code, plan) = json_plan(&fx, &cfg, &[]);
    assert_eq!(code, 3, "the gate counts the replaced tags: {plan}");
    assert_eq!(plan["summary"]["replaces"], 11, "{plan}");
    let steps = plan["steps"].as_array().unwrap();
    let add = steps
        .iter()
        .find(|s| s["scope"]["strategy_id"] == 2 && s["call"]["type"] == "add_tags")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(add["destructive"], true, "{plan}");
    assert!(
        add["reason"]
            .as_str()
            .unwrap()
            .contains("`官网` comes from corp tags: a replace"),
        "{plan}"
    );
    assert!(
        add["description"].as_str().unwrap().contains("官网 (order"),
        "{plan}"
    );
    let delete = steps
        .iter()
        .find(|s| s["scope"]["kind"] == "corp" && s["call"]["type"] == "delete")
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        delete["reason"]
            .as_str()
            .unwrap()
            .contains("moves to group `华南渠道` of rule group 华南销售 (2)"),
        "{plan}"
    );
    assert!(
        delete["depends_on"]
            .as_array()
            .unwrap()
            .contains(&add["index"]),
        "the new tags are made before the old ones go: {plan}"
    );
    assert!(
        !add["blocked"].is_null() && !delete["blocked"].is_null(),
        "{plan}"
    );
    let text_plan = text(&fx.run(&["plan", "-c", &cfg]).stdout);
    assert!(text_plan.contains("moved from 来源 / 官网"), "{text_plan}");
    apply(&fx, &cfg, &["--allow-delete", "11"]);
    let ours = strategy_ids(&fx);
    assert_eq!(
        ours.iter()
            .filter(|(s, g, ..)| *s == 2 && g == "华南渠道")
            .count(),
        13,
        "{ours:?}"
    );
    let corp = fx.emu().dump();
    assert!(
        corp.iter().all(|g| g.group_name != "来源"),
        "the corp's group went"
    );
}

#[test]
fn export_writes_the_rule_groups_and_reads_back_to_no_changes() {
    let (fx, cfg) = bootstrapped();
    let out = fx.run(&["export"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    assert!(exported.contains("strategies:"), "{exported}");
    assert!(
        exported.contains("- strategy_id: 1  # 华东销售\n"),
        "the name beside the id: {exported}"
    );
    assert!(exported.contains("华南渠道"), "{exported}");
    assert!(
        !exported.contains("华东活动"),
        "another app's rule-group tags are not ours"
    );
    fx.write("tags.yaml", &exported);
    let (code, plan) = json_plan(&fx, &cfg, &["--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}

#[test]
fn corp_and_rule_group_tags_share_one_quota_and_the_shrinking_scope_goes_first() {
    // Room for 6 tags: the corp holds 3 of ours; the file moves to 4 in a rule group.
    let fx = Fixture::with_config(EmulatorConfig {
        tag_limit: 6,
        ..config(vec![])
    });
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 旧\n    tags: [a1, a2, a3]\nstrategies: []\n",
    );
    let cfg = cfg.to_str().unwrap().to_owned();
    apply(&fx, &cfg, &[]);
    fx.write(
        "tags.yaml",
        "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: 新\n        tags: [r1, r2, r3, r4]\n",
    );
    let (_, plan) = json_plan(&fx, &cfg, &["--tag-limit", "6"]);
    let steps = plan["steps"].as_array().unwrap();
    let delete = steps
        .iter()
        .find(|s| s["call"]["type"] == "delete")
        .unwrap_or_else(|| panic!("{plan}"));
    let add = steps
        .iter()
        .find(|s| s["scope"]["strategy_id"] == 1)
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        add["depends_on"]
            .as_array()
            .unwrap()
            .contains(&delete["index"]),
        "3 + 4 > 6: the rule group's add waits for the corp's delete: {plan}"
    );
    apply(&fx, &cfg, &["--tag-limit", "6"]);
    assert_eq!(strategy_ids(&fx).len(), 4);
}

/// Where the vendor is silent (a group name unique across rule groups, or only within
/// one), tagsync under the other answer: the add WeCom refuses fails alone, named with
/// its call and errcode; the rest applies and nothing is lost.
#[test]
fn under_names_unique_across_rule_groups_the_refused_add_is_named_and_the_rest_applies() {
    let mut cfg = config(vec![]);
    cfg.profile.rule_group_names = tagsync::emulator::RuleGroupNames::AcrossRuleGroups;
    let fx = Fixture::with_config(cfg);
    let file = "version: 1
groups: []
strategies:
  - strategy_id: 1
    groups:
      - name: 渠道
        tags: [a]
  - strategy_id: 2
    groups:
      - name: 渠道
        tags: [b]
      - name: 其他
        tags: [c]
";
    let path = fx.write("tags.yaml", file);
    let out = fx.run(&["plan", "-c", path.to_str().unwrap(), "--apply"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{all}");
    assert!(
        all.contains("add_strategy_tag") && all.contains("40071"),
        "{all}"
    );
    let ours = strategy_ids(&fx);
    assert_eq!(
        ours.len(),
        2,
        "渠道 in rule group 1 and 其他 in 2: {ours:?}"
    );
    assert!(!all.contains(SECRET), "no secret in the output");
}

#[test]
fn one_rule_group_listed_by_id_and_by_name_stops_before_any_plan() {
    let (fx, _) = bootstrapped();
    let file = fx.write(
        "twice.yaml",
        "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups: []\n  - name: 华东销售\n    groups:\n      - name: 东组\n        tags: [d1]\n",
    );
    let before = writes(&fx).len();
    let out = fx.run(&["plan", "-c", file.to_str().unwrap(), "--apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("rule group 1 is listed twice, as strategy_id 1 and as `华东销售`"),
        "{err}"
    );
    assert_eq!(writes(&fx).len(), before, "nothing sent");
}

#[test]
fn rule_group_tags_made_before_the_first_run_are_bound_and_their_drift_put_back() {
    // 华东重点行业 exists (this app made it before tagsync was used): an apply that has
    // nothing to do still records and binds it, so a console rename is renamed back.
    let seed = vec![in_rule_group(
        1,
        group(
            "etOldRuleGroup0000000000000000",
            "华东重点行业",
            10,
            Some("tagsync"),
            vec![tag(
                "etOldRuleTag00000000000000000000",
                "纺织",
                1,
                Some("tagsync"),
            )],
        ),
    )];
    let fx = Fixture::with_config(config(seed));
    let file = "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: 华东重点行业\n        tags: [纺织]\n";
    let cfg = fx.write("tags.yaml", file);
    let cfg = cfg.to_str().unwrap().to_owned();
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        fx.owned(&fx.ledger_path())
            .contains("etOldRuleTag00000000000000000000")
    );
    fx.console_edit(json!({"id": "etOldRuleTag00000000000000000000", "name": "纺织品"}));
    let (_, plan) = json_plan(&fx, &cfg, &[]);
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "a rename back, no delete: {plan}");
    assert_eq!(steps[0]["drift"], true, "{plan}");
    assert_eq!(steps[0]["call"]["to_name"], "纺织");
}

#[test]
fn scopes_that_each_fit_but_not_together_are_noted() {
    let fx = Fixture::with_config(config(vec![]));
    let file = "version: 1\ngroups:\n  - name: 甲\n    tags: [a, b, c]\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: 乙\n        tags: [d, e, f]\n";
    let cfg = fx.write("tags.yaml", file);
    let (_, plan) = json_plan(&fx, cfg.to_str().unwrap(), &["--tag-limit", "5"]);
    let notes = plan["notes"].to_string();
    assert!(
        notes.contains("would hold 6 tags")
            && notes.contains("share one quota")
            && notes.contains("its 5 tag limit"),
        "{plan}"
    );
}

#[test]
fn the_legacy_secret_is_told_it_may_not_read_rule_groups() {
    let fx = Fixture::with_config(config(vec![]));
    let cfg = fx.write("tags.yaml", BOOTSTRAP);
    let out = fx.run_with_secret(LEGACY_SECRET, &["plan", "-c", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("48002"), "{err}");
    assert!(err.contains("remove `strategies:`"), "{err}");
    assert!(!err.contains(LEGACY_SECRET), "{err}");
}

#[test]
fn previously_naming_a_tag_of_another_scope_blocks_its_delete() {
    let (fx, cfg) = bootstrapped();
    // A corp tag says it was rule group 1's 纺织, which the file drops there.
    let file = BOOTSTRAP
        .replace(
            "tags: [官网]",
            "tags: [官网, {name: 纺织品, previously: [纺织]}]",
        )
        .replace("[汽车零部件, 跨境电商, 纺织]", "[汽车零部件, 跨境电商]");
    fx.write("tags.yaml", &file);
    let (code, plan) = json_plan(&fx, &cfg, &["--allow-delete", "5"]);
    assert_eq!(code, 3, "blocked: {plan}");
    let delete = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"]["strategy_id"] == 1 && s["call"]["type"] == "delete")
        .unwrap_or_else(|| panic!("{plan}"));
    let reason = delete["blocked"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("but `纺织` is a tag of rule group 华东销售 (1): nothing moves"),
        "{plan}"
    );
    let notes = plan["notes"].to_string();
    assert!(!notes.contains("matches nothing"), "{notes}");
}
