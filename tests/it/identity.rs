//! Identity under drift, through the binary against the emulator: the ledger's bindings
//! turn a console rename into a rename back, a mistyped `previously` stops before it
//! strips customers, another app's secret is refused before any write, an old ledger is
//! upgraded, and adoption works both ways.

use crate::common;

use common::bin::{CORP, Fixture, OURS_GROUP, OURS_NORMAL, OURS_VIP, both, text};
use common::{OTHER_SECRET, SECRET};
use serde_json::{Value, json};
use tagsync::emulator::SeedGroup;
use tagsync::ledger::Ledger;

const FILE: &str = "version: 1\ngroups:\n  - name: 渠道\n    tags: [官网, 小程序, 展会]\n";

/// A fixture whose `tags.yaml` is `FILE`, applied by tagsync (it created the group and
/// its three tags): the fixture, the config path, and the ids by name.
fn applied() -> (Fixture, String) {
    let fx = Fixture::new();
    let cfg = fx.write("tags.yaml", FILE);
    let cfg = cfg.to_str().expect("utf-8 path").to_string();
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    (fx, cfg)
}

fn channel(fx: &Fixture) -> SeedGroup {
    fx.emu()
        .dump()
        .into_iter()
        .find(|g| g.group_name == "渠道")
        .expect("the group tagsync made")
}

fn id_of(fx: &Fixture, name: &str) -> String {
    channel(fx)
        .tag
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.id.clone())
        .unwrap_or_else(|| panic!("no tag {name}"))
}

/// An admin-console edit, over HTTP to the emulator's console endpoint.
fn console_edit(fx: &Fixture, body: Value) {
    fx.console_edit(body);
}

fn deletes(fx: &Fixture) -> usize {
    fx.emu()
        .calls()
        .iter()
        .filter(|c| c.kind == tagsync::emulator::CallKind::Delete)
        .count()
}

#[test]
fn a_console_rename_of_an_owned_tag_is_applied_as_one_edit_back() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "官网");
    console_edit(&fx, json!({"id": id, "name": "官方网站"}));
    // The console may rename what tagsync made; the API would refuse another app.
    let plan = fx.run(&["plan", "-c", &cfg]);
    assert_eq!(plan.status.code(), Some(0), "{}", both(&plan));
    let stdout = text(&plan.stdout);
    assert!(stdout.contains("renamed outside tagsync"), "{stdout}");
    assert!(!stdout.contains("delete"), "{stdout}");
    // The PR comment (and the drift issue) says what is to be done, not that it was; the
    // apply report below it says it was done.
    let comment = text(&fx.run(&["plan", "-c", &cfg, "--format", "markdown"]).stdout);
    assert!(
        comment.contains("**Changed outside tagsync, to be put back** (1):"),
        "{comment}"
    );
    assert!(!comment.contains("put back (it had been"), "{comment}");
    let writes = fx.writes();
    let out = fx.run(&["plan", "-c", &cfg, "--apply", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let report = text(&out.stdout);
    let report = report
        .split("### Apply complete")
        .nth(1)
        .unwrap_or_else(|| panic!("an apply report: {report}"));
    assert!(
        report.contains("官方网站 → 官网 — put back (it had been changed outside tagsync)"),
        "{report}"
    );
    assert_eq!(fx.writes(), writes + 1, "one edit");
    assert_eq!(deletes(&fx), 0);
    assert_eq!(id_of(&fx, "官网"), id, "same id, customers kept");
    let again = fx.run(&["plan", "-c", &cfg, "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
}

#[test]
fn a_console_name_accepted_with_previously_plans_nothing_and_the_binding_follows() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "官网");
    console_edit(&fx, json!({"id": id, "name": "官方网站"}));
    let accepted = "version: 1\ngroups:\n  - name: 渠道\n    tags:\n      - name: 官方网站\n        previously: [官网]\n      - 小程序\n      - 展会\n";
    fx.write("tags.yaml", accepted);
    let out = fx.run(&["plan", "-c", &cfg, "--apply", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let ledger = Ledger::load(&fx.ledger_path(), CORP).expect("ledger");
    assert_eq!(ledger.bindings[&id].name, "官方网站");
    // With the binding recorded, `previously` can go.
    fx.write("tags.yaml", &FILE.replace("官网", "官方网站"));
    let out = fx.run(&["plan", "-c", &cfg, "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn a_console_reorder_of_an_owned_tag_is_moved_back() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "展会");
    console_edit(&fx, json!({"id": id, "order": 999_999}));
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("moved outside tagsync"),
        "{}",
        both(&out)
    );
    let names: Vec<String> = channel(&fx).tag.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, ["官网", "小程序", "展会"]);
}

#[test]
fn a_mistyped_previously_exits_3_with_a_did_you_mean_and_sends_nothing() {
    let (fx, cfg) = applied();
    let typo = "version: 1\ngroups:\n  - name: 渠道\n    tags:\n      - 官网\n      - name: 微信小程序\n        previously: [小成序]\n      - 展会\n";
    fx.write("tags.yaml", typo);
    let writes = fx.writes();
    let out = fx.run(&["plan", "-c", &cfg, "--apply", "--allow-delete", "5"]);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let all = both(&out);
    assert!(all.contains("did you mean `小程序`?"), "{all}");
    assert!(all.contains("previously: [小程序]"), "{all}");
    assert_eq!(fx.writes(), writes, "nothing sent");
    // Spelt right: one rename, same id.
    let id = id_of(&fx, "小程序");
    fx.write("tags.yaml", &typo.replace("小成序", "小程序"));
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(id_of(&fx, "微信小程序"), id);
}

#[test]
fn another_apps_secret_is_refused_with_no_write_and_the_ledger_unchanged() {
    let (fx, cfg) = applied();
    fx.write("tags.yaml", &FILE.replace("展会", "展会\n      - 新标签"));
    let before = std::fs::read(fx.ledger_path()).expect("ledger");
    let writes = fx.writes();
    for args in [
        vec!["plan", "-c", cfg.as_str(), "--apply"],
        vec!["plan", "-c", cfg.as_str()],
        vec!["adopt", OURS_VIP, "-c", cfg.as_str()],
    ] {
        let out = fx.run_with_secret(OTHER_SECRET, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", both(&out));
        let err = text(&out.stderr);
        assert!(err.contains("written by another app"), "{err}");
        assert!(err.contains("tagsync ledger rebind"), "{err}");
        assert!(
            !err.contains(OTHER_SECRET) && !err.contains(SECRET),
            "{err}"
        );
    }
    assert_eq!(fx.writes(), writes, "no write call");
    assert_eq!(std::fs::read(fx.ledger_path()).expect("ledger"), before);
    // Rebinding to it is refused too: it may not edit what tagsync made.
    let out = fx.run_with_secret(OTHER_SECRET, &["ledger", "rebind", "-c", &cfg, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("belongs to another app"),
        "{}",
        both(&out)
    );
    assert_eq!(std::fs::read(fx.ledger_path()).expect("ledger"), before);
    let text_ledger = String::from_utf8(before).expect("utf-8");
    assert!(!text_ledger.contains(SECRET), "{text_ledger}");
}

#[test]
fn a_rotated_secret_of_the_same_app_is_accepted_by_rebind() {
    let (fx, cfg) = applied();
    // As if the ledger had been written with the app's previous secret.
    let path = fx.ledger_path();
    let mut ledger = Ledger::load(&path, CORP).expect("ledger");
    ledger.app = Some(tagsync::ledger::app_fingerprint(CORP, "the-old-secret"));
    ledger.save(&path).expect("save");
    let refused = fx.run(&["plan", "-c", &cfg]);
    assert_eq!(refused.status.code(), Some(1), "{}", both(&refused));
    let no_tty = fx.run(&["ledger", "rebind", "-c", &cfg]);
    assert_eq!(no_tty.status.code(), Some(1), "{}", both(&no_tty));
    assert!(text(&no_tty.stderr).contains("--yes"), "{}", both(&no_tty));
    let out = fx.run(&["ledger", "rebind", "-c", &cfg, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(text(&out.stdout).contains("checked:"), "{}", both(&out));
    let out = fx.run(&["plan", "-c", &cfg, "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn a_format_1_ledger_is_upgraded_in_place_with_bindings() {
    let fx = Fixture::new();
    let cfg = fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP, 普通客户]\n  - name: 行业\n    managed: false\n    order: ignore\n    tags: [制造业, 零售]\n  - name: 来源\n    managed: false\n    order: ignore\n    tags: [官网]\n",
    );
    let cfg = cfg.to_str().expect("utf-8").to_string();
    let path = fx.ledger_path();
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let v1 =
        json!({"format_version": 1, "corp_id": CORP, "owned": [OURS_GROUP, OURS_NORMAL, OURS_VIP]});
    std::fs::write(&path, v1.to_string()).expect("write v1");
    let plain = fx.run(&["plan", "-c", &cfg, "--detailed-exitcode"]);
    assert_eq!(plain.status.code(), Some(0), "{}", both(&plain));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        v1.to_string(),
        "a plain plan writes nothing"
    );
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let ledger: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(ledger["format_version"], 2);
    assert_eq!(ledger["bindings"][OURS_VIP]["name"], "VIP");
    assert_eq!(ledger["bindings"][OURS_VIP]["group"], OURS_GROUP);
    assert_eq!(ledger["bindings"][OURS_GROUP]["name"], "客户等级");
    assert!(
        ledger["app"]
            .as_str()
            .is_some_and(|a| a.starts_with("hmac-sha256:"))
    );
    // Now a console rename of VIP is drift.
    console_edit(&fx, json!({"id": OURS_VIP, "name": "贵宾"}));
    let out = fx.run(&["plan", "-c", &cfg]);
    assert!(
        text(&out.stdout).contains("renamed outside tagsync"),
        "{}",
        both(&out)
    );
}

#[test]
fn disown_and_adopt_with_tags_change_the_ledger_both_ways() {
    let fx = Fixture::new();
    let out = fx.run(&["adopt", OURS_GROUP, "--with-tags"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("adopted ").count(), 3, "{stdout}");
    assert!(stdout.contains("tag 客户等级 / VIP"), "{stdout}");
    let owned = fx.owned(&fx.ledger_path());
    assert!(
        [OURS_GROUP, OURS_VIP, OURS_NORMAL]
            .iter()
            .all(|id| owned.contains(*id))
    );

    let out = fx.run(&["disown", OURS_VIP]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("disowned tag 客户等级 / VIP"),
        "{}",
        both(&out)
    );
    let ledger = Ledger::load(&fx.ledger_path(), CORP).expect("ledger");
    assert!(!ledger.owned.contains(OURS_VIP) && !ledger.bindings.contains_key(OURS_VIP));
    assert!(ledger.owned.contains(OURS_NORMAL));

    let before = std::fs::read(fx.ledger_path()).expect("ledger");
    let out = fx.run(&["disown", OURS_VIP, "etNotOurs"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("does not own"), "{}", both(&out));
    assert_eq!(std::fs::read(fx.ledger_path()).expect("ledger"), before);
    assert_eq!(fx.writes(), 0, "nothing sent to WeCom");
}

#[test]
fn export_ids_writes_every_id_and_still_plans_to_nothing() {
    let fx = Fixture::new();
    fx.adopt_ours();
    let out = fx.run(&["export", "--ids", "-o", "tags.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let exported = std::fs::read_to_string(fx.dir.path().join("tags.yaml")).expect("exported");
    for id in [
        OURS_GROUP,
        OURS_VIP,
        OURS_NORMAL,
        "etTagRetail000000000000000000000",
    ] {
        assert!(exported.contains(&format!("id: {id}")), "{exported}");
    }
    let out = fx.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn disowning_a_group_disowns_its_tags_and_nothing_is_deleted() {
    let (fx, cfg) = applied();
    let group = channel(&fx).group_id.clone();
    let out = fx.run(&["disown", &group]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        text(&out.stdout).matches("disowned ").count(),
        4,
        "{}",
        both(&out)
    );
    // The file no longer lists the group: it is left alone, not deleted.
    fx.write("tags.yaml", "version: 1\ngroups: []\n");
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(deletes(&fx), 0, "{}", both(&out));
    assert_eq!(channel(&fx).tag.len(), 3);
}

#[test]
fn a_format_1_ledger_is_not_taken_over_by_another_apps_secret() {
    let (fx, cfg) = applied();
    let path = fx.ledger_path();
    let owned = Ledger::load(&path, CORP).expect("ledger").owned;
    let v1 = json!({"format_version": 1, "corp_id": CORP, "owned": owned});
    std::fs::write(&path, v1.to_string()).expect("write v1");
    fx.write("tags.yaml", &FILE.replace("展会", "展会\n      - 新标签"));
    let writes = fx.writes();
    let out = fx.run_with_secret(OTHER_SECRET, &["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("belongs to another app"),
        "{}",
        both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        v1.to_string()
    );
    // Its one probe (a no-op edit of an item the ledger owns) was refused; nothing else
    // was sent, and nothing was added.
    let sent = fx.emu().calls();
    let after: Vec<_> = sent
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                tagsync::emulator::CallKind::Add
                    | tagsync::emulator::CallKind::Edit
                    | tagsync::emulator::CallKind::Delete
            )
        })
        .skip(writes)
        .collect();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].kind, tagsync::emulator::CallKind::Edit);
    assert_ne!(after[0].errcode, Some(0), "the probe was refused");
    assert!(!channel(&fx).tag.iter().any(|t| t.name == "新标签"));
    // Our own secret upgrades it and applies.
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let ledger = Ledger::load(&path, CORP).expect("ledger");
    assert_eq!(
        ledger.app,
        Some(tagsync::ledger::app_fingerprint(CORP, SECRET))
    );
}

#[test]
fn rebind_refuses_the_legacy_all_powerful_secret() {
    let (fx, cfg) = applied();
    let before = std::fs::read(fx.ledger_path()).expect("ledger");
    let out = fx.run_with_secret(
        common::LEGACY_SECRET,
        &["ledger", "rebind", "-c", &cfg, "--yes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("legacy all-powerful secret"),
        "{}",
        both(&out)
    );
    assert!(
        text(&out.stderr).contains("nothing was changed"),
        "{}",
        both(&out)
    );
    assert_eq!(std::fs::read(fx.ledger_path()).expect("ledger"), before);
}

#[test]
fn adopting_what_the_file_does_not_list_warns_that_the_next_plan_deletes_it() {
    let fx = Fixture::new();
    fx.write(
        "tags.yaml",
        "version: 1\ngroups:\n  - name: 客户等级\n    tags: [VIP]\n",
    );
    let out = fx.run(&["adopt", OURS_VIP, OURS_NORMAL]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("warning:").count(), 1, "{stdout}");
    assert!(
        stdout.contains("the next `tagsync plan` deletes it"),
        "{stdout}"
    );
}

#[test]
fn export_keeps_an_existing_file_unless_forced() {
    let fx = Fixture::new();
    fx.adopt_ours();
    let path = fx.write("tags.yaml", "# hand-edited\nversion: 1\ngroups: []\n");
    let calls = fx.emu().calls().len();
    let out = fx.run(&["export", "-o", "tags.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(text(&out.stderr).contains("--force"), "{}", both(&out));
    let kept = std::fs::read_to_string(&path).expect("kept");
    assert!(kept.starts_with("# hand-edited"), "{kept}");
    assert_eq!(fx.emu().calls().len(), calls, "refused before any call");

    let out = fx.run(&["export", "-o", "tags.yaml", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let replaced = std::fs::read_to_string(&path).expect("replaced");
    assert!(replaced.contains("客户等级"), "{replaced}");
}

#[test]
fn a_console_group_tagsync_added_to_exports_with_order_ignore_and_moves_nothing() {
    let fx = Fixture::new();
    fx.adopt_ours();
    // Start from the export, then add a tag to the admin's group 行业 as the README
    // says: drop its `managed: false`, keep `order: ignore`.
    let out = fx.run(&["export", "-o", "tags.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let path = fx.dir.path().join("tags.yaml");
    let exported = std::fs::read_to_string(&path).expect("exported");
    let at = exported.find("- name: 行业").expect("行业 exported");
    let (head, tail) = exported.split_at(at);
    let tail = tail.replacen("  managed: false\n", "", 1).replacen(
        "  - 零售\n",
        "  - 零售\n  - 物流\n",
        1,
    );
    assert!(tail.contains("物流"), "{tail}");
    std::fs::write(&path, format!("{head}{tail}")).expect("write");
    let out = fx.run(&["plan", "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    // Exported again: the group is managed (tagsync owns a tag in it) but stays where
    // the admin put it, and the file plans nothing.
    let out = fx.run(&["export", "-o", "tags.yaml", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let again = std::fs::read_to_string(&path).expect("exported");
    let group = &again[again.find("- name: 行业").expect("行业")..];
    let group = &group[..group[1..].find("\n- ").map_or(group.len(), |e| e + 1)];
    assert!(group.contains("order: ignore"), "{group}");
    assert!(!group.contains("managed: false"), "{group}");
    assert!(group.contains("物流"), "{group}");
    let out = fx.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    // Moving the group to the top of the file plans nothing either: its order is
    // ignored (tagsync may not move a group it did not create).
    let (head, list) = again.split_at(again.find("groups:\n").expect("groups") + 8);
    let mut blocks: Vec<String> = list
        .split("- name: ")
        .filter(|b| !b.is_empty())
        .map(|b| format!("- name: {b}"))
        .collect();
    let k = blocks
        .iter()
        .position(|b| b.starts_with("- name: 行业"))
        .expect("行业");
    let moved = blocks.remove(k);
    blocks.insert(0, moved);
    std::fs::write(&path, format!("{head}{}", blocks.concat())).expect("write");
    let out = fx.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn deleting_a_group_forgets_its_tags_ids_too() {
    let (fx, cfg) = applied();
    let group = channel(&fx).group_id.clone();
    let ledger = Ledger::load(&fx.ledger_path(), CORP).expect("ledger");
    assert_eq!(ledger.owned.len(), 4, "the group and its three tags");
    std::fs::write(&cfg, "version: 1\ngroups: []\n").expect("write");
    let out = fx.run(&["plan", "-c", &cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(!fx.emu().dump().iter().any(|g| g.group_id == group));
    let ledger = Ledger::load(&fx.ledger_path(), CORP).expect("ledger");
    assert!(ledger.owned.is_empty(), "{:?}", ledger.owned);
    assert!(ledger.bindings.is_empty(), "{:?}", ledger.bindings);
}

const SWAP: &str = "version: 1\ngroups:\n  - name: 渠道\n    tags:\n      - name: 展会\n        previously: [官网]\n      - 小程序\n      - name: 官网\n        previously: [展会]\n";

/// Plan and apply `file`, then plan it again: nothing left, no delete ever sent.
fn applies_without_delete(fx: &Fixture, cfg: &str, file: &str) -> String {
    fx.write("tags.yaml", file);
    let out = fx.run(&["plan", "-c", cfg, "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let again = fx.run(&["plan", "-c", cfg, "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert_eq!(deletes(fx), 0, "no delete");
    text(&out.stdout)
}

#[test]
fn a_reverted_rename_pull_request_renames_the_tag_back() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "官网");
    let renamed = FILE.replace("官网", "{name: 官方网站, previously: [官网]}");
    applies_without_delete(&fx, &cfg, &renamed);
    assert_eq!(id_of(&fx, "官方网站"), id);
    // The pull request is reverted: the file says `官网` again, with no `previously`.
    let stdout = applies_without_delete(&fx, &cfg, FILE);
    assert!(
        stdout.contains("was renamed by tagsync from `官网`"),
        "{stdout}"
    );
    assert_eq!(id_of(&fx, "官网"), id, "same id, customers kept");
}

#[test]
fn a_swap_stopped_half_way_and_then_reverted_renames_the_temporary_tag_back() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "官网");
    // The swap's first half ran (官网 → ~~展会) and was recorded; the run then stopped.
    console_edit(&fx, json!({"id": id, "name": "~~展会"}));
    let path = fx.ledger_path();
    let mut ledger: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("ledger")).expect("json");
    ledger["renamed"][&id] = json!({"from": "官网", "to": "~~展会"});
    ledger["bindings"][&id]["name"] = json!("~~展会");
    std::fs::write(&path, ledger.to_string()).expect("write the ledger");
    // Planned again with the swap, it resumes; reverted, it goes back: both keep the id.
    fx.write("tags.yaml", SWAP);
    let resumed = fx.run(&["plan", "-c", &cfg]);
    assert_eq!(resumed.status.code(), Some(0), "{}", both(&resumed));
    assert!(
        !text(&resumed.stdout).contains("delete"),
        "{}",
        both(&resumed)
    );
    applies_without_delete(&fx, &cfg, FILE);
    assert_eq!(id_of(&fx, "官网"), id, "same id, customers kept");
}

#[test]
fn a_console_swap_back_after_an_applied_swap_is_put_back_as_drift() {
    let (fx, cfg) = applied();
    let (a, b) = (id_of(&fx, "官网"), id_of(&fx, "展会"));
    applies_without_delete(&fx, &cfg, SWAP);
    assert_eq!(
        (id_of(&fx, "展会"), id_of(&fx, "官网")),
        (a.clone(), b.clone())
    );
    // An admin swaps the names back in the console; the file still holds the swap.
    console_edit(&fx, json!({"id": a, "name": "临时"}));
    console_edit(&fx, json!({"id": b, "name": "展会"}));
    console_edit(&fx, json!({"id": a, "name": "官网"}));
    let plan = fx.run(&["plan", "-c", &cfg, "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "drift is seen: {}",
        both(&plan)
    );
    assert!(
        text(&plan.stdout).contains("renamed outside tagsync"),
        "{}",
        both(&plan)
    );
    applies_without_delete(&fx, &cfg, SWAP);
    assert_eq!((id_of(&fx, "展会"), id_of(&fx, "官网")), (a, b));
}

#[test]
fn adopting_again_keeps_the_record_that_tells_drift_from_the_files_names() {
    let (fx, cfg) = applied();
    let id = id_of(&fx, "官网");
    console_edit(&fx, json!({"id": id, "name": "官方网站"}));
    let group = channel(&fx).group_id.clone();
    // A natural way to adopt a few more tags of an owned group.
    let out = fx.run(&["adopt", &group, "--with-tags", "-c", &cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("(already owned; its record kept)"),
        "{stdout}"
    );
    assert!(!stdout.contains("warning"), "{stdout}");
    let plan = fx.run(&["plan", "-c", &cfg]);
    assert!(
        text(&plan.stdout).contains("renamed outside tagsync"),
        "{}",
        both(&plan)
    );
    assert!(!text(&plan.stdout).contains("delete"), "{}", both(&plan));
}

#[test]
fn adopting_into_a_read_only_group_warns_of_no_delete_and_a_bad_file_is_said() {
    let fx = Fixture::new();
    let read_only =
        "version: 1\ngroups:\n  - name: 客户等级\n    managed: false\n    tags: [VIP]\n";
    fx.write("tags.yaml", read_only);
    let out = fx.run(&["adopt", OURS_NORMAL]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(!text(&out.stdout).contains("warning"), "{}", both(&out));
    fx.write("tags.yaml", "version: 1\ngroups: [oops\n");
    let out = fx.run(&["adopt", OURS_VIP]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        text(&out.stdout)
            .contains("does not validate, so whether it lists these items was not checked"),
        "{}",
        both(&out)
    );
}
