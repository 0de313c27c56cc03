//! Order values: keep the longest run of items whose current values already sit in the
//! right relative order, give new values only to the rest.
//!
//! WeCom shows larger `order` first, so a list in display order (top first) is right when
//! its values strictly decrease. Equal values count as *not* in order: the server's tie
//! break is unspecified, so ties cannot prove the desired order.
//!
//! Decisions where the spec is silent:
//! - Items that may not be edited (not owned) are *fixed*: the kept set is chosen to include
//!   as many of them as possible first (a longest run among fixed items), then the longest
//!   run of movable items that fits between the kept fixed ones. A fixed item left out
//!   still gets a target value; the planner turns it into a blocked edit.
//! - Items without a value (new ones) are placed into the gap between their kept
//!   neighbours, spread evenly. At the open top end values step by 1000 above the highest
//!   kept value (less if there is no room), at the open bottom end they step down towards 0.
//! - When a gap holds fewer integers than items to place, the nearest kept movable
//!   neighbours are given up (local renumbering), alternating sides, until it fits.

/// One item of a list, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Current remote value; `None` for an item to be created.
    pub current: Option<u32>,
    /// May not be edited.
    pub fixed: bool,
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

    let fixed: Vec<usize> = (0..n)
        .filter(|&i| asc[i].fixed && asc[i].current.is_some())
        .collect();
    let fixed_vals: Vec<i64> = fixed.iter().map(|&i| value(&asc[i])).collect();
    let kept_fixed: Vec<usize> = lis(&fixed_vals).into_iter().map(|k| fixed[k]).collect();
    for &i in &kept_fixed {
        kept[i] = true;
    }
    // Segments between consecutive kept fixed items.
    let mut bounds: Vec<(usize, usize, i64, i64)> = Vec::new();
    let mut start = 0usize;
    let mut lo = -1i64;
    for &f in &kept_fixed {
        bounds.push((start, f, lo, value(&asc[f])));
        start = f + 1;
        lo = value(&asc[f]);
    }
    bounds.push((start, n, lo, TOP));
    for (s, e, lo, hi) in bounds {
        let cand: Vec<usize> = (s..e)
            .filter(|&i| !asc[i].fixed && asc[i].current.is_some())
            .filter(|&i| value(&asc[i]) > lo && value(&asc[i]) < hi)
            .collect();
        let vals: Vec<i64> = cand.iter().map(|&i| value(&asc[i])).collect();
        for k in lis(&vals) {
            kept[cand[k]] = true;
        }
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
                let left = s.checked_sub(1).filter(|&l| !asc[l].fixed);
                let right = Some(e).filter(|&r| r < n && !asc[r].fixed);
                let drop = if (e - s) % 2 == 0 {
                    left.or(right)
                } else {
                    right.or(left)
                };
                if let Some(d) = drop {
                    kept[d] = false;
                    continue 'retry;
                }
            }
            let spacing = if hi == TOP || s == 0 {
                ((hi - lo) / (k + 1)).clamp(1, SPACING)
            } else {
                ((hi - lo) / (k + 1)).max(1)
            };
            for (j, idx) in (s..e).enumerate() {
                let j = j as i64;
                let v = if hi == TOP {
                    lo.max(0) + spacing * (j + 1)
                } else {
                    hi - spacing * (k - j)
                };
                out[idx] = Some(v.clamp(0, TOP - 1) as u32);
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

fn value(s: &Slot) -> i64 {
    s.current.map_or(-1, i64::from)
}

/// Indices of a longest strictly increasing subsequence (earliest-ending choice).
pub fn lis(vals: &[i64]) -> Vec<usize> {
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; vals.len()];
    for (i, &v) in vals.iter().enumerate() {
        let pos = tails.partition_point(|&t| vals[t] < v);
        if tails.get(pos).is_some_and(|&t| vals[t] == v) {
            // Keep the earlier (lower) of equal values: more room above it.
            continue;
        }
        prev[i] = pos.checked_sub(1).map(|p| tails[p]);
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied();
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
        v.iter()
            .map(|&c| Slot {
                current: Some(c),
                fixed: false,
            })
            .collect()
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
            Slot {
                current: Some(3),
                fixed: false,
            },
            Slot {
                current: None,
                fixed: false,
            },
            Slot {
                current: Some(2),
                fixed: false,
            },
            Slot {
                current: Some(1),
                fixed: false,
            },
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
    fn fixed_items_are_kept_first() {
        // Fixed 10 must stay; movable 50 goes below it.
        let s = vec![
            Slot {
                current: Some(10),
                fixed: true,
            },
            Slot {
                current: Some(50),
                fixed: false,
            },
        ];
        let out = assign(&s);
        assert_eq!(out[0], None);
        assert!(out[1].is_some_and(|v| v < 10));
    }
}
