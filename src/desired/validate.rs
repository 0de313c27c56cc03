//! The rules of the desired-state file: the shaped file ([`RawFile`]) checked against
//! every rule (names, duplicates, ids, orders, limits) into a [`Desired`]. All problems
//! are collected, never just the first.
//!
//! Why one file: every rule reads and writes the one `Checker` (the names, old names
//! and ids seen so far, the tag count of the whole file, the problems), the corp's
//! groups and each rule group's alike; split, it would be shared by every sibling.

use std::collections::HashMap;

use super::diagnostic::{Diagnostic, Pos};
use super::model::{
    Desired, DesiredGroup, DesiredRuleGroup, DesiredTag, Order, Ownership, RuleGroupRef,
};
use super::raw::{Field, RawFile, RawGroup, RawOrder, RawOwnership, RawRuleGroup, RawTag, Sp};
use crate::sanitize::{first_unsafe, has_visible_char, is_unsafe_char};

/// The only file format version this build understands.
pub const VERSION: i64 = 1;
/// WeCom's limit on corp tags.
pub const MAX_TAGS: usize = crate::wire::limit::CORP_TAGS;
/// WeCom's limit on a name, in characters.
pub const MAX_NAME_CHARS: usize = crate::wire::limit::NAME_CHARS;

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

/// Check `raw` against every rule, adding each problem to `problems`; the [`Desired`]
/// is meaningful only when none was added.
pub fn check(raw: RawFile, problems: &mut Vec<Diagnostic>) -> Desired {
    let mut checker = Checker {
        problems: std::mem::take(problems),
        ..Checker::default()
    };
    let desired = checker.file(raw);
    *problems = checker.problems;
    desired
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
        let groups = match raw.groups {
            Field::Given(Sp {
                value: Some(list), ..
            }) => Some(list),
            Field::Invalid => None,
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
                None
            }
        };
        // The corp's groups first, so that an id pinned in both is first met there.
        let groups = groups.map(|g| self.groups(g));
        let strategies = self.rule_groups(raw.strategies);
        Desired {
            version: 1,
            ownership,
            groups: groups.unwrap_or_default(),
            strategies,
        }
    }

    /// One `groups:` list (the corp's or a rule group's): names unique in it, orders
    /// all set or none.
    fn groups(&mut self, groups: Vec<Sp<RawGroup>>) -> Vec<DesiredGroup> {
        let mut names = Seen::new();
        let mut old_names = Seen::new();
        // Unmanaged groups are never reordered, so they take no part in the order rule.
        let orders: Vec<_> = groups
            .iter()
            .filter(|g| is_managed(&g.value))
            .map(|g| (current_name(&g.value.name, g.pos).1, g.value.order.as_ref()))
            .collect();
        self.mixed_orders(&orders, Kind::Group);
        groups
            .into_iter()
            .map(|g| self.group(g, &mut names, &mut old_names))
            .collect()
    }

    /// `strategies:`: each entry names its rule group once (by `strategy_id` or by
    /// `name`), no rule group twice, and holds a `groups:` list checked as the corp's.
    fn rule_groups(&mut self, raw: Field<Vec<Sp<RawRuleGroup>>>) -> Option<Vec<DesiredRuleGroup>> {
        let list = match raw {
            Field::Given(list) => list.value,
            Field::Missing | Field::Invalid => return None,
        };
        let mut seen: Vec<(RuleGroupRef, Pos)> = Vec::new();
        let mut out = Vec::new();
        for r in list {
            let (pos, r) = (r.pos, r.value);
            let id = r.strategy_id.given().map(|v| (v.value, v.pos));
            let name = r.name.given().map(|n| (n.value.clone(), n.pos));
            let rule_group = match (id, name) {
                (Some((_, id_pos)), Some((_, name_pos))) => {
                    self.push(
                        Diagnostic::new(
                            "a rule group named both by `strategy_id` and by `name`",
                            id_pos,
                            "keep one: `strategy_id` (stable) or `name` (looked up)",
                        )
                        .note(name_pos, "the name"),
                    );
                    None
                }
                (Some((v, id_pos)), None) => match u64::try_from(v) {
                    Ok(v) if v > 0 => Some((RuleGroupRef::Id(v), id_pos)),
                    _ => {
                        self.push(
                            Diagnostic::new(
                                format!("`strategy_id` {v} is not a rule group id"),
                                id_pos,
                                "a rule group id is a whole number from 1 up, as WeCom shows it",
                            )
                            .label("not an id"),
                        );
                        None
                    }
                },
                (None, Some((n, name_pos))) if n.trim().is_empty() => {
                    self.push(
                        Diagnostic::new(
                            "empty rule group name",
                            name_pos,
                            "write the rule group's name as the admin console shows it, or name it by `strategy_id`",
                        )
                        .label("no name"),
                    );
                    None
                }
                (None, Some((n, name_pos))) => Some((RuleGroupRef::Name(n), name_pos)),
                (None, None) => {
                    if r.strategy_id == Field::Missing && r.name == Field::Missing {
                        self.push(Diagnostic::new(
                            "a rule group without `strategy_id` or `name`",
                            pos,
                            "name the rule group: `strategy_id: 7` or `name: …`",
                        ));
                    }
                    None
                }
            };
            if let Some((rg, at)) = &rule_group
                && let Some((_, first)) = seen.iter().find(|(s, _)| s == rg)
            {
                self.push(
                    Diagnostic::new(
                        format!("rule group {rg} is listed twice"),
                        *at,
                        "list each rule group once, with all its groups",
                    )
                    .note(*first, "first listed here"),
                );
            } else if let Some((rg, at)) = &rule_group {
                seen.push((rg.clone(), *at));
            }
            let groups = match r.groups {
                Field::Given(Sp {
                    value: Some(list), ..
                }) => self.groups(list),
                Field::Given(Sp { value: None, pos }) => {
                    self.push(Diagnostic::new(
                        "`groups` has no value",
                        pos,
                        "list the rule group's groups; write `groups: []` only if it should hold none of tagsync's tags",
                    ));
                    Vec::new()
                }
                Field::Invalid => Vec::new(),
                Field::Missing => {
                    self.push(Diagnostic::new(
                        "a rule group without `groups`",
                        pos,
                        "list its groups; write `groups: []` only if the rule group should hold none of tagsync's tags",
                    ));
                    Vec::new()
                }
            };
            if let Some((rule_group, _)) = rule_group {
                out.push(DesiredRuleGroup { rule_group, groups });
            }
        }
        Some(out)
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
        // WeCom says 30 characters without saying what it counts. A character outside the
        // Basic Multilingual Plane (most emoji, rare CJK) is two UTF-16 units, and a
        // server counting those would refuse a name of 30 characters: a name tagsync
        // sends is held to the stricter count (docs/emulator-fidelity.md).
        let units = name.encode_utf16().count();
        if chars <= MAX_NAME_CHARS && units > MAX_NAME_CHARS {
            self.push(
                Diagnostic::new(
                    format!(
                        "{what} name `{name}` is {chars} characters but {units} UTF-16 units long"
                    ),
                    pos,
                    format!(
                        "WeCom allows {MAX_NAME_CHARS} characters without saying how it counts \
                         them; emoji and other characters beyond U+FFFF may count twice, so \
                         tagsync keeps a name it sends within {MAX_NAME_CHARS} by that count: \
                         shorten it"
                    ),
                )
                .label(format!("{units} UTF-16 units")),
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
        if let Some(c) = first_unsafe(name) {
            self.push(
                Diagnostic::new(
                    format!(
                        "{what} name `{name}` contains the invisible or control character U+{:04X}",
                        c as u32
                    ),
                    pos,
                    "retype the name without control, format, zero-width, bidi or blank-looking characters",
                )
                .label("here"),
            );
        } else if !name.is_empty() && !has_visible_char(name) {
            self.push(
                Diagnostic::new(
                    format!("{what} name `{name}` shows nothing: it has no visible character"),
                    pos,
                    "give the name at least one visible letter, digit or symbol",
                )
                .label("blank"),
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
            RawOrder::Quoted(s) => {
                self.push(
                    Diagnostic::new(
                        format!("order {s} is a string, not a number"),
                        pos,
                        "write the number without quotes (`order: 5`), or `order: ignore`",
                    )
                    .label("quoted"),
                );
                Order::Position
            }
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
