//! Several desired-state files read as one, in order (`tagsync fleet`: a base file shared
//! by every corp, then a corp's own additions).
//!
//! Each file must be a valid desired-state file on its own (checked first, with its own
//! diagnostics). Then, in order, a later file may
//! - add groups (appended after the groups so far), and
//! - add tags to a group of the same name (appended after its tags);
//!
//! anything else that says again what an earlier file said is a conflict, reported with
//! both places: the same tag twice in a group, a group's `id`, `previously`, `managed` or
//! `order` given differently (or given in the later file only: the earlier file's group
//! is the definition), `ownership` given differently. A key may be repeated with the same
//! value. `strategies:` merge the same way: a rule group named as in an earlier file (by
//! the same `strategy_id`, or the same `name`) takes the later file's groups as above. The merged file is then checked as one with every rule of `validate` (a
//! duplicate id across the files, an old name claimed twice, the tag limit).
//!
//! Places: the files are read as one text, one after the other, so that every place in
//! the merged file is exact; [`Diagnostics::spanning`] shows each as `file:line:column`
//! of its own file.

use super::diagnostic::{Diagnostic, Diagnostics, Pos};
use super::load::{load_bytes, options};
use super::model::Desired;
use super::raw::{self, Field, Node, RawFile, RawGroup, RawRuleGroup, RawTag, Sp};
use super::validate;

/// One file to merge: its name (as shown) and its bytes.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Read `parts` as one desired state (see the module docs); one file is read as
/// [`load_bytes`] reads it. Every problem of every file at once.
pub fn load_merged(parts: &[Part]) -> Result<Desired, Diagnostics> {
    if let [one] = parts {
        return load_bytes(&one.bytes, &one.name);
    }
    // The files one after the other, each starting on a new line.
    let mut source = String::new();
    let mut starts = Vec::new();
    for part in parts {
        let text = String::from_utf8_lossy(&part.bytes);
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
        starts.push((source.lines().count(), source.len(), part.name.clone()));
        source.push_str(text);
        if !source.ends_with('\n') {
            source.push('\n');
        }
    }
    let spanning = |items| {
        let names = starts.iter().map(|(l, _, n)| (*l, n.clone())).collect();
        Diagnostics::spanning(names, &source, items)
    };
    // Each file alone first: its problems at their places in the whole.
    let mut problems = Vec::new();
    for (part, (line, _, _)) in parts.iter().zip(&starts) {
        if let Err(d) = load_bytes(&part.bytes, &part.name) {
            problems.extend(d.items.into_iter().map(|d| shifted(d, *line)));
        }
    }
    if !problems.is_empty() {
        return Err(spanning(problems));
    }
    let mut files = Vec::new();
    for (line, byte, _) in &starts {
        let end = starts
            .iter()
            .map(|(_, b, _)| *b)
            .find(|b| b > byte)
            .unwrap_or(source.len());
        // Each file parsed alone above; a failure here is not expected, but is reported.
        let mut root: Node =
            match serde_saphyr::from_str_with_options(&source[*byte..end], options()) {
                Ok(root) => root,
                Err(e) => {
                    let d = Diagnostic::new(format!("cannot read the file: {e}"), Pos::NONE, "");
                    return Err(spanning(vec![d]));
                }
            };
        root.shift(*line, *byte);
        files.push(raw::shape(&root, &source, &mut problems));
    }
    let merged = merge_files(files, &mut problems);
    let desired = validate::check(merged, &mut problems);
    if problems.is_empty() {
        Ok(desired)
    } else {
        Err(spanning(problems))
    }
}

/// `d` with its places moved `lines` further.
fn shifted(mut d: Diagnostic, lines: usize) -> Diagnostic {
    let shift = |pos: &mut Pos| {
        if pos.is_known() {
            pos.line += lines;
        }
    };
    shift(&mut d.pos);
    d.notes.iter_mut().for_each(|n| shift(&mut n.pos));
    d
}

/// A later file says again what an earlier one said.
fn conflict(what: String, later: Pos, earlier: Pos, help: &str) -> Diagnostic {
    let mut later = later;
    later.len = later.len.max(1);
    Diagnostic::new(what, later, help)
        .label("said again here")
        .note(earlier, "first said here")
}

const ONLY_ADD: &str = "a later file may add groups, and add tags to a group of the same name; \
    say everything else about an item in one file only";

/// The files merged in order into the first.
fn merge_files(files: Vec<RawFile>, problems: &mut Vec<Diagnostic>) -> RawFile {
    let mut files = files.into_iter();
    let Some(mut into) = files.next() else {
        return RawFile {
            version: Field::Missing,
            ownership: Field::Missing,
            groups: Field::Missing,
            strategies: Field::Missing,
        };
    };
    for file in files {
        match (&into.ownership, file.ownership) {
            (Field::Given(a), Field::Given(b)) if a.value != b.value => problems.push(conflict(
                "`ownership` is given differently in two files".into(),
                b.pos,
                a.pos,
                ONLY_ADD,
            )),
            (Field::Missing, b @ Field::Given(_)) => into.ownership = b,
            _ => {}
        }
        if let Field::Given(list) = file.strategies {
            match &mut into.strategies {
                Field::Given(into) => merge_rule_groups(&mut into.value, list.value, problems),
                into_list => *into_list = Field::Given(list),
            }
        }
        let Field::Given(Sp {
            value: Some(groups),
            ..
        }) = file.groups
        else {
            continue;
        };
        match &mut into.groups {
            Field::Given(Sp {
                value: Some(into), ..
            }) => merge_groups(into, groups, problems),
            into_groups => {
                let pos = groups.first().map_or(Pos::START, |g| g.pos);
                *into_groups = Field::Given(Sp {
                    value: Some(groups),
                    pos,
                });
            }
        }
    }
    into
}

/// The `strategies:` of a later file merged into those so far: a rule group named the
/// same way (the same `strategy_id`, or the same `name`) takes the later file's groups as
/// [`merge_groups`] does; another is appended.
fn merge_rule_groups(
    into: &mut Vec<Sp<RawRuleGroup>>,
    from: Vec<Sp<RawRuleGroup>>,
    problems: &mut Vec<Diagnostic>,
) {
    let same =
        |a: &RawRuleGroup, b: &RawRuleGroup| match (a.strategy_id.given(), b.strategy_id.given()) {
            (Some(x), Some(y)) => x.value == y.value,
            (None, None) => {
                matches!((a.name.given(), b.name.given()), (Some(x), Some(y)) if x.value == y.value)
            }
            _ => false,
        };
    for rule_group in from {
        let Some(earlier) = into.iter_mut().find(|r| same(&r.value, &rule_group.value)) else {
            into.push(rule_group);
            continue;
        };
        let Field::Given(Sp {
            value: Some(groups),
            pos,
        }) = rule_group.value.groups
        else {
            continue;
        };
        match &mut earlier.value.groups {
            Field::Given(Sp {
                value: Some(into), ..
            }) => merge_groups(into, groups, problems),
            into_groups => {
                *into_groups = Field::Given(Sp {
                    value: Some(groups),
                    pos,
                });
            }
        }
    }
}

/// A `groups:` list of a later file merged into the list so far: new groups appended,
/// the tags of a group of the same name appended to it, anything else a conflict.
pub fn merge_groups(
    into: &mut Vec<Sp<RawGroup>>,
    from: Vec<Sp<RawGroup>>,
    problems: &mut Vec<Diagnostic>,
) {
    for group in from {
        let found = group.value.name.given().and_then(|name| {
            into.iter_mut()
                .find(|g| g.value.name.given().is_some_and(|n| n.value == name.value))
        });
        match found {
            None => into.push(group),
            Some(earlier) => merge_group(earlier, group, problems),
        }
    }
}

/// Compare one optional key of a group given again: `None` when it agrees.
fn differs<T: PartialEq>(earlier: Option<&Sp<T>>, later: Option<&Sp<T>>) -> Option<Pos> {
    match (earlier, later) {
        (_, None) => None,
        (Some(a), Some(b)) if a.value == b.value => None,
        (_, Some(b)) => Some(b.pos),
    }
}

fn merge_group(earlier: &mut Sp<RawGroup>, later: Sp<RawGroup>, problems: &mut Vec<Diagnostic>) {
    let name = earlier
        .value
        .name
        .given()
        .map(|n| (n.value.clone(), n.pos))
        .unwrap_or((String::new(), earlier.pos));
    let e = &earlier.value;
    let l = &later.value;
    let mut keys: Vec<(&str, Option<Pos>, Pos)> = vec![
        (
            "id",
            differs(e.id.as_ref(), l.id.as_ref()),
            e.id.as_ref().map_or(name.1, |s| s.pos),
        ),
        (
            "managed",
            differs(e.managed.as_ref(), l.managed.as_ref()),
            e.managed.as_ref().map_or(name.1, |s| s.pos),
        ),
        (
            "order",
            differs(e.order.as_ref(), l.order.as_ref()),
            e.order.as_ref().map_or(name.1, |s| s.pos),
        ),
    ];
    let names = |v: &[Sp<String>]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
    if !l.previously.is_empty() && names(&l.previously) != names(&e.previously) {
        let earlier_pos = e.previously.first().map_or(name.1, |s| s.pos);
        keys.push(("previously", Some(l.previously[0].pos), earlier_pos));
    }
    for (key, later_pos, earlier_pos) in keys {
        if let Some(later_pos) = later_pos {
            problems.push(conflict(
                format!(
                    "group `{}`: `{key}` is given differently in two files",
                    name.0
                ),
                later_pos,
                earlier_pos,
                ONLY_ADD,
            ));
        }
    }
    let Field::Given(tags) = later.value.tags else {
        return;
    };
    match &mut earlier.value.tags {
        Field::Given(into) => merge_tags(&name.0, &mut into.value, tags.value, problems),
        into => *into = Field::Given(tags),
    }
}

fn merge_tags(
    group: &str,
    into: &mut Vec<Sp<RawTag>>,
    from: Vec<Sp<RawTag>>,
    problems: &mut Vec<Diagnostic>,
) {
    for tag in from {
        let earlier = tag.value.name.given().and_then(|name| {
            into.iter()
                .filter_map(|t| t.value.name.given())
                .find(|n| n.value == name.value)
                .map(|n| (name.value.clone(), name.pos, n.pos))
        });
        match earlier {
            Some((name, later, earlier)) => problems.push(conflict(
                format!("tag `{name}` of group `{group}` is listed in two files"),
                later,
                earlier,
                "list a tag in one file only: a later file may add tags to a group, not list them again",
            )),
            None => into.push(tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, text: &str) -> Part {
        Part {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn later_files_add_groups_and_tags() {
        let d = load_merged(&[
            part(
                "base.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a1, a2]\n",
            ),
            part(
                "acme.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a3]\n  - name: B\n    tags: [b1]\n",
            ),
        ])
        .unwrap();
        let names: Vec<(String, Vec<String>)> = d
            .groups
            .iter()
            .map(|g| {
                (
                    g.name.clone(),
                    g.tags.iter().map(|t| t.name.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("A".into(), vec!["a1".into(), "a2".into(), "a3".into()]),
                ("B".into(), vec!["b1".into()])
            ]
        );
    }

    #[test]
    fn conflicts_name_both_files_and_lines() {
        let err = load_merged(&[
            part(
                "base.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a1, a2]\n",
            ),
            part(
                "acme.yaml",
                "# acme\nversion: 1\ngroups:\n  - name: A\n    managed: false\n    tags: [a2]\n",
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("--> acme.yaml:6:12"), "{err}");
        assert!(err.contains("::: base.yaml:4:16"), "{err}");
        assert!(err.contains("--> acme.yaml:5:14"), "{err}");
        assert!(err.contains("::: base.yaml:3:11"), "{err}");
    }

    #[test]
    fn each_file_is_checked_alone_at_its_own_places() {
        let err = load_merged(&[
            part(
                "base.yaml",
                "version: 1\ngroups:\n  - name: A\n    tags: [a1]\n",
            ),
            part(
                "acme.yaml",
                "version: 1\ngroups:\n  - name: B\n    tag: [b1]\n",
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("--> acme.yaml:4:5"), "{err}");
    }

    #[test]
    fn later_files_add_to_rule_groups_named_the_same_way() {
        let d = load_merged(&[
            part(
                "base.yaml",
                "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: A\n        tags: [a1]\n",
            ),
            part(
                "acme.yaml",
                "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: A\n        tags: [a2]\n      - name: B\n        tags: [b1]\n  - name: 华南销售\n    groups:\n      - name: C\n        tags: [c1]\n",
            ),
        ])
        .unwrap();
        let rules = d.strategies.unwrap();
        assert_eq!(rules.len(), 2);
        let first: Vec<(String, usize)> = rules[0]
            .groups
            .iter()
            .map(|g| (g.name.clone(), g.tags.len()))
            .collect();
        assert_eq!(first, vec![("A".into(), 2), ("B".into(), 1)]);
        // The same tag in the same rule group's group twice is a conflict.
        let e = load_merged(&[
            part(
                "base.yaml",
                "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: A\n        tags: [a1]\n",
            ),
            part(
                "acme.yaml",
                "version: 1\ngroups: []\nstrategies:\n  - strategy_id: 1\n    groups:\n      - name: A\n        tags: [a1]\n",
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("acme.yaml:7") && e.contains("base.yaml:7"),
            "{e}"
        );
    }
}
