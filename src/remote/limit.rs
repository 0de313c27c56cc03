//! The client's rate limit, shaped like WeCom's: at most N calls of one API in any
//! 60-second window (the vendor counts 10,000 calls per API per corp per minute, and
//! tagsync takes a share of that, 80% by default, leaving the rest to the corp's other
//! apps). Calls go out as fast as the parallelism allows until N were sent in the last
//! minute; only then does a call wait, until the oldest of them leaves the window.
//!
//! Why not a token bucket (governor, used here before): a bucket with burst B refilled at
//! R a minute lets B + R calls into one minute, so staying inside the vendor's window
//! needs B + R ≤ N, either a small burst (it was 133: a 500-call rename took 3 s at 0 ms
//! latency, slower than a sequential script) or half the sustained rate. A log of the
//! last N send times keeps both: a burst of N, then N a minute.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The vendor's window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The send times of one API's calls in the last window.
#[derive(Debug)]
pub struct Window {
    cap: usize,
    span: Duration,
    sent: VecDeque<Instant>,
}

impl Window {
    /// At most `cap` calls (at least 1) in any `span`.
    pub fn new(cap: u32, span: Duration) -> Window {
        Window {
            cap: (cap as usize).max(1),
            span,
            sent: VecDeque::new(),
        }
    }

    /// Record a call at `now` if the window has room (`Ok`), or say when it will have
    /// (`Err`: the moment the oldest call in it leaves).
    pub fn admit(&mut self, now: Instant) -> Result<(), Instant> {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.span)
        {
            self.sent.pop_front();
        }
        match self.sent.front() {
            Some(&oldest) if self.sent.len() >= self.cap => Err(oldest + self.span),
            _ => {
                self.sent.push_back(now);
                Ok(())
            }
        }
    }
}

/// A [`Window`] shared by the tasks of one client.
#[derive(Debug)]
pub struct Limiter {
    window: tokio::sync::Mutex<Window>,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Limiter {
        Limiter {
            window: tokio::sync::Mutex::new(Window::new(per_minute, WINDOW)),
        }
    }

    /// Wait until the call may go, and count it; `on_wait` runs once if it has to wait
    /// (when the wait starts).
    pub async fn acquire(&self, on_wait: impl FnOnce()) {
        let mut on_wait = Some(on_wait);
        loop {
            let at = match self.window.lock().await.admit(Instant::now()) {
                Ok(()) => return,
                Err(at) => at,
            };
            if let Some(f) = on_wait.take() {
                f();
            }
            tokio::time::sleep_until(at.into()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_whole_share_goes_at_once_then_the_window_slides() {
        let t0 = Instant::now();
        let mut w = Window::new(3, WINDOW);
        for _ in 0..3 {
            assert_eq!(w.admit(t0), Ok(()));
        }
        // The fourth waits for the first to leave the window, not for a refill rate.
        assert_eq!(w.admit(t0 + Duration::from_secs(10)), Err(t0 + WINDOW));
        assert_eq!(w.admit(t0 + WINDOW), Ok(()));
        assert_eq!(
            w.admit(t0 + WINDOW + Duration::from_millis(1)),
            Ok(()),
            "the second and third left too"
        );
    }

    #[test]
    fn no_window_ever_holds_more_than_the_cap() {
        // Calls every 7 ms for 5 windows of 1 s with a cap of 50: in every span of 1 s
        // at most 50 were admitted, and calls were admitted all along.
        let span = Duration::from_secs(1);
        let mut w = Window::new(50, span);
        let t0 = Instant::now();
        let mut admitted = Vec::new();
        for k in 0..(5000 / 7) {
            let t = t0 + Duration::from_millis(7 * k);
            if w.admit(t).is_ok() {
                admitted.push(t);
            }
        }
        for (i, &t) in admitted.iter().enumerate() {
            let within = admitted[i..].iter().take_while(|&&u| u - t < span).count();
            assert!(
                within <= 50,
                "{within} calls in the second from {:?}",
                t - t0
            );
        }
        assert!(admitted.len() >= 5 * 50 - 1, "{}", admitted.len());
    }
}
