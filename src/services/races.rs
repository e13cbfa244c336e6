//! Work that lost a race with a concurrent request, made again.
//!
//! SurrealDB runs transactions optimistically: when two of them write the same key at once (the
//! same record id, or the same entry of a unique index), the one that commits second fails with
//! a retryable transaction conflict. It does not say "already exists", as it would had the
//! other write committed first, so without more work the loser of a race answers 409
//! `conflict` where the same request a moment later answers what the stored data calls for
//! (`email_taken`, "already saved"). [`again_on_conflict`] runs the work again: the next
//! attempt reads the winner's committed write and gives the answer the request gets without a
//! race.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::ServiceError;
use super::error::ConflictKind;

/// How many times work is attempted before a conflict is given to the caller. Each conflict
/// means another request committed, so a few attempts are enough unless the same data is
/// written without pause.
const ATTEMPTS: u32 = 5;

/// Runs `work` until it ends in anything but a transaction conflict, at most [`ATTEMPTS`]
/// times, pausing a few milliseconds (random, so racing requests spread out) in between.
/// `work` must be safe to run again after a failed attempt: a transaction it opened was rolled
/// back, and any write it made outside one must be idempotent.
pub async fn again_on_conflict<T, F, Fut>(mut work: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    let mut attempt = 1;
    loop {
        match work().await {
            Err(ServiceError::Conflict(ConflictKind::Concurrent, _)) if attempt < ATTEMPTS => {
                attempt += 1;
                let pause = rand::rng().random_range(1..=10 * u64::from(attempt));
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            outcome => return outcome,
        }
    }
}
