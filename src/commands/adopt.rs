//! `tagsync adopt ID…` and `tagsync disown ID…`: change what the ledger owns, both ways.
//!
//! - `adopt`: every id must name a live group or tag of the corp (read first); any
//!   unknown id is an error and nothing is recorded. Adopted items are bound to the name
//!   and order they have now (a later rename in the admin console is then drift).
//!   `--with-tags` adopts the tags of each adopted group too, each reported.
//! - `disown`: every id must be owned by the ledger; any other id is an error and nothing
//!   changes. The ids leave the ledger (ownership, binding, rename history), a group's
//!   with the owned tags in it (else the next plan would delete those tags, and with the
//!   last of them the group); nothing is sent to WeCom: the items stay in the corp, now
//!   foreign to tagsync (left alone, listed as unmanaged unless the file lists them).
//!
//! With `--emulator` and no `--state` the ledger lives only in memory, so the commands
//! check the ids and say nothing was saved.

use super::args::{AdoptArgs, DisownArgs, RemoteArgs};
use super::remote_setup::{self, Remote};
use super::{CommandError, report, runtime};
use crate::exit::Exit;
use crate::ledger::{Binding, Ledger, LedgerLock};
use crate::remote::Snapshot;
use crate::sanitize::for_terminal;
use std::path::{Path, PathBuf};

/// `tagsync adopt`.
pub fn cmd_adopt(args: &AdoptArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(adopt(args)));
    result.unwrap_or_else(|e| report(&e))
}

/// `tagsync disown`.
pub fn cmd_disown(args: &DisownArgs) -> Exit {
    let result = runtime().and_then(|rt| rt.block_on(disown(args)));
    result.unwrap_or_else(|e| report(&e))
}

/// The ledger under its lock, and the corp.
struct Locked {
    _lock: Option<LedgerLock>,
    snapshot: Snapshot,
    ledger: Ledger,
    path: Option<PathBuf>,
}

async fn read_locked(args: &RemoteArgs, config: &Path) -> Result<Locked, CommandError> {
    let remote = remote_setup::connect(args).await?;
    let read = read_with(args, config, &remote).await;
    remote.shutdown().await;
    read
}

async fn read_with(
    args: &RemoteArgs,
    config: &Path,
    remote: &Remote,
) -> Result<Locked, CommandError> {
    let lock = remote_setup::lock_ledger(args, config, remote)?;
    let snapshot = remote.client.snapshot().await?;
    let (mut ledger, path) = remote_setup::load_ledger(args, config, remote)?;
    remote_setup::verify_new_app(remote, &mut ledger, &snapshot).await?;
    Ok(Locked {
        _lock: lock,
        snapshot,
        ledger,
        path,
    })
}

async fn adopt(args: &AdoptArgs) -> Result<Exit, CommandError> {
    if args.ids.is_empty() {
        return Err(CommandError::Other(
            "give the ids of the groups or tags to adopt (`tagsync export --ids` lists them)"
                .into(),
        ));
    }
    // The lock is held until the ledger is saved below.
    let mut l = read_locked(&args.remote, &args.config).await?;
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for id in &args.ids {
        match find(&l.snapshot, id) {
            Some(item) => found.push(item),
            None => unknown.push(for_terminal(id)),
        }
    }
    if !unknown.is_empty() {
        return Err(CommandError::Other(format!(
            "no live group or tag has the id {}; nothing was recorded (`tagsync export --ids` lists the ids)",
            unknown.join(", ")
        )));
    }
    if args.with_tags {
        let groups: Vec<String> = found
            .iter()
            .filter(|i| i.binding.group.is_none())
            .map(|i| i.id.clone())
            .collect();
        for gid in groups {
            let Some(g) = l.snapshot.groups.iter().find(|g| g.id == gid) else {
                continue;
            };
            for t in &g.tags {
                if !found.iter().any(|i| i.id == t.id) {
                    found.extend(find(&l.snapshot, &t.id));
                }
            }
        }
    }
    // What the file lists: an adopted item it does not list is deleted by the next plan.
    let file = crate::desired::load(&args.config);
    if file.is_err() && args.config.exists() {
        println!(
            "  note: {} does not validate, so whether it lists these items was not checked; an item it does not list is deleted by the next `tagsync plan`",
            for_terminal(&args.config.display().to_string())
        );
    }
    let mut new = 0;
    for item in &found {
        // Already owned and bound: the binding is what tagsync last applied, the record
        // that tells a console rename (drift, renamed back) from the file's own names.
        // Re-binding it to the live name would turn that drift into a delete and an add.
        if l.ledger.owned.contains(&item.id) && l.ledger.bindings.contains_key(&item.id) {
            println!("adopted {} (already owned; its record kept)", item.label);
            continue;
        }
        let fresh = l.ledger.record_bound(&item.id, item.binding.clone());
        new += usize::from(fresh);
        let was = if fresh { "" } else { " (already owned)" };
        println!("adopted {}{was}", item.label);
        if let Ok(d) = &file
            && !lists(d, &l.snapshot, &item.id)
        {
            println!(
                "  warning: {} does not list it: the next `tagsync plan` deletes it (tagsync may, now); add it to the file to keep it",
                for_terminal(&args.config.display().to_string())
            );
        }
    }
    save(&l.ledger, l.path.as_deref(), new, "newly recorded as owned")?;
    Ok(Exit::Success)
}

async fn disown(args: &DisownArgs) -> Result<Exit, CommandError> {
    let mut l = read_locked(&args.remote, &args.config).await?;
    let unknown: Vec<String> = args
        .ids
        .iter()
        .filter(|id| !l.ledger.owned.contains(*id))
        .map(|id| for_terminal(id))
        .collect();
    if !unknown.is_empty() {
        return Err(CommandError::Other(format!(
            "the ownership ledger does not own {}; nothing was changed",
            unknown.join(", ")
        )));
    }
    // A group goes with the tags tagsync owns in it: disowning only the group would
    // leave its tags owned and unlisted, and the next plan would delete them (and with
    // the last of them, the group).
    let mut ids: Vec<String> = Vec::new();
    for id in &args.ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
        if let Some(g) = l.snapshot.groups.iter().find(|g| g.id == *id) {
            for t in g.tags.iter().filter(|t| l.ledger.owned.contains(&t.id)) {
                if !ids.contains(&t.id) {
                    ids.push(t.id.clone());
                }
            }
        }
    }
    for id in &ids {
        let label = match find(&l.snapshot, id) {
            Some(item) => item.label,
            None => match l.ledger.bindings.get(id) {
                Some(b) => format!(
                    "{} ({}; no longer in the corp)",
                    for_terminal(&b.name),
                    for_terminal(id)
                ),
                None => format!("{} (no longer in the corp)", for_terminal(id)),
            },
        };
        println!("disowned {label}");
    }
    let n = l.ledger.forget(ids.iter().map(String::as_str));
    save(&l.ledger, l.path.as_deref(), n, "no longer owned")?;
    println!(
        "tagsync will leave these items alone (the plan lists them as unmanaged); an edit the file asks of them is shown as blocked"
    );
    Ok(Exit::Success)
}

fn save(ledger: &Ledger, path: Option<&Path>, n: usize, what: &str) -> Result<(), CommandError> {
    match path {
        Some(p) => {
            ledger.save(p)?;
            println!("{n} {what} in {}", for_terminal(&p.display().to_string()));
        }
        None => println!("{n} {what} in memory only (--emulator without --state): nothing saved"),
    }
    Ok(())
}

/// Whether the file lists the live item `id` (by its name, or an old name).
fn lists(d: &crate::desired::Desired, snap: &Snapshot, id: &str) -> bool {
    let named = |name: &str, current: &str, old: &[String]| {
        current == name || old.iter().any(|o| o == name)
    };
    for g in &snap.groups {
        if g.id == id {
            return d
                .groups
                .iter()
                .any(|dg| named(&g.name, &dg.name, &dg.previously));
        }
        if let Some(t) = g.tags.iter().find(|t| t.id == id) {
            // A `managed: false` group is read-only with all its tags: nothing in it is
            // deleted, listed or not.
            return d
                .groups
                .iter()
                .filter(|dg| named(&g.name, &dg.name, &dg.previously))
                .any(|dg| {
                    !dg.managed
                        || dg
                            .tags
                            .iter()
                            .any(|dt| named(&t.name, &dt.name, &dt.previously))
                });
        }
    }
    true
}

/// A live item: its id, how to show it, and what it is now.
struct Found {
    id: String,
    label: String,
    binding: Binding,
}

/// The live group or tag of `id`.
fn find(snap: &Snapshot, id: &str) -> Option<Found> {
    snap.groups.iter().find_map(|g| {
        if g.id == id {
            return Some(Found {
                id: id.to_string(),
                label: format!("group {} ({})", for_terminal(&g.name), for_terminal(id)),
                binding: Binding::group(&g.name, Some(g.order)),
            });
        }
        g.tags.iter().find(|t| t.id == id).map(|t| Found {
            id: id.to_string(),
            label: format!(
                "tag {} / {} ({})",
                for_terminal(&g.name),
                for_terminal(&t.name),
                for_terminal(id)
            ),
            binding: Binding::tag(&g.id, &t.name, Some(t.order)),
        })
    })
}
