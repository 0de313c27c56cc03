//! The plan as a pull-request comment.
//!
//! Why one file: the sections and their one character budget are one algorithm (each
//! part is sized by what the others leave), easier to follow in one place.
//!
//! Layout: the hidden [`MARKER`] line (CI finds its own comment by it and edits it
//! instead of adding another), a title, the summary table, blocked steps (visible, with
//! reason and fix), then above the fold in order of importance: every item deleted for
//! good (with the consequence), what was changed outside tagsync and is to be put back
//! (the apply report says when it was), the renames; notes, the unmanaged line, then
//! every step and the file-level diff inside `<details>`. Only adds and moves are seen
//! only there. When the plan touches more than
//! [`SECTIONS_FROM`] groups, the steps inside the details read group by group: one
//! heading per group (the delete, which spans groups, under its own), each step keeping
//! its number. Every string from the corp or the file is escaped with
//! [`for_markdown`]; the diff sits in a code fence longer than any backtick run in it.
//!
//! The comment never exceeds [`MAX_CHARS`] characters (GitHub's limit is 65,536). When
//! the whole plan does not fit, it is shortened in this order, and a note above the
//! details says exactly what was left out:
//! 1. every step keeps its headline and reason; destructive and blocked steps list their
//!    items first, as many as fit (the same number for each);
//! 2. the other steps list their first N items then `… and M more`, N as large as fits
//!    while the file-level diff keeps at least a quarter of what is left;
//! 3. the diff gets the rest, cut by lines inside its code fence;
//! 4. only when not even that fits: the reasons of the other steps go, then those of
//!    every step (destructive and blocked steps still list what items fit); when even one
//!    headline line per step does not fit, steps are left out (the other steps from the
//!    end first, blocked ones next, destructive ones last) and each gap says which steps
//!    it hides, in a paragraph that ends the numbered list so the numbers stay right;
//!    destructive and blocked steps then still list their items in up to half of what
//!    their headlines leave, before any other headline is placed.

use std::fmt::Write;

use super::{
    Context, describe, destroyed, fileview, in_scope, plural, summary_parts, unmanaged_line, verb,
};
use crate::plan::{Plan, Scope, Step, StepKind, Target};
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
    let top = top(plan, ctx, cap, &esc);
    if plan.is_empty() {
        return hard_cap(top, cap);
    }
    let sections = Sections::new(plan, cap, &esc);
    let mut views: Vec<View> = sections
        .order
        .iter()
        .map(|&i| View::new(&plan.steps[i], ctx, &esc))
        .collect();
    // A step whose number does not follow the one before it starts a new numbered list.
    for k in 1..views.len() {
        if views[k].number != views[k - 1].number + 1 && !sections.starts(k) {
            views[k].lead = LIST_BREAK;
        }
    }
    let diff = Diff::new(plan, ctx);
    let open = format!(
        "<details><summary>{} step{} in detail</summary>\n\n",
        plan.steps.len(),
        plural(plan.steps.len())
    );
    let close = "\n</details>\n";
    let fixed = len(&top) + len(&open) + len(close) + sections.cost();

    let full: usize = views.iter().map(|v| v.cost(v.full())).sum::<usize>() + diff.full_cost();
    let (layout, note) = if fixed + full <= cap {
        (Layout::full(&views, full), None)
    } else {
        let avail = cap.saturating_sub(fixed + NOTE_RESERVE);
        let layout = Layout::fit(&views, &diff, avail, sections.gap_reserve());
        let note = layout.note(&views, &diff);
        (layout, note)
    };

    let mut out = top;
    if let Some(note) = note {
        let _ = writeln!(out, "{note}\n");
    }
    out.push_str(&open);
    let mut hidden = Vec::new();
    for (k, (v, shape)) in views.iter().zip(&layout.shapes).enumerate() {
        if let Some(head) = sections.head(k) {
            if !hidden.is_empty() {
                out.push_str(&gap(&std::mem::take(&mut hidden)));
            }
            out.push_str(head);
        }
        match shape {
            Some(shape) => {
                if !hidden.is_empty() {
                    out.push_str(&gap(&std::mem::take(&mut hidden)));
                }
                v.write(&mut out, *shape);
            }
            None => hidden.push(v.number),
        }
    }
    if !hidden.is_empty() {
        out.push_str(&gap(&hidden));
    }
    out.push_str(&diff.block(layout.diff_budget));
    out.push_str(close);
    hard_cap(out, cap)
}

/// Everything above the details: marker, title, summary, blocked steps, notes, unmanaged.
fn top(plan: &Plan, ctx: &Context<'_>, cap: usize, esc: &dyn Fn(&str) -> String) -> String {
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
        let lines = plan.blocked_steps().filter_map(|s| {
            s.blocked.as_ref().map(|b| {
                format!(
                    "- step {}: {} — **{}**. Fix: {}\n",
                    s.id,
                    describe(s, ctx, esc).headline,
                    prose(&b.reason),
                    prose(&b.fix)
                )
            })
        });
        listed(&mut head, lines, cap / SHARE, "blocked step");
        let _ = writeln!(head);
    }
    // Above the fold, in order of what matters: what is destroyed, what was changed
    // outside tagsync and is to be put back, what is renamed. Only adds and moves wait for the
    // details.
    let gone = destroyed(plan, esc);
    if !gone.is_empty() {
        let (tags, groups) = (plan.deleted_tag_count(), plan.summary().delete_groups);
        let groups = match groups {
            0 => String::new(),
            n => format!(", {n} group{}", plural(n)),
        };
        let _ = writeln!(
            head,
            "> [!WARNING]\n> **Deleted for good** ({tags} tag{}{groups}): every customer who carries these tags loses them, and nothing brings them back.\n",
            plural(tags)
        );
        let lines = gone.into_iter().map(|g| format!("- {g}\n"));
        budgeted(&mut head, lines, cap / 4, "deleted item", ctx);
        let _ = writeln!(head);
    }
    let drift: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.drift)
        .map(|s| format!("- {}: {}\n", verb(s), describe(s, ctx, esc).headline))
        .collect();
    if !drift.is_empty() {
        let _ = writeln!(
            head,
            "**Changed outside tagsync, to be put back** ({}):\n",
            drift.len()
        );
        budgeted(&mut head, drift.into_iter(), cap / 10, "change", ctx);
        let _ = writeln!(head);
    }
    let renames: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| !s.drift)
        .filter_map(|s| match &s.kind {
            StepKind::Edit {
                target,
                group,
                from_name,
                to_name: Some(to),
                ..
            } => Some(format!(
                "- {}{}\n",
                match target {
                    Target::Group => format!("group {} → {}", esc(from_name), esc(to)),
                    Target::Tag => format!("{} / {} → {}", esc(group), esc(from_name), esc(to)),
                },
                in_scope(&s.scope, esc)
            )),
            _ => None,
        })
        .collect();
    if !renames.is_empty() {
        let _ = writeln!(head, "**Renamed** (same id, customers kept):\n");
        budgeted(&mut head, renames.into_iter(), cap / 10, "rename", ctx);
        let _ = writeln!(head);
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(head, "**Notes**\n");
        let lines = plan.notes.iter().map(|n| format!("- {}\n", prose(n)));
        listed(&mut head, lines, cap / SHARE, "note");
        let _ = writeln!(head);
    }
    if let Some(line) = unmanaged_line(plan, esc) {
        let _ = writeln!(head, "{line}\n");
    }
    head
}

/// As many lines as fit in `budget` characters (no count limit), then `- and N more`
/// naming where the whole list is.
fn budgeted(
    out: &mut String,
    lines: impl Iterator<Item = String>,
    budget: usize,
    what: &str,
    ctx: &Context<'_>,
) {
    let (mut used, mut more) = (0, 0);
    for line in lines {
        let n = len(&line);
        if more == 0 && used + n <= budget {
            out.push_str(&line);
            used += n;
        } else {
            more += 1;
        }
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "- … and {more} more {what}{}: every one is in {}",
            plural(more),
            ctx.whole_plan
                .unwrap_or("the output of `tagsync plan --format json` or `--format text`")
        );
    }
}

/// Up to [`LISTED`] lines (together at most `budget` characters), then `- and N more`.
fn listed(out: &mut String, lines: impl Iterator<Item = String>, budget: usize, what: &str) {
    let (mut used, mut shown, mut more) = (0, 0, 0);
    for line in lines {
        let n = len(&line);
        if more == 0 && shown < LISTED && used + n <= budget {
            out.push_str(&line);
            used += n;
            shown += 1;
        } else {
            more += 1;
        }
    }
    if more > 0 {
        let _ = writeln!(out, "- and {more} more {what}{}", plural(more));
    }
}

/// Blocked steps and notes listed above the details, at most.
const LISTED: usize = 50;

/// The blocked steps above the details, and the notes, each take at most 1/SHARE of the cap.
const SHARE: usize = 8;

/// Room kept for the note that says what was shortened (its longest form is shorter).
const NOTE_RESERVE: usize = 600;

/// The details read group by group when the plan touches more groups than this.
pub const SECTIONS_FROM: usize = 3;

/// Ends a numbered list, so that the next step starts a new one at its own number (an
/// HTML comment shows nothing; a list item's number is kept only as a list's first).
const LIST_BREAK: &str = "\n<!-- -->\n\n";

/// The order the steps are shown in the details and the headings between them.
struct Sections {
    /// Indices into the plan's steps, in the order shown.
    order: Vec<usize>,
    /// `(k, heading)`: the heading goes before the `k`-th step shown.
    heads: Vec<(usize, String)>,
}

impl Sections {
    /// Group by group when the plan touches more than [`SECTIONS_FROM`] groups, some of
    /// them with several steps, and the headings take at most a tenth of the cap;
    /// otherwise the plan's order, no headings.
    fn new(plan: &Plan, cap: usize, esc: &dyn Fn(&str) -> String) -> Sections {
        let plain = Sections {
            order: (0..plan.steps.len()).collect(),
            heads: Vec::new(),
        };
        // Each step's section: the group it touches (`None`: the delete, across groups).
        let mut keys: Vec<Option<(&Scope, &str)>> = Vec::new();
        let key_of: Vec<usize> = plan
            .steps
            .iter()
            .map(|s| {
                let key = section_of(s);
                keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                    keys.push(key);
                    keys.len() - 1
                })
            })
            .collect();
        // Sections help when groups have several steps each, not one step a group (a
        // bootstrap).
        let groups = keys.iter().filter(|k| k.is_some()).count();
        if groups <= SECTIONS_FROM || keys.len() == plan.steps.len() {
            return plain;
        }
        let mut order = plain.order.clone();
        order.sort_by_key(|&i| (key_of[i], i));
        let mut heads = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            if k == 0 || key_of[order[k - 1]] != key_of[i] {
                let n = key_of.iter().filter(|&&x| x == key_of[i]).count();
                let title = match keys[key_of[i]] {
                    Some((Scope::Corp, g)) => format!("Group {}", esc(g)),
                    Some((scope, g)) => format!("Group {} in {}", esc(g), esc(&scope.label())),
                    None => "Across groups".to_string(),
                };
                heads.push((k, format!("\n#### {title} ({n} step{})\n\n", plural(n))));
            }
        }
        let sections = Sections { order, heads };
        if sections.cost() > cap / 10 {
            return plain;
        }
        sections
    }

    fn starts(&self, k: usize) -> bool {
        self.heads.iter().any(|(at, _)| *at == k)
    }

    fn head(&self, k: usize) -> Option<&str> {
        self.heads
            .iter()
            .find(|(at, _)| *at == k)
            .map(|(_, h)| h.as_str())
    }

    /// What the headings cost.
    fn cost(&self) -> usize {
        self.heads.iter().map(|(_, h)| len(h)).sum()
    }

    /// Room for one more gap in each section, when steps are left out (a run of hidden
    /// steps ends at a heading, so it may take a gap on each side of one).
    fn gap_reserve(&self) -> usize {
        self.heads.len() * GAP_MAX
    }
}

/// The group a step touches (its scope, and its name before the plan); `None` for the
/// delete, which may span groups.
fn section_of(s: &Step) -> Option<(&Scope, &str)> {
    let group = match &s.kind {
        StepKind::AddGroup { name, .. } => name,
        StepKind::AddTags { group_name, .. } => group_name,
        StepKind::Edit { group, .. } => group,
        StepKind::Delete { .. } => return None,
    };
    Some((&s.scope, group))
}

/// A step as the lines it may show.
struct View {
    /// 1-based, as listed.
    number: usize,
    /// Written before the headline: [`LIST_BREAK`] when the step before it (as shown)
    /// is not the one numbered just before it.
    lead: &'static str,
    /// `N. **action** headline ⚠️ destructive ⛔ blocked`
    headline: String,
    /// `   - item`, one per item, each ending in a newline.
    items: Vec<String>,
    /// `items_len[k]`: characters of the first `k` item lines.
    items_len: Vec<usize>,
    /// `   <br><em>reason</em>`
    reason: String,
    destructive: bool,
    blocked: bool,
}

/// How much of a step is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    items: usize,
    reason: bool,
}

const HEADLINE_ONLY: Shape = Shape {
    items: 0,
    reason: false,
};

const WITH_REASON: Shape = Shape {
    items: 0,
    reason: true,
};

impl View {
    fn new(s: &Step, ctx: &Context<'_>, esc: &dyn Fn(&str) -> String) -> View {
        let d = describe(s, ctx, esc);
        // The verb in bold (`**add** 2 tags to G`, `**rename** G: a → b`), in words.
        let v = verb(s);
        let mut headline = match d.headline.strip_prefix(v) {
            Some(rest) => format!("{}. **{v}**{rest}", s.id + 1),
            None => format!("{}. **{v}** {}", s.id + 1, d.headline),
        };
        if s.destructive {
            headline.push_str(" ⚠️ destructive");
        }
        if s.blocked.is_some() {
            headline.push_str(" ⛔ blocked");
        }
        headline.push('\n');
        let items: Vec<String> = d.items.iter().map(|i| format!("   - {i}\n")).collect();
        let mut items_len = vec![0];
        for i in &items {
            items_len.push(items_len[items_len.len() - 1] + len(i));
        }
        View {
            number: s.id + 1,
            lead: "",
            headline,
            items,
            items_len,
            reason: format!(
                "   <br><em>{}</em>\n",
                s.reason
                    .lines()
                    .map(prose)
                    .collect::<Vec<_>>()
                    .join("</em><br><em>")
            ),
            destructive: s.destructive,
            blocked: s.blocked.is_some(),
        }
    }

    /// Listed first, cut last: deletes, replaces and blocked steps.
    fn priority(&self) -> bool {
        self.destructive || self.blocked
    }

    fn full(&self) -> Shape {
        Shape {
            items: self.items.len(),
            reason: true,
        }
    }

    /// The line after the first `shown` items, when some are left out.
    fn more(&self, shown: usize) -> Option<String> {
        let left = self.items.len() - shown.min(self.items.len());
        (shown > 0 && left > 0).then(|| format!("   - … and {left} more\n"))
    }

    fn cost(&self, shape: Shape) -> usize {
        let k = shape.items.min(self.items.len());
        len(self.lead)
            + len(&self.headline)
            + self.items_len[k]
            + self.more(k).map_or(0, |m| len(&m))
            + if shape.reason { len(&self.reason) } else { 0 }
    }

    fn write(&self, out: &mut String, shape: Shape) {
        let k = shape.items.min(self.items.len());
        out.push_str(self.lead);
        out.push_str(&self.headline);
        for i in &self.items[..k] {
            out.push_str(i);
        }
        if let Some(m) = self.more(k) {
            out.push_str(&m);
        }
        if shape.reason {
            out.push_str(&self.reason);
        }
    }
}

/// The file-level view: a unified diff, cut by lines to a budget.
struct Diff {
    lines: Vec<String>,
    fence: String,
}

impl Diff {
    fn new(plan: &Plan, ctx: &Context<'_>) -> Diff {
        let text = fileview::diff(plan, ctx.remote, ctx.file).unwrap_or_default();
        let fence = "`".repeat(longest_backtick_run(&text).max(2) + 1);
        Diff {
            lines: text
                .split_inclusive('\n')
                .map(|l| {
                    let mut l = l.to_string();
                    if !l.ends_with('\n') {
                        l.push('\n');
                    }
                    l
                })
                .collect(),
            fence,
        }
    }

    fn opening(&self) -> String {
        format!("\n#### File-level view\n\n{}diff\n", self.fence)
    }

    fn closing(&self, shown: usize) -> String {
        let mut s = format!("{}\n", self.fence);
        if shown < self.lines.len() {
            let _ = writeln!(
                s,
                "\n_File-level view cut after {shown} of {} lines._",
                self.lines.len()
            );
        }
        s
    }

    /// The whole block's length, or 0 when there is no diff.
    fn full_cost(&self) -> usize {
        if self.lines.is_empty() {
            return 0;
        }
        len(&self.opening())
            + self.lines.iter().map(|l| len(l)).sum::<usize>()
            + len(&self.closing(self.lines.len()))
    }

    /// How many lines fit in `budget` characters (with the cut line), or `None` when
    /// not even one does.
    fn lines_within(&self, budget: usize) -> Option<usize> {
        if self.lines.is_empty() {
            return None;
        }
        if self.full_cost() <= budget {
            return Some(self.lines.len());
        }
        let mut used = len(&self.opening()) + len(&self.closing(0));
        let mut shown = 0;
        for l in &self.lines {
            let n = len(l);
            if used + n > budget {
                break;
            }
            used += n;
            shown += 1;
        }
        (shown > 0).then_some(shown)
    }

    /// The block within `budget` characters: whole, cut by lines, or empty.
    fn block(&self, budget: usize) -> String {
        let Some(shown) = self.lines_within(budget) else {
            return String::new();
        };
        let mut s = self.opening();
        for l in &self.lines[..shown] {
            s.push_str(l);
        }
        s.push_str(&self.closing(shown));
        s
    }
}

/// How every step is shown (`None`: left out) and how much the diff may take.
struct Layout {
    shapes: Vec<Option<Shape>>,
    diff_budget: usize,
}

impl Layout {
    fn full(views: &[View], budget: usize) -> Layout {
        Layout {
            shapes: views.iter().map(|v| Some(v.full())).collect(),
            diff_budget: budget,
        }
    }

    /// The most that fits in `avail` characters, in the order of the module docs;
    /// `gap_reserve` is kept back when steps have to be left out.
    fn fit(views: &[View], diff: &Diff, avail: usize, gap_reserve: usize) -> Layout {
        let bases: [fn(&View) -> Shape; 3] = [
            |_| WITH_REASON,
            |v| {
                if v.priority() {
                    WITH_REASON
                } else {
                    HEADLINE_ONLY
                }
            },
            |_| HEADLINE_ONLY,
        ];
        for (level, base) in bases.iter().enumerate() {
            let mut shapes: Vec<Option<Shape>> = views.iter().map(|v| Some(base(v))).collect();
            let used: usize = views.iter().map(|v| v.cost(base(v))).sum();
            let Some(mut left) = avail.checked_sub(used) else {
                continue;
            };
            left -= grow(views, &mut shapes, View::priority, left);
            if level == 0 {
                let reserve = diff.full_cost().min(left / 4);
                left -= grow(views, &mut shapes, |v| !v.priority(), left - reserve);
            }
            return Layout {
                shapes,
                diff_budget: left,
            };
        }
        Layout::elided(views, avail.saturating_sub(gap_reserve))
    }

    /// Headlines only, as many as fit: destructive steps first, then blocked ones, then
    /// the others in order; each gap costs at most `gap_max`. Between the destructive or
    /// blocked headlines and the others, those steps list their items in up to half of
    /// what is left, so a reviewer sees what a delete removes however long the plan.
    fn elided(views: &[View], avail: usize) -> Layout {
        let n = views.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (!views[i].destructive, !views[i].blocked, i));
        let split = order.iter().take_while(|&&i| views[i].priority()).count();
        let mut fit = Elision {
            views,
            avail,
            gap_max: GAP_MAX,
            shapes: vec![None; n],
            gaps: 1, // every step hidden: one gap
            used: 0,
        };
        let kept_all = order[..split].iter().all(|&i| fit.keep(i));
        if kept_all {
            let free = avail.saturating_sub(fit.used + fit.gaps * fit.gap_max);
            fit.used += grow(views, &mut fit.shapes, View::priority, free / 2);
            for &i in &order[split..] {
                if !fit.keep(i) {
                    break;
                }
            }
        }
        Layout {
            diff_budget: avail.saturating_sub(fit.used + fit.gaps * fit.gap_max),
            shapes: fit.shapes,
        }
    }

    /// What was shortened, in one sentence (`None`: nothing was).
    fn note(&self, views: &[View], diff: &Diff) -> Option<String> {
        let mut parts = Vec::new();
        let hidden = self.shapes.iter().filter(|s| s.is_none()).count();
        if hidden > 0 {
            parts.push(format!("{hidden} of {} steps are not shown", views.len()));
        }
        for (prio, who) in [(true, "destructive or blocked "), (false, "")] {
            let cut: Vec<usize> = views
                .iter()
                .zip(&self.shapes)
                .filter_map(|(v, s)| {
                    let s = (*s)?;
                    (v.priority() == prio && s.items < v.items.len()).then_some(s.items)
                })
                .collect();
            let Some(&shown) = cut.iter().max() else {
                continue;
            };
            let k = cut.len();
            let (list, its) = if k == 1 {
                ("lists", "its")
            } else {
                ("list", "their")
            };
            parts.push(if shown == 0 {
                format!("{k} {who}step{} {list} none of {its} items", plural(k))
            } else {
                format!(
                    "{k} {who}step{} {list} only {its} first {shown} item{}",
                    plural(k),
                    plural(shown)
                )
            });
        }
        let no_reason = self
            .shapes
            .iter()
            .filter(|s| s.is_some_and(|s| !s.reason))
            .count();
        if no_reason > 0 {
            parts.push(format!(
                "{no_reason} step{} {} shown without {} reason",
                plural(no_reason),
                if no_reason == 1 { "is" } else { "are" },
                if no_reason == 1 { "its" } else { "their" }
            ));
        }
        match diff.lines_within(self.diff_budget) {
            _ if diff.lines.is_empty() => {}
            Some(n) if n == diff.lines.len() => {}
            Some(n) => parts.push(format!(
                "the file-level diff is cut after {n} of {} lines",
                diff.lines.len()
            )),
            None => parts.push("the file-level diff is left out".to_string()),
        }
        (!parts.is_empty()).then(|| {
            format!(
                "_Shortened to fit GitHub's comment limit: {} — run `tagsync plan` locally for everything._",
                parts.join("; ")
            )
        })
    }
}

/// Steps kept as headlines so far, and what they and the gaps between them cost.
struct Elision<'a> {
    views: &'a [View],
    avail: usize,
    gap_max: usize,
    shapes: Vec<Option<Shape>>,
    gaps: usize,
    used: usize,
}

impl Elision<'_> {
    /// Keep step `i` as a headline if it (and the gaps it leaves) still fits.
    fn keep(&mut self, i: usize) -> bool {
        let n = self.views.len();
        let hidden_left = i > 0 && self.shapes[i - 1].is_none();
        let hidden_right = i + 1 < n && self.shapes[i + 1].is_none();
        let gaps = match (hidden_left, hidden_right) {
            (true, true) => self.gaps + 1,
            (false, false) => self.gaps - 1,
            _ => self.gaps,
        };
        let used = self.used + self.views[i].cost(HEADLINE_ONLY);
        if used + gaps * self.gap_max > self.avail {
            return false;
        }
        self.shapes[i] = Some(HEADLINE_ONLY);
        self.used = used;
        self.gaps = gaps;
        true
    }
}

/// Raise the item count of the steps `which` picks to the largest N (the same for all)
/// whose extra characters stay within `budget`; returns the characters added.
fn grow(
    views: &[View],
    shapes: &mut [Option<Shape>],
    which: fn(&View) -> bool,
    budget: usize,
) -> usize {
    let picked: Vec<usize> = (0..views.len())
        .filter(|&i| which(&views[i]) && shapes[i].is_some())
        .collect();
    let extra = |n: usize| -> usize {
        picked
            .iter()
            .filter_map(|&i| {
                let v = &views[i];
                let s = shapes[i]?;
                Some(v.cost(Shape { items: n, ..s }) - v.cost(s))
            })
            .sum()
    };
    let (mut lo, mut hi) = (
        0,
        picked
            .iter()
            .map(|&i| views[i].items.len())
            .max()
            .unwrap_or(0),
    );
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if extra(mid) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let added = extra(lo);
    for &i in &picked {
        if let Some(s) = &mut shapes[i] {
            s.items = lo;
        }
    }
    added
}

/// The paragraph standing for the steps `hidden` (1-based numbers, ascending) left out.
/// It ends the numbered list, so the next shown step starts a new list at its own number.
fn gap(hidden: &[usize]) -> String {
    match hidden {
        [one] => format!("\n_… step {one} not shown_\n\n"),
        [from, .., to] if to - from + 1 == hidden.len() => {
            format!("\n_… steps {from}–{to} not shown_\n\n")
        }
        _ => format!("\n_… {} steps not shown_\n\n", hidden.len()),
    }
}

/// The longest [`gap`] paragraph (plans have far fewer than 10^9 steps).
const GAP_MAX: usize = "\n_… steps 999999999–999999999 not shown_\n\n".len();

fn len(s: &str) -> usize {
    s.chars().count()
}

/// The last guard: cut at a line boundary so that the text and a note fit in `cap`.
fn hard_cap(text: String, cap: usize) -> String {
    if len(&text) <= cap {
        return text;
    }
    let note =
        format!("\n_Cut at {cap} characters. Run `tagsync plan` locally for the whole plan._\n");
    let keep = cap.saturating_sub(len(&note));
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
