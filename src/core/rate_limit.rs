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
/// failures and attempts still in flight together never exceed `rate.count`. The [`Attempt`]
/// then becomes a failure, clears the key's failures (a success: the attempts still in flight
/// stay counted), or gives its count back (dropped undecided, e.g. the check itself could not
/// be made).
pub struct FailureCounter {
    rate: Rate,
    windows: DashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
    /// Attempts counted and not yet decided; they outlive the window they began in.
    pending: u32,
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
        let mut window = self.windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
            pending: 0,
        });
        if now >= window.started + self.rate.period {
            *window = Window { started: now, failures: 0, pending: window.pending };
        }
        if window.failures + window.pending >= self.rate.count {
            // Failures wait for the window's end; attempts in flight are decided in moments.
            let wait = if window.failures >= self.rate.count {
                window.started + self.rate.period - now
            } else {
                Duration::from_secs(1)
            };
            return Err(retry_after(wait));
        }
        window.pending += 1;
        drop(window);
        Ok(Attempt { counter: self, key: key.to_owned(), decided: false })
    }

    /// Ends one attempt of `key`: `outcome` changes the failures, then the key is forgotten
    /// when nothing of it is left.
    fn decide(&self, key: &str, outcome: impl FnOnce(&mut Window)) {
        if let Some(mut window) = self.windows.get_mut(key) {
            window.pending = window.pending.saturating_sub(1);
            outcome(&mut window);
        }
        self.windows.remove_if(key, |_, w| w.failures == 0 && w.pending == 0);
    }

    fn housekeeping(&self) {
        let now = Instant::now();
        self.windows.retain(|_, w| w.pending > 0 || now < w.started + self.rate.period);
    }
}

/// One counted attempt of a [`FailureCounter`] key, waiting for its outcome. Dropping it
/// undecided gives its count back.
#[must_use = "an attempt left undecided gives its count back"]
pub struct Attempt<'a> {
    counter: &'a FailureCounter,
    key: String,
    decided: bool,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt").field("key", &self.key).field("decided", &self.decided).finish()
    }
}

impl Attempt<'_> {
    /// The attempt failed: it counts as a failure of the key's current window.
    pub fn failed(mut self) {
        self.decided = true;
        self.counter.decide(&self.key, |w| w.failures += 1);
    }

    /// The attempt succeeded: the key's failures are forgotten (attempts still in flight stay
    /// counted until they are decided).
    pub fn succeeded(mut self) {
        self.decided = true;
        self.counter.decide(&self.key, |w| w.failures = 0);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.decided {
            self.counter.decide(&self.key, |_| {});
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
    /// Messages to the assistant per user.
    pub assistant_per_user: KeyedLimit,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            auth_per_ip: KeyedLimit::new(config.auth_per_ip),
            login_failures: FailureCounter::new(config.login_failures_per_account),
            emails_per_account: KeyedLimit::new(config.emails_per_account),
            assistant_per_user: KeyedLimit::new(config.assistant_per_user),
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows recent traffic only.
    pub fn housekeeping(&self) {
        self.auth_per_ip.housekeeping();
        self.login_failures.housekeeping();
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

    #[test]
    fn a_success_does_not_free_the_attempts_still_in_flight() {
        let counter = FailureCounter::new(Rate::new(3, Duration::from_secs(60)));
        let owner = counter.reserve("ada@example.com").unwrap();
        let guesses = [
            counter.reserve("ada@example.com").unwrap(),
            counter.reserve("ada@example.com").unwrap(),
        ];
        owner.succeeded();
        // The owner's own count is gone; the two guesses in flight still count.
        let third = counter.reserve("ada@example.com").unwrap();
        assert!(counter.reserve("ada@example.com").is_err(), "three attempts are in flight");
        for guess in guesses {
            guess.failed();
        }
        third.failed();
        let RetryAfter(wait) = counter.reserve("ada@example.com").unwrap_err();
        assert!(wait > 1, "three failures wait for the window's end: {wait}");
    }

    #[test]
    fn attempts_merely_in_flight_ask_for_a_short_wait_and_a_quiet_key_is_forgotten() {
        let counter = FailureCounter::new(Rate::new(1, Duration::from_secs(900)));
        let attempt = counter.reserve("ada@example.com").unwrap();
        assert_eq!(counter.reserve("ada@example.com").unwrap_err(), RetryAfter(1));
        drop(attempt);
        assert!(counter.windows.is_empty(), "nothing is kept for a key with nothing counted");
    }
}
