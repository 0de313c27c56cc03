//! What a fleet run prints: one summary table (corp, calls, adds, renames, deletes,
//! blocked, drift, result), then each corp's plan, in text, Markdown or JSON.
//!
//! - Each corp's plan is rendered by the renderers of `tagsync plan` (`render::*`) when
//!   the corp is done; a corp keeps only its rendered sections.
//! - Markdown stays within the PR-comment limit ([`markdown::MAX_CHARS`]): the largest
//!   plans are shortened first (full → shortened → one line), until the whole fits.
//! - JSON is one versioned document ([`FLEET_FORMAT_VERSION`]): per corp its row, its
//!   error, the JSON plan document of `tagsync plan --format json` (`plan`), and its
//!   Markdown sections (`markdown`, `markdown_short`), so that `tagsync fleet merge` can
//!   write the one comment of several shards.

use serde::{Deserialize, Serialize};

use super::file::FleetCorp;
use super::spill;
use crate::apply::ApplyReport;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{self, Context, Format, markdown};
use crate::sanitize::{for_markdown, for_terminal};

/// Version of the fleet JSON document.
pub const FLEET_FORMAT_VERSION: u32 = 1;
/// The `kind` of the fleet JSON document.
pub const FLEET_KIND: &str = "tagsync-fleet";
/// The hidden first line of a fleet comment.
pub const FLEET_MARKER: &str = "<!-- tagsync-fleet -->";
/// A corp's plan shortened to fit: its Markdown cap.
const SHORT_CHARS: usize = 3_000;

/// What happened to one corp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NoChanges,
    Changes,
    Blocked,
    Applied,
    Partial,
    Error,
}

impl Outcome {
    pub fn of(plan: &Plan, report: Option<&ApplyReport>, applying: bool) -> Self {
        match report.map(ApplyReport::exit) {
            Some(Exit::Blocked) => Outcome::Blocked,
            Some(Exit::Error) => Outcome::Error,
            Some(Exit::Partial) => Outcome::Partial,
            Some(_) => Outcome::Applied,
            None if plan.blocked() => Outcome::Blocked,
            None if plan.is_empty() => Outcome::NoChanges,
            None if applying => Outcome::Applied,
            None => Outcome::Changes,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Outcome::NoChanges => "no changes",
            Outcome::Changes => "changes",
            Outcome::Blocked => "blocked",
            Outcome::Applied => "applied",
            Outcome::Partial => "partly applied",
            Outcome::Error => "error",
        }
    }
}

/// How bad an exit is, for the fleet's exit code (the worst corp's): partly applied (4)
/// is worst (a corp is half changed), then error (1), blocked (3), changes (2), 0.
pub fn severity(exit: Exit) -> u8 {
    match exit {
        Exit::Success => 0,
        Exit::Changes => 1,
        Exit::Blocked => 2,
        Exit::Error => 3,
        Exit::Partial => 4,
    }
}

/// The worst of `exits` (0 when there are none).
pub fn worst(exits: impl IntoIterator<Item = Exit>) -> Exit {
    exits
        .into_iter()
        .max_by_key(|e| severity(*e))
        .unwrap_or(Exit::Success)
}

/// A corp's plan rendered in the formats the run prints.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    pub text: String,
    pub markdown: String,
    pub markdown_short: String,
    pub plan: Option<serde_json::Value>,
}

impl Sections {
    /// Render what `format` needs (JSON carries the Markdown too, for `fleet merge`).
    pub fn render(
        format: Format,
        plan: &Plan,
        ctx: &Context<'_>,
        report: Option<&ApplyReport>,
    ) -> Self {
        let mut s = Sections::default();
        if format == Format::Text {
            s.text = render::text::render(plan, ctx);
            if let Some(r) = report {
                s.text.push('\n');
                s.text.push_str(&render::report::text(r, plan, ctx));
            }
            return s;
        }
        let md = |cap: usize| {
            let mut out = strip_marker(markdown::render_capped(plan, ctx, cap));
            if let Some(r) = report {
                out.push_str(&render::report::markdown_capped(r, plan, ctx, cap));
            }
            out
        };
        if !plan.is_empty() || report.is_some() {
            s.markdown = md(markdown::MAX_CHARS / 2);
            s.markdown_short = md(SHORT_CHARS);
        }
        if format == Format::Json {
            let json = match report {
                Some(r) => render::json::render_applied(plan, ctx, r),
                None => render::json::render(plan, ctx),
            };
            s.plan = serde_json::from_str(&json).ok();
        }
        s
    }
}

fn strip_marker(text: String) -> String {
    match text.strip_prefix(markdown::MARKER) {
        Some(rest) => rest.trim_start_matches('\n').to_owned(),
        None => text,
    }
}

/// One corp's result: its row of the summary and its rendered plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpResult {
    pub id: String,
    pub corp_id: String,
    pub files: Vec<String>,
    pub result: Outcome,
    /// The corp's exit code, as `tagsync plan` (or `plan --apply`) would give it.
    pub exit: u8,
    pub calls: usize,
    /// Groups and tags added.
    pub adds: usize,
    pub renames: usize,
    /// Groups and tags deleted (replaces included).
    pub deletes: usize,
    pub blocked: usize,
    /// Steps that undo a change made outside tagsync.
    pub drift: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The JSON plan document of `tagsync plan --format json` (with `apply` when applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    /// The corp's part of the PR comment, and the same shortened.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub markdown: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub markdown_short: String,
    #[serde(skip)]
    pub text: String,
    /// The characters of its Markdown section at each level (once rendered).
    #[serde(skip)]
    pub md_costs: [usize; 3],
}

impl CorpResult {
    pub fn new(
        corp: &FleetCorp,
        files: Vec<String>,
        plan: &Plan,
        result: Outcome,
        exit: Exit,
        sections: Sections,
    ) -> Self {
        let s = plan.summary();
        CorpResult {
            id: corp.id.clone(),
            corp_id: corp.corp_id.clone(),
            files,
            result,
            exit: exit.code(),
            calls: plan.calls(),
            adds: s.add_groups + s.add_tags,
            renames: s.renames,
            deletes: s.delete_groups + s.delete_tags,
            blocked: s.blocked,
            drift: plan.steps.iter().filter(|s| s.drift).count(),
            error: None,
            plan: sections.plan,
            markdown: sections.markdown,
            markdown_short: sections.markdown_short,
            text: sections.text,
            md_costs: [0; 3],
        }
    }

    /// A corp that could not be planned (or applied): `message` says why.
    pub fn failed(corp: &FleetCorp, message: String) -> Self {
        let mut r = CorpResult::new(
            corp,
            corp.files.iter().map(|f| f.display().to_string()).collect(),
            &Plan::default(),
            Outcome::Error,
            Exit::Error,
            Sections::default(),
        );
        r.error = Some(message);
        r
    }

    /// Every string with each of `secrets` (4 characters or more) replaced by `***`.
    pub fn redacted(mut self, secrets: &[String]) -> Self {
        let secrets: Vec<&String> = secrets.iter().filter(|s| s.chars().count() >= 4).collect();
        if secrets.is_empty() {
            return self;
        }
        let clean = |s: &mut String| {
            for secret in &secrets {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "***");
                }
            }
        };
        for s in [&mut self.markdown, &mut self.markdown_short, &mut self.text] {
            clean(s);
        }
        if let Some(e) = &mut self.error {
            clean(e);
        }
        if let Some(plan) = &self.plan {
            let mut json = plan.to_string();
            let before = json.clone();
            clean(&mut json);
            if json != before {
                self.plan = serde_json::from_str(&json).ok();
            }
        }
        self
    }

    /// The parts `format` prints of this corp ([`spill`]'s order), its Markdown sizes
    /// kept in `md_costs`; the rendered fields are emptied: what stays is its row.
    pub fn parts(&mut self, format: Format) -> [String; spill::PARTS] {
        let mut parts: [String; spill::PARTS] = Default::default();
        match format {
            Format::Text => {
                let body = match &self.error {
                    Some(e) => format!("error: {e}\n"),
                    None => std::mem::take(&mut self.text),
                };
                if !body.is_empty() {
                    let (id, corp) = (for_terminal(&self.id), for_terminal(&self.corp_id));
                    parts[spill::TEXT] = format!("\n== {id} ({corp}) ==\n{body}");
                }
            }
            Format::Markdown => {
                for (l, level) in section_levels(self).into_iter().enumerate() {
                    self.md_costs[l] = chars(&level);
                    parts[spill::MD + l] = level;
                }
            }
            Format::Json => {
                parts[spill::JSON] = serde_json::to_string(self).unwrap_or_else(|e| {
                    serde_json::json!({"id": self.id, "error": format!("cannot write: {e}")})
                        .to_string()
                });
            }
        }
        self.plan = None;
        self.markdown = String::new();
        self.markdown_short = String::new();
        self.text = String::new();
        parts
    }

    pub(super) fn exit(&self) -> Exit {
        match self.exit {
            0 => Exit::Success,
            2 => Exit::Changes,
            3 => Exit::Blocked,
            4 => Exit::Partial,
            _ => Exit::Error,
        }
    }

    pub(super) fn cells(&self) -> [String; 8] {
        [
            self.id.clone(),
            self.calls.to_string(),
            self.adds.to_string(),
            self.renames.to_string(),
            self.deletes.to_string(),
            self.blocked.to_string(),
            self.drift.to_string(),
            self.result.word().to_owned(),
        ]
    }
}

/// The JSON document of a run (what `fleet merge` reads; `--format json` writes it one
/// corp at a time, [`Summary::write`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetDoc {
    pub format_version: u32,
    pub kind: String,
    /// `plan` or `apply`.
    pub mode: String,
    /// `K/N` when the run was one shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The worst corp's exit code.
    pub exit: u8,
    pub corps: Vec<CorpResult>,
}

/// A corp's section at each level: whole, shortened, one line ("" when it has nothing
/// to show).
fn section_levels(c: &CorpResult) -> [String; 3] {
    let id = for_markdown(&c.id);
    let corp = for_markdown(&c.corp_id);
    let head = format!(
        "<details><summary>{id} ({corp}): {}</summary>\n\n",
        c.result.word()
    );
    let line = format!(
        "- **{id}** ({corp}): {}, {} calls: shortened to fit; `--format json` has the whole plan\n",
        c.result.word(),
        c.calls
    );
    if let Some(e) = &c.error {
        let fence = "`".repeat(3.max(longest_backtick_run(e) + 1));
        let whole = format!("{head}{fence}text\n{e}\n{fence}\n\n</details>\n\n");
        let first: String = e.lines().next().unwrap_or("").chars().take(300).collect();
        let short = format!("{head}{fence}text\n{first}\n{fence}\n\n</details>\n\n");
        return [whole, short, line];
    }
    if c.markdown.is_empty() {
        return Default::default();
    }
    [
        format!("{head}{}\n\n</details>\n\n", c.markdown),
        format!("{head}{}\n\n</details>\n\n", c.markdown_short),
        line,
    ]
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

pub(super) fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_is_partial_then_error_then_blocked_then_changes() {
        use Exit::*;
        assert_eq!(worst([Success, Changes, Blocked]), Blocked);
        assert_eq!(worst([Blocked, Error, Changes]), Error);
        assert_eq!(worst([Error, Partial]), Partial);
        assert_eq!(worst([]), Success);
    }
}
