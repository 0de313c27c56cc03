//! The file-level view: the corp as a YAML-ish listing (groups and tags in display
//! order, with their order values), before the plan and after it, as a unified diff.
//!
//! "After" is [`crate::plan::simulate()`] of the plan on the snapshot. A blocked plan is
//! simulated as if its blocked steps were allowed (and every item owned), so the reviewer
//! still sees what the file asks for; the renderers say so above the diff.

use similar::TextDiff;

use crate::plan::{Owned, Plan, simulate};
use crate::sanitize::for_terminal;
use crate::snapshot::Snapshot;

/// The corp as a listing: one line per group, then one indented line per tag, in display
/// order (larger `order` first, the listed order breaking ties).
pub fn listing(snap: &Snapshot) -> String {
    let mut out = String::new();
    groups(&mut out, "", "", &snap.groups);
    // Then each rule group's, indented, each group line naming its rule group (so that a
    // hunk of the diff says where it is).
    for r in snap.rule_groups.iter().flatten() {
        let label = format!(", rule group {}", for_terminal(&r.label()));
        groups(&mut out, "  ", &label, &r.groups);
    }
    out
}

fn groups(out: &mut String, indent: &str, label: &str, groups: &[crate::snapshot::RemoteGroup]) {
    for g in display_order(groups, |g| g.order) {
        line(out, indent, "", &g.name, g.order, label);
        for t in display_order(&g.tags, |t| t.order) {
            line(out, indent, "  - ", &t.name, t.order, "");
        }
    }
}

/// Larger `order` first; the listed order breaks ties (the sort is stable).
fn display_order<T>(items: &[T], order: impl Fn(&T) -> u32) -> Vec<&T> {
    let mut v: Vec<&T> = items.iter().collect();
    v.sort_by_key(|i| std::cmp::Reverse(order(i)));
    v
}

fn line(out: &mut String, indent: &str, prefix: &str, name: &str, order: u32, label: &str) {
    let colon = if prefix.is_empty() { ":" } else { "" };
    out.push_str(&format!(
        "{indent}{prefix}{}{colon}  # order {order}{label}\n",
        for_terminal(name)
    ));
}

/// The snapshot after the plan, or the reason it cannot be computed.
pub fn after(plan: &Plan, remote: &Snapshot) -> Result<Snapshot, String> {
    let mut unblocked = plan.clone();
    for s in &mut unblocked.steps {
        s.blocked = None;
    }
    simulate(remote, &unblocked, &Owned::All).map_err(|e| e.to_string())
}

/// The unified diff of the listing before and after the plan (empty when equal).
pub fn diff(plan: &Plan, remote: &Snapshot, file: &str) -> Result<String, String> {
    let before = listing(remote);
    let after = listing(&after(plan, remote)?);
    if before == after {
        return Ok(String::new());
    }
    let diff = TextDiff::from_lines(&before, &after);
    Ok(diff
        .unified_diff()
        .context_radius(2)
        .header("corp (now)", &format!("corp (after plan of {file})"))
        .to_string())
}
