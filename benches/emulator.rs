//! Times a full `get_corp_tag_list` of a 10000-tag corp over HTTP on loopback.
//! Run with `cargo bench --bench emulator`; prints the median of the runs.

// A benchmark or example may unwrap: a panic ends it with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tagsync::emulator::{self, EmulatorConfig, SeedGroup, SeedTag};
use tagsync::wire;

const GROUPS: usize = 100;
const TAGS_PER_GROUP: usize = 100;
const RUNS: usize = 30;

fn seed() -> Vec<SeedGroup> {
    (0..GROUPS)
        .map(|g| SeedGroup {
            group: wire::TagGroup {
                group_id: format!("etBenchGroup{g:020}"),
                group_name: format!("分组{g:03}"),
                create_time: 1_650_000_000,
                order: (GROUPS - g) as u32,
                deleted: false,
                tag: (0..TAGS_PER_GROUP)
                    .map(|t| SeedTag {
                        tag: wire::Tag {
                            id: format!("etBenchTag{g:010}{t:010}"),
                            name: format!("标签{g:03}-{t:03}"),
                            create_time: 1_650_000_000 + t as i64,
                            order: (TAGS_PER_GROUP - t) as u32,
                            deleted: false,
                        },
                        owner: None,
                    })
                    .collect(),
                strategy_id: None,
            },
            owner: Some("tagsync".into()),
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let handle = emulator::start(EmulatorConfig {
        seed: seed(),
        ..Default::default()
    })
    .await?;
    tagsync::remote::install_crypto_provider();
    let http = reqwest::Client::new();
    let base = handle.base_url();
    let tok: wire::TokenResponse = http
        .get(format!(
            "{base}{}?corpid=ww-test-corp&corpsecret=test-secret",
            wire::path::GET_TOKEN
        ))
        .send()
        .await?
        .json()
        .await?;
    let token = tok.access_token.ok_or("no token")?;
    let url = format!(
        "{base}{}?access_token={token}",
        wire::path::GET_CORP_TAG_LIST
    );
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..=RUNS {
        let started = Instant::now();
        let list: wire::TagListResponse = http
            .post(&url)
            .json(&wire::TagListRequest::default())
            .send()
            .await?
            .json()
            .await?;
        let took = started.elapsed();
        let tags: usize = list.tag_group.iter().map(|g| g.tag.len()).sum();
        if tags != GROUPS * TAGS_PER_GROUP {
            return Err(format!("listed {tags} tags").into());
        }
        if i > 0 {
            times.push(took); // the first run warms up
        }
    }
    println!(
        "emulator full list of {} tags over HTTP: median {:?} over {RUNS} runs",
        GROUPS * TAGS_PER_GROUP,
        median(times)
    );
    handle.shutdown().await;
    Ok(())
}

fn main() {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: no runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
