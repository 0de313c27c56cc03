//! The corp: groups and tags with their owners, and every rule of the four tag calls.
//! Pure (no I/O, no clock: the caller passes `now`), so the rules are unit-testable.
//!
//! Deleted items stay as tombstones (flag `deleted`) so that lookups by id can report
//! them, as WeCom does. List order: groups, and tags inside a group, by larger `order`
//! first, ties by earlier `create_time`, then by creation sequence (the [`Profile`] may
//! reverse ties, and changes the other answers the vendor document leaves open).
//!
//! Why one file: the four calls share the corp's private index, tombstones and profile;
//! split, each rule would need those internals opened to its siblings.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::{SeedGroup, SeedTag};
use super::profile::{
    DelInvalidIds, DeletedFalse, EmptyEdit, ExistingTagName, ForeignGroupAdds, ForeignGroupDelete,
    GroupDeletedFlag, ListTies, MergeOrder, NameCount, NameTrim, Profile, RuleGroupNames,
    UnknownLookupIds,
};
use crate::wire::{self, Family, errcode};

/// Longest group or tag name, in characters.
pub const MAX_NAME_CHARS: usize = crate::wire::limit::NAME_CHARS;

/// The WeCom error an operation answers with; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub errcode: i64,
    pub errmsg: String,
}

impl ApiError {
    pub fn new(errcode: i64, errmsg: impl Into<String>) -> Self {
        ApiError {
            errcode,
            errmsg: errmsg.into(),
        }
    }
    pub fn invalid_param(what: impl Into<String>) -> Self {
        ApiError::new(
            errcode::INVALID_PARAMETER,
            format!("invalid parameter: {}", what.into()),
        )
    }
    fn invalid_id(id: &str) -> Self {
        ApiError::new(errcode::INVALID_TAG_ID, format!("invalid tagid: {id:?}"))
    }
    fn no_privilege(code: i64, id: &str) -> Self {
        ApiError::new(
            code,
            format!(
                "no privilege to access/modify contact/party/agent: {id} was not created by this app"
            ),
        )
    }
    fn name_exists(name: &str) -> Self {
        ApiError::new(
            errcode::TAG_NAME_EXISTS,
            format!("tag name exists: {name:?}"),
        )
    }
}

/// Who calls: an app name, and whether it holds the legacy all-powerful secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub app: String,
    pub legacy: bool,
}

impl Caller {
    fn may_change(&self, owner: &Option<String>) -> bool {
        self.legacy || owner.as_deref() == Some(self.app.as_str())
    }
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    name: String,
    create_time: i64,
    order: u32,
    deleted: bool,
    owner: Option<String>,
    seq: u64,
}

#[derive(Debug, Clone)]
struct Group {
    item: Item,
    tags: Vec<Item>,
    /// The rule group of a rule-group tag group; `None` for a corp tag group.
    strategy: Option<u64>,
}

impl Group {
    fn live_tags(&self) -> impl Iterator<Item = &Item> {
        self.tags.iter().filter(|t| !t.deleted)
    }
}

/// List order: larger `order` first; ties by creation, oldest or newest first.
fn display_cmp(ties: ListTies, a: &Item, b: &Item) -> std::cmp::Ordering {
    let created = a.create_time.cmp(&b.create_time).then(a.seq.cmp(&b.seq));
    b.order.cmp(&a.order).then(match ties {
        ListTies::OldestFirst => created,
        ListTies::NewestFirst => created.reverse(),
    })
}

fn wire_tag(t: &Item, with_deleted: bool) -> wire::Tag {
    wire::Tag {
        id: t.id.clone(),
        name: t.name.clone(),
        create_time: t.create_time,
        order: t.order,
        deleted: with_deleted && t.deleted,
    }
}

fn wire_group(g: &Group, tags: Vec<wire::Tag>, with_deleted: bool) -> wire::TagGroup {
    let (strategy_id, g) = (g.strategy, &g.item);
    wire::TagGroup {
        strategy_id,
        group_id: g.id.clone(),
        group_name: g.name.clone(),
        create_time: g.create_time,
        order: g.order,
        deleted: with_deleted && g.deleted,
        tag: tags,
    }
}

/// Checks a group or tag name: 1..=30 characters (Unicode scalars; the seed's rule).
pub fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    check_name_as(NameCount::Scalars, name, what)
}

/// Checks a group or tag name: 1..=30, counted as `count` says.
fn check_name_as(count: NameCount, name: &str, what: &str) -> Result<(), ApiError> {
    let n = count.count(name);
    if n == 0 {
        return Err(ApiError::invalid_param(format!("{what} is empty")));
    }
    if n > MAX_NAME_CHARS {
        return Err(ApiError::invalid_param(format!(
            "{what} is {n} {}, more than {MAX_NAME_CHARS}",
            count.unit()
        )));
    }
    Ok(())
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// The corp's tags, live and deleted: corp tags and rule-group tags (one quota, one id
/// space; each call family sees only its own).
#[derive(Debug)]
pub struct Corp {
    groups: Vec<Group>,
    /// The customer-contact rule groups (客户联系规则组).
    rule_groups: Vec<wire::RuleGroup>,
    tag_limit: usize,
    profile: Profile,
    next_seq: u64,
    ids: StdRng,
    /// Where each id ever made lives; items never move (deletes only flag them).
    index: std::collections::HashMap<String, (usize, Option<usize>)>,
}

impl Corp {
    /// A corp from a seed, answering as the default [`Profile`].
    #[cfg(test)]
    pub fn from_seed(seed: &[SeedGroup], tag_limit: usize) -> Result<Self, String> {
        Corp::with_profile(seed, tag_limit, Profile::default())
    }

    /// A corp from a seed; rejects seeds that break WeCom's own rules (names are held to
    /// 30 Unicode scalars whatever the profile counts: the seed is what the corp holds).
    pub fn with_profile(
        seed: &[SeedGroup],
        tag_limit: usize,
        profile: Profile,
    ) -> Result<Self, String> {
        let mut corp = Corp {
            groups: Vec::new(),
            rule_groups: Vec::new(),
            tag_limit,
            profile,
            next_seq: 0,
            ids: StdRng::seed_from_u64(0x7a65_6e73_796e_6321),
            index: std::collections::HashMap::new(),
        };
        let mut seen = std::collections::HashSet::new();
        for g in seed {
            if !seen.insert(g.group_id.clone()) || g.group_id.is_empty() {
                return Err(format!("group id {:?} is empty or repeated", g.group_id));
            }
            check_name(&g.group_name, "group_name").map_err(|e| e.errmsg)?;
            let mut tags = Vec::with_capacity(g.tag.len());
            for t in &g.tag {
                if !seen.insert(t.id.clone()) || t.id.is_empty() {
                    return Err(format!("tag id {:?} is empty or repeated", t.id));
                }
                check_name(&t.name, "tag name").map_err(|e| e.errmsg)?;
                let live_same = tags
                    .iter()
                    .any(|x: &Item| !x.deleted && !t.deleted && x.name == t.name);
                if live_same {
                    return Err(format!(
                        "tag name {:?} twice in group {:?}",
                        t.name, g.group_name
                    ));
                }
                let item = corp.seed_item(&t.id, &t.name, t.create_time, t.order, t.deleted);
                tags.push(Item {
                    owner: t.owner.clone(),
                    deleted: t.deleted || g.deleted,
                    ..item
                });
            }
            let group = Group {
                item: Item {
                    owner: g.owner.clone(),
                    ..corp.seed_item(
                        &g.group_id,
                        &g.group_name,
                        g.create_time,
                        g.order,
                        g.deleted,
                    )
                },
                tags,
                strategy: g.strategy_id,
            };
            if !g.deleted && group.live_tags().next().is_none() {
                return Err(format!(
                    "group {:?} has no live tag (WeCom has no empty groups)",
                    g.group_name
                ));
            }
            if !g.deleted
                && corp
                    .live_group_named(&g.group_name, g.strategy_id)
                    .is_some()
            {
                return Err(format!("group name {:?} twice", g.group_name));
            }
            corp.push_group(group);
        }
        if corp.live_tag_count() > tag_limit {
            return Err(format!("more than {tag_limit} live tags"));
        }
        Ok(corp)
    }

    /// The corp's rule groups; every rule-group tag group of the seed must name one, and
    /// only first-level ones (parent 0) hold tags.
    pub fn with_rule_groups(mut self, rule_groups: Vec<wire::RuleGroup>) -> Result<Self, String> {
        let mut seen = std::collections::HashSet::new();
        for r in &rule_groups {
            if r.strategy_id == 0 || !seen.insert(r.strategy_id) {
                return Err(format!("rule group id {} is 0 or repeated", r.strategy_id));
            }
            check_name(&r.strategy_name, "strategy_name").map_err(|e| e.errmsg)?;
        }
        for g in self.groups.iter().filter(|g| !g.item.deleted) {
            let Some(id) = g.strategy else { continue };
            match rule_groups.iter().find(|r| r.strategy_id == id) {
                Some(r) if r.parent_id == 0 => {}
                Some(_) => {
                    return Err(format!(
                        "group {:?} is in rule group {id}, which is not first-level",
                        g.item.name
                    ));
                }
                None => {
                    return Err(format!(
                        "group {:?} names rule group {id}, which the seed does not list",
                        g.item.name
                    ));
                }
            }
        }
        self.rule_groups = rule_groups;
        Ok(self)
    }

    /// The rule groups (`customer_strategy/list` and `get`, and the dump).
    pub fn rule_groups(&self) -> &[wire::RuleGroup] {
        &self.rule_groups
    }

    fn seed_item(
        &mut self,
        id: &str,
        name: &str,
        create_time: i64,
        order: u32,
        deleted: bool,
    ) -> Item {
        Item {
            id: id.to_owned(),
            name: name.to_owned(),
            create_time,
            order,
            deleted,
            owner: None,
            seq: self.seq(),
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn new_id(&mut self) -> String {
        loop {
            let mut id = String::with_capacity(32);
            id.push_str("et");
            for _ in 0..30 {
                let i = self.ids.random_range(0..ID_ALPHABET.len());
                id.push(char::from(ID_ALPHABET[i]));
            }
            if self.find(&id).is_none() {
                return id;
            }
        }
    }

    fn new_item(&mut self, name: &str, order: u32, now: i64, caller: &Caller) -> Item {
        Item {
            id: self.new_id(),
            name: name.to_owned(),
            create_time: now,
            order,
            deleted: false,
            owner: Some(caller.app.clone()),
            seq: self.seq(),
        }
    }

    /// Live tags in the corp.
    pub fn live_tag_count(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| !g.item.deleted)
            .map(|g| g.live_tags().count())
            .sum()
    }

    /// The live group of this name among the corp's groups (`strategy` `None`) or one
    /// rule group's. A name is unique within its rule group only (the vendor is silent on
    /// whether two rule groups may hold groups of one name: a guess, see
    /// docs/emulator-fidelity.md).
    fn live_group_named(&self, name: &str, strategy: Option<u64>) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| !g.item.deleted && g.strategy == strategy && g.item.name == name)
    }

    /// Whether the profile holds rule-group group names unique across rule groups and
    /// another rule group than `strategy` has a live group of this name.
    fn named_in_another_rule_group(&self, name: &str, strategy: Option<u64>) -> bool {
        strategy.is_some()
            && self.profile.rule_group_names == RuleGroupNames::AcrossRuleGroups
            && self.groups.iter().any(|g| {
                !g.item.deleted
                    && g.strategy.is_some()
                    && g.strategy != strategy
                    && g.item.name == name
            })
    }

    /// Whether a live group has this name in that scope (callbacks: an add by name makes
    /// a group only when none has).
    pub(crate) fn has_live_group_named(&self, name: &str, strategy: Option<u64>) -> bool {
        self.live_group_named(name, strategy).is_some()
    }

    /// The rule group of the group or tag with this id (callbacks carry it).
    pub(crate) fn strategy_of(&self, id: &str) -> Option<u64> {
        self.find(id).and_then(|(gi, _)| self.groups[gi].strategy)
    }

    fn family_of(&self, gi: usize) -> Family {
        match self.groups[gi].strategy {
            None => Family::Corp,
            Some(_) => Family::Strategy,
        }
    }

    /// Where an id is, when it is an item of `family` (each family's calls see only
    /// their own items; any other id is unknown to them).
    fn find_in(&self, family: Family, id: &str) -> Option<(usize, Option<usize>)> {
        self.find(id)
            .filter(|(gi, _)| self.family_of(*gi) == family)
    }

    /// Whether `caller` sees this group in a list of `family`: corp groups are seen by
    /// every app; a rule-group tag group only by the app that created it.
    fn seen_by(&self, g: &Group, family: Family, caller: &Caller) -> bool {
        match (family, g.strategy) {
            (Family::Corp, None) => true,
            (Family::Strategy, Some(_)) => g.item.owner.as_deref() == Some(caller.app.as_str()),
            _ => false,
        }
    }

    /// `tag` or `tag_group` for a known id (callbacks name the kind of what changed).
    pub(crate) fn kind_of(&self, id: &str) -> Option<&'static str> {
        self.find(id)
            .map(|(_, t)| if t.is_some() { "tag" } else { "tag_group" })
    }

    /// Where an id is: (group index, None) for a group, (group, Some(tag)) for a tag.
    fn find(&self, id: &str) -> Option<(usize, Option<usize>)> {
        self.index.get(id).copied()
    }

    /// Adds a group (with its tags) and indexes it; answers its index.
    fn push_group(&mut self, group: Group) -> usize {
        let gi = self.groups.len();
        self.index.insert(group.item.id.clone(), (gi, None));
        for (ti, t) in group.tags.iter().enumerate() {
            self.index.insert(t.id.clone(), (gi, Some(ti)));
        }
        self.groups.push(group);
        gi
    }

    fn push_tag(&mut self, gi: usize, tag: Item) {
        let tags = &mut self.groups[gi].tags;
        self.index.insert(tag.id.clone(), (gi, Some(tags.len())));
        tags.push(tag);
    }

    /// Items in list order (see [`display_cmp`]).
    fn sorted<'a>(&self, items: impl Iterator<Item = &'a Item>) -> Vec<&'a Item> {
        let mut v: Vec<&Item> = items.collect();
        v.sort_by(|a, b| display_cmp(self.profile.list_ties, a, b));
        v
    }

    fn sorted_groups<'a>(&self, groups: impl Iterator<Item = &'a Group>) -> Vec<&'a Group> {
        let mut v: Vec<&Group> = groups.collect();
        v.sort_by(|a, b| display_cmp(self.profile.list_ties, &a.item, &b.item));
        v
    }

    /// A name as the server takes it: trimmed or not, then checked by the profile's count.
    fn take_name(&self, name: &str, what: &str) -> Result<String, ApiError> {
        let name = match self.profile.name_trim {
            NameTrim::Kept => name,
            NameTrim::Trimmed => name.trim(),
        };
        check_name_as(self.profile.name_count, name, what)?;
        Ok(name.to_owned())
    }

    fn no_privilege(&self, id: &str) -> ApiError {
        ApiError::no_privilege(self.profile.ownership_errcode, id)
    }

    #[cfg(test)]
    /// `get_corp_tag_list`. Both filters empty: every live group and tag, no `deleted`
    /// flags. `group_id` given (it wins over `tag_id`): those groups with all their tags,
    /// deleted ones included and flagged (the group's own flag as the profile says).
    /// `tag_id` given: those tags in their groups, flagged. Ids that never existed (as
    /// the kind asked for) are left out of the answer, or refused, as the profile says.
    pub fn list(&self, req: &wire::TagListRequest) -> Result<Vec<wire::TagGroup>, ApiError> {
        let everyone = Caller {
            app: String::new(),
            legacy: false,
        };
        self.list_in(Family::Corp, req, &everyone)
    }

    /// `get_corp_tag_list` or `get_strategy_tag_list` (the same rules; a rule-group list
    /// holds only the caller's own tag groups, of the rule group `strategy_id` names when
    /// it is given, and each group carries its `strategy_id`).
    pub fn list_in(
        &self,
        family: Family,
        req: &wire::TagListRequest,
        caller: &Caller,
    ) -> Result<Vec<wire::TagGroup>, ApiError> {
        let refuse_unknown = self.profile.unknown_lookup_ids == UnknownLookupIds::Refused;
        let wanted_rule = |g: &Group| {
            family == Family::Corp || req.strategy_id.is_none() || g.strategy == req.strategy_id
        };
        let seen = |g: &Group| self.seen_by(g, family, caller) && wanted_rule(g);
        if !req.group_id.is_empty() {
            let group_flag = self.profile.group_deleted_flag == GroupDeletedFlag::Flagged;
            let mut out: Vec<&Group> = Vec::new();
            for id in &req.group_id {
                match self.find(id).filter(|(gi, _)| seen(&self.groups[*gi])) {
                    Some((gi, None)) if !out.iter().any(|o| o.item.id == *id) => {
                        out.push(&self.groups[gi]);
                    }
                    Some((_, None)) => {}
                    _ if refuse_unknown => return Err(ApiError::invalid_id(id)),
                    _ => {}
                }
            }
            return Ok(self
                .sorted_groups(out.into_iter())
                .into_iter()
                .map(|g| {
                    let tags = self.sorted(g.tags.iter()).into_iter();
                    let tags = tags.map(|t| wire_tag(t, true)).collect();
                    wire_group(g, tags, group_flag)
                })
                .collect());
        }
        if !req.tag_id.is_empty() {
            if refuse_unknown
                && let Some(id) = req.tag_id.iter().find(
                    |id| !matches!(self.find(id), Some((gi, Some(_))) if seen(&self.groups[gi])),
                )
            {
                return Err(ApiError::invalid_id(id));
            }
            let wanted: std::collections::HashSet<&str> =
                req.tag_id.iter().map(String::as_str).collect();
            let mut out = Vec::new();
            for g in self.sorted_groups(self.groups.iter().filter(|g| seen(g))) {
                let hits = g.tags.iter().filter(|t| wanted.contains(t.id.as_str()));
                let tags: Vec<wire::Tag> = self
                    .sorted(hits)
                    .into_iter()
                    .map(|t| wire_tag(t, true))
                    .collect();
                if !tags.is_empty() {
                    out.push(wire_group(g, tags, true));
                }
            }
            return Ok(out);
        }
        Ok(self
            .live_groups()
            .into_iter()
            .filter(|g| seen(g))
            .map(|g| {
                let tags = self.sorted(g.live_tags()).into_iter();
                let tags = tags.map(|t| wire_tag(t, false)).collect();
                wire_group(g, tags, false)
            })
            .collect())
    }

    /// Whether list answers carry `"deleted": false` (written by the server).
    pub fn sends_deleted_false(&self) -> bool {
        self.profile.deleted_false == DeletedFalse::Sent
    }

    fn live_groups(&self) -> Vec<&Group> {
        self.sorted_groups(self.groups.iter().filter(|g| !g.item.deleted))
    }

    /// The live state with owners, in list order: the corp's groups, then each rule
    /// group's (by id).
    pub fn dump(&self) -> Vec<SeedGroup> {
        let seed_tag = |t: &Item| SeedTag {
            tag: wire::Tag {
                id: t.id.clone(),
                name: t.name.clone(),
                create_time: t.create_time,
                order: t.order,
                deleted: false,
            },
            owner: t.owner.clone(),
        };
        // The corp's groups, then each rule group's, each in list order.
        let mut groups = self.live_groups();
        groups.sort_by_key(|g| g.strategy);
        groups
            .into_iter()
            .map(|g| SeedGroup {
                group: wire::TagGroup {
                    group_id: g.item.id.clone(),
                    group_name: g.item.name.clone(),
                    create_time: g.item.create_time,
                    order: g.item.order,
                    deleted: false,
                    strategy_id: g.strategy,
                    tag: self
                        .sorted(g.live_tags())
                        .into_iter()
                        .map(seed_tag)
                        .collect(),
                },
                owner: g.item.owner.clone(),
            })
            .collect()
    }

    #[cfg(test)]
    /// `add_corp_tag`: answers the group with only the tags just created.
    pub fn add(
        &mut self,
        req: &wire::AddTagRequest,
        caller: &Caller,
        now: i64,
    ) -> Result<wire::TagGroup, ApiError> {
        self.add_in(Family::Corp, req, caller, now)
    }

    /// The rule group an `add_strategy_tag` goes into: given, known and first-level.
    /// What WeCom answers for an unknown or second-level rule group is not documented:
    /// 40058 is a guess (docs/emulator-fidelity.md).
    fn rule_group_for_add(&self, req: &wire::AddTagRequest) -> Result<u64, ApiError> {
        let Some(id) = req.strategy_id else {
            return Err(ApiError::invalid_param("strategy_id is required"));
        };
        match self.rule_groups.iter().find(|r| r.strategy_id == id) {
            None => Err(ApiError::invalid_param(format!(
                "strategy_id {id}: no such rule group"
            ))),
            Some(r) if r.parent_id != 0 => Err(ApiError::invalid_param(format!(
                "strategy_id {id}: tags may only be added under a first-level rule group"
            ))),
            Some(_) => Ok(id),
        }
    }

    /// `add_corp_tag` or `add_strategy_tag` (the same rules, inside one rule group).
    pub fn add_in(
        &mut self,
        family: Family,
        req: &wire::AddTagRequest,
        caller: &Caller,
        now: i64,
    ) -> Result<wire::TagGroup, ApiError> {
        let strategy = match family {
            Family::Corp => None,
            Family::Strategy => Some(self.rule_group_for_add(req)?),
        };
        if req.tag.is_empty() {
            return Err(ApiError::invalid_param(
                "tag is empty (empty groups cannot be created)",
            ));
        }
        let p = self.profile;
        // The target group: an existing one by id, an existing one by name, or a new one.
        let (target, group_name) = match (&req.group_id, &req.group_name) {
            (Some(id), _) => match self.find_in(family, id) {
                Some((gi, None))
                    if !self.groups[gi].item.deleted && self.groups[gi].strategy == strategy =>
                {
                    (Some(gi), None)
                }
                _ => return Err(ApiError::invalid_id(id)),
            },
            (None, Some(name)) => {
                let name = self.take_name(name, "group_name")?;
                if self.named_in_another_rule_group(&name, strategy) {
                    return Err(ApiError::name_exists(&name));
                }
                (self.live_group_named(&name, strategy), Some(name))
            }
            (None, None) => {
                return Err(ApiError::invalid_param(
                    "group_id or group_name is required",
                ));
            }
        };
        if let Some(gi) = target
            && p.foreign_group_adds == ForeignGroupAdds::Refused
            && !caller.may_change(&self.groups[gi].item.owner)
        {
            return Err(self.no_privilege(&self.groups[gi].item.id));
        }
        // Tag names: checked, then de-duplicated (several equal names create one tag).
        let mut new: Vec<(String, u32)> = Vec::new();
        for t in &req.tag {
            let name = self.take_name(&t.name, "tag name")?;
            if !new.iter().any(|(n, _)| *n == name) {
                new.push((name, t.order.unwrap_or(0)));
            }
        }
        if let Some(gi) = target {
            let exists = |n: &String| self.groups[gi].live_tags().any(|t| t.name == *n);
            match p.existing_tag_name {
                ExistingTagName::Refused => {
                    if let Some((n, _)) = new.iter().find(|(n, _)| exists(n)) {
                        return Err(ApiError::name_exists(n));
                    }
                }
                ExistingTagName::Skipped => new.retain(|(n, _)| !exists(n)),
            }
        }
        if self.live_tag_count() + new.len() > self.tag_limit {
            return Err(ApiError::new(
                errcode::TAG_LIMIT,
                format!(
                    "corp tag count would exceed the limit of {}",
                    self.tag_limit
                ),
            ));
        }
        let gi = match target {
            Some(gi) => {
                if req.group_id.is_none()
                    && p.merge_order == MergeOrder::Applied
                    && let Some(order) = req.order
                {
                    self.groups[gi].item.order = order;
                }
                gi
            }
            None => {
                let name = group_name.unwrap_or_default();
                let item = self.new_item(&name, req.order.unwrap_or(0), now, caller);
                self.push_group(Group {
                    item,
                    tags: Vec::new(),
                    strategy,
                })
            }
        };
        let mut created = Vec::with_capacity(new.len());
        for (name, order) in new {
            let item = self.new_item(&name, order, now, caller);
            created.push(wire_tag(&item, false));
            self.push_tag(gi, item);
        }
        Ok(wire_group(&self.groups[gi], created, false))
    }

    #[cfg(test)]
    /// `edit_corp_tag`: rename and/or reorder one tag or group.
    pub fn edit(&mut self, req: &wire::EditTagRequest, caller: &Caller) -> Result<(), ApiError> {
        self.edit_in(Family::Corp, req, caller)
    }

    /// An admin-console edit: any item of either family, whoever created it.
    pub fn edit_any(
        &mut self,
        req: &wire::EditTagRequest,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let family = match self.find(&req.id) {
            Some((gi, _)) => self.family_of(gi),
            None => Family::Corp,
        };
        self.edit_in(family, req, caller)
    }

    /// `edit_corp_tag` or `edit_strategy_tag`: rename and/or reorder one tag or group of
    /// that family (an item never changes rule group: the body has no field for it).
    pub fn edit_in(
        &mut self,
        family: Family,
        req: &wire::EditTagRequest,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let (gi, ti) = match self.find_in(family, &req.id) {
            Some((gi, ti)) if !self.item(gi, ti).deleted => (gi, ti),
            _ => return Err(ApiError::invalid_id(&req.id)),
        };
        let empty = req.name.is_none() && req.order.is_none();
        if empty && self.profile.empty_edit == EmptyEdit::Refused {
            return Err(ApiError::invalid_param(
                "nothing to change: give name or order",
            ));
        }
        if !caller.may_change(&self.item(gi, ti).owner) {
            return Err(self.no_privilege(&req.id));
        }
        let name = match &req.name {
            None => None,
            Some(name) => {
                let name = self.take_name(name, "name")?;
                let clash = match ti {
                    None => {
                        let strategy = self.groups[gi].strategy;
                        self.live_group_named(&name, strategy)
                            .is_some_and(|other| other != gi)
                            || self.named_in_another_rule_group(&name, strategy)
                    }
                    Some(ti) => self.groups[gi]
                        .tags
                        .iter()
                        .enumerate()
                        .any(|(i, t)| i != ti && !t.deleted && t.name == name),
                };
                if clash {
                    return Err(ApiError::name_exists(&name));
                }
                Some(name)
            }
        };
        let item = self.item_mut(gi, ti);
        if let Some(name) = name {
            item.name = name;
        }
        if let Some(order) = req.order {
            item.order = order;
        }
        Ok(())
    }

    /// `customer_strategy/list`: rule-group ids in creation order, `limit` (default and
    /// most 1000) a page; the cursor is the position of the next one (opaque to callers).
    pub fn rule_group_page(
        &self,
        req: &wire::RuleGroupListRequest,
    ) -> Result<wire::RuleGroupListResponse, ApiError> {
        let start = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_param("cursor"))?,
        };
        let limit = req.limit.unwrap_or(1000).clamp(1, 1000) as usize;
        let end = (start + limit).min(self.rule_groups.len());
        let page = self.rule_groups.get(start..end).unwrap_or_default();
        Ok(wire::RuleGroupListResponse {
            status: wire::Status::ok(),
            strategy: page
                .iter()
                .map(|r| wire::RuleGroupId {
                    strategy_id: r.strategy_id,
                })
                .collect(),
            next_cursor: (end < self.rule_groups.len()).then(|| end.to_string()),
        })
    }

    /// `customer_strategy/get`. An unknown id answers 40058 (a guess: the vendor pages
    /// give no errcode for it).
    pub fn rule_group(&self, id: u64) -> Result<wire::RuleGroup, ApiError> {
        self.rule_groups
            .iter()
            .find(|r| r.strategy_id == id)
            .cloned()
            .ok_or_else(|| ApiError::invalid_param(format!("strategy_id {id}: no such rule group")))
    }

    fn item(&self, gi: usize, ti: Option<usize>) -> &Item {
        match ti {
            None => &self.groups[gi].item,
            Some(ti) => &self.groups[gi].tags[ti],
        }
    }

    fn item_mut(&mut self, gi: usize, ti: Option<usize>) -> &mut Item {
        match ti {
            None => &mut self.groups[gi].item,
            Some(ti) => &mut self.groups[gi].tags[ti],
        }
    }

    /// Why the caller may not delete the item at (gi, ti), if it may not: not its own, or
    /// (a group, when the profile refuses it) holding a live tag that is not its own.
    fn delete_refusal(&self, gi: usize, ti: Option<usize>, caller: &Caller) -> Option<ApiError> {
        let item = self.item(gi, ti);
        if !caller.may_change(&item.owner) {
            return Some(self.no_privilege(&item.id));
        }
        if ti.is_none() && self.profile.foreign_group_delete == ForeignGroupDelete::Refused {
            let foreign = self.groups[gi]
                .live_tags()
                .find(|t| !caller.may_change(&t.owner));
            return foreign.map(|t| self.no_privilege(&t.id));
        }
        None
    }

    #[cfg(test)]
    /// `del_corp_tag`. By default all or nothing: every id must name a live item of its
    /// kind that the caller may delete; otherwise nothing changes (the profile may apply
    /// the rest, or accept ids already deleted). A group whose last live tag goes is
    /// deleted too.
    pub fn del(&mut self, req: &wire::DelTagRequest, caller: &Caller) -> Result<(), ApiError> {
        self.del_in(Family::Corp, req, caller)
    }

    /// `del_corp_tag` or `del_strategy_tag`: the same rules, each seeing only its own
    /// family's ids.
    pub fn del_in(
        &mut self,
        family: Family,
        req: &wire::DelTagRequest,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        if req.tag_id.is_empty() && req.group_id.is_empty() {
            return Err(ApiError::invalid_param(
                "tag_id and group_id are both empty",
            ));
        }
        let mode = self.profile.del_invalid_ids;
        let ignore_deleted = mode == DelInvalidIds::IgnoreDeleted;
        let mut targets = Vec::new();
        let mut refusals = Vec::new();
        for id in &req.group_id {
            match self.find_in(family, id) {
                Some((gi, None)) if !self.groups[gi].item.deleted => targets.push((gi, None)),
                Some((_, None)) if ignore_deleted => {}
                _ => refusals.push(ApiError::invalid_id(id)),
            }
        }
        for id in &req.tag_id {
            match self.find_in(family, id) {
                Some((gi, Some(ti)))
                    if !self.groups[gi].item.deleted && !self.groups[gi].tags[ti].deleted =>
                {
                    targets.push((gi, Some(ti)))
                }
                Some((_, Some(_))) if ignore_deleted => {}
                _ => refusals.push(ApiError::invalid_id(id)),
            }
        }
        let mut allowed = Vec::with_capacity(targets.len());
        for (gi, ti) in targets {
            match self.delete_refusal(gi, ti, caller) {
                Some(e) => refusals.push(e),
                None => allowed.push((gi, ti)),
            }
        }
        let refusal = refusals.into_iter().next();
        if let Some(e) = refusal.clone()
            && mode != DelInvalidIds::Partial
        {
            return Err(e);
        }
        for (gi, ti) in allowed {
            self.item_mut(gi, ti).deleted = true;
            let group = &mut self.groups[gi];
            if ti.is_none() || group.live_tags().next().is_none() {
                group.item.deleted = true;
                for t in &mut group.tags {
                    t.deleted = true;
                }
            }
        }
        refusal.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Caller {
        Caller {
            app: "tagsync".into(),
            legacy: false,
        }
    }

    fn add(corp: &mut Corp, group: &str, tags: &[&str]) -> Result<wire::TagGroup, ApiError> {
        let req = wire::AddTagRequest {
            group_name: Some(group.into()),
            tag: tags
                .iter()
                .map(|n| wire::NewTag {
                    name: (*n).into(),
                    order: None,
                })
                .collect(),
            ..Default::default()
        };
        corp.add(&req, &me(), 100)
    }

    #[test]
    fn ids_have_the_wecom_shape() {
        let mut corp = Corp::from_seed(&[], 10).unwrap();
        let g = add(&mut corp, "G", &["a"]).unwrap();
        for id in [&g.group_id, &g.tag[0].id] {
            assert_eq!(id.len(), 32);
            assert!(id.starts_with("et"));
            assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn add_merges_by_group_name_and_dedups() {
        let mut corp = Corp::from_seed(&[], 10).unwrap();
        let first = add(&mut corp, "G", &["a", "b", "a"]).unwrap();
        assert_eq!(first.tag.len(), 2);
        let second = add(&mut corp, "G", &["c"]).unwrap();
        assert_eq!(first.group_id, second.group_id);
        assert_eq!(corp.live_tag_count(), 3);
        assert_eq!(
            add(&mut corp, "G", &["c"]).unwrap_err().errcode,
            errcode::TAG_NAME_EXISTS
        );
    }

    #[test]
    fn deleting_last_tag_deletes_group() {
        let mut corp = Corp::from_seed(&[], 10).unwrap();
        let g = add(&mut corp, "G", &["a"]).unwrap();
        corp.del(
            &wire::DelTagRequest {
                tag_id: vec![g.tag[0].id.clone()],
                ..Default::default()
            },
            &me(),
        )
        .unwrap();
        assert!(corp.dump().is_empty());
        let look = corp
            .list(&wire::TagListRequest {
                group_id: vec![g.group_id.clone()],
                ..Default::default()
            })
            .unwrap();
        assert!(look[0].deleted && look[0].tag[0].deleted);
    }

    #[test]
    fn names_count_characters() {
        assert!(check_name(&"标".repeat(30), "n").is_ok());
        assert_eq!(
            check_name(&"标".repeat(31), "n").unwrap_err().errcode,
            errcode::INVALID_PARAMETER
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const NAMES: [&str; 6] = [
            "甲",
            "乙",
            "丙",
            "丁",
            "",
            "这是一个超过三十个字符的非常非常非常非常非常长的标签名称啊",
        ];
        const APPS: [(&str, bool); 3] = [("tagsync", false), ("crm", false), ("legacy", true)];

        #[derive(Debug, Clone)]
        enum Op {
            Add {
                app: usize,
                by_id: Option<usize>,
                group: usize,
                tags: Vec<usize>,
            },
            Edit {
                app: usize,
                target: usize,
                name: Option<usize>,
                order: Option<u32>,
            },
            Del {
                app: usize,
                tags: Vec<usize>,
                groups: Vec<usize>,
            },
        }

        fn op() -> impl Strategy<Value = Op> {
            let app = 0..APPS.len();
            let name = 0..NAMES.len();
            prop_oneof![
                (
                    app.clone(),
                    proptest::option::of(0..8usize),
                    name.clone(),
                    proptest::collection::vec(name.clone(), 0..4)
                )
                    .prop_map(|(app, by_id, group, tags)| Op::Add {
                        app,
                        by_id,
                        group,
                        tags
                    }),
                (
                    app.clone(),
                    0..16usize,
                    proptest::option::of(name),
                    proptest::option::of(any::<u32>())
                )
                    .prop_map(|(app, target, name, order)| Op::Edit {
                        app,
                        target,
                        name,
                        order
                    }),
                (
                    app,
                    proptest::collection::vec(0..16usize, 0..3),
                    proptest::collection::vec(0..8usize, 0..2)
                )
                    .prop_map(|(app, tags, groups)| Op::Del { app, tags, groups }),
            ]
        }

        /// Every id ever made, groups first: ops pick targets from these (some deleted).
        fn ids(corp: &Corp) -> (Vec<String>, Vec<String>) {
            let groups = corp.groups.iter().map(|g| g.item.id.clone()).collect();
            let tags = corp
                .groups
                .iter()
                .flat_map(|g| g.tags.iter().map(|t| t.id.clone()))
                .collect();
            (groups, tags)
        }

        fn pick(v: &[String], i: usize) -> String {
            if v.is_empty() {
                format!("etMissing{i}")
            } else {
                v[i % v.len()].clone()
            }
        }

        fn check_invariants(corp: &Corp, limit: usize) {
            let dump = corp.dump();
            assert!(corp.live_tag_count() <= limit);
            let mut group_names = std::collections::HashSet::new();
            for g in &dump {
                assert!(!g.tag.is_empty(), "no empty live group");
                assert!(
                    group_names.insert(g.group_name.clone()),
                    "group names unique"
                );
                let mut tag_names = std::collections::HashSet::new();
                for t in &g.tag {
                    assert!(
                        tag_names.insert(t.name.clone()),
                        "tag names unique in a group"
                    );
                    assert!(check_name(&t.name, "t").is_ok());
                }
            }
        }

        proptest! {
            #[test]
            fn rules_hold_and_refused_calls_change_nothing(ops in proptest::collection::vec(op(), 1..40)) {
                let limit = 8;
                let mut corp = Corp::from_seed(&[], limit).unwrap();
                for op in ops {
                    let (groups, tags) = ids(&corp);
                    let caller = |app: usize| Caller { app: APPS[app].0.into(), legacy: APPS[app].1 };
                    let before = corp.dump();
                    let result = match &op {
                        Op::Add { app, by_id, group, tags: names } => {
                            let req = wire::AddTagRequest {
                                group_id: by_id.map(|i| pick(&groups, i)),
                                group_name: Some(NAMES[*group].into()),
                                tag: names.iter().map(|n| wire::NewTag { name: NAMES[*n].into(), order: None }).collect(),
                                ..Default::default()
                            };
                            corp.add(&req, &caller(*app), 1).map(|_| ())
                        }
                        Op::Edit { app, target, name, order } => {
                            let all: Vec<String> = groups.iter().chain(&tags).cloned().collect();
                            let req = wire::EditTagRequest {
                                id: pick(&all, *target),
                                name: name.map(|n| NAMES[n].into()),
                                order: *order,
                                agentid: None,
                            };
                            corp.edit(&req, &caller(*app))
                        }
                        Op::Del { app, tags: t, groups: g } => {
                            let req = wire::DelTagRequest {
                                tag_id: t.iter().map(|i| pick(&tags, *i)).collect(),
                                group_id: g.iter().map(|i| pick(&groups, *i)).collect(),
                                agentid: None,
                            };
                            corp.del(&req, &caller(*app))
                        }
                    };
                    if result.is_err() {
                        prop_assert_eq!(&corp.dump(), &before, "{:?} failed but changed the corp", op);
                    }
                    check_invariants(&corp, limit);
                }
            }
        }
    }
}
