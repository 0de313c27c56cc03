//! The planner: (desired, snapshot, ledger, options) → plan. Pure: no I/O.
