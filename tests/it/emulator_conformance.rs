//! The emulator against every rule of the WeCom API it implements (README, "The emulator"), driven over HTTP only.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;
use tagsync::emulator::{AppAccess, CallKind, EmulatorConfig, Suite, config_from_files};
use tagsync::wire::{errcode as code, path};

const OURS: &str = "etGroupOurs00000000000000000000";
const ADMIN: &str = "etGroupAdmin0000000000000000000";
const CRM: &str = "etGroupCrm000000000000000000000";
const VIP: &str = "etTagVip000000000000000000000000";
const NORMAL: &str = "etTagNormal000000000000000000000";
const RETAIL: &str = "etTagRetail000000000000000000000";
const WEB: &str = "etTagWeb0000000000000000000000000";

fn names(list: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for g in list["tag_group"].as_array().into_iter().flatten() {
        let tags: Vec<&str> = g["tag"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str())
            .collect();
        out.push(format!(
            "{}:{}",
            g["group_name"].as_str().unwrap_or("?"),
            tags.join(",")
        ));
    }
    out
}

// ---- tokens ----

#[tokio::test]
async fn gettoken_issues_and_reuses_a_token() {
    let emu = start_small().await;
    let v = emu.gettoken_raw("ww-test-corp", SECRET).await;
    assert_eq!(errcode(&v), 0);
    assert_eq!(v["expires_in"], 7200);
    let t1 = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        emu.token(SECRET).await,
        t1,
        "same token within its lifetime"
    );
    assert_ne!(emu.token(OTHER_SECRET).await, t1, "one token per app");
}

#[tokio::test]
async fn gettoken_rejects_bad_credentials() {
    let emu = start_small().await;
    assert_eq!(
        errcode(&emu.gettoken_raw("ww-test-corp", "nope").await),
        code::INVALID_SECRET
    );
    assert_eq!(errcode(&emu.gettoken_raw("ww-other", SECRET).await), 40013);
    let v = fetch_json(
        emu.http
            .get(emu.url_q(path::GET_TOKEN, &[("corpid", "ww-test-corp")])),
    )
    .await;
    assert_eq!(errcode(&v), 41004);
    assert!(v.get("access_token").is_none());
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens() {
    let emu = start_small().await;
    let before = emu.handle.dump();
    let add = br#"{"group_name":"X","tag":[{"name":"a"}]}"#.to_vec();
    let resp = emu.post_raw(path::ADD_CORP_TAG, None, add.clone()).await;
    assert_eq!(
        errcode(&resp.json().await.unwrap()),
        code::MISSING_ACCESS_TOKEN
    );
    let resp = emu
        .post_raw(path::ADD_CORP_TAG, Some("bogus"), add.clone())
        .await;
    assert_eq!(
        errcode(&resp.json().await.unwrap()),
        code::INVALID_ACCESS_TOKEN
    );
    let token = emu.token(SECRET).await;
    emu.handle.expire_tokens();
    let resp = emu.post_raw(path::ADD_CORP_TAG, Some(&token), add).await;
    assert_eq!(
        errcode(&resp.json().await.unwrap()),
        code::ACCESS_TOKEN_EXPIRED
    );
    assert_eq!(emu.handle.dump(), before, "refused calls change nothing");
    let fresh = emu.token(SECRET).await;
    assert_ne!(fresh, token, "a new token after expiry");
    assert_eq!(
        errcode(&emu.call(path::GET_CORP_TAG_LIST, &fresh, json!({})).await),
        0
    );
}

#[tokio::test]
async fn token_lifetime_is_configurable() {
    let emu = start(EmulatorConfig {
        token_lifetime: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    let v = emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await;
    assert_eq!(errcode(&v), code::ACCESS_TOKEN_EXPIRED);
}

// ---- get_corp_tag_list ----

#[tokio::test]
async fn full_list_in_display_order_without_deleted_flags() {
    let emu = start_small().await;
    let v = emu.list_all().await;
    assert_eq!(errcode(&v), 0);
    assert_eq!(
        names(&v),
        ["客户等级:VIP,普通客户", "行业:制造业,零售", "来源:官网"]
    );
    assert!(!v.to_string().contains("deleted"));
    assert!(
        !v.to_string().contains("owner"),
        "the list never says who made what"
    );
}

#[tokio::test]
async fn vendor_example_group_id_wins_over_tag_id() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::GET_CORP_TAG_LIST,
            json!({"tag_id": [VIP], "group_id": [ADMIN]}),
        )
        .await;
    assert_eq!(names(&v), ["行业:制造业,零售"]);
}

#[tokio::test]
async fn tag_id_filter_returns_only_those_tags() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::GET_CORP_TAG_LIST,
            json!({"tag_id": [NORMAL, WEB, "etNeverExisted"]}),
        )
        .await;
    assert_eq!(names(&v), ["客户等级:普通客户", "来源:官网"]);
}

#[tokio::test]
async fn deleted_items_are_flagged_on_id_lookups_only() {
    let emu = start_small().await;
    let del = emu
        .call_as(SECRET, path::DEL_CORP_TAG, json!({"tag_id": [NORMAL]}))
        .await;
    assert_eq!(errcode(&del), 0);
    let by_tag = emu
        .call_as(
            SECRET,
            path::GET_CORP_TAG_LIST,
            json!({"tag_id": [NORMAL, VIP]}),
        )
        .await;
    let tags = &by_tag["tag_group"][0]["tag"];
    let vip = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == VIP)
        .unwrap();
    let normal = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == NORMAL)
        .unwrap();
    assert_eq!(normal["deleted"], true);
    assert!(vip.get("deleted").is_none_or(|d| d == false));
    let by_group = emu
        .call_as(SECRET, path::GET_CORP_TAG_LIST, json!({"group_id": [OURS]}))
        .await;
    assert_eq!(
        names(&by_group),
        ["客户等级:VIP,普通客户"],
        "group lookup shows the tombstone"
    );
    assert_eq!(
        names(&emu.list_all().await)[0],
        "客户等级:VIP",
        "the full list does not"
    );
}

// ---- add_corp_tag ----

#[tokio::test]
async fn vendor_example_add_creates_group_with_ids_and_create_time() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_name": "GROUP_NAME", "order": 1, "tag": [{"name": "TAG_NAME_1", "order": 1}, {"name": "TAG_NAME_2", "order": 2}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
    let g = &v["tag_group"];
    assert_eq!(g["group_name"], "GROUP_NAME");
    assert_eq!(g["order"], 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for item in [g, &g["tag"][0], &g["tag"][1]] {
        let id = item
            .get("id")
            .or(item.get("group_id"))
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.starts_with("et"));
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        let t = item["create_time"].as_i64().unwrap();
        assert!(
            (now - 600..=now + 600).contains(&t),
            "create_time {t} is now"
        );
    }
    assert_eq!(g["tag"][1]["order"], 2);
    let dump = emu.handle.dump();
    let made = dump.iter().find(|g| g.group_name == "GROUP_NAME").unwrap();
    assert_eq!(made.owner.as_deref(), Some("tagsync"));
    assert!(
        made.tag
            .iter()
            .all(|t| t.owner.as_deref() == Some("tagsync"))
    );
    // Larger order first: TAG_NAME_2 lists before TAG_NAME_1.
    assert_eq!(made.tag[0].name, "TAG_NAME_2");
}

#[tokio::test]
async fn add_by_existing_group_name_merges() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_name": "行业", "order": 99, "tag": [{"name": "金融"}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
    assert_eq!(v["tag_group"]["group_id"], ADMIN);
    assert_eq!(
        v["tag_group"]["tag"].as_array().unwrap().len(),
        1,
        "only the new tags"
    );
    let dump = emu.handle.dump();
    assert_eq!(dump.len(), 3, "no second group of that name");
    let g = dump.iter().find(|g| g.group_id == ADMIN).unwrap();
    assert_eq!(
        (g.order, g.owner.as_deref()),
        (20, None),
        "the group keeps its order and owner"
    );
}

#[tokio::test]
async fn add_with_group_id_ignores_name_and_order() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": CRM, "group_name": "别的", "order": 7, "tag": [{"name": "展会"}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
    let g = emu
        .handle
        .dump()
        .into_iter()
        .find(|g| g.group_id == CRM)
        .unwrap();
    assert_eq!((g.group_name.as_str(), g.order), ("来源", 10));
    assert_eq!(g.owner.as_deref(), Some("crm"), "the group stays theirs");
    let new = g.tag.iter().find(|t| t.name == "展会").unwrap();
    assert_eq!(
        new.owner.as_deref(),
        Some("tagsync"),
        "adding into another app's group is allowed; the tag is ours"
    );
}

#[tokio::test]
async fn empty_groups_cannot_be_created() {
    let emu = start_small().await;
    for body in [
        json!({"group_name": "空", "tag": []}),
        json!({"group_id": OURS, "tag": []}),
    ] {
        assert_eq!(
            errcode(&emu.call_as(SECRET, path::ADD_CORP_TAG, body).await),
            code::INVALID_PARAMETER
        );
    }
    assert_eq!(emu.handle.dump(), small_seed());
}

#[tokio::test]
async fn duplicate_names_in_one_add_create_one_tag() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_name": "新组", "tag": [{"name": "甲"}, {"name": "乙"}, {"name": "甲"}]}),
        )
        .await;
    assert_eq!(v["tag_group"]["tag"].as_array().unwrap().len(), 2);
    let dump = emu.handle.dump();
    assert_eq!(
        dump.iter()
            .find(|g| g.group_name == "新组")
            .unwrap()
            .tag
            .len(),
        2
    );
}

#[tokio::test]
async fn add_of_an_existing_name_in_the_group_is_40071() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": OURS, "tag": [{"name": "新"}, {"name": "VIP"}]}),
        )
        .await;
    assert_eq!(errcode(&v), code::TAG_NAME_EXISTS);
    assert_eq!(
        emu.handle.dump(),
        small_seed(),
        "nothing added, not even 新"
    );
    // The same name in another group is fine.
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": CRM, "tag": [{"name": "VIP"}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0);
}

#[tokio::test]
async fn names_are_at_most_30_characters() {
    let emu = start_small().await;
    let ok = "标".repeat(30);
    let long = "标".repeat(31);
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_name": ok, "tag": [{"name": ok}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "30 characters (90 bytes) pass");
    let tag_id = v["tag_group"]["tag"][0]["id"].as_str().unwrap().to_owned();
    let before = emu.handle.dump();
    for body in [
        json!({"group_name": long, "tag": [{"name": "a"}]}),
        json!({"group_name": "短", "tag": [{"name": long}]}),
        json!({"group_name": "", "tag": [{"name": "a"}]}),
        json!({"group_name": "短", "tag": [{"name": ""}]}),
    ] {
        assert_eq!(
            errcode(&emu.call_as(SECRET, path::ADD_CORP_TAG, body).await),
            code::INVALID_PARAMETER
        );
    }
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": tag_id, "name": long}),
        )
        .await;
    assert_eq!(errcode(&v), code::INVALID_PARAMETER);
    assert_eq!(emu.handle.dump(), before);
}

#[tokio::test]
async fn corp_tag_limit_is_40126() {
    let emu = start(EmulatorConfig {
        seed: small_seed(),
        tag_limit: 7,
        ..Default::default()
    })
    .await;
    let three = json!({"group_name": "G", "tag": [{"name": "a"}, {"name": "b"}, {"name": "c"}]});
    assert_eq!(
        errcode(&emu.call_as(SECRET, path::ADD_CORP_TAG, three).await),
        code::TAG_LIMIT
    );
    assert_eq!(emu.handle.dump(), small_seed());
    let two = json!({"group_name": "G", "tag": [{"name": "a"}, {"name": "b"}]});
    assert_eq!(
        errcode(&emu.call_as(SECRET, path::ADD_CORP_TAG, two).await),
        0,
        "exactly at the limit"
    );
}

#[tokio::test]
async fn empty_group_id_is_rejected() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": "", "group_name": "G", "tag": [{"name": "a"}]}),
        )
        .await;
    assert_eq!(errcode(&v), code::INVALID_TAG_ID);
    assert_eq!(emu.handle.dump(), small_seed());
}

#[tokio::test]
async fn order_is_u32() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": VIP, "order": 4294967295u64}),
        )
        .await;
    assert_eq!(errcode(&v), 0);
    for bad in [json!(-1), json!(4294967296u64), json!("1"), json!(1.5)] {
        let v = emu
            .call_as(
                SECRET,
                path::EDIT_CORP_TAG,
                json!({"id": NORMAL, "order": bad}),
            )
            .await;
        assert_eq!(errcode(&v), code::INVALID_PARAMETER, "order {bad}");
    }
    let g = emu
        .handle
        .dump()
        .into_iter()
        .find(|g| g.group_id == OURS)
        .unwrap();
    assert_eq!((g.tag[0].order, g.tag[1].order), (4294967295, 1));
}

// ---- edit_corp_tag ----

#[tokio::test]
async fn vendor_example_edit_renames_and_reorders_in_one_call() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": NORMAL, "name": "NEW_TAG_NAME", "order": 9}),
        )
        .await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok"}));
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": OURS, "name": "等级"}),
        )
        .await;
    assert_eq!(errcode(&v), 0);
    assert_eq!(names(&emu.list_all().await)[0], "等级:NEW_TAG_NAME,VIP");
}

#[tokio::test]
async fn edit_keeps_names_unique() {
    let emu = start_small().await;
    let before = emu.handle.dump();
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": OURS, "name": "行业"}),
        )
        .await;
    assert_eq!(
        errcode(&v),
        code::TAG_NAME_EXISTS,
        "group names are unique among groups"
    );
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": NORMAL, "name": "VIP"}),
        )
        .await;
    assert_eq!(
        errcode(&v),
        code::TAG_NAME_EXISTS,
        "tag names are unique within the group"
    );
    assert_eq!(emu.handle.dump(), before);
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": NORMAL, "name": "零售"}),
        )
        .await;
    assert_eq!(
        errcode(&v),
        0,
        "a tag may share a name with a tag of another group"
    );
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": OURS, "name": "客户等级"}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "renaming to its own name is no clash");
}

#[tokio::test]
async fn edit_of_unknown_or_deleted_id_is_40068() {
    let emu = start_small().await;
    for id in ["etNope00000000000000000000000000", "", "not-an-id"] {
        let v = emu
            .call_as(SECRET, path::EDIT_CORP_TAG, json!({"id": id, "name": "x"}))
            .await;
        assert_eq!(errcode(&v), code::INVALID_TAG_ID, "id {id:?}");
    }
    emu.call_as(SECRET, path::DEL_CORP_TAG, json!({"tag_id": [NORMAL]}))
        .await;
    let v = emu
        .call_as(
            SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": NORMAL, "name": "x"}),
        )
        .await;
    assert_eq!(errcode(&v), code::INVALID_TAG_ID);
}

// ---- del_corp_tag ----

#[tokio::test]
async fn del_needs_some_id() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            SECRET,
            path::DEL_CORP_TAG,
            json!({"tag_id": [], "group_id": []}),
        )
        .await;
    assert_eq!(errcode(&v), code::INVALID_PARAMETER);
}

#[tokio::test]
async fn deleting_the_last_tag_deletes_the_group() {
    let emu = start_small().await;
    let v = emu
        .call_as(SECRET, path::DEL_CORP_TAG, json!({"tag_id": [VIP, NORMAL]}))
        .await;
    assert_eq!(errcode(&v), 0);
    assert!(emu.handle.dump().iter().all(|g| g.group_id != OURS));
    let v = emu
        .call_as(SECRET, path::GET_CORP_TAG_LIST, json!({"group_id": [OURS]}))
        .await;
    assert_eq!(v["tag_group"][0]["deleted"], true);
    let v = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": OURS, "tag": [{"name": "a"}]}),
        )
        .await;
    assert_eq!(errcode(&v), code::INVALID_TAG_ID, "the group id is gone");
}

#[tokio::test]
async fn deleting_a_group_deletes_its_tags() {
    let emu = start_small().await;
    let v = emu
        .call_as(SECRET, path::DEL_CORP_TAG, json!({"group_id": [OURS]}))
        .await;
    assert_eq!(errcode(&v), 0);
    let v = emu
        .call_as(SECRET, path::GET_CORP_TAG_LIST, json!({"tag_id": [VIP]}))
        .await;
    assert_eq!(v["tag_group"][0]["tag"][0]["deleted"], true);
    assert_eq!(
        names(&emu.list_all().await),
        ["行业:制造业,零售", "来源:官网"]
    );
}

#[tokio::test]
async fn del_is_all_or_nothing() {
    let emu = start_small().await;
    let cases = [
        (json!({"tag_id": [VIP, RETAIL]}), code::NO_PRIVILEGE),
        (
            json!({"tag_id": [VIP], "group_id": [CRM]}),
            code::NO_PRIVILEGE,
        ),
        (
            json!({"tag_id": [VIP, "etNope00000000000000000000000000"]}),
            code::INVALID_TAG_ID,
        ),
        (json!({"tag_id": [OURS]}), code::INVALID_TAG_ID),
        (json!({"group_id": [VIP]}), code::INVALID_TAG_ID),
    ];
    for (body, want) in cases {
        let v = emu.call_as(SECRET, path::DEL_CORP_TAG, body.clone()).await;
        assert_eq!(errcode(&v), want, "{body}");
        assert_eq!(emu.handle.dump(), small_seed(), "{body} changed nothing");
    }
}

#[tokio::test]
async fn vendor_example_del_takes_tags_and_groups_in_one_call() {
    let emu = start_small().await;
    let made = emu
        .call_as(
            SECRET,
            path::ADD_CORP_TAG,
            json!({"group_name": "临时", "tag": [{"name": "a"}, {"name": "b"}]}),
        )
        .await;
    let group = made["tag_group"]["group_id"].as_str().unwrap().to_owned();
    let v = emu
        .call_as(
            SECRET,
            path::DEL_CORP_TAG,
            json!({"tag_id": [NORMAL], "group_id": [group]}),
        )
        .await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(
        names(&emu.list_all().await),
        ["客户等级:VIP", "行业:制造业,零售", "来源:官网"]
    );
    let again = emu
        .call_as(SECRET, path::DEL_CORP_TAG, json!({"tag_id": [NORMAL]}))
        .await;
    assert_eq!(
        errcode(&again),
        code::INVALID_TAG_ID,
        "a deleted id cannot be deleted again"
    );
}

// ---- ownership ----

#[tokio::test]
async fn foreign_items_are_read_only_to_an_app() {
    let emu = start_small().await;
    for (id, who) in [
        (RETAIL, "admin console"),
        (ADMIN, "admin console"),
        (WEB, "crm"),
        (CRM, "crm"),
    ] {
        let v = emu
            .call_as(SECRET, path::EDIT_CORP_TAG, json!({"id": id, "name": "改"}))
            .await;
        assert_eq!(errcode(&v), code::NO_PRIVILEGE, "edit of {who}'s {id}");
        let key = if id.starts_with("etGroup") {
            "group_id"
        } else {
            "tag_id"
        };
        let v = emu
            .call_as(SECRET, path::DEL_CORP_TAG, json!({ key: [id] }))
            .await;
        assert_eq!(errcode(&v), code::NO_PRIVILEGE, "delete of {who}'s {id}");
    }
    assert_eq!(emu.handle.dump(), small_seed());
    // The other app may change its own items but not ours.
    assert_eq!(
        errcode(
            &emu.call_as(
                OTHER_SECRET,
                path::EDIT_CORP_TAG,
                json!({"id": WEB, "order": 3})
            )
            .await
        ),
        0
    );
    assert_eq!(
        errcode(
            &emu.call_as(
                OTHER_SECRET,
                path::EDIT_CORP_TAG,
                json!({"id": VIP, "order": 3})
            )
            .await
        ),
        code::NO_PRIVILEGE
    );
}

#[tokio::test]
async fn legacy_secret_may_change_everything() {
    let emu = start_small().await;
    let v = emu
        .call_as(
            LEGACY_SECRET,
            path::EDIT_CORP_TAG,
            json!({"id": RETAIL, "name": "零售业"}),
        )
        .await;
    assert_eq!(errcode(&v), 0);
    let v = emu
        .call_as(
            LEGACY_SECRET,
            path::DEL_CORP_TAG,
            json!({"group_id": [CRM], "tag_id": [VIP]}),
        )
        .await;
    assert_eq!(errcode(&v), 0);
    assert_eq!(
        names(&emu.list_all().await),
        ["客户等级:普通客户", "行业:制造业,零售业"]
    );
}

// ---- bad input ----

#[tokio::test]
async fn bad_bodies_are_40058_and_change_nothing() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed", b"{\"group_name\": \"G\", ".to_vec()),
        ("not an object", b"[1,2]".to_vec()),
        ("empty", Vec::new()),
        (
            "wrong type",
            br#"{"group_name": 5, "tag": [{"name": "a"}]}"#.to_vec(),
        ),
        (
            "tag not a list",
            br#"{"group_name": "G", "tag": {"name": "a"}}"#.to_vec(),
        ),
        ("missing tag", br#"{"group_name": "G"}"#.to_vec()),
        (
            "tag without name",
            br#"{"group_name": "G", "tag": [{"order": 1}]}"#.to_vec(),
        ),
        ("no group", br#"{"tag": [{"name": "a"}]}"#.to_vec()),
    ];
    for (what, body) in bodies {
        let resp = emu.post_raw(path::ADD_CORP_TAG, Some(&token), body).await;
        assert_eq!(resp.status(), 200, "{what}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(errcode(&v), code::INVALID_PARAMETER, "{what}: {v}");
    }
    let v = emu
        .call(path::EDIT_CORP_TAG, &token, json!({"name": "x"}))
        .await;
    assert_eq!(errcode(&v), code::INVALID_PARAMETER, "edit without id");
    let v = emu
        .call(path::DEL_CORP_TAG, &token, json!({"tag_id": VIP}))
        .await;
    assert_eq!(errcode(&v), code::INVALID_PARAMETER, "tag_id not a list");
    assert_eq!(emu.handle.dump(), small_seed());
}

#[tokio::test]
async fn ten_megabyte_body_is_refused() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let filler = "x".repeat(10 * 1024 * 1024);
    let body =
        serde_json::to_vec(&json!({"group_name": "G", "tag": [{"name": "a"}], "pad": filler}))
            .unwrap();
    let resp = emu.post_raw(path::ADD_CORP_TAG, Some(&token), body).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(errcode(&v), code::INVALID_PARAMETER);
    assert_eq!(emu.handle.dump(), small_seed());
}

#[tokio::test]
async fn unknown_endpoints_are_http_404() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let resp = emu
        .post_raw(
            "externalcontact/move_corp_tag",
            Some(&token),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(resp.status(), 404);
    let text = resp.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not JSON: {text}"
    );
}

#[tokio::test]
async fn tag_calls_need_post() {
    let emu = start_small().await;
    let token = emu.token(SECRET).await;
    let url = emu.url_q(path::GET_CORP_TAG_LIST, &[("access_token", token.as_str())]);
    let v = fetch_json(emu.http.get(url)).await;
    assert_eq!(errcode(&v), 43002);
}

// ---- limits ----

#[tokio::test]
async fn frequency_limit_per_app_is_45009() {
    let emu = start(EmulatorConfig {
        apps: three_apps(),
        rate_limit_per_minute: Some(3),
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    for _ in 0..3 {
        assert_eq!(
            errcode(&emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await),
            0
        );
    }
    let v = emu
        .call(
            path::ADD_CORP_TAG,
            &token,
            json!({"group_name": "G", "tag": [{"name": "a"}]}),
        )
        .await;
    assert_eq!(errcode(&v), code::FREQUENCY_LIMIT);
    assert!(
        emu.handle.dump().is_empty(),
        "the refused add changed nothing"
    );
    let other = emu.token(OTHER_SECRET).await;
    assert_eq!(
        errcode(&emu.call(path::GET_CORP_TAG_LIST, &other, json!({})).await),
        0,
        "per app"
    );
}

#[tokio::test]
async fn concurrency_limit_per_app_is_45033() {
    use tagsync::emulator::Faults;
    let emu = start(EmulatorConfig {
        concurrency_limit: Some(1),
        faults: Faults::none().latency(CallKind::List, Duration::from_millis(400), Duration::ZERO),
        ..Default::default()
    })
    .await;
    let token = emu.token(SECRET).await;
    // Both calls are held 400 ms by latency, so they overlap whoever arrives first.
    let (a, b) = tokio::join!(
        emu.call(path::GET_CORP_TAG_LIST, &token, json!({})),
        emu.call(path::GET_CORP_TAG_LIST, &token, json!({}))
    );
    let mut codes = [errcode(&a), errcode(&b)];
    codes.sort();
    assert_eq!(codes, [0, code::CONCURRENCY_LIMIT]);
    assert_eq!(
        errcode(&emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await),
        0,
        "free again"
    );
}

// ---- call log ----

#[tokio::test]
async fn every_call_is_logged() {
    let emu = start_small().await;
    emu.call_as(
        SECRET,
        path::EDIT_CORP_TAG,
        json!({"id": RETAIL, "name": "x"}),
    )
    .await;
    let calls = emu.handle.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].kind, CallKind::GetToken);
    assert_eq!(calls[0].app.as_deref(), Some("tagsync"));
    assert_eq!(calls[1].kind, CallKind::Edit);
    assert_eq!(calls[1].body, json!({"id": RETAIL, "name": "x"}));
    assert_eq!(calls[1].errcode, Some(code::NO_PRIVILEGE));
    assert_eq!(calls[1].fault, None);
    let log = format!("{calls:?}");
    assert!(!log.contains(SECRET), "no secret in the log");
}

// ---- third-party apps: get_suite_token, get_corp_token ----

const SUITE_SECRET: &str = "suite-secret";
const SUITE_TICKET: &str = "suite-ticket";
const PERMANENT_CODE: &str = "permanent-code";

/// The small corp with a suite whose permanent code gives tokens of `crm`.
async fn start_with_suite() -> Emu {
    start(EmulatorConfig {
        apps: three_apps(),
        seed: small_seed(),
        suites: vec![Suite {
            suite_id: "wwsuite".into(),
            suite_secret: SUITE_SECRET.into(),
            suite_ticket: SUITE_TICKET.into(),
            permanent_code: PERMANENT_CODE.into(),
            app: "crm".into(),
        }],
        ..Default::default()
    })
    .await
}

impl Emu {
    async fn suite_token_raw(&self, secret: &str, ticket: &str) -> Value {
        let body = json!({"suite_id": "wwsuite", "suite_secret": secret, "suite_ticket": ticket});
        fetch_json(self.http.post(self.url(path::GET_SUITE_TOKEN)).json(&body)).await
    }

    async fn corp_token_raw(&self, suite_token: &str, corp_id: &str, code: &str) -> Value {
        let url = self.url_q(path::GET_CORP_TOKEN, &[("suite_access_token", suite_token)]);
        let body = json!({"auth_corpid": corp_id, "permanent_code": code});
        fetch_json(self.http.post(url).json(&body)).await
    }
}

#[tokio::test]
async fn suite_flow_gives_a_token_of_the_suites_app() {
    let emu = start_with_suite().await;
    let suite = emu.suite_token_raw(SUITE_SECRET, SUITE_TICKET).await;
    assert_eq!(errcode(&suite), 0, "{suite}");
    assert!(
        suite["expires_in"].as_u64().is_some_and(|s| s > 0),
        "{suite}"
    );
    let suite_token = suite["suite_access_token"].as_str().expect("suite token");
    let corp = emu
        .corp_token_raw(suite_token, &emu.corp_id, PERMANENT_CODE)
        .await;
    let keys: Vec<&String> = corp.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["access_token", "expires_in"], "no errcode: {corp}");
    let token = corp["access_token"].as_str().unwrap();
    // The token acts as `crm`: it may edit what crm made, not what tagsync made.
    let v = emu
        .call(path::EDIT_CORP_TAG, token, json!({"id": WEB, "order": 5}))
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
    let v = emu
        .call(path::EDIT_CORP_TAG, token, json!({"id": VIP, "order": 5}))
        .await;
    assert_eq!(errcode(&v), code::NO_PRIVILEGE, "{v}");
    // The suite calls are logged without their bodies (they hold secrets).
    let calls = emu.handle.calls();
    assert_eq!(calls[0].kind, CallKind::GetSuiteToken);
    assert_eq!(calls[1].kind, CallKind::GetCorpToken);
    assert_eq!(calls[1].app.as_deref(), Some("crm"));
    let log = format!("{calls:?}");
    for secret in [SUITE_SECRET, SUITE_TICKET, PERMANENT_CODE] {
        assert!(!log.contains(secret), "{log}");
    }
}

#[tokio::test]
async fn suite_flow_refusals() {
    let emu = start_with_suite().await;
    assert_eq!(
        errcode(&emu.suite_token_raw("wrong", SUITE_TICKET).await),
        code::INVALID_SECRET
    );
    assert_eq!(
        errcode(&emu.suite_token_raw(SUITE_SECRET, "stale").await),
        code::INVALID_SUITE_TICKET
    );
    let other_suite =
        json!({"suite_id": "nope", "suite_secret": SUITE_SECRET, "suite_ticket": SUITE_TICKET});
    let v = fetch_json(
        emu.http
            .post(emu.url(path::GET_SUITE_TOKEN))
            .json(&other_suite),
    )
    .await;
    assert_eq!(errcode(&v), code::INVALID_SUITE_ID);
    let v = fetch_json(emu.http.post(emu.url(path::GET_SUITE_TOKEN)).body("{")).await;
    assert_eq!(errcode(&v), code::INVALID_PARAMETER);
    let v = fetch_json(emu.http.get(emu.url(path::GET_SUITE_TOKEN))).await;
    assert_eq!(errcode(&v), 43002, "POST only");

    let suite = emu.suite_token_raw(SUITE_SECRET, SUITE_TICKET).await;
    let suite_token = suite["suite_access_token"].as_str().unwrap();
    for (token, corp, permanent, want) in [
        (
            "unknown",
            emu.corp_id.as_str(),
            PERMANENT_CODE,
            code::INVALID_SUITE_TOKEN,
        ),
        (
            suite_token,
            emu.corp_id.as_str(),
            "wrong",
            code::INVALID_PERMANENT_CODE,
        ),
        (
            suite_token,
            "ww-other-corp",
            PERMANENT_CODE,
            code::INVALID_PERMANENT_CODE,
        ),
    ] {
        let v = emu.corp_token_raw(token, corp, permanent).await;
        assert_eq!(errcode(&v), want, "{v}");
    }
    emu.handle.expire_tokens();
    let v = emu
        .corp_token_raw(suite_token, &emu.corp_id, PERMANENT_CODE)
        .await;
    assert_eq!(errcode(&v), code::SUITE_TOKEN_EXPIRED, "{v}");
}

// ---- app access: tag permission, trusted IPs ----

#[tokio::test]
async fn an_app_without_tag_permission_may_list_but_not_change() {
    let mut config = EmulatorConfig {
        apps: three_apps(),
        seed: small_seed(),
        ..Default::default()
    };
    config.access.insert(
        "tagsync".into(),
        AppAccess {
            manage_tags: false,
            allowed_ips: None,
        },
    );
    let emu = start(config).await;
    let before = emu.handle.dump();
    let token = emu.token(SECRET).await;
    assert_eq!(
        errcode(&emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await),
        0
    );
    let calls = [
        (
            path::ADD_CORP_TAG,
            json!({"group_id": OURS, "tag": [{"name": "新"}]}),
        ),
        (path::EDIT_CORP_TAG, json!({"id": VIP, "name": "x"})),
        (path::DEL_CORP_TAG, json!({"tag_id": [NORMAL]})),
    ];
    for (p, body) in calls {
        let v = emu.call(p, &token, body).await;
        assert_eq!(errcode(&v), code::API_NOT_PERMITTED, "{p}: {v}");
    }
    assert_eq!(emu.handle.dump(), before, "nothing changed");
    // Another app is not affected.
    let v = emu
        .call_as(OTHER_SECRET, path::DEL_CORP_TAG, json!({"tag_id": [WEB]}))
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
}

#[tokio::test]
async fn a_call_from_outside_the_trusted_ips_is_60020_and_uses_no_fault() {
    use tagsync::emulator::{FaultKind, Faults};
    let mut config = EmulatorConfig {
        apps: three_apps(),
        seed: small_seed(),
        faults: Faults::none().script(CallKind::List, 1, FaultKind::SystemBusy),
        ..Default::default()
    };
    let only = |ip: &str| AppAccess {
        allowed_ips: Some(vec![ip.parse().unwrap()]),
        ..Default::default()
    };
    config.access.insert("tagsync".into(), only("192.0.2.7"));
    config.access.insert("crm".into(), only("::ffff:127.0.0.1"));
    let emu = start(config).await;
    let token = emu.token(SECRET).await;
    let v = emu.call(path::GET_CORP_TAG_LIST, &token, json!({})).await;
    assert_eq!(errcode(&v), code::IP_NOT_TRUSTED, "{v}");
    // The refused call left the scripted fault for the next eligible call; an
    // IPv4-mapped address in the list matches the IPv4 caller.
    let crm = emu.token(OTHER_SECRET).await;
    let v = emu.call(path::GET_CORP_TAG_LIST, &crm, json!({})).await;
    assert_eq!(errcode(&v), code::SYSTEM_BUSY, "{v}");
    let v = emu.call(path::GET_CORP_TAG_LIST, &crm, json!({})).await;
    assert_eq!(errcode(&v), 0, "{v}");
}

#[test]
fn apps_file_sets_access_and_suites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apps.yaml");
    std::fs::write(
        &path,
        "corp_id: ww1\napps:\n  - name: a\n    secret: s\n    manage_tags: false\n  - name: b\n    secret: t\n    allowed_ips: [127.0.0.1, '::1']\nsuites:\n  - suite_id: su\n    suite_secret: ss\n    suite_ticket: tk\n    permanent_code: perm-code-xyz\n    app: b\n",
    )
    .unwrap();
    let config = config_from_files(None, Some(&path)).expect("loads");
    assert!(!config.access["a"].manage_tags);
    assert_eq!(
        config.access["b"].allowed_ips.as_ref().map(Vec::len),
        Some(2)
    );
    assert!(config.access["b"].manage_tags);
    assert_eq!(config.suites.len(), 1);
    assert_eq!(config.suites[0].app, "b");
    assert!(
        !format!("{config:?}").contains("pc"),
        "permanent code hidden"
    );

    std::fs::write(
        &path,
        "corp_id: ww1\napps:\n  - name: a\n    secret: s\n    allowed_ips: [localhost]\n",
    )
    .unwrap();
    assert!(config_from_files(None, Some(&path)).is_err(), "not an IP");
}

#[tokio::test]
async fn suites_and_access_must_name_apps() {
    let mut config = EmulatorConfig::default();
    config.access.insert("ghost".into(), AppAccess::default());
    assert!(tagsync::emulator::start(config).await.is_err());
    let config = EmulatorConfig {
        suites: vec![Suite {
            suite_id: "su".into(),
            suite_secret: "ss".into(),
            suite_ticket: "tk".into(),
            permanent_code: "pc".into(),
            app: "ghost".into(),
        }],
        ..Default::default()
    };
    let e = tagsync::emulator::start(config).await.unwrap_err();
    assert!(e.to_string().contains("ghost"), "{e}");
}

#[tokio::test]
async fn the_state_dump_is_served_in_the_seed_shape_and_loads_as_a_seed() {
    let emu = start_small().await;
    let base = emu.handle.base_url();
    let root = base.trim_end_matches('/').trim_end_matches("/cgi-bin");
    let v = fetch_json(emu.http.get(format!("{root}/emulator/state"))).await;
    assert_eq!(errcode(&v), 0);
    let file: tagsync::emulator::SeedFile = serde_json::from_value(v).expect("seed shape");
    assert_eq!(file.tag_group, emu.handle.dump());
    assert!(
        file.tag_group.iter().any(|g| g.owner.is_some()),
        "owners kept"
    );
}

// ---- The profile: each switch changes the answer as docs/emulator-fidelity.md says. ----

/// The small corp answering as `profile` (three apps).
async fn start_as(profile: tagsync::emulator::Profile) -> Emu {
    start(EmulatorConfig {
        apps: three_apps(),
        seed: small_seed(),
        profile,
        ..Default::default()
    })
    .await
}

fn with(f: impl FnOnce(&mut tagsync::emulator::Profile)) -> tagsync::emulator::Profile {
    let mut p = tagsync::emulator::Profile::default();
    f(&mut p);
    p
}

async fn add_named(emu: &Emu, group: Value, tags: &[&str]) -> Value {
    let mut body = group;
    body["tag"] = tags.iter().map(|n| json!({ "name": n })).collect();
    emu.call_as(SECRET, path::ADD_CORP_TAG, body).await
}

#[tokio::test]
async fn profile_name_count_decides_what_30_counts() {
    use tagsync::emulator::NameCount;
    let emoji = "😀".repeat(16); // 16 scalars, 32 UTF-16 units, 64 bytes
    let cjk = "标".repeat(11); // 11 scalars and units, 33 bytes
    for (count, emoji_ok, cjk_ok) in [
        (NameCount::Scalars, true, true),
        (NameCount::Utf16, false, true),
        (NameCount::Bytes, false, false),
    ] {
        let emu = start_as(with(|p| p.name_count = count)).await;
        for (name, ok) in [(&emoji, emoji_ok), (&cjk, cjk_ok)] {
            let v = add_named(&emu, json!({ "group_id": OURS }), &[name]).await;
            let want = if ok { 0 } else { code::INVALID_PARAMETER };
            assert_eq!(errcode(&v), want, "{count:?} {name}: {v}");
        }
    }
}

#[tokio::test]
async fn profile_name_trim_stores_names_trimmed() {
    use tagsync::emulator::NameTrim;
    for (trim, stored) in [(NameTrim::Kept, " 新 "), (NameTrim::Trimmed, "新")] {
        let emu = start_as(with(|p| p.name_trim = trim)).await;
        let v = add_named(&emu, json!({ "group_id": OURS }), &[" 新 "]).await;
        assert_eq!(v["tag_group"]["tag"][0]["name"], stored, "{v}");
    }
}

#[tokio::test]
async fn profile_ownership_errcode_is_the_code_of_every_ownership_refusal() {
    for c in [code::NO_PRIVILEGE, code::NO_PRIVILEGE_ALT, 48002] {
        let emu = start_as(with(|p| p.ownership_errcode = c)).await;
        let edit = json!({ "id": WEB, "name": "x" });
        let v = emu.call_as(SECRET, path::EDIT_CORP_TAG, edit).await;
        assert_eq!(errcode(&v), c, "{v}");
        let del = json!({ "tag_id": [WEB] });
        let v = emu.call_as(SECRET, path::DEL_CORP_TAG, del).await;
        assert_eq!(errcode(&v), c, "{v}");
    }
}

#[tokio::test]
async fn profile_foreign_group_adds_refused_by_id_and_by_name_merge() {
    use tagsync::emulator::ForeignGroupAdds;
    let emu = start_as(with(|p| p.foreign_group_adds = ForeignGroupAdds::Refused)).await;
    for group in [
        json!({ "group_id": ADMIN }),
        json!({ "group_name": "来源" }),
    ] {
        let v = add_named(&emu, group, &["新"]).await;
        assert_eq!(errcode(&v), code::NO_PRIVILEGE, "{v}");
    }
    let v = add_named(&emu, json!({ "group_id": OURS }), &["新"]).await;
    assert_eq!(errcode(&v), 0, "our own group: {v}");
    // The legacy secret may add anywhere; by default any app may.
    let v = emu
        .call_as(
            LEGACY_SECRET,
            path::ADD_CORP_TAG,
            json!({"group_id": ADMIN, "tag": [{"name": "新"}]}),
        )
        .await;
    assert_eq!(errcode(&v), 0, "{v}");
    let emu = start_small().await;
    let v = add_named(&emu, json!({ "group_id": ADMIN }), &["新"]).await;
    assert_eq!(errcode(&v), 0, "{v}");
}

#[tokio::test]
async fn profile_foreign_group_delete_refused_keeps_the_group() {
    use tagsync::emulator::ForeignGroupDelete;
    for (mode, want) in [
        (ForeignGroupDelete::Removes, 0),
        (ForeignGroupDelete::Refused, code::NO_PRIVILEGE),
    ] {
        let emu = start_as(with(|p| p.foreign_group_delete = mode)).await;
        let v = emu
            .call_as(
                OTHER_SECRET,
                path::ADD_CORP_TAG,
                json!({"group_id": OURS, "tag": [{"name": "crm的"}]}),
            )
            .await;
        assert_eq!(errcode(&v), 0, "{v}");
        let del = json!({ "group_id": [OURS] });
        let v = emu.call_as(SECRET, path::DEL_CORP_TAG, del).await;
        assert_eq!(errcode(&v), want, "{mode:?}: {v}");
        let still = names(&emu.list_all().await)
            .iter()
            .any(|g| g.starts_with("客户等级:"));
        assert_eq!(still, mode == ForeignGroupDelete::Refused, "{mode:?}");
    }
}

#[tokio::test]
async fn profile_del_invalid_ids_all_or_nothing_partial_or_ignore_deleted() {
    use tagsync::emulator::DelInvalidIds;
    // NORMAL is deleted first; then one call names it, VIP... and RETAIL is not ours.
    for (mode, deleted_id, want, vip_gone) in [
        (
            DelInvalidIds::AllOrNothing,
            NORMAL,
            code::INVALID_TAG_ID,
            false,
        ),
        (DelInvalidIds::Partial, NORMAL, code::INVALID_TAG_ID, true),
        (DelInvalidIds::IgnoreDeleted, NORMAL, 0, true),
        (
            DelInvalidIds::IgnoreDeleted,
            "etNeverMade",
            code::INVALID_TAG_ID,
            false,
        ),
    ] {
        let emu = start_as(with(|p| p.del_invalid_ids = mode)).await;
        let first = json!({ "tag_id": [NORMAL] });
        assert_eq!(
            errcode(&emu.call_as(SECRET, path::DEL_CORP_TAG, first).await),
            0
        );
        let del = json!({ "tag_id": [deleted_id, VIP] });
        let v = emu.call_as(SECRET, path::DEL_CORP_TAG, del).await;
        assert_eq!(errcode(&v), want, "{mode:?} {deleted_id}: {v}");
        let gone = !names(&emu.list_all().await)
            .iter()
            .any(|g| g.contains("VIP"));
        assert_eq!(gone, vip_gone, "{mode:?} {deleted_id}");
    }
    // Partial also applies around an ownership refusal.
    let emu = start_as(with(|p| p.del_invalid_ids = DelInvalidIds::Partial)).await;
    let v = emu
        .call_as(
            SECRET,
            path::DEL_CORP_TAG,
            json!({ "tag_id": [RETAIL, VIP] }),
        )
        .await;
    assert_eq!(errcode(&v), code::NO_PRIVILEGE, "{v}");
    assert!(
        !names(&emu.list_all().await)
            .iter()
            .any(|g| g.contains("VIP"))
    );
}

#[tokio::test]
async fn profile_merge_order_kept_or_applied() {
    use tagsync::emulator::MergeOrder;
    for (mode, order) in [(MergeOrder::Kept, 30), (MergeOrder::Applied, 99)] {
        let emu = start_as(with(|p| p.merge_order = mode)).await;
        let v = add_named(
            &emu,
            json!({"group_name": "客户等级", "order": 99}),
            &["新"],
        )
        .await;
        assert_eq!(v["tag_group"]["group_id"], OURS, "{v}");
        assert_eq!(v["tag_group"]["order"], order, "{mode:?}: {v}");
        // By group_id the order is ignored whatever the switch (the vendor says so).
        let v = add_named(&emu, json!({"group_id": OURS, "order": 7}), &["新2"]).await;
        assert_eq!(v["tag_group"]["order"], order, "{mode:?}: {v}");
    }
}

#[tokio::test]
async fn profile_group_deleted_flag_on_lookups_by_group_id() {
    use tagsync::emulator::GroupDeletedFlag;
    for (mode, flagged) in [
        (GroupDeletedFlag::Flagged, true),
        (GroupDeletedFlag::Unflagged, false),
    ] {
        let emu = start_as(with(|p| p.group_deleted_flag = mode)).await;
        let del = json!({ "group_id": [OURS] });
        assert_eq!(
            errcode(&emu.call_as(SECRET, path::DEL_CORP_TAG, del).await),
            0
        );
        let by_group = json!({ "group_id": [OURS] });
        let v = emu.call_as(SECRET, path::GET_CORP_TAG_LIST, by_group).await;
        let g = &v["tag_group"][0];
        assert_eq!(g["deleted"].as_bool().unwrap_or(false), flagged, "{v}");
        assert_eq!(
            g["tag"][0]["deleted"], true,
            "tags are flagged either way: {v}"
        );
        // By tag id the group's flag comes whatever the switch (the vendor says so).
        let by_tag = json!({ "tag_id": [VIP] });
        let v = emu.call_as(SECRET, path::GET_CORP_TAG_LIST, by_tag).await;
        assert_eq!(v["tag_group"][0]["deleted"], true, "{v}");
    }
}

#[tokio::test]
async fn profile_deleted_false_omitted_or_sent() {
    use tagsync::emulator::DeletedFalse;
    for (mode, sent) in [(DeletedFalse::Omitted, false), (DeletedFalse::Sent, true)] {
        let emu = start_as(with(|p| p.deleted_false = mode)).await;
        let v = emu.list_all().await;
        let g = &v["tag_group"][0];
        assert_eq!(g.get("deleted") == Some(&json!(false)), sent, "{v}");
        assert_eq!(
            g["tag"][0].get("deleted") == Some(&json!(false)),
            sent,
            "{v}"
        );
    }
}

#[tokio::test]
async fn profile_empty_edit_refused_or_accepted() {
    use tagsync::emulator::EmptyEdit;
    for (mode, want) in [
        (EmptyEdit::Refused, code::INVALID_PARAMETER),
        (EmptyEdit::Accepted, 0),
    ] {
        let emu = start_as(with(|p| p.empty_edit = mode)).await;
        let before = emu.list_all().await;
        let v = emu
            .call_as(SECRET, path::EDIT_CORP_TAG, json!({ "id": VIP }))
            .await;
        assert_eq!(errcode(&v), want, "{mode:?}: {v}");
        assert_eq!(emu.list_all().await, before);
        // Not one's own: still the ownership refusal.
        let v = emu
            .call_as(SECRET, path::EDIT_CORP_TAG, json!({ "id": WEB }))
            .await;
        let want = if mode == EmptyEdit::Accepted {
            code::NO_PRIVILEGE
        } else {
            want
        };
        assert_eq!(errcode(&v), want, "{mode:?}: {v}");
    }
}

#[tokio::test]
async fn profile_list_ties_oldest_or_newest_first() {
    use tagsync::emulator::ListTies;
    // 行业's two tags have equal order and create_time: seed order decides.
    for (mode, want) in [
        (ListTies::OldestFirst, "行业:制造业,零售"),
        (ListTies::NewestFirst, "行业:零售,制造业"),
    ] {
        let emu = start_as(with(|p| p.list_ties = mode)).await;
        let all = names(&emu.list_all().await);
        assert!(all.iter().any(|g| g == want), "{mode:?}: {all:?}");
    }
}

#[tokio::test]
async fn profile_unknown_lookup_ids_omitted_or_refused() {
    use tagsync::emulator::UnknownLookupIds;
    for (mode, want) in [
        (UnknownLookupIds::Omitted, 0),
        (UnknownLookupIds::Refused, code::INVALID_TAG_ID),
    ] {
        let emu = start_as(with(|p| p.unknown_lookup_ids = mode)).await;
        for body in [
            json!({ "group_id": [OURS, "etNeverMade"] }),
            json!({ "tag_id": [VIP, "etNeverMade"] }),
        ] {
            let v = emu.call_as(SECRET, path::GET_CORP_TAG_LIST, body).await;
            assert_eq!(errcode(&v), want, "{mode:?}: {v}");
        }
    }
}

#[tokio::test]
async fn profile_existing_tag_name_refused_or_skipped() {
    use tagsync::emulator::ExistingTagName;
    let emu = start_as(with(|p| p.existing_tag_name = ExistingTagName::Skipped)).await;
    let v = add_named(&emu, json!({ "group_id": OURS }), &["VIP", "新"]).await;
    assert_eq!(errcode(&v), 0, "{v}");
    let made: Vec<&str> = v["tag_group"]["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(made, ["新"], "{v}");
    let emu = start_small().await;
    let v = add_named(&emu, json!({ "group_id": OURS }), &["VIP", "新"]).await;
    assert_eq!(errcode(&v), code::TAG_NAME_EXISTS, "{v}");
}

#[tokio::test]
async fn profile_is_read_from_the_apps_file() {
    let dir = tempfile::tempdir().unwrap();
    let apps = dir.path().join("apps.yaml");
    std::fs::write(
        &apps,
        "corp_id: ww1\napps:\n  - name: a\n    secret: s\nprofile:\n  name_count: bytes\n  ownership_errcode: 301002\n",
    )
    .unwrap();
    let config = config_from_files(None, Some(&apps)).unwrap();
    assert_eq!(
        config.profile.name_count,
        tagsync::emulator::NameCount::Bytes
    );
    assert_eq!(config.profile.ownership_errcode, 301002);
    assert_eq!(
        config.profile.del_invalid_ids,
        tagsync::emulator::DelInvalidIds::AllOrNothing
    );
    std::fs::write(
        &apps,
        "corp_id: ww1\napps:\n  - name: a\n    secret: s\nprofile:\n  name_cuont: bytes\n",
    )
    .unwrap();
    let e = config_from_files(None, Some(&apps))
        .unwrap_err()
        .to_string();
    assert!(e.contains("name_cuont") && e.contains("profile?"), "{e}");
}
