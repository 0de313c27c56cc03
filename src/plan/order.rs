//! Order values: keep the longest run of items whose current values already sit in the
//! right relative order, give new values only to the rest.
//!
//! WeCom shows larger `order` first, so a list in display order (top first) is right when
//! its values strictly decrease. Equal values count as *not* in order: the server's tie
//! break is unspecified, so ties cannot prove the desired order.
//!
//! Decisions where the spec is silent:
//! - The kept set is a weighted longest increasing subsequence: first as many *fixed*
//!   items (not owned, may not be edited) as possible, then as many items as possible that
//!   would need a call of their own, then items that are renamed anyway (their new order
//!   rides in the rename call for free). A fixed item left out still gets a target value;
//!   the planner turns it into a blocked edit.
//! - Items without a value (new ones) are placed into the gap between their kept
//!   neighbours, spread evenly. At the open top end values step by 1000 above the highest
//!   kept value (less if there is no room), at the open bottom end they step down towards 0.
//! - When a gap holds fewer integers than items to place, the nearest kept movable
//!   neighbours are given up (local renumbering), alternating sides, until it fits; a
//!   fixed neighbour only when no movable one is left (it then shows as a blocked edit).

/// One item of a list, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Current remote value; `None` for an item to be created.
    pub current: Option<u32>,
    /// May not be edited.
    pub fixed: bool,
    /// Gets an edit anyway (a rename): a new order value costs no extra call.
    pub free: bool,
}

const TOP: i64 = 1 << 32;
const SPACING: i64 = 1000;

/// Target value for each slot (display order). `None`: keep the current value.
/// Every `None`-current slot gets `Some`.
pub fn assign(slots: &[Slot]) -> Vec<Option<u32>> {
    let n = slots.len();
    // Ascending position: index 0 is the bottom item (smallest value).
    let asc: Vec<Slot> = slots.iter().rev().copied().collect();
    let mut kept = vec![false; n];
    // One weighted LIS keeps, in priority, the most fixed items, then the most items that
    // would otherwise need a call of their own, then the most items renamed anyway.
    let tier = n as u64 + 1;
    let cand: Vec<usize> = (0..n).filter(|&i| asc[i].current.is_some()).collect();
    let vals: Vec<i64> = cand.iter().map(|&i| value(&asc[i])).collect();
    let weights: Vec<u64> = cand
        .iter()
        .map(|&i| match (asc[i].fixed, asc[i].free) {
            (true, _) => tier * tier,
            (false, false) => tier,
            (false, true) => 1,
        })
        .collect();
    for k in weighted_lis(&vals, &weights) {
        kept[cand[k]] = true;
    }

    let mut out = vec![None; n];
    // Fit the runs of non-kept items, giving up kept neighbours where a gap is too small.
    'retry: loop {
        let mut i = 0;
        while i < n {
            if kept[i] {
                i += 1;
                continue;
            }
            let s = i;
            while i < n && !kept[i] {
                i += 1;
            }
            let e = i; // run is s..e
            let lo = if s == 0 { -1 } else { value(&asc[s - 1]) };
            let hi = if e == n { TOP } else { value(&asc[e]) };
            let k = (e - s) as i64;
            if hi - lo - 1 < k {
                let left = s.checked_sub(1);
                let right = Some(e).filter(|&r| r < n);
                let movable = |x: Option<usize>| x.filter(|&i| !asc[i].fixed);
                let (a, b) = if (e - s) % 2 == 0 {
                    (left, right)
                } else {
                    (right, left)
                };
                // A fixed neighbour goes only when nothing else can: the planner then
                // shows it as a blocked edit (it would have to move).
                let drop = movable(a).or(movable(b)).or(a).or(b);
                if let Some(d) = drop {
                    kept[d] = false;
                    continue 'retry;
                }
            }
            for (idx, v) in (s..e).zip(spread(lo, hi, e - s)) {
                out[idx] = Some(v);
            }
        }
        break;
    }
    for i in 0..n {
        if kept[i] || out[i] == asc[i].current {
            out[i] = None;
        }
    }
    out.reverse();
    out
}

/// `n` values strictly between `lo` and `hi` (`lo` = -1: no item below; `hi` = [`TOP`]:
/// none above), bottom first, spread evenly; at an open end they step by [`SPACING`].
/// The caller makes sure the gap holds `n` integers.
fn spread(lo: i64, hi: i64, n: usize) -> Vec<u32> {
    let k = n as i64;
    let spacing = if hi == TOP || lo < 0 {
        ((hi - lo) / (k + 1)).clamp(1, SPACING)
    } else {
        ((hi - lo) / (k + 1)).max(1)
    };
    (0..k)
        .map(|j| {
            let v = if hi == TOP {
                lo.max(0) + spacing * (j + 1)
            } else {
                hi - spacing * (k - j)
            };
            v.clamp(0, TOP - 1) as u32
        })
        .collect()
}

/// Values for `n` new items that must sit below `ceiling` and above `floor` (current
/// values of items that will not move), top first, or `None` when no room is left.
pub fn between(floor: Option<u32>, ceiling: Option<u32>, n: usize) -> Option<Vec<u32>> {
    let lo = floor.map_or(-1, i64::from);
    let hi = ceiling.map_or(TOP, i64::from);
    (hi - lo > n as i64).then(|| spread(lo, hi, n).into_iter().rev().collect())
}

fn value(s: &Slot) -> i64 {
    s.current.map_or(-1, i64::from)
}

/// Indices of a strictly increasing subsequence of greatest total weight. Among equal
/// values the earlier (lower) one is preferred: it leaves more room above it.
pub fn weighted_lis(vals: &[i64], weights: &[u64]) -> Vec<usize> {
    let n = vals.len();
    if n == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<i64> = vals.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // Fenwick tree over value ranks: prefix maximum of (best total, index ending it).
    let mut tree: Vec<Option<(u64, usize)>> = vec![None; sorted.len() + 1];
    let better = |a: Option<(u64, usize)>, b: Option<(u64, usize)>| match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    };
    let mut best = vec![0u64; n];
    let mut prev: Vec<Option<usize>> = vec![None; n];
    for i in 0..n {
        let rank = sorted.partition_point(|&v| v < vals[i]); // values strictly below
        let mut q = None;
        let mut k = rank;
        while k > 0 {
            q = better(q, tree[k]);
            k &= k - 1;
        }
        best[i] = weights[i] + q.map_or(0, |(b, _)| b);
        prev[i] = q.map(|(_, j)| j);
        let mut k = rank + 1;
        while k < tree.len() {
            tree[k] = better(tree[k], Some((best[i], i)));
            k += k & k.wrapping_neg();
        }
    }
    let mut end = 0;
    for i in 1..n {
        if best[i] > best[end] {
            end = i;
        }
    }
    let mut out = Vec::new();
    let mut cur = Some(end);
    while let Some(c) = cur {
        out.push(c);
        cur = prev[c];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movable(v: &[u32]) -> Vec<Slot> {
        v.iter().map(|&c| slot(Some(c), false)).collect()
    }

    fn slot(current: Option<u32>, fixed: bool) -> Slot {
        Slot {
            current,
            fixed,
            free: false,
        }
    }

    fn lis(v: &[i64]) -> Vec<usize> {
        weighted_lis(v, &vec![1; v.len()])
    }

    fn finals(slots: &[Slot], out: &[Option<u32>]) -> Vec<u32> {
        slots
            .iter()
            .zip(out)
            .map(|(s, o)| o.or(s.current).unwrap_or(0))
            .collect()
    }

    fn strictly_decreasing(v: &[u32]) -> bool {
        v.windows(2).all(|w| w[0] > w[1])
    }

    #[test]
    fn lis_is_longest() {
        assert_eq!(lis(&[3, 1, 2, 5, 4]).len(), 3);
        assert_eq!(lis(&[5, 5, 5]).len(), 1);
        assert!(lis(&[]).is_empty());
    }

    #[test]
    fn renamed_items_move_for_free() {
        // Display order wants 10 above 20 and 30: moving the renamed one costs nothing.
        let mut s = movable(&[10, 30, 20]);
        s[0].free = true;
        let out = assign(&s);
        assert_eq!(out[1..], [None, None]);
        assert!(out[0].is_some());
    }

    #[test]
    fn already_ordered_needs_nothing() {
        let s = movable(&[30, 20, 10]);
        assert_eq!(assign(&s), vec![None, None, None]);
    }

    #[test]
    fn moving_bottom_of_100_to_top_changes_one() {
        // Display order: the last item moves to the top.
        let mut vals: Vec<u32> = (1..=100).rev().collect(); // 100..1
        let last = vals.pop().unwrap_or(1);
        vals.insert(0, last);
        let s = movable(&vals);
        let out = assign(&s);
        assert_eq!(out.iter().filter(|o| o.is_some()).count(), 1);
        assert!(strictly_decreasing(&finals(&s, &out)));
    }

    #[test]
    fn dense_values_renumber_locally() {
        // 3,2,1 with a new item between 3 and 2: no integer gap.
        let s = vec![
            slot(Some(3), false),
            slot(None, false),
            slot(Some(2), false),
            slot(Some(1), false),
        ];
        let out = assign(&s);
        assert!(strictly_decreasing(&finals(&s, &out)));
        assert_eq!(out.iter().filter(|o| o.is_some()).count(), 2);
    }

    #[test]
    fn equal_values_are_spread() {
        let s = movable(&[0, 0, 0, 0]);
        let out = assign(&s);
        assert!(strictly_decreasing(&finals(&s, &out)));
        assert_eq!(out.iter().filter(|o| o.is_some()).count(), 3);
    }

    #[test]
    fn no_room_between_fixed_items_moves_one_of_them() {
        let s = vec![slot(Some(6), true), slot(None, false), slot(Some(5), true)];
        let out = assign(&s);
        assert!(strictly_decreasing(&finals(&s, &out)));
        assert!(out[0].is_some() || out[2].is_some(), "{out:?}");
    }

    #[test]
    fn fixed_items_are_kept_first() {
        // Fixed 10 must stay; movable 50 goes below it.
        let s = vec![slot(Some(10), true), slot(Some(50), false)];
        let out = assign(&s);
        assert_eq!(out[0], None);
        assert!(out[1].is_some_and(|v| v < 10));
    }
}
