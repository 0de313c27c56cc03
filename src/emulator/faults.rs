//! The fault layer: the faults an emulator can be told to inject ([`Faults`]: scripted and
//! seeded random ones, and latency), and its state: which fault (and latency) each call
//! gets, from the scripted faults first, then each call kind's seeded random stream.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use serde::{Deserialize, Serialize};

use crate::wire::Call as CallKind;

/// A fault the emulator can inject instead of (or after) the real answer.
///
/// `SystemBusy`, `VersionConflict`, `FrequencyLimit`, `ConcurrencyLimit`, `Http500`,
/// `BadGateway`, `WrongShape`, `NotJson`, `RepeatedId`, `Oversized` and `FloodedErrmsg` answer
/// *instead of* the call: nothing changes. `TruncatedJson` and
/// `CommitThenDrop` run the call (its change is committed) and then spoil the answer:
/// cut the JSON short, or drop the connection before the body arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// errcode -1.
    SystemBusy,
    /// errcode 6000.
    VersionConflict,
    /// errcode 45009.
    FrequencyLimit,
    /// errcode 45033.
    ConcurrencyLimit,
    /// HTTP 500 with a plain-text body.
    Http500,
    /// HTTP 502 with an HTML page (a non-JSON answer from a gateway).
    BadGateway,
    /// HTTP 200 with JSON of the wrong shape: errcode 0 but the call's field has the
    /// wrong type (`"tag_group":"oops"`, a number for `access_token`, a string errcode).
    WrongShape,
    /// HTTP 200 with an HTML page (a captive portal or a misconfigured proxy).
    NotJson,
    /// The call is committed; the JSON answer is cut in the middle.
    TruncatedJson,
    /// The call is committed; the connection drops before the answer's body.
    CommitThenDrop,
    /// A broken server: a list or add answer in which two tags share one id (other
    /// calls: as `WrongShape`).
    RepeatedId,
    /// A broken server: a 17 MB answer sent without a length (chunked), past any real
    /// WeCom answer.
    Oversized,
    /// A broken server: errcode 40058 with a 100,000-character `errmsg`.
    FloodedErrmsg,
}

impl FaultKind {
    /// Whether the call is executed (and its change committed) before the fault.
    pub fn commits(self) -> bool {
        matches!(self, FaultKind::TruncatedJson | FaultKind::CommitThenDrop)
    }
}

/// Added delay before a call of one kind is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub fixed: Duration,
    /// A uniformly drawn extra delay in [0, jitter].
    pub jitter: Duration,
}

/// Random faults of one call kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindFaults {
    pub latency: Latency,
    /// Each entry fires with its probability (checked in list order; the first that
    /// fires wins).
    pub random: Vec<(FaultKind, f64)>,
}

/// A script: the next `count` calls of `kind` fail with `fault`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedFault {
    pub kind: CallKind,
    pub count: u32,
    pub fault: FaultKind,
}

/// Faults to inject, deterministic from `seed` (one random stream per call kind, so
/// calls of other kinds do not disturb it). Scripted faults come before random ones.
///
/// Faults apply to calls that pass the token check, the app's access checks and its
/// frequency and concurrency limits (a call refused by those gets its errcode, no fault,
/// and does not use up a script); token calls are always eligible. Latency is served while the
/// call counts as in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    pub seed: u64,
    pub per_kind: BTreeMap<CallKind, KindFaults>,
    pub scripted: Vec<ScriptedFault>,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Faults::default()
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The next `count` calls of `kind` fail with `fault` (appended after earlier scripts).
    pub fn script(mut self, kind: CallKind, count: u32, fault: FaultKind) -> Self {
        self.scripted.push(ScriptedFault { kind, count, fault });
        self
    }

    /// Calls of `kind` fail with `fault` with this probability (0.0..=1.0).
    pub fn random(mut self, kind: CallKind, fault: FaultKind, probability: f64) -> Self {
        self.per_kind
            .entry(kind)
            .or_default()
            .random
            .push((fault, probability));
        self
    }

    /// Calls of `kind` wait `fixed` plus up to `jitter` before they are answered.
    pub fn latency(mut self, kind: CallKind, fixed: Duration, jitter: Duration) -> Self {
        self.per_kind.entry(kind).or_default().latency = Latency { fixed, jitter };
        self
    }

    /// The same latency on every call kind.
    pub fn latency_all(mut self, fixed: Duration, jitter: Duration) -> Self {
        for kind in CallKind::ALL {
            self = self.latency(kind, fixed, jitter);
        }
        self
    }
}

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
