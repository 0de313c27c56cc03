//! The JSON Schema (`tagsync schema`, committed as `tagsync.schema.json`) agrees with the
//! validator: every file the validator accepts, the schema accepts; every file the
//! validator refuses for its structure (an unknown key, a wrong type, a missing key, a
//! bad `order` or `version`), the schema refuses too. Rules a schema cannot state
//! (duplicates, `previously` claims, counts across the file) are the validator's alone.
//!
//! The schema is checked by a small evaluator of the keywords it uses (`type`,
//! `properties`, `required`, `additionalProperties`, `items`, `minItems`, `enum`, `const`,
//! `anyOf`, `if`/`else`, `$ref`, `minimum`, `maximum`, `minLength`, `maxLength`);
//! `pattern` (the name rule, written with look-arounds) is not evaluated here: the
//! validator's name rules are tested in `validate` and `validate_props`.

use serde_json::Value;

fn schema() -> Value {
    let text = std::fs::read_to_string("tagsync.schema.json").expect("tagsync.schema.json");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Whether `v` is valid against `s` (a sub-schema of `root`).
pub(crate) fn valid(root: &Value, s: &Value, v: &Value) -> bool {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        if !valid(root, &root["$defs"][name], v) {
            return false;
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |ty: &str| match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            return false;
        }
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        return false;
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return false;
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|sub| valid(root, sub, v))
    {
        return false;
    }
    if let Some(cond) = s.get("if") {
        let branch = if valid(root, cond, v) { "then" } else { "else" };
        if let Some(b) = s.get(branch)
            && !valid(root, b, v)
        {
            return false;
        }
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return false;
        }
        if s.get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return false;
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return false;
        }
        if s.get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return false;
        }
    }
    if let Some(items) = v.as_array() {
        if s.get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| (items.len() as u64) < m)
        {
            return false;
        }
        if let Some(each) = s.get("items")
            && !items.iter().all(|i| valid(root, each, i))
        {
            return false;
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array)
            && !req
                .iter()
                .filter_map(Value::as_str)
                .all(|k| obj.contains_key(k))
        {
            return false;
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(sub) if !valid(root, sub, val) => return false,
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return false;
                }
                _ => {}
            }
        }
    }
    true
}

/// A YAML file as JSON, read the way tagsync and a YAML 1.2 editor read it (`no` and
/// `0012` are strings, not a boolean and a number).
fn as_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut opts = serde_saphyr::Options::default();
    opts.strict_booleans = true;
    opts.leading_zero_numbers_as_strings = true;
    opts.underscored_numbers_as_strings = true;
    serde_saphyr::from_str_with_options(&text, opts).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_file_the_validator_accepts_the_schema_accepts() {
    let root = schema();
    let mut files = vec!["tags.yaml.example".to_string()];
    for entry in std::fs::read_dir("tests/fixtures/valid").expect("fixtures") {
        files.push(entry.expect("entry").path().display().to_string());
    }
    for f in &files {
        tagsync::desired::load(std::path::Path::new(f)).unwrap_or_else(|d| panic!("{d}"));
        assert!(
            valid(&root, &root, &as_json(f)),
            "{f}: the schema refuses it"
        );
    }
}

#[test]
fn files_refused_for_their_structure_are_refused_by_the_schema_too() {
    let root = schema();
    // Each fails the validator for a reason the schema states too.
    for name in [
        "groups_missing",
        "version_missing",
        "version_2",
        "unknown_key",
        "unknown_tag_key",
        "wrong_type_managed",
        "wrong_type_tags",
        "empty_group",
        "group_without_tags",
        "order_negative",
        "order_too_large",
        "order_not_a_number",
        "ownership_unknown",
        "name_empty",
        "name_too_long",
        "name_tilde_or_null",
        "rule_group_without_groups",
        "rule_group_bad_id",
    ] {
        let f = format!("tests/fixtures/invalid/{name}.yaml");
        assert!(
            tagsync::desired::load(std::path::Path::new(&f)).is_err(),
            "{f}: the validator accepts it"
        );
        assert!(
            !valid(&root, &root, &as_json(&f)),
            "{f}: the schema accepts it"
        );
    }
}

#[test]
fn the_evaluator_refuses_what_it_should() {
    let root = schema();
    let ok = serde_json::json!({"version": 1, "groups": [{"name": "G", "tags": ["a"]}]});
    assert!(valid(&root, &root, &ok));
    for bad in [
        serde_json::json!({"version": 1}),
        serde_json::json!({"version": 1, "groups": [], "extra": 1}),
        serde_json::json!({"version": 1, "groups": [{"name": "G", "tags": []}]}),
        serde_json::json!({"version": 1, "groups": [{"name": "G", "tags": ["a"], "order": -1}]}),
    ] {
        assert!(!valid(&root, &root, &bad), "{bad}");
    }
}

#[test]
fn a_key_with_no_value_is_judged_alike_by_the_validator_and_the_schema() {
    let root = schema();
    let dir = tempfile::tempdir().unwrap();
    let group =
        |extra: &str| format!("version: 1\ngroups:\n  - name: 客户等级\n{extra}    tags: [A, B]\n");
    // (file, accepted): `previously:` and `strategies:` with no value are empty lists.
    let cases = [
        (group("    previously: ~\n"), true),
        (format!("{}strategies: ~\n", group("")), true),
        (format!("ownership: ~\n{}", group("")), false),
        (group("    id: ~\n"), false),
        (group("    managed: ~\n"), false),
        (group("    order: ~\n"), false),
        (
            "version: 1\ngroups:\n  - name: g\n    tags:\n      - {name: A, id: ~}\n".into(),
            false,
        ),
        (
            "version: 1\ngroups:\n  - name: g\n    tags:\n      - {name: A, order: ~}\n".into(),
            false,
        ),
    ];
    for (i, (text, accepted)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("{i}.yaml"));
        std::fs::write(&f, text).unwrap();
        let by_validator = tagsync::desired::load(&f).is_ok();
        let by_schema = valid(&root, &root, &as_json(&f.display().to_string()));
        assert_eq!((by_validator, by_schema), (*accepted, *accepted), "{text}");
    }
}
