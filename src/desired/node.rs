//! Step 1 of reading the file: the YAML as a generic tree ([`Node`]) in which every value
//! keeps its place in the file. Only YAML syntax (and the parser's limits) can fail here.
//! Repeated mapping keys are kept, not rejected, so that the shaper (`raw`) can report
//! them with everything else.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::diagnostic::Pos;

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
    pub fn kind(&self) -> &'static str {
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
    /// Whether the scalar was written in quotes (`"5"`, `'5'`).
    pub(super) fn quoted(&self, src: &str) -> bool {
        self.bytes
            .and_then(|(start, _)| src.get(start..))
            .is_some_and(|t| t.starts_with(['"', '\'']))
    }

    /// Move every place in the tree `lines` lines and `bytes` bytes further into the
    /// text: a file read as part of several files one after the other (`merge`).
    pub(super) fn shift(&mut self, lines: usize, bytes: usize) {
        if self.pos.is_known() {
            self.pos.line += lines;
        }
        if let Some((start, _)) = &mut self.bytes {
            *start += bytes;
        }
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift(lines, bytes)),
            Value::Map(pairs) => pairs.iter_mut().for_each(|(k, v)| {
                k.shift(lines, bytes);
                v.shift(lines, bytes);
            }),
            _ => {}
        }
    }

    /// A scalar as its user would read it: strings as they are, other scalars as spelled
    /// in the file (`0x1F` stays `0x1F`), or as printed when the spelling is unknown.
    pub(super) fn spelling(&self, src: &str) -> Option<String> {
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
