//! The file as parsed, in two steps, so that one bad key never hides the rest:
//!
//! 1. [`Node`]: the YAML as a generic tree in which every value keeps its place in the
//!    file. Only YAML syntax (and the parser's limits) can fail here. Repeated mapping
//!    keys are kept, not rejected, so that they can be reported with everything else.
//! 2. [`shape`]: the tree read into [`RawFile`], reporting every unknown key, value of
//!    the wrong type, repeated key and missing required key as a [`Diagnostic`], and
//!    carrying on past each.
//!
//! Content rules (name length, duplicates, order range, …) live in [`super::validate`].
//! Values a rule must judge (an out-of-range `order`, a wrong `version`) are therefore
//! accepted in a wide type here and rejected there, with their location.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::diagnostic::{Diagnostic, Pos};

/// A YAML value with its place in the file.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    /// Byte range in the parsed text, when the parser knows it.
    bytes: Option<(usize, usize)>,
    pub value: Value,
}

/// A YAML value. Mapping entries keep their order and any repeated keys.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What the value is, for "expected X, found Y" messages.
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

impl Node {
    /// A scalar as its user would read it: strings as they are, other scalars as spelled
    /// in the file (`0x1F` stays `0x1F`), or as printed when the spelling is unknown.
    fn spelling(&self, src: &str) -> Option<String> {
        let printed = match &self.value {
            Value::Str(s) => return Some(s.clone()),
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Seq(_) | Value::Map(_) => return None,
        };
        let written = self
            .bytes
            .and_then(|(start, len)| src.get(start..start.checked_add(len)?))
            .filter(|s| !s.is_empty() && !s.starts_with(['*', '&', '!']))
            .filter(|s| !s.chars().any(char::is_whitespace));
        Some(written.map_or(printed, str::to_owned))
    }
}

fn location_pos(loc: &Location) -> Pos {
    Pos::from_location(loc).unwrap_or(Pos::START)
}

fn location_bytes(loc: &Location) -> Option<(usize, usize)> {
    let span = loc.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    Some((start, len))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            pos: location_pos(&s.referenced),
            bytes: location_bytes(&s.referenced),
            value: s.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

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
    /// A list or a map: already reported.
    Invalid,
}

const FILE_KEYS: &[&str] = &["version", "ownership", "groups"];
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
            };
        };
        let version = match e.get(0) {
            None => Field::Missing,
            Some(n) => match n.value {
                Value::Int(v) => Field::Given(Sp {
                    value: v,
                    pos: n.pos,
                }),
                _ => {
                    self.push(type_error(
                        n,
                        "`version`",
                        "a whole number",
                        "this tagsync reads `version: 1`",
                    ));
                    Field::Invalid
                }
            },
        };
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
        let groups = match e.get(2) {
            None => Field::Missing,
            Some(n) => match &n.value {
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
            },
        };
        RawFile {
            version,
            ownership,
            groups,
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

    /// A name: a string, a whole number (kept as written), or nothing (the empty name,
    /// which validation reports). Booleans and fractions must be quoted. `what` is the
    /// kind of name: "tag", "group name", "old name".
    fn name(&mut self, node: &Node, what: &str) -> Field<String> {
        let given = |value| {
            Field::Given(Sp {
                value,
                pos: node.pos,
            })
        };
        match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Null => {
                given(node.spelling(self.src).unwrap_or_default())
            }
            Value::Bool(_) | Value::Float(_) => {
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
                RawOrder::Other(node.spelling(self.src).unwrap_or_default())
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
/// most two edits apart (one for short keys), a swap of neighbours counting as one.
fn looks_like(typed: &str, known: &str) -> bool {
    let a: Vec<char> = typed.to_lowercase().chars().collect();
    let b: Vec<char> = known.chars().collect();
    let limit = if b.len() <= 4 { 1 } else { 2 };
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    // Optimal string alignment distance: d[i][j] for a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()] <= limit
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
