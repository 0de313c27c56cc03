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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::file::FleetCorp;
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

    fn exit(&self) -> Exit {
        match self.exit {
            0 => Exit::Success,
            2 => Exit::Changes,
            3 => Exit::Blocked,
            4 => Exit::Partial,
            _ => Exit::Error,
        }
    }

    fn cells(&self) -> [String; 8] {
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

/// The whole run as one JSON document.
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

impl FleetDoc {
    pub fn new(mode: &str, shard: Option<String>, corps: Vec<CorpResult>) -> Self {
        FleetDoc {
            format_version: FLEET_FORMAT_VERSION,
            kind: FLEET_KIND.to_owned(),
            mode: mode.to_owned(),
            shard,
            exit: worst(corps.iter().map(CorpResult::exit)).code(),
            corps,
        }
    }

    pub fn exit(&self) -> Exit {
        worst(self.corps.iter().map(CorpResult::exit))
    }

    /// The document in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).map_or_else(
                |e| format!("{{\"error\": \"cannot write the JSON: {e}\"}}\n"),
                |s| s + "\n",
            ),
            Format::Markdown => self.markdown(),
            Format::Text => self.text(),
        }
    }

    fn counts(&self) -> String {
        let mut words = Vec::new();
        for o in [
            Outcome::Error,
            Outcome::Partial,
            Outcome::Blocked,
            Outcome::Changes,
            Outcome::Applied,
            Outcome::NoChanges,
        ] {
            let n = self.corps.iter().filter(|c| c.result == o).count();
            if n > 0 {
                words.push(format!("{n} {}", o.word()));
            }
        }
        words.join(", ")
    }

    fn title(&self) -> String {
        let shard = self
            .shard
            .as_ref()
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default();
        let n = self.corps.len();
        format!(
            "tagsync fleet {}{shard}: {n} corp{}: {}",
            self.mode,
            if n == 1 { "" } else { "s" },
            self.counts()
        )
    }

    fn text(&self) -> String {
        const HEAD: [&str; 8] = [
            "corp", "calls", "adds", "renames", "deletes", "blocked", "drift", "result",
        ];
        let rows: Vec<[String; 8]> = self
            .corps
            .iter()
            .map(|c| c.cells().map(|s| for_terminal(&s)))
            .collect();
        let mut widths = HEAD.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                if (1..7).contains(&i) {
                    let _ = write!(out, "{}{cell}  ", " ".repeat(pad));
                } else {
                    let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = format!("{}\n\n", self.title());
        out.push_str(&line(&HEAD.map(str::to_owned)));
        for row in &rows {
            out.push_str(&line(row));
        }
        for c in &self.corps {
            let body = match &c.error {
                Some(e) => format!("error: {e}\n"),
                None if c.text.is_empty() => continue,
                None => c.text.clone(),
            };
            let _ = write!(
                out,
                "\n== {} ({}) ==\n{body}",
                for_terminal(&c.id),
                for_terminal(&c.corp_id)
            );
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!("{FLEET_MARKER}\n## {}\n\n", for_markdown(&self.title()));
        out.push_str(&self.table(markdown::MAX_CHARS / 3));
        let budget = markdown::MAX_CHARS.saturating_sub(chars(&out) + 400);
        let sections: Vec<[String; 3]> = self.corps.iter().map(section_levels).collect();
        let chosen = fit(&sections, budget);
        let mut left_out = 0;
        for (levels, level) in sections.iter().zip(chosen) {
            match level {
                Some(l) if !levels[l].is_empty() => out.push_str(&levels[l]),
                Some(_) => {}
                None => left_out += 1,
            }
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "\n_{left_out} more corp plans do not fit in this comment: the JSON output (`--format json`) has every one._"
            );
        }
        out
    }

    /// The summary table, at most `cap` characters: corps with something to say first
    /// when not all rows fit.
    fn table(&self, cap: usize) -> String {
        let mut out = String::from(
            "| corp | calls | adds | renames | deletes | blocked | drift | result |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        );
        let row = |c: &CorpResult| {
            let cells = c.cells().map(|s| for_markdown(&s));
            format!("| {} |\n", cells.join(" | "))
        };
        let all: usize = self.corps.iter().map(|c| chars(&row(c))).sum();
        let quiet = |c: &&CorpResult| c.result == Outcome::NoChanges;
        let mut shown = 0;
        for c in self.corps.iter().filter(|c| all <= cap || !quiet(c)) {
            let r = row(c);
            if chars(&out) + chars(&r) > cap {
                break;
            }
            out.push_str(&r);
            shown += 1;
        }
        let hidden = self.corps.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n_{hidden} more corps not listed (those with no changes first): the JSON output has every row._"
            );
        }
        out.push('\n');
        out
    }
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

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The level (0 whole, 1 shortened, 2 one line; `None` left out) of each section so that
/// all fit in `budget` characters: the largest is shortened first, again and again.
fn fit(sections: &[[String; 3]], budget: usize) -> Vec<Option<usize>> {
    let costs: Vec<[usize; 3]> = sections
        .iter()
        .map(|s| s.each_ref().map(|t| chars(t)))
        .collect();
    let mut level: Vec<Option<usize>> = vec![Some(0); sections.len()];
    let mut total: usize = costs.iter().map(|c| c[0]).sum();
    let mut heap: BinaryHeap<(usize, Reverse<usize>)> = costs
        .iter()
        .enumerate()
        .filter(|(_, c)| c[0] > 0)
        .map(|(i, c)| (c[0], Reverse(i)))
        .collect();
    while total > budget {
        let Some((cost, Reverse(i))) = heap.pop() else {
            break;
        };
        total -= cost;
        level[i] = match level[i] {
            Some(l) if l < 2 => Some(l + 1),
            _ => None,
        };
        if let Some(l) = level[i] {
            total += costs[i][l];
            heap.push((costs[i][l], Reverse(i)));
        }
    }
    level
}

/// `docs` (each a shard's `--format json`) as one document: the corps of all, each once.
pub fn merge(docs: Vec<(String, FleetDoc)>) -> Result<FleetDoc, String> {
    let mut mode: Option<String> = None;
    let mut corps: Vec<CorpResult> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (name, doc) in docs {
        if doc.kind != FLEET_KIND || doc.format_version != FLEET_FORMAT_VERSION {
            return Err(format!(
                "{name} is not a tagsync fleet JSON document of format version {FLEET_FORMAT_VERSION} (write it with `tagsync fleet plan --format json`)"
            ));
        }
        match &mode {
            Some(m) if *m != doc.mode => {
                return Err(format!(
                    "{name} is of a fleet {}, the others of a fleet {m}: merge the shards of one run",
                    doc.mode
                ));
            }
            _ => mode = Some(doc.mode.clone()),
        }
        for c in doc.corps {
            if let Some(first) = seen.insert(c.id.clone(), name.clone()) {
                return Err(format!(
                    "corp `{}` is in both {first} and {name}: give each shard's output once",
                    c.id
                ));
            }
            corps.push(c);
        }
    }
    Ok(FleetDoc::new(
        &mode.unwrap_or_else(|| "plan".into()),
        None,
        corps,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_sections_are_shortened_first() {
        let s = |n: usize| ["x".repeat(n), "y".repeat(n / 10), "z".repeat(5)];
        let sections = vec![s(1000), s(100), s(5000)];
        assert_eq!(fit(&sections, 10_000), vec![Some(0); 3]);
        assert_eq!(fit(&sections, 2_000), vec![Some(0), Some(0), Some(1)]);
        assert_eq!(fit(&sections, 700), vec![Some(1), Some(0), Some(1)]);
        assert_eq!(fit(&sections, 15), vec![Some(2), Some(2), Some(2)]);
        assert_eq!(fit(&sections, 10), vec![None, Some(2), Some(2)]);
    }

    #[test]
    fn the_worst_exit_is_partial_then_error_then_blocked_then_changes() {
        use Exit::*;
        assert_eq!(worst([Success, Changes, Blocked]), Blocked);
        assert_eq!(worst([Blocked, Error, Changes]), Error);
        assert_eq!(worst([Error, Partial]), Partial);
        assert_eq!(worst([]), Success);
    }
}
