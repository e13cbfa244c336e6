//! In-memory rate limits keyed by client address or account (GCRA, via governor).
//!
//! These limits live in the process: with several `serve` processes behind one address each
//! keeps its own count. Failed logins per account are counted in the database instead
//! ([`crate::services::login_limits`]), so guesses spread over processes share one budget.
//! Keys that went quiet are dropped by [`RateLimits::housekeeping`], which `serve` runs every
//! minute.

use std::num::NonZeroU32;
use std::time::Duration;

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

/// Every limit `serve` enforces.
pub struct RateLimits {
    /// Per client address, for each of register, login, refresh, forgot-password and
    /// resend-verification (the key includes the endpoint).
    pub auth_per_ip: KeyedLimit,
    /// Failed logins per account (normalised email), counted whether or not it exists, in the
    /// database ([`crate::services::login_limits`]).
    pub login_failures: Rate,
    /// Verification and reset emails per account.
    pub emails_per_account: KeyedLimit,
    /// Messages to the assistant per user.
    pub assistant_per_user: KeyedLimit,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            auth_per_ip: KeyedLimit::new(config.auth_per_ip),
            login_failures: config.login_failures_per_account,
            emails_per_account: KeyedLimit::new(config.emails_per_account),
            assistant_per_user: KeyedLimit::new(config.assistant_per_user),
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows recent traffic only.
    pub fn housekeeping(&self) {
        self.auth_per_ip.housekeeping();
        self.emails_per_account.housekeeping();
        self.assistant_per_user.housekeeping();
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
}
