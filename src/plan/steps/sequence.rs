//! The drafts put in a valid sequential order (topological, stable by creation), with
//! their final ids; steps caught in a cycle are blocked.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::super::model::*;
use super::draft::Draft;

/// Topological order (stable by creation), final ids; steps in a cycle are blocked.
pub(super) fn finish(mut drafts: Vec<Draft>) -> Plan {
    let n = drafts.len();
    for d in &mut drafts {
        d.deps.sort_unstable();
        d.deps.dedup();
    }
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    loop {
        let mut indeg = vec![0usize; n];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, d) in drafts.iter().enumerate() {
            if placed[i] {
                continue;
            }
            for &p in &d.deps {
                if !placed[p] {
                    indeg[i] += 1;
                    users[p].push(i);
                }
            }
        }
        let mut heap: BinaryHeap<Reverse<usize>> = (0..n)
            .filter(|&i| !placed[i] && indeg[i] == 0)
            .map(Reverse)
            .collect();
        while let Some(Reverse(i)) = heap.pop() {
            placed[i] = true;
            order.push(i);
            for &u in &users[i] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    heap.push(Reverse(u));
                }
            }
        }
        let stuck: Vec<usize> = (0..n).filter(|&i| !placed[i]).collect();
        let Some(&first) = stuck.first() else { break };
        // Break the cycle at its earliest step: block it and drop its waits.
        let d = &mut drafts[first];
        d.deps.retain(|&p| placed[p]);
        d.blocked.get_or_insert_with(|| Blocked {
            reason: "cannot be ordered safely: it waits on a step that waits on it (names freed by the delete are needed in a group the delete would empty)".into(),
            fix: "split the change into two applies".into(),
        });
    }
    let mut new_id = vec![0usize; n];
    for (k, &i) in order.iter().enumerate() {
        new_id[i] = k;
    }
    let mut slots: BTreeMap<usize, Draft> = BTreeMap::new();
    for (i, d) in drafts.into_iter().enumerate() {
        slots.insert(new_id[i], d);
    }
    let steps = slots
        .into_iter()
        .map(|(id, d)| {
            let mut deps: Vec<usize> = d.deps.iter().map(|&p| new_id[p]).collect();
            deps.sort_unstable();
            Step {
                id,
                kind: d.kind,
                reason: d.reason,
                depends_on: deps,
                blocked: d.blocked,
                destructive: d.destructive,
                drift: false,
                scope: Scope::Corp,
            }
        })
        .collect();
    Plan {
        steps,
        ..Plan::default()
    }
}
