//! The file as parsed, in two steps, so that one bad key never hides the rest:
//!
//! 1. [`Node`]: the YAML as a generic tree in which every value keeps its place in the
//!    file. Only YAML syntax (and the parser's limits) can fail here. Repeated mapping
//!    keys are kept, not rejected, so that they can be reported with everything else.
//! 2. [`shape`]: the tree read into [`RawFile`], reporting every unknown key, value of
//!    the wrong type, repeated key and missing required key as a [`Diagnostic`], and
//!    carrying on past each.
//!
//! Content rules (name length, duplicates, order range, …) live in the `validate` module.
//! Values a rule must judge (an out-of-range `order`, a wrong `version`) are therefore
//! accepted in a wide type here and rejected there, with their location.
//!
//! Why one file: every key of every level (file, rule group, group, tag) is read by the
//! one `Shaper`, which holds the source text and the problem list, through the shared
//! `Entries`; split, those internals would have to be opened to each sibling.

use super::diagnostic::{Diagnostic, Pos};
pub use super::node::{Node, Value};

/// A value with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub pos: Pos,
}

/// A key of a map, after [`shape`] has reported any problem with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// Not written.
    Missing,
    /// Written, but wrong; already reported, so rules that depend on it are skipped.
    Invalid,
    Given(Sp<T>),
}

impl<T> Field<T> {
    pub fn given(&self) -> Option<&Sp<T>> {
        match self {
            Field::Given(s) => Some(s),
            Field::Missing | Field::Invalid => None,
        }
    }
}

/// The whole file.
#[derive(Debug)]
pub struct RawFile {
    pub version: Field<i128>,
    pub ownership: Field<RawOwnership>,
    /// `Some(None)`: `groups:` with no value.
    pub groups: Field<Option<Vec<Sp<RawGroup>>>>,
    /// `strategies:` (the rule groups' tags); `Given(empty)` for `strategies:` with no
    /// value.
    pub strategies: Field<Vec<Sp<RawRuleGroup>>>,
}

/// One entry of `strategies:`.
#[derive(Debug)]
pub struct RawRuleGroup {
    pub strategy_id: Field<i128>,
    pub name: Field<String>,
    /// `Some(None)`: `groups:` with no value.
    pub groups: Field<Option<Vec<Sp<RawGroup>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawOwnership {
    Ledger,
    All,
}

#[derive(Debug)]
pub struct RawGroup {
    pub name: Field<String>,
    pub id: Option<Sp<String>>,
    pub previously: Vec<Sp<String>>,
    pub managed: Option<Sp<bool>>,
    pub order: Option<Sp<RawOrder>>,
    /// `tags:` with no value counts as missing.
    pub tags: Field<Vec<Sp<RawTag>>>,
}

/// A tag, written as a bare name or as a map.
#[derive(Debug)]
pub struct RawTag {
    pub name: Field<String>,
    pub id: Option<Sp<String>>,
    pub previously: Vec<Sp<String>>,
    pub order: Option<Sp<RawOrder>>,
}

/// An `order` as written; validation decides whether it is acceptable.
#[derive(Debug, Clone, PartialEq)]
pub enum RawOrder {
    Ignore,
    Number(i128),
    /// Another scalar: a float, a boolean, a word other than `ignore`.
    Other(String),
    /// A quoted string (as written, quotes included): `order: "5"`.
    Quoted(String),
    /// A list or a map: already reported.
    Invalid,
}

const FILE_KEYS: &[&str] = &["version", "ownership", "groups", "strategies"];
const RULE_GROUP_KEYS: &[&str] = &["strategy_id", "name", "groups"];
const GROUP_KEYS: &[&str] = &["name", "id", "previously", "managed", "order", "tags"];
const TAG_KEYS: &[&str] = &["name", "id", "previously", "order"];

/// Read the tree into a [`RawFile`], pushing a diagnostic for every structural problem.
pub fn shape(root: &Node, src: &str, problems: &mut Vec<Diagnostic>) -> RawFile {
    let mut s = Shaper { src, problems };
    s.file(root)
}

struct Shaper<'a> {
    src: &'a str,
    problems: &'a mut Vec<Diagnostic>,
}

/// The known keys of one map, each with its value; unknown and repeated keys reported.
struct Entries<'n> {
    values: Vec<Option<&'n Node>>,
    /// Unknown keys that look like a misspelling of a known one: (known index).
    misspelt: Vec<usize>,
}

impl<'n> Entries<'n> {
    fn get(&self, key: usize) -> Option<&'n Node> {
        self.values.get(key).copied().flatten()
    }

    /// The value of a required key: missing when absent, invalid (already reported)
    /// when absent but an unknown key looks like its misspelling.
    fn required(&self, key: usize) -> Result<&'n Node, Field<()>> {
        match self.get(key) {
            Some(n) => Ok(n),
            None if self.misspelt.contains(&key) => Err(Field::Invalid),
            None => Err(Field::Missing),
        }
    }
}

/// An error worded "expected X, found Y" at `node`.
fn type_error(node: &Node, what: &str, expected: &str, help: &str) -> Diagnostic {
    let mut pos = node.pos;
    pos.len = pos.len.max(1);
    Diagnostic::new(
        format!("{what} must be {expected}, found {}", node.value.kind()),
        pos,
        help,
    )
    .label(format!("{} here", node.value.kind()))
}

impl Shaper<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.problems.push(d);
    }

    fn file(&mut self, root: &Node) -> RawFile {
        let Some(e) = self.entries(root, FILE_KEYS, "at the top of the file") else {
            self.push(type_error(
                root,
                "the file",
                "a map (`version: 1` and `groups:`)",
                "start from `tagsync export` or tags.yaml.example",
            ));
            return RawFile {
                version: Field::Invalid,
                ownership: Field::Invalid,
                groups: Field::Invalid,
                strategies: Field::Invalid,
            };
        };
        let version = self.whole_number(e.get(0), "`version`", "this tagsync reads `version: 1`");
        let ownership = match e.get(1) {
            None => Field::Missing,
            Some(n) => match &n.value {
                Value::Str(s) if s == "ledger" => Field::Given(Sp {
                    value: RawOwnership::Ledger,
                    pos: n.pos,
                }),
                Value::Str(s) if s == "all" => Field::Given(Sp {
                    value: RawOwnership::All,
                    pos: n.pos,
                }),
                Value::Seq(_) | Value::Map(_) => {
                    self.push(type_error(
                        n,
                        "`ownership`",
                        "`ledger` or `all`",
                        "write `ownership: ledger` (the default) or `ownership: all`",
                    ));
                    Field::Invalid
                }
                _ => {
                    let shown = n.spelling(self.src).unwrap_or_default();
                    let mut pos = n.pos;
                    pos.len = pos.len.max(1);
                    self.push(
                        Diagnostic::new(
                            format!("unknown ownership `{shown}`, expected `ledger` or `all`"),
                            pos,
                            "`ownership: ledger` (the default) edits only what tagsync created or adopted; `all` needs the legacy secret",
                        )
                        .label("not `ledger` or `all`"),
                    );
                    Field::Invalid
                }
            },
        };
        let groups = self.groups(e.get(2));
        let strategies = match e.get(3) {
            None => Field::Missing,
            Some(n) => match &n.value {
                Value::Null => Field::Given(Sp {
                    value: Vec::new(),
                    pos: n.pos,
                }),
                Value::Seq(items) => Field::Given(Sp {
                    value: items.iter().map(|r| self.rule_group(r)).collect(),
                    pos: n.pos,
                }),
                _ => {
                    self.push(type_error(
                        n,
                        "`strategies`",
                        "a list",
                        "list the rule groups, one `- strategy_id: …` or `- name: …` item each",
                    ));
                    Field::Invalid
                }
            },
        };
        RawFile {
            version,
            ownership,
            groups,
            strategies,
        }
    }

    /// A key whose value must be a whole number (its range is judged in `validate`).
    fn whole_number(&mut self, node: Option<&Node>, what: &str, help: &str) -> Field<i128> {
        let Some(n) = node else {
            return Field::Missing;
        };
        let spelling = n.spelling(self.src).unwrap_or_default();
        let digits = spelling.trim_start_matches('-');
        match n.value {
            Value::Int(v) => Field::Given(Sp {
                value: v,
                pos: n.pos,
            }),
            // Whole numbers past 64 bits are read as fractions: say what is wrong.
            Value::Float(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                self.push(
                    Diagnostic::new(format!("{what} {spelling} is out of range"), n.pos, help)
                        .label("too large"),
                );
                Field::Invalid
            }
            _ => {
                self.push(type_error(n, what, "a whole number", help));
                Field::Invalid
            }
        }
    }

    /// A `groups:` list (of the corp, or of a rule group).
    fn groups(&mut self, node: Option<&Node>) -> Field<Option<Vec<Sp<RawGroup>>>> {
        let Some(n) = node else {
            return Field::Missing;
        };
        match &n.value {
            Value::Null => Field::Given(Sp {
                value: None,
                pos: n.pos,
            }),
            Value::Seq(items) => Field::Given(Sp {
                value: Some(items.iter().map(|g| self.group(g)).collect()),
                pos: n.pos,
            }),
            _ => {
                self.push(type_error(
                    n,
                    "`groups`",
                    "a list",
                    "list the groups, one `- name: …` item each",
                ));
                Field::Invalid
            }
        }
    }

    /// A rule group: `strategy_id` or `name`, and its `groups`.
    fn rule_group(&mut self, node: &Node) -> Sp<RawRuleGroup> {
        let pos = node.pos;
        let Some(e) = self.entries(node, RULE_GROUP_KEYS, "in a rule group") else {
            self.push(type_error(
                node,
                "a rule group",
                "a map with `strategy_id` (or `name`) and `groups`",
                "write a rule group as `- strategy_id: 7` (or `- name: …`) with `groups:` under it",
            ));
            return Sp {
                value: RawRuleGroup {
                    strategy_id: Field::Invalid,
                    name: Field::Invalid,
                    groups: Field::Invalid,
                },
                pos,
            };
        };
        let strategy_id = self.whole_number(
            e.get(0),
            "`strategy_id`",
            "write the rule group's id as WeCom shows it, e.g. `strategy_id: 7`",
        );
        let name = match e.get(1) {
            None => Field::Missing,
            Some(n) => self.name(n, "rule group"),
        };
        Sp {
            value: RawRuleGroup {
                strategy_id,
                name,
                groups: self.groups(e.get(2)),
            },
            pos,
        }
    }

    fn group(&mut self, node: &Node) -> Sp<RawGroup> {
        let pos = node.pos;
        let Some(e) = self.entries(node, GROUP_KEYS, "in a group") else {
            self.push(type_error(
                node,
                "a group",
                "a map with `name` and `tags`",
                "write a group as `- name: …` with `tags:` under it",
            ));
            return Sp {
                value: RawGroup {
                    name: Field::Invalid,
                    id: None,
                    previously: Vec::new(),
                    managed: None,
                    order: None,
                    tags: Field::Invalid,
                },
                pos,
            };
        };
        let name = self.required_name(&e, node, "group");
        let managed = e.get(3).and_then(|n| match n.value {
            Value::Bool(b) => Some(Sp {
                value: b,
                pos: n.pos,
            }),
            _ => {
                self.push(type_error(
                    n,
                    "`managed`",
                    "`true` or `false`",
                    "write `managed: false` for a read-only group, or leave it out",
                ));
                None
            }
        });
        let tags = match e.get(5).map(|n| (n, &n.value)) {
            None | Some((_, Value::Null)) if e.misspelt.contains(&5) => Field::Invalid,
            None | Some((_, Value::Null)) => Field::Missing,
            Some((n, Value::Seq(items))) => Field::Given(Sp {
                value: items.iter().map(|t| self.tag(t)).collect(),
                pos: n.pos,
            }),
            Some((n, _)) => {
                self.push(type_error(
                    n,
                    "`tags`",
                    "a list",
                    "write `tags: [a, b]`, or one `- name` line per tag under `tags:`",
                ));
                Field::Invalid
            }
        };
        Sp {
            value: RawGroup {
                name,
                id: self.id(e.get(1)),
                previously: self.previously(e.get(2)),
                managed,
                order: self.order(e.get(4)),
                tags,
            },
            pos,
        }
    }

    fn tag(&mut self, node: &Node) -> Sp<RawTag> {
        let pos = node.pos;
        let bare = |name| RawTag {
            name,
            id: None,
            previously: Vec::new(),
            order: None,
        };
        let value = match &node.value {
            Value::Map(_) => match self.entries(node, TAG_KEYS, "in a tag") {
                Some(e) => RawTag {
                    name: self.required_name(&e, node, "tag"),
                    id: self.id(e.get(1)),
                    previously: self.previously(e.get(2)),
                    order: self.order(e.get(3)),
                },
                None => bare(Field::Invalid),
            },
            _ => bare(self.name(node, "tag")),
        };
        Sp { value, pos }
    }

    /// `name` of a group or tag map.
    fn required_name(&mut self, e: &Entries<'_>, map: &Node, what: &str) -> Field<String> {
        match e.required(0) {
            Ok(n) => self.name(n, &format!("{what} name")),
            Err(Field::Missing) => {
                let mut pos = map.pos;
                pos.len = pos.len.max(1);
                self.push(
                    Diagnostic::new(
                        format!("this {what} has no `name`"),
                        pos,
                        format!("add `name:` to the {what}"),
                    )
                    .label(format!("{what} without a name")),
                );
                Field::Invalid
            }
            Err(_) => Field::Invalid,
        }
    }

    /// A name: a string, a whole number (kept as written), or nothing written (the empty
    /// name, which validation reports). Booleans, fractions and a spelt-out `~` or `null`
    /// must be quoted. `what` is the
    /// kind of name: "tag", "group name", "old name".
    fn name(&mut self, node: &Node, what: &str) -> Field<String> {
        let given = |value| {
            Field::Given(Sp {
                value,
                pos: node.pos,
            })
        };
        match &node.value {
            Value::Str(_) | Value::Int(_) => given(node.spelling(self.src).unwrap_or_default()),
            // Nothing written: the empty name, which validation reports.
            Value::Null if node.spelling(self.src).is_none_or(|s| s.is_empty()) => {
                given(String::new())
            }
            // `~` or `null` is YAML's nothing, not a name: quoting it is the fix, as for
            // `true` or `1.0`.
            Value::Null | Value::Bool(_) | Value::Float(_) => {
                let shown = node.spelling(self.src).unwrap_or_default();
                let mut pos = node.pos;
                pos.len = pos.len.max(1);
                self.push(
                    Diagnostic::new(
                        format!(
                            "the {what} `{shown}` is read as {}; quote it (\"{shown}\") if it is text",
                            node.value.kind()
                        ),
                        pos,
                        "put the name in quotes so YAML reads it as text",
                    )
                    .label("not text"),
                );
                Field::Invalid
            }
            Value::Seq(_) | Value::Map(_) => {
                let (expected, help) = if what == "tag" {
                    (
                        "a name or a map",
                        "a tag is a name, or a map with `name` and optional `id`, `previously`, `order`",
                    )
                } else {
                    ("text", "write the name as text")
                };
                let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                self.push(type_error(
                    node,
                    &format!("{article} {what}"),
                    expected,
                    help,
                ));
                Field::Invalid
            }
        }
    }

    fn id(&mut self, node: Option<&Node>) -> Option<Sp<String>> {
        let node = node?;
        match &node.value {
            Value::Str(_) | Value::Int(_) => Some(Sp {
                value: node.spelling(self.src).unwrap_or_default(),
                pos: node.pos,
            }),
            _ => {
                self.push(type_error(
                    node,
                    "`id`",
                    "a string",
                    "copy the id exactly from `tagsync export`, or remove `id:`",
                ));
                None
            }
        }
    }

    fn previously(&mut self, node: Option<&Node>) -> Vec<Sp<String>> {
        let Some(node) = node else {
            return Vec::new();
        };
        match &node.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|n| match self.name(n, "old name") {
                    Field::Given(s) => Some(s),
                    Field::Missing | Field::Invalid => None,
                })
                .collect(),
            _ => {
                self.push(type_error(
                    node,
                    "`previously`",
                    "a list of old names",
                    "write `previously: [old name]`",
                ));
                Vec::new()
            }
        }
    }

    fn order(&mut self, node: Option<&Node>) -> Option<Sp<RawOrder>> {
        let node = node?;
        let value = match &node.value {
            Value::Str(s) if s == "ignore" => RawOrder::Ignore,
            Value::Int(i) => RawOrder::Number(*i),
            Value::Null => RawOrder::Other("null".to_owned()),
            Value::Str(_) | Value::Bool(_) | Value::Float(_) => {
                let spelt = node.spelling(self.src).unwrap_or_default();
                if node.quoted(self.src) {
                    RawOrder::Quoted(format!("\"{spelt}\""))
                } else {
                    RawOrder::Other(spelt)
                }
            }
            Value::Seq(_) | Value::Map(_) => {
                self.push(type_error(
                    node,
                    "`order`",
                    "`ignore` or a whole number from 0 to 4294967295",
                    "write `order: ignore` or `order: 10`",
                ));
                RawOrder::Invalid
            }
        };
        Some(Sp {
            value,
            pos: node.pos,
        })
    }

    /// The entries of a map for the keys `known`; `None` when `node` is not a map.
    /// Unknown keys and repeated keys are reported; the first of repeated keys is kept.
    fn entries<'n>(&mut self, node: &'n Node, known: &[&str], place: &str) -> Option<Entries<'n>> {
        let Value::Map(pairs) = &node.value else {
            return None;
        };
        let mut e = Entries {
            values: vec![None; known.len()],
            misspelt: Vec::new(),
        };
        let mut seen: Vec<(String, Pos)> = Vec::new();
        for (key, value) in pairs {
            let word = key.spelling(self.src).unwrap_or_else(|| "…".to_owned());
            let mut key_pos = key.pos;
            key_pos.len = word.chars().count().max(1);
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == word) {
                self.push(
                    Diagnostic::new(
                        format!("duplicate key `{word}`"),
                        key_pos,
                        "remove one of the two entries with this key",
                    )
                    .label("repeated here")
                    .note(*first, "first here"),
                );
                continue;
            }
            seen.push((word.clone(), key_pos));
            match known.iter().position(|k| *k == word) {
                Some(i) => e.values[i] = Some(value),
                None => {
                    let guess = known
                        .iter()
                        .position(|k| looks_like(&word, k))
                        .filter(|&i| {
                            !pairs
                                .iter()
                                .any(|(k, _)| k.spelling(self.src).as_deref() == Some(known[i]))
                        });
                    let list = known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let help = match guess {
                        Some(i) => {
                            e.misspelt.push(i);
                            format!(
                                "did you mean `{}`? the keys allowed {place} are {list}",
                                known[i]
                            )
                        }
                        None => format!("the keys allowed {place} are {list}"),
                    };
                    self.push(
                        Diagnostic::new(format!("unknown key `{word}` {place}"), key_pos, help)
                            .label("unknown key"),
                    );
                }
            }
        }
        Some(e)
    }
}

/// Whether `typed` is plausibly a misspelling of `known`: the same ignoring case, or at
/// most two edits apart (one for short keys), a swap of neighbours counting as one
/// (optimal string alignment distance).
fn looks_like(typed: &str, known: &str) -> bool {
    let limit = if known.chars().count() <= 4 { 1 } else { 2 };
    strsim::osa_distance(&typed.to_lowercase(), known) <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_are_recognised() {
        assert!(looks_like("tag", "tags"));
        assert!(looks_like("Tags", "tags"));
        assert!(looks_like("previous", "previously"));
        assert!(looks_like("nmae", "name"));
        assert!(looks_like("nam", "name"));
        assert!(looks_like("odrer", "order"));
        assert!(!looks_like("colour", "tags"));
        assert!(!looks_like("ids", "tags"));
    }
}
