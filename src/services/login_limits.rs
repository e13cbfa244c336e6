//! Failed logins per account, counted in the database so every process on it shares the count:
//! after `rate.count` failures an account (known or not) is refused until the window that saw
//! the first of them ends.
//!
//! An attempt is counted as a failure *before* the password is checked, in one transaction, so
//! concurrent guesses (on this process or any other) cannot all pass a check made before any
//! of them failed. Its outcome then clears the count (a success), leaves it (a failure), or
//! gives it back (an outcome that says nothing about the password: a disabled account, an
//! error). A process killed between the two keeps the attempt counted: the window ends anyway.

use chrono::{DateTime, Utc};

use super::{Context, ServiceError, races};
use crate::core::config::Rate;
use crate::repositories;
use crate::repositories::login_failures::FailureWindow;

/// This process's attempts are counted one at a time: racing transactions on one record
/// would otherwise mostly conflict and retry. Other processes race through the database's
/// conflict detection.
fn counting() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// One counted attempt of an account key, waiting for its outcome.
#[derive(Debug)]
#[must_use = "an attempt stays counted as a failure unless it succeeded or is given back"]
pub struct LoginAttempt {
    key: String,
}

/// What [`reserve`] decided.
#[derive(Debug)]
pub enum Reserved {
    /// Counted: check the password.
    Counted(LoginAttempt),
    /// Refused: the key's failures reached the limit; retry after this many seconds.
    Refused(u64),
}

/// What the window of a key becomes when one more attempt is counted at `now`, or the
/// seconds to wait when the limit is reached.
fn next(
    window: Option<FailureWindow>,
    rate: Rate,
    now: DateTime<Utc>,
) -> Result<FailureWindow, u64> {
    let period = chrono::Duration::from_std(rate.period).unwrap_or(chrono::Duration::MAX);
    match window {
        Some(w) if now < w.window_start + period => {
            if w.failures >= i64::from(rate.count) {
                let wait = (w.window_start + period - now).num_milliseconds().max(0) as u64;
                Err(wait.div_ceil(1000).max(1))
            } else {
                Ok(FailureWindow { failures: w.failures + 1, window_start: w.window_start })
            }
        }
        _ => Ok(FailureWindow { failures: 1, window_start: now }),
    }
}

/// Counts one login attempt for `key` (a digest of the address as typed), or refuses it.
pub async fn reserve(ctx: &Context, key: &str, rate: Rate) -> Result<Reserved, ServiceError> {
    let _one_at_a_time = counting().lock().await;
    races::again_on_conflict(|| async {
        let tx = ctx.db.begin().await?;
        let window = repositories::login_failures::find(&tx, key).await?;
        match next(window, rate, Utc::now()) {
            Err(seconds) => {
                tx.cancel().await;
                Ok(Reserved::Refused(seconds))
            }
            Ok(window) => {
                repositories::login_failures::put(&tx, key, window).await?;
                tx.commit().await?;
                Ok(Reserved::Counted(LoginAttempt { key: key.to_owned() }))
            }
        }
    })
    .await
}

impl LoginAttempt {
    /// The password was wrong: the attempt stays counted.
    pub fn failed(self) {}

    /// The login succeeded: the key's failures are forgotten.
    pub async fn succeeded(self, ctx: &Context) {
        if let Err(err) = repositories::login_failures::clear(&ctx.db, &self.key).await {
            tracing::warn!(error = %err, "cannot clear the failed logins of an account");
        }
    }

    /// The outcome says nothing about the password: the attempt is not counted.
    pub async fn give_back(self, ctx: &Context) {
        if let Err(err) = repositories::login_failures::give_back(&ctx.db, &self.key).await {
            tracing::warn!(error = %err, "cannot give a login attempt back");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_up_to_the_limit_then_refuses_until_it_ends() {
        let rate = Rate::new(2, std::time::Duration::from_secs(60));
        let t0 = Utc::now();
        let first = next(None, rate, t0).unwrap();
        assert_eq!(first, FailureWindow { failures: 1, window_start: t0 });
        let second = next(Some(first), rate, t0 + chrono::Duration::seconds(10)).unwrap();
        assert_eq!(second, FailureWindow { failures: 2, window_start: t0 });
        assert_eq!(next(Some(second), rate, t0 + chrono::Duration::seconds(10)), Err(50));
        assert_eq!(next(Some(second), rate, t0 + chrono::Duration::milliseconds(59_001)), Err(1));
        let fresh = next(Some(second), rate, t0 + chrono::Duration::seconds(60)).unwrap();
        assert_eq!(fresh.failures, 1, "a new window");
    }
}
