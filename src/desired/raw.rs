//! The file as parsed: serde types that keep the source location of every value.
//!
//! Nothing is checked here beyond YAML syntax, key names and value types; every
//! content rule lives in [`super::validate`], so that all problems are found in one run.
//! Values a rule must judge (an out-of-range `order`, a wrong `version`) are therefore
//! accepted in a wide type here and rejected there, with their location.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub version: Option<Spanned<i64>>,
    pub ownership: Option<Spanned<RawOwnership>>,
    /// `None`: the key is missing; `Some(None)`: `groups:` with no value.
    pub groups: Option<Spanned<Option<Vec<Spanned<RawGroup>>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawOwnership {
    Ledger,
    All,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub name: Spanned<RawName>,
    pub id: Option<Spanned<String>>,
    pub previously: Option<Vec<Spanned<RawName>>>,
    pub managed: Option<Spanned<bool>>,
    pub order: Option<Spanned<RawOrder>>,
    pub tags: Option<Spanned<Vec<Spanned<RawTag>>>>,
}

/// A tag: a bare name, or a map with the name and optional fields.
#[derive(Debug)]
pub enum RawTag {
    Bare(RawName),
    Full(Box<RawTagMap>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTagMap {
    pub name: Spanned<RawName>,
    pub id: Option<Spanned<String>>,
    pub previously: Option<Vec<Spanned<RawName>>>,
    pub order: Option<Spanned<RawOrder>>,
}

/// A name as written. Plain scalars that YAML would read as numbers (`2024`) are kept
/// as their text; a null (`- ` with nothing after it) is the empty name, which
/// validation then reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawName(pub String);

/// An `order` as written; validation decides whether it is acceptable.
#[derive(Debug, Clone, PartialEq)]
pub enum RawOrder {
    Ignore,
    Number(i128),
    /// Something else: a float, a boolean, a word other than `ignore`.
    Other(String),
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = RawName;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name (a string)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawName, E> {
        Ok(RawName(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawName, E> {
        Ok(RawName(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawName, E> {
        Ok(RawName(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawName, E> {
        Ok(RawName(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawName, E> {
        Ok(RawName(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<RawName, E> {
        Ok(RawName(String::new()))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawName, D::Error> {
        d.deserialize_string(NameVisitor)
    }
}

impl<'de> Deserialize<'de> for RawName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Null (`name:` with nothing after it) is the empty name; anything else is read
        // as a string, so a plain `2024` or `true` keeps its exact spelling.
        d.deserialize_option(NameVisitor)
    }
}

struct TagVisitor;

impl<'de> Visitor<'de> for TagVisitor {
    type Value = RawTag;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tag: a name, or a map with `name` and optional `id`, `previously`, `order`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTag, E> {
        NameVisitor.visit_str(v).map(RawTag::Bare)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawTag, E> {
        NameVisitor.visit_string(v).map(RawTag::Bare)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTag, E> {
        NameVisitor.visit_u64(v).map(RawTag::Bare)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTag, E> {
        NameVisitor.visit_i64(v).map(RawTag::Bare)
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawTag, E> {
        NameVisitor.visit_unit().map(RawTag::Bare)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawTag, E> {
        NameVisitor.visit_none().map(RawTag::Bare)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawTag, E> {
        Err(E::custom(format!(
            "the tag `{v}` is read as a boolean; quote it (\"{v}\") if it is a name"
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawTag, E> {
        Err(E::custom(format!(
            "the tag `{v}` is read as a number; quote it if it is a name"
        )))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTag, A::Error> {
        RawTagMap::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|m| RawTag::Full(Box::new(m)))
    }
}

impl<'de> Deserialize<'de> for RawTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TagVisitor)
    }
}

struct OrderVisitor;

impl<'de> Visitor<'de> for OrderVisitor {
    type Value = RawOrder;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`ignore` or a whole number from 0 to 4294967295")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOrder, E> {
        Ok(if v == "ignore" {
            RawOrder::Ignore
        } else {
            RawOrder::Other(v.to_owned())
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawOrder, E> {
        Ok(RawOrder::Number(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawOrder, E> {
        Ok(RawOrder::Number(v.into()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawOrder, E> {
        Ok(i128::try_from(v).map_or_else(|_| RawOrder::Other(v.to_string()), RawOrder::Number))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawOrder, E> {
        Ok(RawOrder::Number(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawOrder, E> {
        Ok(RawOrder::Other(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawOrder, E> {
        Ok(RawOrder::Other(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawOrder, E> {
        Ok(RawOrder::Other("null".to_owned()))
    }
    fn visit_none<E: de::Error>(self) -> Result<RawOrder, E> {
        self.visit_unit()
    }
}

impl<'de> Deserialize<'de> for RawOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OrderVisitor)
    }
}
