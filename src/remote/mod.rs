//! The remote side: the WeCom client and the snapshot it reads.

pub mod snapshot;

pub use snapshot::{RemoteGroup, RemoteTag, Snapshot};
