//! Load and check the desired-state file: YAML (with spans) → every rule of PRODUCT
//! section 1 → [`Desired`]. All problems are collected, never just the first.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_saphyr::{Budget, Options, Spanned};

use super::diagnostic::{Diagnostic, Diagnostics, Pos};
use super::model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
use super::raw::{RawFile, RawGroup, RawName, RawOrder, RawOwnership, RawTag};
use crate::sanitize::is_unsafe_char;

/// The only file format version this build understands.
pub const VERSION: i64 = 1;
/// Largest accepted file. 10000 tags of 30 Chinese characters with old names and ids
/// fit in a few MiB; anything past this is not a tag list.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// WeCom's limit on corp tags.
pub const MAX_TAGS: usize = 10_000;
/// WeCom's limit on a name, in characters.
pub const MAX_NAME_CHARS: usize = 30;

/// Read and check a desired-state file.
pub fn load(path: &Path) -> Result<Desired, Diagnostics> {
    let bytes = read_file(path)?;
    load_bytes(&bytes, &path.display().to_string())
}

/// Read a desired-state file's bytes (at most [`MAX_FILE_BYTES`] + 1 of them, so that
/// [`load_bytes`] reports a file too large without reading it all).
pub fn read_file(path: &Path) -> Result<Vec<u8>, Diagnostics> {
    let name = path.display().to_string();
    let fail = |msg: String, help: &str| {
        Diagnostics::new(&name, "", vec![Diagnostic::new(msg, Pos::START, help)])
    };
    let file = std::fs::File::open(path).map_err(|e| {
        fail(
            format!("cannot open {name}: {e}"),
            "check the path given to -c",
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read {name}: {e}"), "check the file"))?;
    Ok(bytes)
}

/// Check a desired-state file given as bytes (not yet known to be UTF-8).
pub fn load_bytes(bytes: &[u8], file_name: &str) -> Result<Desired, Diagnostics> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(file_name));
    }
    match std::str::from_utf8(bytes) {
        Ok(src) => load_str(src, file_name),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            let lossy = String::from_utf8_lossy(bytes);
            let d = Diagnostic::new(
                "the file is not valid UTF-8",
                Pos::new(line, column, 1),
                "save the file as UTF-8 (not GBK or UTF-16)",
            )
            .label("invalid byte here");
            Err(Diagnostics::new(file_name, &lossy, vec![d]))
        }
    }
}

fn too_large(name: &str) -> Diagnostics {
    let d = Diagnostic::new(
        format!(
            "the file is larger than {} MiB",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        Pos::START,
        "a desired-state file of 10000 tags is a few MiB; check that this is the right file",
    );
    Diagnostics::new(name, "", vec![d])
}

/// Check a desired-state file given as text; `file_name` is used in diagnostics.
pub fn load_str(src: &str, file_name: &str) -> Result<Desired, Diagnostics> {
    if src.len() > MAX_FILE_BYTES {
        return Err(too_large(file_name));
    }
    // A UTF-8 byte-order mark (Windows editors write one) is allowed at the start.
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    let fail = |items: Vec<Diagnostic>| Diagnostics::new(file_name, src, items);
    if is_blank(src) {
        return Err(fail(vec![Diagnostic::new(
            "the file is empty",
            Pos::START,
            "start from `tagsync export` or tags.yaml.example: `version: 1` and a `groups:` list",
        )]));
    }
    let raw: RawFile = serde_saphyr::from_str_with_options(src, options())
        .map_err(|e| fail(vec![parse_error(&e, src)]))?;
    let mut checker = Checker::default();
    let desired = checker.file(raw);
    if checker.problems.is_empty() {
        Ok(desired)
    } else {
        Err(fail(checker.problems))
    }
}

/// Only whitespace and comments.
fn is_blank(src: &str) -> bool {
    src.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Parser limits: a hostile file (alias bomb, deep nesting) fails fast instead of
/// eating memory or time. Real files are shallow (six levels) and small.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 32;
    budget.max_documents = 1;
    budget.max_nodes = 400_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = 100_000;
    budget.flow_nesting_limit = 32;
    let mut opts = Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts.leading_zero_numbers_as_strings = true;
    opts.underscored_numbers_as_strings = true;
    // `Y`, `no`, `on` are names, not YAML 1.1 booleans.
    opts.strict_booleans = true;
    opts
}

/// A YAML or type error from the parser as a diagnostic.
fn parse_error(e: &serde_saphyr::Error, src: &str) -> Diagnostic {
    let mut pos = e
        .location()
        .and_then(|l| Pos::from_location(&l))
        .unwrap_or(Pos::START);
    pos.len = 1;
    let rendered = e
        .render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        })
        .to_string();
    let message = friendly(&strip_location_suffix(&rendered));
    let help = parse_help(&message);
    let line = src.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    if message.contains("tab")
        && let Some(i) = line.chars().position(|c| c == '\t')
    {
        // The parser reports the position after the tab; point at the tab itself.
        pos.column = i + 1;
    }
    for prefix in ["unknown field `", "unknown variant `"] {
        if let Some(word) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
        {
            pos.len = word.chars().count();
        }
    }
    let mut d = Diagnostic::new(message.clone(), pos, help);
    if let Some(key) = message
        .strip_prefix("duplicate key `")
        .and_then(|k| k.strip_suffix('`'))
    {
        pos.len = key.chars().count();
        d.pos = pos;
        d = d.label("repeated here");
        if let Some(first) = earlier_key(src, pos, key) {
            d = d.note(first, "first here");
        }
    }
    d
}

/// Parser wording made plain for users.
fn friendly(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("duplicate key `{key}`");
    }
    if msg.starts_with("alias replay limit exceeded") {
        return "too many alias expansions: YAML aliases (`*name`) expand to more than 100000 nodes"
            .to_owned();
    }
    if let Some(what) = msg.strip_prefix("budget breached: ") {
        let what = what.split_whitespace().next().unwrap_or(what);
        if what == "Documents" {
            return "more than one YAML document (a second `---`)".to_owned();
        }
        return format!("the file exceeds a parser limit ({what})");
    }
    if msg.starts_with("invalid boolean") {
        return "expected `true` or `false`".to_owned();
    }
    if msg.starts_with("cannot deserialize null") {
        return "expected a value here, found nothing".to_owned();
    }
    match msg {
        "invalid i64" | "invalid u64" | "invalid i32" | "invalid u32" => {
            "expected a whole number".to_owned()
        }
        "recursion limit exceeded" => "the file is nested too deeply".to_owned(),
        "expected sequence start" => "expected a list here".to_owned(),
        "expected mapping start" => "expected a map (`key: value`) here".to_owned(),
        _ => msg.to_owned(),
    }
}

/// Where `key` first appears in the same mapping as the duplicate at `dup`. The parser
/// reports only the second place; this finds the first by scanning back over lines whose
/// key sits at the same column (block style) or earlier on the same line (flow style).
fn earlier_key(src: &str, dup: Pos, key: &str) -> Option<Pos> {
    let lines: Vec<&str> = src.lines().collect();
    let col = dup.column.checked_sub(1)?;
    let is_key_at = |line: &str, at: usize| {
        let rest: String = line.chars().skip(at).collect();
        [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .any(|k| rest.starts_with(k.as_str()))
    };
    // Flow style: `{name: a, name: b}` on one line.
    let same = lines.get(dup.line.checked_sub(1)?)?;
    let chars: Vec<char> = same.chars().collect();
    for at in (0..col.min(chars.len())).rev() {
        let before_ok = at == 0 || matches!(chars[at - 1], '{' | ' ' | ',');
        if before_ok && is_key_at(same, at) {
            return Some(Pos::new(dup.line, at + 1, key.chars().count()));
        }
    }
    // Block style: same column, nothing but spaces or `- ` before it.
    for line_no in (1..dup.line).rev() {
        let line = lines.get(line_no - 1)?;
        let indent: String = line.chars().take(col).collect();
        let content_starts_before = indent.chars().any(|c| c != ' ' && c != '-');
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        if blank {
            continue;
        }
        if !content_starts_before && is_key_at(line, col) {
            return Some(Pos::new(line_no, col + 1, key.chars().count()));
        }
        let first = line.chars().position(|c| c != ' ').unwrap_or(0);
        if first < col && !indent.trim_start().starts_with('-') {
            return None;
        }
        if indent.contains('-') {
            // The item that holds the mapping starts here; the key was not above it.
            return None;
        }
    }
    None
}

/// The parser appends " at line L column C"; the diagnostic shows that itself.
fn strip_location_suffix(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

fn parse_help(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("unknown field") {
        "check the spelling: the keys allowed here are listed in the message"
    } else if m.contains("duplicate key") {
        "remove one of the two entries with this key"
    } else if m.contains("more than one yaml document") {
        "keep the whole desired state in one YAML document"
    } else if m.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation"
    } else if m.contains("parser limit") || m.contains("alias") || m.contains("nested too deeply") {
        "the file is nested too deeply or expands too many aliases; write the lists out plainly"
    } else if m.contains("quote it") {
        "put the name in quotes so YAML reads it as text"
    } else if m.contains("invalid type") || m.contains("expected") || m.contains("unknown variant")
    {
        "see tagsync.schema.json (`tagsync schema`) for the shape of each key"
    } else {
        "fix the YAML syntax at this position"
    }
}

/// `managed` defaults to true.
fn is_managed(g: &RawGroup) -> bool {
    g.managed.as_ref().is_none_or(|m| m.value)
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos::from_location(&s.referenced).unwrap_or(Pos::START)
}

/// Where a name was seen first, for duplicate checks.
type Seen = HashMap<String, Pos>;

#[derive(Default)]
struct Checker {
    problems: Vec<Diagnostic>,
    tag_count: usize,
    ids: Seen,
}

/// Which list an item belongs to, for messages.
#[derive(Clone, Copy)]
enum Kind {
    Group,
    Tag,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Tag => "tag",
        }
    }
}

impl Checker {
    fn push(&mut self, d: Diagnostic) {
        self.problems.push(d);
    }

    fn file(&mut self, raw: RawFile) -> Desired {
        match &raw.version {
            None => self.push(Diagnostic::new(
                "missing `version`",
                Pos::START,
                "add `version: 1` at the top of the file",
            )),
            Some(v) if v.value != VERSION => self.push(
                Diagnostic::new(
                    format!("unsupported file version {}", v.value),
                    pos_of(v),
                    "this tagsync reads `version: 1`",
                )
                .label("expected 1"),
            ),
            Some(_) => {}
        }
        let ownership = match raw.ownership.map(|o| o.value) {
            Some(RawOwnership::All) => Ownership::All,
            Some(RawOwnership::Ledger) | None => Ownership::Ledger,
        };
        let groups = match raw.groups {
            Some(Spanned {
                value: Some(list), ..
            }) => list,
            missing => {
                // An emptied list is refused unless written `groups: []`: with owned
                // items, an empty file deletes them all.
                let (message, pos) = match &missing {
                    Some(g) => ("`groups` has no value", pos_of(g)),
                    None => ("missing `groups` (or it has no value)", Pos::START),
                };
                self.push(Diagnostic::new(
                    message,
                    pos,
                    "list the groups; write `groups: []` only if the corp should have none",
                ));
                return Desired {
                    version: 1,
                    ownership,
                    groups: Vec::new(),
                };
            }
        };
        let mut names = Seen::new();
        let mut old_names = Seen::new();
        // Unmanaged groups are never reordered, so they take no part in the order rule.
        let orders: Vec<_> = groups
            .iter()
            .filter(|g| is_managed(&g.value))
            .map(|g| (pos_of(&g.value.name), g.value.order.as_ref()))
            .collect();
        self.mixed_orders(&orders, Kind::Group);
        let groups = groups
            .into_iter()
            .map(|g| self.group(g, &mut names, &mut old_names))
            .collect();
        Desired {
            version: 1,
            ownership,
            groups,
        }
    }

    fn group(
        &mut self,
        g: Spanned<RawGroup>,
        names: &mut Seen,
        old_names: &mut Seen,
    ) -> DesiredGroup {
        let g = g.value;
        let group_order_pos = g.order.as_ref().map_or(Pos::START, pos_of);
        let name = g.name.value.0.clone();
        let name_pos = pos_of(&g.name);
        self.name(&name, name_pos, Kind::Group);
        self.unique(names, &name, name_pos, Kind::Group, None);
        let managed = is_managed(&g);
        let id = self.id(g.id);
        let previously = self.previously(
            g.previously.unwrap_or_default(),
            &name,
            old_names,
            Kind::Group,
            managed,
        );
        let order = self.order(g.order.as_ref());
        if !managed {
            self.unmanaged_order(order, g.order.as_ref().map(pos_of), Kind::Group, &name);
        }
        let mut tags = Vec::new();
        match g.tags {
            None => self.push(
                Diagnostic::new(
                    format!("group `{name}` has no `tags`"),
                    name_pos,
                    "list at least one tag: WeCom cannot hold an empty group",
                )
                .label("this group"),
            ),
            Some(list) if list.value.is_empty() => self.push(
                Diagnostic::new(
                    format!("group `{name}` is empty"),
                    pos_of(&list),
                    "list at least one tag, or remove the group: WeCom cannot hold an empty group",
                )
                .label("no tags"),
            ),
            Some(list) => {
                let orders: Vec<_> = list
                    .value
                    .iter()
                    .map(|t| match &t.value {
                        RawTag::Bare(_) => (pos_of(t), None),
                        RawTag::Full(m) => (pos_of(&m.name), m.order.as_ref()),
                    })
                    .collect();
                if managed {
                    self.mixed_orders(&orders, Kind::Tag);
                }
                let mut tag_names = Seen::new();
                let mut tag_old = Seen::new();
                for t in list.value {
                    let tag = self.tag(t, &name, managed, &mut tag_names, &mut tag_old);
                    if !managed {
                        self.unmanaged_order(tag.1.order, tag.0, Kind::Tag, &tag.1.name);
                    }
                    if order == Order::Ignore
                        && let (Order::Value(_), Some(p)) = (tag.1.order, tag.0)
                    {
                        self.push(
                            Diagnostic::new(
                                format!(
                                    "tag `{}` has an explicit order but its group `{name}` says `order: ignore`",
                                    tag.1.name
                                ),
                                p,
                                "remove the tag's `order`, or the group's `order: ignore`",
                            )
                            .note(group_order_pos, "the group's order"),
                        );
                    }
                    tags.push(tag.1);
                }
            }
        }
        DesiredGroup {
            name,
            id,
            previously,
            managed,
            order,
            tags,
        }
    }

    /// Returns the position of the tag's `order` (if any) with the tag.
    fn tag(
        &mut self,
        t: Spanned<RawTag>,
        group: &str,
        managed: bool,
        names: &mut Seen,
        old_names: &mut Seen,
    ) -> (Option<Pos>, DesiredTag) {
        self.tag_count += 1;
        let tag_pos = pos_of(&t);
        if self.tag_count == MAX_TAGS + 1 {
            self.push(
                Diagnostic::new(
                    format!("more than {MAX_TAGS} tags"),
                    tag_pos,
                    "a WeCom corp holds at most 10000 tags; remove some",
                )
                .label(format!("tag number {}", MAX_TAGS + 1)),
            );
        }
        let (name, name_pos, id, previously, order) = match t.value {
            RawTag::Bare(RawName(n)) => (n, tag_pos, None, Vec::new(), None),
            RawTag::Full(m) => (
                m.name.value.0.clone(),
                pos_of(&m.name),
                m.id,
                m.previously.unwrap_or_default(),
                m.order,
            ),
        };
        self.name(&name, name_pos, Kind::Tag);
        self.unique(names, &name, name_pos, Kind::Tag, Some(group));
        let id = self.id(id);
        let previously = self.previously(previously, &name, old_names, Kind::Tag, managed);
        let order_pos = order.as_ref().map(pos_of);
        let order = self.order(order.as_ref());
        (
            order_pos,
            DesiredTag {
                name,
                id,
                previously,
                order,
            },
        )
    }

    /// Empty, too long, surrounding whitespace, invisible or control characters.
    fn name(&mut self, name: &str, pos: Pos, kind: Kind) {
        let what = kind.word();
        if name.is_empty() {
            self.push(
                Diagnostic::new(format!("empty {what} name"), pos, "give it a name").label("empty"),
            );
            return;
        }
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            self.push(
                Diagnostic::new(
                    format!("{what} name `{name}` is {chars} characters long"),
                    pos,
                    format!("WeCom allows at most {MAX_NAME_CHARS} characters; shorten it"),
                )
                .label(format!("{chars} characters")),
            );
        }
        if name.trim() != name {
            self.push(
                Diagnostic::new(
                    format!("{what} name `{name}` has leading or trailing whitespace"),
                    pos,
                    "remove the spaces around the name",
                )
                .label("whitespace"),
            );
        }
        if let Some(c) = name.chars().find(|&c| is_unsafe_char(c)) {
            self.push(
                Diagnostic::new(
                    format!(
                        "{what} name `{name}` contains the invisible or control character U+{:04X}",
                        c as u32
                    ),
                    pos,
                    "retype the name without control, zero-width or bidi characters",
                )
                .label("here"),
            );
        }
    }

    /// A current name used twice in one list.
    fn unique(&mut self, seen: &mut Seen, name: &str, pos: Pos, kind: Kind, group: Option<&str>) {
        if name.is_empty() {
            return;
        }
        if let Some(&first) = seen.get(name) {
            let place = match group {
                Some(g) => format!("in group `{g}`"),
                None => "among groups".to_owned(),
            };
            let what = kind.word();
            self.push(
                Diagnostic::new(
                    format!("{what} name `{name}` is used twice {place}"),
                    pos,
                    format!("WeCom {what} names must be unique {place}; remove or rename one"),
                )
                .label("used again here")
                .note(first, "first used here"),
            );
        } else {
            seen.insert(name.to_owned(), pos);
        }
    }

    fn id(&mut self, id: Option<Spanned<String>>) -> Option<String> {
        let id = id?;
        let pos = pos_of(&id);
        let value = id.value;
        if value.trim().is_empty() || value.trim() != value || value.chars().any(is_unsafe_char) {
            self.push(
                Diagnostic::new(
                    format!("invalid id `{value}`"),
                    pos,
                    "copy the id exactly from `tagsync export`, or remove `id:`",
                )
                .label("not an id"),
            );
            return Some(value);
        }
        if let Some(&first) = self.ids.get(&value) {
            self.push(
                Diagnostic::new(
                    format!("id `{value}` is pinned twice"),
                    pos,
                    "an id names one remote item; remove the wrong pin",
                )
                .label("pinned again here")
                .note(first, "first pinned here"),
            );
        } else {
            self.ids.insert(value.clone(), pos);
        }
        Some(value)
    }

    fn previously(
        &mut self,
        list: Vec<Spanned<RawName>>,
        own: &str,
        claimed: &mut Seen,
        kind: Kind,
        managed: bool,
    ) -> Vec<String> {
        let what = kind.word();
        let mut out = Vec::with_capacity(list.len());
        for old in list {
            let pos = pos_of(&old);
            let name = old.value.0;
            self.name(&name, pos, kind);
            if !managed {
                self.push(
                    Diagnostic::new(
                        format!("`previously` in an unmanaged group: `{name}` cannot be renamed"),
                        pos,
                        "remove `previously`, or remove `managed: false` if tagsync may edit this group",
                    )
                    .label("rename of a read-only item"),
                );
            }
            if name == own && !name.is_empty() {
                self.push(
                    Diagnostic::new(
                        format!("{what} `{own}` lists its own name in `previously`"),
                        pos,
                        "remove it from `previously`",
                    )
                    .label("same as the current name"),
                );
            } else if let Some(&first) = claimed.get(&name) {
                self.push(
                    Diagnostic::new(
                        format!("old {what} name `{name}` is claimed by two `previously` lists"),
                        pos,
                        "one remote item can be renamed into only one item; remove one claim",
                    )
                    .label("claimed again here")
                    .note(first, "first claimed here"),
                );
            } else if !name.is_empty() {
                claimed.insert(name.clone(), pos);
            }
            out.push(name);
        }
        out
    }

    fn order(&mut self, order: Option<&Spanned<RawOrder>>) -> Order {
        let Some(o) = order else {
            return Order::Position;
        };
        let pos = pos_of(o);
        match &o.value {
            RawOrder::Ignore => Order::Ignore,
            RawOrder::Number(n) => match u32::try_from(*n) {
                Ok(v) => Order::Value(v),
                Err(_) => {
                    self.push(
                        Diagnostic::new(
                            format!("order {n} is outside [0, 2^32)"),
                            pos,
                            "use a whole number from 0 to 4294967295, or `ignore`",
                        )
                        .label("out of range"),
                    );
                    Order::Position
                }
            },
            RawOrder::Other(s) => {
                self.push(
                    Diagnostic::new(
                        format!("order `{s}` is neither a number nor `ignore`"),
                        pos,
                        "use a whole number from 0 to 4294967295, or `ignore`",
                    )
                    .label("not an order"),
                );
                Order::Position
            }
        }
    }

    /// An explicit order number on a read-only item would never be applied.
    fn unmanaged_order(&mut self, order: Order, pos: Option<Pos>, kind: Kind, name: &str) {
        if let (Order::Value(_), Some(pos)) = (order, pos) {
            self.push(
                Diagnostic::new(
                    match kind {
                        Kind::Group => {
                            format!("group `{name}` is unmanaged and is never reordered")
                        }
                        Kind::Tag => {
                            format!("tag `{name}` is in an unmanaged group and is never reordered")
                        }
                    },
                    pos,
                    "remove `order` (or `managed: false`, if tagsync may edit this group)",
                )
                .label("would be ignored"),
            );
        }
    }

    /// In one list, explicit order numbers are given to every item or to none.
    fn mixed_orders(&mut self, items: &[(Pos, Option<&Spanned<RawOrder>>)], kind: Kind) {
        let numbered = items
            .iter()
            .find(|(_, o)| matches!(o.map(|o| &o.value), Some(RawOrder::Number(_))));
        let unnumbered = items.iter().find(|(_, o)| o.is_none());
        if let (Some((_, Some(with))), Some((without, None))) = (numbered, unnumbered) {
            let what = kind.word();
            self.push(
                Diagnostic::new(
                    format!("some {what}s of this list have an explicit `order` and some do not"),
                    *without,
                    "give every item of the list an `order` number, or none (then list position decides)",
                )
                .label("no `order`")
                .note(pos_of(with), "explicit order here"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_in_flow_maps_name_both_places() {
        let src = "version: 1\ngroups:\n  - {name: a, tags: [x], name: b}\n";
        let d = load_str(src, "t.yaml").expect_err("duplicate key");
        assert_eq!(d.items.len(), 1, "{d}");
        let item = &d.items[0];
        assert!(item.message.contains("duplicate key `name`"), "{d}");
        assert_eq!(item.notes.len(), 1, "{d}");
        assert_eq!((item.notes[0].pos.line, item.notes[0].pos.column), (3, 6));
    }

    #[test]
    fn duplicate_top_level_keys_name_both_places() {
        let src = "version: 1\ngroups: []\n# comment\n\nversion: 1\n";
        let d = load_str(src, "t.yaml").expect_err("duplicate key");
        let item = &d.items[0];
        assert_eq!((item.pos.line, item.pos.column), (5, 1), "{d}");
        assert_eq!(
            (item.notes[0].pos.line, item.notes[0].pos.column),
            (1, 1),
            "{d}"
        );
    }

    #[test]
    fn a_key_of_another_mapping_is_not_taken_for_the_first_place() {
        // `name` at line 3 belongs to the first item; the duplicate is in the second.
        let src = "groups:\n  - tags: [x]\n    name: a\n  - tags: [y]\n    name: b\n    name: c\n";
        let first = earlier_key(src, Pos::new(6, 5, 4), "name");
        assert_eq!(first, Some(Pos::new(5, 5, 4)));
        let none = earlier_key(src, Pos::new(5, 5, 4), "name");
        assert_eq!(none, None);
    }

    #[test]
    fn errors_are_reported_in_file_order() {
        let src =
            "version: 1\ngroups:\n  - name: b\n    tags: []\n  - name: \"\"\n    tags: [x, x]\n";
        let d = load_str(src, "t.yaml").expect_err("invalid");
        let lines: Vec<usize> = d.items.iter().map(|i| i.pos.line).collect();
        assert_eq!(lines, [4, 5, 6], "{d}");
    }
}
