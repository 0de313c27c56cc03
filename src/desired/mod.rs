//! The desired-state file: parse (YAML with spans) → validate → [`model::Desired`].

pub mod model;

pub use model::{Desired, DesiredGroup, DesiredTag, Order, Ownership};
