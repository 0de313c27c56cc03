//! The end report of an apply, printed after the plan: every step applied, failed (with
//! errcode, the vendor's message and a hint) or not attempted (and why), the counts, and
//! what the re-read after the last step found.
//!
//! - [`text`] for a terminal (styled; see [`crate::render`] for when codes are dropped);
//! - [`markdown`] appended to the plan comment of a CI job;
//! - JSON: the plan document's `apply` field ([`JsonApply`]), so `--format json --apply`
//!   still writes one document.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use super::{Context, describe};
use crate::apply::{ApplyReport, Counts, StepStatus, VerifyResult};
use crate::plan::Plan;
use crate::sanitize::{for_markdown, for_markdown_prose as prose, for_terminal};

const OK: Style = AnsiColor::Green.on_default();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const SKIP: Style = AnsiColor::Yellow.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The headline of step `id` of `plan`, or its bare number when the plan lacks it.
fn headline(plan: &Plan, id: usize, ctx: &Context<'_>, esc: &dyn Fn(&str) -> String) -> String {
    match plan.steps.get(id) {
        Some(step) => describe(step, ctx, esc).headline,
        None => format!("step {id}"),
    }
}

/// One line for the end of any report: `3 applied, 1 failed, 2 not attempted`.
pub fn counts_line(c: &Counts) -> String {
    format!(
        "{} applied, {} failed, {} not attempted",
        c.applied, c.failed, c.not_attempted
    )
}

/// What happened, in one sentence, by exit code.
fn outcome(report: &ApplyReport) -> &'static str {
    match report.exit_code() {
        0 => "Apply complete",
        3 => "Apply refused: the plan has blocked steps, nothing was sent",
        4 => "Apply incomplete",
        _ => "Apply stopped",
    }
}

pub fn text(report: &ApplyReport, plan: &Plan, ctx: &Context<'_>) -> String {
    let esc = |s: &str| for_terminal(s);
    let mut out = String::new();
    let _ = writeln!(out, "{}", styled(BOLD, "Apply"));
    let _ = writeln!(out);
    for s in &report.steps {
        let head = headline(plan, s.step_id, ctx, &esc);
        match &s.status {
            StepStatus::Applied { note } => {
                let _ = writeln!(out, "  {} {head}", styled(OK, "applied      "));
                if let Some(n) = note {
                    let _ = writeln!(out, "                  {}", styled(DIM, &esc(n)));
                }
            }
            StepStatus::Failed(f) => {
                let _ = writeln!(out, "  {} {head}", styled(FAIL, "failed       "));
                let code = match (f.call, f.errcode) {
                    (Some(call), Some(c)) => format!("{call}: errcode {c}: "),
                    (None, Some(c)) => format!("errcode {c}: "),
                    _ => String::new(),
                };
                let _ = writeln!(out, "                  {code}{}", esc(&f.errmsg));
                let _ = writeln!(
                    out,
                    "                  {} {}",
                    styled(BOLD, "hint:"),
                    esc(&f.hint)
                );
            }
            StepStatus::NotAttempted { reason } => {
                let _ = writeln!(out, "  {} {head}", styled(SKIP, "not attempted"));
                let _ = writeln!(out, "                  {}", styled(DIM, &esc(reason)));
            }
        }
    }
    if !report.steps.is_empty() {
        let _ = writeln!(out);
    }
    if let Some(e) = &report.error {
        let _ = writeln!(out, "{} {}", styled(FAIL, "error:"), esc(e));
    }
    if let Some(v) = &report.verify {
        let style = if matches!(v, VerifyResult::Converged) {
            OK
        } else {
            FAIL
        };
        let _ = writeln!(out, "{}", styled(style, &v.to_string()));
    }
    let _ = writeln!(
        out,
        "{}",
        styled(
            BOLD,
            &format!("{}: {}.", outcome(report), counts_line(&report.counts))
        )
    );
    out
}

/// Ends the line of an applied step that undid a change made outside tagsync.
const PUT_BACK: &str = " — put back (it had been changed outside tagsync)";

/// The report's share of a CI comment, in characters: with the plan before it (at most
/// [`super::markdown::MAX_CHARS`]) the comment stays within GitHub's 65,536 characters.
pub const MARKDOWN_MAX_CHARS: usize = 5_000;

/// Markdown, to append to the plan comment. Failures are listed in full; applied steps
/// fold into a `<details>` block. At most [`MARKDOWN_MAX_CHARS`] characters: failures
/// first, then steps not attempted, then applied ones; a list that does not fit ends
/// with how many more there are.
pub fn markdown(report: &ApplyReport, plan: &Plan, ctx: &Context<'_>) -> String {
    markdown_capped(report, plan, ctx, MARKDOWN_MAX_CHARS)
}

/// [`markdown`] with an explicit cap (in characters).
pub fn markdown_capped(report: &ApplyReport, plan: &Plan, ctx: &Context<'_>, cap: usize) -> String {
    let esc = |s: &str| for_markdown(s);
    let mut out = String::from("\n");
    let _ = writeln!(out, "### {}", outcome(report));
    let _ = writeln!(out);
    let _ = writeln!(out, "| applied | failed | not attempted |");
    let _ = writeln!(out, "| ---: | ---: | ---: |");
    let c = report.counts;
    let _ = writeln!(
        out,
        "| {} | {} | {} |",
        c.applied, c.failed, c.not_attempted
    );
    let _ = writeln!(out);

    // The end (error, verification) is short and always shown.
    let mut tail = String::new();
    if let Some(e) = &report.error {
        let _ = writeln!(tail, "**Error:** {}", clip(&esc(e), TAIL_LINE));
        let _ = writeln!(tail);
    }
    if let Some(v) = &report.verify {
        verify_markdown(&mut tail, v);
    }

    let of = |pred: fn(&StepStatus) -> bool| {
        report
            .steps
            .iter()
            .filter(move |s| pred(&s.status))
            .map(|s| (headline(plan, s.step_id, ctx, &esc), &s.status))
    };
    let failed: Vec<String> = of(|s| matches!(s, StepStatus::Failed(_)))
        .filter_map(|(head, status)| match status {
            StepStatus::Failed(f) => {
                let code = f
                    .errcode
                    .map(|c| format!("errcode `{c}`: "))
                    .unwrap_or_default();
                Some(format!(
                    "- {head}: {code}{}. Hint: {}\n",
                    esc(&f.errmsg),
                    prose(&f.hint)
                ))
            }
            _ => None,
        })
        .collect();
    let skipped: Vec<String> = if report.refused {
        Vec::new()
    } else {
        of(|s| matches!(s, StepStatus::NotAttempted { .. }))
            .filter_map(|(head, status)| match status {
                StepStatus::NotAttempted { reason } => {
                    Some(format!("- {head}: {}\n", prose(reason)))
                }
                _ => None,
            })
            .collect()
    };
    // The plan above says what is to be put back; here it has been.
    let applied: Vec<String> = report
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Applied { .. }))
        .map(|s| {
            let back = plan.steps.get(s.step_id).is_some_and(|p| p.drift);
            format!(
                "- {}{}\n",
                headline(plan, s.step_id, ctx, &esc),
                if back { PUT_BACK } else { "" }
            )
        })
        .collect();

    let sections = [
        ("**Failed**\n\n".to_string(), "\n", failed),
        ("**Not attempted**\n\n".to_string(), "\n", skipped),
        (
            format!(
                "<details><summary>Applied ({})</summary>\n\n",
                applied.len()
            ),
            "\n</details>\n\n",
            applied,
        ),
    ];
    // Every section's frame and its "and N more" line are paid for up front.
    let frames: usize = sections
        .iter()
        .filter(|(_, _, lines)| !lines.is_empty())
        .map(|(open, close, _)| chars(open) + chars(close) + MORE_LINE)
        .sum();
    let mut left = cap.saturating_sub(chars(&out) + chars(&tail) + frames);
    for (open, close, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        out.push_str(&open);
        let total = lines.len();
        let mut shown = 0;
        for line in lines {
            let n = chars(&line);
            if n > left {
                break;
            }
            left -= n;
            out.push_str(&line);
            shown += 1;
        }
        if shown < total {
            let _ = writeln!(
                out,
                "- and {} more (run `tagsync plan` to see what is left)",
                total - shown
            );
        }
        out.push_str(close);
    }
    out.push_str(&tail);
    out
}

/// What the re-read after the apply found, with at most [`VERIFY_LISTED`] of the
/// changes left.
fn verify_markdown(out: &mut String, v: &VerifyResult) {
    let esc = |s: &str| for_markdown(s);
    match v {
        VerifyResult::Converged => {
            let _ = writeln!(out, "Verified: the corp equals the file.");
        }
        VerifyResult::Remaining { steps } => {
            let _ = writeln!(
                out,
                "**Not verified:** {} change{} still needed after the apply; run `tagsync plan` to see them.\n",
                steps.len(),
                super::plural(steps.len())
            );
            for s in steps.iter().take(VERIFY_LISTED) {
                let _ = writeln!(out, "- {}", clip(&esc(s), VERIFY_LINE));
            }
            if steps.len() > VERIFY_LISTED {
                let _ = writeln!(out, "- and {} more", steps.len() - VERIFY_LISTED);
            }
        }
        VerifyResult::ReadFailed { error } => {
            let _ = writeln!(
                out,
                "**Not verified:** could not re-read the corp ({}); run `tagsync plan` to check.",
                clip(&esc(error), TAIL_LINE)
            );
        }
    }
}

/// Changes left after an apply listed in the report, at most, and their length.
const VERIFY_LISTED: usize = 5;
const VERIFY_LINE: usize = 150;
/// Characters of the error or verification line at most.
const TAIL_LINE: usize = 600;
/// Characters of a list's "and N more" line at most.
const MORE_LINE: usize = 80;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The `apply` field of the JSON document.
#[derive(Debug, Serialize)]
pub struct JsonApply<'a> {
    /// The process exit code this apply gives (0, 1, 3 or 4).
    pub exit_code: u8,
    #[serde(flatten)]
    pub report: &'a ApplyReport,
}

impl<'a> JsonApply<'a> {
    pub fn new(report: &'a ApplyReport) -> Self {
        JsonApply {
            exit_code: report.exit_code(),
            report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{Failure, StepOutcome};
    use crate::remote::Snapshot;

    fn report(applied: usize, failed: usize, not_attempted: usize) -> ApplyReport {
        let failure = Failure {
            errcode: Some(-1),
            errmsg: "system busy ".repeat(20),
            hint: "re-run `tagsync plan --apply`; it plans only what is left".into(),
            kind: "retryable".into(),
            call: None,
        };
        let mut steps = Vec::new();
        for _ in 0..applied {
            steps.push(StepStatus::Applied { note: None });
        }
        for _ in 0..failed {
            steps.push(StepStatus::Failed(failure.clone()));
        }
        for _ in 0..not_attempted {
            steps.push(StepStatus::NotAttempted {
                reason: "a step it depends on failed".into(),
            });
        }
        let steps: Vec<StepOutcome> = steps
            .into_iter()
            .enumerate()
            .map(|(step_id, status)| StepOutcome { step_id, status })
            .collect();
        ApplyReport {
            refused: false,
            counts: Counts::of(&steps),
            steps,
            error: None,
            verify: Some(VerifyResult::Remaining {
                steps: vec!["rename a tag".repeat(100); 50],
            }),
            made_groups: Vec::new(),
        }
    }

    fn render(r: &ApplyReport) -> String {
        let snapshot = Snapshot::default();
        let ctx = Context {
            corp_id: "ww-corp",
            file: "tags.yaml",
            remote: &snapshot,
            whole_plan: None,
        };
        markdown(r, &Plan::default(), &ctx)
    }

    #[test]
    fn a_huge_report_stays_within_its_share_and_says_how_many_are_not_listed() {
        let r = report(10_000, 3_000, 2_000);
        let md = render(&r);
        assert!(chars(&md) <= MARKDOWN_MAX_CHARS, "{} chars", chars(&md));
        assert!(md.contains("| 10000 | 3000 | 2000 |"), "{md}");
        // Failures come first and some are listed; the rest are counted.
        assert!(md.contains("errcode `-1`"), "{md}");
        let failed = md.matches("errcode `-1`").count();
        assert!(
            md.contains(&format!("- and {} more", 3_000 - failed)),
            "{md}"
        );
        let skipped = md.matches(": a step it depends on failed").count();
        assert!(
            md.contains(&format!("- and {} more", 2_000 - skipped)),
            "{md}"
        );
        let applied = md
            .lines()
            .filter(|l| l.starts_with("- step ") && !l.contains(':'))
            .count();
        assert!(md.contains("<details><summary>Applied (10000)</summary>"));
        assert!(
            md.contains(&format!("- and {} more", 10_000 - applied)),
            "{md}"
        );
        assert!(
            md.contains("**Not verified:** 50 changes still needed"),
            "{md}"
        );
        assert!(
            md.ends_with("- and 45 more\n"),
            "5 changes left are listed: {md}"
        );
        assert!(md.contains("…\n"), "long lines are clipped: {md}");
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
    }

    #[test]
    fn a_small_report_is_listed_in_full() {
        let md = render(&report(3, 1, 1));
        assert!(!md.contains("more (run"), "{md}");
        assert_eq!(md.matches("\n- step ").count(), 5, "{md}");
    }
}
