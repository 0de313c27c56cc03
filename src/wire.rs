//! The JSON shapes of the WeCom API, its paths, error codes and limits.
//!
//! This is the only module the client and the emulator share. Optional request fields
//! are omitted when unset, never sent empty; a missing `errcode` in an answer reads as 0.

use serde::{Deserialize, Serialize};

pub mod callback;

/// Paths under the API base (`https://qyapi.weixin.qq.com/cgi-bin/`).
pub mod path {
    pub const GET_TOKEN: &str = "gettoken";
    pub const GET_SUITE_TOKEN: &str = "service/get_suite_token";
    pub const GET_CORP_TOKEN: &str = "service/get_corp_token";
    pub const GET_CORP_TAG_LIST: &str = "externalcontact/get_corp_tag_list";
    pub const ADD_CORP_TAG: &str = "externalcontact/add_corp_tag";
    pub const EDIT_CORP_TAG: &str = "externalcontact/edit_corp_tag";
    pub const DEL_CORP_TAG: &str = "externalcontact/del_corp_tag";
    pub const GET_STRATEGY_TAG_LIST: &str = "externalcontact/get_strategy_tag_list";
    pub const ADD_STRATEGY_TAG: &str = "externalcontact/add_strategy_tag";
    pub const EDIT_STRATEGY_TAG: &str = "externalcontact/edit_strategy_tag";
    pub const DEL_STRATEGY_TAG: &str = "externalcontact/del_strategy_tag";
    pub const STRATEGY_LIST: &str = "externalcontact/customer_strategy/list";
    pub const STRATEGY_GET: &str = "externalcontact/customer_strategy/get";
}

/// One WeCom call: what the client sends and the emulator answers. In JSON (the
/// emulator's call log and fault scripts) by its snake_case name (`delete`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    GetToken,
    GetSuiteToken,
    GetCorpToken,
    List,
    Add,
    Edit,
    Delete,
    /// `get_strategy_tag_list`: the rule-group tags this app created.
    StrategyList,
    StrategyAdd,
    StrategyEdit,
    StrategyDelete,
    /// `customer_strategy/list`: the rule groups' ids.
    RuleGroups,
    /// `customer_strategy/get`: one rule group (name, parent).
    RuleGroup,
}

impl Call {
    pub const ALL: [Call; 13] = [
        Call::GetToken,
        Call::GetSuiteToken,
        Call::GetCorpToken,
        Call::List,
        Call::Add,
        Call::Edit,
        Call::Delete,
        Call::StrategyList,
        Call::StrategyAdd,
        Call::StrategyEdit,
        Call::StrategyDelete,
        Call::RuleGroups,
        Call::RuleGroup,
    ];

    /// The four corp-tag calls (not the token calls, not the rule-group ones).
    pub const TAG_CALLS: [Call; 4] = [Call::List, Call::Add, Call::Edit, Call::Delete];

    /// The call of `family` that does what `self` (a corp-tag call) does: the rule-group
    /// tag calls mirror the corp-tag calls one for one.
    pub fn in_family(self, family: Family) -> Call {
        match (family, self) {
            (Family::Corp, c) => c,
            (Family::Strategy, Call::List) => Call::StrategyList,
            (Family::Strategy, Call::Add) => Call::StrategyAdd,
            (Family::Strategy, Call::Edit) => Call::StrategyEdit,
            (Family::Strategy, Call::Delete) => Call::StrategyDelete,
            (Family::Strategy, c) => c,
        }
    }

    /// The corp-tag call this call mirrors, and its family (`None` for the token and
    /// rule-group calls).
    pub fn tag_call(self) -> Option<(Call, Family)> {
        match self {
            Call::List | Call::Add | Call::Edit | Call::Delete => Some((self, Family::Corp)),
            Call::StrategyList => Some((Call::List, Family::Strategy)),
            Call::StrategyAdd => Some((Call::Add, Family::Strategy)),
            Call::StrategyEdit => Some((Call::Edit, Family::Strategy)),
            Call::StrategyDelete => Some((Call::Delete, Family::Strategy)),
            _ => None,
        }
    }

    /// The path under the API base.
    pub fn path(self) -> &'static str {
        match self {
            Call::GetToken => path::GET_TOKEN,
            Call::GetSuiteToken => path::GET_SUITE_TOKEN,
            Call::GetCorpToken => path::GET_CORP_TOKEN,
            Call::List => path::GET_CORP_TAG_LIST,
            Call::Add => path::ADD_CORP_TAG,
            Call::Edit => path::EDIT_CORP_TAG,
            Call::Delete => path::DEL_CORP_TAG,
            Call::StrategyList => path::GET_STRATEGY_TAG_LIST,
            Call::StrategyAdd => path::ADD_STRATEGY_TAG,
            Call::StrategyEdit => path::EDIT_STRATEGY_TAG,
            Call::StrategyDelete => path::DEL_STRATEGY_TAG,
            Call::RuleGroups => path::STRATEGY_LIST,
            Call::RuleGroup => path::STRATEGY_GET,
        }
    }

    /// The vendor's name of the call (`add_corp_tag`, `customer_strategy/get`, …).
    pub fn name(self) -> &'static str {
        let p = self.path();
        p.strip_prefix("externalcontact/")
            .or_else(|| p.strip_prefix("service/"))
            .unwrap_or(p)
    }

    /// Whether the call obtains a token (it needs none).
    pub fn is_token_call(self) -> bool {
        matches!(
            self,
            Call::GetToken | Call::GetSuiteToken | Call::GetCorpToken
        )
    }

    /// The place of the call in [`Call::ALL`] (for per-call tables).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The two tag families: corp tags (企业客户标签) and rule-group tags (规则组标签), whose
/// calls have the same bodies (the rule-group add and list also carry `strategy_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    #[default]
    Corp,
    Strategy,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The vendor's limits, defined once for the validator, the planner and the emulator.
pub mod limit {
    /// The most corp tags a corp may hold (older corps: 3000); past it, errcode 40126.
    pub const CORP_TAGS: usize = 10_000;
    /// The longest name of a group or tag, in characters.
    pub const NAME_CHARS: usize = 30;
}

/// Error codes the project branches on. Branch on these, never on `errmsg`.
pub mod errcode {
    pub const OK: i64 = 0;
    pub const SYSTEM_BUSY: i64 = -1;
    pub const DATA_VERSION_CONFLICT: i64 = 6000;
    pub const INVALID_SECRET: i64 = 40001;
    /// Wrong corp id (`gettoken`).
    pub const INVALID_CORPID: i64 = 40013;
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    pub const INVALID_PARAMETER: i64 = 40058;
    pub const INVALID_TAG_ID: i64 = 40068;
    pub const TAG_NAME_EXISTS: i64 = 40071;
    pub const TAG_LIMIT: i64 = 40126;
    pub const MISSING_ACCESS_TOKEN: i64 = 41001;
    /// `gettoken` without `corpid` / without `corpsecret`.
    pub const MISSING_CORPID: i64 = 41002;
    pub const MISSING_SECRET: i64 = 41004;
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// A tag call sent with another method than POST.
    pub const REQUIRE_POST: i64 = 43002;
    pub const FREQUENCY_LIMIT: i64 = 45009;
    pub const CONCURRENCY_LIMIT: i64 = 45033;
    pub const API_NOT_PERMITTED: i64 = 48002;
    pub const NO_PRIVILEGE: i64 = 60011;
    pub const IP_NOT_TRUSTED: i64 = 60020;
    pub const NO_PRIVILEGE_ALT: i64 = 301002;
    // Third-party token flow (WeCom's global error code page; the spec lists none).
    pub const INVALID_SUITE_TOKEN: i64 = 40082;
    pub const INVALID_PERMANENT_CODE: i64 = 40084;
    pub const INVALID_SUITE_TICKET: i64 = 40085;
    pub const INVALID_SUITE_ID: i64 = 40086;
    pub const SUITE_TOKEN_EXPIRED: i64 = 42009;
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `errcode` and `errmsg`, present in every answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
}

impl Status {
    pub fn ok() -> Self {
        Status {
            errcode: 0,
            errmsg: "ok".into(),
        }
    }
    pub fn error(errcode: i64, errmsg: impl Into<String>) -> Self {
        Status {
            errcode,
            errmsg: errmsg.into(),
        }
    }
}

/// Answer of `gettoken` and of `service/get_corp_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// Body of `service/get_suite_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTokenRequest {
    pub suite_id: String,
    pub suite_secret: String,
    pub suite_ticket: String,
}

/// Answer of `service/get_suite_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTokenResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// Body of `service/get_corp_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpTokenRequest {
    pub auth_corpid: String,
    pub permanent_code: String,
}

/// Body of `get_corp_tag_list` (and of `get_strategy_tag_list`, which may name a rule
/// group). Both lists empty: every live tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagListRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
}

/// A tag as the list and add calls return it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub order: u32,
    /// Present only on lookups by id; missing reads as false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

/// A tag group as the list and add calls return it. `T` is the shape of its tags: the
/// vendor's [`Tag`], or the emulator's seed tag (the same plus its owner).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagGroup<T = Tag> {
    pub group_id: String,
    pub group_name: String,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub order: u32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The rule group of a rule-group tag group (absent on corp tag groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_id: Option<u64>,
    #[serde(default = "Vec::new")]
    pub tag: Vec<T>,
}

/// Answer of `get_corp_tag_list` (also the seed and dump format of the emulator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagListResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default)]
    pub tag_group: Vec<TagGroup>,
}

/// One tag in an `add_corp_tag` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTag {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
}

/// Body of `add_corp_tag` (and of `add_strategy_tag`, with `strategy_id`). Never send
/// `"group_id": ""`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddTagRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    pub tag: Vec<NewTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// Answer of `add_corp_tag`: the group with only the tags just created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddTagResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_group: Option<TagGroup>,
}

/// Body of `edit_corp_tag`: send only the fields that change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditTagRequest {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// Body of `del_corp_tag`; not both lists empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelTagRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// Body of `customer_strategy/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroupListRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One entry of the `customer_strategy/list` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroupId {
    pub strategy_id: u64,
}

/// Answer of `customer_strategy/list`; an empty or missing `next_cursor` ends the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroupListResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default)]
    pub strategy: Vec<RuleGroupId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Body of `customer_strategy/get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroupGetRequest {
    pub strategy_id: u64,
}

/// A rule group as `customer_strategy/get` gives it (the fields tagsync reads; the
/// answer also carries `admin_list` and `privilege`, ignored here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroup {
    pub strategy_id: u64,
    /// 0 for a first-level rule group (only those hold tags).
    #[serde(default)]
    pub parent_id: u64,
    #[serde(default)]
    pub strategy_name: String,
    #[serde(default)]
    pub create_time: i64,
}

/// Answer of `customer_strategy/get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleGroupGetResponse {
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RuleGroup>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_errcode_reads_as_zero() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"x","expires_in":7200}"#).unwrap();
        assert_eq!(t.status.errcode, 0);
        assert_eq!(t.access_token.as_deref(), Some("x"));
    }

    #[test]
    fn optional_fields_are_omitted() {
        let add = AddTagRequest {
            group_name: Some("g".into()),
            tag: vec![NewTag {
                name: "t".into(),
                order: None,
            }],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&add).unwrap(),
            r#"{"group_name":"g","tag":[{"name":"t"}]}"#
        );
        let edit = EditTagRequest {
            id: "et1".into(),
            name: Some("n".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&edit).unwrap(),
            r#"{"id":"et1","name":"n"}"#
        );
    }

    #[test]
    fn missing_deleted_reads_as_false() {
        let g: TagGroup = serde_json::from_str(
            r#"{"group_id":"g","group_name":"n","create_time":1,"order":2,"tag":[{"id":"t","name":"a","create_time":1,"order":0}]}"#,
        )
        .unwrap();
        assert!(!g.deleted);
        assert!(!g.tag[0].deleted);
    }
}
