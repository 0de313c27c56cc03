//! The customer-contact rule groups (客户联系规则组): their ids, page by page
//! (`customer_strategy/list`), and the ones wanted read one by one
//! (`customer_strategy/get`), through the client's tokens, limits and retries.

use super::client::Client;
use super::error::{Call, ClientError};
use crate::snapshot::{RemoteRuleGroup, Snapshot};
use crate::wire::{self, Family};

/// Which rule groups a read asks `customer_strategy/get` for (their ids are always
/// listed): every one (the file names a rule group by name, or an export), or only these
/// ids (the file names them all by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleGroupRead {
    All,
    Ids(Vec<u64>),
}

impl Client {
    /// Every live corp tag and, with `rule_groups`, the rule groups and this app's tags
    /// in them (read concurrently; see [`Client::rule_groups`] for which are read).
    pub async fn snapshot_with(
        &self,
        rule_groups: Option<&RuleGroupRead>,
    ) -> Result<Snapshot, ClientError> {
        let Some(read) = rule_groups else {
            return self.snapshot().await;
        };
        let everything = wire::TagListRequest::default();
        let (corp, rules) = tokio::join!(self.list(&everything), self.read_rule_groups(read),);
        let (rules, tags) = rules?;
        Ok(Snapshot::from_wire(corp?).with_rule_groups(rules, tags))
    }

    /// The rule groups (as [`Client::rule_groups`]) and every rule-group tag this app
    /// created (`get_strategy_tag_list` with no filter), read concurrently: what
    /// [`Snapshot::with_rule_groups`] takes.
    pub async fn read_rule_groups(
        &self,
        read: &RuleGroupRead,
    ) -> Result<(Vec<RemoteRuleGroup>, Vec<wire::TagGroup>), ClientError> {
        let everything = wire::TagListRequest::default();
        let (rules, tags) = tokio::join!(
            self.rule_groups(read),
            self.list_in(Family::Strategy, &everything),
        );
        Ok((rules?, tags?))
    }

    /// The rule groups: every id (`customer_strategy/list`, page by page), then
    /// `customer_strategy/get` for the ones `read` asks for, at most 8 at once. An id
    /// asked for but not listed is simply not in the answer.
    pub async fn rule_groups(
        &self,
        read: &RuleGroupRead,
    ) -> Result<Vec<RemoteRuleGroup>, ClientError> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        // A server that never ends its cursor must not keep us here: 1,000 pages of
        // 1,000 is far past any corp.
        for _ in 0..1000 {
            let req = wire::RuleGroupListRequest {
                cursor: cursor.take(),
                limit: Some(1000),
            };
            let page: wire::RuleGroupListResponse = self.tag_call(Call::RuleGroups, &req).await?;
            ids.extend(page.strategy.into_iter().map(|s| s.strategy_id));
            match page.next_cursor.filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let wanted: Vec<u64> = match read {
            RuleGroupRead::All => ids.clone(),
            RuleGroupRead::Ids(want) => ids.iter().copied().filter(|i| want.contains(i)).collect(),
        };
        // The client's own concurrency and rate limits pace these.
        let mut gets = tokio::task::JoinSet::new();
        for (at, strategy_id) in wanted.into_iter().enumerate() {
            let client = self.clone();
            gets.spawn(async move {
                let req = wire::RuleGroupGetRequest { strategy_id };
                let answer: Result<wire::RuleGroupGetResponse, _> =
                    client.tag_call(Call::RuleGroup, &req).await;
                (at, answer.map(|a| a.strategy))
            });
        }
        let mut got: Vec<(usize, Option<wire::RuleGroup>)> = Vec::new();
        while let Some(done) = gets.join_next().await {
            let (at, answer) = done.map_err(|e| ClientError::NotSent {
                call: Call::RuleGroup,
                reason: format!("the read stopped: {e}"),
            })?;
            got.push((at, answer?));
        }
        got.sort_by_key(|(at, _)| *at);
        let got = got.into_iter().map(|(_, r)| r);
        let mut out: Vec<RemoteRuleGroup> = got
            .into_iter()
            .flatten()
            .map(|r| RemoteRuleGroup {
                id: r.strategy_id,
                name: Some(r.strategy_name),
                parent_id: r.parent_id,
                groups: Vec::new(),
            })
            .collect();
        // Listed but not read: known to exist, name unknown.
        for id in ids {
            if !out.iter().any(|r| r.id == id) {
                out.push(RemoteRuleGroup {
                    id,
                    ..RemoteRuleGroup::default()
                });
            }
        }
        Ok(out)
    }
}
