//! What a tag list answer must satisfy before tagsync plans from it: every id present and
//! used once, names unique where WeCom keeps them unique, and no name far past WeCom's
//! limit. The planner tells items apart by id and matches them by name, so an answer that
//! breaks these rules (a broken proxy, a hostile server) could make it delete an item the
//! file keeps: two tags sharing one id are one delete. Such an answer is refused, naming
//! the call, before anything is planned.

use std::collections::HashSet;

use super::error::{Call, ClientError};
use crate::sanitize::for_terminal;
use crate::wire::TagGroup;

/// The longest name accepted from the server, in characters: WeCom allows 30, so this is
/// far past any real name and still keeps a hostile one from flooding the output.
pub const MAX_NAME_CHARS: usize = 256;

/// Checks one list answer (`groups`, of either family). Names are checked among live
/// items only: a lookup by id may return a deleted item beside a live one of its name.
pub fn check_list(call: Call, groups: &[TagGroup]) -> Result<(), ClientError> {
    let wrong = |detail: String| ClientError::Decode {
        call,
        detail,
        truncated: false,
    };
    let shown = |s: &str| for_terminal(&s.chars().take(40).collect::<String>());
    let mut ids = HashSet::new();
    let mut group_names = HashSet::new();
    for g in groups {
        for (id, name, what) in std::iter::once((&g.group_id, &g.group_name, "group"))
            .chain(g.tag.iter().map(|t| (&t.id, &t.name, "tag")))
        {
            if id.is_empty() {
                return Err(wrong(format!("a {what} without an id (`{}`)", shown(name))));
            }
            if !ids.insert(id.as_str()) {
                return Err(wrong(format!(
                    "the id {} is given to two items; tagsync tells items apart by id, so it \
                     plans nothing from this answer",
                    shown(id)
                )));
            }
            let chars = name.chars().count();
            if chars > MAX_NAME_CHARS {
                return Err(wrong(format!(
                    "the {what} {} has a name of {chars} characters (WeCom allows 30)",
                    shown(id)
                )));
            }
        }
        if !g.deleted && !group_names.insert((g.strategy_id, g.group_name.as_str())) {
            return Err(wrong(format!(
                "two groups are named `{}`; WeCom keeps group names unique, and tagsync \
                 matches groups by name",
                shown(&g.group_name)
            )));
        }
        let mut tag_names = HashSet::new();
        for t in g.tag.iter().filter(|t| !t.deleted) {
            if !tag_names.insert(t.name.as_str()) {
                return Err(wrong(format!(
                    "group `{}` holds two tags named `{}`; WeCom keeps tag names unique in a \
                     group, and tagsync matches tags by name",
                    shown(&g.group_name),
                    shown(&t.name)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Call, Tag};

    fn group(id: &str, name: &str, tags: &[(&str, &str)]) -> TagGroup {
        TagGroup {
            group_id: id.into(),
            group_name: name.into(),
            tag: tags
                .iter()
                .map(|(id, name)| Tag {
                    id: (*id).into(),
                    name: (*name).into(),
                    ..Tag::default()
                })
                .collect(),
            ..TagGroup::default()
        }
    }

    fn refused(groups: &[TagGroup]) -> String {
        check_list(Call::List, groups)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn a_well_formed_answer_passes() {
        let groups = [
            group("g1", "A", &[("t1", "x"), ("t2", "y")]),
            group("g2", "B", &[("t3", "x")]),
        ];
        check_list(Call::List, &groups).expect("passes");
        // Group names repeat across rule groups; within one they may not.
        let mut a = group("g3", "A", &[("t4", "x")]);
        a.strategy_id = Some(7);
        check_list(Call::List, &[groups[0].clone(), a.clone()]).expect("another scope");
        let mut b = group("g4", "A", &[("t5", "z")]);
        b.strategy_id = Some(7);
        assert!(refused(&[a, b]).contains("two groups are named `A`"));
    }

    #[test]
    fn repeated_or_missing_ids_and_repeated_names_are_refused_naming_the_call() {
        let e = refused(&[group("g1", "A", &[("same", "x"), ("same", "y")])]);
        assert!(e.starts_with("get_corp_tag_list: "), "{e}");
        assert!(e.contains("the id same is given to two items"), "{e}");
        let e = refused(&[
            group("g1", "A", &[("t1", "x")]),
            group("t1", "B", &[("t2", "y")]),
        ]);
        assert!(e.contains("the id t1 is given to two items"), "{e}");
        assert!(refused(&[group("", "A", &[("t1", "x")])]).contains("a group without an id"));
        assert!(refused(&[group("g", "A", &[("", "x")])]).contains("a tag without an id (`x`)"));
        let e = refused(&[
            group("g1", "A", &[("t1", "x")]),
            group("g2", "A", &[("t2", "y")]),
        ]);
        assert!(e.contains("two groups are named `A`"), "{e}");
        let e = refused(&[group("g1", "A", &[("t1", "x"), ("t2", "x")])]);
        assert!(e.contains("group `A` holds two tags named `x`"), "{e}");
    }

    #[test]
    fn deleted_items_of_a_lookup_by_id_may_share_a_live_name() {
        let mut g = group("g1", "A", &[("t1", "x"), ("t2", "x")]);
        g.tag[0].deleted = true;
        let mut old = group("g0", "A", &[("t0", "z")]);
        old.deleted = true;
        check_list(Call::List, &[g, old]).expect("a deleted namesake is not a clash");
    }

    #[test]
    fn a_name_far_past_the_limit_is_refused_without_being_shown() {
        let long = "名".repeat(MAX_NAME_CHARS + 1);
        let e = refused(&[group("g1", "A", &[("t1", &long)])]);
        assert!(e.contains("the tag t1 has a name of 257 characters"), "{e}");
        assert!(e.len() < 400, "{e}");
        check_list(
            Call::List,
            &[group("g1", "A", &[("t1", &long[..3 * MAX_NAME_CHARS])])],
        )
        .expect("at the limit");
    }
}
