//! The JSON Schema of the desired-state file (`tagsync schema`), for editors.
//!
//! These types exist only to describe the file; parsing uses [`super::raw`], whose
//! span-keeping types have no schema. The doc comments below are the descriptions an
//! editor shows on hover, so they state the rules, including the meaning of `order`.
#![allow(dead_code)] // fields are read by the schema derive only

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// A tagsync desired-state file: the customer tags a WeCom corp should have.
#[derive(JsonSchema)]
#[schemars(title = "tagsync desired state", deny_unknown_fields)]
struct File {
    /// File format version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    version: u32,
    /// Which remote items tagsync may edit or delete. `ledger` (default): only those it
    /// created or adopted. `all`: everything (the corp uses the legacy all-powerful secret).
    ownership: Option<OwnershipKind>,
    /// Tag groups, in display order: the first listed shows first. Group names are
    /// unique. Groups not listed are left alone unless tagsync created them.
    groups: Vec<Group>,
    /// Tags of customer-contact rule groups (客户联系规则组), usable only by the members in
    /// each rule group's scope. Absent: rule-group tags are neither read nor changed.
    /// Only the rule groups listed are managed; a rule group left out is left alone.
    strategies: Option<Vec<RuleGroup>>,
}

/// A rule group, named by `strategy_id` or by `name` (one of the two), and its groups.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RuleGroup {
    /// The rule group's id, as WeCom shows it (stable).
    #[schemars(range(min = 1))]
    strategy_id: Option<u64>,
    /// The rule group's name, looked up among the corp's rule groups (it must match
    /// exactly one).
    name: Option<String>,
    /// Its tag groups, written as under the top-level `groups`; names unique within
    /// the rule group. `[]`: the rule group holds none of tagsync's tags.
    groups: Vec<Group>,
}

#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
enum OwnershipKind {
    Ledger,
    All,
}

/// A tag group.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, transform = strict_names_unless_unmanaged)]
struct Group {
    /// Group name, unique among groups.
    name: CorpName,
    /// Pin to an existing WeCom group id (as shown by `tagsync export`). Ids are unique.
    id: Option<String>,
    /// Old names of this group: a remote group of such a name is renamed, keeping its id.
    /// An old name may be claimed by one item only; a current name may be another item's
    /// old name (a swap or a chain of renames).
    previously: Option<Vec<CorpName>>,
    /// `false`: a group created elsewhere (e.g. the admin console); never edited,
    /// reordered or deleted, only referenced, so it and its tags take no `previously` and
    /// no `order` number. Default `true`.
    managed: Option<bool>,
    /// How the group's display order is decided. Absent: from its position in `groups`.
    /// `ignore`: leave the remote order of the group and of all its tags alone.
    /// A number: the WeCom `order` value itself (larger shows first); if one managed group
    /// gives a number, every managed group must.
    order: Option<OrderValue>,
    /// The group's tags, in display order: the first listed shows first. At least one
    /// (WeCom cannot hold an empty group); names unique within the group; at most 10000
    /// tags in the whole file.
    #[schemars(length(min = 1))]
    tags: Vec<Tag>,
}

/// A tag: its name, or a map with the name and optional fields.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum Tag {
    Bare(CorpName),
    Full(TagMap),
}

/// A tag with options.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TagMap {
    /// Tag name, unique within its group.
    name: CorpName,
    /// Pin to an existing WeCom tag id (as shown by `tagsync export`).
    id: Option<String>,
    /// Old names of this tag within the same group: a remote tag of such a name is
    /// renamed, keeping its id and its customers.
    previously: Option<Vec<CorpName>>,
    /// Absent: from the position in the list. `ignore`: leave this tag's remote order
    /// alone. A number: the WeCom `order` value (larger shows first); if one tag of a group
    /// gives a number, every tag of that group must, and the group may not say `ignore`.
    order: Option<OrderValue>,
}

/// No surrounding whitespace; none of the control, zero-width or bidi characters that
/// `tagsync validate` rejects (ECMA-262 syntax, as editors use).
const NAME_PATTERN: &str = r"^(?!\s)(?![\s\S]*\s$)[^\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$";

/// A name tagsync may send (`$defs/Name`): a managed group's name and its tags' names.
fn name_schema() -> serde_json::Value {
    serde_json::json!({
        "description": "1 to 30 characters (counted as characters, not bytes; one beyond U+FFFF, such as most emoji, counts as two), no surrounding spaces, no control, zero-width or bidi characters.",
        "anyOf": [
            {
                "type": "string",
                "minLength": 1,
                "maxLength": 30,
                "pattern": NAME_PATTERN
            },
            { "type": "integer" }
        ]
    })
}

/// A name as the corp has it. The names of a `managed: false` group and old names in
/// `previously` are only compared with the corp, never sent, so they may keep what the
/// admin console allowed (surrounding spaces, control characters); every other name is
/// further held to [`name_schema`] by [`strict_names_unless_unmanaged`]. A plain number
/// (`2024`) is a name too: tagsync keeps its spelling.
struct CorpName;

impl JsonSchema for CorpName {
    fn schema_name() -> Cow<'static, str> {
        "CorpName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "1 to 30 characters (counted as characters, not bytes). Outside `managed: false` groups and `previously`: one beyond U+FFFF (most emoji) counts as two, and no surrounding spaces, no control, zero-width or bidi characters.",
            "anyOf": [
                { "type": "string", "minLength": 1, "maxLength": 30 },
                { "type": "integer" }
            ]
        })
    }
}

/// Unless the group says `managed: false`, its name and its tags' names are names
/// tagsync may send: [`name_schema`].
fn strict_names_unless_unmanaged(schema: &mut Schema) {
    let strict = serde_json::json!({ "$ref": "#/$defs/Name" });
    schema.insert(
        "if".to_owned(),
        serde_json::json!({
            "properties": { "managed": { "const": false } },
            "required": ["managed"]
        }),
    );
    schema.insert(
        "else".to_owned(),
        serde_json::json!({
            "properties": {
                "name": strict,
                "tags": {
                    "items": {
                        "anyOf": [
                            strict,
                            { "type": "object", "properties": { "name": strict } }
                        ]
                    }
                }
            }
        }),
    );
}

/// `ignore`, or a WeCom order value.
struct OrderValue;

impl JsonSchema for OrderValue {
    fn schema_name() -> Cow<'static, str> {
        "Order".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`ignore` (leave the remote order alone), or the WeCom order value itself: a whole number from 0 to 4294967295, larger shows first.",
            "anyOf": [
                { "const": "ignore" },
                { "type": "integer", "minimum": 0, "maximum": 4294967295u64 }
            ]
        })
    }
}

/// The schema as pretty-printed JSON.
pub fn json() -> String {
    let mut schema = schemars::schema_for!(File);
    // `Name` is referenced only from the rule added by `strict_names_unless_unmanaged`.
    if let Some(defs) = schema.get_mut("$defs").and_then(|d| d.as_object_mut()) {
        defs.insert("Name".to_owned(), name_schema());
    }
    let mut value = schema.to_value();
    // `groups:`, `strategies:`, `previously:` and `tags:` with no value read as empty
    // lists; every other key refuses `~`.
    forbid_null(&mut value, &["groups", "strategies", "previously", "tags"]);
    serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Takes `null` out of every property's schema but those named in `keep`: schemars
/// allows `null` for every `Option` field, while the parsers refuse `key: ~` (with a
/// diagnostic) for all but a few keys; a schema that accepted it would let an editor
/// pass a file that `validate` refuses.
pub fn forbid_null(schema: &mut serde_json::Value, keep: &[&str]) {
    use serde_json::Value;
    fn strip(s: &mut Value) {
        let Some(obj) = s.as_object_mut() else {
            return;
        };
        if let Some(Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if let [one] = types.as_slice() {
                let one = one.clone();
                obj.insert("type".into(), one);
            }
        }
        if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
            any.retain(|sub| sub.get("type").is_none_or(|t| t != "null"));
            if let [one] = any.as_slice()
                && let Some(inner) = one.as_object()
            {
                let inner = inner.clone();
                obj.remove("anyOf");
                for (k, v) in inner {
                    obj.entry(k).or_insert(v);
                }
            }
        }
    }
    fn walk(s: &mut Value, keep: &[&str]) {
        match s {
            Value::Object(obj) => {
                if let Some(Value::Object(props)) = obj.get_mut("properties") {
                    for (name, sub) in props.iter_mut() {
                        if !keep.contains(&name.as_str()) {
                            strip(sub);
                        }
                    }
                }
                for v in obj.values_mut() {
                    walk(v, keep);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, keep)),
            _ => {}
        }
    }
    walk(schema, keep);
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_json_with_the_top_level_keys() {
        let v: serde_json::Value = serde_json::from_str(&super::json()).expect("valid JSON");
        let props = &v["properties"];
        for key in ["version", "ownership", "groups"] {
            assert!(props.get(key).is_some(), "missing {key}: {v}");
        }
        assert_eq!(v["additionalProperties"], serde_json::json!(false));
        // Names of groups that are not `managed: false` are held to the strict pattern.
        let group = &v["$defs"]["Group"];
        assert_eq!(group["if"]["properties"]["managed"]["const"], false, "{v}");
        let strict = &group["else"]["properties"]["name"]["$ref"];
        assert_eq!(strict, "#/$defs/Name", "{v}");
        assert_eq!(
            v["$defs"]["Name"]["anyOf"][0]["pattern"],
            super::NAME_PATTERN,
            "{v}"
        );
    }
}
