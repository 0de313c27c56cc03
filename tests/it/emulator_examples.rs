//! `examples/corp.json` (generated here, committed) and `examples/apps.yaml`, and
//! `tagsync emulator` run as a process with them.
//!
//! Regenerate the corp with `TAGSYNC_REGEN_EXAMPLES=1 cargo test --test emulator_examples`.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{errcode, fetch_json};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tagsync::emulator::{self, EmulatorConfig, SeedFile, SeedGroup, SeedTag};
use tagsync::wire::{self, path};

const CORP: &str = "examples/corp.json";
const APPS: &str = "examples/apps.yaml";

/// A WeCom-shaped id (`et` + 30 of [A-Za-z0-9_-]) derived from `key`.
fn id_for(key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let digest = Sha256::digest(key.as_bytes());
    let tail: String = digest
        .iter()
        .take(30)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("et{tail}")
}

const CITIES: &str = "北京 上海 广州 深圳 天津 重庆 成都 杭州 武汉 西安 南京 苏州 郑州 长沙 \
    东莞 沈阳 青岛 合肥 佛山 宁波 昆明 福州 无锡 厦门 哈尔滨 长春 南昌 济南 大连 贵阳 温州 石家庄 \
    泉州 南宁 金华 常州 珠海 惠州 嘉兴 南通 中山 保定 兰州 台州 徐州 太原 绍兴 烟台 廊坊 海口 \
    乌鲁木齐 呼和浩特 银川 西宁 拉萨 扬州 盐城 洛阳 潍坊 临沂 唐山 镇江 芜湖 赣州 桂林 三亚 \
    宜昌 襄阳 岳阳 株洲 湛江 汕头 江门 绵阳 遵义 柳州 淄博 济宁 泰州 湖州 威海 秦皇岛 大庆 吉林";

/// The demo corp: admin-console groups, groups made by tagsync, one made by another app
/// (`crm`), and tagsync's tags added into admin groups. Orders descend so the seed is
/// already in list order.
fn demo_corp() -> Vec<SeedGroup> {
    let products: Vec<String> = ["旗舰版", "专业版", "标准版", "企业定制"]
        .iter()
        .flat_map(|p| (1..=30).map(move |i| format!("{p}-{i:02}")))
        .collect();
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let groups: Vec<(&str, Option<&str>, Vec<String>)> = vec![
        (
            "客户等级",
            None,
            words("VIP 重要客户 普通客户 潜在客户 流失客户"),
        ),
        (
            "来源渠道",
            Some("tagsync"),
            words(
                "官网 展会 转介绍 电话营销 线上广告 公众号 小程序 抖音 小红书 微博 线下门店 合作伙伴",
            ),
        ),
        (
            "行业",
            None,
            words(
                "制造业 零售 金融 教育 医疗 互联网 房地产 物流 餐饮 旅游 汽车 能源 农业 建筑 传媒 政府机构",
            ),
        ),
        ("地区", Some("tagsync"), words(CITIES)),
        ("产品意向", Some("tagsync"), products),
        (
            "跟进阶段",
            Some("tagsync"),
            words("初次接触 需求确认 方案报价 商务谈判 已成交 售后服务 暂停跟进"),
        ),
        (
            "客户规模",
            None,
            words("1-50人 51-200人 201-1000人 1000人以上"),
        ),
        (
            "兴趣爱好",
            Some("crm"),
            words("运动健身 旅行 美食 摄影 阅读 音乐 电影 游戏 宠物 亲子 户外 茶文化"),
        ),
    ];
    let n = groups.len() as u32;
    let mut clock = 1_650_000_000_i64;
    groups
        .into_iter()
        .enumerate()
        .map(|(gi, (name, owner, tags))| {
            clock += 86_400;
            let count = tags.len() as u32;
            let tag = tags
                .iter()
                .enumerate()
                .map(|(ti, t)| {
                    // tagsync added the last two tags of admin groups later.
                    let added_later = owner.is_none() && ti + 2 >= tags.len() && tags.len() > 4;
                    SeedTag {
                        tag: wire::Tag {
                            id: id_for(&format!("tag/{name}/{t}")),
                            name: t.clone(),
                            create_time: clock
                                + ti as i64
                                + if added_later { 3_000_000 } else { 0 },
                            order: (count - ti as u32) * 10,
                            deleted: false,
                        },
                        owner: if added_later {
                            Some("tagsync".into())
                        } else {
                            owner.map(String::from)
                        },
                    }
                })
                .collect();
            SeedGroup {
                group: wire::TagGroup {
                    group_id: id_for(&format!("group/{name}")),
                    group_name: name.into(),
                    create_time: clock,
                    order: (n - gi as u32) * 100,
                    deleted: false,
                    tag,
                    strategy_id: None,
                },
                owner: owner.map(String::from),
            }
        })
        .collect()
}

/// The demo corp's customer-contact rule groups (two first-level ones and a child of
/// the first), and the rule-group tag groups in them: one of tagsync's in 华东销售 and
/// one of `crm`'s there (which tagsync cannot see).
fn demo_rule_groups() -> (Vec<wire::RuleGroup>, Vec<SeedGroup>) {
    let rule = |id: u64, parent_id: u64, name: &str| wire::RuleGroup {
        strategy_id: id,
        parent_id,
        strategy_name: name.into(),
        create_time: 1_651_000_000 + id as i64,
    };
    let rules = vec![
        rule(1, 0, "华东销售"),
        rule(2, 0, "华南销售"),
        rule(3, 1, "上海门店"),
    ];
    let group = |name: &str, owner: &str, order: u32, tags: &[&str]| SeedGroup {
        group: wire::TagGroup {
            group_id: id_for(&format!("strategy-group/{name}")),
            group_name: name.into(),
            create_time: 1_651_100_000,
            order,
            deleted: false,
            strategy_id: Some(1),
            tag: tags
                .iter()
                .enumerate()
                .map(|(i, t)| SeedTag {
                    tag: wire::Tag {
                        id: id_for(&format!("strategy-tag/{name}/{t}")),
                        name: (*t).into(),
                        create_time: 1_651_100_000 + i as i64,
                        order: (tags.len() - i) as u32 * 10,
                        deleted: false,
                    },
                    owner: Some(owner.into()),
                })
                .collect(),
        },
        owner: Some(owner.into()),
    };
    let groups = vec![
        group(
            "华东重点行业",
            "tagsync",
            200,
            &["汽车零部件", "跨境电商", "纺织"],
        ),
        group("华东活动", "crm", 100, &["春季展会", "会员日"]),
    ];
    (rules, groups)
}

fn render(mut seed: Vec<SeedGroup>) -> String {
    let (rules, groups) = demo_rule_groups();
    seed.extend(groups);
    let file = SeedFile {
        strategy: rules,
        ..SeedFile::new(seed)
    };
    let mut text = serde_json::to_string_pretty(&file).expect("serialisable");
    text.push('\n');
    text
}

#[test]
fn corp_json_is_the_generated_corp() {
    let want = render(demo_corp());
    if std::env::var_os("TAGSYNC_REGEN_EXAMPLES").is_some() {
        std::fs::write(CORP, &want).expect("write examples/corp.json");
    }
    let have = std::fs::read_to_string(CORP).expect("examples/corp.json exists");
    assert!(
        have == want,
        "examples/corp.json is stale: regenerate it (see this file's header)"
    );
    let tags: usize = demo_corp().iter().map(|g| g.tag.len()).sum();
    assert!((200..1000).contains(&tags), "a few hundred tags: {tags}");
}

#[tokio::test]
async fn examples_load_and_dump_round_trips() {
    let seed = emulator::load_seed(Path::new(CORP)).expect("seed loads");
    let apps = emulator::load_apps(Path::new(APPS)).expect("apps load");
    assert_eq!(apps.corp_id, "ww-demo-corp");
    assert!(
        apps.apps
            .iter()
            .any(|a| a.name == "tagsync" && a.secret == "demo-secret")
    );
    let config = emulator::config_from_files(Some(Path::new(CORP)), Some(Path::new(APPS)))
        .expect("files load");
    assert_eq!(config.seed, seed);
    let handle = emulator::start(config).await.expect("starts");
    assert_eq!(
        handle.dump(),
        seed,
        "dump gives back the seed, owners included"
    );
    handle.shutdown().await;
}

#[test]
fn seed_breaking_wecom_rules_is_refused() {
    let mut seed = demo_corp();
    seed[1].tag.clear();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(emulator::start(EmulatorConfig {
            seed,
            ..Default::default()
        }))
        .expect_err("empty group refused");
    assert!(err.to_string().contains("no live tag"), "{err}");
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `tagsync emulator` on the demo corp with these extra flags; answers the child and
/// the base URL it printed.
async fn spawn_demo(extra: &[&str]) -> (Child, String) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tagsync"))
            .args([
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--seed",
                CORP,
                "--apps",
                APPS,
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tagsync runs"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .expect("first line");
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );
    (child, base)
}

/// Gets a token of the demo app and lists the whole corp; answers the list's JSON.
async fn demo_list(base: &str) -> Value {
    let http = crate::common::http();
    let url = |p: &str, q: &[(&str, &str)]| {
        url::Url::parse_with_params(&format!("{base}/cgi-bin/{p}"), q)
            .unwrap()
            .to_string()
    };
    let tok = fetch_json(http.get(url(
        path::GET_TOKEN,
        &[("corpid", "ww-demo-corp"), ("corpsecret", "demo-secret")],
    )))
    .await;
    assert_eq!(errcode(&tok), 0, "token calls get no random faults");
    let token = tok["access_token"].as_str().unwrap();
    fetch_json(
        http.post(url(path::GET_CORP_TAG_LIST, &[("access_token", token)]))
            .json(&json!({})),
    )
    .await
}

#[tokio::test]
async fn tagsync_emulator_serves_the_demo_corp() {
    let (mut child, base) = spawn_demo(&[]).await;
    let list = demo_list(&base).await;
    let seed = demo_corp();
    let groups = list["tag_group"].as_array().unwrap();
    assert_eq!(groups.len(), seed.len());
    assert_eq!(groups[0]["group_name"], seed[0].group_name);
    let tags: usize = groups
        .iter()
        .map(|g| g["tag"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(tags, seed.iter().map(|g| g.tag.len()).sum::<usize>());
    #[cfg(unix)]
    {
        let term = Command::new("kill")
            .args(["-TERM", &child.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(term.success());
        let status = child.0.wait().expect("exit status");
        assert!(status.success(), "SIGTERM stops it cleanly: {status}");
    }
}

#[tokio::test]
async fn tagsync_emulator_fault_flags_refuse_tag_calls() {
    let (_child, base) = spawn_demo(&[
        "--latency-ms",
        "1",
        "--fault-rate",
        "1",
        "--fault-seed",
        "5",
    ])
    .await;
    let list = demo_list(&base).await;
    let code = errcode(&list);
    assert!([-1, 6000].contains(&code), "{list}");
    assert!(list.get("tag_group").is_none(), "{list}");
}

#[test]
fn tagsync_emulator_reports_a_bad_apps_file() {
    let dir = tempfile::tempdir().unwrap();
    let apps = dir.path().join("apps.yaml");
    std::fs::write(
        &apps,
        "corp_id: ww1\napps:\n  - name: a\n    secret: s\n    secrte: typo\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["emulator", "--apps"])
        .arg(&apps)
        .output()
        .expect("tagsync runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apps.yaml") && err.contains("secrte"), "{err}");
    // One `error:`, and the snippet names the file, not `<input>`.
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(!err.contains("<input>"), "{err}");
    assert!(
        err.contains("--> ") && err.contains("apps.yaml:5:"),
        "{err}"
    );
}

#[test]
fn every_field_of_the_apps_file_is_in_the_readme_and_the_example() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let table = &readme[readme.find("#### The apps file").expect("section")..];
    let example = std::fs::read_to_string("examples/apps.yaml").unwrap();
    // Every field, from the type itself (a file holding all of them loads).
    let full = emulator::AppsFile {
        corp_id: "ww1".into(),
        apps: vec![emulator::AppEntry {
            name: "a".into(),
            secret: "s".into(),
            legacy: true,
            manage_tags: Some(false),
            allowed_ips: Some(vec!["127.0.0.1".parse().unwrap()]),
        }],
        suites: vec![
            serde_json::from_value(json!({
                "suite_id": "s", "suite_secret": "x", "suite_ticket": "t",
                "permanent_code": "p", "app": "a"
            }))
            .unwrap(),
        ],
        token_lifetime_secs: Some(1),
        tag_limit: Some(1),
        rate_limit_per_minute: Some(1),
        concurrency_limit: Some(1),
        profile: Some(emulator::Profile::default()),
        callback: Some(emulator::CallbackTarget {
            url: "http://127.0.0.1:8080/wecom/callback".into(),
            token: "t".into(),
            aes_key: "k".into(),
        }),
    };
    let value = serde_json::to_value(&full).unwrap();
    let mut fields: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    for (list, key) in [
        ("apps[]", "apps"),
        ("suites[]", "suites"),
        ("profile", "profile"),
    ] {
        let item = value[key].get(0).unwrap_or(&value[key]);
        fields.extend(
            item.as_object()
                .unwrap()
                .keys()
                .map(|k| format!("{list}.{k}")),
        );
    }
    for f in fields {
        let inline = f
            .strip_prefix("suites[].")
            .or_else(|| f.strip_prefix("profile."));
        let documented = match inline {
            Some(k) => table.contains(k),
            None => table.contains(&format!("| `{f}` |")),
        };
        assert!(documented, "{f} is not in the README's apps file table");
        let key = f.rsplit('.').next().unwrap();
        assert!(
            example.contains(&format!("{key}:")),
            "{key} is not in examples/apps.yaml"
        );
    }
}
