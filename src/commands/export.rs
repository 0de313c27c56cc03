//! `tagsync export`: the live corp as a desired-state file on stdout (or `--output`).
//!
//! The file comes from [`plan::export()`]; this module writes it as YAML with the schema
//! comment line on top, then checks it: the text is loaded back with the desired-state
//! loader and planned against the same snapshot, and must give zero steps.
//!
//! - A file that would fail `tagsync validate` is **not written**: export exits 1 and
//!   shows the validator's diagnostics for the exported text, which name each item. This
//!   happens when the corp holds, in a group tagsync manages, a name tagsync could never
//!   send (made in the admin console with surrounding spaces or a control character):
//!   the fix is to rename it there. Such names in `managed: false` groups are fine: the
//!   validator allows them there, since tagsync only compares them with the corp.
//! - A file that validates but does not plan to zero changes is written, with a warning.
//!
//! Rule groups holding this app's tags are written under `strategies:`, by
//! `strategy_id`; a secret that may not read them (48002) exports the corp tags alone,
//! with a note.
//!
//! Names are written plain when YAML reads them back as the same string, double-quoted
//! (JSON-style escapes) otherwise.

use std::io::Write;

use serde::Serialize;

use super::args::ExportArgs;
use super::remote_setup;
use super::{CommandError, report, runtime};
use crate::desired::model::{DesiredGroup, RuleGroupRef};
use crate::desired::{self, Desired, Order, Ownership};
use crate::exit::Exit;
use crate::plan::{self, Owned, PlanOptions};
use crate::remote::{RuleGroupRead, Snapshot};

/// `tagsync export`.
pub fn cmd_export(args: &ExportArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

async fn run(args: &ExportArgs) -> Result<Exit, CommandError> {
    // Before any call: a hand-edited file is not replaced by accident.
    if let Some(path) = &args.output
        && !args.force
        && std::fs::symlink_metadata(path).is_ok()
    {
        let shown = crate::sanitize::for_terminal(&path.display().to_string());
        return Err(CommandError::Other(format!(
            "{shown} exists: export does not replace it (it would lose its comments, layout \
             and `previously:` lists). Pass --force to replace it, or write to stdout and compare"
        )));
    }
    let remote = remote_setup::connect(&args.remote).await?;
    let read = async {
        let snapshot = remote.client.snapshot().await?;
        let snapshot = match remote.client.read_rule_groups(&RuleGroupRead::All).await {
            Ok((rules, tags)) => snapshot.with_rule_groups(rules, tags),
            // The legacy "客户联系" secret may not read rule groups: export the corp tags.
            Err(e) if e.errcode() == Some(crate::wire::errcode::API_NOT_PERMITTED) => {
                eprintln!(
                    "note: rule-group tags are not exported: this secret may not read them ({e})"
                );
                snapshot
            }
            Err(e) => return Err(e.into()),
        };
        let (ledger, _) = remote_setup::load_ledger(&args.remote, &args.config, &remote)?;
        Ok::<_, CommandError>((snapshot, ledger))
    }
    .await;
    remote.shutdown().await;
    let (snapshot, ledger) = read?;
    let owned = ledger.owned();
    let mut exported = plan::export(&snapshot, &owned);
    if args.ids {
        pin_ids(&mut exported, &snapshot);
    }
    let text = name_rule_groups(&to_yaml(&exported, &ledger.corp_id)?, &snapshot);
    let desired = validated(&text)?;
    if let Err(why) = zero_plan(&desired, &snapshot, &owned) {
        eprintln!("warning: the exported file does not plan to zero changes: {why}");
    }
    let read_only = exported.groups.iter().filter(|g| !g.managed).count();
    if read_only > 0 {
        eprintln!(
            "note: {read_only} of {} groups are exported `managed: false` (read-only): the \
             ledger records nothing in them as made by this app. If this app made some, \
             record them with `tagsync adopt ID… --with-tags` (`tagsync export --ids` shows \
             the ids), then export again.",
            exported.groups.len()
        );
    }
    match &args.output {
        Some(path) => crate::atomic_write::write(path, text.as_bytes()).map_err(|source| {
            CommandError::Write {
                path: path.clone(),
                source,
            }
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|source| CommandError::Write {
                    path: "<stdout>".into(),
                    source,
                })?
        }
    }
    Ok(Exit::Success)
}

/// The rule groups' names as comments beside their ids (`- strategy_id: 1  # 华东销售`).
fn name_rule_groups(text: &str, snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line);
        let id = line
            .strip_prefix("- strategy_id: ")
            .and_then(|v| v.parse().ok());
        if let Some(name) = id.and_then(|id| snapshot.rule_group(id)?.name.as_deref()) {
            let name = crate::sanitize::for_terminal(name).replace(['\n', '\r'], " ");
            out.push_str(&format!("  # {name}"));
        }
        out.push('\n');
    }
    out
}

/// Give every group and tag of `desired` (as exported from `snapshot`) its id. Names are
/// unique among groups and within a group, so they find the items.
pub fn pin_ids(desired: &mut Desired, snapshot: &Snapshot) {
    pin_group_ids(&mut desired.groups, &snapshot.groups);
    for r in desired.strategies.iter_mut().flatten() {
        if let RuleGroupRef::Id(id) = r.rule_group
            && let Some(remote) = snapshot.rule_group(id)
        {
            pin_group_ids(&mut r.groups, &remote.groups);
        }
    }
}

fn pin_group_ids(groups: &mut [DesiredGroup], remote: &[crate::remote::RemoteGroup]) {
    for g in groups {
        let Some(r) = remote.iter().find(|r| r.name == g.name) else {
            continue;
        };
        g.id = Some(r.id.clone());
        for t in &mut g.tags {
            t.id = r
                .tags
                .iter()
                .find(|rt| rt.name == t.name)
                .map(|rt| rt.id.clone());
        }
    }
}

/// What the diagnostics of an exported text call the file.
const EXPORTED: &str = "the exported file";

/// Load `text` back as `tagsync validate` would. On failure the diagnostics (which name
/// every offending item) come with a first line saying that nothing was written.
pub fn validated(text: &str) -> Result<Desired, CommandError> {
    desired::load_str(text, EXPORTED).map_err(|mut d| {
        let header = desired::Diagnostic::new(
            "export stopped, nothing written: the corp's names give a file that fails `tagsync validate`",
            desired::Pos::NONE,
            "rename the items below in the WeCom admin console (tagsync never sends a name with \
             surrounding whitespace or a control character), then export again",
        );
        d.items.insert(0, header);
        CommandError::from(d)
    })
}

/// Plan `desired` against `snapshot`: `Err` says why it is not a no-op.
fn zero_plan(desired: &Desired, snapshot: &Snapshot, owned: &Owned) -> Result<(), String> {
    let plan = plan::plan(desired, snapshot, owned, &PlanOptions::default());
    if plan.is_empty() {
        Ok(())
    } else {
        Err(crate::render::summary_line(&plan))
    }
}

/// Load `text` back and plan it against `snapshot`: `Err` says why it is not a no-op.
pub fn check(text: &str, snapshot: &Snapshot, owned: &Owned) -> Result<(), String> {
    let desired = validated(text).map_err(|e| e.to_string())?;
    zero_plan(&desired, snapshot, owned)
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    ownership: &'static str,
    /// Before `groups`, so that the corp's list stays at the end of the file, where a
    /// group appended to the file belongs.
    #[serde(skip_serializing_if = "Option::is_none")]
    strategies: Option<Vec<RuleGroupOut<'a>>>,
    groups: Vec<GroupOut<'a>>,
}

#[derive(Serialize)]
struct RuleGroupOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    groups: Vec<GroupOut<'a>>,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<OrderOut>,
    tags: Vec<TagOut<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum TagOut<'a> {
    Bare(&'a str),
    Full {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<OrderOut>,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum OrderOut {
    Word(&'static str),
    Value(u32),
}

fn order_out(o: Order) -> Option<OrderOut> {
    match o {
        Order::Position => None,
        Order::Ignore => Some(OrderOut::Word("ignore")),
        Order::Value(v) => Some(OrderOut::Value(v)),
    }
}

/// A `groups:` list as written.
fn groups_out(groups: &[DesiredGroup]) -> Vec<GroupOut<'_>> {
    groups
        .iter()
        .map(|g| GroupOut {
            name: &g.name,
            id: g.id.as_deref(),
            managed: (!g.managed).then_some(false),
            order: order_out(g.order),
            tags: g
                .tags
                .iter()
                .map(|t| {
                    if t.id.is_none() && t.order == Order::Position {
                        TagOut::Bare(&t.name)
                    } else {
                        TagOut::Full {
                            name: &t.name,
                            id: t.id.as_deref(),
                            order: order_out(t.order),
                        }
                    }
                })
                .collect(),
        })
        .collect()
}

/// The file text: schema line, a comment naming the corp, then the YAML.
pub fn to_yaml(d: &Desired, corp_id: &str) -> Result<String, CommandError> {
    let file = FileOut {
        version: d.version,
        ownership: match d.ownership {
            Ownership::All => "all",
            Ownership::Ledger => "ledger",
        },
        groups: groups_out(&d.groups),
        strategies: d.strategies.as_ref().map(|rgs| {
            rgs.iter()
                .map(|r| RuleGroupOut {
                    strategy_id: match r.rule_group {
                        RuleGroupRef::Id(id) => Some(id),
                        RuleGroupRef::Name(_) => None,
                    },
                    name: match &r.rule_group {
                        RuleGroupRef::Id(_) => None,
                        RuleGroupRef::Name(n) => Some(n),
                    },
                    groups: groups_out(&r.groups),
                })
                .collect()
        }),
    };
    let yaml = serde_saphyr::to_string(&file)
        .map_err(|e| CommandError::Other(format!("cannot write the file as YAML: {e}")))?;
    let corp = corp_id.replace(['\n', '\r'], " ");
    Ok(format!(
        "# yaml-language-server: $schema=tagsync.schema.json\n\
         # Exported by `tagsync export` from corp {corp}.\n{yaml}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::{RemoteGroup, RemoteTag};

    fn snapshot(names: &[&str]) -> Snapshot {
        let tags = names
            .iter()
            .enumerate()
            .map(|(i, n)| RemoteTag {
                id: format!("t{i}"),
                name: n.to_string(),
                order: (names.len() - i) as u32 * 10,
                create_time: 0,
            })
            .collect();
        Snapshot {
            groups: vec![
                RemoteGroup {
                    id: "g1".into(),
                    name: "yes".into(),
                    order: 20,
                    create_time: 0,
                    tags,
                },
                RemoteGroup {
                    id: "g2".into(),
                    name: "# not a comment".into(),
                    order: 10,
                    create_time: 0,
                    tags: vec![RemoteTag {
                        id: "t-x".into(),
                        name: "x".into(),
                        order: 5,
                        create_time: 0,
                    }],
                },
            ],
            rule_groups: None,
        }
    }

    #[test]
    fn awkward_names_survive_the_round_trip_and_plan_to_zero() {
        let names = [
            "2024",
            "0012",
            "no",
            "null",
            "~",
            "a: b",
            "- dash",
            "[x]",
            "{y}",
            "'q'",
            "\"dq\"",
            "*star",
            "&amp",
            "!bang",
            "%pct",
            "@at",
            "`tick",
            "a #b",
            "重点客户",
            "1e3",
            "0x1F",
            "true",
            "On",
            ".inf",
            "..",
            "?",
            "|",
            ">",
        ];
        let snap = snapshot(&names);
        for owned in [Owned::All, Owned::Ids(["g1".to_string()].into())] {
            let text = to_yaml(&plan::export(&snap, &owned), "ww1").expect("yaml");
            assert!(text.starts_with("# yaml-language-server: $schema=tagsync.schema.json\n"));
            let back =
                desired::load_str(&text, "export.yaml").unwrap_or_else(|d| panic!("{d}\n{text}"));
            let got: Vec<&str> = back.groups[0]
                .tags
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            assert_eq!(got, names, "{text}");
            check(&text, &snap, &owned).unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
    }

    #[test]
    fn equal_orders_are_exported_as_explicit_values_and_still_plan_to_zero() {
        let mut snap = snapshot(&["a", "b", "c"]);
        for t in &mut snap.groups[0].tags {
            t.order = 7;
        }
        let owned = Owned::All;
        let text = to_yaml(&plan::export(&snap, &owned), "ww1").expect("yaml");
        assert!(text.contains("order: 7"), "{text}");
        check(&text, &snap, &owned).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
