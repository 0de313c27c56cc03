//! `tagsync ledger rebind`: accept the app whose secret this run uses as the ledger's app,
//! after that app's secret was rotated (the fingerprint changed with it).
//!
//! The check: the API lets only the app that created an item edit it, so the new secret
//! is asked to make a no-op edit of an item the ledger owns (its order set to the order it
//! has). Accepted: the same app. Refused with an ownership errcode: another app, and
//! nothing changes. When the ledger owns nothing live, nothing can be checked and the
//! user's confirmation alone decides. The user confirms on a terminal, or with `--yes`.
//!
//! Where the spec is silent: the probe edit is a write (WeCom may push a change callback
//! for it), chosen because no read tells apps apart. Under `ownership: all` with the
//! legacy secret the probe passes for any item, so it proves less; the prompt says which
//! item was edited.

use std::io::{BufRead, IsTerminal, Write};

use super::args::RebindArgs;
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::exit::Exit;
use crate::ledger::Ledger;
use crate::remote::{ErrorKind, Snapshot};
use crate::sanitize::for_terminal;
use crate::wire;

/// `tagsync ledger rebind`.
pub fn cmd_rebind(args: &RebindArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

async fn run(args: &RebindArgs) -> Result<Exit, CommandError> {
    let remote = remote_setup::connect(&args.remote).await?;
    let result = rebind(args, &remote).await;
    remote.shutdown().await;
    result
}

async fn rebind(args: &RebindArgs, remote: &Remote) -> Result<Exit, CommandError> {
    let _lock = remote_setup::lock_ledger(&args.remote, &args.config, remote)?;
    let (mut ledger, path) =
        remote_setup::load_ledger_of_any_app(&args.remote, &args.config, remote)?;
    let Some(path) = path else {
        return Err(CommandError::Other(
            "--emulator without --state keeps the ledger in memory: there is nothing to rebind"
                .into(),
        ));
    };
    let shown = for_terminal(&path.display().to_string());
    if ledger.app.as_deref() == Some(remote.app.as_str()) {
        println!("{shown} already belongs to this app: nothing to do");
        return Ok(Exit::Success);
    }
    let snapshot = remote.client.snapshot().await?;
    match probe(&ledger, &snapshot) {
        None => println!(
            "{shown} owns nothing live in the corp, so this secret cannot be checked against it"
        ),
        Some(p) => {
            let req = wire::EditTagRequest {
                id: p.id.clone(),
                name: None,
                order: Some(p.order),
                agentid: None,
            };
            match remote.client.edit(&req).await {
                Ok(()) => println!(
                    "checked: this secret may edit {} (a no-op edit of its order), which only the app that created it may do: it is the ledger's app",
                    p.label
                ),
                Err(e) if e.kind() == ErrorKind::Ownership => {
                    return Err(CommandError::Other(format!(
                        "this secret may not edit {}, which the ledger's app created: it belongs to another app. Nothing was changed; use the secret of the app that created the tags",
                        p.label
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !args.yes && !confirm(&format!("Record this app as the app of {shown}? [y/N] "))? {
        println!("nothing was changed");
        return Ok(Exit::Error);
    }
    ledger.app = Some(remote.app.clone());
    ledger.save(&path)?;
    println!("{shown} now belongs to this app");
    Ok(Exit::Success)
}

/// An owned live item to probe (tags first): its id, order and how to show it.
struct Probe {
    id: String,
    order: u32,
    label: String,
}

fn probe(ledger: &Ledger, snap: &Snapshot) -> Option<Probe> {
    let tag = snap.groups.iter().find_map(|g| {
        g.tags
            .iter()
            .find(|t| ledger.owned.contains(&t.id))
            .map(|t| Probe {
                id: t.id.clone(),
                order: t.order,
                label: format!(
                    "tag {} / {} ({})",
                    for_terminal(&g.name),
                    for_terminal(&t.name),
                    for_terminal(&t.id)
                ),
            })
    });
    tag.or_else(|| {
        snap.groups
            .iter()
            .find(|g| ledger.owned.contains(&g.id))
            .map(|g| Probe {
                id: g.id.clone(),
                order: g.order,
                label: format!("group {} ({})", for_terminal(&g.name), for_terminal(&g.id)),
            })
    })
}

/// Ask on the terminal; without one, say how to confirm instead.
fn confirm(question: &str) -> Result<bool, CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::Other(
            "no terminal to confirm on: run again with --yes to record this app".into(),
        ));
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CommandError::Other(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}
