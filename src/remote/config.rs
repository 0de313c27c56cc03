//! How the client reaches WeCom and how hard it tries: [`ClientConfig`], from flags and
//! the environment.

use std::path::Path;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use url::Url;

use super::base_url::{DEFAULT_API_BASE, parse_api_base};
use super::credentials::Credentials;
use super::error::ClientError;

/// Environment variable naming the API base (`--api-base` wins over it).
pub const ENV_API_BASE: &str = "WECOM_API_BASE";

/// Environment variable with the retry delays `MIN,MAX,LIMIT` in milliseconds.
pub const ENV_RETRY_BACKOFF_MS: &str = "TAGSYNC_RETRY_BACKOFF_MS";

/// The share of WeCom's per-API limit tagsync may use, in percent (default 80).
pub const ENV_RATE_SHARE: &str = "TAGSYNC_RATE_SHARE";

/// WeCom's limit: calls per API per corp per minute, all apps together.
pub const VENDOR_CALLS_PER_MINUTE: u32 = 10_000;

/// How the client reaches WeCom and how hard it tries.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Validated by [`parse_api_base`]; always ends with `/`.
    pub api_base: Url,
    pub credentials: Credentials,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole request and its answer.
    pub request_timeout: Duration,
    /// Retries after the first attempt (not counting the one token refresh). Default 5,
    /// not the 3 the vendor suggests for -1: at a 20% fault rate a read then fails once
    /// in 15,000 instead of once in 600, which a 200-call plan needs.
    pub max_retries: usize,
    /// Retrying stops once this much time has passed since the first attempt.
    pub retry_budget: Duration,
    /// First backoff delay; it doubles each retry, plus jitter.
    pub min_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
    /// Shortest delay after a frequency-limit answer (45009): the vendor counts calls per
    /// minute, so an early retry is only refused again.
    pub limit_backoff: Duration,
    /// Calls of one API in any 60-second window (the vendor allows 10,000 per corp per
    /// API, all apps together).
    pub rate_per_minute: u32,
    /// Calls in flight at once, all APIs together.
    pub concurrency: usize,
}

impl ClientConfig {
    /// Defaults: 5 s to connect, 30 s per request, 5 retries within 60 s, backoff from
    /// 250 ms to 8 s (at least 5 s after 45009), 8,000 calls/minute per API (80% of the
    /// vendor limit), 4 in flight.
    pub fn new(api_base: &str, credentials: Credentials) -> Result<Self, ClientError> {
        Ok(ClientConfig {
            api_base: parse_api_base(api_base)?,
            credentials,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            retry_budget: Duration::from_secs(60),
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            limit_backoff: Duration::from_secs(5),
            rate_per_minute: VENDOR_CALLS_PER_MINUTE / 100 * 80,
            concurrency: 4,
        })
    }

    /// API base from `api_base` (the `--api-base` flag), else `WECOM_API_BASE`, else
    /// WeCom itself; credentials from the environment (see [`Credentials::from_env`]);
    /// retry delays from `TAGSYNC_RETRY_BACKOFF_MS` when set ([`ClientConfig::set_backoff_ms`]).
    pub fn from_env(
        api_base: Option<&str>,
        secret_file: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let from_env = std::env::var(ENV_API_BASE).ok();
        let base = choose_api_base(api_base, from_env.as_deref());
        let mut config = Self::new(base, Credentials::from_env(secret_file)?)?;
        config.tune_from_env()?;
        Ok(config)
    }

    /// The retry delays (`TAGSYNC_RETRY_BACKOFF_MS`) and the rate share
    /// (`TAGSYNC_RATE_SHARE`) from the environment, when set.
    pub fn tune_from_env(&mut self) -> Result<(), ClientError> {
        let config = self;
        if let Some(v) = std::env::var(ENV_RETRY_BACKOFF_MS)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            config.set_backoff_ms(&v)?;
        }
        if let Some(v) = std::env::var(ENV_RATE_SHARE)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            config.set_rate_share(&v)?;
        }
        Ok(())
    }

    /// Use `percent` (1 to 100) of WeCom's 10,000 calls a minute per API: less when
    /// other apps of the corp call the same APIs at the same time.
    pub fn set_rate_share(&mut self, percent: &str) -> Result<(), ClientError> {
        match percent.trim().trim_end_matches('%').parse::<u32>() {
            Ok(p @ 1..=100) => {
                self.rate_per_minute = VENDOR_CALLS_PER_MINUTE / 100 * p;
                Ok(())
            }
            _ => Err(ClientError::Config {
                message: format!(
                    "{ENV_RATE_SHARE}={percent:?} is not a percentage from 1 to 100 (of \
                     WeCom's 10,000 calls a minute per API; the default is 80)"
                ),
            }),
        }
    }

    /// Set the retry delays from `MIN,MAX,LIMIT` in milliseconds: the first backoff, the
    /// largest, and the floor after 45009 (defaults `250,8000,5000`). Short delays make
    /// runs against a local emulator with injected faults quick; against WeCom the
    /// defaults are the ones to keep.
    pub fn set_backoff_ms(&mut self, value: &str) -> Result<(), ClientError> {
        let parsed: Option<Vec<u64>> = value
            .split(',')
            .map(|p| p.trim().parse::<u64>().ok())
            .collect();
        match parsed.as_deref() {
            Some(&[min, max, limit]) if min <= max => {
                self.min_backoff = Duration::from_millis(min);
                self.max_backoff = Duration::from_millis(max);
                self.limit_backoff = Duration::from_millis(limit);
                Ok(())
            }
            _ => Err(ClientError::Config {
                message: format!(
                    "{ENV_RETRY_BACKOFF_MS}={value:?} is not MIN,MAX,LIMIT in milliseconds \
                     with MIN <= MAX (the defaults are 250,8000,5000)"
                ),
            }),
        }
    }

    /// The backoff delays one call may use, in order.
    pub fn backoff(&self) -> ExponentialBackoff {
        ExponentialBuilder::new()
            .with_jitter()
            .with_factor(2.0)
            .with_min_delay(self.min_backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(self.max_retries)
            .with_total_delay(Some(self.retry_budget))
            .build()
    }
}

/// The flag wins over the environment; an empty value counts as unset; default WeCom.
pub(super) fn choose_api_base<'a>(flag: Option<&'a str>, env: Option<&'a str>) -> &'a str {
    let set = |v: &&str| !v.trim().is_empty();
    flag.filter(set)
        .or(env.filter(set))
        .unwrap_or(DEFAULT_API_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_share_is_a_percentage_of_the_vendor_limit() {
        let creds = Credentials::Corp {
            corp_id: "ww1".into(),
            secret: crate::remote::Secret::new("s"),
        };
        let mut c = ClientConfig::new(crate::remote::DEFAULT_API_BASE, creds).unwrap();
        assert_eq!(c.rate_per_minute, 8_000);
        c.set_rate_share("50").unwrap();
        assert_eq!(c.rate_per_minute, 5_000);
        c.set_rate_share("100%").unwrap();
        assert_eq!(c.rate_per_minute, 10_000);
        for bad in ["0", "101", "half", ""] {
            assert!(c.set_rate_share(bad).is_err(), "{bad}");
        }
    }
}
