//! Load and check the desired-state file: YAML (with spans) → every rule of PRODUCT
//! section 1 → [`Desired`]. All problems are collected, never just the first.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_saphyr::{Budget, DuplicateKeyPolicy, NonFiniteFloatPolicy, Options};

use super::diagnostic::{Diagnostic, Diagnostics, Pos};
use super::model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
use super::raw::{self, Field, Node, RawFile, RawGroup, RawOrder, RawOwnership, RawTag, Sp};
use crate::sanitize::is_unsafe_char;

/// The only file format version this build understands.
pub const VERSION: i64 = 1;
/// The desired-state file used when `-c` is not given.
pub const DEFAULT_FILE: &str = "tags.yaml";
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
        Diagnostics::new(&name, "", vec![Diagnostic::new(msg, Pos::NONE, help)])
    };
    let file = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_FILE) {
            // The default of `-c`: the user most likely gave no path at all.
            fail(
                format!("no {DEFAULT_FILE} in the current directory"),
                "pass -c FILE, or run tagsync where tags.yaml is (`tagsync export -o tags.yaml` writes one from the corp)",
            )
        } else {
            fail(
                format!("cannot open {name}: {e}"),
                "check the path given to -c",
            )
        }
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            fail(
                format!("cannot read {name}: {e}"),
                "check that it is a readable file, not a directory",
            )
        })?;
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
            "{} is larger than {} MiB",
            name,
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        Pos::NONE,
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
    let root: Node = serde_saphyr::from_str_with_options(src, options())
        .map_err(|e| fail(vec![parse_error(&e, src)]))?;
    let mut checker = Checker::default();
    let raw = raw::shape(&root, src, &mut checker.problems);
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
    // Repeated keys reach `raw::shape`, which reports them with every other problem.
    opts.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    // `.nan` or `.inf` where a name or an order is expected is reported, not fatal.
    opts.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    opts
}

/// A YAML syntax error or a parser limit as a diagnostic. These stop the parse, so the
/// help says that other problems show once this one is fixed.
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
    let help = format!(
        "{}; YAML errors stop the check, so other problems show once this is fixed",
        parse_help(&message)
    );
    let line = src.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    if message.contains("tab")
        && let Some(i) = line.chars().position(|c| c == '\t')
    {
        // The parser reports the position after the tab; point at the tab itself.
        pos.column = i + 1;
    }
    Diagnostic::new(message, pos, help)
}

/// Parser wording made plain for users.
fn friendly(msg: &str) -> String {
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
    match msg {
        "recursion limit exceeded" => "the file is nested too deeply".to_owned(),
        _ => msg.to_owned(),
    }
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
    if m.contains("more than one yaml document") {
        "keep the whole desired state in one YAML document"
    } else if m.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation"
    } else if m.contains("parser limit") || m.contains("alias") || m.contains("nested too deeply") {
        "the file is nested too deeply or expands too many aliases; write the lists out plainly"
    } else {
        "fix the YAML syntax at this position"
    }
}

/// Digits, with an optional sign.
fn is_whole_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// `managed` defaults to true.
fn is_managed(g: &RawGroup) -> bool {
    g.managed.as_ref().is_none_or(|m| m.value)
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

/// How strictly a name is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// tagsync may send it to WeCom: every rule applies.
    Yes,
    /// Only ever compared with names already in the corp (an unmanaged group's names, old
    /// names in `previously`): it must match the corp exactly, so whitespace or control
    /// characters that came from the admin console are allowed. Such names are shown
    /// escaped wherever tagsync prints them.
    Never,
}

/// A group's or tag's current name: the text, where it is, and whether it was valid
/// enough to check (a missing or mistyped name is already reported).
fn current_name(name: &Field<String>, item: Pos) -> (String, Pos, bool) {
    match name.given() {
        Some(n) => (n.value.clone(), n.pos, true),
        None => (String::new(), item, false),
    }
}

impl Checker {
    fn push(&mut self, d: Diagnostic) {
        self.problems.push(d);
    }

    fn file(&mut self, raw: RawFile) -> Desired {
        match &raw.version {
            Field::Missing => self.push(Diagnostic::new(
                "missing `version`",
                Pos::START,
                "add `version: 1` at the top of the file",
            )),
            Field::Given(v) if v.value != i128::from(VERSION) => self.push(
                Diagnostic::new(
                    format!("unsupported file version {}", v.value),
                    v.pos,
                    "this tagsync reads `version: 1`",
                )
                .label("expected 1"),
            ),
            Field::Given(_) | Field::Invalid => {}
        }
        let ownership = match raw.ownership.given().map(|o| o.value) {
            Some(RawOwnership::All) => Ownership::All,
            Some(RawOwnership::Ledger) | None => Ownership::Ledger,
        };
        let empty = Desired {
            version: 1,
            ownership,
            groups: Vec::new(),
        };
        let groups = match raw.groups {
            Field::Given(Sp {
                value: Some(list), ..
            }) => list,
            Field::Invalid => return empty,
            missing => {
                // An emptied list is refused unless written `groups: []`: with owned
                // items, an empty file deletes them all.
                let (message, pos) = match &missing {
                    Field::Given(g) => ("`groups` has no value", g.pos),
                    _ => ("missing `groups` (or it has no value)", Pos::START),
                };
                self.push(Diagnostic::new(
                    message,
                    pos,
                    "list the groups; write `groups: []` only if the corp should have none",
                ));
                return empty;
            }
        };
        let mut names = Seen::new();
        let mut old_names = Seen::new();
        // Unmanaged groups are never reordered, so they take no part in the order rule.
        let orders: Vec<_> = groups
            .iter()
            .filter(|g| is_managed(&g.value))
            .map(|g| (current_name(&g.value.name, g.pos).1, g.value.order.as_ref()))
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

    fn group(&mut self, g: Sp<RawGroup>, names: &mut Seen, old_names: &mut Seen) -> DesiredGroup {
        let (group_pos, g) = (g.pos, g.value);
        let group_order_pos = g.order.as_ref().map_or(Pos::START, |o| o.pos);
        let managed = is_managed(&g);
        let sent = if managed { Sent::Yes } else { Sent::Never };
        let (name, name_pos, checkable) = current_name(&g.name, group_pos);
        if checkable {
            self.name(&name, name_pos, Kind::Group, sent);
            self.unique(names, &name, name_pos, Kind::Group, None);
        }
        let id = self.id(g.id);
        let previously = self.previously(g.previously, &name, old_names, Kind::Group, managed);
        let order = self.order(g.order.as_ref());
        if !managed {
            self.unmanaged_order(order, g.order.as_ref().map(|o| o.pos), Kind::Group, &name);
        }
        let mut tags = Vec::new();
        match g.tags {
            Field::Invalid => {}
            Field::Missing => self.push(
                Diagnostic::new(
                    format!("group `{name}` has no `tags`"),
                    name_pos,
                    "list at least one tag: WeCom cannot hold an empty group",
                )
                .label("this group"),
            ),
            Field::Given(list) if list.value.is_empty() => self.push(
                Diagnostic::new(
                    format!("group `{name}` is empty"),
                    list.pos,
                    "list at least one tag, or remove the group: WeCom cannot hold an empty group",
                )
                .label("no tags"),
            ),
            Field::Given(list) => {
                let orders: Vec<_> = list
                    .value
                    .iter()
                    .map(|t| (current_name(&t.value.name, t.pos).1, t.value.order.as_ref()))
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
        t: Sp<RawTag>,
        group: &str,
        managed: bool,
        names: &mut Seen,
        old_names: &mut Seen,
    ) -> (Option<Pos>, DesiredTag) {
        self.tag_count += 1;
        let (tag_pos, t) = (t.pos, t.value);
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
        let (name, name_pos, checkable) = current_name(&t.name, tag_pos);
        if checkable {
            let sent = if managed { Sent::Yes } else { Sent::Never };
            self.name(&name, name_pos, Kind::Tag, sent);
            self.unique(names, &name, name_pos, Kind::Tag, Some(group));
        }
        let id = self.id(t.id);
        let previously = self.previously(t.previously, &name, old_names, Kind::Tag, managed);
        let order_pos = t.order.as_ref().map(|o| o.pos);
        let order = self.order(t.order.as_ref());
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

    /// Empty, too long, surrounding whitespace, invisible or control characters (the last
    /// two only for names tagsync may send).
    fn name(&mut self, name: &str, pos: Pos, kind: Kind, sent: Sent) {
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
        if sent == Sent::Never {
            return;
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

    fn id(&mut self, id: Option<Sp<String>>) -> Option<String> {
        let id = id?;
        let pos = id.pos;
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
        list: Vec<Sp<String>>,
        own: &str,
        claimed: &mut Seen,
        kind: Kind,
        managed: bool,
    ) -> Vec<String> {
        let what = kind.word();
        let mut out = Vec::with_capacity(list.len());
        for old in list {
            let pos = old.pos;
            let name = old.value;
            // Old names are only looked up in the corp, never sent.
            self.name(&name, pos, kind, Sent::Never);
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

    fn order(&mut self, order: Option<&Sp<RawOrder>>) -> Order {
        let Some(o) = order else {
            return Order::Position;
        };
        let pos = o.pos;
        match &o.value {
            RawOrder::Ignore => Order::Ignore,
            RawOrder::Invalid => Order::Position,
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
            RawOrder::Other(s) if is_whole_number(s) => {
                // Too large for the parser's integers, but still a number.
                self.push(
                    Diagnostic::new(
                        format!("order {s} is outside [0, 2^32)"),
                        pos,
                        "use a whole number from 0 to 4294967295, or `ignore`",
                    )
                    .label("out of range"),
                );
                Order::Position
            }
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
    fn mixed_orders(&mut self, items: &[(Pos, Option<&Sp<RawOrder>>)], kind: Kind) {
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
                .note(with.pos, "explicit order here"),
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

    /// (line, column, message) of each diagnostic.
    fn found(src: &str) -> Vec<(usize, usize, String)> {
        let d = load_str(src, "t.yaml").expect_err("invalid");
        d.items
            .iter()
            .map(|i| (i.pos.line, i.pos.column, i.message.clone()))
            .collect()
    }

    #[test]
    fn a_file_that_is_not_a_map_is_one_problem() {
        let got = found("- a\n- b\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].2.starts_with("the file must be a map"), "{got:?}");
    }

    #[test]
    fn mistyped_top_level_keys_are_not_also_missing() {
        let got = found("version: one\ngroups: VIP\nownership: [all]\n");
        let messages: Vec<&str> = got.iter().map(|g| g.2.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`version` must be a whole number, found a string",
                "`groups` must be a list, found a string",
                "`ownership` must be `ledger` or `all`, found a list",
            ],
            "{got:?}"
        );
    }

    #[test]
    fn group_items_that_are_not_maps_do_not_stop_the_rest() {
        let got = found("version: 1\ngroups:\n  - 客户等级\n  - name: b\n    tags: [x, x]\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].0, got[0].1), (3, 5), "{got:?}");
        assert!(got[0].2.starts_with("a group must be a map"), "{got:?}");
        assert_eq!((got[1].0, got[1].1), (5, 15), "{got:?}");
    }

    #[test]
    fn names_never_sent_may_keep_what_the_console_allowed() {
        let src = "version: 1\ngroups:\n  - name: \"行业 \"\n    managed: false\n    tags: [\"制造业\\t\"]\n  - name: a\n    tags:\n      - {name: b, previously: [\"b \"]}\n";
        let d = load_str(src, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.groups[0].name, "行业 ");
        assert_eq!(d.groups[0].tags[0].name, "制造业\t");
        assert_eq!(d.groups[1].tags[0].previously, ["b "]);
        // The same names in a managed group are refused (the tab is both whitespace
        // around the name and a control character).
        let managed = src.replace("    managed: false\n", "");
        assert_eq!(found(&managed).len(), 3, "{:?}", found(&managed));
    }

    #[test]
    fn an_order_too_large_for_any_integer_is_out_of_range() {
        let got = found(
            "version: 1\ngroups:\n  - name: a\n    order: 99999999999999999999999999999999999999999\n    tags: [x]\n",
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].2.contains("is outside [0, 2^32)"), "{got:?}");
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
