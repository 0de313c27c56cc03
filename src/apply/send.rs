//! Sending one step: its request, and what is done when its answer is lost. A lost
//! answer ([`ErrorKind::Ambiguous`]) is never resent blindly: an add re-reads its group
//! (by id, or the whole corp to find a new group by name), takes the tags that are there
//! as created and adds only what is missing; an edit or delete re-reads the corp and
//! checks whether its effect is there.

use super::report::Failure;
use super::request::{Request, request};
use crate::plan::{Scope, StepKind, Target};
use crate::remote::{Client, ClientError, ErrorKind, Snapshot};
use crate::wire::{self, Family};

/// How many times in a row an add whose answer was lost is re-read and continued.
pub const MAX_ADD_ROUNDS: usize = 3;

/// What one step did: ids created (recorded even when the step then failed) and how
/// it ended.
#[derive(Debug, Default)]
pub(super) struct Done {
    /// A group this step created: its id and name.
    pub(super) group: Option<(String, String)>,
    /// The group the step's tags went into.
    pub(super) home: Option<String>,
    /// Tags this step created: id, name, order.
    pub(super) tags: Vec<(String, String, u32)>,
    /// Set when the answer was lost and a re-read settled the outcome.
    pub(super) note: Option<String>,
    pub(super) failure: Option<Failure>,
    /// An add whose answer was lost and whose outcome no re-read settled: it may have
    /// created tags that are not in `tags`, so its pending entry stays in the ledger for
    /// the next run to claim.
    pub(super) unsettled: bool,
    /// Set when WeCom could not be reached at all (see `ClientError::unreachable`): the
    /// executor then sends nothing more.
    pub(super) unreachable: Option<String>,
}

impl Done {
    pub(super) fn failed(failure: Failure) -> Self {
        Done {
            failure: Some(failure),
            ..Done::default()
        }
    }

    /// A step that failed with `e`.
    pub(super) fn error(e: &ClientError) -> Self {
        Done {
            failure: Some(Failure::from(e)),
            unreachable: e.unreachable().then(|| e.to_string()),
            ..Done::default()
        }
    }
}

pub(super) async fn run_step(client: &Client, kind: &StepKind, scope: &Scope) -> Done {
    let family = scope.family();
    match request(kind, scope) {
        Request::Add(req) => add(client, req, scope).await,
        Request::Edit(req) => match client.edit_in(family, &req).await {
            Ok(()) => Done::default(),
            Err(e) if e.kind() == ErrorKind::Ambiguous => confirm(client, kind, scope, &e).await,
            Err(e) => Done::error(&e),
        },
        Request::Delete(req) => match client.delete_in(family, &req).await {
            Ok(()) => Done::default(),
            Err(e) if e.kind() == ErrorKind::Ambiguous => confirm(client, kind, scope, &e).await,
            Err(e) => Done::error(&e),
        },
    }
}

/// The scope's tags as they are now: the corp's, or one rule group's (this app's).
async fn read_scope(client: &Client, scope: &Scope) -> Result<Snapshot, ClientError> {
    match scope {
        Scope::Corp => client.snapshot().await,
        Scope::RuleGroup { strategy_id, .. } => {
            let req = wire::TagListRequest {
                strategy_id: Some(*strategy_id),
                ..wire::TagListRequest::default()
            };
            Ok(Snapshot::from_wire(
                client.list_in(Family::Strategy, &req).await?,
            ))
        }
    }
}

/// Send an add; on a lost answer re-read and add only what is missing.
async fn add(client: &Client, mut req: wire::AddTagRequest, scope: &Scope) -> Done {
    let mut done = Done::default();
    for _ in 0..MAX_ADD_ROUNDS {
        let lost = match client.add_in(scope.family(), &req).await {
            Ok(group) => {
                if req.group_id.is_none() {
                    done.group = Some((group.group_id.clone(), group.group_name.clone()));
                }
                done.home = Some(group.group_id);
                done.tags.extend(
                    group
                        .tag
                        .into_iter()
                        .filter(|t| !t.deleted)
                        .map(|t| (t.id, t.name, t.order)),
                );
                return done;
            }
            Err(e) if e.kind() == ErrorKind::Ambiguous => e,
            Err(e) => {
                done.failure = Some(Failure::from(&e));
                done.unreachable = e.unreachable().then(|| e.to_string());
                return done;
            }
        };
        let found = match reread_group(client, &req, scope).await {
            Ok(found) => found,
            Err(e) => {
                done.failure = Some(Failure::unresolved(format!(
                    "{lost}; re-reading the group then failed too: {e}"
                )));
                done.unsettled = true;
                done.unreachable = e.unreachable().then(|| e.to_string());
                return done;
            }
        };
        let Some(group) = found else {
            if req.group_id.is_some() {
                done.failure = Some(Failure::unresolved(format!(
                    "{lost}; the group is gone from the corp since"
                )));
                done.unsettled = true;
                return done;
            }
            // The new group is not there: nothing was created, so sending again is safe.
            done.note = Some("an answer was lost; the group was not there, sent again".into());
            continue;
        };
        if req.group_id.is_none() {
            done.group = Some((group.id.clone(), group.name.clone()));
        }
        done.home = Some(group.id.clone());
        let mut missing = Vec::new();
        for t in req.tag {
            match group.tags.iter().find(|r| r.name == t.name) {
                Some(r) => done.tags.push((r.id.clone(), r.name.clone(), r.order)),
                None => missing.push(t),
            }
        }
        done.note = Some(format!(
            "the answer was lost; re-read the group: {} created{}",
            match done.tags.len() {
                1 => "1 tag was".to_string(),
                n => format!("{n} tags were"),
            },
            if missing.is_empty() {
                String::new()
            } else {
                format!(", {} added again", missing.len())
            }
        ));
        if missing.is_empty() {
            return done;
        }
        req = wire::AddTagRequest {
            strategy_id: req.strategy_id,
            group_id: Some(group.id),
            group_name: None,
            order: None,
            tag: missing,
            agentid: req.agentid,
        };
    }
    done.failure = Some(Failure::unresolved(format!(
        "the answer to {} was lost {MAX_ADD_ROUNDS} times in a row",
        crate::wire::Call::Add.in_family(scope.family())
    )));
    done.unsettled = true;
    done
}

/// The group an add went into, as it is now: by id, or (a new group) by name.
async fn reread_group(
    client: &Client,
    req: &wire::AddTagRequest,
    scope: &Scope,
) -> Result<Option<crate::remote::RemoteGroup>, ClientError> {
    let snapshot = match &req.group_id {
        Some(id) => Snapshot::from_wire(
            client
                .list_in(
                    scope.family(),
                    &wire::TagListRequest {
                        strategy_id: scope.strategy_id(),
                        tag_id: Vec::new(),
                        group_id: vec![id.clone()],
                    },
                )
                .await?,
        ),
        None => read_scope(client, scope).await?,
    };
    Ok(snapshot.groups.into_iter().find(|g| match &req.group_id {
        Some(id) => g.id == *id,
        None => Some(&g.name) == req.group_name.as_ref(),
    }))
}

/// An edit or delete whose answer was lost: re-read and check its effect is there.
async fn confirm(client: &Client, kind: &StepKind, scope: &Scope, lost: &ClientError) -> Done {
    let snapshot = match read_scope(client, scope).await {
        Ok(s) => s,
        Err(e) => {
            return Done::failed(Failure::unresolved(format!(
                "{lost}; re-reading the corp then failed too: {e}"
            )));
        }
    };
    match effect_missing(kind, &snapshot) {
        None => Done {
            note: Some("the answer was lost; a re-read shows the change was made".into()),
            ..Done::default()
        },
        Some(what) => Done::failed(Failure::unresolved(format!(
            "{lost}; a re-read shows {what}"
        ))),
    }
}

/// `None` when the snapshot shows the step's effect; else what is not as intended.
pub(crate) fn effect_missing(kind: &StepKind, snapshot: &Snapshot) -> Option<String> {
    match kind {
        StepKind::Edit {
            id,
            target,
            to_name,
            to_order,
            ..
        } => {
            let now = match target {
                Target::Group => snapshot
                    .groups
                    .iter()
                    .find(|g| g.id == *id)
                    .map(|g| (&g.name, g.order)),
                Target::Tag => snapshot
                    .groups
                    .iter()
                    .flat_map(|g| &g.tags)
                    .find(|t| t.id == *id)
                    .map(|t| (&t.name, t.order)),
            };
            match now {
                None => Some(format!("item {id} no longer exists")),
                Some((name, _)) if to_name.as_ref().is_some_and(|n| n != name) => {
                    Some(format!("item {id} is named {name:?}, not as intended"))
                }
                Some((_, order)) if to_order.is_some_and(|o| o != order) => {
                    Some(format!("item {id} has order {order}, not as intended"))
                }
                Some(_) => None,
            }
        }
        StepKind::Delete { groups, tags } => {
            let live_group = |id: &str| snapshot.groups.iter().any(|g| g.id == id);
            let live_tag = |id: &str| {
                snapshot
                    .groups
                    .iter()
                    .flat_map(|g| &g.tags)
                    .any(|t| t.id == id)
            };
            let left: Vec<&str> = groups
                .iter()
                .map(|g| g.id.as_str())
                .filter(|id| live_group(id))
                .chain(tags.iter().map(|t| t.id.as_str()).filter(|id| live_tag(id)))
                .collect();
            (!left.is_empty()).then(|| match left.len() {
                1 => format!("1 item still there: {}", left.join(", ")),
                n => format!("{n} items still there: {}", left.join(", ")),
            })
        }
        StepKind::AddGroup { .. } | StepKind::AddTags { .. } => None,
    }
}
