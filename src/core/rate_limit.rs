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
/// until the window that saw the first of them ends. Unlike [`KeyedLimit`] it can be asked
/// without counting, so a login is refused *before* its password is checked.
pub struct FailureCounter {
    rate: Rate,
    windows: DashMap<String, (Instant, u32)>,
}

impl FailureCounter {
    pub fn new(rate: Rate) -> Self {
        Self { rate, windows: DashMap::new() }
    }

    /// Refuses when `key` has used up its failures in the current window.
    pub fn check(&self, key: &str) -> Result<(), RetryAfter> {
        let Some(entry) = self.windows.get(key) else { return Ok(()) };
        let (started, failures) = *entry;
        let ends = started + self.rate.period;
        let now = Instant::now();
        if failures >= self.rate.count && now < ends {
            let wait = ends - now;
            return Err(RetryAfter((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)));
        }
        Ok(())
    }

    /// Counts one failure for `key`.
    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let mut entry = self.windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + self.rate.period {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn reset(&self, key: &str) {
        self.windows.remove(key);
    }

    fn housekeeping(&self) {
        let now = Instant::now();
        self.windows.retain(|_, (started, _)| now < *started + self.rate.period);
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
        assert!(counter.check("ada@example.com").is_ok());
        counter.record_failure("ada@example.com");
        assert!(counter.check("ada@example.com").is_ok());
        counter.record_failure("ada@example.com");
        let RetryAfter(wait) = counter.check("ada@example.com").unwrap_err();
        assert!((50..=60).contains(&wait), "{wait}");
        assert!(counter.check("bob@example.com").is_ok());
        counter.reset("ada@example.com");
        assert!(counter.check("ada@example.com").is_ok());
    }
}
