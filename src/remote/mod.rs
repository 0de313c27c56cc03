//! The remote side: the WeCom client and the snapshot it reads.

pub mod base_url;
pub mod client;
pub mod credentials;
pub mod error;
pub mod snapshot;

pub use base_url::{DEFAULT_API_BASE, parse_api_base};
pub use client::{Client, ClientConfig, ClientStats, ENV_API_BASE, ENV_RETRY_BACKOFF_MS};
pub use credentials::{Credentials, Secret};
pub use error::{Call, ClientError, ErrorKind};
pub use snapshot::{RemoteGroup, RemoteTag, Snapshot};
