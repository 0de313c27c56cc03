//! The validated desired state: what the planner consumes. No spans, no I/O.

/// How the `order` of a group or tag is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// From the item's position in its list: first shows first.
    #[default]
    Position,
    /// Leave the remote order alone. On a group, this applies to the group and its tags.
    Ignore,
    /// An explicit WeCom `order` value (larger shows first).
    Value(u32),
}

/// Which remote items tagsync may edit or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ownership {
    /// Only the ids recorded in the ownership ledger (what this app created or adopted).
    #[default]
    Ledger,
    /// Everything: the corp holds the legacy all-powerful secret.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredTag {
    pub name: String,
    pub id: Option<String>,
    pub previously: Vec<String>,
    pub order: Order,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredGroup {
    pub name: String,
    pub id: Option<String>,
    pub previously: Vec<String>,
    /// `managed: false`: read-only, never edited or deleted, only referenced.
    pub managed: bool,
    pub order: Order,
    /// In display order: first shows first.
    pub tags: Vec<DesiredTag>,
}

/// How the file names a customer-contact rule group (客户联系规则组).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleGroupRef {
    /// `strategy_id: 7`
    Id(u64),
    /// `name: 华东销售`: resolved through `customer_strategy/list` + `get`.
    Name(String),
}

impl std::fmt::Display for RuleGroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleGroupRef::Id(id) => write!(f, "strategy_id {id}"),
            RuleGroupRef::Name(n) => write!(f, "`{n}`"),
        }
    }
}

/// One entry of `strategies:`: a rule group and the tag groups it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRuleGroup {
    pub rule_group: RuleGroupRef,
    /// In display order: first shows first.
    pub groups: Vec<DesiredGroup>,
}

/// A whole desired-state file after validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    pub version: u32,
    pub ownership: Ownership,
    /// In display order: first shows first.
    pub groups: Vec<DesiredGroup>,
    /// The rule groups' tags; `None` when the file has no `strategies:` key (then they
    /// are neither read nor changed).
    pub strategies: Option<Vec<DesiredRuleGroup>>,
}

impl DesiredTag {
    pub fn named(name: impl Into<String>) -> Self {
        DesiredTag {
            name: name.into(),
            id: None,
            previously: Vec::new(),
            order: Order::Position,
        }
    }
}

impl DesiredGroup {
    pub fn named(name: impl Into<String>, tags: Vec<DesiredTag>) -> Self {
        DesiredGroup {
            name: name.into(),
            id: None,
            previously: Vec::new(),
            managed: true,
            order: Order::Position,
            tags,
        }
    }
}
