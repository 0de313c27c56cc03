//! The plan as a JSON document for programs. Its shape is versioned by
//! [`FORMAT_VERSION`] and documented field by field in the README ("JSON plan format");
//! fields are only ever added within a version.

use serde::Serialize;

use super::report::JsonApply;
use super::{Context, action, describe, fileview};
use crate::apply::ApplyReport;
use crate::plan::{Blocked, Plan, Scope, StepKind, Summary, Unmanaged};
use crate::sanitize::for_terminal;

/// Version of the JSON plan document. 2: every step has a `scope` (the corp's tags or a
/// rule group's), so a step's `call` is a corp-tag call only where `scope.kind` is
/// `corp`.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Serialize)]
pub struct JsonPlan<'a> {
    pub format_version: u32,
    pub corp_id: &'a str,
    pub file: &'a str,
    /// True when the plan has at least one step.
    pub changes: bool,
    /// True when a step is blocked: the apply would send nothing.
    pub blocked: bool,
    pub calls: usize,
    pub summary: Summary,
    pub steps: Vec<JsonStep<'a>>,
    /// Foreign items left alone. `tags` lists only those inside listed or owned groups;
    /// `tag_count` counts every one, including the tags inside the whole `groups`.
    pub unmanaged: &'a Unmanaged,
    pub notes: &'a [String],
    /// The file-level view after the plan (YAML-ish listing), or `null` when it cannot
    /// be computed.
    pub after: Option<String>,
    /// What `--apply` did (absent when the plan was only shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<JsonApply<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonStep<'a> {
    /// Index in `steps`; `depends_on` refers to it.
    pub index: usize,
    /// `add_group`, `add_tags`, `rename`, `reorder`, `rename_reorder`, `delete`.
    pub action: &'static str,
    /// One line in words, as the text output shows it.
    pub description: String,
    /// Why the step is needed.
    pub reason: &'a str,
    pub depends_on: &'a [usize],
    pub destructive: bool,
    /// Present (true) when the step undoes a change made outside tagsync.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// `{reason, fix}` when the step may not run.
    pub blocked: Option<&'a Blocked>,
    /// Whose tags the call changes: `{"kind": "corp"}` or `{"kind": "rule_group",
    /// "strategy_id": 7, "name": "…"}` (then the call is the `*_strategy_tag` one).
    pub scope: &'a Scope,
    /// The call itself: `type` (`add_group`, `add_tags`, `edit`, `delete`) and its fields.
    pub call: &'a StepKind,
}

pub fn document<'a>(plan: &'a Plan, ctx: &Context<'a>) -> JsonPlan<'a> {
    let esc = |s: &str| for_terminal(s);
    JsonPlan {
        format_version: FORMAT_VERSION,
        corp_id: ctx.corp_id,
        file: ctx.file,
        changes: !plan.is_empty(),
        blocked: plan.blocked(),
        calls: plan.calls(),
        summary: plan.summary(),
        steps: plan
            .steps
            .iter()
            .map(|s| {
                let d = describe(s, ctx, &esc);
                let mut description = d.headline;
                if !d.items.is_empty() {
                    description.push_str(": ");
                    description.push_str(&d.items.join("; "));
                }
                JsonStep {
                    index: s.id,
                    action: action(s),
                    description,
                    reason: &s.reason,
                    depends_on: &s.depends_on,
                    destructive: s.destructive,
                    drift: s.drift,
                    blocked: s.blocked.as_ref(),
                    scope: &s.scope,
                    call: &s.kind,
                }
            })
            .collect(),
        unmanaged: &plan.unmanaged,
        notes: &plan.notes,
        after: fileview::after(plan, ctx.remote)
            .ok()
            .map(|s| fileview::listing(&s)),
        apply: None,
    }
}

pub fn render(plan: &Plan, ctx: &Context<'_>) -> String {
    to_json(&document(plan, ctx))
}

/// The plan document with its `apply` field: what `--format json --apply` prints.
pub fn render_applied(plan: &Plan, ctx: &Context<'_>, report: &ApplyReport) -> String {
    let mut doc = document(plan, ctx);
    doc.apply = Some(JsonApply::new(report));
    to_json(&doc)
}

fn to_json(doc: &JsonPlan<'_>) -> String {
    let mut s = serde_json::to_string_pretty(doc)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
