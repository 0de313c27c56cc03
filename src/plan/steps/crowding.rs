//! A corp near its tag limit: the delete runs before the adds, keeping one old tag of a
//! group the file keeps until its new tags are in, so no add passes the limit.

use std::collections::{BTreeSet, HashSet};

use super::super::model::*;
use super::deletes::{Deletes, summarise};
use super::draft::{Builder, Draft, Ns};

/// The note of a plan whose end state does not fit the corp's tag limit.
pub(super) fn over_limit(after: usize, tag_limit: usize) -> String {
    format!(
        "the corp would hold {after} tags after this plan (the file's and those tagsync \
         leaves alone), over its {tag_limit} tag limit: adds past the limit fail with errcode \
         40126; remove tags from the file or from the corp first"
    )
}

/// How many tags the corp holds now, and how many the unblocked adds create.
pub(super) struct Crowding {
    pub(super) now: usize,
    pub(super) added: usize,
}

/// `Some` when the adds, run before the delete, would pass the corp's tag limit: then the
/// delete runs first (WeCom answers 40126 to an add past the limit, and a delete waiting
/// for every add would never run, so every later run would fail the same way).
/// `others`: tags of the corp's quota outside this scope (another scope's), held
/// throughout: counted in `now`.
pub(super) fn crowding(b: &Builder<'_>, tag_limit: usize, others: usize) -> Option<Crowding> {
    let added: usize = b
        .drafts
        .iter()
        .filter(|d| d.blocked.is_none())
        .map(|d| added_by(&d.kind))
        .sum();
    let now = b.remote.tag_count() + others;
    (added > 0 && now + added > tag_limit).then_some(Crowding { now, added })
}

/// The number of tags a step creates.
pub(super) fn added_by(kind: &StepKind) -> usize {
    match kind {
        StepKind::AddGroup { tags, .. } | StepKind::AddTags { tags, .. } => tags.len(),
        _ => 0,
    }
}

/// Order a crowded plan: the delete (`del`) runs before the adds. A group the file keeps
/// but whose every old tag goes keeps one of them (the *keeper*) through that delete, so
/// the server does not remove it; a second delete removes the keepers once their groups'
/// new tags are in, and the other adds wait for it too. A group with no old tag that can
/// wait (each is a replace's old half or has a name an add needs) gets its adds before
/// the first delete. Returns the most tags held at any moment, and at the end.
pub(super) fn crowd_first(
    b: &mut Builder<'_>,
    dels: &Deletes,
    del: usize,
    c: &Crowding,
    tag_limit: usize,
) -> Peak {
    // A keeper is an old tag of the group that no add into it needs the name of, and not
    // the old half of a replace (its new half may not exist yet).
    let keeper_of = |rg: usize| {
        let g = &b.remote.groups[rg];
        let taken: HashSet<&str> = b
            .takes
            .iter()
            .filter(|(ns, _, _)| *ns == Ns::Tags(rg))
            .map(|(_, name, _)| name.as_str())
            .collect();
        dels.tags
            .iter()
            .find(|t| {
                t.moved_to.is_none()
                    && !taken.contains(t.name.as_str())
                    && g.tags.iter().any(|rt| rt.id == t.id)
            })
            .cloned()
    };
    // Per emptied group with adds: a keeper, or (none eligible) its adds run before the
    // first delete.
    let mut keepers: Vec<DeletedTag> = Vec::new();
    let mut kept_adds = BTreeSet::new();
    let mut early_adds = BTreeSet::new();
    for &rg in &dels.emptied {
        let Some(&d) = b.add_into.get(&rg) else {
            continue;
        };
        match keeper_of(rg) {
            Some(k) => {
                keepers.push(k);
                kept_adds.insert(d);
            }
            None => {
                early_adds.insert(d);
            }
        }
    }
    let mut first: Vec<DeletedTag> = dels
        .tags
        .iter()
        .filter(|t| !keepers.iter().any(|k| k.id == t.id))
        .cloned()
        .collect();
    if first.is_empty() && dels.groups.is_empty() {
        // Nothing would be left for the first delete: hold nothing back.
        early_adds.append(&mut kept_adds);
        keepers.clear();
        first = dels.tags.clone();
    }
    let split = !keepers.is_empty();
    let second = b.drafts.len(); // the second delete's index, once pushed
    let added_in =
        |set: &BTreeSet<usize>| -> usize { set.iter().map(|&d| added_by(&b.drafts[d].kind)).sum() };
    let (early_n, kept_n) = (added_in(&early_adds), added_in(&kept_adds));
    // Every other add waits for the first delete, and with keepers for the second too:
    // the corp then holds the fewest tags when they are made.
    for (i, d) in b.drafts.iter_mut().enumerate() {
        if added_by(&d.kind) == 0 || early_adds.contains(&i) {
            continue;
        }
        let wait = if split && !kept_adds.contains(&i) {
            second
        } else {
            del
        };
        if !d.deps.contains(&wait) {
            d.deps.push(wait);
        }
    }
    b.drafts[del].deps.extend(early_adds.iter().copied());
    let which = if early_adds.is_empty() {
        "the adds"
    } else {
        "the adds into other groups"
    };
    let crowd = format!(
        "; runs before {which}: the corp holds {} tags, and adding {} first would pass its \
         {tag_limit} tag limit",
        c.now, c.added
    );
    let in_groups: usize = dels.groups.iter().map(|g| g.tags.len()).sum();
    let after = (c.now + c.added).saturating_sub(dels.tags.len() + in_groups);
    let removed_first = first.len() + in_groups;
    let before_first = if early_n > 0 { c.now + early_n } else { 0 };
    if !split {
        b.drafts[del].reason.push_str(&crowd);
        return Peak {
            during: before_first.max(after),
            after,
        };
    }
    let between = (c.now + early_n + kept_n).saturating_sub(removed_first);
    let names: Vec<String> = keepers
        .iter()
        .map(|k| format!("`{}` in group `{}`", k.name, k.group))
        .collect();
    b.drafts[del].kind = StepKind::Delete {
        groups: dels.groups.clone(),
        tags: first,
    };
    // The first delete's reason, without the keepers' own.
    b.drafts[del].reason = summarise(&dels.reasons, &keepers) + &crowd;
    b.drafts[del].reason.push_str(&format!(
        "; keeps {} until the new tags of {} are in (a second delete)",
        names.join(", "),
        if keepers.len() == 1 {
            "its group"
        } else {
            "their groups"
        }
    ));
    let pushed = b.push(Draft {
        reason: format!(
            "the last old tag{} of a group the file keeps: {}; deleted once the group's new \
             tags are in, so the server does not remove the group, and before the other adds",
            if keepers.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        kind: StepKind::Delete {
            groups: vec![],
            tags: keepers,
        },
        deps: kept_adds.into_iter().collect(),
        blocked: None,
        destructive: true,
    });
    debug_assert_eq!(pushed, second);
    Peak {
        during: before_first.max(between).max(after),
        after,
    }
}

/// The most tags a crowded plan makes the corp hold at any moment, and at its end.
pub(super) struct Peak {
    pub(super) during: usize,
    pub(super) after: usize,
}
