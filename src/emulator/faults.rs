//! The fault layer's state: which injected fault (and latency) each call gets, from the
//! scripted faults first, then each call kind's seeded random stream.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::{CallKind, FaultKind, Faults, ScriptedFault};

/// Each call kind's random stream is seeded by this place, the one it has had since
/// streams were first seeded, so a seed gives the same faults as it always did.
fn stream_index(kind: CallKind) -> u64 {
    match kind {
        CallKind::GetToken => 0,
        CallKind::List => 1,
        CallKind::Add => 2,
        CallKind::Edit => 3,
        CallKind::Delete => 4,
        CallKind::GetSuiteToken => 5,
        CallKind::GetCorpToken => 6,
        CallKind::StrategyList => 7,
        CallKind::StrategyAdd => 8,
        CallKind::StrategyEdit => 9,
        CallKind::StrategyDelete => 10,
        CallKind::RuleGroups => 11,
        CallKind::RuleGroup => 12,
    }
}

pub(super) struct FaultState {
    faults: Faults,
    scripted: VecDeque<ScriptedFault>,
    rngs: HashMap<CallKind, StdRng>,
}

impl FaultState {
    pub(super) fn new(faults: Faults) -> Self {
        let rngs = CallKind::ALL
            .iter()
            .map(|k| {
                let i = stream_index(*k);
                let seed = faults.seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i + 1));
                (*k, StdRng::seed_from_u64(seed))
            })
            .collect();
        FaultState {
            scripted: faults.scripted.iter().cloned().collect(),
            faults,
            rngs,
        }
    }

    /// The latency and the fault (if any) of the next call of `kind`.
    pub(super) fn decide(&mut self, kind: CallKind) -> (Duration, Option<FaultKind>) {
        let mut fault = None;
        if let Some(pos) = self
            .scripted
            .iter()
            .position(|s| s.kind == kind && s.count > 0)
        {
            let s = &mut self.scripted[pos];
            s.count -= 1;
            fault = Some(s.fault);
            if s.count == 0 {
                self.scripted.remove(pos);
            }
        }
        let Some(kf) = self.faults.per_kind.get(&kind) else {
            return (Duration::ZERO, fault);
        };
        let Some(rng) = self.rngs.get_mut(&kind) else {
            return (kf.latency.fixed, fault);
        };
        let jitter_ns = u64::try_from(kf.latency.jitter.as_nanos()).unwrap_or(u64::MAX);
        let latency = kf.latency.fixed + Duration::from_nanos(rng.random_range(0..=jitter_ns));
        for (f, p) in &kf.random {
            let fired = rng.random_bool(p.clamp(0.0, 1.0));
            if fired && fault.is_none() {
                fault = Some(*f);
            }
        }
        (latency, fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_flags_give_the_asked_rate_on_tag_calls_only() {
        let faults = super::super::flag_faults(Some(Duration::from_millis(7)), Some(0.2), 11);
        let mut state = FaultState::new(faults);
        let n = 20_000;
        let mut fired = 0;
        for _ in 0..n {
            let (latency, fault) = state.decide(CallKind::Add);
            assert_eq!(latency, Duration::from_millis(7));
            match fault {
                None => {}
                Some(FaultKind::SystemBusy | FaultKind::VersionConflict) => fired += 1,
                Some(other) => panic!("not in the mix: {other:?}"),
            }
        }
        // Deterministic for this seed; the bounds are those of the rate, not of luck.
        let rate = f64::from(fired) / f64::from(n);
        assert!((0.18..0.22).contains(&rate), "{rate}");
        for _ in 0..100 {
            let (latency, fault) = state.decide(CallKind::GetToken);
            assert_eq!((latency, fault), (Duration::from_millis(7), None));
        }
        let none = super::super::flag_faults(None, None, 0);
        assert_eq!(none, Faults::none());
    }

    #[test]
    fn scripted_faults_run_out_and_random_ones_follow_the_seed() {
        let faults = Faults::none()
            .script(CallKind::Add, 2, FaultKind::SystemBusy)
            .random(CallKind::List, FaultKind::Http500, 0.5)
            .latency(
                CallKind::List,
                Duration::from_millis(5),
                Duration::from_millis(5),
            );
        let mut a = FaultState::new(faults.clone());
        let mut b = FaultState::new(faults);
        let adds: Vec<_> = (0..3).map(|_| a.decide(CallKind::Add).1).collect();
        assert_eq!(
            adds,
            [
                Some(FaultKind::SystemBusy),
                Some(FaultKind::SystemBusy),
                None
            ]
        );
        for _ in 0..20 {
            let (la, fa) = a.decide(CallKind::List);
            assert_eq!((la, fa), b.decide(CallKind::List));
            assert!(la >= Duration::from_millis(5) && la <= Duration::from_millis(10));
        }
    }
}
