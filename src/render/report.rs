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
use crate::apply::{ApplyReport, Counts, StepOutcome, StepStatus, VerifyResult};
use crate::plan::Plan;
use crate::sanitize::{for_markdown, for_terminal};

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
                let code = f
                    .errcode
                    .map(|c| format!("errcode {c}: "))
                    .unwrap_or_default();
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

/// Markdown, to append to the plan comment. Failures are listed in full; applied steps
/// fold into a `<details>` block.
pub fn markdown(report: &ApplyReport, plan: &Plan, ctx: &Context<'_>) -> String {
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
    let of = |pred: fn(&StepOutcome) -> bool| report.steps.iter().filter(move |s| pred(s));
    let failed: Vec<&StepOutcome> = of(|s| matches!(s.status, StepStatus::Failed(_))).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "**Failed**");
        let _ = writeln!(out);
        for s in failed {
            if let StepStatus::Failed(f) = &s.status {
                let code = f
                    .errcode
                    .map(|c| format!("errcode `{c}`: "))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- {}: {code}{}. Hint: {}",
                    headline(plan, s.step_id, ctx, &esc),
                    esc(&f.errmsg),
                    esc(&f.hint)
                );
            }
        }
        let _ = writeln!(out);
    }
    let skipped: Vec<&StepOutcome> =
        of(|s| matches!(s.status, StepStatus::NotAttempted { .. })).collect();
    if !skipped.is_empty() && !report.refused {
        let _ = writeln!(out, "**Not attempted**");
        let _ = writeln!(out);
        for s in skipped {
            if let StepStatus::NotAttempted { reason } = &s.status {
                let _ = writeln!(
                    out,
                    "- {}: {}",
                    headline(plan, s.step_id, ctx, &esc),
                    esc(reason)
                );
            }
        }
        let _ = writeln!(out);
    }
    let applied: Vec<&StepOutcome> =
        of(|s| matches!(s.status, StepStatus::Applied { .. })).collect();
    if !applied.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Applied ({})</summary>\n",
            applied.len()
        );
        for s in applied {
            let _ = writeln!(out, "- {}", headline(plan, s.step_id, ctx, &esc));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if let Some(e) = &report.error {
        let _ = writeln!(out, "**Error:** {}", esc(e));
        let _ = writeln!(out);
    }
    if let Some(v) = &report.verify {
        let line = match v {
            VerifyResult::Converged => "Verified: the corp equals the file.".to_string(),
            other => esc(&other.to_string()),
        };
        let _ = writeln!(out, "{line}");
    }
    out
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
