//! Renderers of a plan and of an apply's end report ([`report`]): text, markdown, json.
//!
//! Every renderer takes the [`Plan`] and a [`Context`] (which corp, which file, the
//! snapshot the plan was made from) and returns the whole output as a `String`, so the
//! command decides where it goes and tests snapshot it directly.
//!
//! - [`text`]: for a terminal. Styled with ANSI codes; the command writes it through
//!   `anstream`, which drops the codes when stdout is not a terminal or `NO_COLOR` is set.
//! - [`markdown`]: a pull-request comment (marker line, summary table, `<details>`, cap).
//! - [`json`]: a versioned document (`format_version`), documented in the README.
//! - [`fileview`]: the corp as a YAML-ish listing, before and after, as a unified diff.
//!
//! Every string that came from the corp or the file goes through
//! [`crate::sanitize::for_terminal`] (text, json descriptions) or
//! [`crate::sanitize::for_markdown`] (markdown) before it is shown.

pub mod fileview;
pub mod json;
pub mod markdown;
pub mod report;
pub mod text;

use crate::plan::{NewTag, Plan, Scope, Step, StepKind, Target};
use crate::snapshot::Snapshot;

/// What a renderer needs besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The corp the plan is for.
    pub corp_id: &'a str,
    /// The desired-state file, as the user named it.
    pub file: &'a str,
    /// The corp as read before planning (display names of ids, the "before" view).
    pub remote: &'a Snapshot,
    /// Where the whole plan is written uncut (`plan --summary`), in words ("the job
    /// summary"): a shortened list of the PR comment points there.
    pub whole_plan: Option<&'a str>,
}

impl Context<'_> {
    /// `group / tag` of a tag id in the snapshot, or the id itself when unknown.
    pub fn tag_label(&self, id: &str) -> String {
        let rule_groups = self.remote.rule_groups.iter().flatten();
        self.remote
            .groups
            .iter()
            .chain(rule_groups.flat_map(|r| &r.groups))
            .find_map(|g| {
                g.tags
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| format!("{} / {}", g.name, t.name))
            })
            .unwrap_or_else(|| id.to_string())
    }
}

/// The output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Json,
}

/// Render `plan` in `format`.
pub fn render(format: Format, plan: &Plan, ctx: &Context<'_>) -> String {
    match format {
        Format::Text => text::render(plan, ctx),
        Format::Markdown => markdown::render(plan, ctx),
        Format::Json => json::render(plan, ctx),
    }
}

/// What a step does, in one word (the JSON `action` and the Markdown label).
pub fn action(step: &Step) -> &'static str {
    match &step.kind {
        StepKind::AddGroup { .. } => "add_group",
        StepKind::AddTags { .. } => "add_tags",
        StepKind::Edit {
            to_name, to_order, ..
        } => match (to_name.is_some(), to_order.is_some()) {
            (true, true) => "rename_reorder",
            (true, false) => "rename",
            _ => "reorder",
        },
        StepKind::Delete { .. } => "delete",
    }
}

/// The step in a reader's words: `add`, `rename`, `move`, `rename and move`, `delete`
/// (the JSON keeps [`action`]'s machine names).
pub fn verb(step: &Step) -> &'static str {
    match &step.kind {
        StepKind::AddGroup { .. } | StepKind::AddTags { .. } => "add",
        StepKind::Edit {
            to_name, to_order, ..
        } => match (to_name.is_some(), to_order.is_some()) {
            (true, true) => "rename and move",
            (true, false) => "rename",
            _ => "move",
        },
        StepKind::Delete { .. } => "delete",
    }
}

/// What a plan destroys, one line per item (Markdown-escaped by `esc`): whole groups with
/// their tags, tags, and the old halves of replaces.
pub fn destroyed(plan: &Plan, esc: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut out = Vec::new();
    for step in &plan.steps {
        let StepKind::Delete { groups, tags } = &step.kind else {
            continue;
        };
        let scope = in_scope(&step.scope, esc);
        for g in groups {
            // The group, then every tag in it by name: each is a loss (the list as a
            // whole is budgeted by the caller, line by line).
            out.push(format!(
                "group {}{scope}, the whole group with its {} tag{}:",
                esc(&g.name),
                g.tags.len(),
                plural(g.tags.len())
            ));
            out.extend(
                g.tags
                    .iter()
                    .map(|t| format!("tag {} / {}", esc(&g.name), esc(t))),
            );
        }
        for t in tags {
            let moved = t
                .moved_to
                .as_deref()
                .map(|to| format!(" (moves to group {}: a new tag is made there)", esc(to)))
                .unwrap_or_default();
            out.push(format!(
                "tag {} / {}{scope}{moved}",
                esc(&t.group),
                esc(&t.name)
            ));
        }
    }
    out
}

/// ` (rule group 华东销售 (1))` after an item of a rule group; nothing for the corp's.
pub fn in_scope(scope: &Scope, esc: &dyn Fn(&str) -> String) -> String {
    match scope {
        Scope::Corp => String::new(),
        _ => format!(" ({})", esc(&scope.label())),
    }
}

/// The sign shown before a step: `+` adds, `~` edits, `-` deletes.
pub fn sigil(step: &Step) -> char {
    match &step.kind {
        StepKind::AddGroup { .. } | StepKind::AddTags { .. } => '+',
        StepKind::Edit { .. } => '~',
        StepKind::Delete { .. } => '-',
    }
}

/// A step described in words: a headline and, for adds and deletes, one line per item.
/// `esc` makes each name safe for the output (terminal or Markdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub headline: String,
    pub items: Vec<String>,
}

/// [`describe_call`], its headline led by the rule group for a rule group's step.
pub fn describe(step: &Step, ctx: &Context<'_>, esc: &dyn Fn(&str) -> String) -> Described {
    let mut d = describe_call(step, ctx, esc);
    if !step.scope.is_corp() {
        d.headline = format!("[{}] {}", esc(&step.scope.label()), d.headline);
    }
    d
}

/// One step in words: a headline and its items.
fn describe_call(step: &Step, ctx: &Context<'_>, esc: &dyn Fn(&str) -> String) -> Described {
    let new_tag = |t: &NewTag| {
        let mut s = esc(&t.name);
        if let Some(o) = t.order {
            s.push_str(&format!(" (order {o})"));
        }
        if let Some(id) = &t.replaces {
            s.push_str(&format!(", moved from {}", esc(&ctx.tag_label(id))));
        }
        s
    };
    match &step.kind {
        StepKind::AddGroup { name, order, tags } => Described {
            headline: format!(
                "add group {}{} with {} tag{}",
                esc(name),
                order.map(|o| format!(" (order {o})")).unwrap_or_default(),
                tags.len(),
                plural(tags.len())
            ),
            items: tags.iter().map(new_tag).collect(),
        },
        StepKind::AddTags {
            group_name, tags, ..
        } => Described {
            headline: format!(
                "add {} tag{} to {}",
                tags.len(),
                plural(tags.len()),
                esc(group_name)
            ),
            items: tags.iter().map(new_tag).collect(),
        },
        StepKind::Edit {
            target,
            group,
            from_name,
            to_name,
            from_order,
            to_order,
            ..
        } => {
            let what = match target {
                Target::Group => "group ".to_string(),
                Target::Tag => format!("{}: ", esc(group)),
            };
            let name = match to_name {
                Some(to) => format!("{} → {}", esc(from_name), esc(to)),
                None => esc(from_name),
            };
            let order = to_order
                .map(|to| format!(" (order {from_order} → {to})"))
                .unwrap_or_default();
            Described {
                headline: format!("{what}{name}{order}"),
                items: Vec::new(),
            }
        }
        StepKind::Delete { groups, tags } => {
            let n = tags.len() + groups.iter().map(|g| g.tags.len()).sum::<usize>();
            let mut items: Vec<String> = groups
                .iter()
                .map(|g| {
                    format!(
                        "group {} with its {} tag{}: {}",
                        esc(&g.name),
                        g.tags.len(),
                        plural(g.tags.len()),
                        name_list(g.tags.iter().map(|t| esc(t)))
                    )
                })
                .collect();
            items.extend(tags.iter().map(|t| {
                let moved = t
                    .moved_to
                    .as_deref()
                    .map(|to| format!(" (moves to {}: replace)", esc(to)))
                    .unwrap_or_default();
                format!("{}: {}{moved}", esc(&t.group), esc(&t.name))
            }));
            Described {
                headline: format!(
                    "delete {} tag{}{} (one call)",
                    n,
                    plural(n),
                    if groups.is_empty() {
                        String::new()
                    } else {
                        format!(" and {} group{}", groups.len(), plural(groups.len()))
                    }
                ),
                items,
            }
        }
    }
}

/// The summary in one line: `3 calls: 1 group to add, 2 tags to add, ...`.
pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes: the corp equals the file.".to_string();
    }
    let list: Vec<String> = summary_parts(plan)
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    format!(
        "{} call{}: {}.",
        plan.calls(),
        plural(plan.calls()),
        list.join(", ")
    )
}

/// `(count, label)` of every summary row, in table order; labels agree with the count.
pub fn summary_parts(plan: &Plan) -> Vec<(usize, String)> {
    let s = plan.summary();
    // What is destroyed first, then what cannot run, then what changes, then what is new.
    let rows: [(usize, &str, &str); 8] = [
        (s.delete_groups, "group to delete", "groups to delete"),
        (s.delete_tags, "tag to delete", "tags to delete"),
        (
            s.replaces,
            "tag moving group (replace)",
            "tags moving group (replace)",
        ),
        (s.blocked, "blocked step", "blocked steps"),
        (s.renames, "rename", "renames"),
        (s.reorders, "reorder", "reorders"),
        (s.add_groups, "group to add", "groups to add"),
        (s.add_tags, "tag to add", "tags to add"),
    ];
    rows.iter()
        .map(|&(n, one, many)| (n, if n == 1 { one } else { many }.to_string()))
        .collect()
}

/// The unmanaged items in one line, or `None` when there are none.
pub fn unmanaged_line(plan: &Plan, esc: &dyn Fn(&str) -> String) -> Option<String> {
    let u = &plan.unmanaged;
    if u.is_empty() {
        return None;
    }
    let mut names: Vec<String> = u
        .groups
        .iter()
        .map(|g| format!("group {}", esc(g)))
        .collect();
    names.extend(
        u.tags
            .iter()
            .map(|t| format!("{} / {}", esc(&t.group), esc(&t.name))),
    );
    Some(format!(
        "Unmanaged (not in the file and not tagsync's to change; left alone): {} tag{} — {}",
        u.tag_count,
        plural(u.tag_count),
        name_list(names.drain(..))
    ))
}

/// At most [`NAMES_SHOWN`] names joined by commas, then `and N more`.
pub fn name_list(names: impl Iterator<Item = String>) -> String {
    let mut shown = Vec::new();
    let mut more = 0;
    for n in names {
        if shown.len() < NAMES_SHOWN {
            shown.push(n);
        } else {
            more += 1;
        }
    }
    let mut s = shown.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// How many names a one-line list shows.
pub const NAMES_SHOWN: usize = 10;

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
