//! The remote side: the WeCom client (it reads the corp into a [`Snapshot`]).

mod answer;
pub mod base_url;
pub mod client;
pub mod config;
pub mod credentials;
mod decode;
pub mod error;
pub mod limit;
mod redact;
mod retry;
pub mod rule_groups;
mod transport;

pub use crate::snapshot::{RemoteGroup, RemoteRuleGroup, RemoteTag, Snapshot};
pub use base_url::{DEFAULT_API_BASE, parse_api_base};
pub use client::{Client, ClientStats, install_crypto_provider};
pub use config::{ClientConfig, ENV_API_BASE, ENV_RATE_SHARE, ENV_RETRY_BACKOFF_MS};
pub use credentials::{Credentials, Secret};
pub use error::{Call, ClientError, ErrorKind};
pub use rule_groups::RuleGroupRead;
