//! The plan as a pull-request comment.
//!
//! Layout: the hidden [`MARKER`] line (CI finds its own comment by it and edits it
//! instead of adding another), a title, the summary table, blocked steps (visible, with
//! reason and fix), notes, the unmanaged line, then every step and the file-level diff
//! inside `<details>`. Every string from the corp or the file is escaped with
//! [`for_markdown`]; the diff sits in a code fence longer than any backtick run in it.
//! The comment is cut to [`MAX_CHARS`] characters: steps that do not fit are left out
//! and a note says how many.

use std::fmt::Write;

use super::{Context, action, describe, fileview, plural, summary_parts, unmanaged_line};
use crate::plan::Plan;
use crate::sanitize::{for_markdown, for_markdown_prose as prose};

/// The hidden first line of every plan comment.
pub const MARKER: &str = "<!-- tagsync-plan -->";

/// GitHub refuses comments over 65,536 characters; stay well below.
pub const MAX_CHARS: usize = 60_000;

pub fn render(plan: &Plan, ctx: &Context<'_>) -> String {
    render_capped(plan, ctx, MAX_CHARS)
}

/// [`render`] with an explicit cap (in characters).
pub fn render_capped(plan: &Plan, ctx: &Context<'_>, cap: usize) -> String {
    let esc = |s: &str| for_markdown(s);
    let mut head = String::new();
    let _ = writeln!(head, "{MARKER}");
    let _ = writeln!(
        head,
        "### tagsync plan for `{}` from `{}`\n",
        code(ctx.corp_id),
        code(ctx.file)
    );
    if plan.is_empty() {
        let _ = writeln!(head, "**No changes**: the corp equals the file.\n");
    } else {
        let _ = writeln!(head, "| change | count |\n|---|---:|");
        let _ = writeln!(head, "| API calls | {} |", plan.calls());
        for (n, what) in summary_parts(plan) {
            if n > 0 {
                let _ = writeln!(head, "| {what} | {n} |");
            }
        }
        let _ = writeln!(head);
    }
    if plan.blocked() {
        let _ = writeln!(
            head,
            "> [!CAUTION]\n> **Blocked:** these steps cannot run, so nothing will be sent until they are fixed.\n"
        );
        let total = plan.blocked_steps().count();
        for s in plan.blocked_steps().take(LISTED) {
            if let Some(b) = &s.blocked {
                let d = describe(s, ctx, &esc);
                let _ = writeln!(
                    head,
                    "- step {}: {} — **{}**. Fix: {}",
                    s.id,
                    d.headline,
                    prose(&b.reason),
                    prose(&b.fix)
                );
            }
        }
        if total > LISTED {
            let _ = writeln!(head, "- and {} more blocked steps", total - LISTED);
        }
        let _ = writeln!(head);
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(head, "**Notes**\n");
        for n in plan.notes.iter().take(LISTED) {
            let _ = writeln!(head, "- {}", prose(n));
        }
        if plan.notes.len() > LISTED {
            let _ = writeln!(head, "- and {} more notes", plan.notes.len() - LISTED);
        }
        let _ = writeln!(head);
    }
    if let Some(line) = unmanaged_line(plan, &esc) {
        let _ = writeln!(head, "{line}\n");
    }
    if plan.is_empty() {
        return hard_cap(head, cap);
    }

    let steps: Vec<String> = plan
        .steps
        .iter()
        .map(|s| {
            let d = describe(s, ctx, &esc);
            let mut item = format!("{}. **{}** {}", s.id + 1, action(s), d.headline);
            if s.destructive {
                item.push_str(" ⚠️ destructive");
            }
            if s.blocked.is_some() {
                item.push_str(" ⛔ blocked");
            }
            item.push('\n');
            for i in &d.items {
                let _ = writeln!(item, "   - {i}");
            }
            let _ = writeln!(item, "   <br><em>{}</em>", prose(&s.reason));
            item
        })
        .collect();
    let diff = match fileview::diff(plan, ctx.remote, ctx.file) {
        Ok(d) if !d.is_empty() => {
            let fence = "`".repeat(longest_backtick_run(&d).max(2) + 1);
            format!("#### File-level view\n\n{fence}diff\n{d}{fence}\n")
        }
        _ => String::new(),
    };

    let open = format!(
        "<details><summary>{} step{} in detail</summary>\n\n",
        plan.steps.len(),
        plural(plan.steps.len())
    );
    let close = "\n</details>\n";
    // Room for the cut note, in the worst case.
    let reserve = 200;
    let mut body = String::new();
    let mut used = head.chars().count() + open.chars().count() + close.chars().count();
    let mut shown = 0;
    for s in &steps {
        let n = s.chars().count();
        if used + n + reserve > cap {
            break;
        }
        body.push_str(s);
        used += n;
        shown += 1;
    }
    let mut cut = shown < steps.len();
    if !cut {
        let n = diff.chars().count() + 1;
        if used + n + reserve <= cap {
            body.push('\n');
            body.push_str(&diff);
        } else if !diff.is_empty() {
            cut = true;
        }
    }
    let mut out = head;
    out.push_str(&open);
    out.push_str(&body);
    out.push_str(close);
    if cut {
        let _ = writeln!(
            out,
            "\n_Cut at {cap} characters: {shown} of {} steps shown{}. Run `tagsync plan` locally for the whole plan._",
            steps.len(),
            if shown == steps.len() {
                ", file-level view left out"
            } else {
                ""
            }
        );
    }
    hard_cap(out, cap)
}

/// Blocked steps and notes listed above the details, at most.
const LISTED: usize = 50;

/// The last guard: cut at a line boundary so that the text and a note fit in `cap`.
fn hard_cap(text: String, cap: usize) -> String {
    if text.chars().count() <= cap {
        return text;
    }
    let note =
        format!("\n_Cut at {cap} characters. Run `tagsync plan` locally for the whole plan._\n");
    let keep = cap.saturating_sub(note.chars().count());
    let mut cut: String = text.chars().take(keep).collect();
    if let Some(i) = cut.rfind('\n') {
        cut.truncate(i + 1);
    }
    // A cut inside <details> leaves it open; GitHub closes it at the end of the comment.
    cut.push_str(&note);
    cut
}

/// Text for inside an inline code span: no backticks, no line breaks, no controls.
fn code(s: &str) -> String {
    crate::sanitize::for_terminal(s).replace(['`', '\n'], "'")
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}
