//! In-memory rate limits keyed by client address or account (GCRA, via governor).
//!
//! Limits live in the process: with several `serve` processes behind one address each keeps its
//! own count, which still bounds guessing per process. Keys that went quiet are dropped by
//! [`RateLimits::housekeeping`], which `serve` runs every minute.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::config::{Rate, RateLimitConfig};

/// One limit, per key.
pub struct KeyedLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

/// How long to wait before trying again, for a `Retry-After` header (whole seconds, ≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl KeyedLimit {
    /// `rate.count` events at once, refilling evenly over `rate.period`.
    pub fn new(rate: Rate) -> Self {
        let count = NonZeroU32::new(rate.count.max(1)).unwrap_or(NonZeroU32::MIN);
        let replenish = rate.period / count.get();
        let quota = Quota::with_period(replenish.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(count))
            .allow_burst(count);
        Self { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Takes one event for `key`, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), RetryAfter> {
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(RetryAfter(seconds.max(1)))
            }
        }
    }

    fn housekeeping(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Counts failures per key in a fixed window: after `rate.count` failures, the key is refused
/// until the window that saw the first of them ends.
///
/// An attempt is counted *before* its outcome is known ([`FailureCounter::reserve`]), under the
/// key's lock, so concurrent attempts cannot all pass a check made before any of them failed:
/// at most `rate.count` attempts per window are ever in flight or failed. The [`Attempt`] then
/// keeps its count (a failure), clears the key (a success) or gives the count back (dropped
/// undecided, e.g. the check itself could not be made).
pub struct FailureCounter {
    rate: Rate,
    windows: DashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    /// Failures plus attempts still being decided.
    counted: u32,
}

fn retry_after(wait: Duration) -> RetryAfter {
    RetryAfter((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
}

impl FailureCounter {
    pub fn new(rate: Rate) -> Self {
        Self { rate, windows: DashMap::new() }
    }

    /// Counts one attempt for `key`, or refuses when the key's failures and undecided attempts
    /// in the current window have reached the limit.
    pub fn reserve(&self, key: &str) -> Result<Attempt<'_>, RetryAfter> {
        let now = Instant::now();
        let mut window =
            self.windows.entry(key.to_owned()).or_insert(Window { started: now, counted: 0 });
        if now >= window.started + self.rate.period {
            *window = Window { started: now, counted: 0 };
        }
        if window.counted >= self.rate.count {
            return Err(retry_after(window.started + self.rate.period - now));
        }
        window.counted += 1;
        let started = window.started;
        drop(window);
        Ok(Attempt { counter: self, key: key.to_owned(), window: started, decided: false })
    }

    /// Takes back one count of `key` in the window that began at `started` (a window that has
    /// since ended or been cleared is left alone).
    fn give_back(&self, key: &str, started: Instant) {
        if let Some(mut window) = self.windows.get_mut(key)
            && window.started == started
        {
            window.counted = window.counted.saturating_sub(1);
        }
    }

    fn housekeeping(&self) {
        let now = Instant::now();
        self.windows.retain(|_, window| now < window.started + self.rate.period);
    }
}

/// One counted attempt of a [`FailureCounter`] key, waiting for its outcome. Dropping it
/// undecided gives its count back.
#[must_use = "an attempt left undecided gives its count back"]
pub struct Attempt<'a> {
    counter: &'a FailureCounter,
    key: String,
    window: Instant,
    decided: bool,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt").field("key", &self.key).field("decided", &self.decided).finish()
    }
}

impl Attempt<'_> {
    /// The attempt failed: its count stays.
    pub fn failed(mut self) {
        self.decided = true;
    }

    /// The attempt succeeded: the key's failures are forgotten.
    pub fn succeeded(mut self) {
        self.decided = true;
        self.counter.windows.remove(&self.key);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.decided {
            self.counter.give_back(&self.key, self.window);
        }
    }
}

/// Every limit `serve` enforces.
pub struct RateLimits {
    /// Per client address, for each of register, login, refresh, forgot-password and
    /// resend-verification (the key includes the endpoint).
    pub auth_per_ip: KeyedLimit,
    /// Failed logins per account (normalised email), counted whether or not it exists.
    pub login_failures: FailureCounter,
    /// Verification and reset emails per account.
    pub emails_per_account: KeyedLimit,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            auth_per_ip: KeyedLimit::new(config.auth_per_ip),
            login_failures: FailureCounter::new(config.login_failures_per_account),
            emails_per_account: KeyedLimit::new(config.emails_per_account),
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows recent traffic only.
    pub fn housekeeping(&self) {
        self.auth_per_ip.housekeeping();
        self.login_failures.housekeeping();
        self.emails_per_account.housekeeping();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_and_other_keys_are_untouched() {
        let limit = KeyedLimit::new(Rate::new(3, Duration::from_secs(60)));
        for _ in 0..3 {
            assert!(limit.check("1.2.3.4").is_ok());
        }
        let RetryAfter(wait) = limit.check("1.2.3.4").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limit.check("5.6.7.8").is_ok());
    }

    #[test]
    fn failures_block_a_key_only_after_the_configured_count() {
        let counter = FailureCounter::new(Rate::new(2, Duration::from_secs(60)));
        counter.reserve("ada@example.com").unwrap().failed();
        counter.reserve("ada@example.com").unwrap().failed();
        let RetryAfter(wait) = counter.reserve("ada@example.com").unwrap_err();
        assert!((50..=60).contains(&wait), "{wait}");
        assert!(counter.reserve("bob@example.com").is_ok());
    }

    #[test]
    fn undecided_attempts_count_until_they_are_given_back() {
        let counter = FailureCounter::new(Rate::new(2, Duration::from_secs(60)));
        let first = counter.reserve("ada@example.com").unwrap();
        let second = counter.reserve("ada@example.com").unwrap();
        assert!(counter.reserve("ada@example.com").is_err(), "two attempts are in flight");
        drop(first);
        let third = counter.reserve("ada@example.com").unwrap();
        second.failed();
        third.failed();
        assert!(counter.reserve("ada@example.com").is_err());
    }

    #[test]
    fn a_success_forgets_the_failures() {
        let counter = FailureCounter::new(Rate::new(2, Duration::from_secs(60)));
        counter.reserve("ada@example.com").unwrap().failed();
        let in_flight = counter.reserve("ada@example.com").unwrap();
        assert!(counter.reserve("ada@example.com").is_err());
        in_flight.succeeded();
        counter.reserve("ada@example.com").unwrap().failed();
        counter.reserve("ada@example.com").unwrap().failed();
        assert!(counter.reserve("ada@example.com").is_err());
    }
}
