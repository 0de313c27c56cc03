//! The emulator's profile: one switch for each behaviour the vendor document leaves open
//! (see `docs/emulator-fidelity.md`). The default of every switch is the emulator's
//! long-standing choice; the alternatives are what the real server might do instead, so
//! that tagsync can be tested against each.
//!
//! In the apps file: an optional `profile:` mapping with any of these keys, e.g.
//! `profile: {name_count: bytes, del_invalid_ids: partial, ownership_errcode: 301002}`.

use serde::{Deserialize, Serialize};

use crate::wire::errcode;

/// What the 30-character limit of a name counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameCount {
    /// Unicode scalar values (Rust `chars`).
    #[default]
    Scalars,
    /// UTF-16 code units (an emoji beyond U+FFFF counts twice).
    Utf16,
    /// UTF-8 bytes (a CJK character counts three times).
    Bytes,
}

impl NameCount {
    pub fn count(self, name: &str) -> usize {
        match self {
            NameCount::Scalars => name.chars().count(),
            NameCount::Utf16 => name.encode_utf16().count(),
            NameCount::Bytes => name.len(),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            NameCount::Scalars => "characters",
            NameCount::Utf16 => "UTF-16 units",
            NameCount::Bytes => "bytes",
        }
    }
}

/// Whether a name sent is stored as sent or with surrounding whitespace removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameTrim {
    #[default]
    Kept,
    Trimmed,
}

/// `add_corp_tag` into a group another app (or the admin console) created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignGroupAdds {
    /// The new tags are the caller's; the group stays its creator's.
    #[default]
    Allowed,
    /// Refused with the ownership errcode, by `group_id` or by a `group_name` merge.
    Refused,
}

/// `del_corp_tag` of a group that holds live tags the caller may not delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignGroupDelete {
    /// The group goes with every tag in it, whoever made them.
    #[default]
    Removes,
    /// Refused with the ownership errcode (naming a foreign tag); nothing changes.
    Refused,
}

/// `del_corp_tag` naming an id that is unknown, already deleted or not the caller's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelInvalidIds {
    /// The whole call is refused (40068 or the ownership errcode); nothing changes.
    #[default]
    AllOrNothing,
    /// What may be deleted is deleted; then the first refusal is answered.
    Partial,
    /// Ids of items already deleted are accepted silently; otherwise all or nothing.
    IgnoreDeleted,
}

/// The group `order` of an `add_corp_tag` by `group_name` that merges into an existing
/// group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeOrder {
    /// The existing group keeps its order.
    #[default]
    Kept,
    /// The order sent is applied to the existing group.
    Applied,
}

/// The group's `deleted` flag on a `get_corp_tag_list` by `group_id`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupDeletedFlag {
    /// A deleted group is flagged (its tags are flagged either way).
    #[default]
    Flagged,
    /// Never on a group looked up by `group_id` (the vendor document's letter: the
    /// group's flag comes only on `tag_id` lookups); its tags are still flagged.
    Unflagged,
}

/// Whether `"deleted": false` is written in answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletedFalse {
    /// Left out (only `true` is written, on lookups by id).
    #[default]
    Omitted,
    /// Written on every group and tag of every list answer (as the vendor's example).
    Sent,
}

/// An `edit_corp_tag` with neither `name` nor `order`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyEdit {
    /// 40058.
    #[default]
    Refused,
    /// errcode 0, nothing changes.
    Accepted,
}

/// The list order of groups, or tags in a group, with equal `order`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListTies {
    /// Earlier `create_time` first, then earlier creation.
    #[default]
    OldestFirst,
    /// Later `create_time` first, then later creation.
    NewestFirst,
}

/// Ids that never existed in a `get_corp_tag_list` filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownLookupIds {
    /// Left out of the answer.
    #[default]
    Omitted,
    /// The call is refused with 40068.
    Refused,
}

/// An `add_corp_tag` naming a tag the group already holds live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExistingTagName {
    /// 40071; nothing is created.
    #[default]
    Refused,
    /// That name is skipped (the rest are created; the answer lists only those).
    Skipped,
}

/// Where a rule-group tag group's name must be unique (the vendor is silent; the spec
/// asks the emulator to pick "within one rule group").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleGroupNames {
    /// Within its rule group: two rule groups may hold groups of one name.
    #[default]
    PerRuleGroup,
    /// Across all rule groups: a name another rule group's group holds answers 40071.
    AcrossRuleGroups,
}

/// One value per switch; `Profile::default()` is the emulator's long-standing behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    pub name_count: NameCount,
    pub name_trim: NameTrim,
    /// The errcode of an ownership refusal (edit, delete, and the refusals of
    /// `foreign_group_adds` and `foreign_group_delete`).
    pub ownership_errcode: i64,
    pub foreign_group_adds: ForeignGroupAdds,
    pub foreign_group_delete: ForeignGroupDelete,
    pub del_invalid_ids: DelInvalidIds,
    pub merge_order: MergeOrder,
    pub group_deleted_flag: GroupDeletedFlag,
    pub deleted_false: DeletedFalse,
    pub empty_edit: EmptyEdit,
    pub list_ties: ListTies,
    pub unknown_lookup_ids: UnknownLookupIds,
    pub existing_tag_name: ExistingTagName,
    pub rule_group_names: RuleGroupNames,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name_count: NameCount::default(),
            name_trim: NameTrim::default(),
            ownership_errcode: errcode::NO_PRIVILEGE,
            foreign_group_adds: ForeignGroupAdds::default(),
            foreign_group_delete: ForeignGroupDelete::default(),
            del_invalid_ids: DelInvalidIds::default(),
            merge_order: MergeOrder::default(),
            group_deleted_flag: GroupDeletedFlag::default(),
            deleted_false: DeletedFalse::default(),
            empty_edit: EmptyEdit::default(),
            list_ties: ListTies::default(),
            unknown_lookup_ids: UnknownLookupIds::default(),
            existing_tag_name: ExistingTagName::default(),
            rule_group_names: RuleGroupNames::default(),
        }
    }
}

impl Profile {
    /// Every alternative at once (the ownership errcode: 301002).
    pub fn all_alternatives() -> Self {
        Profile {
            name_count: NameCount::Bytes,
            name_trim: NameTrim::Trimmed,
            ownership_errcode: errcode::NO_PRIVILEGE_ALT,
            foreign_group_adds: ForeignGroupAdds::Refused,
            foreign_group_delete: ForeignGroupDelete::Refused,
            del_invalid_ids: DelInvalidIds::Partial,
            merge_order: MergeOrder::Applied,
            group_deleted_flag: GroupDeletedFlag::Unflagged,
            deleted_false: DeletedFalse::Sent,
            empty_edit: EmptyEdit::Accepted,
            list_ties: ListTies::NewestFirst,
            unknown_lookup_ids: UnknownLookupIds::Refused,
            existing_tag_name: ExistingTagName::Skipped,
            rule_group_names: RuleGroupNames::AcrossRuleGroups,
        }
    }

    /// The default with one switch changed, for each alternative value of each switch
    /// (the ownership errcode: 301002 and 48002), with a label naming it.
    pub fn one_at_a_time() -> Vec<(&'static str, Profile)> {
        let d = Profile::default;
        vec![
            (
                "name_count: utf16",
                Profile {
                    name_count: NameCount::Utf16,
                    ..d()
                },
            ),
            (
                "name_count: bytes",
                Profile {
                    name_count: NameCount::Bytes,
                    ..d()
                },
            ),
            (
                "name_trim: trimmed",
                Profile {
                    name_trim: NameTrim::Trimmed,
                    ..d()
                },
            ),
            (
                "ownership_errcode: 301002",
                Profile {
                    ownership_errcode: errcode::NO_PRIVILEGE_ALT,
                    ..d()
                },
            ),
            (
                "ownership_errcode: 48002",
                Profile {
                    ownership_errcode: errcode::API_NOT_PERMITTED,
                    ..d()
                },
            ),
            (
                "foreign_group_adds: refused",
                Profile {
                    foreign_group_adds: ForeignGroupAdds::Refused,
                    ..d()
                },
            ),
            (
                "foreign_group_delete: refused",
                Profile {
                    foreign_group_delete: ForeignGroupDelete::Refused,
                    ..d()
                },
            ),
            (
                "del_invalid_ids: partial",
                Profile {
                    del_invalid_ids: DelInvalidIds::Partial,
                    ..d()
                },
            ),
            (
                "del_invalid_ids: ignore_deleted",
                Profile {
                    del_invalid_ids: DelInvalidIds::IgnoreDeleted,
                    ..d()
                },
            ),
            (
                "merge_order: applied",
                Profile {
                    merge_order: MergeOrder::Applied,
                    ..d()
                },
            ),
            (
                "group_deleted_flag: unflagged",
                Profile {
                    group_deleted_flag: GroupDeletedFlag::Unflagged,
                    ..d()
                },
            ),
            (
                "deleted_false: sent",
                Profile {
                    deleted_false: DeletedFalse::Sent,
                    ..d()
                },
            ),
            (
                "empty_edit: accepted",
                Profile {
                    empty_edit: EmptyEdit::Accepted,
                    ..d()
                },
            ),
            (
                "list_ties: newest_first",
                Profile {
                    list_ties: ListTies::NewestFirst,
                    ..d()
                },
            ),
            (
                "unknown_lookup_ids: refused",
                Profile {
                    unknown_lookup_ids: UnknownLookupIds::Refused,
                    ..d()
                },
            ),
            (
                "existing_tag_name: skipped",
                Profile {
                    existing_tag_name: ExistingTagName::Skipped,
                    ..d()
                },
            ),
            (
                "rule_group_names: across_rule_groups",
                Profile {
                    rule_group_names: RuleGroupNames::AcrossRuleGroups,
                    ..d()
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_optional_and_unknown_keys_are_refused() {
        let p: Profile = serde_saphyr::from_str("{}").unwrap();
        assert_eq!(p, Profile::default());
        let p: Profile =
            serde_saphyr::from_str("name_count: utf16\nownership_errcode: 301002\n").unwrap();
        assert_eq!(p.name_count, NameCount::Utf16);
        assert_eq!(p.ownership_errcode, 301002);
        assert_eq!(p.del_invalid_ids, DelInvalidIds::AllOrNothing);
        assert!(serde_saphyr::from_str::<Profile>("name_counts: utf16\n").is_err());
        assert!(serde_saphyr::from_str::<Profile>("name_count: runes\n").is_err());
    }

    #[test]
    fn names_are_counted_as_configured() {
        let name = "标签😀";
        assert_eq!(NameCount::Scalars.count(name), 3);
        assert_eq!(NameCount::Utf16.count(name), 4);
        assert_eq!(NameCount::Bytes.count(name), 10);
    }
}
