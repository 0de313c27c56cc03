//! The planner at 100, 1000 and 10000 tags, next to the cost of merely reading its inputs.
//!
//! Run with `cargo bench --bench plan` (a filter narrows it: `cargo bench --bench plan --
//! plan_`). Groups:
//! - `parse_file`: `desired::load_str` of the unchanged tags file (YAML, validation);
//! - `parse_list`: serde_json of the `get_corp_tag_list` answer into `wire::TagListResponse`;
//! - `plan_*`: `plan::plan` for each scenario of `support::Scenario`, inputs already
//!   parsed (`Snapshot::from_wire` included in the inputs, not in the time).
//!
//! The performance target asks `plan_*` at 10000 tags to stay within 2x of
//! `parse_file + parse_list` at 10000. Before timing a scenario the bench checks that its
//! plan makes exactly the fewest calls (section 3) and is not blocked.

// A benchmark or example may unwrap: a panic ends it with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // shared with examples/plan_memory.rs; each uses a part
mod support;

use divan::{Bencher, black_box};
use support::Scenario;
use tagsync::desired;
use tagsync::plan::{self, Owned, PlanOptions};
use tagsync::remote::Snapshot;
use tagsync::wire;

const SIZES: &[usize] = &[100, 1000, 10000];

fn main() {
    divan::main();
}

#[divan::bench(args = SIZES, max_time = 3)]
fn parse_file(bencher: Bencher, tags: usize) {
    let yaml = support::desired_yaml(tags, Scenario::NoChange);
    bencher.bench(|| desired::load_str(black_box(&yaml), "tags.yaml"));
}

#[divan::bench(args = SIZES, max_time = 3)]
fn parse_list(bencher: Bencher, tags: usize) {
    let json = support::list_json(tags, Scenario::NoChange);
    bencher.bench(|| serde_json::from_str::<wire::TagListResponse>(black_box(&json)));
}

/// Parse the scenario's inputs, check the plan is minimal, then time `plan::plan` alone.
fn bench_plan(bencher: Bencher, tags: usize, scenario: Scenario) {
    let yaml = support::desired_yaml(tags, scenario);
    let desired = match desired::load_str(&yaml, "tags.yaml") {
        Ok(d) => d,
        Err(e) => panic!("generated file of {} is invalid: {e:?}", scenario.name()),
    };
    let snapshot = Snapshot::from_wire(support::list_answer(tags, scenario).tag_group);
    let owned = Owned::Ids(support::owned_ids(tags, scenario).into_iter().collect());
    let options = PlanOptions::default();

    let p = plan::plan(&desired, &snapshot, &owned, &options);
    assert!(
        !p.blocked(),
        "{} at {tags}: plan is blocked",
        scenario.name()
    );
    assert_eq!(
        p.calls(),
        scenario.expected_calls(tags),
        "{} at {tags}: not the fewest calls",
        scenario.name()
    );

    bencher.bench(|| {
        plan::plan(
            black_box(&desired),
            black_box(&snapshot),
            black_box(&owned),
            black_box(&options),
        )
    });
}

/// One `plan_*` benchmark per scenario, each at every size.
macro_rules! plan_benches {
    ($($name:ident => $scenario:expr,)*) => {$(
        #[divan::bench(args = SIZES, max_time = 3)]
        fn $name(bencher: Bencher, tags: usize) {
            bench_plan(bencher, tags, $scenario);
        }
    )*};
}

plan_benches! {
    plan_no_change => Scenario::NoChange,
    plan_rename_5_percent => Scenario::Rename5Percent,
    plan_reverse_one_group => Scenario::ReverseOneGroup,
    plan_move_one_to_top => Scenario::MoveOneToTop,
    plan_bootstrap => Scenario::Bootstrap,
}
