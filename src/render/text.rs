//! The plan for a terminal: one line per step (`+` add, `~` rename/reorder, `-` delete),
//! its reason, blocked steps with reason and fix, notes, the unmanaged summary, and a
//! unified diff of the file-level view. Styled with ANSI codes (see the module docs of
//! [`crate::render`] for how they are dropped when not on a terminal).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{Context, describe, fileview, sigil, summary_line, unmanaged_line};
use crate::plan::Plan;
use crate::sanitize::for_terminal;

const ADD: Style = AnsiColor::Green.on_default();
const EDIT: Style = AnsiColor::Yellow.on_default();
const DELETE: Style = AnsiColor::Red.on_default();
const BLOCKED: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub fn render(plan: &Plan, ctx: &Context<'_>) -> String {
    let esc = |s: &str| for_terminal(s);
    let mut out = String::new();
    let head = format!("Plan for corp {} from {}", esc(ctx.corp_id), esc(ctx.file));
    let _ = writeln!(out, "{}", styled(BOLD, &head));
    let _ = writeln!(out);
    for step in &plan.steps {
        let sign = sigil(step);
        let style = match sign {
            '+' => ADD,
            '~' => EDIT,
            _ => DELETE,
        };
        let d = describe(step, ctx, &esc);
        let destructive = if step.destructive {
            styled(DELETE, " [destructive]")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} {}{destructive}",
            styled(style, &sign.to_string()),
            d.headline
        );
        for item in &d.items {
            let _ = writeln!(out, "      {} {item}", styled(style, &sign.to_string()));
        }
        // A delete of several items gives one reason per line.
        for line in step.reason.lines() {
            let _ = writeln!(out, "      {}", styled(DIM, &esc(line)));
        }
        if let Some(b) = &step.blocked {
            let _ = writeln!(
                out,
                "      {} {}",
                styled(BLOCKED, "blocked:"),
                esc(&b.reason)
            );
            let _ = writeln!(out, "      {} {}", styled(BOLD, "fix:"), esc(&b.fix));
        }
    }
    if !plan.is_empty() {
        let _ = writeln!(out);
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "{}", styled(BOLD, "Notes:"));
        for n in &plan.notes {
            let _ = writeln!(out, "  - {}", esc(n));
        }
        let _ = writeln!(out);
    }
    if let Some(line) = unmanaged_line(plan, &esc) {
        let _ = writeln!(out, "{}", styled(DIM, &line));
        let _ = writeln!(out);
    }
    if !plan.is_empty() {
        write_diff(&mut out, plan, ctx);
    }
    let _ = writeln!(out, "{}", styled(BOLD, &summary_line(plan)));
    if plan.blocked() {
        let n = plan.blocked_steps().count();
        let _ = writeln!(
            out,
            "{}",
            styled(
                BLOCKED,
                &format!(
                    "Blocked: {n} step{} cannot run, so nothing will be sent (exit 3). See each step's fix above.",
                    super::plural(n)
                )
            )
        );
    }
    out
}

fn write_diff(out: &mut String, plan: &Plan, ctx: &Context<'_>) {
    let title = if plan.blocked() {
        "File-level view (as if the blocked steps ran):"
    } else {
        "File-level view:"
    };
    match fileview::diff(plan, ctx.remote, &for_terminal(ctx.file)) {
        Ok(diff) if diff.is_empty() => {}
        Ok(diff) => {
            let _ = writeln!(out, "{}", styled(BOLD, title));
            for line in diff.lines() {
                let style = if line.starts_with("+++") || line.starts_with("---") {
                    BOLD
                } else if line.starts_with('+') {
                    ADD
                } else if line.starts_with('-') {
                    DELETE
                } else if line.starts_with("@@") {
                    AnsiColor::Cyan.on_default()
                } else {
                    Style::new()
                };
                let _ = writeln!(out, "{}", styled(style, line));
            }
            let _ = writeln!(out);
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "{}",
                styled(DIM, &format!("(no file-level view: {})", for_terminal(&e)))
            );
            let _ = writeln!(out);
        }
    }
}
