//! `--shard K/N`: a stable 1/N of the fleet, so that CI runners can split a large one.
//!
//! A corp belongs to shard `fnv1a64(id) mod N + 1`: by its label, not its position, so
//! adding or removing a corp moves no other corp between shards. FNV-1a (64-bit) is
//! written out here so that the partition never changes with a library or Rust version.

use std::fmt;
use std::str::FromStr;

/// The most shards.
pub const MAX_SHARDS: u32 = 1_000;

/// One shard of N (`k` from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    /// Whether the corp labelled `id` is in this shard.
    pub fn contains(&self, id: &str) -> bool {
        shard_of(id, self.n) == self.k
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not K/N with 1 <= K <= N <= {MAX_SHARDS} (e.g. 2/4: the second of four shards)"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n || n > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// The shard (1..=n) of the corp labelled `id`.
pub fn shard_of(id: &str, n: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(n.max(1))) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { k: 2, n: 4 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "1/1001", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_id_is_in_exactly_one_shard_and_stays_there() {
        let ids: Vec<String> = (0..500).map(|i| format!("corp-{i}")).collect();
        for n in [1, 2, 3, 7] {
            for id in &ids {
                let owners = (1..=n).filter(|&k| Shard { k, n }.contains(id)).count();
                assert_eq!(owners, 1, "{id} in {n} shards");
            }
        }
        // Known values: the partition must never change between releases.
        assert_eq!(shard_of("", 7), (0xcbf2_9ce4_8422_2325_u64 % 7) as u32 + 1);
        assert_eq!(
            shard_of("a", 1_000),
            (0xaf63_dc4c_8601_ec8c_u64 % 1_000) as u32 + 1
        );
        // Spread: no shard of 4 gets fewer than a sixth of 500 ids.
        for k in 1..=4 {
            let count = ids
                .iter()
                .filter(|id| Shard { k, n: 4 }.contains(id))
                .count();
            assert!(count > 500 / 6, "shard {k}: {count}");
        }
    }
}
