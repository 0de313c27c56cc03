//! The planner: (desired, snapshot, ledger, options) → plan. Pure: no I/O.

pub mod model;

pub use model::{
    Blocked, DeletedGroup, DeletedTag, NewTag, Owned, Plan, PlanOptions, Step, StepKind, Target,
    Unmanaged, UnmanagedTag,
};
