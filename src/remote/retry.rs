//! Retrying one logical call: exponential backoff with jitter within a time budget (at
//! least `limit_backoff` after 45009), and what a lost answer means for a resend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backon::ExponentialBackoff;

use super::config::ClientConfig;
use super::error::{Call, ClientError, ErrorKind};
use crate::wire::errcode;

/// The retry bookkeeping of one logical call.
pub(super) struct Attempts {
    call: Call,
    backoff: ExponentialBackoff,
    budget: Duration,
    max_retries: usize,
    limit_backoff: Duration,
    started: Instant,
    count: u32,
}

impl Attempts {
    pub(super) fn new(call: Call, config: &ClientConfig) -> Self {
        Attempts {
            call,
            backoff: config.backoff(),
            budget: config.retry_budget,
            max_retries: config.max_retries,
            limit_backoff: config.limit_backoff,
            started: Instant::now(),
            count: 0,
        }
    }

    /// After a failed attempt: sleep before the next one, or hand back the error.
    pub(super) async fn next(
        &mut self,
        err: ClientError,
        retries: &AtomicU64,
    ) -> Result<(), ClientError> {
        self.count += 1;
        if err.kind() != ErrorKind::Retryable {
            return Err(err);
        }
        let elapsed = self.started.elapsed();
        let floor = if err.errcode() == Some(errcode::FREQUENCY_LIMIT) {
            self.limit_backoff
        } else {
            Duration::ZERO
        };
        let delay = self
            .backoff
            .next()
            .map(|d| d.max(floor))
            .filter(|d| elapsed.saturating_add(*d) <= self.budget);
        let Some(delay) = delay else {
            return Err(ClientError::GaveUp {
                attempts: self.count,
                elapsed,
                last: Box::new(err),
            });
        };
        // Said once per call; the attempts after it only with -v.
        if self.count == 1 {
            tracing::warn!(
                "{}; retrying, at most {} times within {} s (each retry is logged with -v)",
                err.what(),
                self.max_retries,
                self.budget.as_secs()
            );
        } else {
            tracing::info!(
                call = %self.call,
                attempt = self.count,
                delay_ms = delay.as_millis() as u64,
                "{}; retrying",
                err.what()
            );
        }
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// A short description of a lost answer, for [`ClientError::Ambiguous`].
pub(super) fn lost_detail(err: &ClientError) -> String {
    match err {
        ClientError::Transport { detail, .. } | ClientError::Decode { detail, .. } => {
            detail.clone()
        }
        ClientError::Http { status, .. } => format!("HTTP status {status}"),
        other => other.to_string(),
    }
}

/// After a lost answer, can the first attempt's success explain this refusal of the resend?
pub(super) fn explained_by_commit(call: Call, err: &ClientError) -> bool {
    let call = call.tag_call().map_or(call, |(c, _)| c);
    matches!(
        (call, err.errcode()),
        (Call::Delete, Some(errcode::INVALID_TAG_ID))
            | (
                Call::Edit,
                Some(errcode::INVALID_TAG_ID | errcode::TAG_NAME_EXISTS)
            )
    )
}
