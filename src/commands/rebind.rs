//! `tagsync ledger rebind`: accept the app whose secret this run uses as the ledger's app,
//! after that app's secret was rotated (the fingerprint changed with it).
//!
//! The check ([`remote_setup::same_app`]): the API lets only the app that created an
//! item edit it, so the new secret is asked to make a no-op edit of an item the ledger
//! owns (its order set to the order it has), and of one it does not own. The first
//! accepted and the second refused: the same app. The first refused: another app. Both
//! accepted: the legacy all-powerful secret, which is no app's; refused. When the ledger
//! owns nothing live, nothing can be checked and the user's confirmation alone decides.
//! The user confirms (on a terminal, or with `--yes`) before anything is sent.
//!
//! Where the spec is silent: the probe edits are writes (WeCom may push change callbacks
//! for them), chosen because no read tells apps apart.

use std::io::{BufRead, IsTerminal, Write};

use super::args::RebindArgs;
use super::remote_setup::{self, AppCheck, Remote};
use super::{CommandError, report, runtime};
use crate::exit::Exit;
use crate::sanitize::for_terminal;

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
    // Ask before anything is sent (the check is a write, if a harmless one).
    if !args.yes
        && !confirm(&format!(
            "Check this secret and record its app as the app of {shown}? [y/N] "
        ))?
    {
        println!("nothing was changed");
        return Ok(Exit::Error);
    }
    let snapshot = remote.client.snapshot().await?;
    match remote_setup::same_app(remote, &ledger, &snapshot, true).await? {
        AppCheck::Nothing => println!(
            "{shown} owns nothing live in the corp, so this secret cannot be checked against it"
        ),
        AppCheck::Same(label) => println!(
            "checked: this secret may edit {label} (a no-op edit of its order), which only the app that created it may do, and may not edit what another app made: it is the ledger's app"
        ),
        AppCheck::SameOrLegacy(label, n) => {
            println!(
                "this secret may edit {label}, which the ledger owns, and also every one of {n} item(s) the ledger does not own: either this app made those too, or it is the legacy all-powerful secret, which is no app's"
            );
            if args.yes || !confirm("Record it as the ledger's app all the same? [y/N] ")? {
                return Err(CommandError::Other(
                    "nothing was changed: a secret that may edit everything tried is not known to be the ledger's app (confirm on a terminal if it is)".into(),
                ));
            }
        }
    }
    ledger.app = Some(remote.app.clone());
    ledger.save(&path)?;
    println!("{shown} now belongs to this app");
    Ok(Exit::Success)
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
