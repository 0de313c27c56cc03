//! `tagsync adopt ID…`: record existing remote items as owned in the ledger.
//!
//! Every id must name a live group or tag of the corp (read first); any unknown id is an
//! error and nothing is recorded. With `--emulator` and no `--state` the ledger lives
//! only in memory, so the command checks the ids and says nothing was saved.

use super::remote_setup;
use super::{CommandError, report, runtime};
use crate::cli::{AdoptArgs, Exit};
use crate::remote::Snapshot;
use crate::sanitize::for_terminal;

/// `tagsync adopt`.
pub fn cmd_adopt(args: &AdoptArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(run(args)));
    result.unwrap_or_else(|e| report(&e))
}

async fn run(args: &AdoptArgs) -> Result<Exit, CommandError> {
    if args.ids.is_empty() {
        return Err(CommandError::Other(
            "give the ids of the groups or tags to adopt (see `tagsync export` or the plan)".into(),
        ));
    }
    let remote = remote_setup::connect(&args.remote).await?;
    let read = async {
        let lock = remote_setup::lock_ledger(&args.remote, &args.config, &remote)?;
        let snapshot = remote.client.snapshot().await?;
        let ledger = remote_setup::load_ledger(&args.remote, &args.config, &remote)?;
        Ok::<_, CommandError>((lock, snapshot, ledger))
    }
    .await;
    remote.shutdown().await;
    // The lock is held until the ledger is saved below.
    let (_lock, snapshot, (mut ledger, path)) = read?;
    let mut labels = Vec::new();
    let mut unknown = Vec::new();
    for id in &args.ids {
        match label(&snapshot, id) {
            Some(l) => labels.push(l),
            None => unknown.push(for_terminal(id)),
        }
    }
    if !unknown.is_empty() {
        return Err(CommandError::Other(format!(
            "no live group or tag has the id {}; nothing was recorded (ids are in `tagsync plan --format json` or the admin console)",
            unknown.join(", ")
        )));
    }
    let new = ledger.record(args.ids.iter().cloned());
    for l in &labels {
        println!("adopted {l}");
    }
    match path {
        Some(p) => {
            ledger.save(&p)?;
            println!(
                "{new} newly recorded as owned in {}",
                for_terminal(&p.display().to_string())
            );
        }
        None => {
            println!("{new} recorded in memory only (--emulator without --state): nothing saved")
        }
    }
    Ok(Exit::Success)
}

/// `group 名` or `tag 组 / 名` for a live id.
fn label(snap: &Snapshot, id: &str) -> Option<String> {
    snap.groups.iter().find_map(|g| {
        if g.id == id {
            return Some(format!(
                "group {} ({})",
                for_terminal(&g.name),
                for_terminal(id)
            ));
        }
        g.tags.iter().find(|t| t.id == id).map(|t| {
            format!(
                "tag {} / {} ({})",
                for_terminal(&g.name),
                for_terminal(&t.name),
                for_terminal(id)
            )
        })
    })
}
