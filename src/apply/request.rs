//! The request body of each step, in the vendor's shapes: built here, where the calls are
//! made, from the plan's steps (the planner speaks of steps, not of wire bodies).

use crate::plan::{NewTag, Scope, StepKind};
use crate::wire;

/// The request body of one step, in the vendor's shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `add_corp_tag`
    Add(wire::AddTagRequest),
    /// `edit_corp_tag`
    Edit(wire::EditTagRequest),
    /// `del_corp_tag`
    Delete(wire::DelTagRequest),
}

/// The body to send for a step (`agentid` left out: only old multi-app suites use it).
/// A rule group's add names its rule group; the other bodies are the same in both
/// families (the call, from [`Scope::family`], differs).
pub fn request(kind: &StepKind, scope: &Scope) -> Request {
    let strategy_id = scope.strategy_id();
    let new = |tags: &[NewTag]| {
        tags.iter()
            .map(|t| wire::NewTag {
                name: t.name.clone(),
                order: t.order,
            })
            .collect()
    };
    match kind {
        StepKind::AddGroup { name, order, tags } => Request::Add(wire::AddTagRequest {
            strategy_id,
            group_id: None,
            group_name: Some(name.clone()),
            order: *order,
            tag: new(tags),
            agentid: None,
        }),
        StepKind::AddTags { group_id, tags, .. } => Request::Add(wire::AddTagRequest {
            strategy_id,
            group_id: Some(group_id.clone()),
            group_name: None,
            order: None,
            tag: new(tags),
            agentid: None,
        }),
        StepKind::Edit {
            id,
            to_name,
            to_order,
            ..
        } => Request::Edit(wire::EditTagRequest {
            id: id.clone(),
            name: to_name.clone(),
            order: *to_order,
            agentid: None,
        }),
        StepKind::Delete { groups, tags } => Request::Delete(wire::DelTagRequest {
            tag_id: tags.iter().map(|t| t.id.clone()).collect(),
            group_id: groups.iter().map(|g| g.id.clone()).collect(),
            agentid: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::*;
    use crate::plan::{Owned, PlanOptions, plan};

    #[test]
    fn requests_send_only_what_changes() {
        let (s, d) = rename_and_move();
        let p = plan(&d, &s, &Owned::All, &PlanOptions::default());
        let reqs: Vec<Request> = p.steps.iter().map(|s| request(&s.kind, &s.scope)).collect();
        assert!(reqs.iter().any(
            |r| matches!(r, Request::Edit(e) if e.name.as_deref() == Some("z") && e.order.is_none())
        ));
        assert!(reqs.iter().any(|r| matches!(r, Request::Add(a) if a.group_id.as_deref() == Some("g2") && a.group_name.is_none())));
        assert!(reqs.iter().any(
            |r| matches!(r, Request::Delete(d) if d.tag_id == ["t2"] && d.group_id.is_empty())
        ));
    }
}
